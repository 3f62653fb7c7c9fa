"""A poll can never hang unseen: the watchdog alerts from its own thread, `status` shows the
poll, and systemd hears READY and WATCHDOG over its notify socket while polls end in time."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_watchdog
from bot.cli import main
from bot.clock import LONDON, Clock
from bot.demo.harness import Workspace
from bot.mailbox.base import IncomingMail, Mailbox, MailboxState
from bot.mailbox.maildir import LocalMailbox
from bot.upkeep.daemon import Cycle
from bot.upkeep.poll_marker import FILE, running_poll
from bot.upkeep.sd_notify import SystemdNotifier

ADMIN = "ict.servicedesk@council.example"
WAIT = 10.0  # seconds: only ever reached when the code under test is broken


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


class NotifySocket:
    """systemd's side of sd_notify: a datagram socket that keeps what it is told."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(WAIT)

    def receive(self) -> str:
        return self.sock.recv(4096).decode()

    def pending(self) -> list[str]:
        self.sock.setblocking(False)
        found = []
        try:
            while True:
                found.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        finally:
            self.sock.settimeout(WAIT)
        return found

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_path() -> Iterator[str]:
    # Short: an AF_UNIX path must fit in 108 bytes, which pytest's tmp_path may not.
    folder = tempfile.mkdtemp(prefix="sdn-")
    yield os.path.join(folder, "notify")
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)


def test_notify_sends_each_state_as_one_datagram(notify_path: str) -> None:
    systemd = NotifySocket(notify_path)
    try:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": notify_path})
        assert notifier.notify("READY=1") and notifier.notify("WATCHDOG=1")
        assert [systemd.receive(), systemd.receive()] == ["READY=1", "WATCHDOG=1"]
    finally:
        systemd.close()


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"bot-test-{os.getpid()}-{threading.get_ident()}"
    systemd = NotifySocket("\0" + name)
    try:
        assert SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).notify("STOPPING=1")
        assert systemd.receive() == "STOPPING=1"
    finally:
        systemd.close()


def test_outside_systemd_nothing_is_sent_and_no_watchdog_is_asked() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled and not notifier.notify("READY=1")
    assert notifier.watchdog_seconds() is None


@pytest.mark.parametrize(
    ("environ", "seconds"),
    [
        ({"WATCHDOG_USEC": "300000000"}, 300.0),
        ({"WATCHDOG_USEC": "300000000", "WATCHDOG_PID": "4242"}, 300.0),
        ({"WATCHDOG_USEC": "300000000", "WATCHDOG_PID": "4243"}, None),  # meant for another
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
    ],
)
def test_watchdog_sec_comes_from_the_environment(
    environ: dict[str, str], seconds: float | None
) -> None:
    assert SystemdNotifier(environ, pid=4242).watchdog_seconds() == seconds


class HangingMailbox:
    """The local mailbox, except that once fetching has begun nothing answers (not even a
    send) until the test lets it: a server that has stopped answering this connection."""

    def __init__(self, local: LocalMailbox) -> None:
        self.local = local
        self.address = local.address
        self.entered = threading.Event()
        self.release = threading.Event()

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        self.entered.set()
        self.release.wait(WAIT * 3)  # a server that has stopped answering
        return self.local.fetch_new(since)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.local, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.entered.is_set():
                self.release.wait(WAIT * 3)
            return found(*args, **kwargs)

        return call


class HangingServer:
    """The workspace's mail server: the bot's own mailbox hangs; the folders are the truth."""

    def __init__(self, local: LocalMailbox) -> None:
        self.local = local
        self.hanging = HangingMailbox(local)

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox:
        return self.hanging  # type: ignore[return-value]  # delegates the rest

    def inject(self, raw: bytes, received_at: datetime) -> None:
        self.local.deliver(raw, received_at)

    def folder(self, name: str) -> list[bytes]:
        return [raw for _, raw in self.local.sent_messages(name)]


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[tuple[Workspace, HangingMailbox]]:
    root = tmp_path / "ws"
    local = LocalMailbox(
        root / "var" / "mailbox",
        "contract.concerns@council.example",
        "contract.management@council.example",
        root / "var" / "shared-drive",
    )
    server = HangingServer(local)
    ws = Workspace(root, at("2026-11-02T10:00"), server=server)
    local.clock = ws.clock
    yield ws, server.hanging
    server.hanging.release.set()
    ws.close()


def admin_alerts(ws: Workspace) -> list[EmailMessage]:
    return [m for m in ws.sent() if str(m["To"]) == ADMIN]


def next_check(watchdog: Any) -> None:
    watchdog.checked.clear()
    assert watchdog.checked.wait(WAIT), "the watchdog thread stopped checking"


def status_json(ws: Workspace, now: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    main(["--config", str(ws.root / "config.yaml"), "status", "--json", "--now", now])
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_a_stuck_poll_is_alerted_from_the_watchdog_thread_within_its_limit(
    hanging: tuple[Workspace, HangingMailbox],
    notify_path: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ws, mailbox = hanging
    limit = ws.app.config.monitoring.poll_stuck_minutes
    systemd = NotifySocket(notify_path)
    watchdog = build_watchdog(ws.app, check_every=0.005)
    watchdog.notifier = SystemdNotifier({"NOTIFY_SOCKET": notify_path})
    poll = threading.Thread(target=Cycle(ws.app, watchdog=watchdog), daemon=True)
    try:
        watchdog.start()
        assert systemd.receive() == "READY=1"
        poll.start()
        assert mailbox.entered.wait(WAIT)
        # Running, but within the limit: no alert, systemd still fed, `status` sees the poll.
        ws.clock.set(at("2026-11-02T10:00") + timedelta(minutes=limit))
        next_check(watchdog)
        next_check(watchdog)
        assert admin_alerts(ws) == []
        assert "WATCHDOG=1" in systemd.pending()
        shown = status_json(ws, "2026-11-02T10:05", capsys)
        assert shown["poll_running_since"] == at("2026-11-02T10:00").isoformat()
        assert "stuck" not in [a["kind"] for a in shown["alerts"]]
        # A minute past the limit: the alert goes out while the poll thread is still stuck.
        ws.clock.set(at("2026-11-02T10:01") + timedelta(minutes=limit))
        next_check(watchdog)
        next_check(watchdog)
        (alert,) = admin_alerts(ws)
        assert poll.is_alive()
        text = alert.get_body(("plain",))
        assert text is not None and f"running for {limit + 1} minutes" in text.get_content()
        # From then on systemd is no longer told all is well: it will restart the bot.
        systemd.pending()
        next_check(watchdog)
        next_check(watchdog)
        assert "WATCHDOG=1" not in systemd.pending()
        assert len(admin_alerts(ws)) == 1  # once per stuck poll, not once per check
        now = (at("2026-11-02T10:01") + timedelta(minutes=limit)).isoformat(timespec="minutes")
        shown = status_json(ws, now, capsys)
        assert "stuck" in [a["kind"] for a in shown["alerts"]] and not shown["healthy"]
    finally:
        mailbox.release.set()
        poll.join(WAIT)
        watchdog.stop()
        systemd.close()
    assert not poll.is_alive()
    # The poll ended: nothing is recorded as running any more.
    assert not (ws.app.config.store.directory / FILE).exists()
    assert running_poll(ws.app.config.store.directory) is None


def test_the_watchdog_feeds_systemd_again_once_the_poll_ends(
    hanging: tuple[Workspace, HangingMailbox], notify_path: str
) -> None:
    ws, mailbox = hanging
    limit = ws.app.config.monitoring.poll_stuck_minutes
    systemd = NotifySocket(notify_path)
    watchdog = build_watchdog(ws.app, check_every=0.005)
    watchdog.notifier = SystemdNotifier({"NOTIFY_SOCKET": notify_path})
    poll = threading.Thread(target=Cycle(ws.app, watchdog=watchdog), daemon=True)
    try:
        watchdog.start()
        poll.start()
        assert mailbox.entered.wait(WAIT)
        ws.clock.set(at("2026-11-02T10:01") + timedelta(minutes=limit))
        next_check(watchdog)
        next_check(watchdog)
        systemd.pending()
        mailbox.release.set()
        poll.join(WAIT)
        assert not poll.is_alive()
        next_check(watchdog)
        next_check(watchdog)
        assert "WATCHDOG=1" in systemd.pending()
    finally:
        mailbox.release.set()
        watchdog.stop()
    assert "STOPPING=1" in systemd.pending()
    systemd.close()


def test_a_poll_recorded_by_a_process_that_is_gone_is_not_running(tmp_path: Path) -> None:
    record = {"started": at("2026-11-02T10:00").isoformat(), "pid": 2**22 + 12345}
    (tmp_path / FILE).write_text(json.dumps(record))
    assert running_poll(tmp_path) is None
    record["pid"] = os.getpid()
    (tmp_path / FILE).write_text(json.dumps(record))
    found = running_poll(tmp_path)
    assert found is not None and found.started == at("2026-11-02T10:00")
    (tmp_path / FILE).write_text("{not json")
    assert running_poll(tmp_path) is None
