"""Before and after in one run: the same plan on an older checkout's bot, then on this one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def run_before(checkout: Path, args: list[str], out: Path) -> dict[str, Any]:
    """This harness run as a child on a copy of `checkout` (its bot, store layout, rules and
    test fakes) with this harness in place of its own, so both columns come from one
    harness, one machine and one sitting."""
    with tempfile.TemporaryDirectory(prefix="ccbot-bench-before-") as folder:
        copy = Path(folder) / "checkout"
        skip = shutil.ignore_patterns(".git", "bench", "__pycache__", "var", "*.egg-info")
        shutil.copytree(checkout, copy, ignore=skip)
        shutil.copytree(HERE, copy / "bench", ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "PYTHONPATH": str(copy)}
        command = [sys.executable, "-m", "bench", *args, "--out", str(out.resolve())]
        subprocess.run(command, check=True, cwd=copy, env=env)
    before: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return before


def _get(results: dict[str, Any], path: tuple[Any, ...]) -> float | None:
    value: Any = results
    for key in path:
        if isinstance(key, tuple):  # a row picked from a list by its fields
            value = next((r for r in value if all(r.get(k) == v for k, v in key)), None)
        else:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
    return float(value)


def _rows(after: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], float, str]]:
    """(label, where the figure is, scale, format) for the figures compared."""
    rows: list[tuple[str, tuple[Any, ...], float, str]] = []
    for row in after["intake"]:
        pick = (("backend", row["backend"]), ("backlog", row["backlog"]))
        label = f"intake {row['backend']}, {row['backlog']} emails"
        rows.append(
            (f"{label}: emails/s", ("intake", pick, "emails_per_second", "median"), 1, "{:.0f}")
        )
        rows.append(
            (
                f"{label}: x parse floor",
                ("intake", pick, "times_slower_than_parse", "median"),
                1,
                "{:.1f}",
            )
        )
    for cell in after["store_cost"]:
        pick = (("open_cases", cell["open_cases"]), ("closed_cases", cell["closed_cases"]))
        size = f"{cell['open_cases']} open, {cell['closed_cases']} closed"
        for key, name in (
            ("seconds_per_email", "per email"),
            ("idle_tick_seconds", "idle tick"),
            ("due_tick_seconds", "due tick"),
            ("digest_tick_seconds", "digest tick"),
        ):
            rows.append(
                (f"{name} (ms), {size}", ("store_cost", pick, key, "median"), 1000, "{:.1f}")
            )
    for row in after["memory"]:
        pick = (("open_cases", row["open_cases"]), ("closed_cases", row["closed_cases"]))
        size = f"{row['open_cases']} open, {row['closed_cases']} closed"
        rows.append(
            (f"peak RSS (MB), {size}", ("memory", pick, "peak_rss_mb", "median"), 1, "{:.0f}")
        )
    for row in after.get("opening", []):
        pick = (("open_cases", row["open_cases"]), ("closed_cases", row["closed_cases"]))
        size = f"{row['open_cases']} open, {row['closed_cases']} closed"
        rows.append(
            (f"bot start (s), {size}", ("opening", pick, "start_seconds", "median"), 1, "{:.3f}")
        )
        rows.append(
            (f"snapshot (s), {size}", ("opening", pick, "snapshot_seconds", "median"), 1, "{:.3f}")
        )
    for key, name in (("demo_end", "at its end"), ("demo_midway", "midway")):
        rows.append(
            (f"python -m bot cases (s), demo {name}", ("cases_command", key, "median"), 1, "{:.3f}")
        )
    rows.append(
        ("Graph max concurrent requests", ("graph_economy", "max_concurrent_requests"), 1, "{:.0f}")
    )
    rows.append(
        (
            "latency to acknowledgement (ms)",
            ("latency", "processing_seconds", "median"),
            1000,
            "{:.0f}",
        )
    )
    return rows


def table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The figures side by side, as printed at the end of a --before run."""
    lines = ["before / after (medians; before: " + str(before.get("checkout", "?")) + ")"]
    width = 52
    for label, path, scale, fmt in _rows(after):
        old, new = _get(before, path), _get(after, path)
        left = fmt.format(old * scale) if old is not None else "-"
        right = fmt.format(new * scale) if new is not None else "-"
        lines.append(f"  {label:<{width}} {left:>10} {right:>10}")
    return "\n".join(lines)
