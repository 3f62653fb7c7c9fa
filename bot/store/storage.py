"""A tinydb Storage whose commit appends only what changed: open.json plus a changes file.

open.json (the checkpoint) names its changes file, `changes-<generation>.jsonl`; a commit
appends the documents it changed and is durable once its mark is fsynced. When the changes
grow past half the checkpoint, they are compacted: a new changes file, then a new open.json
naming it (the switch is that atomic replace), then the old changes file goes. Readers open
open.json and the changes file it names without any lock, and read whole commits only.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.store.changes import Change, Damaged, Scan, encode_commit, scan
from bot.store.checkpoint import CASES, Docs, damaged, load_checkpoint, write_checkpoint
from bot.store.errors import StoreError
from bot.store.files import FILE_MODE, dump_json, fsync_dir
from bot.store.segments import DocRef, Segment, encoded
from bot.store.tables import KEY_FIELDS, Table

GENERATION = "generation"  # the meta entry in open.json naming its changes file
COMPACT_AT_LEAST = 256 * 1024  # changes smaller than this are never compacted
_OPEN_TRIES = 5  # a reader racing a compaction opens again


def changes_name(generation: int) -> str:
    return f"changes-{generation}.jsonl"


class ChangesStorage(Storage):
    """The store's tables, read from disk once and kept in memory; `commit()` appends the
    changed documents. Read-only instances are consistent snapshots and never write."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.directory = self.path.parent
        self.read_only = read_only
        self.tables: dict[str, Table] = {}
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
        table = self.tables.get(change.table)
        assert self._changes is not None
        if table is None:
            raise damaged(self._changes.path, f"changes an unknown table {change.table!r}")
        docs = table.docs
        if change.doc is None:
            docs.pop(change.key, None)
        elif change.table == CASES:
            docs[change.key] = DocRef(self._changes, change.offset, len(change.doc))
        else:
            docs[change.key] = json.loads(change.doc)

    def refresh(self) -> bool:
        """A reader's snapshot brought up to the last commit; True if anything changed.
        Only the commits since are read, unless open.json was replaced (a compaction)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return False
        if (info.st_dev, info.st_ino) != self._base_id or self._changes is None:
            self.close()
            self._open()
            return True
        return self._read_changes()

    # -- writing ---------------------------------------------------------------------------

    def commit(self) -> None:
        """Append every change since the last commit and make it durable (the commit point)."""
        self._writable()
        if self._changes is None:
            # A new store, or one in the first layout: the first commit is a checkpoint.
            if any(table.dirty() for table in self.tables.values()):
                self.compact()
            return
        rows: list[tuple[str, str, bytes | None]] = []
        for name, table in self.tables.items():
            for key, doc in table.changes():
                body = None if doc is None else encoded(doc) if name == CASES else dump_json(doc)
                rows.append((name, key, body))
        if not rows:
            return
        assert self._changes is not None and self._changes.fd is not None
        fd = self._changes.fd
        data, placed = encode_commit(self._scan.last + 1, rows, self._scan.end)
        if os.fstat(fd).st_size != self._scan.end:
            os.ftruncate(fd, self._scan.end)  # what a failed append left
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fdatasync(fd)
        except BaseException:
            with contextlib.suppress(OSError):  # else cut at the next commit, before it appends
                os.ftruncate(fd, self._scan.end)
            raise
        self._scan = Scan([], self._scan.end + len(data), self._scan.last + 1)
        for table in self.tables.values():
            table.committed()
        cases = self.tables[CASES].docs
        for change in placed:
            if change.table == CASES and change.doc is not None:
                cases[change.key] = DocRef(self._changes, change.offset, len(change.doc))

    def should_compact(self) -> bool:
        base = os.fstat(self._base.fd).st_size if self._base and self._base.fd else 0
        return self._changes is None or self._scan.end > max(COMPACT_AT_LEAST, base // 2)

    def compact(self) -> None:
        """A new checkpoint of everything in memory, and an empty changes file after it; the
        replace of open.json is the switch (and the commit point of anything staged)."""
        self._writable()
        generation = (self.generation or 0) + 1
        path = self.directory / changes_name(generation)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, FILE_MODE)
        fresh = Segment(path, fd)
        meta = self.tables["meta"].docs
        before = meta.get(GENERATION)
        try:
            os.fchmod(fd, FILE_MODE)
            os.fsync(fd)
            fsync_dir(self.directory)
            meta[GENERATION] = {"key": GENERATION, "value": generation}
            places = write_checkpoint(self.path, {n: t.docs for n, t in self.tables.items()})
        except BaseException:
            _restore(meta, GENERATION, before)
            fresh.close()
            os.unlink(path)
            raise
        base = Segment.open(self.path)
        cases = self.tables[CASES].docs
        for reference, (offset, length) in places.items():
            cases[reference] = DocRef(base, offset, length)
        old = self._changes
        for segment in (self._base, old):
            if segment is not None:
                segment.close()
        self._base, self._changes, self.generation = base, fresh, generation
        info = os.fstat(base.fd or -1)
        self._base_id = (info.st_dev, info.st_ino)
        self._scan = Scan([], 0, 0)
        for table in self.tables.values():
            table.committed()
        if old is not None:
            os.unlink(old.path)
            fsync_dir(self.directory)

    def remove_strays(self) -> None:
        """What a crash during a compaction or a checkpoint write left behind (writer only)."""
        self._writable()
        current = changes_name(self.generation) if self.generation is not None else None
        for path in self.directory.glob("changes-*.jsonl"):
            if path.name != current:
                path.unlink()
        for path in self.directory.glob(f".{self.path.name}.*.tmp"):
            path.unlink()

    def rollback(self) -> None:
        for table in self.tables.values():
            table.rollback()

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only")

    # -- tinydb's Storage interface (for tools: the bot itself uses the tables) ------------

    def read(self) -> dict[str, dict[str, Any]]:
        """Every table as tinydb sees one: doc id -> document (cases parsed)."""
        out: dict[str, dict[str, Any]] = {}
        for name, table in self.tables.items():
            docs = table.values()
            if name == CASES:
                docs = [json.loads(encoded(doc)) for doc in docs]
            out[name] = {str(n): doc for n, doc in enumerate(docs, start=1)}
        return out

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Make the tables what tinydb hands over, and commit that."""
        self._writable()
        for name, docs in data.items():
            table = self.tables.get(name)
            if table is None:
                raise StoreError(f"the store has no table {name!r}")
            wanted = {
                (doc_id if name == "journal" else str(doc[KEY_FIELDS[name]])): doc
                for doc_id, doc in docs.items()
            }
            for key in [k for k in table if k not in wanted]:
                table.remove(key)
            for key, doc in wanted.items():
                table.put(key, dump_json(doc) if name == CASES else doc)
        self.commit()

    def close(self) -> None:
        for segment in (self._base, self._changes):
            if segment is not None:
                segment.close()
        self._base = self._changes = None


def _restore(docs: dict[str, Any], key: str, before: Any) -> None:
    if before is None:
        docs.pop(key, None)
    else:
        docs[key] = before
