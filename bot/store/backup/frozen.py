"""A live store as of one commit, to be read at leisure while the bot goes on working.

What it takes, and why that is one commit's state (docs/store.md, "Backups"):
- open.json and its changes file, up to the last whole commit, through the open files of a
  snapshot: open.json is only ever replaced and the changes file only appended to;
- closed cases and the dashboard's instructions, hard-linked while the commit gate is held
  (a moment: commits wait), because a commit changes or removes them outside the changes file;
- the history files, up to the lines that commit numbered (its counters): later lines are
  left out, and its own lines not yet appended are in its journal table;
- kept mail and anything else as it is: mail is kept by content before the commit that
  names it, and only retention removes it, as a crash between its deletes and its commit does.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.store.backup.history import kept_part
from bot.store.backup.layout import FROZEN, counter_of, skipped
from bot.store.backup.links import make_staging, remove_stale_staging, sync_links
from bot.store.errors import BackupError, StoreError
from bot.store.lock import CommitGate
from bot.store.meta_keys import SCHEMA_VERSION
from bot.store.segments import Segment
from bot.store.storage import ChangesStorage


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class Piece:
    """One file for the archive: read `size` bytes from `data`."""

    name: str
    data: Source
    size: int
    mtime: float
    last_seq: int | None = None  # a history file's last line kept


class _SegmentFile:
    """The first `length` bytes of a store file held open by the snapshot."""

    def __init__(self, segment: Segment, length: int) -> None:
        self._segment, self._left, self._at = segment, length, 0

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._segment.read(self._at, size) if size else b""
        self._at += len(data)
        self._left -= len(data)
        return data


class Frozen:
    """Open it (a moment under the commit gate), read `pieces()`, then `close()`."""

    def __init__(self, directory: Path, *, timeout: float = 120.0) -> None:
        self.directory = Path(directory)
        if not (self.directory / "open.json").is_file():
            raise BackupError(
                f"there is no store at {self.directory} (no open.json): nothing to back up; "
                "check store.directory in the config"
            )
        remove_stale_staging(self.directory)
        self.reader = ChangesStorage(self.directory / "open.json", read_only=True)
        self._staging: Path | None = None
        self._staging_lock: int | None = None
        self.held_seconds = 0.0
        try:
            self.schema_version = self._schema()
            self._staging, self._staging_lock = make_staging(self.directory)
            # Linked once while the bot works, then brought up to date while commits wait:
            # only the files a commit replaced or removed meanwhile are linked again.
            linked: dict[str, dict[str, int]] = {folder: {} for folder in FROZEN}
            for folder in FROZEN:
                sync_links(self.directory / folder, self._staging / folder, linked[folder])
            gate = CommitGate(self.directory)
            try:
                with gate.exclusive(timeout):
                    started = time.monotonic()  # how long commits waited (bench/backup.py)
                    self.reader.refresh()  # the commit every commit waits behind now
                    for folder in FROZEN:
                        sync_links(self.directory / folder, self._staging / folder,
                                    linked[folder])
                    self.held_seconds = time.monotonic() - started
            finally:
                gate.close()
        except BaseException:
            self.close()
            raise
        meta = self.reader.tables["meta"].get("counters")
        self.counters: dict[str, int] = dict(meta.get("value", {})) if meta else {}

    def _schema(self) -> int:
        found = self.reader.tables["meta"].get("schema_version")
        version = found.get("value") if isinstance(found, dict) else None
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.directory} has a store of schema {version!r}; this bot knows schema "
                f"{SCHEMA_VERSION} at most: back it up with the bot that wrote it"
            )
        return version

    def pieces(self) -> Iterator[Piece]:
        """Every file of the backup, in a steady order; open.json and its changes first."""
        for name, segment, length in self.reader.committed_files():
            info = os.fstat(segment.fd or -1)
            yield Piece(name, _SegmentFile(segment, length), length, info.st_mtime)
        assert self._staging is not None
        for root, folders, files in os.walk(self.directory):
            here = Path(root)
            relative = here.relative_to(self.directory)
            if relative == Path("."):
                folders[:] = [f for f in folders if f not in FROZEN]
                folders.sort()
                for folder in FROZEN:
                    yield from self._files_under(self._staging / folder, Path(folder))
            else:
                folders.sort()
            for file in sorted(files):
                name = (relative / file).as_posix()
                if name in ("open.json",) or skipped(name):
                    continue
                yield from self._piece(here / file, name)
            folders[:] = [f for f in folders if not skipped((relative / f).as_posix())]

    def _files_under(self, root: Path, prefix: Path) -> Iterator[Piece]:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = (prefix / path.relative_to(root)).as_posix()
            if not skipped(name):
                yield from self._piece(path, name)

    def _piece(self, path: Path, name: str) -> Iterator[Piece]:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return  # kept mail removed by retention meanwhile; see the module's docstring
        with handle:
            info = os.fstat(handle.fileno())
            counter = counter_of(name)
            if counter is None:
                yield Piece(name, handle, info.st_size, info.st_mtime)
                return
            last = int(self.counters.get(counter, 0))
            size, seq = kept_part(handle.fileno(), info.st_size, last, path)
            yield Piece(name, handle, size, info.st_mtime, seq)

    def close(self) -> None:
        self.reader.close()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._staging_lock is not None:
            os.close(self._staging_lock)
            self._staging_lock = None
