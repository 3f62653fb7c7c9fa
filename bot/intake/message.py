"""The one normalised message type the bot reasons about, built from raw bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """An attachment's metadata; the bytes stay in the raw email kept with the case."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMail:
    """What intake reads from one email. Addresses are lower-cased bare addresses."""

    message_id: str  # angle brackets stripped; "" when the header is missing
    content_hash: str  # sha256 of the raw bytes, for dedupe when Message-ID is missing
    sender: str  # From address
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # best plain-text body (HTML converted when that is all there is)
    headers: tuple[tuple[str, str], ...]  # every header, in order, names as sent
    attachments: tuple[Attachment, ...] = ()
    defects: tuple[str, ...] = ()  # parser defects, for the audit trail
    raw_size: int = 0

    @property
    def dedupe_key(self) -> str:
        return f"mid:{self.message_id}" if self.message_id else f"sha256:{self.content_hash}"

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively; None when absent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def participants(self) -> tuple[str, ...]:
        return (self.sender, *self.to, *self.cc)


@dataclass(frozen=True)
class AutomatedVerdict:
    """Whether a message was written by a machine, and why we think so."""

    automated: bool
    kind: str = ""  # "auto-reply", "bounce", "delivery-report", "loop", "list" or ""
    reasons: tuple[str, ...] = ()
    failed_recipients: tuple[str, ...] = ()
    original_message_id: str = ""  # for bounces: the Message-ID of the mail that bounced
    extra: dict[str, str] = field(default_factory=dict)
