"""The Graph request budget: a backlog waits for the window instead of being throttled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from backends.graph import ADDRESS, FakeTokenSource, GraphHarness, running

from bot.clock import LONDON, FixedClock
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_budget import RequestBudget
from bot.mailbox.state import MemoryState

SINCE = datetime(2026, 11, 1, tzinfo=LONDON)
CLOCK = FixedClock(datetime(2026, 11, 3, 9, 0, tzinfo=LONDON))


class Stopwatch:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_requests_within_the_budget_never_wait() -> None:
    watch = Stopwatch()
    budget = RequestBudget(5, 600, monotonic=watch, sleep=watch.sleep)
    for _ in range(5):
        budget.spend()
        watch.now += 10
    assert watch.waits == []
    assert budget.peak() == 5


def test_a_full_window_waits_until_its_oldest_request_is_ten_minutes_old() -> None:
    watch = Stopwatch()
    budget = RequestBudget(3, 600, monotonic=watch, sleep=watch.sleep)
    for gap in (0, 100, 100):
        watch.now += gap
        budget.spend()  # at 1000, 1100, 1200
    watch.now += 50  # 1250: the window since 650 holds three
    budget.spend()
    assert watch.waits == [350.0]  # until 1600, when the request at 1000 leaves the window
    budget.spend()
    assert watch.waits == [350.0, 100.0]  # then until the one at 1100 leaves
    assert budget.peak() == 3


def test_a_stopped_clock_cannot_refill_the_budget() -> None:
    budget = RequestBudget(2, 600, monotonic=lambda: 5.0, sleep=lambda s: None)
    for _ in range(6):
        budget.spend()
    assert budget.waited == 1200.0  # two waits of a whole window: time is carried forward
    assert budget.peak() == 2


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphHarness]:
    with running(tmp_path) as harness:
        yield harness


def test_a_backlog_on_graph_is_paced_by_the_budget_and_nothing_is_lost(
    graph: GraphHarness,
) -> None:
    for n in range(12):
        raw = (f"From: a@oakview.example\r\nTo: {ADDRESS}\r\nSubject: backlog {n}\r\n"
               f"Message-ID: <backlog-{n}@oakview.example>\r\n\r\nbody {n}\r\n").encode()
        graph.inject(raw, datetime(2026, 11, 2, 10, n, tzinfo=LONDON))
    watch = Stopwatch()
    box = GraphMailbox(ADDRESS, MemoryState(), CLOCK, FakeTokenSource(graph.fake.token_url, CLOCK),
                       base_url=graph.fake.base_url, sleep=watch.sleep, timeout=10.0,
                       requests_per_10_minutes=10, monotonic=watch)

    fetched = box.fetch_new(SINCE)
    for item in fetched:
        box.mark_processed(item.backend_id)

    assert len(fetched) == 12
    assert len(graph.folder("processed")) == 12
    requests = graph.fake.total - graph.fake.count("POST", "/{tenant}/oauth2/v2.0/token")
    assert requests > 20  # delta, 12 x $value, folder lookups, 12 x move
    assert watch.waits  # so it had to wait for the window ...
    assert box.client.budget.peak() <= 10  # ... and never had more than 10 in one
    assert watch.now - 1000.0 >= 600.0 * (requests // 10 - 1)
