"""Reading a store's tables from open.json and the changes file it names: a snapshot."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.store.changes import Change, Damaged, Scan, scan
from bot.store.checkpoint import CASES, Docs, damaged, load_checkpoint
from bot.store.errors import StoreError
from bot.store.files import load_json
from bot.store.raw_spill import RAW, RawSpill
from bot.store.segments import DocRef, Segment, encoded
from bot.store.tables import KEY_FIELDS, Table

GENERATION = "generation"  # the meta entry in open.json naming its changes file
_OPEN_TRIES = 5  # a reader racing a compaction opens again


def changes_name(generation: int) -> str:
    return f"changes-{generation}.jsonl"


def commit_mark(directory: Path) -> tuple[int, ...] | None:
    """A cheap mark of the store's last commit, from stat calls alone: it changes whenever a
    commit is appended or a checkpoint written (None before the first commit)."""
    try:
        info = os.stat(directory / "open.json")
    except FileNotFoundError:
        return None
    mark = [info.st_ino, info.st_size, info.st_mtime_ns]
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("changes-") and entry.name.endswith(".jsonl"):
                with contextlib.suppress(FileNotFoundError):  # gone with a compaction
                    found = entry.stat()
                    mark += [found.st_ino, found.st_size]
    return tuple(mark)


class TablesReader(Storage):
    """The store's tables as of the last whole commit: open.json, then the commits appended
    to its changes file. Read-only instances are consistent snapshots and never write."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.directory = self.path.parent
        self.read_only = read_only
        self.tables: dict[str, Table] = {}
        self.spill = RawSpill(self.directory)  # small kept mail in the changes file
        self.generation: int | None = None  # None: open.json of the first layout, no changes
        self._base: Segment | None = None
        self._changes: Segment | None = None
        self._base_id: tuple[int, int] | None = None
        self._scan = Scan([], 0, 0)
        self._open()

    def _open(self) -> None:
        for _ in range(_OPEN_TRIES):
            try:
                self._load()
                return
            except FileNotFoundError:
                # Only a reader gets here: a compaction replaced open.json meanwhile.
                self.close()
        raise StoreError(f"{self.directory} kept changing while it was read; try again")

    # -- reading ---------------------------------------------------------------------------

    def _load(self) -> None:
        docs: Docs = {}
        if self.path.exists():
            self._base = Segment.open(self.path)
            info = os.fstat(self._base.fd or -1)
            self._base_id = (info.st_dev, info.st_ino)
            docs = load_checkpoint(self.path, self._base)
        meta = docs.get("meta", {}).get(GENERATION)
        self.generation = meta.get("value") if isinstance(meta, dict) else None
        self.tables = {name: Table(name, docs.get(name, {})) for name in KEY_FIELDS}
        self.spill = RawSpill(self.directory)
        self._scan = Scan([], 0, 0)
        if self.generation is not None:
            if not isinstance(self.generation, int):
                raise damaged(self.path, f"names an unknown changes file {self.generation!r}")
            path = self.directory / changes_name(self.generation)
            flags = os.O_RDONLY if self.read_only else os.O_RDWR | os.O_APPEND
            try:
                self._changes = Segment.open(path, flags)
            except FileNotFoundError:
                if not self.read_only:
                    raise StoreError(
                        f"{path} is missing: open.json names it, so changes committed since "
                        "the last checkpoint are lost; restore the store from a backup"
                    ) from None
                raise
            self._read_changes()

    def _read_changes(self) -> bool:
        """Apply the whole commits appended since the last read; True if there were any."""
        assert self._changes is not None and self._changes.fd is not None
        with os.fdopen(os.dup(self._changes.fd), "rb") as handle:
            handle.seek(self._scan.end)
            try:
                found = scan(handle, self._scan.end, self._scan.last)
            except Damaged as exc:
                raise damaged(self._changes.path, f"is damaged: {exc}") from exc
            size = handle.seek(0, os.SEEK_END)
        for commit in found.commits:
            for change in commit:
                self._apply(change)
        self._scan = Scan([], found.end, found.last)
        if size > found.end and not self.read_only:
            # A commit cut short by a crash: never acknowledged, so it is dropped.
            os.ftruncate(self._changes.fd, found.end)
            os.fsync(self._changes.fd)
        return bool(found.commits)

    def _apply(self, change: Change) -> None:
        assert self._changes is not None
        if change.table == RAW:
            doc = change.doc
            ref = None if doc is None else DocRef(self._changes, change.offset, len(doc))
            self.spill.replay(change.key, ref)
            return
        table = self.tables.get(change.table)
        if table is None:
            raise damaged(self._changes.path, f"changes an unknown table {change.table!r}")
        docs = table.docs
        if change.doc is None:
            docs.pop(change.key, None)
        elif change.table == CASES:
            docs[change.key] = DocRef(self._changes, change.offset, len(change.doc))
        else:
            docs[change.key] = load_json(change.doc)

    def refresh(self) -> bool:
        """A reader's snapshot brought up to the last commit; True if anything changed.
        Only the commits since are read, unless open.json was replaced (a compaction)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return False  # no checkpoint yet: nothing was ever committed
        if (info.st_dev, info.st_ino) != self._base_id:
            self.close()
            self._open()
            return True
        return self._changes is not None and self._read_changes()

    def committed_files(self) -> list[tuple[str, Segment, int]]:
        """The files this reader's state comes from, and how many of their bytes: open.json
        whole, and its changes file up to the last commit read (for a backup)."""
        found: list[tuple[str, Segment, int]] = []
        if self._base is not None and self._base.fd is not None:
            found.append((self.path.name, self._base, os.fstat(self._base.fd).st_size))
        if self._changes is not None:
            found.append((self._changes.path.name, self._changes, self._scan.end))
        return found

    def read(self) -> dict[str, dict[str, Any]]:
        """Every table as tinydb sees one: doc id -> document (cases parsed)."""
        out: dict[str, dict[str, Any]] = {}
        for name, table in self.tables.items():
            docs = table.values()
            if name == CASES:
                docs = [load_json(encoded(doc)) for doc in docs]
            out[name] = {str(n): doc for n, doc in enumerate(docs, start=1)}
        return out

    def close(self) -> None:
        for segment in (self._base, self._changes):
            if segment is not None:
                segment.close()
        self._base = self._changes = None
