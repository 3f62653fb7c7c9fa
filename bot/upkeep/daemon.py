"""The daemon: APScheduler runs poll, tick, retention and the self-monitor until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import FrameType
from typing import Protocol

from apscheduler.schedulers.blocking import BlockingScheduler

from bot.actions.outbox import Outbox
from bot.clock import LONDON, Clock
from bot.config import Config
from bot.handling.poll import PollReport
from bot.mailbox.base import Mailbox, MailboxAuthError
from bot.store import Store, StoreError
from bot.store.case_index import CaseIndex
from bot.store.meta_keys import LOGIN_FAILURE, POLL_FAILING_SINCE, RETENTION_DAY
from bot.upkeep.health import Alert, check_health
from bot.upkeep.memory import settle_heap
from bot.upkeep.monitor import AlertMemory, send_alerts, send_directly
from bot.upkeep.retention import purge_raw_mail
from bot.upkeep.sd_notify import notify, watchdog_seconds
from bot.upkeep.tick import TickReport
from bot.upkeep.watchdog import SendAlert, Watchdog, check_every

log = logging.getLogger(__name__)


class Bot(Protocol):
    """What the daemon drives: one bot over one mailbox and one store, built by the caller."""

    config: Config
    clock: Clock
    mailbox: Mailbox
    store: Store
    cases: CaseIndex
    outbox: Outbox

    def poll(self) -> PollReport: ...

    def tick(self) -> TickReport: ...

    def tidy(self) -> bool: ...


class Cycle:
    """One scheduled run: poll, tick, daily retention, then alerts; it never raises."""

    def __init__(
        self, app: Bot, memory: AlertMemory | None = None, watchdog: Watchdog | None = None
    ) -> None:
        self.app = app
        self.memory = memory or AlertMemory()
        self.watchdog = watchdog
        self._settled_on: date | None = None  # the day the heap was last settled

    def __call__(self) -> None:
        app = self.app
        store_ok = self._poll(app.clock.now())
        try:
            tick = app.tick()
            log.info("tick: %d cases moved; %d sent", len(tick.cases_changed), tick.delivered)
        except Exception as err:  # the next cycle retries from the last commit
            log.exception("deadline tick failed")
            self.reset()
            store_ok = store_ok and not isinstance(err, StoreError | OSError)
        now = app.clock.now()
        if store_ok:
            self._retention(now)
        self._monitor(now, store_ok)
        if store_ok:
            self._tidy()
        today = now.date()
        settle_heap(thorough=self._settled_on not in (None, today))
        self._settled_on = today

    def _tidy(self) -> None:
        """The checkpoint, when due, now that the cycle's mail and letters are done."""
        try:
            self.app.tidy()
        except Exception:  # a commit compacts anyway once the changes grow far enough
            log.exception("the store's checkpoint failed; tried again after the next cycle")

    def reset(self) -> None:
        """Back to the last commit, so a failed step's half-staged changes never get written."""
        try:
            self.app.store.rollback()
            self.app.cases.reload()
        except Exception:
            log.exception("could not reload the store after a failure")
        self.app.outbox.discard()

    def _poll(self, now: datetime) -> bool:
        """Poll and record the outcome; False when the store could not be written."""
        if self.watchdog is not None:
            self.watchdog.poll_started()
        try:
            poll = self.app.poll()
        except MailboxAuthError as err:
            log.error("the mail system refused the login: %s", err)
            self.reset()
            return self._poll_failed(now, login_failure=str(err))
        except Exception:  # nothing was marked processed; the next cycle retries
            log.exception("poll failed")
            self.reset()
            return self._poll_failed(now)
        finally:
            if self.watchdog is not None:
                self.watchdog.poll_finished()
        log.info(
            "poll: %d handled, %d quarantined; %d sent",
            len(poll.handled),
            len(poll.quarantined),
            poll.delivered,
        )
        self.memory.failing_since = None
        self.memory.login_failure = None
        store = self.app.store
        if store.get_meta(POLL_FAILING_SINCE) is None and store.get_meta(LOGIN_FAILURE) is None:
            return True
        try:
            store.set_meta(POLL_FAILING_SINCE, None)
            store.set_meta(LOGIN_FAILURE, None)
            store.commit()
        except (StoreError, OSError):
            log.exception("could not record that polling works again")
            self.reset()
            return False
        log.warning("polling works again")
        return True

    def _poll_failed(self, now: datetime, login_failure: str | None = None) -> bool:
        # Kept in memory as well: when the store is what fails, that is the only record.
        if self.memory.failing_since is None:
            self.memory.failing_since = now
        self.memory.login_failure = login_failure
        store = self.app.store
        recorded = store.get_meta(LOGIN_FAILURE)
        login = {"problem": login_failure, "since": now.isoformat()} if login_failure else None
        if recorded and login:
            login["since"] = recorded["since"]
        if store.get_meta(POLL_FAILING_SINCE) is not None and recorded == login:
            return True
        try:
            store.set_meta(LOGIN_FAILURE, login)
            store.set_meta(POLL_FAILING_SINCE, self.memory.failing_since.isoformat())
            store.commit()
        except (StoreError, OSError):
            log.exception("could not record the poll failure in the store")
            self.reset()
            return False
        return True

    def _retention(self, now: datetime) -> None:
        store = self.app.store
        today = now.astimezone(LONDON).date().isoformat()
        if store.get_meta(RETENTION_DAY) == today:
            return
        try:
            purge_raw_mail(now, store, self.app.config)
            store.set_meta(RETENTION_DAY, today)
            store.commit()
        except Exception:  # retried tomorrow, or next cycle if the day was not recorded
            log.exception("raw mail retention failed")
            self.reset()

    def _monitor(self, now: datetime, store_ok: bool) -> None:
        app = self.app
        try:
            alerts = check_health(
                now,
                app.store,
                app.config,
                failing_since=self.memory.failing_since,
                login_failure=self.memory.login_failure,
            )
            send_alerts(
                now,
                alerts,
                outbox=app.outbox,
                mailbox=app.mailbox,
                memory=self.memory,
                store_ok=store_ok,
                reset=self.reset,
            )
        except Exception:  # the monitor must never stop the daemon it watches
            log.exception("self-monitoring failed")
            self.reset()


def direct_alerts(app: Bot, open_mailbox: Callable[[], Mailbox]) -> SendAlert:
    """The watchdog's way to the admins: a mailbox connection of its own, opened per alert
    (the poll thread may be stuck inside the first one), and no store (it may hold it)."""
    memory = AlertMemory()

    def send(alert: Alert, now: datetime) -> None:
        send_directly(now, [alert], app.outbox, open_mailbox(), memory)

    return send


def build_watchdog(app: Bot, open_mailbox: Callable[[], Mailbox] | None) -> Watchdog:
    """The daemon's watchdog; with no second mailbox it can only log (and stop feeding systemd)."""

    def log_only(alert: Alert, now: datetime) -> None:
        log.critical("no second mailbox to send the alert through: %s", alert.problem)

    return Watchdog(
        clock=app.clock,
        limit=timedelta(minutes=app.config.monitoring.poll_stuck_minutes),
        address=app.config.mailbox.address,
        send_alert=direct_alerts(app, open_mailbox) if open_mailbox else log_only,
        store_directory=app.config.store.directory,
        heartbeat=watchdog_seconds() is not None,
    )


def run_daemon(app: Bot, alert_mailbox: Callable[[], Mailbox] | None = None) -> int:
    """Run `app` every poll interval until SIGTERM or Ctrl-C; closes its store on the way out.

    `alert_mailbox` opens a second connection to the mail system for the watchdog's alerts.
    """
    scheduler = BlockingScheduler(timezone=LONDON)
    watchdog = build_watchdog(app, alert_mailbox)
    cycle = Cycle(app, watchdog=watchdog)
    stop_watching = threading.Event()

    # One job, first run now: with max_instances=1 a slow cycle is never overlapped by the next.
    scheduler.add_job(
        cycle,
        "interval",
        seconds=app.config.poll_interval_seconds,
        id="cycle",
        max_instances=1,
        coalesce=True,
        next_run_time=app.clock.now(),
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        notify("STOPPING=1")
        scheduler.shutdown(wait=False)

    # Both, explicitly: a daemon started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"polling {app.config.mailbox.address} every {app.config.poll_interval_seconds}s; "
        "Ctrl-C stops",
        flush=True,
    )
    watchdog.start(stop_watching, check_every(watchdog.limit, watchdog_seconds()))
    notify("READY=1")  # for Type=notify units: started, the first poll follows at once
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop_watching.set()
        watchdog.poll_finished()
        app.store.close()
    print("stopped", flush=True)
    return 0
