"""What the command parser returns: the commands found, and the lines it could not use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """One instruction from an officer; `line`/`lineno` say where in the new text it was."""

    name: str
    args: dict[str, Any]
    line: str
    lineno: int  # 1-based, counted in the new part of the email (quoted text removed)


@dataclass(frozen=True)
class ParsedCommands:
    """Everything read from one email, Mailman-style: results, not understood, ignored."""

    commands: tuple[Command, ...]
    not_understood: tuple[str, ...]
    ignored: tuple[str, ...]
    case_reference: str | None  # from a "case CC-2026-0042" / "ref: CC-2026-0042" line
