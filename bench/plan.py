"""What each run measures and at which sizes: the full run, --quick, and --tiny (for the test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    backlogs: tuple[int, ...]  # intake backlogs on the local mailbox
    intake_cases: tuple[int, int]  # (open, closed) for intake and latency
    graph_backlog: int
    grid: tuple[tuple[int, int], ...]  # (open, closed) for store cost and memory
    batch: int  # emails per poll when timing the cost of one email
    economy_emails: int
    economy_cases: tuple[int, int]
    opening: tuple[tuple[int, int], ...]  # (open, closed) stores timed opening


FULL = Plan(
    name="full",
    backlogs=(1_000, 10_000),
    intake_cases=(1_000, 10_000),
    graph_backlog=1_000,
    grid=tuple((o, c) for c in (10_000, 50_000) for o in (100, 1_000, 10_000)),
    batch=20,
    economy_emails=200,
    economy_cases=(100, 10_000),
    opening=((1_000, 50_000), (10_000, 50_000)),
)
QUICK = Plan(
    name="quick",
    backlogs=(1_000,),
    intake_cases=(1_000, 1_000),
    graph_backlog=200,
    grid=((100, 1_000), (1_000, 1_000), (1_000, 10_000)),
    batch=20,
    economy_emails=50,
    economy_cases=(100, 1_000),
    opening=((1_000, 10_000),),
)
TINY = Plan(
    name="tiny",
    backlogs=(20,),
    intake_cases=(10, 20),
    graph_backlog=20,
    grid=((10, 20),),
    batch=5,
    economy_emails=20,
    economy_cases=(10, 20),
    opening=((10, 20),),
)
