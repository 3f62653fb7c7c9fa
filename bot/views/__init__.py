"""What the bot shows people: case lists, timelines, status and the web dashboard."""
