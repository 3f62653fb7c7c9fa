"""`python -m bench.reports`: a financial year's timescale report over a large seeded store.

Seeds (once, like the main benchmark) a store of 10,000 open and 50,000 closed cases cloned
from engine-made templates, has the bot open it once (so that a store seeded by an older bot
gets its cases' briefs, as at the bot's first start), then times, each `--repeat` times, what
`python -m bot report` does: open a snapshot, read the cases' briefs into the report's facts,
compute the figures, write the workbook; then the HTML and CSV formats. Wall and CPU seconds.
The target (issue 14): the whole report, workbook included, in under 2 s.
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
from bot.store.bulk import collector_paused
from bot.views.reports.command import display_names, render, step_titles
from bot.views.reports.daycount import DayCounter
from bot.views.reports.figures import compute_figures
from bot.views.reports.load import load_cases, load_triage
from bot.views.reports.period import financial_year

TARGET_SECONDS = 2.0
STEPS = ("open", "read", "compute", "xlsx")


def measure(store_dir: Path, repeat: int) -> dict[str, object]:
    """The report's steps as `figures_from_store` and `render` run them, each timed."""
    rules = Rules.load(PROJECT / "config.yaml")
    period = financial_year(2026)
    timings: dict[str, list[float]] = {
        k: [] for k in (*STEPS, "total", "total_cpu", "html", "csv")
    }
    counted = breaches = 0
    for _ in range(repeat):
        marks = [(time.perf_counter(), time.process_time())]
        with collector_paused():
            store = Store.open_snapshot(store_dir)
            try:
                marks.append((time.perf_counter(), time.process_time()))
                days = DayCounter(rules.engine().calendar)
                facts = load_cases(store, period, days)
                triage = load_triage(store, days)
                marks.append((time.perf_counter(), time.process_time()))
                figures = compute_figures(facts, triage, period, NOW, days,
                                          step_titles=step_titles(rules.procedure),
                                          names=display_names(rules.config))  # fmt: skip
                marks.append((time.perf_counter(), time.process_time()))
            finally:
                store.close()
            del facts, triage  # as in the command: only the figures outlive the reading
        render(figures, "xlsx")
        marks.append((time.perf_counter(), time.process_time()))
        for n, key in enumerate(STEPS):
            timings[key].append(marks[n + 1][0] - marks[n][0])
        timings["total"].append(marks[-1][0] - marks[0][0])
        timings["total_cpu"].append(marks[-1][1] - marks[0][1])
        for fmt in ("html", "csv"):
            before = time.perf_counter()
            render(figures, fmt)
            timings[fmt].append(time.perf_counter() - before)
        counted, breaches = figures.cases_counted, len(figures.breaches)
    return {"cases_counted": counted, "breaches": breaches,
            **{k: spread(v) for k, v in timings.items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seeds", type=Path, help="keep seeded stores here (reused next time)")
    args = parser.parse_args(argv)
    root = args.seeds or Path(tempfile.mkdtemp(prefix="ccbot-bench-reports-"))
    try:
        seeds = Seeds(root, args.seed)
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        store_dir, _ = seeds.store(args.open, args.closed)
        Store(store_dir).close()  # the bot's start: briefs for a store seeded without them
        print(f"store of {args.open:,} open and {args.closed:,} closed cases ready in "
              f"{time.perf_counter() - started:.0f} s")
        result = measure(store_dir, max(args.repeat, 1))
    finally:
        if args.seeds is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"financial year 2026/27: {result['cases_counted']:,} cases counted, "
          f"{result['breaches']:,} breaches")
    for key in (*STEPS, "total", "total_cpu", "html", "csv"):
        s = result[key]
        assert isinstance(s, dict)
        print(f"  {key:9} median {s['median']:.3f} s (min {s['min']:.3f}, max {s['max']:.3f})")
    total = result["total"]
    assert isinstance(total, dict)
    verdict = "PASS" if total["median"] < TARGET_SECONDS else "FAIL"
    print(f"{verdict}: the whole report (snapshot, read, compute, workbook) in "
          f"{total['median']:.2f} s, median wall time; target under {TARGET_SECONDS:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
