"""The commit of one store directory, rollback, compaction and a reader's refresh."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from bot.store.errors import StoreError, write_failed
from bot.store.files import fsync_dir, fsync_file
from bot.store.journal import Record, write_records
from bot.store.opened import OpenStore

log = logging.getLogger(__name__)

_FSYNCS = 8  # fsyncs in flight at once when a commit makes raw mail durable


class StoreCore(OpenStore):
    """What is staged becomes durable in one commit, or is dropped by a rollback."""

    # -- the commit point ------------------------------------------------------------------------

    def commit(self) -> None:
        """One durable write of what is staged: archive files, then one append of the changes
        (the commit point), then the history files; a compaction now and then."""
        self._writable("commit")
        spill = self._storage.spill
        if not (
            self._dirty
            or self._unconfirmed
            or self._unsynced_raw
            or self._raw_writer.busy
            or spill.pending
            or spill.dropped
        ):
            return
        with self._gated():
            self._commit()

    def _commit(self) -> None:
        records = self._unconfirmed + self._staged_records
        try:
            self._sync_raw()
            # Archive copies go first: if the commit then fails, the open copy still wins.
            self._archive.write_all(self._staged_closed.values())
            self._set_journal(records)
            self._storage.commit()
        except OSError as exc:
            self._raw_folders.clear()  # one may have gone: look again
            raise write_failed(self.directory, exc) from exc
        reopened = self._maybe_archived
        if self._seen_keys is not None:
            self._seen_keys.update(self._staged_seen)
        if self._sent_ids is not None:
            self._sent_ids.update(self._staged_sent)
        self._reset_staged()
        self._dirty = False
        log.debug("store: committed %d journal lines", len(records))
        self._finish_commit(records, reopened)
        # A checkpoint waits for the bot to be idle (`compact_if_due`), unless the changes file
        # has grown far past its bound. Mail removed for good sits in the changes file until
        # the next checkpoint, so that one is written now.
        if self._storage.should_compact(overdue=True) or self._storage.spill.purged:
            try:
                self._compact()
            except OSError as exc:
                log.warning("store %s: compaction failed (%s); retried later", self.directory, exc)

    def _set_journal(self, records: list[Record]) -> None:
        """The commit's history records, in the journal table until they are in their files."""
        journal = self._journal
        for key in [k for k in journal if int(k) > len(records)]:
            journal.remove(key)
        for number, record in enumerate(records, start=1):
            if journal.get(str(number)) is not record:
                journal.put(str(number), record)

    def _sync_raw(self) -> None:
        """Make the raw mail kept since the last commit durable, before anything refers to it.
        The fsyncs go side by side: the file system joins them into few journal commits, so a
        backlog's hundreds of files cost a few fsyncs' time, not hundreds."""
        written = self._raw_writer.wait()  # written and fsynced on its threads meanwhile
        files = sorted(self._unsynced_raw)
        folders = sorted({path.parent for path in (*files, *written)} | self._unsynced_folders)
        for batch, sync in ((files, fsync_file), (folders, fsync_dir)):
            if len(batch) > 1:
                with ThreadPoolExecutor(min(len(batch), _FSYNCS), "fsync") as pool:
                    list(pool.map(sync, batch))
            elif batch:
                sync(batch[0])
        self._unsynced_raw.clear()
        self._unsynced_folders.clear()

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

    def compact_if_due(self) -> bool:
        """Write a checkpoint if the changes file has grown enough: the bot calls this when it
        has nothing else to do (after each cycle), so a poll or a tick never waits for one.
        True if it wrote one; never while anything is staged (it waits for the commit)."""
        self._writable("compact")
        if self._dirty or not self._storage.should_compact():
            return False
        self.compact()
        return True

    def compact(self) -> None:
        """Write a checkpoint now (commits normally decide this themselves)."""
        self._writable("compact")
        if self._dirty:
            raise StoreError("commit or roll back the staged changes before compacting")
        try:
            with self._gated():
                self._compact()
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc

    def rollback(self) -> None:
        """Drop everything staged since the last commit (for an email whose handling failed)."""
        if self._db is None:
            raise StoreError(f"cannot roll back: the store at {self.directory} is closed")
        self._storage.rollback()
        self._reset_staged()
        self._dirty = False

    def refresh(self) -> bool:
        """A read-only store (a snapshot) moved on to the last commit; True if it changed."""
        if not self.read_only:
            raise StoreError("refresh is for read-only stores; the writer is always current")
        if self._db is None:
            raise StoreError(f"cannot refresh: the store at {self.directory} is closed")
        if not self._storage.refresh():
            return False
        self._bind_tables()
        return True
