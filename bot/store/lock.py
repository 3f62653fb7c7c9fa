"""The one-bot-per-store lock: an flock on `<dir>/bot.lock` that records the holder's pid."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.store.errors import StoreError, StoreLocked
from bot.store.files import FILE_MODE


class DirectoryLock:
    """Held from construction until `release()`; the kernel drops it if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise StoreError(
                f"could not create the lock file {path}: {exc.strerror or exc}; "
                "check the owner and permissions of the store directory"
            ) from exc
        try:
            os.fchmod(fd, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise StoreLocked(path.parent, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        # The file stays: unlinking a lock file lets two processes lock different inodes.
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None
