"""Backend checkpoints kept in the store's meta table, or in memory for tools and tests."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store import Store


class StoreState:
    """A backend's checkpoint under one prefix of the store's meta; durable with its commit."""

    def __init__(self, store: Store, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def get(self, key: str) -> Any:
        return self.store.get_meta(f"{self.prefix}.{key}")

    def set(self, key: str, value: Any) -> None:
        if self.get(key) != value:  # an idle poll must not stage a write for nothing
            self.store.set_meta(f"{self.prefix}.{key}", value)


class MemoryState:
    """A checkpoint in a dict: for `inspect`-style tools and tests that have no store."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return copy.deepcopy(self.values.get(key))

    def set(self, key: str, value: Any) -> None:
        self.values[key] = copy.deepcopy(value)
