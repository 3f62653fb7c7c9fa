"""open.json, the checkpoint: every table in tinydb's layout, open cases one a line at the end.

The first line holds the small tables; then each open case is a line `"<id>":<case>,` so the
store reads a case's place, not the case, when it opens. The checkpoint is written whole
(atomically) only when the changes since it are compacted into a new one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.store.bulk import collector_paused
from bot.store.errors import StoreError
from bot.store.files import atomic_write, dump_json, load_json
from bot.store.segments import DocRef, Segment, Stored, encoded
from bot.store.tables import KEY_FIELDS

CASES = "cases"
_FIX = "restore it from a backup or move it aside"
PLACES = "_places"  # the checkpoint's index of where each open case's line is
_PIECE = 1 << 22  # bytes read at once for the first line
_END = b"\n}}"
_ID = re.compile(rb'"(\d+)":')
# An open case's line starts with its reference, as the store writes cases (else it is parsed).
_REFERENCE = re.compile(rb'\{"reference":"([A-Za-z]+-\d{4}-\d+)"')

Docs = dict[str, dict[str, Any]]  # table -> key -> document (a case: its place or its JSON)


def damaged(path: Path, what: str) -> StoreError:
    return StoreError(f"{path} {what}; it was left untouched: {_FIX}")


def load_checkpoint(path: Path, segment: Segment) -> Docs:
    """Every table of open.json by key; open cases as their places in `segment`."""
    try:
        with os.fdopen(os.dup(segment.fd or -1), "rb") as handle:
            head = _head(segment)
            if head is None:
                handle.seek(0)
                return _whole(path, handle.read())
            text, length, body = head
            handle.seek(length)  # where the open cases' lines start (first layout: read)
            with collector_paused():  # tens of thousands of small objects, all kept
                data = load_json(text)
            del text
            places = data.pop(PLACES, None) if isinstance(data, dict) else None
            tables = _tables(path, data)
            cases = _placed(path, segment, places, body)
            tables[CASES] = cases if cases is not None else _case_lines(path, segment, handle)
            return tables
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise damaged(path, f"is not valid JSON ({exc})") from exc


def _head(segment: Segment) -> tuple[str, int, int] | None:
    """The first line closed as a JSON document, its length with its line end and without;
    None for the one-line layout of early versions.

    The line holds every open case's summary and brief, megabytes of them: it is read in large
    pieces and made into text with as few copies as can be (a buffered readline, a strip and
    a join would each copy it again)."""
    assert segment.fd is not None
    pieces: list[bytes] = []
    offset = 0
    while True:
        piece = os.pread(segment.fd, _PIECE, offset)
        newline = piece.find(b"\n")
        if newline >= 0 or not piece:
            pieces.append(piece[:newline] if newline >= 0 else piece)
            break
        pieces.append(piece)
        offset += len(piece)
    length = offset + (newline + 1 if newline >= 0 else len(piece))
    body = sum(len(p) for p in pieces)  # the line without its line end
    while len(pieces) > 1 and not pieces[-1]:
        pieces.pop()
    if pieces[-1].endswith(b"\r"):
        pieces[-1] = pieces[-1][:-1]
        body -= 1
    pieces.append(b"}}")
    document = b"".join(pieces)
    del pieces
    if not document.endswith(b'"cases":{}}'):
        return None
    return document.decode("utf-8"), length, body


def _placed(path: Path, segment: Segment, places: Any, base: int) -> dict[str, Any] | None:
    """The open cases where the checkpoint's own index says they are, without reading them;
    None when there is no index or it does not fit the file (then the lines are read)."""
    if not isinstance(places, dict):
        return None
    cases: dict[str, Any] = {}
    end = 0
    for doc_id in sorted(places, key=lambda d: int(d) if d.isdigit() else 0):
        place = places[doc_id]
        reference, offset, length = (place.get(k) for k in ("reference", "offset", "length"))
        if not (isinstance(reference, str) and isinstance(offset, int) and isinstance(length, int)):
            return None
        cases[reference] = DocRef(segment, base + offset, length)
        end = offset + length
    size = os.fstat(segment.fd or -1).st_size
    tail = segment.read(size - len(_END), len(_END)) if size >= len(_END) else b""
    if size != base + end + len(_END) or tail != _END or len(cases) != len(places):
        return None
    return cases


def _case_lines(path: Path, segment: Segment, handle: Any) -> dict[str, Any]:
    """The open cases found by reading every line: checkpoints of the first layout."""
    at = handle.tell()
    cases: dict[str, Any] = {}
    for line in iter(handle.readline, b""):
        body = line.rstrip(b"\r\n")
        if body == b"}}":
            return cases
        if body.endswith(b","):
            body = body[:-1]
        match = _ID.match(body)
        doc = body[match.end() :] if match else b""
        if not doc.startswith(b"{") or not doc.endswith(b"}"):
            raise damaged(path, f"has an open case at byte {at} that is not a JSON object")
        found = _REFERENCE.match(doc)
        reference = found[1].decode() if found else _reference_of(path, doc, at)
        if reference in cases:
            raise damaged(path, f"holds case {reference} twice")
        cases[reference] = DocRef(segment, at + (match.end() if match else 0), len(doc))
        at += len(line)
    raise damaged(path, "ends inside the cases table")


def _reference_of(path: Path, doc: bytes, at: int) -> str:
    try:
        value = load_json(doc)
    except ValueError:
        value = None
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str):
        raise damaged(path, f"has an open case at byte {at} that is not a JSON object")
    return reference


def _whole(path: Path, raw: bytes) -> Docs:
    """The one-line layout of early versions: read whole, cases kept as their JSON."""
    data = load_json(raw)
    tables = _tables(
        path, {k: v for k, v in data.items() if k != CASES} if isinstance(data, dict) else data
    )
    cases = data.get(CASES, {}) if isinstance(data, dict) else {}
    if not isinstance(cases, dict):
        raise damaged(path, "does not hold tinydb tables")
    tables[CASES] = {}
    for doc_id in sorted(cases, key=lambda d: int(d) if d.isdigit() else 0):
        doc = cases[doc_id]
        reference = doc.get("reference") if isinstance(doc, dict) else None
        if not isinstance(reference, str) or reference in tables[CASES]:
            raise damaged(path, f"has an open case ({doc_id}) that is not a JSON object")
        tables[CASES][reference] = dump_json(doc)
    return tables


def _tables(path: Path, data: Any) -> Docs:
    """tinydb tables (doc id -> document) as the store keeps them (key -> document)."""
    if not isinstance(data, dict):
        raise damaged(path, "does not hold tinydb tables")
    tables: Docs = {}
    for name, table in data.items():
        field = KEY_FIELDS.get(name)
        if name not in KEY_FIELDS:
            raise StoreError(
                f"{path} has unknown tables [{name!r}]; it was left untouched: "
                "is this directory another program's data?"
            )
        if not isinstance(table, dict) or not all(
            isinstance(doc, dict) and str(doc_id).isdigit() for doc_id, doc in table.items()
        ):
            raise damaged(path, f"has a damaged table {name!r}")
        keyed: dict[str, Any] = {}
        for doc_id in sorted(table, key=int):
            doc = table[doc_id]
            key = doc_id if name == "journal" else doc.get(field)
            if not isinstance(key, str) or key in keyed:
                raise damaged(path, f"has document {doc_id} of {name!r} without a unique {field!r}")
            keyed[key] = doc
        tables[name] = keyed
    return tables


def write_checkpoint(path: Path, tables: Docs) -> dict[str, tuple[int, int]]:
    """Replace open.json atomically with `tables`; each case's (offset, length) in it."""
    places: dict[str, tuple[int, int]] = {}
    atomic_write(path, _pieces(tables, places))
    return places


def _pieces(tables: Docs, places: dict[str, tuple[int, int]]) -> Iterator[bytes]:
    """The first line holds the small tables and an index of where each open case will be
    (from the end of that line), so opening the store reads that line, not every case."""
    cases: dict[str, Stored] = tables.get(CASES, {})
    index: dict[str, Any] = {}
    at = 0
    for number, (reference, doc) in enumerate(cases.items(), start=1):
        length = doc.length if isinstance(doc, DocRef) else len(doc)
        at += len(_prefix(number))
        index[str(number)] = {"reference": reference, "offset": at, "length": length}
        at += length
    small = {name: docs for name, docs in tables.items() if name != CASES}
    head = b"{" + b",".join(dump_json(name) + b":" + _table(docs) for name, docs in small.items())
    head += (b"," if small else b"") + dump_json(PLACES) + b":" + dump_json(index)
    head += b',"cases":{'
    yield head
    for number, (reference, doc) in enumerate(cases.items(), start=1):
        place = index[str(number)]
        body = encoded(doc)
        if len(body) != place["length"]:
            raise StoreError(f"case {reference} changed length while the checkpoint was written")
        places[reference] = (len(head) + place["offset"], len(body))
        yield _prefix(number) + body
    yield _END


def _prefix(number: int) -> bytes:
    return (b"," if number > 1 else b"") + b'\n"%d":' % number


def _table(docs: dict[str, Any]) -> bytes:
    return (
        b"{"
        + b",".join(
            b'"%d":' % number + dump_json(doc) for number, doc in enumerate(docs.values(), start=1)
        )
        + b"}"
    )
