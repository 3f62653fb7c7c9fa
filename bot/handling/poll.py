"""One poll of the mailbox: handle each new email, commit once, then move it out of the inbox."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.actions.outbox import Outbox
from bot.classify.reading import Reading
from bot.config.settings import Limits
from bot.handling.handle import Handler
from bot.handling.reading_limits import LimitedReader, too_large
from bot.intake.parse import MailParseError
from bot.mailbox.base import IncomingMail, Mailbox
from bot.store import Store
from bot.store.case_index import CaseIndex
from bot.store.meta_keys import INBOX_LEFT, MOVES_OWED, TOKEN_EXPIRES

log = logging.getLogger(__name__)

# Reads raw mail received at a moment into what intake makes of it.
Read = Callable[[bytes, datetime], Reading]


class _MessageFailed(Exception):
    def __init__(self, item: IncomingMail, reason: str, kind: str, permanent: bool) -> None:
        super().__init__(reason)
        self.item = item
        self.reason = reason
        self.kind = kind
        self.permanent = permanent  # trying again cannot help: quarantine at once


@dataclass
class PollReport:
    fetched: int = 0
    handled: list[tuple[str, str, str | None]] = field(default_factory=list)  # key, outcome, ref
    duplicates: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0


class Poller:
    """Takes new mail through intake and handling; nothing here knows the backend."""

    def __init__(
        self,
        *,
        mailbox: Mailbox,
        store: Store,
        cases: CaseIndex,
        outbox: Outbox,
        handler: Handler,
        read: Read,
        limits: Limits,
        start: datetime,
    ) -> None:
        self.mailbox = mailbox
        self.store = store
        self.cases = cases
        self.outbox = outbox
        self.handler = handler
        self.read = read
        # Each email is read under limits.max_read_seconds and its attachments' limit.
        self.reader = LimitedReader(read, limits)
        self.limits = limits
        self.start = start  # mail received before it is never touched

    def poll(self, now: datetime) -> PollReport:
        """Read new mail, handle each email, commit once, then move it out of the inbox."""
        self._finish_moves()
        incoming = self.mailbox.fetch_new(self.start)
        failed: dict[str, _MessageFailed] = {}
        while True:
            report = PollReport(fetched=len(incoming))
            try:
                processed = self._handle_batch(incoming, set(failed), report, now)
                break
            except _MessageFailed as err:
                # Undo everything staged by this batch, then replay it without that email:
                # handling is deterministic, so the good emails end exactly as before.
                self.store.rollback()
                self.cases.reload()
                self.outbox.discard()
                failed[err.item.backend_id] = err
        # Failed attempts per email still in the inbox (by content, which no backend changes).
        waiting = {hashlib.sha256(item.raw).hexdigest() for item in incoming}
        saved = self.store.get_meta("attempts") or {}
        attempts: dict[str, int] = {k: v for k, v in saved.items() if k in waiting}
        for failure in failed.values():
            key = hashlib.sha256(failure.item.raw).hexdigest()
            attempts[key] = attempts.get(key, 0) + 1
            if failure.permanent or attempts[key] >= self.limits.max_attempts:
                log.warning(
                    "quarantining %s: %s",
                    failure.item.backend_id,
                    failure.kind,
                    extra={"event": "quarantine"},
                )
                self._quarantine_record(failure.item, failure.reason, now)
                report.quarantined.append((failure.item.backend_id, failure.reason))
                del attempts[key]
            else:
                # Left in the inbox: the next poll tries it again.
                log.warning(
                    "attempt %d failed for %s: %s",
                    attempts[key],
                    failure.item.backend_id,
                    failure.kind,
                )
                report.retrying.append(failure.item.backend_id)
        self.store.set_meta("attempts", attempts)
        self.store.set_meta("last_poll", now.isoformat())
        # The moves out of the inbox are owed from the moment the changes are stored: written
        # in the same commit, so a crash before they are done cannot leave them undone.
        owed = [{"id": i, "to": "processed"} for i in processed]
        owed += [{"id": i, "to": "quarantine", "reason": r} for i, r in report.quarantined]
        self.store.set_meta(MOVES_OWED, owed)
        moved = {move["id"] for move in owed}
        left = [item.received_at.isoformat() for item in incoming if item.backend_id not in moved]
        self.store.set_meta(INBOX_LEFT, sorted(left))
        self.store.commit()
        self._finish_moves()
        return report

    def _finish_moves(self) -> None:
        """Move handled mail out of the inbox as the last commit recorded (idempotent)."""
        owed = self.store.get_meta(MOVES_OWED) or []
        if not owed:
            return
        processed = [move["id"] for move in owed if move["to"] != "quarantine"]
        for move in owed:
            if move["to"] == "quarantine":
                self.mailbox.quarantine(move["id"], move["reason"])
        # A backend that can move many at once says so (Graph: four requests side by side).
        move_all = getattr(self.mailbox, "mark_processed_all", None)
        if move_all is not None and processed:
            move_all(processed)
        else:
            for backend_id in processed:
                self.mailbox.mark_processed(backend_id)
        self.store.set_meta(MOVES_OWED, [])  # committed with the next write

    def _handle_batch(
        self,
        incoming: list[IncomingMail],
        skip: set[str],
        report: PollReport,
        now: datetime,
    ) -> list[str]:
        processed: list[str] = []
        for item in incoming:
            if item.backend_id in skip:
                continue
            # The backend would not read it (a link, a FIFO, too large), or it is too large.
            refused = item.refused or too_large(item.raw, self.limits)
            if refused:
                raise _MessageFailed(item, refused, "refused", permanent=True)
            try:
                done = self._handle_one(item, report, now)
            except Exception as err:  # one bad email never stops the others
                reason = (
                    f"unreadable: {err}"
                    if isinstance(err, MailParseError)
                    else f"could not be handled: {type(err).__name__}: {err}"
                )
                raise _MessageFailed(
                    item, reason, type(err).__name__, permanent=isinstance(err, MailParseError)
                ) from err
            if done:
                processed.append(item.backend_id)
        return processed

    def _handle_one(self, item: IncomingMail, report: PollReport, now: datetime) -> bool:
        """Handle one email, staging every change; True when it may leave the inbox as
        processed (False: it goes to quarantine)."""
        reading = self.reader.read(item.raw, item.received_at)
        key = reading.mail.dedupe_key
        if self.store.seen(key):
            report.duplicates += 1
            self.store.audit({"at": now.isoformat(), "event": "duplicate", "key": key})
            return True
        handled = self.handler.handle(reading, item.raw, now)
        self.outbox.stage()
        self.store.mark_seen(key)
        self.store.audit(
            {
                "at": now.isoformat(),
                "event": "mail",
                "outcome": handled.outcome,
                "reference": handled.reference,
                "detail": handled.detail,
                "reading": reading.to_json(),
            }
        )
        report.handled.append((key, handled.outcome, handled.reference))
        log.info(
            "email handled: %s",
            handled.outcome,
            extra={"event": "mail", "outcome": handled.outcome, "reference": handled.reference},
        )
        if handled.quarantine:
            report.quarantined.append((item.backend_id, handled.quarantine))
            self._quarantine_record(item, handled.quarantine, now)
            return False
        return True

    def _quarantine_record(self, item: IncomingMail, reason: str, now: datetime) -> None:
        self.store.triage_add(
            {
                "received": item.received_at.isoformat(),
                "sender": "",
                "subject": "",
                "reason": f"quarantined, {reason}",
                "reference": None,
                "message_id": "",
                # Nothing read, nothing kept: the entry itself waits in the quarantine folder.
                "sha": "" if item.refused else self.store.keep_raw(item.raw),
                "kind": "quarantined",
            }
        )
        self.store.audit(
            {
                "at": now.isoformat(),
                "event": "quarantine",
                "backend_id": item.backend_id,
                "reason": reason,
            }
        )


def note_token_expiry(mailbox: Mailbox, store: Store) -> None:
    """Stage when the mail system's access token runs out, for `status`, when it changed."""
    expiry = getattr(mailbox, "token_expires_at", None)
    expires = expiry() if expiry is not None else None
    if expires is not None and store.get_meta(TOKEN_EXPIRES) != expires.isoformat():
        # Committed with the tick that follows every poll.
        store.set_meta(TOKEN_EXPIRES, expires.isoformat())
