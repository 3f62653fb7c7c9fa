"""Measurement 6: opening a store (the bot's start, a reader's snapshot), and `python -m bot
cases` from a person's shell, wall time, on the demo's store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.seed import link_copy
from bench.site import Seeds
from bench.stats import spread
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.demo.script import END, SCENES, START, Story
from bot.store import Store
from bot.store.case_index import CaseIndex

MIDWAY = datetime(2026, 12, 1, 12, 0, tzinfo=LONDON)  # four of the demo's cases are open then
CLI_RUNS = 7


def _start(directory: Path) -> float:
    """What the bot does with its store before it can handle the first email: open it, index
    the open cases (their addresses too), and read the seen keys and sent ids."""
    started = time.perf_counter()
    with Store(directory) as store:
        index = CaseIndex(store)
        assert index.participants is not None  # built when the first email is read
        store.seen("<bench-not-seen@example>")
        store.was_sent("<bench-not-sent@example>")
        return time.perf_counter() - started


def _snapshot(directory: Path) -> float:
    started = time.perf_counter()
    opener = getattr(Store, "open_snapshot", None)  # older bots: a read-only Store
    store = opener(directory) if opener else Store(directory, read_only=True)
    try:
        CaseIndex(store)
    finally:
        store.close()
    return time.perf_counter() - started


def opening(
    seeds: Seeds, work: Path, sizes: list[tuple[int, int]], repeat: int
) -> list[dict[str, Any]]:
    """Per size: the first start on a store as seeded, then later starts and snapshots."""
    rows = []
    for open_cases, closed_cases in sizes:
        pristine, _ = seeds.store(open_cases, closed_cases)
        target = work / f"open-{open_cases}-{closed_cases}"
        link_copy(pristine, target)
        first = _start(target)
        starts = [_start(target) for _ in range(max(repeat, 3))]
        snapshots = [_snapshot(target) for _ in range(max(repeat, 3))]
        rows.append(
            {
                "open_cases": open_cases,
                "closed_cases": closed_cases,
                "first_start_seconds": first,
                "start_seconds": spread(starts),
                "snapshot_seconds": spread(snapshots),
            }
        )
    return rows


def _demo_store(root: Path, until: datetime | None) -> Path:
    """The demo's workspace played to its end (or to `until`); its config.yaml."""
    ws = Workspace(root, START)
    story = Story(ws)
    try:
        for scene in SCENES:
            scene(story)
        if until is not None:
            story.steps = [step for step in story.steps if step[0] <= until]
        story.play(until or END)
    finally:
        ws.close()
    return root / "config.yaml"


def _wall(config: Path, now: datetime) -> list[float]:
    command = [sys.executable, "-m", "bot", "--config", str(config), "cases", "--now"]
    command.append(now.isoformat())
    # As installed: pip compiles the byte code, or the first run writes it. A shell that
    # forbids writing it (this workplace's does) would time compiling the bot each run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls = []
    for run in range(CLI_RUNS + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=config.parent, env=env)
        if run:  # the first run warms the disk cache and compiles the byte code
            walls.append(time.perf_counter() - started)
    return walls


def cases_command(work: Path) -> dict[str, Any]:
    """`python -m bot cases` wall time on the demo's store at its end (all closed) and midway
    (four cases open)."""
    ended = _demo_store(work / "demo-end", None)
    midway = _demo_store(work / "demo-midway", MIDWAY)
    return {
        "demo_end": spread(_wall(ended, MIDWAY)),
        "demo_midway": spread(_wall(midway, MIDWAY)),
        "runs": CLI_RUNS,
    }
