"""The narrow mailbox interface every backend implements, and the values it passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class MailboxError(Exception):
    """A mail system call failed; nothing the bot staged for it has been committed."""


class MailboxUnavailable(MailboxError):
    """The server could not be reached or is busy: the next poll tries again."""


class MailboxAuthError(MailboxError):
    """Logging in failed (a bad secret, an expired certificate, consent withdrawn): an
    administrator must act, so the daemon reports it at once instead of retrying quietly."""


class MailboxState(Protocol):
    """Where a backend keeps its checkpoint (delta link, sync state, last UID).

    Values set here are staged in the store and become durable with the same commit as the
    case changes the fetched mail caused, so a crash never loses mail between the two.
    """

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class IncomingMail:
    """One message as the backend holds it: its own id, when it arrived, the raw RFC 5322 bytes."""

    backend_id: str
    received_at: datetime
    raw: bytes
    # What the server knows beside the bytes (Graph's conversation id, EWS change key, IMAP
    # UID validity); for diagnostics and replies, never needed to read the mail.
    meta: dict[str, str] = field(default_factory=dict)
    # Why the backend left it unread (not a regular file, over limits.max_message_mb): raw is
    # then empty and the poll quarantines it with this reason. "" for every readable message.
    refused: str = ""


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
