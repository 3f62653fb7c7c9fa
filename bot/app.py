"""The composition root: wires config, mailbox, store, rules, templates and clock; poll and tick."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from bot.actions.delivery import deliver
from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.cases import CaseIndex
from bot.classify import ClassificationRules, load_classification
from bot.clock import Clock
from bot.commands import CommandPolicy, load_command_policy
from bot.config import Config, load_config
from bot.digest import send_digests
from bot.handle import Handler
from bot.intake.parse import MailParseError
from bot.intake.reading import Reading, read_mail
from bot.letters.render import Renderer
from bot.mailbox.base import IncomingMail, Mailbox
from bot.mailbox.maildir import LocalMailbox
from bot.procedure.engine import Engine, Times
from bot.procedure.model import Procedure, load_procedure
from bot.store import Store
from bot.workdays import WorkCalendar

log = logging.getLogger(__name__)


@dataclass
class Rules:
    """Everything a council may edit, loaded and checked together."""

    config: Config
    procedure: Procedure
    classification: ClassificationRules
    policy: CommandPolicy
    renderer: Renderer

    @classmethod
    def load(cls, config_path: Path) -> Rules:
        config = load_config(config_path)
        renderer = Renderer(config.templates)
        procedure = load_procedure(config.rules.procedure, renderer.names())
        classification = load_classification(
            config.rules.classification, stages=set(procedure.stages)
        )
        policy = load_command_policy(config.rules.commands)
        return cls(config, procedure, classification, policy, renderer)

    def engine(self) -> Engine:
        config = self.config
        calendar = WorkCalendar(config.closure_days_map(), config.close_of_business_time())
        reminders = time.fromisoformat(self.procedure.settings.internal_reminder_time)
        return Engine(self.procedure, calendar, Times(config.letters_time(), reminders))


def local_mailbox(config: Config, clock: Clock) -> LocalMailbox:
    settings = config.mailbox.local
    if settings is None:
        raise ValueError("mailbox.local is not configured")
    return LocalMailbox(
        settings.directory,
        config.mailbox.address,
        config.council.team_address,
        config.shared_drive,
        clock=clock,
    )


MOVES_OWED = "moves_owed"  # store meta: inbox moves the last commit owes the mailbox


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


@dataclass
class TickReport:
    cases_changed: list[str] = field(default_factory=list)
    digests: int = 0
    delivered: int = 0
    failed: int = 0


class App:
    """One bot over one mailbox and one store; every `now` comes from the injected clock."""

    def __init__(self, rules: Rules, clock: Clock, mailbox: Mailbox, store: Store) -> None:
        self.rules = rules
        self.config = rules.config
        self.clock = clock
        self.mailbox = mailbox
        self.store = store
        self.engine = rules.engine()
        self.cases = CaseIndex(store)
        self.outbox = Outbox(self.config, rules.procedure, rules.renderer, store)
        self.handler = Handler(
            config=self.config,
            engine=self.engine,
            outbox=self.outbox,
            store=store,
            cases=self.cases,
            policy=rules.policy,
            reread=self.read,
        )

    def start(self) -> datetime:
        """Mail received before the configured start date is never touched."""
        return datetime.combine(self.config.start_date, time(0), self.engine.calendar.zone)

    def read(
        self, raw: bytes, received_at: datetime, placed_by: tuple[str, str] | None = None
    ) -> Reading:
        return read_mail(
            raw,
            received_at,
            config=self.config,
            rules=self.rules.classification,
            get_case=self.cases.get,
            participant_cases=self.cases.participants,
            placed_by=placed_by,
        )

    def poll(self) -> PollReport:
        now = self.clock.now()
        self._finish_moves()
        incoming = self.mailbox.fetch_new(self.start())
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
            if failure.permanent or attempts[key] >= self.config.limits.max_attempts:
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
        self.store.set_meta("attempts", attempts)
        self.store.set_meta("last_poll", now.isoformat())
        # The moves out of the inbox are owed from the moment the changes are stored: written
        # in the same commit, so a crash before they are done cannot leave them undone.
        owed = [{"id": i, "to": "processed"} for i in processed]
        owed += [{"id": i, "to": "quarantine", "reason": r} for i, r in report.quarantined]
        self.store.set_meta(MOVES_OWED, owed)
        self.store.commit()
        self._finish_moves()
        report.delivered, report.failed = self._deliver(now)
        return report

    def _finish_moves(self) -> None:
        """Move handled mail out of the inbox as the last commit recorded (idempotent)."""
        owed = self.store.get_meta(MOVES_OWED) or []
        if not owed:
            return
        for move in owed:
            if move["to"] == "quarantine":
                self.mailbox.quarantine(move["id"], move["reason"])
            else:
                self.mailbox.mark_processed(move["id"])
        self.store.set_meta(MOVES_OWED, [])  # committed with the next write

    def _handle_batch(
        self,
        incoming: list[IncomingMail],
        skip: set[str],
        report: PollReport,
        now: datetime,
    ) -> list[str]:
        processed: list[str] = []
        limit = self.config.limits.max_attachment_mb * 1024 * 1024
        for item in incoming:
            if item.backend_id in skip:
                continue
            if len(item.raw) > limit:
                reason = (
                    f"too large: {len(item.raw) / 1048576:.1f} MB is over the "
                    f"{self.config.limits.max_attachment_mb} MB limit (limits.max_attachment_mb)"
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
        reading = self.read(item.raw, item.received_at)
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
                "sha": self.store.keep_raw(item.raw),
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

    def tick(self) -> TickReport:
        now = self.clock.now()
        report = TickReport()
        for case in self.cases.open():
            try:
                outcome = self.engine.fire_due(case, now)
                if not outcome.applied:
                    continue
                self.handler.queue_outcome(outcome, now, None)
                self.outbox.stage()
                self.cases.put(outcome.case)
                report.cases_changed.append(case.reference)
                self.store.audit(
                    {
                        "at": now.isoformat(),
                        "event": "tick",
                        "reference": case.reference,
                        "stage": outcome.case.stage,
                    }
                )
            except Exception as err:  # one broken case must not stop the others' deadlines
                self.outbox.discard()
                log.exception("deadline tick failed for %s", case.reference)
                self.store.audit(
                    {
                        "at": now.isoformat(),
                        "event": "tick-error",
                        "reference": case.reference,
                        "error": type(err).__name__,
                    }
                )
        report.digests = send_digests(
            now=now,
            config=self.config,
            engine=self.engine,
            cases=self.cases,
            store=self.store,
            outbox=self.outbox,
        )
        self.outbox.stage()
        self.store.set_meta("last_tick", now.isoformat())
        self.store.commit()
        report.delivered, report.failed = self._deliver(now)
        return report

    def _deliver(self, now: datetime) -> tuple[int, int]:
        result = deliver(
            self.store,
            self.mailbox,
            shadow=self.config.shadow_mode,
            now=now,
            daily_cap=self.config.limits.daily_cap_per_recipient,
        )
        for message_id, address in result.held:
            self._cap_alert(message_id, address, now)
        if result.delivered or result.held:
            self.store.commit()
        return result.delivered, result.failed

    def _cap_alert(self, message_id: str, address: str, now: datetime) -> None:
        """Tell the admins, once a day per address, that mail to it is being held."""
        admins = [Recipient("", a) for a in self.config.admin_contacts]
        if not admins:
            log.error("daily cap reached for %s; no admin_contacts to tell", message_id)
            return
        self.outbox.queue_message(
            template="admin_alert",
            to=admins,
            case=None,
            key=f"cap.{address}.{now.date().isoformat()}",
            now=now,
            extra={
                "problem": f"{self.config.limits.daily_cap_per_recipient} messages went to "
                f"{address} today, the daily cap; more for it are held until "
                "tomorrow (a mail loop?)",
                "since": now,
            },
        )
        self.outbox.stage()

    def once(self) -> tuple[PollReport, TickReport]:
        return self.poll(), self.tick()


def build_app(config_path: Path, clock: Clock, *, mailbox: Mailbox | None = None) -> App:
    rules = Rules.load(config_path)
    store = Store(rules.config.store.directory)
    try:
        return App(rules, clock, mailbox or local_mailbox(rules.config, clock), store)
    except BaseException:
        store.close()
        raise
