"""Per officer: open cases now, cases handled in the period, and their timescales kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts
from bot.views.reports.period import Period
from bot.views.reports.stats import rate
from bot.views.reports.steps import Obligation, is_overdue


@dataclass
class OfficerFigures:
    officer: str  # a person's id, "spo" for the Senior Procurement Officer's timescales
    open_cases: int = 0  # allocated and open now (for spo: cases waiting on a decision)
    handled: int = 0  # open at some time in the period
    fell_due: int = 0
    met: int = 0
    late: int = 0  # missed, or open past its day

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.met, self.met + self.late)


def officer_figures(
    cases: Iterable[CaseFacts],
    owned: Iterable[Obligation],
    period: Period,
    now: datetime,
    days: DayCounter,
) -> list[OfficerFigures]:
    rows: dict[str, OfficerFigures] = {}

    def row(key: str) -> OfficerFigures:
        found = rows.get(key)
        if found is None:
            found = rows[key] = OfficerFigures(key)
        return found

    for case in cases:
        if case.officer is None:
            continue
        if case.status == "open":
            row(case.officer).open_cases += 1
        if case.received <= period.end and (case.closed is None or case.closed >= period.start):
            row(case.officer).handled += 1
    for item in owned:
        if item.owner == "spo" and item.state == "open":
            row("spo").open_cases += 1
        if item.due not in period:
            continue
        target = row(item.owner)
        target.fell_due += 1
        if item.state == "met":
            target.met += 1
        elif item.state == "missed" or is_overdue(item.due, now, days):
            target.late += 1
    return sorted(rows.values(), key=lambda r: (r.officer == "spo", r.officer))
