"""The one-bot-per-store lock (`bot.lock`, with the holder's pid) and the backups' commit gate."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


GATE_FILE = "commit.lock"


class CommitGate:
    """A second flock, `<dir>/commit.lock`, that the writer holds shared while it commits and
    a backup holds exclusive for a moment: then no commit is half done (archive files written,
    history not yet appended), so what the backup freezes is exactly one commit's state."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / GATE_FILE
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
            except OSError as exc:
                raise StoreError(
                    f"could not open {self.path}: {exc.strerror or exc}; check the owner and "
                    "permissions of the store directory"
                ) from exc
            os.fchmod(fd, FILE_MODE)
            self._fd = fd
        return self._fd

    @contextmanager
    def shared(self) -> Iterator[None]:
        """The writer's side: waits only while a backup holds the gate (a moment)."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def exclusive(self, timeout: float) -> Iterator[None]:
        """The backup's side: waits for the commit under way to end, at most `timeout` s."""
        fd = self._open()
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"the bot on {self.path.parent} has been committing for {timeout:.0f} "
                        "seconds; is it stuck? (`python -m bot status`) Try the backup again"
                    ) from None
                time.sleep(0.02)  # commits take milliseconds
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
