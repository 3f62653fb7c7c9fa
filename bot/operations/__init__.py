"""Putting the bot on a server and keeping it there: service units, and what an operator runs."""
