"""The limits on one incoming email: its size before it is read, its attachments' sizes and
the time its reading may take; an email over any of them is quarantined, never retried."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.classify.reading import Reading
from bot.config.settings import Limits
from bot.handling.time_limit import TimeLimited, TimeLimitExceeded
from bot.intake.parse import MailParseError

# Reads raw mail received at a moment into what intake makes of it (as in bot.handling.poll).
Read = Callable[[bytes, datetime], Reading]

MB = 1024 * 1024


def too_large(raw: bytes, limits: Limits) -> str:
    """Why the email is too large to read, or "" (backends that check first never get here)."""
    if len(raw) <= limits.max_message_mb * MB:
        return ""
    return (
        f"too large: {len(raw):,} bytes, over the limit of {limits.max_message_mb * MB:,} "
        f"({limits.max_message_mb} MB, limits.max_message_mb)"
    )


class LimitedReader:
    """`read` under `limits.max_read_seconds`, refusing attachments over their limit."""

    def __init__(self, read: Read, limits: Limits) -> None:
        self.read_mail = read
        self.limits = limits
        self.timer = TimeLimited(limits.max_read_seconds, name="mail-reader")

    def read(self, raw: bytes, received_at: datetime) -> Reading:
        try:
            reading = self.timer.run(lambda: self.read_mail(raw, received_at))
        except TimeLimitExceeded as err:
            raise MailParseError(f"{err} to read (limits.max_read_seconds)") from err
        except RecursionError as err:  # nesting deeper than the parser can follow
            raise MailParseError("nested too deeply to read") from err
        limit = self.limits.max_attachment_mb
        for attachment in reading.mail.attachments:
            if attachment.size > limit * MB:
                raise MailParseError(
                    f"attachment {attachment.filename[:80]!r} is {attachment.size / MB:.1f} MB, "
                    f"over the {limit} MB limit (limits.max_attachment_mb)"
                )
        return reading
