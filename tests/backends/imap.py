"""Dovecot as a contract-test server: a fresh user per test, read over a separate IMAP login."""

from __future__ import annotations

import atexit
import email
import imaplib
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import icalendar

from backends.dovecot import PASSWORD, Dovecot, dovecot
from backends.harness import DiaryEntry, Folder
from backends.local import thread_root
from backends.smtp_relay import SmtpRelay
from backends.tcp_proxy import TcpProxy
from bot.clock import Clock
from bot.mailbox.base import MailboxState
from bot.mailbox.imap import ImapMailbox
from bot.mailbox.imap_parse import internaldate
from bot.mailbox.imap_transport import ImapEndpoint, Security, quote
from bot.mailbox.smtp import SmtpEndpoint

FOLDERS: dict[str, str] = {
    "inbox": "INBOX",
    "processed": "Processed",
    "quarantine": "Quarantine",
    "sent": "Sent",
    "review": "Review",
}

_lock = threading.Lock()
_sources = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count())
_relay: SmtpRelay | None = None


def relay(server: Dovecot) -> SmtpRelay:
    """The session's SMTP server, delivering into the session's Dovecot."""
    global _relay
    with _lock:
        if _relay is None:
            _relay = SmtpRelay(server.lmtp_port, PASSWORD, server.server_context())
            atexit.register(_relay.stop)
        return _relay


@contextmanager
def login(server: Dovecot, user: str) -> Iterator[imaplib.IMAP4]:
    """The server side's own connection, straight to Dovecot (not through the cuttable proxy)."""
    conn = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=10)
    try:
        conn.login(user, PASSWORD)
        yield conn
    finally:
        conn.logout()


def read_folder(server: Dovecot, user: str, folder: str) -> list[tuple[int, datetime, bytes]]:
    """(UID, INTERNALDATE, bytes) of every message in a folder, in UID order; [] if none."""
    with login(server, user) as conn:
        typ, _ = conn.select(quote(folder), readonly=True)
        if typ != "OK":
            return []
        typ, data = conn.uid("FETCH", "1:*", "(UID INTERNALDATE BODY.PEEK[])")
        found = []
        for item in data:
            if isinstance(item, tuple):
                head = item[0].decode()
                uid = int(head.split("UID ", 1)[1].split()[0])
                when = internaldate(head.split('INTERNALDATE "', 1)[1].split('"', 1)[0])
                found.append((uid, when, item[1]))
        return sorted(found)


def _maildir_names(maildir: Path) -> set[str]:
    """Message file names without their flags (which change as a client reads them)."""
    return {
        path.name.split(":", 1)[0]
        for sub in ("new", "cur")
        if (maildir / sub).is_dir()
        for path in (maildir / sub).iterdir()
    }


def _set_mtime(maildir: Path, name: str, stamp: float) -> None:
    for _ in range(5):  # Dovecot may move it from new/ to cur/ while we look
        for path in [maildir / "new" / name, *(maildir / "cur").glob(f"{name}:*")]:
            try:
                os.utime(path, (stamp, stamp))
                return
            except FileNotFoundError:
                continue
    raise AssertionError(f"delivered message {name} not found in {maildir}")


class ImapHarness:
    """A fresh shared mailbox and team address on the session's Dovecot, behind proxies a test
    can cut; the bot's client talks plain IMAP and SMTP to them on loopback."""

    name = "imap"

    def __init__(self, server: Dovecot, smtp: SmtpRelay, root: Path) -> None:
        self.server = server
        self.relay = smtp
        self.address = server.new_address("bot")
        self.team_address = server.new_address("team")
        self.drive = root / "drive"
        # Each test's client connects from its own loopback address: Dovecot delays every login
        # from an address after a failed one, which must not slow the other tests down.
        source = next(_sources)
        self.imap_proxy = TcpProxy(server.imap_port, source)
        self.smtp_proxy = TcpProxy(smtp.port, source)
        self.clients: list[ImapMailbox] = []

    def endpoints(
        self, security: Security = "none", password: str = PASSWORD
    ) -> tuple[ImapEndpoint, SmtpEndpoint]:
        imap = ImapEndpoint(
            "127.0.0.1", self.imap_proxy.port, security, self.address, password, timeout=10
        )
        smtp = SmtpEndpoint(
            "127.0.0.1", self.smtp_proxy.port, "none", self.address, password, timeout=10
        )
        return imap, smtp

    def mailbox(
        self, clock: Clock, state: MailboxState, *, use_move: bool | None = None
    ) -> ImapMailbox:
        imap, smtp = self.endpoints()
        box = ImapMailbox(
            imap,
            smtp,
            self.address,
            self.team_address,
            self.drive,
            clock=clock,
            state=state,
            use_move=use_move,
        )
        self.clients.append(box)
        return box

    def inject(self, raw: bytes, received_at: datetime) -> None:
        # Dovecot turns an APPEND date in the future into "now", and the tests' clock runs
        # ahead of the wall clock; Maildir keeps INTERNALDATE as the file's mtime (never
        # cached, see the config), so the date is set there.
        inbox = self.server.directory / "mail" / self.address / "Maildir"
        before = _maildir_names(inbox)
        with login(self.server, self.address) as conn:
            typ, data = conn.append("INBOX", "", imaplib.Time2Internaldate(received_at), raw)
            assert typ == "OK", data
        stamp = received_at.timestamp()
        for name in _maildir_names(inbox) - before:
            _set_mtime(inbox, name, stamp)

    def folder(self, name: Folder) -> list[bytes]:
        found = read_folder(self.server, self.address, FOLDERS[name])
        if name == "inbox":  # oldest first by arrival; the copies the bot kept by UID
            found.sort(key=lambda item: (item[1], item[0]))
        return [raw for _, _, raw in found]

    def delivered_to(self, address: str) -> list[bytes]:
        """Only what this test's bot sent: the server (and so every recipient) is shared."""
        own = f"Return-Path: <{self.address}>".encode()
        found = read_folder(self.server, address, "INBOX")
        return [raw for _, _, raw in found if raw.split(b"\r\n", 1)[0] == own]

    def thread_key(self, message_id: str) -> str | None:
        everything = [*self.folder("sent"), *self.folder("processed"), *self.folder("inbox")]
        return thread_root(everything, message_id)

    def diary(self) -> list[DiaryEntry]:
        """The team calendar as a client would hold it: per UID, the highest SEQUENCE."""
        latest: dict[str, tuple[int, DiaryEntry]] = {}
        for raw in self.delivered_to(self.team_address):
            for part in email.message_from_bytes(raw).walk():
                if part.get_content_type() != "text/calendar":
                    continue
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                for event in icalendar.Calendar.from_ical(payload).walk("VEVENT"):
                    uid, sequence = str(event["UID"]), int(event.get("SEQUENCE", 0))
                    entry = DiaryEntry(uid, event.decoded("DTSTART"), str(event["SUMMARY"]))
                    if uid not in latest or latest[uid][0] <= sequence:
                        latest[uid] = (sequence, entry)
        return [entry for _, entry in sorted(latest.values(), key=lambda s: s[1].uid)]

    def files(self) -> dict[str, bytes]:
        if not self.drive.exists():
            return {}
        return {p.name: p.read_bytes() for p in self.drive.iterdir() if p.is_file()}

    def break_connection(self) -> None:
        self.imap_proxy.cut()
        self.smtp_proxy.cut()

    def restore(self) -> None:
        self.imap_proxy.mend()
        self.smtp_proxy.mend()

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.imap_proxy.close()
        self.smtp_proxy.close()


@contextmanager
def running(tmp_path: Path) -> Iterator[ImapHarness]:
    """A fresh mailbox on the session's Dovecot (skipped, or failed under CI, without it)."""
    server = dovecot()
    harness = ImapHarness(server, relay(server), tmp_path)
    try:
        yield harness
    finally:
        harness.close()
