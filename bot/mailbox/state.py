"""Backend checkpoints kept in memory, for tools and tests that have no store."""

from __future__ import annotations

import copy
from typing import Any


class MemoryState:
    """A checkpoint in a dict: for `inspect`-style tools and tests that have no store."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return copy.deepcopy(self.values.get(key))

    def set(self, key: str, value: Any) -> None:
        self.values[key] = copy.deepcopy(value)
