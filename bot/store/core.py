"""Opening, recovery and the commit of one store directory; `Store` adds the case API."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tinydb import TinyDB

from bot.clock import Clock, SystemClock
from bot.store.archive import ClosedArchive
from bot.store.errors import StoreError, read_only_error, write_failed
from bot.store.files import DIR_MODE, ensure_dir, fsync_dir, fsync_file
from bot.store.indexed import KeyedTable, MetaTable
from bot.store.journal import (
    SEEN_FILE,
    SENT_FILE,
    KeySet,
    Record,
    checked_records,
    make_record,
    unwritten,
    write_records,
)
from bot.store.lock import DirectoryLock
from bot.store.tinystorage import CachedAtomicStorage

log = logging.getLogger(__name__)

OPEN_FILE = "open.json"
TABLES = frozenset({"cases", "outbox", "triage", "meta", "journal"})


class StoreCore:
    """The directory's lock, its open tables and indexes, and what is staged for the commit."""

    SCHEMA_VERSION = 1

    def __init__(
        self, directory: Path, *, read_only: bool = False, clock: Clock | None = None
    ) -> None:
        self.directory = Path(directory)
        self.read_only = read_only
        self._clock: Clock = clock or SystemClock()
        self._lock: DirectoryLock | None = None
        self._db: TinyDB | None = None
        self._dirty = False
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        # Raw mail written since the last commit, fsynced (with its folders) by the next one.
        self._unsynced_raw: set[Path] = set()
        if self.read_only:
            if not self.directory.is_dir():
                raise StoreError(f"there is no store at {self.directory}; check the path")
        else:
            try:
                ensure_dir(self.directory)
                os.chmod(self.directory, DIR_MODE)
            except OSError as exc:
                raise write_failed(self.directory, exc) from exc
            self._lock = DirectoryLock(self.directory / "bot.lock")
        self._db = TinyDB(
            self.directory / OPEN_FILE, storage=CachedAtomicStorage, read_only=self.read_only
        )
        self._archive = ClosedArchive(self.directory / "closed")
        self._load()
        journal = checked_records(self._tables()["journal"], self._path)
        # Committed history that may not have reached its files yet (a crash after the replace).
        self._unconfirmed: list[Record] = unwritten(self.directory, journal)
        if not self.read_only:
            self._recover()
        self._seen = KeySet(self.directory, SEEN_FILE, "key", self._unconfirmed)
        self._sent = KeySet(self.directory, SENT_FILE, "message_id", self._unconfirmed)

    @property
    def _path(self) -> Path:
        return self.directory / OPEN_FILE

    @property
    def _storage(self) -> CachedAtomicStorage:
        assert self._db is not None
        storage = self._db.storage
        assert isinstance(storage, CachedAtomicStorage)
        return storage

    def _tables(self) -> dict[str, dict[str, Any]]:
        return self._storage.read()

    def _load(self) -> None:
        """Index the committed tables and start with nothing staged."""
        tables = self._tables()
        non_empty = any(tables.values())
        # The version is checked first: a newer bot's layout may look like damage to this one.
        self._meta = MetaTable(tables.setdefault("meta", {}), self._path)
        self._dirty = self._check_schema(non_empty)
        unknown = set(tables) - TABLES
        if unknown:
            raise StoreError(
                f"{self._path} has unknown tables {sorted(unknown)}; it was left untouched: "
                "is this directory another program's data?"
            )
        for name in TABLES:
            tables.setdefault(name, {})
        self._cases = KeyedTable(tables["cases"], "reference", self._path)
        self._outbox = KeyedTable(tables["outbox"], "message_id", self._path)
        self._triage = KeyedTable(tables["triage"], "id", self._path)
        self._staged_closed: dict[str, dict[str, Any]] = {}
        self._maybe_archived: set[str] = set()
        self._staged_records: list[Record] = []
        self._staged_seen: set[str] = set()
        self._staged_sent: set[str] = set()
        self._recent_raw: tuple[str, bytes] | None = None  # what keep_raw last kept

    def _check_schema(self, non_empty: bool) -> bool:
        """Refuse what this bot cannot read; True if a new store's version is now staged."""
        version = self._meta.get("schema_version")
        if version is None and non_empty:
            raise StoreError(
                f"{self._path} has no schema version, so it was not written by this bot or is "
                "damaged; it was left untouched: restore it from a backup or move it aside"
            )
        if version is None:
            self._meta.set("schema_version", self.SCHEMA_VERSION)
            return True
        if not isinstance(version, int) or version < 1:
            raise StoreError(f"{self._path} has an unknown schema version {version!r}")
        if version > self.SCHEMA_VERSION:
            raise StoreError(
                f"{self._path} was written by a newer version of the bot (schema {version}; "
                f"this one understands up to {self.SCHEMA_VERSION}); upgrade the bot to use it"
            )
        return False

    def _recover(self) -> None:
        """Finish what a crash interrupted: stale temp files, stray archive copies, appends."""
        try:
            for tmp in self.directory.glob(f".{OPEN_FILE}.*.tmp"):
                tmp.unlink()
            for reference in list(self._cases.keys()):
                # open.json is the commit point, so an open case there beats an archived copy.
                if self._archive.remove(reference):
                    log.info("store: removed stray archive copy of open case %s", reference)
            write_records(self.directory, self._unconfirmed)
            self._unconfirmed = []
        except OSError as exc:
            log.warning(
                "store %s: recovery incomplete (%s); retried at commit", self.directory, exc
            )

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the lock; anything staged and not committed is dropped."""
        if self._db is not None and self._dirty and not self.read_only:
            log.warning("store %s: closing with uncommitted changes; discarded", self.directory)
        self._db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _writable(self, action: str) -> None:
        if self.read_only:
            raise read_only_error(self.directory, action)
        if self._db is None:
            raise StoreError(f"cannot {action}: the store at {self.directory} is closed")

    def _stage(self, action: str) -> None:
        self._writable(action)
        self._dirty = True

    def _stage_line(self, file: str, line: dict[str, Any], counter: str) -> None:
        self._staged_records.append(make_record(file, line, self._meta.next_number(counter)))

    # -- the commit point ------------------------------------------------------------------------

    def commit(self) -> None:
        """One durable write of everything staged: archive files, then one replace of open.json."""
        self._writable("commit")
        if not self._dirty and not self._unconfirmed and not self._unsynced_raw:
            return
        records = self._unconfirmed + self._staged_records
        try:
            self._sync_raw()
            # Archive copies go first: if the replace then fails, the open copy still wins.
            for case in self._staged_closed.values():
                self._archive.write(case)
            self._tables()["journal"] = {str(n): r for n, r in enumerate(records, start=1)}
            self._storage.flush()
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        reopened = self._maybe_archived
        self._seen.update(self._staged_seen)
        self._sent.update(self._staged_sent)
        self._staged_seen, self._staged_sent, self._maybe_archived = set(), set(), set()
        self._staged_closed, self._staged_records = {}, []
        self._dirty = False
        log.debug("store: committed %d journal lines", len(records))
        self._finish_commit(records, reopened)
        self._recent_raw = None  # the email it was kept for has been handled

    def _sync_raw(self) -> None:
        """Make the raw mail kept since the last commit durable, before anything refers to it."""
        for path in sorted(self._unsynced_raw):
            fsync_file(path)
        for folder in sorted({path.parent for path in self._unsynced_raw}):
            fsync_dir(folder)
        self._unsynced_raw.clear()

    def _finish_commit(self, records: list[Record], reopened: set[str]) -> None:
        """After the commit point nothing can be lost; failures here are retried later."""
        self._unconfirmed = records
        try:
            write_records(self.directory, records)
            self._unconfirmed = []
            for reference in reopened:
                self._archive.remove(reference)
        except OSError as exc:
            log.warning(
                "store %s: committed, but appending history failed (%s); it stays in the "
                "journal and is retried at the next commit or start",
                self.directory,
                exc.strerror or exc,
            )

    def rollback(self) -> None:
        """Drop everything staged since the last commit (for an email whose handling failed)."""
        if self._db is None:
            raise StoreError(f"cannot roll back: the store at {self.directory} is closed")
        try:
            self._storage.reload()
        except OSError as exc:
            raise StoreError(f"could not read {self._path}: {exc.strerror or exc}") from exc
        self._load()
