"""Measurement 2: time per processed email and per tick as open and closed cases grow."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bench.site import NOW, Seeds, site
from bench.stats import spread
from bench.workload import Workload
from bot.clock import LONDON

MORNING_RUN = clock_time(9, 5)  # the daily run that sends the day's letters and reminders
# The daemon ticks every poll, so each officer's digest (digest_time, 08:00) goes in a tick of
# its own an hour before the letters (letters_time, 09:00); the bench ticks at both.
DIGEST_DELAY = timedelta(minutes=5)


def next_working_days(count: int) -> list[datetime]:
    days: list[datetime] = []
    day = NOW.date()
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(datetime.combine(day, MORNING_RUN, LONDON))
    return days


def cell(
    seeds: Seeds,
    root: Path,
    open_cases: int,
    closed_cases: int,
    batch: int,
    repeat: int,
    seed: int,
) -> dict[str, Any]:
    """One grid cell: idle ticks, polls of `batch` emails, then ticks on the next working days."""
    with site(seeds, root, open_cases, closed_cases) as (ws, cases):
        app = ws.app
        idle: list[float] = []
        for n in range(repeat):
            ws.clock.set(NOW + timedelta(minutes=1 + n))
            started = time.perf_counter()
            app.tick()
            idle.append(time.perf_counter() - started)
        workload = Workload(app.config, cases, seed)
        per_email: list[float] = []
        for n in range(repeat):
            at = NOW + timedelta(minutes=10 + n)
            for item in workload.backlog(batch, at, timedelta(seconds=50)):
                ws.server.inject(item.raw, item.received_at)
            ws.clock.set(at + timedelta(seconds=5))
            started = time.perf_counter()
            report = app.poll()
            per_email.append((time.perf_counter() - started) / max(report.fetched, 1))
        due: list[float] = []
        digest: list[float] = []
        digests: list[tuple[int, int]] = []  # sent by the digest tick, and by the due tick
        changed: list[int] = []
        for moment in next_working_days(repeat):
            ws.clock.set(_digest_run(moment, app.config))
            started = time.perf_counter()
            early = app.tick()
            digest.append(time.perf_counter() - started)
            ws.clock.set(moment)
            started = time.perf_counter()
            tick = app.tick()
            due.append(time.perf_counter() - started)
            changed.append(len(tick.cases_changed))
            digests.append((early.digests, tick.digests))
        return {
            "open_cases": open_cases,
            "closed_cases": closed_cases,
            "batch": batch,
            "seconds_per_email": spread(per_email),
            "idle_tick_seconds": spread(idle),
            "due_tick_seconds": spread(due),
            "due_tick_cases_changed": spread([float(c) for c in changed]),
            "digest_tick_seconds": spread(digest),
            "digests_sent": digests,
        }


def _digest_run(morning: datetime, config: Any) -> datetime:
    """The tick the daemon runs just after digest time, on the same day as `morning`."""
    at = getattr(config, "digest_time", None)  # a bot older than the digest has none
    when = at() if at is not None else MORNING_RUN
    return min(datetime.combine(morning.date(), when, LONDON) + DIGEST_DELAY, morning)


def grid(
    seeds: Seeds,
    work: Path,
    sizes: list[tuple[int, int]],
    batch: int,
    repeat: int,
    seed: int,
) -> list[dict[str, Any]]:
    return [
        cell(seeds, work / f"scale-{o}-{c}", o, c, batch, repeat, seed) for o, c in sizes
    ]
