"""Closed cases, one file each under `closed/<year>/<REF>.json`, out of the hot path."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from bot.store.errors import StoreError
from bot.store.files import atomic_write, dump_json, ensure_dir, read_json, remove_durably

_REFERENCE = re.compile(r"^[A-Za-z]+-(?P<year>\d{4})-\d+$")
# A case's own closing time is the last key of its file (dump_json keeps the model's order).
_CLOSED_AT = re.compile(rb'"closed_at":"(\d{4}-\d{2}-\d{2})T[^"]*"\}\s*$')
_TAIL = 80


def check_reference(reference: object) -> str:
    """A case reference like CC-2026-0042; anything else could escape the archive folder."""
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ValueError(f"case reference {reference!r} is not of the form CC-2026-0042")
    return reference


def read_closed_since(path: Path, since: date | None) -> bytes | None:
    """The file's bytes, or None when its tail shows the case closed before `since`.

    Anything unexpected at the tail (another layout) reads the whole file: skipping is only
    ever an optimisation, and the caller judges what it reads.
    """
    with path.open("rb") as handle:
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

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, reference: str) -> Path:
        match = _REFERENCE.match(check_reference(reference))
        assert match is not None
        return self.root / match["year"] / f"{reference}.json"

    def write(self, case: dict[str, Any]) -> None:
        path = self.path_for(case["reference"])
        ensure_dir(path.parent)
        atomic_write(path, dump_json(case))

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

    def files(self) -> list[tuple[str, Path]]:
        """(reference, path) of every archived case, for readers that go through them all."""
        if not self.root.is_dir():
            return []
        return [(path.stem, path) for path in self.root.glob("[0-9][0-9][0-9][0-9]/*.json")]

    def references(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {path.stem for path in self.root.glob("[0-9][0-9][0-9][0-9]/*.json")}
