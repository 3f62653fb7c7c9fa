"""A thread that watches the poll: alerts the admins when one runs too long, feeds systemd."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.upkeep import poll_marker
from bot.upkeep.health import Alert, stuck_alert
from bot.upkeep.sd_notify import notify

log = logging.getLogger(__name__)

# Sends one alert to the admin contacts without the poll thread, its store or its connection.
SendAlert = Callable[[Alert, datetime], None]
Notify = Callable[[str], bool]


class Watchdog:
    """Told when each poll starts and ends; its own thread checks the time and raises alerts.

    The alert goes through `send_alert`, which the composition root makes with a second
    mailbox connection: the stuck thread may be holding the first one, the store and the
    outbox, so nothing here touches them.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        limit: timedelta,
        address: str,
        send_alert: SendAlert,
        store_directory: Path | None = None,
        sd_notify: Notify = notify,
        heartbeat: bool = False,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.address = address
        self.send_alert = send_alert
        self.store_directory = store_directory
        self.sd_notify = sd_notify
        self.heartbeat = heartbeat  # systemd's WatchdogSec is on: ping while polls keep time
        self.started: datetime | None = None
        self.alerted_for: datetime | None = None  # the start of the poll already alerted on
        self.alerted = threading.Event()  # set after each alert: for tests and the log
        self._lock = threading.Lock()

    def poll_started(self) -> None:
        started = self.clock.now()
        with self._lock:
            self.started = started
        if self.store_directory is not None:
            try:
                poll_marker.mark_started(self.store_directory, started)
            except OSError as err:  # status then cannot see it; the alert still works
                log.warning("could not record the poll start for status: %s", err)

    def poll_finished(self) -> None:
        with self._lock:
            self.started = None
        if self.store_directory is not None:
            try:
                poll_marker.mark_finished(self.store_directory)
            except OSError as err:
                log.warning("could not clear the poll-running record: %s", err)

    def check(self) -> bool:
        """One look; True while no poll has run past the limit. Never raises."""
        now = self.clock.now()
        with self._lock:
            started = self.started
            overdue = started is not None and now - started > self.limit
            due = overdue and self.alerted_for != started
            if due:
                self.alerted_for = started
        if started is not None and due:
            alert = stuck_alert(started, now, self.address)
            log.error("watchdog: %s", alert.problem)
            try:
                self.send_alert(alert, now)
            except Exception:  # the log above is then the only record
                log.exception("watchdog: the alert could not be sent")
            self.alerted.set()
        # No heartbeat while a poll is stuck: systemd restarts the bot after WatchdogSec.
        if self.heartbeat and not overdue:
            self.sd_notify("WATCHDOG=1")
        return not overdue

    def run(self, stop: threading.Event, every: float) -> None:
        """Check every `every` seconds until `stop` is set."""
        while not stop.wait(every):
            try:
                self.check()
            except Exception:  # the watchdog must outlive anything it watches
                log.exception("watchdog check failed")

    def start(self, stop: threading.Event, every: float) -> threading.Thread:
        # A daemon thread: it must never keep a stopping process alive.
        thread = threading.Thread(
            target=self.run, args=(stop, every), name="poll-watchdog", daemon=True
        )
        thread.start()
        return thread


def check_every(limit: timedelta, systemd_watchdog: float | None) -> float:
    """How often to look: often enough to alert near the limit and to feed systemd in time."""
    every = max(1.0, min(60.0, limit.total_seconds() / 10))
    if systemd_watchdog:
        every = min(every, systemd_watchdog / 3)  # systemd advises pinging at half or less
    return max(0.05, every)
