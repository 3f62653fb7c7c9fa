"""The dashboard's one door to the store: read-only, never locking, refreshed after each commit.

Everything the pages read comes through here, so that moving to the store's read snapshots
changes this module alone. The daemon commits by replacing open.json; when that file changes,
the store is opened read-only again and only the cases whose stored JSON changed are parsed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import datetime
from typing import Any

from bot.procedure.case import Case
from bot.rules import Rules
from bot.store import Store, StoreError
from bot.store.spool import Spool
from bot.views.status import Status, collect
from bot.views.web.summary import CaseSummary, summarise

log = logging.getLogger(__name__)

Signature = tuple[int, int, int]  # inode, size, modification time of open.json


class DashboardData:
    """Open and closed case summaries, one case, triage, kept mail, letters and status."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.directory = rules.config.store.directory
        self.spool = Spool.beside(self.directory)
        self._lock = threading.RLock()  # pages are served from several threads
        self._store: Store | None = None
        self._signature: Signature | None = None
        self._open: dict[str, CaseSummary] = {}
        self._digests: dict[str, bytes] = {}
        self._closed: dict[str, CaseSummary] = {}

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- keeping up with the daemon -------------------------------------------------------------

    def _current(self) -> Store | None:
        """The store as last committed; None before the bot's first run."""
        signature = self._stat()
        if signature is None:
            return None
        if signature != self._signature or self._store is None:
            fresh = Store(self.directory, read_only=True)
            if self._store is not None:
                self._store.close()
            self._store, self._signature = fresh, signature
            self._refresh(fresh)
        return self._store

    def _stat(self) -> Signature | None:
        try:
            info = os.stat(self.directory / "open.json")
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _refresh(self, store: Store) -> None:
        """Parse only the open cases whose stored JSON changed since the last look."""
        summaries: dict[str, CaseSummary] = {}
        digests: dict[str, bytes] = {}
        for doc in store.open_case_documents():
            digest = hashlib.blake2b(doc, digest_size=16).digest()
            case: Case | None = None
            reference = _reference_of(doc)
            if reference is not None and self._digests.get(reference) == digest:
                summaries[reference] = self._open[reference]
            else:
                case = Case.model_validate_json(doc)
                reference = case.reference
                summaries[reference] = summarise(case, self.rules)
            digests[reference] = digest
        reopened = set(summaries) & set(self._closed)
        for reference in reopened:
            del self._closed[reference]
        self._open, self._digests = summaries, digests

    # -- what the pages read --------------------------------------------------------------------

    def open_summaries(self) -> list[CaseSummary]:
        with self._lock:
            self._current()
            return list(self._open.values())

    def closed_summaries(self) -> list[CaseSummary]:
        """Closed cases, each read from the archive once and remembered (they do not change)."""
        with self._lock:
            store = self._current()
            if store is None:
                return []
            for reference in store.closed_references():
                if reference not in self._closed:
                    doc = store.get_case(reference)
                    if doc is not None:
                        self._closed[reference] = summarise(Case.model_validate(doc), self.rules)
            return list(self._closed.values())

    def case(self, reference: str) -> Case | None:
        with self._lock:
            store = self._current()
            if store is None:
                return None
            try:
                doc = store.get_case(reference)
            except (StoreError, ValueError):
                return None
            return Case.model_validate(doc) if doc else None

    def triage(self) -> list[dict[str, Any]]:
        """What waits for an officer, oldest first."""
        with self._lock:
            store = self._current()
            items = store.triage_items() if store is not None else []
        return sorted(items, key=lambda item: (str(item.get("received", "")), item.get("id")))

    def raw_mail(self, sha: str) -> bytes | None:
        """An email or letter kept by the store, by its sha256; None when gone or unknown."""
        with self._lock:
            store = self._current()
            if store is None:
                return None
            try:
                return store.load_raw(sha)
            except (StoreError, ValueError):
                return None

    def status(self, now: datetime, backlog: int | None = None) -> Status:
        with self._lock:
            store = self._current()
            return collect(now, self.rules.config, self.rules.engine(), store, backlog)


def _reference_of(doc: bytes) -> str | None:
    """A stored case's reference without parsing it all (the store writes it first)."""
    head = doc[:64]
    marker = b'"reference":"'
    at = head.find(marker)
    if at < 0:
        return None
    end = head.find(b'"', at + len(marker))
    return head[at + len(marker) : end].decode("ascii", "replace") if end > 0 else None
