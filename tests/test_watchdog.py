"""A poll that never ends is seen: the watchdog alerts the admins, status shows it, systemd too."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.clock import LONDON, Clock
from bot.demo.harness import Workspace
from bot.mailbox.base import IncomingMail, Mailbox, MailboxState
from bot.mailbox.maildir import LocalMailbox
from bot.upkeep import poll_marker
from bot.upkeep.daemon import Cycle, build_watchdog
from bot.upkeep.health import check_health
from bot.upkeep.sd_notify import notify, watchdog_seconds
from bot.upkeep.watchdog import check_every
from bot.views.status import collect

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
ADMIN = "ict.servicedesk@council.example"
WAIT = 10.0  # seconds a test waits for another thread before failing; never slept


class StuckMailbox(LocalMailbox):
    """A local mailbox whose fetch never answers until the test lets it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.entered = threading.Event()
        self.release = threading.Event()

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        self.entered.set()
        self.release.wait()  # a server that accepted the request and went silent
        return super().fetch_new(since)


class StuckServer:
    """The local folders as a mail system whose fetch hangs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.local: StuckMailbox | None = None

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox:
        self.local = StuckMailbox(
            self.directory, "contract.concerns@council.example",
            "contract.management@council.example", self.directory.parent / "drive", clock=clock,
        )
        return self.local

    def second(self) -> Mailbox:
        """Another connection to the same folders, as the daemon opens for its alerts."""
        assert self.local is not None
        return LocalMailbox(
            self.directory, self.local.address, self.local.calendar_address,
            self.local.shared_drive, clock=self.local.clock,
        )

    def inject(self, raw: bytes, received_at: datetime) -> None:
        assert self.local is not None
        self.local.deliver(raw, received_at)

    def folder(self, name: str) -> list[bytes]:
        assert self.local is not None
        return [raw for _, raw in self.local.sent_messages(name)]


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


@pytest.fixture
def stuck(tmp_path: Path) -> Iterator[tuple[Workspace, StuckServer]]:
    server = StuckServer(tmp_path / "mail")
    ws = Workspace(tmp_path / "ws", START, server=server)
    yield ws, server
    assert server.local is not None
    server.local.release.set()
    ws.close()


def test_a_stuck_poll_raises_the_alert_within_its_limit(
    stuck: tuple[Workspace, StuckServer],
) -> None:
    ws, server = stuck
    assert server.local is not None
    limit = timedelta(minutes=ws.app.config.monitoring.poll_stuck_minutes)
    watchdog = build_watchdog(ws.app, server.second)
    cycle = Cycle(ws.app, watchdog=watchdog)
    poller = threading.Thread(target=cycle, daemon=True)
    poller.start()
    assert server.local.entered.wait(WAIT), "the poll never reached the mailbox"
    # Up to the limit the watchdog is quiet, and status says only that a poll is running.
    ws.clock.set(START + limit)
    assert watchdog.check() and not watchdog.alerted.is_set()
    config = ws.app.config
    status = collect(START + limit, config, ws.app.engine, ws.app.store, None)
    assert status.poll_running_since == START
    assert "stuck" not in [a.kind for a in status.alerts]
    # Past it, the watchdog's own thread alerts while the poll thread is still stuck.
    ws.clock.set(START + limit + timedelta(minutes=1))
    stop = threading.Event()
    watchdog.start(stop, every=0.01)
    try:
        assert watchdog.alerted.wait(WAIT), "no alert from the watchdog thread"
    finally:
        stop.set()
    assert poller.is_alive(), "the poll should still be stuck"
    (alert,) = [raw for raw in server.folder("sent") if ADMIN.encode() in raw]
    assert "has been running for 16 minutes" in _text(alert)
    # A status process sees it too, from the owner-only marker file.
    marker = poll_marker.marker_path(config.store.directory)
    assert marker.stat().st_mode & 0o777 == 0o600
    found = check_health(START + limit + timedelta(minutes=1), None, config)
    assert [a.kind for a in found] == ["stuck"]
    # One alert per stuck poll, however often the watchdog looks.
    assert not watchdog.check()
    assert len([raw for raw in server.folder("sent") if ADMIN.encode() in raw]) == 1
    # The poll ends: the marker goes, and the poll-running row is empty again.
    server.local.release.set()
    poller.join(WAIT)
    assert not poller.is_alive() and not marker.exists()
    assert watchdog.check()


def test_notify_writes_the_datagram_systemd_reads(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        listener.settimeout(WAIT)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": str(path)})
        assert listener.recv(100) == b"WATCHDOG=1"
    assert not notify("READY=1", {})  # not under systemd: nothing to do
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})


def test_heartbeats_stop_while_a_poll_is_stuck(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        listener.setblocking(False)
        watchdog = build_watchdog(workspace.app, None)
        watchdog.heartbeat = True
        watchdog.sd_notify = lambda state: notify(state, {"NOTIFY_SOCKET": str(path)})
        assert watchdog.check()
        assert listener.recv(100) == b"WATCHDOG=1"
        watchdog.poll_started()
        workspace.clock.set(workspace.clock.now() + timedelta(minutes=16))
        assert not watchdog.check()  # logged only: no second mailbox given
        with pytest.raises(BlockingIOError):
            listener.recv(100)  # silence: systemd restarts the bot after WatchdogSec
        watchdog.poll_finished()


def test_the_watchdog_interval_follows_systemd() -> None:
    env = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_seconds(env) == 30.0
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({}) is None
    assert check_every(timedelta(minutes=15), 30.0) == 10.0
    assert check_every(timedelta(minutes=15), None) == 60.0


def test_a_marker_left_by_a_dead_process_is_not_a_running_poll(tmp_path: Path) -> None:
    poll_marker.mark_started(tmp_path, START)
    assert poll_marker.running_since(tmp_path) == START
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    marker = poll_marker.marker_path(tmp_path)
    marker.write_text(f'{{"started": "{START.isoformat()}", "pid": {done.stdout.strip()}}}')
    assert poll_marker.running_since(tmp_path) is None
