"""Errors the case store raises, worded for the person who has to fix them."""

from __future__ import annotations

import errno
from pathlib import Path


class StoreError(Exception):
    """The store cannot do what was asked; the message says what happened and what to do."""


class BackupError(StoreError):
    """A backup could not be written or restored; the message names the file and what to do."""


class StoreLocked(StoreError):
    """Another process holds the store's lock."""

    def __init__(self, directory: Path, pid: int | None) -> None:
        self.directory = directory
        self.pid = pid
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"another bot is running on {directory} ({who}); stop it before starting this one"
        )


_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("disk full", "Free some space"),
    errno.EDQUOT: ("disk quota exceeded", "Free some space or raise the quota"),
    errno.EROFS: ("the file system is read-only", "Remount it read-write or move the store"),
    errno.EACCES: ("permission denied", "Check the owner and permissions of the store directory"),
    errno.EPERM: ("permission denied", "Check the owner and permissions of the store directory"),
}


def write_failed(directory: Path, exc: OSError) -> StoreError:
    """Turn an OSError raised before the commit point into a StoreError a person can act on."""
    reason, fix = _REASONS.get(exc.errno or 0, (exc.strerror or str(exc), "Fix the cause"))
    where = f" ({exc.filename})" if exc.filename else ""
    return StoreError(
        f"could not write the store at {directory}: {reason}{where}; "
        f"nothing was lost: the previous state is intact. {fix} and try again."
    )


def read_only_error(directory: Path, action: str) -> StoreError:
    return StoreError(
        f"cannot {action}: the store at {directory} was opened read-only "
        "(for looking at cases while the bot runs); stop the bot to change it"
    )
