"""Opening one store directory: its lock, its tables, recovery after a crash, migration."""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tinydb import TinyDB

from bot.clock import Clock, SystemClock
from bot.store.archive import ClosedArchive
from bot.store.closed_index import INDEX_FILE
from bot.store.errors import StoreError, read_only_error, write_failed
from bot.store.files import DIR_MODE, ensure_dir
from bot.store.journal import (
    SEEN_FILE,
    SENT_FILE,
    Record,
    checked_records,
    make_record,
    unwritten,
    write_records,
)
from bot.store.keyset import KeySet
from bot.store.lock import CommitGate, DirectoryLock
from bot.store.meta_keys import SCHEMA_VERSION
from bot.store.raw_writer import RawWriter
from bot.store.storage import ChangesStorage
from bot.store.tables import Meta

log = logging.getLogger(__name__)

OPEN_FILE = "open.json"


class OpenStore:
    """The directory's lock, its tables, and what is staged for the next commit; StoreCore
    adds the commit, Store the API.

    Schema 2 (issue 12): open.json is a checkpoint and each commit appends what it changed to
    the changes file open.json names. Schema 3: the changes file also holds kept mail up to
    128 KB (`raw` lines, bot.store.raw_spill), which a schema-2 bot would take for damage.
    Schemas 1 (open.json rewritten whole at each commit) and 2 are migrated when a writer
    first opens them; a newer schema is refused, untouched.
    """

    SCHEMA_VERSION = SCHEMA_VERSION

    def __init__(
        self, directory: Path, *, read_only: bool = False, clock: Clock | None = None
    ) -> None:
        self.directory = Path(directory)
        self.read_only = read_only
        self._clock: Clock = clock or SystemClock()
        self._lock: DirectoryLock | None = None
        self._gate: CommitGate | None = None  # the writer's, held while it commits
        self._db: TinyDB | None = None
        self._dirty = False
        self._raw_writer = RawWriter()  # what keep_raw hands over; the commit waits for it
        self._raw_folders: set[Path] = set()  # raw/<xx> folders known to be there
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        # Raw mail written since the last commit, fsynced (with its folders) by the next one.
        self._unsynced_raw: set[Path] = set()
        self._unsynced_folders: set[Path] = set()  # folders that gained a folder meanwhile
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
            self._gate = CommitGate(self.directory)
        self._db = TinyDB(self._path, storage=ChangesStorage, read_only=self.read_only)
        self._archive = ClosedArchive(self.directory / "closed", self.directory / INDEX_FILE)
        self._bind_tables()
        # The version is checked first: a newer bot's layout may look like damage to this one.
        found = self._check_schema(any(len(t) for t in self._storage.tables.values()))
        self._reset_staged()
        if not self.read_only:
            if 0 < found < self.SCHEMA_VERSION:
                self._backup_before_upgrade(found)  # before anything is changed
            self._recover()
            if found < self.SCHEMA_VERSION:
                self._upgrade(found)
            self._complete()

    def _bind_tables(self) -> None:
        tables = self._storage.tables
        self._meta = Meta(tables["meta"])
        self._cases, self._summaries = tables["cases"], tables["summaries"]
        self._outbox, self._triage = tables["outbox"], tables["triage"]
        self._journal = tables["journal"]
        journal = checked_records(self._journal.docs, self._path)
        # Committed history that may not have reached its files yet (a crash after the commit).
        self._unconfirmed: list[Record] = unwritten(self.directory, journal)
        self._seen_keys: KeySet | None = None
        self._sent_ids: KeySet | None = None

    @property
    def _path(self) -> Path:
        return self.directory / OPEN_FILE

    @property
    def _storage(self) -> ChangesStorage:
        assert self._db is not None, f"the store at {self.directory} is closed"
        storage = self._db.storage
        assert isinstance(storage, ChangesStorage)
        return storage

    def _reset_staged(self) -> None:
        self._staged_closed: dict[str, dict[str, Any]] = {}
        self._maybe_archived: set[str] = set()
        self._staged_records: list[Record] = []
        self._staged_seen: set[str] = set()
        self._staged_sent: set[str] = set()
        self._recent_raw: tuple[str, bytes] | None = None  # what keep_raw last kept

    def _check_schema(self, non_empty: bool) -> int:
        """Refuse what this bot cannot read; the version found (a new store's is staged)."""
        version = self._meta.get("schema_version")
        if version is None and non_empty:
            raise StoreError(
                f"{self._path} has no schema version, so it was not written by this bot or is "
                "damaged; it was left untouched: restore it from a backup or move it aside"
            )
        if version is None:
            return 0
        if not isinstance(version, int) or version < 1:
            raise StoreError(f"{self._path} has an unknown schema version {version!r}")
        if version > self.SCHEMA_VERSION:
            raise StoreError(
                f"{self._path} was written by a newer version of the bot: it has schema "
                f"{version}, and this bot knows schema {self.SCHEMA_VERSION} at most. It was "
                "left untouched: upgrade the bot, or restore the backup made before the upgrade "
                f"({self.directory / 'upgrade-backups'}) into an empty folder with this bot "
                "(python -m bot restore FILE --into DIR)"
            )
        return version

    def _recover(self) -> None:
        """Finish what a crash interrupted: stray files of a compaction, history appends."""
        try:
            self._storage.remove_strays()
            write_records(self.directory, self._unconfirmed)
            self._unconfirmed = []
            if not self._archive.has_index() and self._archive.files():
                # A store from before the index of closed cases' briefs: made once, here.
                log.info("store: indexed %d closed cases", self._archive.rebuild_index())
        except OSError as exc:
            log.warning(
                "store %s: recovery incomplete (%s); retried at commit", self.directory, exc
            )

    def _complete(self) -> None:
        """What a writer adds, once opened, that a store from an earlier version lacks."""

    def _backup_before_upgrade(self, found: int) -> None:
        from bot.store.backup.upgrade import backup_before_upgrade  # only on an upgrade

        try:
            backup_before_upgrade(self.directory, found, self.SCHEMA_VERSION, self._clock.now())
        except (OSError, StoreError) as exc:
            raise StoreError(
                f"the store at {self.directory} (schema {found}) must be backed up before this "
                f"bot upgrades it to schema {self.SCHEMA_VERSION}, and that failed: {exc}. "
                "Nothing was changed; fix that and start the bot again"
            ) from exc

    def _upgrade(self, found: int) -> None:
        """A new store's first checkpoint, or an older schema's migration: the same tables,
        written as a checkpoint with its (empty) changes file (schema 2 needs nothing more:
        its mail is already in files, which schema 3 reads as before)."""
        self._meta.set("schema_version", self.SCHEMA_VERSION)
        try:
            with self._gated():
                self._compact()
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        if found:
            log.info("store %s: upgraded to schema %d", self.directory, self.SCHEMA_VERSION)

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the lock; anything staged and not committed is dropped."""
        self._raw_writer.close()
        if self._db is not None:
            if self._dirty and not self.read_only:
                log.warning("store %s: closing with uncommitted changes; discarded", self.directory)
            self._db.close()
        self._db = None
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _gated(self) -> AbstractContextManager[None]:
        """Held while a commit changes files, so that a backup never freezes half of one."""
        return self._gate.shared() if self._gate is not None else nullcontext()

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

    def _key_set(self, file: str, field: str) -> KeySet:
        writable = not self.read_only
        return KeySet(self.directory, file, field, self._unconfirmed, writable=writable)

    @property
    def _seen(self) -> KeySet:
        """Seen keys, read from their file when first asked (readers seldom ask)."""
        if self._seen_keys is None:
            self._seen_keys = self._key_set(SEEN_FILE, "key")
        return self._seen_keys

    @property
    def _sent(self) -> KeySet:
        if self._sent_ids is None:
            self._sent_ids = self._key_set(SENT_FILE, "message_id")
        return self._sent_ids

    def _compact(self) -> None:
        """A new checkpoint. Archive copies a crash left of cases still open go first: reads
        prefer the open copy anyway, so they are only cleared here, not at every start."""
        for reference in list(self._cases):
            if self._archive.remove(reference):
                log.info("store: removed stray archive copy of open case %s", reference)
        self._storage.compact()
