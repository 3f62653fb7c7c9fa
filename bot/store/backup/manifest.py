"""The manifest at the end of a backup: versions, what the store held, a sha256 per file."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.store.backup.history import last_seq
from bot.store.backup.layout import FORMAT, FORMAT_VERSION, KINDS, counter_of
from bot.store.errors import BackupError
from bot.store.files import dump_json, load_json
from bot.store.journal import checked_records
from bot.store.storage import ChangesStorage
from bot.store.tables import Table

RAW = re.compile(r"^raw/[0-9a-f]{2}/[0-9a-f]{64}\.eml$")
CLOSED = re.compile(r"^closed/\d{4}/[^/]+\.json$")


@dataclass
class Manifest:
    """What a backup says it holds; restore checks the files and the restored store by it."""

    schema_version: int
    bot_version: str
    created_at: str
    source: str  # the store folder it was made from
    counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> sha256, size

    def to_json(self) -> bytes:
        return dump_json({"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)})

    @classmethod
    def parse(cls, data: bytes, file: Path) -> Manifest:
        try:
            found = load_json(data)
            if found.get("format") != FORMAT:
                raise ValueError("not this bot's manifest")
            if found.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"{file} was made by a newer version of the bot (backup format "
                    f"{found.get('format_version')!r}; this one reads {FORMAT_VERSION}): "
                    "restore it with that version or a later one"
                )
            manifest = cls(**{k: v for k, v in found.items() if not k.startswith("format")})
            if not isinstance(manifest.schema_version, int) or not all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str)
                for v in manifest.files.values()
            ):
                raise ValueError("damaged")
            return manifest
        except (ValueError, TypeError, AttributeError) as exc:
            raise BackupError(
                f"{file} has a damaged manifest ({exc}); it was not restored"
            ) from None


def tally(
    tables: dict[str, Table],
    history: dict[str, tuple[int, int]],
    files: dict[str, Any],
    source: Path,
) -> dict[str, int]:
    """What a store holds once it has opened: cases, letters, history lines. `history` gives
    each history file's (lines, seq of the last one); committed lines that did not reach their
    file yet are in the journal table, and the store appends them when it opens."""
    counts = {
        "open_cases": len(tables["cases"]),
        "closed_case_files": sum(1 for name in files if CLOSED.match(name)),
        "outbox_pending": len(tables["outbox"]),
        "triage_open": len(tables["triage"]),
        "raw_files": sum(1 for name in files if RAW.match(name)),
        **{kind: 0 for kind in KINDS.values()},
    }
    for name, (lines, _) in history.items():
        counts[KINDS[counter_of(name) or ""]] += lines
    for record in checked_records(tables["journal"].docs, source):
        if record["line"]["seq"] > history.get(record["file"], (0, 0))[1]:
            counts[KINDS[counter_of(record["file"]) or ""]] += 1
    return counts


def tally_folder(directory: Path) -> dict[str, int]:
    """The same counts of a store folder as it is on disk (a restored one)."""
    reader = ChangesStorage(directory / "open.json", read_only=True)
    try:
        names = [p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()]
        history = {name: last_seq(directory / name) for name in names if counter_of(name)}
        return tally(reader.tables, history, dict.fromkeys(names), reader.path)
    finally:
        reader.close()
