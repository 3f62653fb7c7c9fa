"""`python -m bench.dashboard [--open N] [--closed M] [--repeat R]`: dashboard page times.

Seeds a store of N open cases (10,000 by default), puts the bot on it as the daemon, and serves
the dashboard on the same workspace in this process. Each page is asked for R times through
Starlette's TestClient, so the figures are the server's own time to build the page (no
network, no browser). Targets (issue 13): the case list under 300 ms, a case page under 100 ms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from bench.site import NOW, Seeds, site
from bot.clock import FixedClock
from bot.views.web.app import create_app
from bot.views.web.csrf import CSRF_FIELD

LIST_TARGET_MS = 300.0
CASE_TARGET_MS = 100.0


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds for each of `repeat` calls."""
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def line(label: str, spent: list[float], target: float | None = None) -> str:
    median = statistics.median(spent)
    worst = max(spent)
    verdict = "" if target is None else ("PASS" if median < target else "FAIL")
    goal = f"< {target:.0f} ms" if target else ""
    return f"  {label:<46} {median:8.1f} ms  (max {worst:7.1f})  {goal:>9} {verdict}"


def measure(root: Path, open_cases: int, closed_cases: int, repeat: int, seed: int) -> None:
    seeds = Seeds(root / "seeds", seed)
    seeds.root.mkdir(parents=True)
    started = time.perf_counter()
    with site(seeds, root / "workspace", open_cases, closed_cases) as (ws, cases):
        seconds = time.perf_counter() - started
        print(f"seeded {open_cases} open, {closed_cases} closed cases in {seconds:.0f} s")
        print("the bot holds the store as the daemon; the dashboard reads it beside it")
        app = create_app(ws.root / "config.yaml", FixedClock(NOW), local_person="jsmith")
        web = TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False)

        def get(path: str) -> None:
            answer = web.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        first = timed(lambda: get("/cases"), 1)
        listing = timed(lambda: get("/cases"), repeat)
        deep = timed(lambda: get("/cases?sort=provider&order=desc&page=100"), repeat)
        page = web.get("/cases").text
        token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page)
        assert token
        form = {CSRF_FIELD: token.group(1), "words": "medication", "status": "open"}
        found = web.post("/cases", data=form)
        where = found.headers["location"]
        searched = timed(lambda: get(where), repeat)
        mine = timed(lambda: get("/cases/mine"), repeat)
        references = [case.reference for case in cases[: max(repeat, 1)]]
        pages = iter(references * 2)
        case_pages = timed(lambda: get(f"/cases/{next(pages)}"), len(references))
        workload = timed(lambda: get("/workload"), max(1, repeat // 4))
        ws.run(NOW)  # the daemon commits: open.json is replaced
        after_commit = timed(lambda: get("/cases"), 1)
        data = app.state.site.data
        started = time.perf_counter()
        if data._loading is not None:  # the reload the request started, off the page's time
            data._loading.join()
        reload = [(time.perf_counter() - started) * 1000 + after_commit[0]]
        print(f"dashboard at {open_cases} open cases (median of {repeat}, server time):")
        print(line("case list, first request (store opened, parsed)", first))
        print(line("case list, soonest deadline first", listing, LIST_TARGET_MS))
        print(line("case list, sorted by provider, page 100", deep, LIST_TARGET_MS))
        print(line("case list, a search for a word of the concern", searched, LIST_TARGET_MS))
        print(line("my cases", mine, LIST_TARGET_MS))
        print(line("a case page", case_pages, CASE_TARGET_MS))
        print(line("workload", workload))
        print(line("case list just after the daemon's next commit", after_commit))
        print(line("  reload of the store behind it (background)", reload))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000, help="open cases (default 10,000)")
    parser.add_argument("--closed", type=int, default=0, help="closed cases (default none)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per figure")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ccbot-bench-dashboard-"))
    try:
        measure(folder, args.open, args.closed, max(args.repeat, 1), args.seed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
