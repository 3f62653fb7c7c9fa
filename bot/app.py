"""The composition root: wires config, mailbox, store, rules, templates and clock; poll and tick."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from bot.actions.delivery import deliver
from bot.actions.outbox import Outbox
from bot.actions.recipients import ManagerLookup, Recipient
from bot.cases import CaseIndex
from bot.classify import ClassificationRules, load_classification
from bot.clock import Clock
from bot.commands import CommandPolicy, load_command_policy
from bot.config import Config, load_config
from bot.digest import send_digests
from bot.handle import Handler
from bot.intake.reading import Reading, read_mail
from bot.letters.render import Renderer
from bot.mailbox.base import Mailbox
from bot.mailbox.factory import MailboxFactory, open_mailbox
from bot.mailbox.state import StoreState
from bot.monitor import TOKEN_EXPIRES
from bot.poll import Poller, PollReport
from bot.procedure.deadlines import Times
from bot.procedure.engine import Engine
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


def directory_lookup(config: Config, mailbox: Mailbox) -> ManagerLookup | None:
    """The mail system's directory of managers, when the config allows asking it.

    Answers are remembered for the life of the process: a poll replayed after a failed email
    must see the same recipients, and one referrer's manager costs one request, not one a day.
    """
    graph = config.mailbox.graph
    lookup = getattr(mailbox, "manager_of", None)
    if graph is None or not graph.manager_from_directory or lookup is None:
        return None
    answers: dict[str, str | None] = {}

    def manager_of(address: str) -> str | None:
        key = address.lower()
        if key not in answers:
            answers[key] = lookup(address)
        return answers[key]

    return manager_of


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
        self.outbox = Outbox(
            self.config,
            rules.procedure,
            rules.renderer,
            store,
            directory_lookup(self.config, mailbox),
        )
        self.poller = Poller(self)
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
        report = self.poller.poll(now)
        expiry = getattr(self.mailbox, "token_expires_at", None)
        expires = expiry() if expiry is not None else None
        if expires is not None and self.store.get_meta(TOKEN_EXPIRES) != expires.isoformat():
            # For `status`; committed with the tick that follows every poll.
            self.store.set_meta(TOKEN_EXPIRES, expires.isoformat())
        report.delivered, report.failed = self._deliver(now)
        return report

    def tick(self) -> TickReport:
        now = self.clock.now()
        report = TickReport()
        # Only cases with a deadline firing by now are parsed: a tick is not O(open cases) work.
        for reference in self.cases.due(now):
            case = self.cases.get(reference)
            if case is None:
                continue
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
            untried=self.outbox.untried,
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


def build_app(
    config_path: Path,
    clock: Clock,
    *,
    mailbox: Mailbox | None = None,
    mailbox_factory: MailboxFactory | None = None,
) -> App:
    """The bot on the configured backend (or on `mailbox`, or what `mailbox_factory` opens)."""
    rules = Rules.load(config_path)
    store = Store(rules.config.store.directory)
    try:
        if mailbox is None:
            state = StoreState(store, f"mailbox.{rules.config.mailbox.backend}")
            mailbox = (mailbox_factory or open_mailbox)(rules.config, clock, state)
        return App(rules, clock, mailbox, store)
    except BaseException:
        store.close()
        raise
