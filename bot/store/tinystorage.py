"""A tinydb Storage that stages every write in memory and reaches disk only on `flush()`."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.store.errors import StoreError
from bot.store.files import atomic_write, dump_json, read_json

Tables = dict[str, dict[str, Any]]
# Tables whose documents are kept as their encoded JSON, compressed (Packed), not as parsed
# dicts: open cases are the bulk of open.json (about 14 KB each), packed they take a fifth of
# that, are written out without encoding them again, and are parsed only when a case is used.
ENCODED = frozenset({"cases"})


class Packed:
    """One document's JSON, zlib-compressed while it waits in memory."""

    __slots__ = ("data",)

    def __init__(self, encoded: bytes) -> None:
        self.data = zlib.compress(encoded, 1)  # fastest level: the point is memory, not disk

    def json(self) -> bytes:
        return zlib.decompress(self.data)


_SPACE = re.compile(r"[ \t\n\r]*")


class CachedAtomicStorage(Storage):
    """open.json as tinydb sees it: read once, edited in memory, replaced atomically on flush."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._data: Tables = load_tables(self.path, ENCODED)

    def read(self) -> Tables:
        # The cache itself, not a copy: the store's indexes edit these tables in place.
        return self._data

    def write(self, data: Tables) -> None:
        self._data = data

    def flush(self) -> None:
        """The commit point: one atomic replace of the whole file."""
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only")
        atomic_write(self.path, dump_tables(self._data))

    def reload(self) -> None:
        """Drop everything staged and read the last committed state back."""
        self._data = load_tables(self.path, ENCODED)

    def close(self) -> None:
        pass


def dump_tables(data: Tables) -> Iterator[bytes]:
    """tinydb's layout as pieces to write in order, made as they are written (a packed case is
    unpacked only for its own write, never all at once); encoded tables go last, one document
    a line, so `load_tables` can read them back a line at a time."""
    yield b"{"
    ordered = sorted(data.items(), key=lambda item: item[0] in ENCODED)
    for number, (name, table) in enumerate(ordered):
        yield b"," if number else b""
        yield dump_json(name) + b":{"
        lines = name in ENCODED
        for index, (doc_id, doc) in enumerate(table.items()):
            yield (b"," if index else b"") + (b"\n" if lines else b"")
            yield dump_json(doc_id) + b":"
            yield _encoded(doc)
        yield b"\n}" if lines else b"}"
    yield b"}"


def _encoded(doc: Any) -> bytes:
    if isinstance(doc, Packed):
        return doc.json()
    return doc if isinstance(doc, bytes) else dump_json(doc)


def _load_lines(path: Path, encoded: frozenset[str]) -> Tables | None:
    """open.json as `dump_tables` lays it out, read a line at a time so the whole file is
    never in memory; None when the file is laid out otherwise (then it is read whole)."""
    with path.open("rb") as handle:
        head = handle.readline().rstrip(b"\r\n")
        name = next((n for n in encoded if head.endswith(b"," + dump_json(n) + b":{")), None)
        if name is None:
            return None
        data: Tables = json.loads(head + b"}}")
        table: dict[str, Any] = {}
        for line in handle:
            line = line.rstrip(b"\r\n").removesuffix(b",")
            if line == b"}}":
                data[name] = table
                return data
            key, _, doc = line.partition(b":")
            # Not parsed here: the store's table index parses each document once, and that
            # is where a document that is not a JSON object is refused.
            table[json.loads(key)] = Packed(doc)
    raise ValueError(f"{path} ends inside the {name} table")


def load_tables(path: Path, encoded: frozenset[str] = frozenset()) -> Tables:
    """Read open.json, refusing anything that is not tinydb's table layout; the documents of
    `encoded` tables stay as their JSON bytes (each is parsed once, to check it)."""
    if not path.exists():
        return {}
    if not encoded:
        return _checked(path, read_json(path))
    try:
        lines = _load_lines(path, encoded)
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(
            f"{path} is not valid JSON ({exc}); it was left untouched: {_FIX}"
        ) from exc
    if lines is not None:
        return _checked(path, lines)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
        del raw
        data = _scan(text, encoded)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(
            f"{path} is not valid JSON ({exc}); it was left untouched: {_FIX}"
        ) from exc
    return _checked(path, data)


def _checked(path: Path, data: Any) -> Tables:
    if not isinstance(data, dict):
        raise StoreError(f"{path} does not hold tinydb tables; it was left untouched: {_FIX}")
    for name, table in data.items():
        if not isinstance(table, dict) or not all(
            isinstance(doc, (dict, Packed)) and doc_id.isdigit() for doc_id, doc in table.items()
        ):
            raise StoreError(f"{path}: table {name!r} is damaged; it was left untouched: {_FIX}")
    return data


def _scan(text: str, encoded: frozenset[str]) -> Any:
    """Parse the top level by hand so an encoded table's documents are sliced out one at a
    time, never all held as dicts at once (peak memory at start-up)."""
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        match = _SPACE.match(text, i)
        assert match is not None
        return match.end()

    def expect(i: int, char: str) -> int:
        i = skip(i)
        if text[i : i + 1] != char:
            raise ValueError(f"expected {char!r} at character {i}")
        return i + 1

    def members(i: int, value: Any) -> tuple[dict[str, Any], int]:
        """An object's members from after its "{", each value read by `value`."""
        found: dict[str, Any] = {}
        i = skip(i)
        if text[i : i + 1] == "}":
            return found, i + 1
        while True:
            key, i = decoder.raw_decode(text, skip(i))
            if not isinstance(key, str):
                raise ValueError(f"object key expected at character {i}")
            found[key], i = value(key, expect(i, ":"))
            i = skip(i)
            if text[i : i + 1] == "}":
                return found, i + 1
            i = expect(i, ",")

    def document(_: str, i: int) -> tuple[Any, int]:
        start = skip(i)
        doc, end = decoder.raw_decode(text, start)
        return (Packed(text[start:end].encode("utf-8")) if isinstance(doc, dict) else doc), end

    def table(name: str, i: int) -> tuple[Any, int]:
        i = skip(i)
        if name in encoded and text[i : i + 1] == "{":
            return members(i + 1, document)
        return decoder.raw_decode(text, i)

    i = skip(0)
    if text[i : i + 1] != "{":
        return decoder.raw_decode(text, i)[0]  # not tables: refused by the caller
    data, i = members(i + 1, table)
    if skip(i) != len(text):
        raise ValueError(f"extra data at character {skip(i)}")
    return data


_FIX = "restore it from a backup or move it aside"
