"""On-premises Exchange through exchangelib: sync the inbox, move, send as MIME, diarise."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Credentials,
    FolderCollection,
    Identity,
    Message,
    OAuth2Credentials,
    Version,
)
from exchangelib.errors import ErrorFolderNotFound, ErrorInvalidSyncStateData, ErrorItemNotFound
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.transport import NTLM, OAUTH2

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.config.mailbox_settings import EwsMailbox as EwsSettings
from bot.mailbox.base import CalendarEntry, IncomingMail, MailboxState, SentRecord
from bot.mailbox.ews_calendar import PROPERTY_SET, register
from bot.mailbox.ews_calendar import diarise as diarise_entry
from bot.mailbox.ews_client import EwsCaller, connect
from bot.mailbox.ews_folders import EwsFolders
from bot.mailbox.files import save_to_drive

log = logging.getLogger(__name__)

SYNC_STATE = "sync_state"
PENDING = "pending"  # inbox item ids fetched and not yet moved: returned again until they are
_GONE = (ErrorItemNotFound,)


class QuarantineReason(ExtendedProperty):  # type: ignore[misc]
    """Why the bot set a message aside, kept on the message itself."""

    property_set_id = PROPERTY_SET
    property_name = "ContractConcernsQuarantineReason"
    property_type = "String"


register(Message, "cc_quarantine_reason", QuarantineReason)


def _received(moment: Any) -> datetime:
    return datetime.fromtimestamp(moment.timestamp(), UTC)


class EwsMailbox:
    """The shared mailbox on an Exchange server, through EWS."""

    def __init__(
        self,
        address: str,
        endpoint: str,
        *,
        state: MailboxState,
        shared_drive: Path,
        clock: Clock | None = None,
        credentials: Any = None,
        auth_type: str | None = NTLM,
        access_type: str = DELEGATE,
        version: Version | None = None,
        timeout: float = 60.0,
        verify_tls: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 100,
        max_busy_retries: int = 3,
    ) -> None:
        self.address = address
        self.endpoint = endpoint
        self.state = state
        self.shared_drive = Path(shared_drive)
        self.clock: Clock = clock or SystemClock()
        self.page_size = page_size
        self.account = connect(
            endpoint,
            address,
            credentials=credentials,
            auth_type=auth_type,
            access_type=access_type,
            version=version,
            timeout=timeout,
            verify_tls=verify_tls,
        )
        self.call = EwsCaller(endpoint, sleep, max_busy_retries=max_busy_retries)
        self.folders = EwsFolders(self.account, state, self.call)

    @classmethod
    def from_config(cls, config: Config, clock: Clock, state: MailboxState) -> EwsMailbox:
        settings: EwsSettings | None = config.mailbox.ews
        if settings is None:
            raise ValueError("mailbox.backend is ews but the config has no mailbox.ews section")
        address = config.mailbox.address
        credentials: Any
        if settings.auth_type == "OAuth2":
            credentials = OAuth2Credentials(
                client_id=settings.client_id,
                client_secret=_secret(settings.client_secret_env),
                tenant_id=settings.tenant_id,
                identity=Identity(primary_smtp_address=address),
            )
            auth_type = OAUTH2
        else:
            credentials = Credentials(settings.username, _secret(settings.password_env))
            auth_type = NTLM
        return cls(
            address,
            settings.service_endpoint,
            state=state,
            shared_drive=config.shared_drive,
            clock=clock,
            credentials=credentials,
            auth_type=auth_type,
            access_type=IMPERSONATION if settings.access_type == "impersonation" else DELEGATE,
            timeout=settings.timeout_seconds,
            verify_tls=settings.verify_tls,
        )

    # -- incoming -----------------------------------------------------------------

    def _sync(self, inbox: Any, sync_state: str | None) -> tuple[list[tuple[str, str]], str]:
        def run(start: str | None) -> tuple[list[tuple[str, str]], str]:
            changes = [
                (kind, item[0] if isinstance(item, tuple) else item.id)
                for kind, item in inbox.sync_items(
                    sync_state=start, only_fields=[], max_changes_returned=self.page_size
                )
            ]
            return changes, str(inbox.item_sync_state)

        def attempt() -> tuple[list[tuple[str, str]], str]:
            try:
                return run(sync_state)
            except ErrorInvalidSyncStateData:
                # The server forgot our place: start over; pending ids and the bot's
                # Message-ID dedupe keep the replayed mail from being handled twice.
                log.warning("EWS sync state rejected; syncing the inbox from the start")
                return run(None)

        return self.call("SyncFolderItems inbox", attempt)

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        """New inbox items since the saved sync state, plus those fetched before and not yet
        moved out (their handling failed, or the bot restarted); nothing is moved here."""
        inbox = self.folders.inbox()
        changes, new_state = self._sync(inbox, self.state.get(SYNC_STATE))
        pending: dict[str, str] = dict(self.state.get(PENDING) or {})
        for kind, item_id in changes:
            if kind in ("create", "update"):
                pending.setdefault(item_id, "")
            elif kind == "delete":
                pending.pop(item_id, None)
        found = self._read(inbox, list(pending))
        mails = [mail for mail in found if mail.received_at >= since]
        mails.sort(key=lambda mail: (mail.received_at, mail.backend_id))
        self.state.set(SYNC_STATE, new_state)
        # Ids with their change keys: quarantine needs the key to note the reason.
        self.state.set(PENDING, {mail.backend_id: mail.meta["changekey"] for mail in mails})
        log.info("EWS inbox: %d changes, %d messages to handle", len(changes), len(mails))
        return mails

    def _read(self, inbox: Any, ids: list[str]) -> list[IncomingMail]:
        if not ids:
            return []
        fields = ["mime_content", "datetime_received", "conversation_id"]
        results = self.call(
            "GetItem inbox",
            lambda: list(
                self.account.fetch(ids=[(i, None) for i in ids], folder=inbox, only_fields=fields)
            ),
        )
        mails = []
        for item_id, item in zip(ids, results, strict=True):
            if isinstance(item, _GONE):
                continue  # moved or deleted since: nothing to hand back
            if isinstance(item, Exception):
                raise self.call.unavailable(f"GetItem {item_id}", item)
            meta = {"changekey": str(item.changekey or "")}
            if item.conversation_id is not None:
                meta["conversation_id"] = str(item.conversation_id.id)
            raw = bytes(item.mime_content or b"")
            mails.append(IncomingMail(item_id, _received(item.datetime_received), raw, meta))
        return mails

    def _move(self, item_id: str, key: str) -> None:
        def move() -> list[Any]:
            try:
                target = self.folders.own(key)
                return list(self.account.bulk_move(ids=[(item_id, None)], to_folder=target))
            except ErrorFolderNotFound:
                # The remembered folder was deleted on the server: find or make it again.
                self.folders.forget(key)
                target = self.folders.own(key)
                return list(self.account.bulk_move(ids=[(item_id, None)], to_folder=target))

        result = self.call(f"MoveItem to {key}", move)
        if result and isinstance(result[0], Exception) and not isinstance(result[0], _GONE):
            raise self.call.unavailable(f"MoveItem {item_id}", result[0])
        pending: dict[str, str] = dict(self.state.get(PENDING) or {})
        if pending.pop(item_id, None) is not None:
            self.state.set(PENDING, pending)

    def mark_processed(self, backend_id: str) -> None:
        self._move(backend_id, "processed")

    def quarantine(self, backend_id: str, reason: str) -> None:
        changekey = (self.state.get(PENDING) or {}).get(backend_id)
        if changekey:
            note = Message(
                account=self.account,
                id=backend_id,
                changekey=changekey,
                cc_quarantine_reason=reason[:1000],
            )

            def annotate() -> None:
                # Gone: already moved, and the move below is a no-op too. Overwrite: a stale
                # change key must not stop the message being set aside.
                with suppress(*_GONE):
                    note.save(
                        update_fields=["cc_quarantine_reason"],
                        conflict_resolution="AlwaysOverwrite",
                    )

            self.call("UpdateItem quarantine reason", annotate)
        self._move(backend_id, "quarantine")

    # -- outgoing -----------------------------------------------------------------

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        """Send the bytes as MIME; Exchange keeps the copy in Sent Items (SendAndSaveCopy)."""
        sent = self.folders.sent()
        # Exchange addresses the mail from its headers; anyone else given is a Bcc.
        headers = BytesHeaderParser(policy=default_policy).parsebytes(message)
        named = {
            addr.lower()
            for _, addr in getaddresses(
                [str(v) for k in ("to", "cc") for v in headers.get_all(k, [])]
            )
        }
        extra = [r for r in recipients if r.lower() not in named]
        item = Message(
            account=self.account, folder=sent, mime_content=message, bcc_recipients=extra or None
        )
        self.call("CreateItem send", lambda: item.send_and_save())
        return SentRecord(message_id=message_id, location="Sent Items", extra={"folder": "sent"})

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        review = self.folders.own("review")
        item = Message(account=self.account, folder=review, mime_content=message)
        self.call("CreateItem review", lambda: item.save())
        return SentRecord(message_id=message_id, location="Review", extra={"folder": "review"})

    def already_sent(self, message_id: str) -> bool:
        wanted = f"<{message_id.strip().strip('<>')}>"
        folders = [self.folders.sent(), self.folders.own("review")]
        query = FolderCollection(account=self.account, folders=folders)
        return bool(self.call("FindItem sent", lambda: query.filter(message_id=wanted).exists()))

    # -- calendar and files -------------------------------------------------------

    def diarise(self, entry: CalendarEntry) -> None:
        diarise_entry(self.account, self.folders.calendar(), self.call, entry)

    def save_file(self, name: str, content: bytes) -> str:
        """Closure reports go to the council's file share, as with the local backend."""
        return save_to_drive(self.shared_drive, name, content)


def _secret(variable: str | None) -> str:
    value = os.environ.get(variable or "")
    if not value:
        raise ValueError(
            f"the EWS secret is missing: set the environment variable {variable} "
            "(named in mailbox.ews of the config)"
        )
    return value
