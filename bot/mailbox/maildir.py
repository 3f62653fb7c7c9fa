"""The embedded default backend: Maildir folders, a sent copy per Message-ID, .ics diary files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import icalendar

from bot.clock import Clock, Deadline, SystemClock
from bot.mailbox.base import (
    CalendarEntry,
    IncomingMail,
    MailboxError,
    MailboxUnavailable,
    SentRecord,
)
from bot.mailbox.files import private_dir as _private_dir
from bot.mailbox.files import save_to_drive
from bot.mailbox.files import write_atomically as _write_atomically
from bot.mailbox.invitation import (
    Fields,
    entry_fields,
    invitation_ics,
    invitation_mail,
    invitation_message_id,
    next_sequence,
)
from bot.mailbox.maildir_entry import check_key, key_of, read_entry, sidecar_name, waiting

log = logging.getLogger(__name__)

FOLDERS = ("inbox", "processed", "quarantine", "sent", "review")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEEN = ":2,S"  # Maildir info suffix: the copy in Sent has been "seen"


def _to_ns(moment: datetime) -> int:
    # Integer arithmetic so a datetime survives the trip through st_mtime_ns exactly.
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _from_ns(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


P = ParamSpec("P")
R = TypeVar("R")


def _folder_call(
    method: Callable[Concatenate[LocalMailbox, P], R],
) -> Callable[Concatenate[LocalMailbox, P], R]:
    """A folder that has gone (an unmounted share, a full disk) is an unavailable mailbox:
    the poll fails as it would with a server down, and the next one tries again."""

    @wraps(method)
    def call(self: LocalMailbox, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except OSError as err:
            raise MailboxUnavailable(
                f"local mailbox {self.directory}: {method.__name__} failed: {err}"
            ) from err

    return call


def _maildir_part(folder: Path) -> None:
    """A Maildir folder or its tmp/, new/ or cur/, made if missing: copying or tidying a
    mailbox can drop an empty folder, which must not stop the bot."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    except OSError as err:
        raise MailboxError(
            f"the mail folder {folder} is broken ({err.strerror or err}); make it a folder the "
            "bot's user can write, or move it away and the bot makes a new one"
        ) from None


class LocalMailbox:
    """A mailbox made of local folders, so the bot runs with no mail server at all."""

    # Letters of different cases are kept side by side: each is fsynced (file and folder)
    # before it counts as sent, and fsyncs in flight together cost little more than one.
    concurrent_sends = 4

    def __init__(
        self,
        directory: Path,
        address: str,
        calendar_address: str,
        shared_drive: Path,
        *,
        clock: Clock | None = None,
        max_message_mb: int = 25,
        read_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = _private_dir(Path(directory))
        self.address = address
        self.calendar_address = calendar_address
        self.shared_drive = Path(shared_drive)
        self.clock: Clock = clock or SystemClock()
        for name in FOLDERS:
            for sub in ("", "tmp", "new", "cur"):
                _maildir_part(self.directory / name / sub)
        self.calendar_dir = _private_dir(self.directory / "calendar")
        self.reasons_dir = _private_dir(self.directory / "quarantine-reasons")
        self._last_stamp_ns = 0
        self._stamps = threading.Lock()  # letters of different cases are kept side by side
        self.max_message_bytes = max_message_mb * 1024 * 1024
        self.read_seconds = read_seconds  # for reading what one fetch_new returns
        self.monotonic = monotonic

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
        # lexists: a link, FIFO or directory refused at fetch is moved too, never followed.
        if os.path.lexists(base / "new" / key):
            return base / "new" / key
        # In cur/ a mail client may have appended ":2,<flags>"; a name that is not UTF-8
        # has a key that is not its name.
        for sub in ("new", "cur"):
            found = next((p for p in (base / sub).iterdir() if key_of(p.name) == key), None)
            if found is not None:
                return found
        return None

    @_folder_call
    def count_waiting(self, since: datetime) -> int:
        """How many entries fetch_new would return, without opening any of them."""
        return len(waiting(self.directory / "inbox", _to_ns(since)))

    @_folder_call
    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        """Inbox messages whose mtime is at or after `since`, oldest first; nothing is moved.

        Entries that are not regular files, or are over the size limit, come back unread with
        `refused` set, for the poll to quarantine: nothing is skipped silently.
        """
        deadline = Deadline(self.read_seconds, self.monotonic)
        found: list[IncomingMail] = []
        for _, key, path in waiting(self.directory / "inbox", _to_ns(since)):
            if found and deadline.expired():  # a slow share: the rest waits for the next poll
                log.warning("local mailbox: read for %g s; the rest next poll", self.read_seconds)
                break
            entry = read_entry(path, self.max_message_bytes)
            if entry is not None:  # None: moved away while we looked
                found.append(
                    IncomingMail(key, _from_ns(entry.mtime_ns), entry.raw, refused=entry.refused)
                )
        return found

    def _move(self, key: str, folder: str) -> None:
        source = self._locate("inbox", check_key(key))
        if source is None:
            return  # already moved: a retried step must not fail
        # Same subdirectory and file name, so the key, flags and mtime all survive the move.
        target = self.directory / folder / source.parent.name / source.name
        if os.path.lexists(target):  # never overwrite what is already kept there
            target = target.with_name(f"{source.name}.{uuid.uuid4().hex[:12]}")
        os.replace(source, target)

    @_folder_call
    def mark_processed(self, backend_id: str) -> None:
        self._move(backend_id, "processed")

    @_folder_call
    def quarantine(self, backend_id: str, reason: str) -> None:
        if self._locate("inbox", check_key(backend_id)) is None:
            return
        record = {
            "reason": reason,
            "when": self.clock.now().isoformat(),
            "original_key": backend_id,
        }
        # The reason is written first, so a crash cannot leave a quarantined mail unexplained.
        sidecar = self.reasons_dir / sidecar_name(backend_id)
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
            with self._stamps:
                stamp = max(_to_ns(self.clock.now()), self._newest_stamp() + 1)
                self._last_stamp_ns = stamp
            _write_atomically(target, message, stamp)
        return SentRecord(message_id=message_id, location=str(target), extra={"folder": folder})

    def _newest_stamp(self) -> int:
        if not self._last_stamp_ns:
            kept = self._stored("sent") + self._stored("review")
            stamps = [path.stat().st_mtime_ns for _, path in kept]
            self._last_stamp_ns = max(stamps, default=0)
        return self._last_stamp_ns

    @_folder_call
    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        """Local backend: nothing leaves the machine; the message is kept once in `sent`."""
        return self._keep("sent", message, message_id)

    @_folder_call
    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        return self._keep("review", message, message_id)

    @_folder_call
    def already_sent(self, message_id: str) -> bool:
        name = f"{self._sent_key(message_id)}{_SEEN}"
        return any((self.directory / f / "cur" / name).exists() for f in ("sent", "review"))

    def _stored(self, folder: str) -> list[tuple[str, Path]]:
        items = []
        for sub in ("new", "cur"):
            for path in (self.directory / folder / sub).iterdir():
                # A link moved here from the inbox is not followed, even for tests and the demo.
                if not path.is_symlink() and path.is_file() and not path.name.startswith("."):
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

    def _previous(self, path: Path) -> tuple[int, Fields] | None:
        try:
            event = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
        except (FileNotFoundError, ValueError, IndexError):
            return None  # no entry yet (or an unreadable one, which we simply replace)
        day = event.decoded("DTSTART")
        fields = (str(day), str(event.get("SUMMARY", "")), str(event.get("DESCRIPTION", "")))
        return int(event.get("SEQUENCE", 0)), fields

    @_folder_call
    def diarise(self, entry: CalendarEntry) -> None:
        """Invite the team calendar to an all-day entry; a changed entry goes out as an update."""
        path = self._calendar_path(entry.uid)
        previous = self._previous(path)
        fields = entry_fields(entry)
        sequence = next_sequence(previous, fields)
        now = self.clock.now()
        ics = invitation_ics(entry, sequence, self.address, self.calendar_address, now)
        if previous is None or previous[1] != fields:
            _write_atomically(path, ics)
        message_id = invitation_message_id(entry, sequence, self.address)
        if self.already_sent(message_id):  # same content: same Message-ID, nothing to send
            return
        invitation = invitation_mail(
            entry, ics, message_id, self.address, self.calendar_address, now
        )
        self.send(invitation, [self.calendar_address], message_id)

    @_folder_call
    def save_file(self, name: str, content: bytes) -> str:
        """Write a document to the shared drive atomically, owner-only; return its path."""
        return save_to_drive(self.shared_drive, name, content)
