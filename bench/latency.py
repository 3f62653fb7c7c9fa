"""Measurement 5: from an email landing in the inbox to its acknowledgement leaving."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.site import NOW, Seeds, site
from bench.stats import spread
from bench.workload import Workload


def latency(
    seeds: Seeds, work: Path, open_cases: int, closed_cases: int, repeat: int, seed: int
) -> dict[str, Any]:
    """One referral per poll: its processing time, and whether its acknowledgement left then.

    The wait for the next poll is simulated: a referral lands uniformly within a poll interval,
    so it waits half an interval at the median and a whole one at worst.
    """
    with site(seeds, work, open_cases, closed_cases) as (ws, cases):
        interval = ws.app.config.poll_interval_seconds
        workload = Workload(ws.app.config, cases, seed)
        seconds: list[float] = []
        acknowledged = 0
        for n in range(max(repeat, 3)):
            at = NOW + timedelta(minutes=5 * (n + 1))
            item = workload.email("referral", at)
            ws.server.inject(item.raw, item.received_at)
            sent_before = len(ws.server.folder("sent"))
            ws.clock.set(at + timedelta(seconds=interval))
            started = time.perf_counter()
            ws.app.poll()
            seconds.append(time.perf_counter() - started)
            fresh = ws.server.folder("sent")[sent_before:]
            acknowledged += any(b"cknowledg" in raw for raw in fresh)
        processing = spread(seconds)
        return {
            "poll_interval_seconds": interval,
            "processing_seconds": processing,
            "referrals": len(seconds),
            "acknowledged_in_same_poll": acknowledged,
            "expected_median_seconds": processing["median"] + interval / 2,
            "worst_case_seconds": processing["max"] + interval,
        }
