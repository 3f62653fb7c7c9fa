"""The store's tables in memory: documents by key, with what changed since the last commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Each table's documents are keyed by one of their fields; tinydb's doc ids exist only on disk.
KEY_FIELDS = {
    "cases": "reference",
    "summaries": "reference",
    "outbox": "message_id",
    "triage": "id",
    "meta": "key",
    "journal": "n",
}
_MISSING = object()


class Table:
    """Documents by key in insertion order, and an undo log of the keys changed since the last
    commit, so a commit writes only those and a rollback restores only those."""

    def __init__(self, name: str, docs: dict[str, Any] | None = None) -> None:
        self.name = name
        self.docs: dict[str, Any] = docs if docs is not None else {}
        self._undo: dict[str, Any] = {}  # key -> its committed document (or _MISSING)
        self._removed: set[str] = set()  # keys removed since the commit (maybe put again)
        self._order: list[str] | None = None  # committed key order, kept once a key is removed

    def __contains__(self, key: str) -> bool:
        return key in self.docs

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.docs)

    def values(self) -> list[Any]:
        """Every document, oldest first (a document put again keeps its place)."""
        return list(self.docs.values())

    def get(self, key: str) -> Any:
        # The stored document itself: the store copies at its boundary, not here.
        return self.docs.get(key)

    def put(self, key: str, doc: Any) -> None:
        if key not in self._undo:
            self._undo[key] = self.docs.get(key, _MISSING)
        self.docs[key] = doc

    def remove(self, key: str) -> Any:
        if key not in self.docs:
            return None
        if self._order is None:  # the committed order: keys new since the commit left out
            self._order = [k for k in self.docs if self._undo.get(k) is not _MISSING]
        if key not in self._undo:
            self._undo[key] = self.docs[key]
        self._removed.add(key)
        return self.docs.pop(key)

    def changes(self) -> list[tuple[str, Any]]:
        """(key, document or None for a removal) for every key changed since the last commit,
        in an order that, replayed on the committed table, gives this one in this order.

        Keys that kept their place come first; keys put at the end since (new ones, and ones
        removed and put again, which come as a removal first) follow in the order they sit.
        """
        removals: list[tuple[str, Any]] = []
        in_place: list[tuple[str, Any]] = []
        appended = 0
        for key, before in self._undo.items():
            doc = self.docs.get(key, _MISSING)
            moved = before is _MISSING or key in self._removed
            if before is not _MISSING and (doc is _MISSING or key in self._removed):
                removals.append((key, None))
            if doc is _MISSING:
                continue
            if moved:
                appended += 1
            elif doc is not before:
                in_place.append((key, doc))
        # Whatever was put at the end sits at the end: walk back over just those keys.
        tail: list[tuple[str, Any]] = []
        for key in reversed(self.docs):
            if len(tail) == appended:
                break
            tail.append((key, self.docs[key]))
        return removals + in_place + tail[::-1]

    def committed(self) -> None:
        """What is in memory is now what is on disk."""
        self._undo.clear()
        self._removed.clear()
        self._order = None

    def rollback(self) -> None:
        """Back to the last commit: only the changed keys are touched (and the order, when a
        key was removed)."""
        for key, before in self._undo.items():
            if before is _MISSING:
                self.docs.pop(key, None)
            else:
                self.docs[key] = before
        if self._order is not None:
            self.docs = {key: self.docs[key] for key in self._order}
        self.committed()

    def dirty(self) -> bool:
        return bool(self._undo)


class Meta:
    """Small named values, one document {"key": ..., "value": ...} each."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, key: str, default: Any = None) -> Any:
        doc = self.table.get(key)
        return default if doc is None else doc.get("value", default)

    def set(self, key: str, value: Any) -> None:
        self.table.put(key, {"key": key, "value": value})

    def next_number(self, counter: str) -> int:
        """Advance a named counter (staged with everything else) and return its new value."""
        counters = dict(self.get("counters", {}))
        counters[counter] = int(counters.get(counter, 0)) + 1
        self.set("counters", counters)
        return int(counters[counter])
