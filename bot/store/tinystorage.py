"""A tinydb Storage that stages every write in memory and reaches disk only on `flush()`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.store.errors import StoreError
from bot.store.files import atomic_write, dump_json, read_json

Tables = dict[str, dict[str, Any]]


class CachedAtomicStorage(Storage):
    """open.json as tinydb sees it: read once, edited in memory, replaced atomically on flush."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._data: Tables = load_tables(self.path)

    def read(self) -> Tables:
        # The cache itself, not a copy: the store's indexes edit these tables in place.
        return self._data

    def write(self, data: Tables) -> None:
        self._data = data

    def flush(self) -> None:
        """The commit point: one atomic replace of the whole file."""
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only")
        atomic_write(self.path, dump_json(self._data))

    def reload(self) -> None:
        """Drop everything staged and read the last committed state back."""
        self._data = load_tables(self.path)

    def close(self) -> None:
        pass


def load_tables(path: Path) -> Tables:
    """Read open.json, refusing anything that is not tinydb's table layout."""
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise StoreError(f"{path} does not hold tinydb tables; it was left untouched: {_FIX}")
    for name, table in data.items():
        if not isinstance(table, dict) or not all(
            isinstance(doc, dict) and doc_id.isdigit() for doc_id, doc in table.items()
        ):
            raise StoreError(f"{path}: table {name!r} is damaged; it was left untouched: {_FIX}")
    return data


_FIX = "restore it from a backup or move it aside"
