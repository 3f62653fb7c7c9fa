"""Intake: concerns per month and how they arrived; what went to triage and how long it waited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts
from bot.views.reports.period import Period
from bot.views.reports.stats import median, p90


@dataclass(frozen=True)
class TriageFact:
    """One email that went to triage: when it came, what it was, when an officer dealt with it."""

    received: date
    kind: str
    resolved: date | None  # None: still waiting, or resolved before resolution dates were kept
    waiting: bool


def triage_fact(item: Mapping[str, Any], days: DayCounter) -> TriageFact:
    """From a triage item (waiting) or a resolved line ({"item": ..., "at": ...})."""
    body = item.get("item", item)
    received = days.effective_day(datetime.fromisoformat(str(body["received"])))
    at = item.get("at") if "item" in item else None
    resolved = days.effective_day(datetime.fromisoformat(str(at))) if at else None
    return TriageFact(received, str(body.get("kind") or "unknown"), resolved, "item" not in item)


@dataclass
class MonthIntake:
    month: Period
    received: int = 0
    arrived: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    triaged: int = 0
    triage_kinds: dict[str, int] = field(default_factory=dict)
    triage_waits: list[int] = field(default_factory=list)  # working days, resolved or waiting
    still_waiting: int = 0

    @property
    def median_wait(self) -> float | None:
        return median(self.triage_waits)

    @property
    def p90_wait(self) -> int | None:
        return p90(self.triage_waits)


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def intake_figures(
    cases: Iterable[CaseFacts],
    triage: Iterable[TriageFact],
    period: Period,
    now: datetime,
    days: DayCounter,
) -> list[MonthIntake]:
    months = {(m.start.year, m.start.month): MonthIntake(m) for m in period.months()}
    for case in cases:
        row = months.get((case.received.year, case.received.month))
        if row is None or case.received not in period:
            continue
        row.received += 1
        _bump(row.arrived, case.arrived)
        _bump(row.sources, case.source)
    today = now.astimezone(days.zone).date()
    for item in triage:
        row = months.get((item.received.year, item.received.month))
        if row is None or item.received not in period:
            continue
        row.triaged += 1
        _bump(row.triage_kinds, item.kind)
        if item.waiting:
            row.still_waiting += 1
            row.triage_waits.append(days.between(item.received, today))
        elif item.resolved is not None:
            row.triage_waits.append(days.between(item.received, item.resolved))
    return list(months.values())
