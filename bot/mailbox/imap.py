"""The IMAP + SMTP backend: UID checkpoints, moves to Processed, SMTP sending with a Sent copy."""

from __future__ import annotations

import imaplib
import logging
import os
import ssl
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.mailbox.base import (
    CalendarEntry,
    IncomingMail,
    MailboxAuthError,
    MailboxError,
    MailboxState,
    SentRecord,
)
from bot.mailbox.files import save_to_drive
from bot.mailbox.imap_folders import PROCESSED, QUARANTINE, REVIEW, Folders
from bot.mailbox.imap_parse import fetched, uid_set, uids
from bot.mailbox.imap_transport import ImapEndpoint, ImapSession, check, quote
from bot.mailbox.invitation import (
    entry_fields,
    invitation_ics,
    invitation_mail,
    invitation_message_id,
    next_sequence,
)
from bot.mailbox.smtp import SmtpEndpoint, submit

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)

INBOX = "INBOX"
_BATCH = 50  # UIDs per FETCH of whole messages, so a full first read stays in bounded memory


def _secret(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise MailboxAuthError(
            f"the environment variable {variable} is not set: it must hold the {what}"
        )
    return value


class ImapMailbox:
    """The shared mailbox over IMAP (reading, folders) and SMTP submission (sending)."""

    def __init__(
        self,
        imap: ImapEndpoint,
        smtp: SmtpEndpoint,
        address: str,
        calendar_address: str,
        shared_drive: Path,
        *,
        clock: Clock,
        state: MailboxState,
        use_move: bool | None = None,
    ) -> None:
        self.session = ImapSession(imap)
        self.folders = Folders(self.session)
        self.smtp = smtp
        self.address = address
        self.calendar_address = calendar_address
        self.shared_drive = Path(shared_drive)
        self.clock = clock
        self.state = state
        self.use_move = use_move  # None: MOVE when the server advertises it

    @classmethod
    def from_config(cls, config: Config, clock: Clock, state: MailboxState) -> ImapMailbox:
        """The backend `mailbox.imap` describes, its passwords read from the environment."""
        settings = config.mailbox.imap
        if settings is None:
            raise MailboxError("mailbox.backend is imap but there is no mailbox.imap section")
        password = _secret(settings.password_env, "IMAP password (mailbox.imap.password_env)")
        smtp_password = (
            _secret(settings.smtp_password_env, "SMTP password (mailbox.imap.smtp_password_env)")
            if settings.smtp_password_env
            else password
        )
        cafile = str(settings.ca_file) if settings.ca_file else None
        context = ssl.create_default_context(cafile=cafile)
        timeout = settings.timeout_seconds
        imap = ImapEndpoint(
            settings.host,
            settings.port,
            settings.security,
            settings.username,
            password,
            timeout,
            context,
        )
        smtp = SmtpEndpoint(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username or settings.username,
            smtp_password,
            timeout,
            context,
        )
        return cls(
            imap,
            smtp,
            config.mailbox.address,
            config.council.team_address,
            config.shared_drive,
            clock=clock,
            state=state,
        )

    def close(self) -> None:
        self.session.close()

    # -- incoming -----------------------------------------------------------------

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        """New inbox mail (UID above the checkpoint) and mail fetched before but not yet moved,
        received at or after `since`, oldest first; nothing is changed on the server."""
        return self.session.call("fetch from INBOX", lambda conn: self._fetch(conn, since))

    def _fetch(self, conn: imaplib.IMAP4, since: datetime) -> list[IncomingMail]:
        validity = self.session.select(conn, INBOX, fresh=True)
        saved = self.state.get("uidvalidity")
        if validity == saved:
            last: int = self.state.get("last_uid") or 0
            pending: list[int] = self.state.get("pending") or []
        else:
            if saved is not None:  # the UIDs changed meaning: read it all again, dedupe by id
                log.warning("INBOX UIDVALIDITY changed from %s to %s", saved, validity)
            last, pending = 0, []
        typ, data = conn.uid("SEARCH", "UID", f"{last + 1}:*")
        check(typ, data, "UID SEARCH")
        new = [uid for uid in uids(data) if uid > last]  # n:* always matches the highest UID
        candidates = sorted(set(new) | set(pending))
        found: dict[int, tuple[datetime, bytes]] = {}
        if candidates:
            typ, data = conn.uid("FETCH", uid_set(candidates), "(UID INTERNALDATE)")
            check(typ, data, "UID FETCH INTERNALDATE")
            wanted = [uid for uid, (day, _) in sorted(fetched(data).items()) if day >= since]
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                typ, data = conn.uid("FETCH", uid_set(batch), "(UID INTERNALDATE BODY.PEEK[])")
                check(typ, data, "UID FETCH BODY.PEEK[]")
                found.update(fetched(data))
        self.state.set("uidvalidity", validity)
        self.state.set("last_uid", max([last, *new]))
        self.state.set("pending", sorted(found))  # fetched, not yet moved: returned again
        mails = [
            IncomingMail(str(uid), day, body, meta={"uidvalidity": str(validity)})
            for uid, (day, body) in found.items()
        ]
        return sorted(mails, key=lambda m: (m.received_at, int(m.backend_id)))

    def _move(self, backend_id: str, target: str) -> None:
        uid = int(backend_id)

        def move(conn: imaplib.IMAP4) -> None:
            # SELECT afresh: a selection kept from before would hide a UIDVALIDITY change.
            if self.session.select(conn, INBOX, fresh=True) != self.state.get("uidvalidity"):
                # The UID is from before a UIDVALIDITY change and may now name another mail;
                # the next fetch reads the inbox again and the bot dedupes by Message-ID.
                log.warning("not moving UID %s: INBOX UIDVALIDITY changed", uid)
                return
            use_move = self.use_move
            if use_move is None:
                use_move = "MOVE" in self.session.capabilities
            self.folders.move(conn, uid, target, use_move=use_move)

        self.session.call(f"move to {target}", move)
        pending: list[int] = self.state.get("pending") or []
        if uid in pending:
            self.state.set("pending", [p for p in pending if p != uid])

    def mark_processed(self, backend_id: str) -> None:
        self._move(backend_id, PROCESSED)

    def quarantine(self, backend_id: str, reason: str) -> None:
        """Move to Quarantine, whole; the reason is in the bot's own record (IMAP has no place
        for it beside the message)."""
        self._move(backend_id, QUARANTINE)

    # -- outgoing -----------------------------------------------------------------

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        """Submit over SMTP as the shared mailbox, then keep a copy in Sent."""
        submit(self.smtp, message, self.address, recipients)
        try:
            folder = self.session.call(
                "append to Sent",
                lambda conn: self._keep(conn, self.folders.sent(conn), message, message_id),
            )
        except MailboxError as err:
            # It has gone: failing now would send it again. The outbox records it as sent.
            log.warning("sent %s but could not keep a copy in Sent: %s", message_id, err)
            return SentRecord(message_id, location="sent; no copy kept", extra={"folder": ""})
        return SentRecord(message_id, location=f"imap:{folder}", extra={"folder": folder})

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        folder = self.session.call(
            "append to Review", lambda conn: self._keep(conn, REVIEW, message, message_id)
        )
        return SentRecord(message_id, location=f"imap:{folder}", extra={"folder": folder})

    def _keep(self, conn: imaplib.IMAP4, folder: str, message: bytes, message_id: str) -> str:
        self.folders.ensure(conn, folder)
        if self._holds(conn, folder, message_id):
            return folder  # a retried APPEND after a lost answer: the copy is there
        when = imaplib.Time2Internaldate(self.clock.now())
        typ, data = conn.append(quote(folder), "(\\Seen)", when, message)
        check(typ, data, f"APPEND to {folder}")
        return folder

    def _holds(self, conn: imaplib.IMAP4, folder: str, message_id: str) -> bool:
        self.session.select(conn, folder)
        wanted = f"<{message_id.strip().strip('<>')}>"
        typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", quote(wanted))
        check(typ, data, f"UID SEARCH {folder}")
        return bool(uids(data))

    def already_sent(self, message_id: str) -> bool:
        def look(conn: imaplib.IMAP4) -> bool:
            folders = [self.folders.sent(conn), REVIEW]
            return any(
                self.folders.exists(conn, f) and self._holds(conn, f, message_id) for f in folders
            )

        return self.session.call("search Sent and Review", look)

    # -- calendar and files -------------------------------------------------------

    def diarise(self, entry: CalendarEntry) -> None:
        """IMAP has no calendar: invite the team address, as the local backend does."""
        calendar: dict[str, list[Any]] = self.state.get("calendar") or {}
        saved = calendar.get(entry.uid)
        previous = (int(saved[0]), (saved[1][0], saved[1][1], saved[1][2])) if saved else None
        fields = entry_fields(entry)
        sequence = next_sequence(previous, fields)
        if previous is None or previous[1] != fields:
            calendar[entry.uid] = [sequence, list(fields)]
            self.state.set("calendar", calendar)
        message_id = invitation_message_id(entry, sequence, self.address)
        if self.already_sent(message_id):
            return
        now = self.clock.now()
        ics = invitation_ics(entry, sequence, self.address, self.calendar_address, now)
        mail = invitation_mail(entry, ics, message_id, self.address, self.calendar_address, now)
        self.send(mail, [self.calendar_address], message_id)

    def save_file(self, name: str, content: bytes) -> str:
        return save_to_drive(self.shared_drive, name, content)
