"""Graph backlogs in parallel: bodies fetched and letters sent up to four at once per mailbox,
Retry-After holding every thread back, and mail still handled in the order it arrived."""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backends.graph import GraphHarness, running
from conftest import START

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.handling.send import send_due
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_client import CONCURRENT, user_path

AT = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
PROVIDERS = ["Oakview Care Home", "Brightpath Homecare", "Riverside Living", "Meadows Day Centre"]


class Gate:
    """Wraps the fake's request handler: requests to `route` are counted while in flight, and
    the first CONCURRENT of them wait for each other, which only requests sent side by side
    can do (sent one after another, the first waits in vain and the gate is broken)."""

    def __init__(self, server: GraphHarness, route: str) -> None:
        self.route = route
        self.lock = threading.Lock()
        self.now = self.peak = self.seen = 0
        self.barrier = threading.Barrier(CONCURRENT, timeout=10)
        self.broken = False
        real = server.fake.handle

        def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
            if route not in target:
                return real(method, target, headers, body)
            with self.lock:
                self.seen += 1
                first = self.seen <= CONCURRENT
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                if first:
                    try:
                        self.barrier.wait()
                    except threading.BrokenBarrierError:
                        self.broken = True
                return real(method, target, headers, body)
            finally:
                with self.lock:
                    self.now -= 1

        server.fake.handle = handle  # type: ignore[method-assign]


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[tuple[Workspace, GraphHarness]]:
    with running(tmp_path / "server") as server:
        ws = Workspace(tmp_path / "workspace", START, server=server)
        try:
            ws.run(AT - timedelta(minutes=30))  # folders made, a token fetched
            yield ws, server
        finally:
            ws.close()


def referrals(ws: Workspace, count: int) -> list[str]:
    """`count` concerns from different referrers, a minute apart; their Message-IDs in order."""
    ids = []
    for n in range(count):
        provider = PROVIDERS[n % len(PROVIDERS)]
        body = (
            f"Dear Contract Management Team,\n\nI am raising a contract concern about {provider}."
            f" Visit {n} was cut short.\n\nThe safeguarding enquiry has concluded and found the "
            "concern substantiated.\n\nRegards"
        )
        at = AT + timedelta(minutes=n)
        ids.append(ws.email(f"nurse{n}@nhs.example", f"Concern {n}", body, at=at))
    return ids


def test_bodies_are_fetched_side_by_side_and_mail_handled_in_arrival_order(
    graph: tuple[Workspace, GraphHarness],
) -> None:
    ws, server = graph
    arrived = referrals(ws, 2 * CONCURRENT)
    gate = Gate(server, "/$value")
    ws.clock.set(AT + timedelta(minutes=30))
    report = ws.app.poll()
    assert report.fetched == len(arrived) and not report.retrying
    assert not gate.broken and 2 <= gate.peak <= CONCURRENT
    handled = [
        e["reading"]["message_id"].strip("<>")
        for e in ws.app.store.audit_entries()
        if e.get("event") == "mail"
    ]
    assert handled == arrived


def test_letters_of_different_cases_go_side_by_side_and_one_cases_in_order(
    graph: tuple[Workspace, GraphHarness],
) -> None:
    ws, server = graph
    referrals(ws, CONCURRENT + 2)
    now = AT + timedelta(minutes=30)
    ws.clock.set(now)
    ws.app.poller.poll(now)  # handled and committed; the letters wait in the outbox
    queued = [(i["message_id"], i.get("reference")) for i in ws.app.store.outbox_pending()]
    assert len({ref for _, ref in queued}) > CONCURRENT  # several cases, some with 2+ letters
    gate = Gate(server, "/sendMail")
    app = ws.app
    delivered, failed = send_due(
        now, config=app.config, store=app.store, mailbox=app.mailbox, outbox=app.outbox
    )
    assert (delivered, failed) == (len(queued), 0)
    assert not gate.broken and 2 <= gate.peak <= CONCURRENT
    sent = [
        str(email.message_from_bytes(raw)["Message-ID"]).strip().strip("<>")
        for raw in server.folder("sent")
    ]
    for reference in {ref for _, ref in queued}:
        mine = [mid for mid, ref in queued if ref == reference]
        assert [mid for mid in sent if mid in mine] == mine  # one case's letters in order


def test_a_retry_after_holds_back_the_other_threads_too(
    graph: tuple[Workspace, GraphHarness],
) -> None:
    ws, server = graph
    mailbox = ws.app.mailbox
    assert isinstance(mailbox, GraphMailbox)
    client = mailbox.client
    path = user_path(server.address, "mailFolders", "msgfolderroot", "childFolders")
    route = "/users/{user}/mailFolders/{fid}/childFolders"
    server.fake.fail_next("GET", route, status=429, retry_after="3")
    server.waits.clear()
    client.call("GET", path)  # told to wait 3 s, waits, and tries again
    assert server.waits == [3.0]
    other = threading.Thread(target=client.call, args=("GET", path))
    other.start()
    other.join(timeout=10)
    # Another thread's next request waits out what is left of the same pause...
    assert len(server.waits) == 2 and 2.0 < server.waits[1] <= 3.0
    client.call("GET", path)
    assert len(server.waits) == 2  # ...and the thread that already waited does not wait again
