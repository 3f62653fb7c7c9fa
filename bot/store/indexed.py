"""In-memory indexes over open.json's tinydb tables, so a lookup or a put is O(1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.store.errors import StoreError
from bot.store.tinystorage import Packed

# tinydb's Table re-reads and rewrites a whole table on every update, which would make each
# email cost O(open cases); these indexes edit the storage's cached tables in place instead.


class KeyedTable:
    """One tinydb table (doc id -> document) indexed by a unique string field.

    A document is a dict, or its packed JSON in the storage's encoded tables.
    """

    def __init__(self, raw: dict[str, Any], key_field: str, source: Path) -> None:
        self._raw = raw
        self._key_field = key_field
        self._doc_ids: dict[str, str] = {}
        for doc_id, doc in raw.items():
            try:
                body = json.loads(doc.json()) if isinstance(doc, Packed) else doc
            except ValueError:
                body = None
            key = body.get(key_field) if isinstance(body, dict) else None
            if not isinstance(key, str) or key in self._doc_ids:
                raise StoreError(
                    f"{source}: document {doc_id} is not a JSON object with a unique "
                    f"{key_field!r}; it was left untouched: restore it from a backup"
                )
            self._doc_ids[key] = doc_id
        self._next_id = max((int(doc_id) for doc_id in raw), default=0) + 1

    def __contains__(self, key: str) -> bool:
        return key in self._doc_ids

    def __len__(self) -> int:
        return len(self._doc_ids)

    def keys(self) -> Iterator[str]:
        return iter(self._doc_ids)

    def get(self, key: str) -> Any:
        # The stored document itself: the store copies at its boundary, not here.
        doc_id = self._doc_ids.get(key)
        return None if doc_id is None else self._raw[doc_id]

    def put(self, key: str, doc: Any) -> None:
        doc_id = self._doc_ids.get(key)
        if doc_id is None:
            doc_id = str(self._next_id)
            self._next_id += 1
            self._doc_ids[key] = doc_id
        self._raw[doc_id] = doc

    def remove(self, key: str) -> Any:
        doc_id = self._doc_ids.pop(key, None)
        return None if doc_id is None else self._raw.pop(doc_id)

    def documents(self) -> list[Any]:
        """Every document, oldest first (dicts keep insertion order)."""
        return [self._raw[doc_id] for doc_id in self._doc_ids.values()]


class MetaTable:
    """Small named values, one document {"key": ..., "value": ...} each."""

    def __init__(self, raw: dict[str, Any], source: Path) -> None:
        self._table = KeyedTable(raw, "key", source)

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: str, default: Any = None) -> Any:
        doc = self._table.get(key)
        return default if doc is None else doc.get("value", default)

    def set(self, key: str, value: Any) -> None:
        self._table.put(key, {"key": key, "value": value})

    def next_number(self, counter: str) -> int:
        """Advance a named counter (staged with everything else) and return its new value."""
        counters = dict(self.get("counters", {}))
        counters[counter] = int(counters.get(counter, 0)) + 1
        self.set("counters", counters)
        return int(counters[counter])
