"""Measurement 4: Microsoft Graph requests per idle poll, per email and per letter, on the fake."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.site import NOW, Seeds, graph_server, site
from bench.workload import Workload
from bot.mailbox.graph_budget import DEFAULT_LIMIT

BUDGET = DEFAULT_LIMIT  # mailbox.graph.requests_per_10_minutes, by default
LIMIT_PER_10_MIN = 10_000  # Graph's documented limit per app per mailbox
LIMIT_CONCURRENT = 4
# Reading new mail and moving it out of the inbox; a backlog's bodies and moves go in JSON
# batches, whose envelopes are counted here too (Graph counts each request in a batch).
MAILBOX_SIDE = ("delta", "$value", "/move", "$batch")


class InFlight:
    """Wraps the fake's request handler to count requests being served at the same moment."""

    def __init__(self, fake: Any) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        real: Callable[..., Any] = fake.handle

        def handle(*args: Any) -> Any:
            if "$batch" in args[1]:  # an envelope: its requests are counted as they run
                return real(*args)
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                return real(*args)
            finally:
                with self.lock:
                    self.now -= 1

        fake.handle = handle


def graph_counts(fake: Any) -> Counter[str]:
    return Counter({k: v for k, v in fake.counts.items() if "oauth2" not in k})


def economy(
    seeds: Seeds, work: Path, emails: int, open_cases: int, closed_cases: int, seed: int,
    poll_interval: int,
) -> dict[str, Any]:
    with graph_server(work / "server") as server, site(
        seeds, work / "ws", open_cases, closed_cases, server
    ) as (ws, cases):
        fake = server.fake
        # A fake in another process counts what it serves at once itself.
        flight = None if hasattr(fake, "peak") else InFlight(fake)
        idle_polls = 5
        before = graph_counts(fake)
        for n in range(idle_polls):
            ws.clock.set(NOW + timedelta(seconds=poll_interval * (n + 1)))
            ws.app.poll()
        idle = sum((graph_counts(fake) - before).values()) / idle_polls
        before_tick = graph_counts(fake)
        ws.app.tick()
        idle_tick = sum((graph_counts(fake) - before_tick).values())

        at = NOW + timedelta(minutes=30)
        for item in Workload(ws.app.config, cases, seed).backlog(emails, at, timedelta(minutes=5)):
            server.inject(item.raw, item.received_at)
        ws.clock.set(at + timedelta(seconds=poll_interval))
        before = graph_counts(fake)
        started = time.perf_counter()
        report = ws.app.poll()
        seconds = time.perf_counter() - started
        spent = graph_counts(fake) - before
        mailbox = sum(v for k, v in spent.items() if any(s in k for s in MAILBOX_SIDE))
        letters = sum(spent.values()) - mailbox
        total = sum(spent.values())
        per_email = mailbox / max(report.fetched, 1)
        per_letter = letters / max(report.delivered, 1)
        # On the bot's clock the whole backlog poll happens in one poll cycle: the busiest
        # 10 minutes hold it and the idle polls around it.
        window = total + idle * (600 / poll_interval - 1)
        per_email_all = total / max(report.fetched, 1)
        return {
            "idle_poll_requests": idle,
            "idle_tick_requests": idle_tick,
            "emails": report.fetched,
            "letters": report.delivered,
            "mailbox_requests_per_email": per_email,
            "requests_per_letter": per_letter,
            "backlog_poll_requests": total,
            "backlog_poll_seconds": seconds,
            "by_route": dict(spent),
            "poll_interval_seconds": poll_interval,
            "idle_requests_per_10_min": idle * 600 / poll_interval,
            "busiest_10_min_requests": window,
            # Unpaced, a 10,000-email backlog would ask for this much in one poll; the
            # request budget holds any 10 minutes to BUDGET and spreads the rest out.
            "unpaced_requests_for_10000_emails": per_email_all * 10_000,
            "request_budget_per_10_min": BUDGET,
            "busiest_10_min_after_10000_emails": min(per_email_all * 10_000, BUDGET),
            "minutes_to_clear_10000_emails": 10 * per_email_all * 10_000 / BUDGET,
            "wall_rate_per_10_min": total / seconds * 600,  # at loopback speed: an upper bound
            "limit_per_10_min": LIMIT_PER_10_MIN,
            # Seen by the fake, or held by the bot's client (a fake that answers in
            # microseconds rarely sees requests overlap; the bot's slots say what it sent).
            "max_concurrent_requests": max(
                flight.peak if flight else fake.peak(), _client_peak(ws.app.mailbox)
            ),
            "limit_concurrent": LIMIT_CONCURRENT,
        }


def _client_peak(mailbox: Any) -> int:
    """The most Graph requests the bot's client had in flight at once (0 for older bots)."""
    pacing = getattr(getattr(mailbox, "client", None), "pacing", None)
    return int(getattr(pacing, "peak", 0))
