"""What every read-only view is handed: the rules, and the store when the bot has ever run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.rules import Rules
from bot.store import Store
from bot.store.case_index import CaseIndex


@dataclass
class Reader:
    """The rules and a read-only store (None before the bot's first run); never writes."""

    rules: Rules
    store: Store | None
    cases: CaseIndex | None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def open_reader(config_path: Path, *, index: bool = True) -> Reader:
    """The rules and a snapshot of the store at its last commit: works beside a running
    daemon, takes no lock and never writes (the views open nothing else).

    `index=False` skips the case index (reports read the stored JSON themselves)."""
    rules = Rules.load(config_path)
    directory = rules.config.store.directory
    if not directory.exists():
        return Reader(rules, None, None)
    store = Store.open_snapshot(directory)
    try:
        return Reader(rules, store, CaseIndex(store) if index else None)
    except BaseException:
        store.close()
        raise
