"""Mailbox backends behind one narrow interface."""
