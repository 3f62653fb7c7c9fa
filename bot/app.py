"""The composition root: the one place that builds backends, store, rules, outbox and clock."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

from bot.actions.outbox import Outbox
from bot.actions.recipients import ManagerLookup
from bot.classify.reading import Reading, read_mail
from bot.clock import LONDON, Clock
from bot.config import Config
from bot.handling.handle import Handler
from bot.handling.instructions import take_instructions
from bot.handling.poll import Poller, PollReport, note_token_expiry
from bot.handling.send import send_due
from bot.mailbox.base import Mailbox
from bot.mailbox.factory import MailboxFactory, local_mailbox, open_mailbox
from bot.mailbox.state import MemoryState
from bot.rules import Rules
from bot.store import Store
from bot.store.case_index import CaseIndex
from bot.store.mailbox_state import StoreState
from bot.store.spool import Spool
from bot.upkeep.tick import TickReport, tick
from bot.views.reader import Reader, open_reader
from bot.views.reports.monthly import monthly_maker

log = logging.getLogger(__name__)

__all__ = ["App", "Reader", "Rules", "build_app", "open_reader"]


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

HELPER_SWITCH_SECONDS = 0.0005


class App:
    """One bot over one mailbox and one store; every `now` comes from the injected clock."""

    def __init__(self, rules: Rules, clock: Clock, mailbox: Mailbox, store: Store) -> None:
        # The bot's helper threads (keeping mail over 128 KB, fsyncs, sending) spend their time
        # in system calls; when one returns, the thread needs the interpreter back, and by
        # default waits up to 5 ms for the main thread to let go of it, so little of their
        # work overlapped the main thread's. At half a millisecond it does (docs/benchmarks.md).
        sys.setswitchinterval(HELPER_SWITCH_SECONDS)
        self.rules = rules
        self.config = rules.config
        self.clock = clock
        self.mailbox = mailbox
        self.store = store
        self.engine = rules.engine()
        self.cases = CaseIndex(store)
        # What staff asked for on the dashboard, which never writes the store itself.
        self.spool = Spool.beside(store.directory)
        self.outbox = Outbox(
            self.config,
            rules.procedure,
            rules.renderer,
            store,
            directory_lookup(self.config, mailbox),
        )
        self.handler = Handler(
            config=self.config,
            engine=self.engine,
            outbox=self.outbox,
            store=store,
            cases=self.cases,
            policy=rules.policy,
            reread=self.read,
        )
        self.poller = Poller(
            mailbox=mailbox,
            store=store,
            cases=self.cases,
            outbox=self.outbox,
            handler=self.handler,
            read=self.read,
            limits=self.config.limits,
            start=self.start(),
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
        self.rules.renderer.refresh()  # a template edited meanwhile is used from now on
        report = self.poller.poll(now)
        take_instructions(
            now,
            spool=self.spool,
            handler=self.handler,
            store=self.store,
            cases=self.cases,
            outbox=self.outbox,
        )
        note_token_expiry(self.mailbox, self.store)
        report.delivered, report.failed = self._send(now)
        return report

    def tick(self) -> TickReport:
        now = self.clock.now()
        self.rules.renderer.refresh()
        report = tick(
            now,
            config=self.config,
            engine=self.engine,
            cases=self.cases,
            store=self.store,
            outbox=self.outbox,
            handler=self.handler,
            monthly=monthly_maker(self.rules, self.store),
        )
        report.delivered, report.failed = self._send(now)
        return report

    def _send(self, now: datetime) -> tuple[int, int]:
        return send_due(
            now, config=self.config, store=self.store, mailbox=self.mailbox, outbox=self.outbox
        )

    def tidy(self) -> bool:
        """What waits for the bot to be idle: the store's checkpoint, when due."""
        return self.store.compact_if_due()

    def once(self) -> tuple[PollReport, TickReport]:
        reports = self.poll(), self.tick()
        self.tidy()
        return reports


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
    rules.keep(config_path)  # the store's folder exists now
    try:
        if mailbox is None:
            state = StoreState(store, f"mailbox.{rules.config.mailbox.backend}")
            mailbox = (mailbox_factory or open_mailbox)(rules.config, clock, state)
        return App(rules, clock, mailbox, store)
    except BaseException:
        store.close()
        raise


def second_mailbox(config: Config, clock: Clock) -> Callable[[], Mailbox]:
    """Opens another connection to the configured mail system, for the watchdog's alerts.

    Its checkpoint state is thrown away: it only sends, it never fetches.
    """

    def opened() -> Mailbox:
        return open_mailbox(config, clock, MemoryState())

    return opened


def inbox_backlog(config: Config, clock: Clock) -> int | None:
    """How many emails wait in the local mailbox's inbox; None for other backends (not asked
    from here) or when the folders do not exist yet."""
    settings = config.mailbox.local
    if config.mailbox.backend != "local" or settings is None:
        return None
    if not settings.directory.is_dir():
        return None
    start = datetime.combine(config.start_date, time(0), LONDON)
    try:
        return local_mailbox(config, clock).count_waiting(start)
    except Exception:  # unreadable: shown as n/a; the poll figures tell the rest
        return None


def open_mailbox_to_check(
    config: Config, clock: Clock, factory: MailboxFactory | None = None
) -> Mailbox:
    """The configured mailbox with a throwaway checkpoint: `doctor` looks, the store is not
    touched (its own checkpoint stays where the daemon left it)."""
    return (factory or open_mailbox)(config, clock, MemoryState())
