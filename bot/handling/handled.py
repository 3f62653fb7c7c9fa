"""What became of one email, as the handler reports it to the poll and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Handled:
    """What became of one email, for the audit trail."""

    outcome: str  # opened, applied, filed, triaged, automated, commands, refused
    reference: str | None = None
    detail: str = ""
    quarantine: str = ""  # set when the email must leave the inbox to quarantine, and why
