"""Read-only answers for people: case lists, timelines, status, lint; never sends mail."""
