"""The dashboard's one door to the store: read-only, never locking, refreshed after each commit.

Everything the pages read comes through here. The pages read a snapshot of the store
(Store.open_snapshot): a whole commit, never half of one, taken without the daemon's lock.
When the store's commit mark changes, a new snapshot is taken and only the open cases whose
stored JSON changed are parsed again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.procedure.case import Case
from bot.rules import Rules
from bot.store import Store, StoreError
from bot.store.spool import Spool
from bot.views.reports.command import figures_from_store
from bot.views.reports.figures import Figures
from bot.views.reports.period import Period
from bot.views.status import Status, collect
from bot.views.web.summary import CaseSummary, summarise

log = logging.getLogger(__name__)

Signature = tuple[int, ...]  # Store.commit_mark: changes with every commit


# A reload slower than this is done in the background the next time, serving the cases as
# last loaded meanwhile, so that nobody waits for a large store after each of the daemon's
# commits; a small store is simply reloaded before the page is built.
BACKGROUND_AFTER_SECONDS = 0.3
REPORTS_KEPT = 4


@dataclass
class Snapshot:
    """The store as of one commit, and the summaries of its open cases."""

    store: Store
    signature: Signature
    open: dict[str, CaseSummary]
    digests: dict[str, bytes]
    versions: dict[str, Hashable]


class DashboardData:
    """Open and closed case summaries, one case, triage, kept mail, letters and status."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.directory = rules.config.store.directory
        self.spool = Spool.beside(self.directory)
        self._lock = threading.RLock()  # pages are served from several threads
        self._snapshot: Snapshot | None = None
        self._closed: dict[str, CaseSummary] = {}
        self._load_seconds = 0.0
        self._loading: threading.Thread | None = None
        # The last reports made: a page and its downloads ask for the same figures in turn.
        self._reports: OrderedDict[tuple[Any, ...], Figures] = OrderedDict()

    def close(self) -> None:
        with self._lock:
            loading = self._loading
        if loading is not None:
            loading.join()
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.store.close()
                self._snapshot = None

    # -- keeping up with the daemon -------------------------------------------------------------

    def _current(self) -> Store | None:
        """The store as last committed (or as last loaded, while a slow reload runs); None
        before the bot's first run."""
        signature = self._stat()
        snapshot = self._snapshot
        if signature is None:
            return snapshot.store if snapshot is not None else None
        if snapshot is None or (
            signature != snapshot.signature and self._load_seconds < BACKGROUND_AFTER_SECONDS
        ):
            self._install(self._load(signature, snapshot))
        elif signature != snapshot.signature and self._loading is None:
            self._loading = threading.Thread(
                target=self._load_in_background, args=(signature, snapshot), daemon=True
            )
            self._loading.start()
        assert self._snapshot is not None
        return self._snapshot.store

    def _load_in_background(self, signature: Signature, previous: Snapshot) -> None:
        try:
            fresh = self._load(signature, previous)
        except Exception:  # the next page tries again; meanwhile the last load is shown
            log.exception("reloading the store for the dashboard failed")
            with self._lock:
                self._loading = None
            return
        with self._lock:
            self._install(fresh)
            self._loading = None

    def _install(self, fresh: Snapshot) -> None:
        old, self._snapshot = self._snapshot, fresh
        for reference in set(fresh.open) & set(self._closed):
            del self._closed[reference]  # reopened
        if old is not None and old.store is not fresh.store:
            old.store.close()  # read-only: nothing to release but memory

    def _stat(self) -> Signature | None:
        return Store.commit_mark(self.directory)

    def _load(self, signature: Signature, previous: Snapshot | None) -> Snapshot:
        """A snapshot of the store, parsing only the open cases whose stored JSON changed:
        a case whose version is unchanged is not even read."""
        started = time.perf_counter()
        store = Store.open_snapshot(self.directory)
        known = previous.open if previous is not None else {}
        digests_before = previous.digests if previous is not None else {}
        versions_before = previous.versions if previous is not None else {}
        summaries: dict[str, CaseSummary] = {}
        digests: dict[str, bytes] = {}
        versions: dict[str, Hashable] = {}
        for reference, version in store.open_case_versions():
            versions[reference] = version
            if versions_before.get(reference) == version and reference in known:
                summaries[reference] = known[reference]
                digests[reference] = digests_before[reference]
                continue
            doc = store.open_case_document(reference)
            if doc is None:
                continue
            digest = hashlib.blake2b(doc, digest_size=16).digest()
            if digests_before.get(reference) == digest and reference in known:
                summaries[reference] = known[reference]
            else:
                summaries[reference] = summarise(Case.model_validate_json(doc), self.rules)
            digests[reference] = digest
        self._load_seconds = time.perf_counter() - started
        return Snapshot(store, signature, summaries, digests, versions)

    # -- what the pages read --------------------------------------------------------------------

    def open_summaries(self) -> list[CaseSummary]:
        with self._lock:
            self._current()
            return list(self._snapshot.open.values()) if self._snapshot is not None else []

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

    def report(self, period: Period, now: datetime) -> Figures | None:
        """The compliance figures of `period` as at `now` (None before the bot's first run),
        the same as `python -m bot report` makes; kept for the minute, per commit."""
        with self._lock:
            store = self._current()
            if store is None or self._snapshot is None:
                return None
            key = (self._snapshot.signature, period, now.replace(second=0, microsecond=0))
            figures = self._reports.get(key)
            if figures is None:
                figures = figures_from_store(store, self.rules, period, now)
                self._reports[key] = figures
                while len(self._reports) > REPORTS_KEPT:
                    self._reports.popitem(last=False)
            return figures

    def status(self, now: datetime, backlog: int | None = None, *, cases: bool = True) -> Status:
        with self._lock:
            store = self._current()
            return collect(now, self.rules.config, self.rules.engine(), store, backlog, cases=cases)
