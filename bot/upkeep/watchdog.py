"""The watchdog: from a thread of its own it sees a poll that has run too long, tells the
admin contacts through a mailbox connection of its own, and feeds systemd's watchdog only
while polls end in time, so that systemd restarts a bot whose poll never does."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.actions.outbox import Outbox
from bot.clock import Clock
from bot.config import Config
from bot.mailbox.base import Mailbox
from bot.upkeep.health import Alert, stuck_alert
from bot.upkeep.monitor import AlertMemory, send_directly
from bot.upkeep.poll_marker import record_end, record_start
from bot.upkeep.sd_notify import SystemdNotifier

log = logging.getLogger(__name__)

AlertSender = Callable[[Alert], None]
MAX_CHECK_SECONDS = 30.0


def direct_alerts(outbox: Outbox, open_mailbox: Callable[[], Mailbox], clock: Clock) -> AlertSender:
    """Send an alert through a mailbox opened for it alone.

    Never through the poll's own mailbox, which the stuck poll may hold in the middle of a
    call (an IMAP command half answered, a Graph request in flight), and never through the
    store, whose staged changes belong to the poll: a new connection (for the local backend,
    another view of the same folders) and the outbox's templates, which are only read.
    """
    memory = AlertMemory()

    def send(alert: Alert) -> None:
        if not outbox.config.admin_contacts:
            log.error("watchdog: no admin_contacts to tell: %s", alert.problem)
            return
        mailbox = open_mailbox()
        try:
            send_directly(clock.now(), [alert], outbox, mailbox, memory)
        finally:
            close = getattr(mailbox, "close", None)
            if callable(close):
                close()

    return send


class Watchdog:
    """Watches the polls of one daemon; `watching()` wraps each poll in the poll's thread."""

    def __init__(
        self,
        *,
        clock: Clock,
        config: Config,
        send: AlertSender,
        marker_dir: Path | None = None,
        notifier: SystemdNotifier | None = None,
        check_every: float | None = None,
    ) -> None:
        self.clock = clock
        self.config = config
        self.send = send
        self.marker_dir = marker_dir  # where `status` looks for the running poll
        self.notifier = notifier or SystemdNotifier(environ={})
        systemd = self.notifier.watchdog_seconds()
        # Twice per WatchdogSec, as sd_watchdog_enabled(3) advises.
        default = min(MAX_CHECK_SECONDS, systemd / 2) if systemd else MAX_CHECK_SECONDS
        self.check_every = check_every if check_every is not None else default
        self.checked = threading.Event()  # set after every check: lets a test follow along
        self._lock = threading.Lock()
        self._started: datetime | None = None
        self._alerted_for: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Mark a poll as running for as long as the block runs."""
        self.poll_started()
        try:
            yield
        finally:
            self.poll_finished()

    def poll_started(self) -> None:
        started = self.clock.now()
        with self._lock:
            self._started = started
        if self.marker_dir is not None:
            try:
                record_start(self.marker_dir, started, os.getpid())
            except OSError as err:  # only `status` loses sight of it; the poll goes on
                log.warning("watchdog: cannot record the poll's start: %s", err)

    def poll_finished(self) -> None:
        with self._lock:
            self._started = None
        if self.marker_dir is not None:
            try:
                record_end(self.marker_dir)
            except OSError as err:
                log.warning("watchdog: cannot record the poll's end: %s", err)

    def check(self) -> bool:
        """One look; True while no poll has run past its limit."""
        with self._lock:
            started = self._started
        alert = stuck_alert(self.clock.now(), self.config, started)
        if alert is None:
            return True
        if self._alerted_for != started:  # once per stuck poll
            self._alerted_for = started
            log.error("watchdog: %s", alert.problem)
            try:
                self.send(alert)
            except Exception:  # the log and systemd are all that is left
                log.exception("watchdog: the admin alert could not be sent")
        return False

    def start(self) -> None:
        """Tell systemd the bot is ready, then watch from a daemon thread."""
        self.notifier.notify("READY=1")
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            # A stuck poll stops the pings: systemd then restarts the bot after WatchdogSec.
            if self.check():
                self.notifier.notify("WATCHDOG=1")
            self.checked.set()
            if self._stop.wait(self.check_every):
                return

    def stop(self) -> None:
        self.notifier.notify("STOPPING=1")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
