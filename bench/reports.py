"""`python -m bench.reports`: a financial year's timescale report over a large seeded store.

Seeds (once, like the main benchmark) a store of 10,000 open and 50,000 closed cases cloned
from engine-made templates, then times, each `--repeat` times: reading the store read-only
into the report's facts, computing the figures, and writing each format. The target is the
whole report (read, compute, workbook) in under 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.site import NOW, Seeds
from bench.stats import spread
from bot.demo.harness import PROJECT
from bot.rules import Rules
from bot.store import Store
from bot.views.reports.command import display_names, render, step_titles
from bot.views.reports.daycount import DayCounter
from bot.views.reports.figures import compute_figures
from bot.views.reports.load import load_cases, load_triage
from bot.views.reports.period import financial_year

TARGET_SECONDS = 2.0


def measure(store_dir: Path, repeat: int) -> dict[str, object]:
    rules = Rules.load(PROJECT / "config.yaml")
    period = financial_year(2026)
    timings: dict[str, list[float]] = {
        k: [] for k in ("read", "compute", "xlsx", "html", "csv", "total")
    }
    counted = breaches = 0
    for _ in range(repeat):
        started = time.perf_counter()
        store = Store(store_dir, read_only=True)
        try:
            days = DayCounter(rules.engine().calendar)
            facts = load_cases(store, period, days)
            triage = load_triage(store, days)
        finally:
            store.close()
        read = time.perf_counter()
        figures = compute_figures(facts, triage, period, NOW, days,
                                  step_titles=step_titles(rules.procedure),
                                  names=display_names(rules.config))
        computed = time.perf_counter()
        render(figures, "xlsx")
        written = time.perf_counter()
        timings["read"].append(read - started)
        timings["compute"].append(computed - read)
        timings["xlsx"].append(written - computed)
        timings["total"].append(written - started)
        for fmt in ("html", "csv"):
            before = time.perf_counter()
            render(figures, fmt)
            timings[fmt].append(time.perf_counter() - before)
        counted, breaches = figures.cases_counted, len(figures.breaches)
    return {"cases_counted": counted, "breaches": breaches,
            **{k: spread(v) for k, v in timings.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seeds", type=Path, help="keep seeded stores here (reused next time)")
    args = parser.parse_args(argv)
    root = args.seeds or Path(tempfile.mkdtemp(prefix="ccbot-bench-reports-"))
    try:
        seeds = Seeds(root, args.seed)
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        store_dir, _ = seeds.store(args.open, args.closed)
        print(f"store of {args.open:,} open and {args.closed:,} closed cases ready in "
              f"{time.perf_counter() - started:.0f} s")
        result = measure(store_dir, max(args.repeat, 1))
    finally:
        if args.seeds is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"financial year 2026/27: {result['cases_counted']:,} cases counted, "
          f"{result['breaches']:,} breaches")
    for key in ("read", "compute", "xlsx", "html", "csv", "total"):
        s = result[key]
        assert isinstance(s, dict)
        print(f"  {key:8} median {s['median']:.3f} s (min {s['min']:.3f}, max {s['max']:.3f})")
    total = result["total"]
    assert isinstance(total, dict)
    verdict = "met" if total["median"] < TARGET_SECONDS else "NOT met"
    print(f"target: the whole report under {TARGET_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
