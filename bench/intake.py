"""Measurement 1: emails per second end to end through App.poll(), against the parse-only floor."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.site import NOW, Seeds, delivery_timer, graph_server, pdf_timer, site
from bench.stats import spread
from bench.workload import Email, Workload, count_kinds
from bot.demo.harness import MailServer


def parse_floor(emails: list[Email]) -> float:
    """Seconds for the standard library parser alone over the same emails."""
    started = time.perf_counter()
    for item in emails:
        email.message_from_bytes(item.raw, policy=email.policy.default)
    return time.perf_counter() - started


def one_backlog(
    seeds: Seeds,
    root: Path,
    backlog: int,
    open_cases: int,
    closed_cases: int,
    seed: int,
    server: MailServer | None = None,
) -> dict[str, Any]:
    """One run: the backlog dropped into the inbox, then one timed poll (with its letters)."""
    with site(seeds, root, open_cases, closed_cases, server) as (ws, cases):
        emails = Workload(ws.app.config, cases, seed).backlog(backlog, NOW, timedelta(hours=60))
        for item in emails:
            ws.server.inject(item.raw, item.received_at)
        ws.clock.set(NOW + timedelta(minutes=1))
        with delivery_timer() as letters, pdf_timer() as pdfs:
            started = time.perf_counter()
            report = ws.app.poll()
            seconds = time.perf_counter() - started
        # The checkpoint the bot writes once idle (a bot from before issue 12 has none to time).
        tidy = getattr(ws.app, "tidy", None)
        started = time.perf_counter()
        if tidy is not None:
            tidy()
        return {
            "seconds": seconds,
            "checkpoint_seconds": time.perf_counter() - started if tidy is not None else None,
            "letters_seconds": letters.seconds,
            "pdf_seconds": pdfs.seconds,
            "pdfs": pdfs.calls,
            "parse_seconds": parse_floor(emails),
            "fetched": report.fetched,
            "handled": len(report.handled),
            "duplicates": report.duplicates,
            "quarantined": len(report.quarantined),
            "retrying": len(report.retrying),
            "letters": report.delivered,
            "kinds": count_kinds(emails),
        }


def intake(
    seeds: Seeds,
    work: Path,
    backlog: int,
    open_cases: int,
    closed_cases: int,
    repeat: int,
    seed: int,
    graph: bool = False,
) -> dict[str, Any]:
    """Rates over `repeat` runs (each on a fresh copy of the store): total, without letters."""
    runs = []
    for n in range(repeat):
        root = work / f"intake-{'graph' if graph else 'local'}-{backlog}-{n}"
        if graph:
            with graph_server(root / "server") as server:
                runs.append(
                    one_backlog(seeds, root / "ws", backlog, open_cases, closed_cases, seed, server)
                )
        else:
            runs.append(one_backlog(seeds, root, backlog, open_cases, closed_cases, seed))
    rates = [r["fetched"] / r["seconds"] for r in runs]
    intake_only = [r["fetched"] / max(r["seconds"] - r["letters_seconds"], 1e-9) for r in runs]
    floors = [r["fetched"] / r["parse_seconds"] for r in runs]
    # PDF letters are WeasyPrint's page layout, about 0.1 s each whatever the store does.
    idle = all(r.get("checkpoint_seconds") is not None for r in runs)
    both = list(zip(floors, runs, strict=True))
    apart = [r["fetched"] / max(r["seconds"] - r.get("pdf_seconds", 0.0), 1e-9) for r in runs]
    return {
        "backend": "graph" if graph else "local",
        "backlog": backlog,
        "open_cases": open_cases,
        "closed_cases": closed_cases,
        "emails_per_second": spread(rates),
        "emails_per_second_without_letters": spread(intake_only),
        "letters_seconds": spread([r["letters_seconds"] for r in runs]),
        "parse_only_emails_per_second": spread(floors),
        "times_slower_than_parse": spread([f / r for f, r in zip(floors, rates, strict=True)]),
        "pdf_seconds": spread([r.get("pdf_seconds", 0.0) for r in runs]),
        "pdfs": runs[-1].get("pdfs", 0),
        "checkpoint_seconds": spread([r["checkpoint_seconds"] for r in runs]) if idle else None,
        "times_slower_with_checkpoint": spread(
            [f * (r["seconds"] + r["checkpoint_seconds"]) / r["fetched"] for f, r in both]
        )
        if idle
        else None,
        "times_slower_without_pdfs": spread([f / r for f, r in zip(floors, apart, strict=True)]),
        "last_run": runs[-1],
    }
