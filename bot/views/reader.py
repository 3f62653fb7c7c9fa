"""What every read-only view is handed: the rules, and the store when the bot has ever run."""

from __future__ import annotations

from dataclasses import dataclass

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
