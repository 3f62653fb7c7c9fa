"""Raw mail written and fsynced on worker threads while the bot goes on; a commit waits for it.

Creating a file and making it durable is system-call work, which releases the interpreter: a
backlog keeps a file per email and a morning's deadlines a file per letter, and on worker
threads that work runs on another core beside the parsing and rendering instead of after
them. Nothing refers to a file before the commit that waits for it here, so a crash at any
point leaves at most a file nothing points to (as a crash between keeping mail and
committing always could).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from bot.store.files import atomic_write

WORKERS = 4  # files being written and fsynced at once
HELD_BYTES = 32 << 20  # bytes handed over and not yet written before keeping more waits
HELD_FILES = 512


def put_durably(path: Path, data: bytes) -> None:
    """`path` holds `data` and is on disk (its folder's entry is the commit's to sync).
    A copy left by a process that died before its commit may be incomplete after a power
    cut, so it is trusted only if it holds these bytes."""
    try:
        with path.open("rb") as held:
            if held.read(len(data) + 1) == data:
                os.fsync(held.fileno())
                return
    except FileNotFoundError:
        pass
    atomic_write(path, data, sync=True, sync_dir=False)


class RawWriter:
    """Files handed over with `write` are readable at once through `held`, and on disk once
    `wait` returns (which raises the first error any of them met)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pending: OrderedDict[Path, tuple[bytes, Future[None]]] = OrderedDict()
        self._held = 0
        self._done: list[Path] = []  # durable, their folders' entries not synced yet
        self._errors: list[BaseException] = []

    def write(self, path: Path, data: bytes) -> None:
        if path in self._pending:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, "raw-mail")
        self._pending[path] = (data, self._pool.submit(put_durably, path, data))
        self._held += len(data)
        # Bounded: a backlog of large emails must not all sit in memory until the commit.
        while self._held > HELD_BYTES or len(self._pending) > HELD_FILES:
            self._settle(next(iter(self._pending)))

    def held(self, path: Path) -> bytes | None:
        """The bytes of a file still being written (a reader must not see it half-written)."""
        entry = self._pending.get(path)
        return entry[0] if entry is not None else None

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._done or self._errors)

    def wait(self) -> list[Path]:
        """Every file handed over is durable (bar its folder's entry): the files, for their
        folders to be synced. Raises the first error met; the others go with it."""
        for path in list(self._pending):
            self._settle(path)
        written, errors = self._done, self._errors
        self._done, self._errors = [], []
        if errors:
            raise errors[0]
        return written

    def _settle(self, path: Path) -> None:
        data, future = self._pending.pop(path)
        self._held -= len(data)
        error = future.exception()  # waits for it
        if error is None:
            self._done.append(path)
        else:
            self._errors.append(error)

    def close(self) -> None:
        """Finish what was handed over (nothing committed refers to it yet: harmless)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._pending.clear()
        self._done, self._errors = [], []
        self._held = 0
