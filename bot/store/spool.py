"""Instructions from the dashboard to the daemon: a durable, owner-only drop folder.

The dashboard never writes the store (the daemon holds its lock). It drops each instruction
as one JSON file in `new/`, written whole or not at all; the daemon reads them at each poll,
carries each out through the command engine, records it as seen in the same commit as its
effects (so it happens once, whatever crashes), then moves it to `done/` with the result.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store.files import (
    atomic_write,
    dump_json,
    ensure_dir,
    fsync_dir,
    load_json,
    remove_durably,
)

log = logging.getLogger(__name__)

SPOOL_FOLDER = "instructions"
_ID = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{16}$")
MAX_LINES = 20
MAX_TEXT = 2000  # characters in one line or reason: a form field, not a document
KEEP_RESULTS = timedelta(days=30)


class SpoolError(ValueError):
    """An instruction file that cannot be read; the reason is safe to log and show."""


@dataclass(frozen=True)
class Instruction:
    """What a member of staff asked for on the dashboard, in the email command language."""

    id: str
    submitted_at: datetime
    by_id: str
    by_name: str
    by_address: str  # "" for the local operator of a dashboard without sign-in
    reference: str | None  # the case, or None for commands that need none (triage)
    lines: tuple[str, ...]  # one command per line, as an officer would write them
    reason: str = ""  # recorded on the case with the commands
    local: bool = False
    source: str = "dashboard"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "id": self.id,
            "submitted_at": self.submitted_at.isoformat(),
            "source": self.source,
            "by": {
                "id": self.by_id,
                "name": self.by_name,
                "address": self.by_address,
                "local": self.local,
            },
            "reference": self.reference,
            "lines": list(self.lines),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Any) -> Instruction:
        try:
            by = data["by"]
            found = cls(
                id=str(data["id"]),
                submitted_at=datetime.fromisoformat(str(data["submitted_at"])),
                by_id=str(by["id"]),
                by_name=str(by["name"]),
                by_address=str(by["address"]),
                reference=None if data["reference"] is None else str(data["reference"]),
                lines=tuple(str(line) for line in data["lines"]),
                reason=str(data.get("reason", "")),
                local=bool(by.get("local", False)),
                source=str(data.get("source", "dashboard")),
            )
        except (KeyError, TypeError, ValueError):
            raise SpoolError(
                "the instruction file is not laid out as the dashboard writes it"
            ) from None
        if data.get("version") != 1 or not _ID.match(found.id):
            raise SpoolError("the instruction file has an unknown version or id")
        if found.submitted_at.tzinfo is None:
            raise SpoolError("the instruction's time has no time zone")
        if not found.lines or len(found.lines) > MAX_LINES:
            raise SpoolError(f"an instruction has 1 to {MAX_LINES} lines")
        for text in (*found.lines, found.reason):
            if len(text) > MAX_TEXT or any(c in text for c in "\r\n\x00"):
                raise SpoolError("an instruction line is too long or holds a line break")
        return found


def new_id(at: datetime) -> str:
    """Sortable by time (UTC, to the microsecond), unguessable, and safe as a file name."""
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(8)}"


def one_line(text: str) -> str:
    """Form text made into one line: a line break in a reason must never start a command."""
    return " ".join(text.split())[:MAX_TEXT]


class Spool:
    """The drop folder: `new/` waiting, `done/` carried out (with results), `failed/` refused."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def beside(cls, store_directory: Path) -> Spool:
        return cls(Path(store_directory) / SPOOL_FOLDER)

    def _folder(self, name: str) -> Path:
        folder = self.directory / name
        ensure_dir(folder)
        return folder

    # -- the dashboard's side ---------------------------------------------------------------

    def submit(self, instruction: Instruction) -> None:
        """Durable on return: the daemon will see it even if this machine loses power now."""
        Instruction.from_json(instruction.to_json())  # refuse here what the daemon would
        path = self._folder("new") / f"{instruction.id}.json"
        atomic_write(path, dump_json(instruction.to_json()))

    def waiting(self, reference: str | None = None) -> list[Instruction]:
        """Instructions not carried out yet, oldest first (for one case, if given)."""
        found: list[Instruction] = []
        for path in self._files("new"):
            try:
                instruction = self.read(path)
            except SpoolError:
                continue
            if reference is None or instruction.reference == reference:
                found.append(instruction)
        return found

    def results(self, reference: str | None = None) -> list[dict[str, Any]]:
        """What became of carried-out or refused instructions, newest first."""
        found: list[dict[str, Any]] = []
        for folder in ("done", "failed"):
            for path in self._files(folder):
                try:
                    data = load_json(path.read_bytes())
                except (OSError, ValueError):
                    continue
                if isinstance(data, dict) and (
                    reference is None or data.get("reference") == reference
                ):
                    found.append(data)
        return sorted(found, key=lambda r: str(r.get("id", "")), reverse=True)

    # -- the daemon's side ------------------------------------------------------------------

    def files(self) -> list[Path]:
        """The waiting files, oldest first."""
        return self._files("new")

    def read(self, path: Path) -> Instruction:
        try:
            data = load_json(path.read_bytes())
        except OSError as exc:
            raise SpoolError(f"the instruction file could not be read: {exc.strerror}") from exc
        except ValueError as exc:
            raise SpoolError("the instruction file is not JSON") from exc
        instruction = Instruction.from_json(data)
        if path.stem != instruction.id:
            raise SpoolError("the instruction file's name does not match its id")
        return instruction

    def finish(self, instruction: Instruction, result: dict[str, Any]) -> None:
        """Keep the result for the dashboard, then take the instruction off the waiting list."""
        record = {**result, "id": instruction.id, "reference": instruction.reference}
        atomic_write(self._folder("done") / f"{instruction.id}.json", dump_json(record))
        remove_durably(self.directory / "new" / f"{instruction.id}.json")

    def reject(self, path: Path, reason: str) -> None:
        """Set aside an instruction that cannot be carried out, with why."""
        try:
            reference = self.read(path).reference
        except SpoolError:
            reference = None
        record = {"id": path.stem, "reference": reference, "outcome": "failed", "why": reason}
        target = self._folder("failed") / f"{path.stem}.json"
        atomic_write(target, dump_json(record))
        remove_durably(path)
        log.warning("dashboard instruction %s set aside: %s", path.stem, reason)

    def prune(self, now: datetime) -> None:
        """Forget results older than KEEP_RESULTS: the case timeline keeps the record."""
        cutoff = f"{(now - KEEP_RESULTS).astimezone(UTC):%Y%m%dT%H%M%S%f}"
        for folder in ("done", "failed"):
            old = [p for p in self._files(folder) if p.stem < cutoff]
            for path in old:
                os.unlink(path)
            if old:
                fsync_dir(self.directory / folder)

    def _files(self, folder: str) -> list[Path]:
        where = self.directory / folder
        if not where.is_dir():
            return []
        return sorted(p for p in where.glob("*.json") if _ID.match(p.stem))
