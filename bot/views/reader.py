"""What every read-only view is handed: the rules, and the store when the bot has ever run."""

from __future__ import annotations

from pathlib import Path

from bot.config.listing import Listing
from bot.config.rules_cache import cached_parts, listing_of
from bot.rules import Rules
from bot.store import Store
from bot.store.case_index import CaseIndex


class Reader:
    """The rules and a read-only store (None before the bot's first run); never writes.

    The rules are loaded when first asked for: the list of cases needs only their `listing`,
    which the rules cache keeps as plain data."""

    def __init__(
        self,
        config_path: Path,
        store: Store | None,
        cases: CaseIndex | None,
        *,
        rules: Rules | None = None,
        listing: Listing | None = None,
        parts: tuple[bytes, ...] | None = None,
    ) -> None:
        self.config_path = config_path
        self.store = store
        self.cases = cases
        self._rules = rules
        self._listing = listing
        self._parts = parts  # the rules cache as found valid when the reader opened

    @property
    def rules(self) -> Rules:
        if self._rules is None:
            self._rules = Rules.load(self.config_path, self._parts)
        return self._rules

    @property
    def listing(self) -> Listing:
        if self._listing is None:
            self._listing = self.rules.listing
        return self._listing

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def open_reader(config_path: Path, *, index: bool = True) -> Reader:
    """The rules and a snapshot of the store at its last commit: works beside a running
    daemon, takes no lock and never writes (the views open nothing else).

    `index=False` skips the case index (reports read the stored JSON themselves)."""
    parts = cached_parts(config_path)
    listing = listing_of(parts)
    rules = None
    if listing is None:  # no cache: the rules are read and checked now, a mistake stops here
        rules = Rules.load(config_path, parts) if parts is not None else Rules.check(config_path)
        listing = rules.listing
    directory = listing.store
    if not directory.exists():
        return Reader(config_path, None, None, rules=rules, listing=listing, parts=parts)
    store = Store.open_snapshot(directory)
    try:
        cases = CaseIndex(store) if index else None
    except BaseException:
        store.close()
        raise
    return Reader(config_path, store, cases, rules=rules, listing=listing, parts=parts)
