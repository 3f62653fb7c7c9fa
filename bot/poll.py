"""One poll of the mailbox: handle each new email, commit once, then move it out of the inbox."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.intake.parse import MailParseError
from bot.mailbox.base import IncomingMail

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MOVES_OWED = "moves_owed"  # store meta: inbox moves the last commit owes the mailbox
INBOX_LEFT = "inbox_left"  # store meta: when each email the last poll left in the inbox arrived


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
    """Takes new mail through intake and handling for an App; nothing here knows the backend."""

    def __init__(self, app: App) -> None:
        self.app = app

    def poll(self, now: datetime) -> PollReport:
        """Read new mail, handle each email, commit once, then move it out of the inbox."""
        self._finish_moves()
        incoming = self.app.mailbox.fetch_new(self.app.start())
        failed: dict[str, _MessageFailed] = {}
        while True:
            report = PollReport(fetched=len(incoming))
            try:
                processed = self._handle_batch(incoming, set(failed), report, now)
                break
            except _MessageFailed as err:
                # Undo everything staged by this batch, then replay it without that email:
                # handling is deterministic, so the good emails end exactly as before.
                self.app.store.rollback()
                self.app.cases.reload()
                self.app.outbox.discard()
                failed[err.item.backend_id] = err
        # Failed attempts per email still in the inbox (by content, which no backend changes).
        waiting = {hashlib.sha256(item.raw).hexdigest() for item in incoming}
        saved = self.app.store.get_meta("attempts") or {}
        attempts: dict[str, int] = {k: v for k, v in saved.items() if k in waiting}
        for failure in failed.values():
            key = hashlib.sha256(failure.item.raw).hexdigest()
            attempts[key] = attempts.get(key, 0) + 1
            if failure.permanent or attempts[key] >= self.app.config.limits.max_attempts:
                log.warning("quarantining %s: %s", failure.item.backend_id, failure.kind)
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
        self.app.store.set_meta("attempts", attempts)
        self.app.store.set_meta("last_poll", now.isoformat())
        # The moves out of the inbox are owed from the moment the changes are stored: written
        # in the same commit, so a crash before they are done cannot leave them undone.
        owed = [{"id": i, "to": "processed"} for i in processed]
        owed += [{"id": i, "to": "quarantine", "reason": r} for i, r in report.quarantined]
        self.app.store.set_meta(MOVES_OWED, owed)
        moved = {move["id"] for move in owed}
        left = [item.received_at.isoformat() for item in incoming if item.backend_id not in moved]
        self.app.store.set_meta(INBOX_LEFT, sorted(left))
        self.app.store.commit()
        self._finish_moves()
        return report

    def _finish_moves(self) -> None:
        """Move handled mail out of the inbox as the last commit recorded (idempotent)."""
        owed = self.app.store.get_meta(MOVES_OWED) or []
        if not owed:
            return
        for move in owed:
            if move["to"] == "quarantine":
                self.app.mailbox.quarantine(move["id"], move["reason"])
            else:
                self.app.mailbox.mark_processed(move["id"])
        self.app.store.set_meta(MOVES_OWED, [])  # committed with the next write

    def _handle_batch(
        self,
        incoming: list[IncomingMail],
        skip: set[str],
        report: PollReport,
        now: datetime,
    ) -> list[str]:
        processed: list[str] = []
        limit = self.app.config.limits.max_attachment_mb * 1024 * 1024
        for item in incoming:
            if item.backend_id in skip:
                continue
            if len(item.raw) > limit:
                megabytes = self.app.config.limits.max_attachment_mb
                reason = (
                    f"too large: {len(item.raw) / 1048576:.1f} MB is over the "
                    f"{megabytes} MB limit (limits.max_attachment_mb)"
                )
                raise _MessageFailed(item, reason, "too large", permanent=True)
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
        reading = self.app.read(item.raw, item.received_at)
        key = reading.mail.dedupe_key
        if self.app.store.seen(key):
            report.duplicates += 1
            self.app.store.audit({"at": now.isoformat(), "event": "duplicate", "key": key})
            return True
        handled = self.app.handler.handle(reading, item.raw, now)
        self.app.outbox.stage()
        self.app.store.mark_seen(key)
        self.app.store.audit(
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
        if handled.quarantine:
            report.quarantined.append((item.backend_id, handled.quarantine))
            self._quarantine_record(item, handled.quarantine, now)
            return False
        return True

    def _quarantine_record(self, item: IncomingMail, reason: str, now: datetime) -> None:
        self.app.store.triage_add(
            {
                "received": item.received_at.isoformat(),
                "sender": "",
                "subject": "",
                "reason": f"quarantined, {reason}",
                "reference": None,
                "message_id": "",
                "sha": self.app.store.keep_raw(item.raw),
                "kind": "quarantined",
            }
        )
        self.app.store.audit(
            {
                "at": now.isoformat(),
                "event": "quarantine",
                "backend_id": item.backend_id,
                "reason": reason,
            }
        )
