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

# The memory benchmark's one morning tick: the day's work all at once, as after a night stopped.
MORNING_RUN = clock_time(9, 5)
# The daemon ticks every poll, so each kind of work goes in a tick of its own: the officers'
# digests just after digest_time (08:00), the day's letters after letters_time (09:00), the
# internal reminders after internal_reminder_time (14:00). The bench ticks when the daemon
# would, five minutes after each.
AFTER = timedelta(minutes=5)


# Polls timed per repeat for the cost of one email. Each poll is a different mix of 20 emails
# on a machine whose speed moves with its neighbours' load: over three polls one cell's figure
# ranged from 5.2 to 11.2 ms (100 open, 50,000 closed, at 9e46180), more than the 1.5 times
# the issue bounds its growth by, so a median of three could not tell growth from chance.
# Three polls come before the ticks and the rest after them (see `cell`).
POLLS_PER_REPEAT = 5


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

        def polls(count: int, start: datetime) -> None:
            for n in range(count):
                at = start + timedelta(minutes=10 + n)
                for item in workload.backlog(batch, at, timedelta(seconds=50)):
                    ws.server.inject(item.raw, item.received_at)
                ws.clock.set(at + timedelta(seconds=5))
                started = time.perf_counter()
                report = app.poll()
                per_email.append((time.perf_counter() - started) / max(report.fetched, 1))

        polls(repeat, NOW)
        due: list[float] = []  # the ticks that moved cases: reminders or letters fell due
        quiet: list[float] = []  # the letters and reminders ticks that moved none
        digest: list[float] = []
        changed: list[int] = []
        digests = {"digest": 0, "letters": 0, "reminders": 0}
        for kind, moment in daemon_ticks(app.config, app.rules.procedure, repeat):
            ws.clock.set(moment)
            started = time.perf_counter()
            tick = app.tick()
            seconds = time.perf_counter() - started
            digests[kind] += tick.digests
            if kind == "digest":
                digest.append(seconds)
            elif tick.cases_changed:
                due.append(seconds)
                changed.append(len(tick.cases_changed))
            else:
                quiet.append(seconds)
        # The other polls after the ticks, so the cases due in them are those of every run
        # before fifteen polls were timed (more mail moved more cases to a deadline).
        polls(repeat * (POLLS_PER_REPEAT - 1), ws.clock.now())
        return {
            "open_cases": open_cases,
            "closed_cases": closed_cases,
            "batch": batch,
            "seconds_per_email": spread(per_email),
            "idle_tick_seconds": spread(idle),
            # With nothing due in the run (a tiny store), the quiet ticks stand in.
            "due_tick_seconds": spread(due or quiet),
            "due_tick_cases_changed": spread([float(c) for c in changed or [0]]),
            "digest_tick_seconds": spread(digest),
            "digests_sent": digests,
        }


def daemon_ticks(config: Any, procedure: Any, days: int) -> list[tuple[str, datetime]]:
    """(kind, moment) of the ticks that do work, from NOW through the next `days` working
    days, in order: 'digest', 'letters' and 'reminders'."""
    settings = getattr(procedure, "settings", None)
    reminders = getattr(settings, "internal_reminder_time", "14:00")
    times = {
        "digest": config.digest_time() if hasattr(config, "digest_time") else clock_time(8),
        "letters": config.letters_time() if hasattr(config, "letters_time") else clock_time(9),
        "reminders": clock_time.fromisoformat(str(reminders)),
    }
    found: list[tuple[str, datetime]] = []
    day, after = NOW.date(), 0
    while True:
        if day.weekday() < 5:
            for kind, at in times.items():
                moment = datetime.combine(day, at, LONDON) + AFTER
                if moment > NOW:
                    found.append((kind, moment))
            after += day != NOW.date()
            if after >= days:
                break
        day += timedelta(days=1)
    return sorted(found, key=lambda item: item[1])


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
