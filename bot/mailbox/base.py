"""The narrow mailbox interface every backend implements, and the values it passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class IncomingMail:
    """One message as the backend holds it: its own id, when it arrived, the raw RFC 5322 bytes."""

    backend_id: str
    received_at: datetime
    raw: bytes


@dataclass(frozen=True)
class CalendarEntry:
    """A dated entry for the team calendar; `uid` is stable so a moved date updates one entry."""

    uid: str
    day: date
    title: str
    description: str
    case_reference: str


@dataclass(frozen=True)
class SentRecord:
    """What a backend reports after sending: where the copy was kept."""

    message_id: str
    location: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Mailbox(Protocol):
    """The only thing the bot knows about a mail system.

    Messages are fetched, then either marked processed or quarantined, only after
    the case change they caused has been stored.
    """

    address: str

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        """Messages in the inbox received at or after `since` and not yet processed."""
        ...

    def mark_processed(self, backend_id: str) -> None:
        """Move a handled message out of the inbox (to Processed)."""
        ...

    def quarantine(self, backend_id: str, reason: str) -> None:
        """Move an unreadable or rejected message aside, keeping it whole, with the reason."""
        ...

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        """Send a complete RFC 5322 message and keep a copy in Sent."""
        ...

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        """Shadow mode: keep the message in a review folder instead of sending it."""
        ...

    def already_sent(self, message_id: str) -> bool:
        """Whether a message with this Message-ID is already in Sent (or the review folder)."""
        ...

    def diarise(self, entry: CalendarEntry) -> None:
        """Put (or move) a dated entry in the team calendar."""
        ...

    def save_file(self, name: str, content: bytes) -> str:
        """Save a document (a closure report) to the shared drive; return where it went."""
        ...
