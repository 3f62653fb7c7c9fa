"""Closed cases, one file each under `closed/<year>/<REF>.json`, out of the hot path, and an
index of their briefs (bot.store.closed_index) so that reports need not open them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from bot.store.closed_index import index_line, read_index
from bot.store.errors import StoreError
from bot.store.files import (
    append_bytes,
    atomic_write,
    drop_partial_tail,
    dump_json,
    ensure_dir,
    read_json,
    remove_durably,
)

_REFERENCE = re.compile(r"^[A-Za-z]+-(?P<year>\d{4})-\d+$")
_YEAR = re.compile(r"^\d{4}$")
# A case's own closing time is the last key of its file (dump_json keeps the model's order).
_CLOSED_AT = re.compile(rb'"closed_at":"(\d{4}-\d{2}-\d{2})T[^"]*"\}\s*$')
_TAIL = 80
_INDEX_BATCH = 1000


def check_reference(reference: object) -> str:
    """A case reference like CC-2026-0042; anything else could escape the archive folder."""
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ValueError(f"case reference {reference!r} is not of the form CC-2026-0042")
    return reference


def read_closed_since(path: str | Path, since: date | None) -> bytes | None:
    """The file's bytes, or None when its tail shows the case closed before `since`.

    Anything unexpected at the tail (another layout) reads the whole file: skipping is only
    ever an optimisation, and the caller judges what it reads.
    """
    with open(path, "rb") as handle:
        if since is not None:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - _TAIL, 0))
            match = _CLOSED_AT.search(handle.read())
            if match is not None and date.fromisoformat(match[1].decode()) < since:
                return None
            handle.seek(0)
        return handle.read()


class ClosedArchive:
    """Reads and writes archived cases; every write is atomic and owner-only."""

    def __init__(self, root: Path, index: Path) -> None:
        self.root = root
        self.index_path = index  # the cache of closed cases' briefs (closed_index.py)

    def path_for(self, reference: str) -> Path:
        match = _REFERENCE.match(check_reference(reference))
        assert match is not None
        return self.root / match["year"] / f"{reference}.json"

    def write(self, case: dict[str, Any]) -> None:
        path = self.path_for(case["reference"])
        ensure_dir(path.parent)
        atomic_write(path, dump_json(case))

    def write_all(self, cases: Iterable[dict[str, Any]]) -> None:
        """Archive each case, then index their briefs in one durable append. A crash between
        the two leaves files the index lacks: readers read those files instead."""
        lines = []
        for case in cases:
            self.write(case)
            lines.append(index_line(case))
        if lines:
            self._append_index(lines)

    def _append_index(self, lines: list[bytes]) -> None:
        path = self.index_path
        ensure_dir(path.parent)
        drop_partial_tail(path)  # a line half-written by a crash is dropped, not extended
        append_bytes(path, b"".join(lines))

    def has_index(self) -> bool:
        return self.index_path.exists()

    def index(
        self, closed_since: date | None = None, received_by: date | None = None
    ) -> dict[str, bytes | None]:
        """The briefs of indexed cases (None: skipped by those days; see read_index)."""
        return read_index(self.index_path, closed_since, received_by)

    def rebuild_index(self) -> int:
        """Index every archived case (a store from before the index); how many were. Appended
        a thousand lines at a time: tens of thousands of briefs need not be in memory at once."""
        remove_durably(self.index_path)
        lines: list[bytes] = []
        count = 0
        for reference, _ in sorted(self.files()):
            try:
                case = self.read(reference)
            except (StoreError, ValueError):
                continue  # left to whoever reads it, as before the index
            if case is not None:
                lines.append(index_line(case))
                count += 1
            if len(lines) >= _INDEX_BATCH:
                self._append_index(lines)
                lines = []
        if lines:
            self._append_index(lines)
        return count

    def read(self, reference: str) -> dict[str, Any] | None:
        path = self.path_for(reference)
        if not path.exists():
            return None
        case = read_json(path)
        if not isinstance(case, dict) or case.get("reference") != reference:
            raise StoreError(f"{path} does not hold case {reference}; restore it from a backup")
        return case

    def remove(self, reference: str) -> bool:
        """Drop the archived copy (the case is open again); True if there was one."""
        return remove_durably(self.path_for(reference))

    def files(self) -> list[tuple[str, str]]:
        """(reference, path) of every archived case, for readers that go through them all."""
        # os.scandir and plain paths, not glob and Path: a report lists tens of thousands.
        found: list[tuple[str, str]] = []
        try:
            with os.scandir(self.root) as entries:
                years = [e for e in entries if _YEAR.match(e.name) and e.is_dir()]
        except FileNotFoundError:
            return []
        for year in years:
            with os.scandir(year.path) as entries:
                found.extend(
                    (entry.name[:-5], entry.path)
                    for entry in entries
                    if entry.name.endswith(".json") and not entry.name.startswith(".")
                )
        return found

    def references(self) -> set[str]:
        return {reference for reference, _ in self.files()}
