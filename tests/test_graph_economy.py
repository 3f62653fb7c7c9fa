"""The whole bot on the fake Graph: what a poll, a tick and an email cost in Graph requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from backends.graph import GraphHarness, running
from conftest import START

from bot.clock import LONDON
from bot.demo.harness import Workspace

TOKEN = "POST /{tenant}/oauth2/v2.0/token"  # Entra ID's sign-in service, not Graph


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[tuple[Workspace, GraphHarness]]:
    with running(tmp_path / "server") as server:
        ws = Workspace(tmp_path / "workspace", START, server=server)
        try:
            yield ws, server
        finally:
            ws.close()


def graph_requests(server: GraphHarness) -> int:
    tokens = sum(n for label, n in server.fake.counts.items() if "oauth2" in label)
    return server.fake.total - tokens


def test_an_idle_poll_is_one_graph_request_and_an_idle_tick_none(
    graph: tuple[Workspace, GraphHarness],
) -> None:
    ws, server = graph
    ws.run(at("2026-11-02T08:01"))  # the first run makes the folders and gets a token
    ws.clock.set(at("2026-11-02T08:02"))

    before = graph_requests(server)
    ws.app.poll()
    assert graph_requests(server) - before == 1
    before = graph_requests(server)
    ws.app.tick()
    assert graph_requests(server) - before == 0


def test_reading_an_email_costs_at_most_four_requests_before_any_letter(
    graph: tuple[Workspace, GraphHarness],
) -> None:
    ws, server = graph
    ws.run(at("2026-11-02T08:01"))
    ws.email("sam.ward@council.example", "Oakview Care Home: missed medication",
             "Residents at Oakview Care Home missed their evening medication.",
             at=at("2026-11-02T09:00"))
    ws.clock.set(at("2026-11-02T09:01"))
    sent_before = len(server.folder("sent"))
    before = dict(server.fake.counts)

    ws.app.poll()

    spent = {k: v - before.get(k, 0) for k, v in server.fake.counts.items()
             if v != before.get(k, 0) and "oauth2" not in k}
    letters = len(server.folder("sent")) - sent_before
    assert letters >= 2  # the acknowledgement and the officer's screening request
    reading = {k: v for k, v in spent.items() if "delta" in k or "$value" in k or "move" in k}
    assert sum(reading.values()) <= 4, reading
    # A letter on its first try is not looked for in Sent first (it cannot be there), nor is
    # a leftover draft of it: sendMail for a new thread; for a reply to mail just filed,
    # createReply with every field, then send. Plus, once, the Processed folder made on the
    # first move.
    folders = sum(v for k, v in spent.items() if "childFolders" in k)
    assert folders == 2
    assert sum(spent.values()) - sum(reading.values()) - folders <= 2 * letters, spent
    assert not any(k.startswith("PATCH") for k in spent), spent
