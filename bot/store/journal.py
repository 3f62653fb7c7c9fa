"""Write-ahead journal for the append-only JSON Lines files (audit, seen keys, sent, triage)."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bot.store.errors import StoreError
from bot.store.files import (
    append_bytes,
    drop_partial_tail,
    dump_json,
    ensure_dir,
    last_json_line,
    read_json_lines,
)

SEEN_FILE = "seen/seen.jsonl"
SENT_FILE = "outbox/sent.jsonl"
TRIAGE_FILE = "triage/resolved.jsonl"
# Journal records name their target file; only these may be appended to.
_TARGET = re.compile(r"^(audit/\d{4}-\d{2}|seen/seen|outbox/sent|triage/resolved)\.jsonl$")

# A record is {"file": <relative path>, "line": {... "seq": n}}; seq rises per file.
Record = dict[str, Any]


def audit_file(month: str) -> str:
    return f"audit/{month}.jsonl"


def make_record(file: str, line: dict[str, Any], seq: int) -> Record:
    return {"file": file, "line": {**line, "seq": seq}}


def checked_records(table: dict[str, Any], source: Path) -> list[Record]:
    """The journal table of open.json in commit order, refusing anything malformed."""
    records: list[Record] = []
    for doc_id in sorted(table, key=int):
        record = table[doc_id]
        line = record.get("line")
        if (
            not isinstance(record.get("file"), str)
            or not _TARGET.match(record["file"])
            or not isinstance(line, dict)
            or not isinstance(line.get("seq"), int)
        ):
            raise StoreError(f"{source}: journal entry {doc_id} is damaged; restore from a backup")
        records.append(record)
    return records


def _by_file(records: Iterable[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(record["file"], []).append(record)
    return grouped


def _last_seq(path: Path) -> int:
    line = last_json_line(path)
    seq = line.get("seq") if line else None
    return seq if isinstance(seq, int) else 0


def unwritten(root: Path, records: Iterable[Record]) -> list[Record]:
    """Records not yet in their files: appends are in seq order, so a file's tail tells."""
    missing: list[Record] = []
    for file, group in _by_file(records).items():
        last = _last_seq(root / file)
        missing.extend(r for r in group if r["line"]["seq"] > last)
    return missing


def write_records(root: Path, records: Iterable[Record]) -> None:
    """Append what is missing and fsync; safe to repeat after a crash or a failed attempt."""
    for file, group in _by_file(records).items():
        path = root / file
        ensure_dir(path.parent)
        drop_partial_tail(path)
        last = _last_seq(path)
        fresh = [dump_json(r["line"]) + b"\n" for r in group if r["line"]["seq"] > last]
        if fresh:
            append_bytes(path, b"".join(fresh))


def audit_lines(root: Path, pending: list[Record]) -> Iterator[dict[str, Any]]:
    """Every audit entry in seq order: the month files merged, then what is not yet in them."""
    not_in_files = unwritten(root, (r for r in pending if r["file"].startswith("audit/")))
    files = sorted((root / "audit").glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].jsonl"))
    streams = [read_json_lines(path) for path in files]
    yield from heapq.merge(*streams, key=lambda line: int(line.get("seq", 0)))
    yield from sorted((r["line"] for r in not_in_files), key=lambda line: int(line["seq"]))
