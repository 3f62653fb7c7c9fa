"""Backups of a live store (a tar.gz, optionally age-encrypted) and their checked restore."""
