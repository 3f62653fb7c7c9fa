"""Measurement 3: peak RSS of the bot at each size, each in a fresh subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.site import Seeds
from bench.stats import spread
from bot.demo.harness import PROJECT


def memory(
    seeds: Seeds, work: Path, sizes: list[tuple[int, int]], repeat: int, seed: int
) -> list[dict[str, Any]]:
    rows = []
    for open_cases, closed_cases in sizes:
        seeds.store(open_cases, closed_cases)  # seeded here, so the child only reads it
        runs = []
        for n in range(repeat):
            target = work / f"memory-{open_cases}-{closed_cases}-{n}"
            args = [str(seeds.root), str(target), str(open_cases), str(closed_cases), str(seed)]
            out = subprocess.run(
                [sys.executable, "-m", "bench.child", *args],
                check=True,
                cwd=PROJECT,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        rows.append(
            {
                "open_cases": open_cases,
                "closed_cases": closed_cases,
                "peak_rss_mb": spread([r["peak_mb"] for r in runs]),
                "after_start_mb": spread([r["bot_started_mb"] for r in runs]),
                "before_bot_mb": spread([r["before_bot_mb"] for r in runs]),
            }
        )
    return rows
