"""What runs on a timer or watches the bot itself: the daemon, monitor, digest, retention."""
