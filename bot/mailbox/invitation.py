"""iCalendar invitations to the team address, for backends whose mail system has no calendar."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import icalendar

from bot.mailbox.base import CalendarEntry

# What decides whether an entry changed: its day, title and description.
Fields = tuple[str, str, str]


def entry_fields(entry: CalendarEntry) -> Fields:
    return (str(entry.day), entry.title, entry.description)


def next_sequence(previous: tuple[int, Fields] | None, fields: Fields) -> int:
    """The SEQUENCE for an entry: unchanged content keeps it (so resending is a no-op)."""
    if previous is None:
        return 0
    return previous[0] if previous[1] == fields else previous[0] + 1


def invitation_message_id(entry: CalendarEntry, sequence: int, sender: str) -> str:
    """A Message-ID fixed by the entry's uid, day and sequence: `already_sent` finds a repeat."""
    seed = f"{entry.uid}|{entry.day.isoformat()}|{sequence}".encode()
    domain = sender.rsplit("@", 1)[-1]
    return f"cal-{hashlib.sha256(seed).hexdigest()[:32]}@{domain}"


def invitation_ics(
    entry: CalendarEntry, sequence: int, organizer: str, attendee: str, now: datetime
) -> bytes:
    """A METHOD:REQUEST calendar with one all-day, transparent event."""
    event = icalendar.Event()
    event.add("UID", entry.uid)
    event.add("SEQUENCE", sequence)
    event.add("DTSTAMP", now.astimezone(UTC))
    event.add("DTSTART", entry.day)
    event.add("DTEND", entry.day + timedelta(days=1))
    event.add("SUMMARY", entry.title)
    event.add("DESCRIPTION", entry.description)
    event.add("CATEGORIES", [entry.case_reference])
    event.add("ORGANIZER", f"mailto:{organizer}")
    event.add("ATTENDEE", f"mailto:{attendee}")
    event.add("TRANSP", "TRANSPARENT")
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//Contract Concerns Bot//EN")
    cal.add("VERSION", "2.0")
    cal.add("METHOD", "REQUEST")
    cal.add_component(event)
    return bytes(cal.to_ical())


def invitation_mail(
    entry: CalendarEntry, ics: bytes, message_id: str, sender: str, to: str, now: datetime
) -> bytes:
    """The invitation as a mail: a readable text part and the calendar as its alternative."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = f"{entry.title} ({long_date(entry.day)})"
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    mail["Auto-Submitted"] = "auto-generated"  # nobody should auto-reply to a diary entry
    mail.set_content(f"{entry.title}\n{long_date(entry.day)}\n\n{entry.description}\n")
    mail.add_alternative(ics.decode("utf-8"), subtype="calendar", params={"method": "REQUEST"})
    return mail.as_bytes()


def long_date(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
