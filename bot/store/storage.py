"""A tinydb Storage whose commit appends only what changed: open.json plus a changes file.

open.json (the checkpoint) names its changes file, `changes-<generation>.jsonl`; a commit
appends the documents it changed and is durable once its mark is fsynced. When the changes
grow past 256 KB and half the checkpoint, they are compacted: a new changes file, a new open.json
naming it (the switch is that atomic replace), then the old changes file goes. Readers open
open.json and the changes file it names without any lock, and read whole commits only.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from bot.store.changes import Scan, encode_commit
from bot.store.checkpoint import CASES, write_checkpoint
from bot.store.errors import StoreError
from bot.store.files import FILE_MODE, dump_json, fsync_dir
from bot.store.raw_spill import RAW
from bot.store.reading import GENERATION, TablesReader, changes_name
from bot.store.segments import DocRef, Segment, encoded
from bot.store.tables import KEY_FIELDS

__all__ = ["COMPACT_AT_LEAST", "GENERATION", "ChangesStorage", "changes_name"]

COMPACT_AT_LEAST = 256 * 1024  # changes smaller than this are never compacted
# A commit compacts itself, not waiting for the bot to be idle, only past twice the bound and
# this: a backlog's poll at a thousand open cases appends some 30 MB, and a start replays the
# changes file (at about 100 MB a second), so this bounds the start's wait too.
COMPACT_OVERDUE_AT_LEAST = 64 * 1024 * 1024


class ChangesStorage(TablesReader):
    """The store's tables, read from disk once and kept in memory; `commit()` appends the
    changed documents. Read-only instances are consistent snapshots and never write."""

    # -- writing ---------------------------------------------------------------------------

    def commit(self) -> None:
        """Append every change since the last commit and make it durable (the commit point)."""
        self._writable()
        if self._changes is None:
            # A new store, or one in the first layout: the first commit is a checkpoint.
            if any(table.dirty() for table in self.tables.values()) or self.spill.pending:
                self.compact()
            return
        rows = self.spill.rows()
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
        spilled = []
        for change in placed:
            if change.doc is None:
                continue
            if change.table == CASES:
                cases[change.key] = DocRef(self._changes, change.offset, len(change.doc))
            elif change.table == RAW:
                spilled.append((change.key, DocRef(self._changes, change.offset, len(change.doc))))
        self.spill.committed(spilled)

    def should_compact(self, *, overdue: bool = False) -> bool:
        """Whether the changes file has grown enough for a checkpoint: past 256 KB and half
        the checkpoint; `overdue`, past twice that and 64 MB (the commit then compacts at
        once, where otherwise the bot does it when it has nothing else to do)."""
        base = os.fstat(self._base.fd).st_size if self._base and self._base.fd else 0
        bound = max(COMPACT_AT_LEAST, base // 2)
        if overdue:
            bound = max(2 * bound, COMPACT_OVERDUE_AT_LEAST)
        return self._changes is None or self._scan.end > bound

    def compact(self) -> None:
        """A new checkpoint of everything in memory, and an empty changes file after it; the
        replace of open.json is the switch (and the commit point of anything staged). Mail
        spilled into the changes file is written out to raw/ first: the checkpoint holds none."""
        self._writable()
        self.spill.write_out()
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
        self.spill.clear()
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


def _restore(docs: dict[str, Any], key: str, before: Any) -> None:
    if before is None:
        docs.pop(key, None)
    else:
        docs[key] = before
