"""The local folder mailbox as a contract-test server: the folders are the server side."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import icalendar

from backends.harness import DiaryEntry, Folder, ServerHarness
from bot.clock import LONDON, Clock, FixedClock
from bot.mailbox.base import Mailbox, MailboxState
from bot.mailbox.maildir import LocalMailbox

ADDRESS = "contract.concerns@council.example"
TEAM = "contract.management@council.example"


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def thread_root(messages: list[bytes], message_id: str) -> str | None:
    """For mail systems without conversations: the first Message-ID the thread refers to."""
    wanted = f"<{message_id.strip('<>')}>"
    for raw in messages:
        message = parse(raw)
        if str(message.get("Message-ID", "")).strip() != wanted:
            continue
        references = str(message.get("References", "")).split()
        parent = str(message.get("In-Reply-To", "")).strip()
        return (references[0] if references else parent or wanted).strip("<>")
    return None


class LocalHarness:
    name = "local"
    address = ADDRESS
    team_address = TEAM

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / "mailbox"
        self.drive = root / "drive"
        self._delivery = LocalMailbox(
            self.directory,
            ADDRESS,
            TEAM,
            self.drive,
            clock=FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)),
        )
        self.local = self._delivery

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox:
        return LocalMailbox(self.directory, ADDRESS, TEAM, self.drive, clock=clock)

    def inject(self, raw: bytes, received_at: datetime) -> None:
        self._delivery.deliver(raw, received_at)

    def folder(self, name: Folder) -> list[bytes]:
        if name in ("sent", "review"):
            return [raw for _, raw in self._delivery.sent_messages(name)]
        paths = [p for sub in ("new", "cur") for p in (self.directory / name / sub).iterdir()]
        return [p.read_bytes() for p in sorted(paths, key=lambda p: p.stat().st_mtime_ns)]

    def delivered_to(self, address: str) -> list[bytes]:
        # Nothing leaves the machine: a message counts as delivered to those it is addressed to.
        found = []
        for raw in self.folder("sent"):
            message = parse(raw)
            fields = [str(message.get(name, "")) for name in ("To", "Cc", "Bcc")]
            if address.lower() in {a.lower() for _, a in getaddresses(fields)}:
                found.append(raw)
        return found

    def thread_key(self, message_id: str) -> str | None:
        everything = [*self.folder("sent"), *self.folder("processed"), *self.folder("inbox")]
        return thread_root(everything, message_id)

    def diary(self) -> list[DiaryEntry]:
        entries = []
        for path in sorted((self.directory / "calendar").glob("*.ics")):
            event = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
            entries.append(
                DiaryEntry(str(event["UID"]), event.decoded("DTSTART"), str(event["SUMMARY"]))
            )
        return entries

    def files(self) -> dict[str, bytes]:
        if not self.drive.exists():
            return {}
        return {p.name: p.read_bytes() for p in self.drive.iterdir() if p.is_file()}

    def break_connection(self) -> None:
        # As an unmounted share looks: the folders are simply not there.
        self.directory.rename(self.root / "unmounted")

    def restore(self) -> None:
        (self.root / "unmounted").rename(self.directory)


@contextmanager
def running(tmp_path: Path) -> Iterator[ServerHarness]:
    yield LocalHarness(tmp_path)
