"""One poll of the mailbox, from fetch to commit: read, handle, obey, then send."""
