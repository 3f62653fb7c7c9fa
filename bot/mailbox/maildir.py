"""The embedded default backend: Maildir folders, a sent copy per Message-ID, .ics diary files."""

from __future__ import annotations

import hashlib
import json
import mailbox
import os
import re
import socket
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import icalendar

from bot.clock import Clock, SystemClock
from bot.mailbox.base import CalendarEntry, IncomingMail, SentRecord

FOLDERS = ("inbox", "processed", "quarantine", "sent", "review")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEEN = ":2,S"  # Maildir info suffix: the copy in Sent has been "seen"


def _to_ns(moment: datetime) -> int:
    # Integer arithmetic so a datetime survives the trip through st_mtime_ns exactly.
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _from_ns(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _write_atomically(target: Path, content: bytes, mtime_ns: int | None = None) -> None:
    """Write via a 0600 temp file in the same directory, fsync, then rename into place."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if mtime_ns is not None:
            os.utime(temp, ns=(mtime_ns, mtime_ns))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def _check_key(key: str) -> str:
    if not key or "/" in key or "\\" in key or key.startswith(".") or "\0" in key:
        raise ValueError(f"not a message id of this mailbox: {key!r}")
    return key


class LocalMailbox:
    """A mailbox made of local folders, so the bot runs with no mail server at all."""

    def __init__(
        self,
        directory: Path,
        address: str,
        calendar_address: str,
        shared_drive: Path,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.directory = _private_dir(Path(directory))
        self.address = address
        self.calendar_address = calendar_address
        self.shared_drive = Path(shared_drive)
        self.clock: Clock = clock or SystemClock()
        for name in FOLDERS:
            mailbox.Maildir(self.directory / name, create=True)
            for sub in ("", "tmp", "new", "cur"):
                (self.directory / name / sub).chmod(0o700)
        self.calendar_dir = _private_dir(self.directory / "calendar")
        self.reasons_dir = _private_dir(self.directory / "quarantine-reasons")
        self._last_stamp_ns = 0

    # -- incoming -----------------------------------------------------------------

    def deliver(self, raw: bytes, received_at: datetime) -> str:
        """Drop a message into the inbox as an MDA would; its mtime records `received_at`."""
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        stamp = _to_ns(received_at)
        key = f"{stamp // 10**9}.{uuid.uuid4().hex}.{socket.gethostname().replace('/', '_')}"
        inbox = self.directory / "inbox"
        # Maildir delivery: complete the file in tmp/, then rename it into new/.
        _write_atomically(inbox / "tmp" / key, raw, stamp)
        os.replace(inbox / "tmp" / key, inbox / "new" / key)
        return key

    def _locate(self, folder: str, key: str) -> Path | None:
        base = self.directory / folder
        if (base / "new" / key).is_file():
            return base / "new" / key
        # In cur/ a mail client may have appended ":2,<flags>" to the key.
        return next((p for p in (base / "cur").iterdir() if p.name.split(":", 1)[0] == key), None)

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        """Inbox messages whose mtime is at or after `since`, oldest first; nothing is moved."""
        threshold = _to_ns(since)
        found: list[tuple[int, str, bytes]] = []
        for sub in ("new", "cur"):
            for path in (self.directory / "inbox" / sub).iterdir():
                if path.name.startswith("."):
                    continue
                try:
                    mtime = path.stat().st_mtime_ns
                    if mtime >= threshold:
                        found.append((mtime, path.name.split(":", 1)[0], path.read_bytes()))
                except (FileNotFoundError, IsADirectoryError):
                    continue  # moved away while we looked, or not a message
        found.sort(key=lambda item: (item[0], item[1]))
        return [IncomingMail(key, _from_ns(ns), raw) for ns, key, raw in found]

    def _move(self, key: str, folder: str) -> None:
        source = self._locate("inbox", _check_key(key))
        if source is None:
            return  # already moved: a retried step must not fail
        # Same subdirectory and file name, so the key, flags and mtime all survive the move.
        os.replace(source, self.directory / folder / source.parent.name / source.name)

    def mark_processed(self, backend_id: str) -> None:
        self._move(backend_id, "processed")

    def quarantine(self, backend_id: str, reason: str) -> None:
        if self._locate("inbox", _check_key(backend_id)) is None:
            return
        record = {
            "reason": reason,
            "when": self.clock.now().isoformat(),
            "original_key": backend_id,
        }
        # The reason is written first, so a crash cannot leave a quarantined mail unexplained.
        sidecar = self.reasons_dir / f"{backend_id}.json"
        _write_atomically(sidecar, json.dumps(record, indent=2).encode("utf-8"))
        self._move(backend_id, "quarantine")

    # -- outgoing -----------------------------------------------------------------

    @staticmethod
    def _sent_key(message_id: str) -> str:
        return hashlib.sha256(message_id.strip().strip("<>").encode("utf-8")).hexdigest()

    def _keep(self, folder: str, message: bytes, message_id: str) -> SentRecord:
        key = self._sent_key(message_id)
        target = self.directory / folder / "cur" / f"{key}{_SEEN}"
        if not target.exists():
            # Strictly increasing mtimes keep sent_messages() in sending order even when the
            # clock stands still (a fixed demo clock) or ticks coarser than two sends.
            stamp = max(_to_ns(self.clock.now()), self._newest_stamp() + 1)
            _write_atomically(target, message, stamp)
            self._last_stamp_ns = stamp
        return SentRecord(message_id=message_id, location=str(target), extra={"folder": folder})

    def _newest_stamp(self) -> int:
        if not self._last_stamp_ns:
            kept = self._stored("sent") + self._stored("review")
            stamps = [path.stat().st_mtime_ns for _, path in kept]
            self._last_stamp_ns = max(stamps, default=0)
        return self._last_stamp_ns

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        """Local backend: nothing leaves the machine; the message is kept once in `sent`."""
        return self._keep("sent", message, message_id)

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        return self._keep("review", message, message_id)

    def already_sent(self, message_id: str) -> bool:
        name = f"{self._sent_key(message_id)}{_SEEN}"
        return any((self.directory / f / "cur" / name).exists() for f in ("sent", "review"))

    def _stored(self, folder: str) -> list[tuple[str, Path]]:
        items = []
        for sub in ("new", "cur"):
            for path in (self.directory / folder / sub).iterdir():
                if path.is_file() and not path.name.startswith("."):
                    items.append((path.name.split(":", 1)[0], path))
        return items

    def sent_messages(self, folder: str = "sent") -> list[tuple[str, bytes]]:
        """(key, bytes) of every kept message in `folder`, oldest first: for tests and the demo."""
        items = sorted(self._stored(folder), key=lambda kp: (kp[1].stat().st_mtime_ns, kp[0]))
        return [(key, path.read_bytes()) for key, path in items]

    # -- calendar and files -------------------------------------------------------

    def _calendar_path(self, uid: str) -> Path:
        if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,119}", uid):
            return self.calendar_dir / f"{uid}.ics"
        # Rewritten uids get a digest so two uids cannot end up sharing one file.
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", uid).lstrip(".")
        digest = hashlib.sha256(uid.encode("utf-8")).hexdigest()[:12]
        return self.calendar_dir / f"{safe[:80]}-{digest}.ics"

    def _previous(self, path: Path) -> tuple[int, tuple[str, str, str]] | None:
        try:
            event = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
        except (FileNotFoundError, ValueError, IndexError):
            return None  # no entry yet (or an unreadable one, which we simply replace)
        day = event.decoded("DTSTART")
        fields = (str(day), str(event.get("SUMMARY", "")), str(event.get("DESCRIPTION", "")))
        return int(event.get("SEQUENCE", 0)), fields

    def _invitation(self, entry: CalendarEntry, sequence: int) -> bytes:
        event = icalendar.Event()
        event.add("UID", entry.uid)
        event.add("SEQUENCE", sequence)
        event.add("DTSTAMP", self.clock.now().astimezone(UTC))
        event.add("DTSTART", entry.day)
        event.add("DTEND", entry.day + timedelta(days=1))
        event.add("SUMMARY", entry.title)
        event.add("DESCRIPTION", entry.description)
        event.add("CATEGORIES", [entry.case_reference])
        event.add("ORGANIZER", f"mailto:{self.address}")
        event.add("ATTENDEE", f"mailto:{self.calendar_address}")
        event.add("TRANSP", "TRANSPARENT")
        cal = icalendar.Calendar()
        cal.add("PRODID", "-//Contract Concerns Bot//EN")
        cal.add("VERSION", "2.0")
        cal.add("METHOD", "REQUEST")
        cal.add_component(event)
        return bytes(cal.to_ical())

    def diarise(self, entry: CalendarEntry) -> None:
        """Invite the team calendar to an all-day entry; a changed entry goes out as an update."""
        path = self._calendar_path(entry.uid)
        previous = self._previous(path)
        fields = (str(entry.day), entry.title, entry.description)
        if previous is None:
            sequence = 0
        else:
            # Same content: same SEQUENCE and Message-ID, so the send below is a no-op.
            sequence = previous[0] if previous[1] == fields else previous[0] + 1
        ics = self._invitation(entry, sequence)
        if previous is None or previous[1] != fields:
            _write_atomically(path, ics)
        seed = f"{entry.uid}|{entry.day.isoformat()}|{sequence}".encode()
        domain = self.address.rsplit("@", 1)[-1]
        message_id = f"cal-{hashlib.sha256(seed).hexdigest()[:32]}@{domain}"
        if self.already_sent(message_id):
            return
        invitation = self._invitation_mail(entry, ics, message_id)
        self.send(invitation, [self.calendar_address], message_id)

    def _invitation_mail(self, entry: CalendarEntry, ics: bytes, message_id: str) -> bytes:
        mail = EmailMessage()
        mail["From"] = self.address
        mail["To"] = self.calendar_address
        mail["Subject"] = f"{entry.title} ({_long_date(entry.day)})"
        mail["Date"] = format_datetime(self.clock.now())
        mail["Message-ID"] = f"<{message_id}>"
        mail["Auto-Submitted"] = "auto-generated"  # nobody should auto-reply to a diary entry
        mail.set_content(f"{entry.title}\n{_long_date(entry.day)}\n\n{entry.description}\n")
        mail.add_alternative(ics.decode("utf-8"), subtype="calendar", params={"method": "REQUEST"})
        return mail.as_bytes()

    def save_file(self, name: str, content: bytes) -> str:
        """Write a document to the shared drive atomically, owner-only; return its path."""
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise ValueError(f"unsafe file name for the shared drive: {name!r}")
        if not self.shared_drive.exists():
            _private_dir(self.shared_drive)
        target = self.shared_drive / name
        _write_atomically(target, content)  # mkstemp made it 0600; the rename keeps that
        return str(target)


def _long_date(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
