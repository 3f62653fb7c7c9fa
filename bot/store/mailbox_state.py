"""A mail backend's checkpoint kept in the store's meta table, durable with its commit."""

from __future__ import annotations

from typing import Any

from bot.store.store import Store


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
