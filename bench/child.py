"""Measurement 3 in a fresh process: `python -m bench.child SEEDS WORK OPEN CLOSED SEED` prints
peak RSS (JSON) after the bot starts over that store, polls a batch and runs a due tick."""

from __future__ import annotations

import json
import resource
import sys
from datetime import timedelta
from pathlib import Path

from bench.scale import next_working_days
from bench.site import NOW, Seeds, site
from bench.workload import Workload


def peak_mb() -> float:
    """This process's peak RSS. Linux keeps ru_maxrss across exec (a child starts with its
    parent's peak), so VmHWM, which a new program starts afresh, is read where there is one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str]) -> int:
    seeds_dir, work, open_cases, closed_cases, seed = argv
    seeds = Seeds(Path(seeds_dir), int(seed))
    seeds.store(int(open_cases), int(closed_cases))  # made by the parent: only looked up here
    before = peak_mb()
    with site(seeds, Path(work), int(open_cases), int(closed_cases)) as (ws, cases):
        started = peak_mb()
        for item in Workload(ws.app.config, cases, int(seed)).backlog(
            100, NOW + timedelta(minutes=5), timedelta(minutes=4)
        ):
            ws.server.inject(item.raw, item.received_at)
        ws.clock.set(NOW + timedelta(minutes=6))
        ws.app.poll()
        ws.clock.set(next_working_days(1)[0])
        ws.app.tick()
    print(json.dumps({"before_bot_mb": before, "bot_started_mb": started, "peak_mb": peak_mb()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
