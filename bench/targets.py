"""The issue's targets, judged against a run's figures: the tool prints PASS/FAIL, never asserts."""

from __future__ import annotations

from typing import Any

Target = dict[str, Any]  # name, figure (text), target (text), pass


def _target(name: str, figure: str, target: str, ok: bool, issue: int = 5) -> Target:
    return {"name": name, "figure": figure, "target": target, "pass": ok, "issue": issue}


def judge(results: dict[str, Any]) -> list[Target]:
    """Issue 5's targets, then issue 12's."""
    return _issue_5(results) + _issue_12(results)


def _issue_5(results: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    for row in results["intake"]:
        if row["backend"] != "local":
            continue
        rate = row["emails_per_second"]["median"]
        slower = row["times_slower_than_parse"]["median"]
        label = f"intake, {row['backlog']} emails, {row['open_cases']} open"
        out.append(_target(label, f"{rate:.0f} emails/s", ">= 200 emails/s", rate >= 200))
        out.append(
            _target(f"{label}, vs parse only", f"{slower:.1f}x slower", "<= 5x", slower <= 5)
        )
    cells = {(c["open_cases"], c["closed_cases"]): c for c in results["store_cost"]}
    for (open_cases, closed), cell in sorted(cells.items()):
        if open_cases >= 10_000:
            for kind in ("idle_tick_seconds", "due_tick_seconds", "digest_tick_seconds"):
                if kind not in cell:  # results written before the digest had a tick of its own
                    continue
                seconds = cell[kind]["median"]
                name = f"{kind.split('_')[0]} tick, {open_cases} open, {closed} closed"
                out.append(_target(name, f"{seconds:.3f} s", "< 1 s", seconds < 1))
    closed_sizes = sorted({c for _, c in cells})
    for open_cases in sorted({o for o, _ in cells}):
        small, large = (cells.get((open_cases, c)) for c in (closed_sizes[0], closed_sizes[-1]))
        if small is None or large is None or small is large:
            continue
        ratio = large["seconds_per_email"]["median"] / small["seconds_per_email"]["median"]
        out.append(
            _target(
                f"one email, {open_cases} open: {closed_sizes[-1]} vs {closed_sizes[0]} closed",
                f"{ratio:.2f}x",
                "flat (<= 1.5x)",
                ratio <= 1.5,
            )
        )
    for closed in closed_sizes:
        row = sorted((o, c) for o, c in cells.items() if o[1] == closed)
        if len(row) >= 2:
            (lo, low), (hi, high) = row[0], row[-1]
            growth = high["idle_tick_seconds"]["median"] / low["idle_tick_seconds"]["median"]
            scale = hi[0] / lo[0]
            out.append(
                _target(
                    f"idle tick growth {lo[0]} -> {hi[0]} open, {closed} closed",
                    f"{growth:.1f}x for {scale:.0f}x cases",
                    "linear or better",
                    growth <= scale * 1.5,
                )
            )
    for row in results["memory"]:
        if row["open_cases"] >= 10_000 and row["closed_cases"] >= 50_000:
            peak = row["peak_rss_mb"]["median"]
            out.append(
                _target(
                    f"peak RSS, {row['open_cases']} open, {row['closed_cases']} closed",
                    f"{peak:.0f} MB",
                    "< 200 MB",
                    peak < 200,
                )
            )
    graph = results["graph_economy"]
    idle = graph["idle_poll_requests"]
    out.append(_target("Graph requests per idle poll", f"{idle:g}", "exactly 1", idle == 1))
    per_email = graph["mailbox_requests_per_email"]
    out.append(_target("Graph requests per email", f"{per_email:.2f}", "<= 4", per_email <= 4))
    busy = graph["busiest_10_min_requests"]
    out.append(
        _target(
            f"Graph busiest 10 min (bot clock), {graph['emails']}-email backlog",
            f"{busy:.0f}",
            "< 10,000",
            busy < 10_000,
        )
    )
    paced = graph["busiest_10_min_after_10000_emails"]
    out.append(
        _target(
            "Graph busiest 10 min in a 10,000-email backlog (paced by the request budget)",
            f"{paced:.0f}",
            "< 10,000",
            paced < 10_000,
        )
    )
    flight = graph["max_concurrent_requests"]
    out.append(_target("Graph concurrent requests", f"{flight}", "<= 4", flight <= 4))
    return out


def _issue_12(results: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    floors = {"local": 3.0, "graph": 6.0}
    for row in results["intake"]:
        if row["backlog"] != results["intake"][0]["backlog"] and row["backend"] == "local":
            continue  # the 10,000 backlog is issue 5's; the floors are set at 1,000 emails
        slower = row["times_slower_than_parse"]["median"]
        limit = floors[row["backend"]]
        name = f"intake, {row['backend']}, {row['backlog']} emails, {row['open_cases']} open"
        out.append(
            _target(
                f"{name}, vs parse only", f"{slower:.1f}x", f"<= {limit:g}x", slower <= limit, 12
            )
        )
    cells = {(c["open_cases"], c["closed_cases"]): c for c in results["store_cost"]}
    for closed in sorted({c for _, c in cells}):
        row = sorted(o for o, c in cells if c == closed)
        if len(row) >= 2:
            small, large = cells[(row[0], closed)], cells[(row[-1], closed)]
            ratio = large["seconds_per_email"]["median"] / small["seconds_per_email"]["median"]
            out.append(
                _target(
                    f"one email, {row[-1]} vs {row[0]} open, {closed} closed",
                    f"{ratio:.2f}x",
                    "<= 1.5x",
                    ratio <= 1.5,
                    12,
                )
            )
    for (open_cases, closed), cell in sorted(cells.items()):
        if open_cases >= 10_000:
            due, idle = cell["due_tick_seconds"]["median"], cell["idle_tick_seconds"]["median"]
            where = f"{open_cases} open, {closed} closed"
            out.append(_target(f"due tick, {where}", f"{due:.3f} s", "< 0.5 s", due < 0.5, 12))
            out.append(_target(f"idle tick, {where}", f"{idle:.3f} s", "< 0.1 s", idle < 0.1, 12))
            if "digest_tick_seconds" in cell:
                digest = cell["digest_tick_seconds"]["median"]
                out.append(
                    _target(
                        f"digest tick, {where}", f"{digest:.3f} s", "< 0.5 s", digest < 0.5, 12
                    )
                )
    for row in results.get("opening", []):
        if row["open_cases"] >= 10_000 and row["closed_cases"] >= 50_000:
            where = f"{row['open_cases']} open, {row['closed_cases']} closed"
            start = row["start_seconds"]["median"]
            snap = row["snapshot_seconds"]["median"]
            out.append(
                _target(
                    f"opening the store (the bot's start), {where}",
                    f"{start:.3f} s",
                    "< 0.5 s",
                    start < 0.5,
                    12,
                )
            )
            out.append(
                _target(
                    f"opening a snapshot (a reader), {where}",
                    f"{snap:.3f} s",
                    "< 0.5 s",
                    snap < 0.5,
                    12,
                )
            )
    cases = results.get("cases_command")
    if cases:
        for key, label in (("demo_end", "at its end"), ("demo_midway", "midway, 4 open")):
            wall = cases[key]["median"]
            out.append(
                _target(
                    f"python -m bot cases, demo store {label}",
                    f"{wall:.3f} s",
                    "< 0.3 s",
                    wall < 0.3,
                    12,
                )
            )
    flight = results["graph_economy"]["max_concurrent_requests"]
    out.append(
        _target(
            "Graph requests side by side in a backlog", f"{flight}", "2 to 4", 2 <= flight <= 4, 12
        )
    )
    return out
