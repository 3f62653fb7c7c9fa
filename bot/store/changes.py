"""The changes file: each commit appended as the documents it changed, closed by a checked mark.

A commit is one line per changed document, `{"c":N,"t":TABLE,"k":KEY,"d":DOC}` (DOC null for
a removal), then `{"c":N,"n":LINES,"crc":CRC32}` over those lines. It counts only once its
mark is there and right: a crash or a power cut mid-append leaves a tail without one, which
readers ignore and the writer cuts off. A bad commit followed by a good mark is damage.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bot.store.files import dump_json, load_json

_CHANGE = re.compile(rb'\{"c":(\d+),"t":"([a-z]+)","k":("(?:[^"\\]|\\.)*"),"d":')
_MARK = re.compile(rb'\{"c":(\d+),"n":(\d+),"crc":"([0-9a-f]{8})"\}\n')


@dataclass(frozen=True)
class Change:
    """One changed document: its JSON (None when removed) and where that JSON sits."""

    commit: int
    table: str
    key: str
    doc: bytes | None
    offset: int  # in the file, of the document's JSON


class Damaged(ValueError):
    """The file has a bad commit before a good one: not a torn append, so not to be cut."""


def encode_commit(
    number: int, changes: Iterable[tuple[str, str, bytes | None]], start: int
) -> tuple[bytes, list[Change]]:
    """One commit's bytes, and each document's place once they are appended at `start`."""
    lines: list[bytes] = []
    placed: list[Change] = []
    crc = 0
    at = start
    for table, key, doc in changes:
        prefix = b'{"c":%d,"t":"%s","k":%s,"d":' % (number, table.encode(), dump_json(key))
        line = prefix + (b"null" if doc is None else doc) + b"}\n"
        placed.append(Change(number, table, key, doc, at + len(prefix)))
        crc = zlib.crc32(line, crc)
        at += len(line)
        lines.append(line)
    lines.append(b'{"c":%d,"n":%d,"crc":"%08x"}\n' % (number, len(lines), crc))
    return b"".join(lines), placed


@dataclass
class Scan:
    """What a read of the file found: the commits in order, and where the good part ends."""

    commits: list[list[Change]]
    end: int  # bytes from the start that hold whole, checked commits
    last: int  # the number of the last good commit (0: none)


def scan(handle: BinaryIO, start: int = 0, last: int = 0) -> Scan:
    """Read whole commits from `start` (the file positioned there) to the end of the file."""
    found = Scan([], start, last)
    pending: list[Change] = []
    crc = 0
    at = start
    lines = iter(handle.readline, b"")
    for line in lines:
        if not line.endswith(b"\n"):
            # The end of the file as it was read: an append in progress, or one a crash cut
            # short. Read again now, it may have gone on: it is never damage.
            return found
        mark = _MARK.fullmatch(line)
        if mark is not None:
            number = int(mark[1])
            good = (
                number > found.last
                and int(mark[2]) == len(pending)
                and int(mark[3], 16) == crc
                and all(change.commit == number for change in pending)
            )
            if not good:
                _refuse_if_more(lines, at)
                return found
            found.commits.append(pending)
            found.last = number
            found.end = at + len(line)
            pending, crc = [], 0
        else:
            change = _change(line, at, found.last)
            if change is None:
                _refuse_if_more(lines, at)
                return found
            pending.append(change)
            crc = zlib.crc32(line, crc)
        at += len(line)
    return found


def _change(line: bytes, at: int, last: int) -> Change | None:
    match = _CHANGE.match(line)
    if match is None or not line.endswith(b"}\n") or int(match[1]) <= last:
        return None
    doc: bytes | None = line[match.end() : -2]
    if doc == b"null":
        doc = None
    elif not doc or doc[:1] != b"{":
        return None
    try:
        key = load_json(match[3])
    except ValueError:
        return None
    if not isinstance(key, str):
        return None
    return Change(int(match[1]), match[2].decode(), key, doc, at + match.end())


def _refuse_if_more(lines: Iterator[bytes], at: int) -> None:
    """A torn tail has no good mark after it; anything else means the file is damaged."""
    for line in lines:
        if _MARK.fullmatch(line):
            raise Damaged(f"a commit at byte {at} is damaged but later ones are whole")
