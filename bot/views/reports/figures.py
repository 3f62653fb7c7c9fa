"""Timescale compliance figures for any period: pure, from plain inputs, for every output.

`compute_figures` takes the cases (the model or the stored JSON of each, open and closed),
the triage items (waiting and resolved), the period and the moment the report is made, and
counts everything in working days on the deadlines' own calendar. The command line, the
monthly report and the dashboard's Reports page all call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.procedure.case import Case
from bot.procedure.workdays import WorkCalendar
from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts, facts_of
from bot.views.reports.intake import MonthIntake, TriageFact, intake_figures, triage_fact
from bot.views.reports.officers import OfficerFigures, officer_figures
from bot.views.reports.period import Period
from bot.views.reports.providers import ProviderFigures, provider_figures
from bot.views.reports.stats import rate
from bot.views.reports.steps import Breach, StepFigures, obligations, step_figures
from bot.views.reports.trends import MonthTrend, trend_figures

# A case closed this long before the period began has nothing left to count in it (its last
# deadlines, met early, fell due at most a few weeks after it closed).
CLOSED_MARGIN = timedelta(days=62)


@dataclass
class Figures:
    """Everything a report shows; names maps ids (providers, officers) to what people read."""

    period: Period
    as_at: datetime
    steps: list[StepFigures]
    providers: list[ProviderFigures]
    officers: list[OfficerFigures]
    intake: list[MonthIntake]
    trends: list[MonthTrend]
    names: dict[str, str] = field(default_factory=dict)
    cases_counted: int = 0

    @property
    def breaches(self) -> list[Breach]:
        found = [b for row in self.steps for b in row.breaches]
        return sorted(found, key=lambda b: (b.due, b.reference, b.step))

    @property
    def fell_due(self) -> int:
        return sum(r.fell_due for r in self.steps)

    @property
    def met(self) -> int:
        return sum(r.met for r in self.steps)

    @property
    def late(self) -> int:
        return sum(r.missed + r.overdue for r in self.steps)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.met, self.met + self.late)

    @property
    def received(self) -> int:
        return sum(m.received for m in self.intake)

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def relevant(case: CaseFacts, period: Period) -> bool:
    """Whether anything of the case can fall in the period."""
    if case.received > period.end:
        return False
    return case.closed is None or case.closed >= period.start - CLOSED_MARGIN


def compute_figures(
    cases: Iterable[Case | Mapping[str, Any] | CaseFacts],
    triage: Iterable[Mapping[str, Any] | TriageFact],
    period: Period,
    now: datetime,
    calendar: WorkCalendar | DayCounter,
    *,
    step_titles: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> Figures:
    """The figures of `period` as at `now`; cases and triage items in any order."""
    days = calendar if isinstance(calendar, DayCounter) else DayCounter(calendar)
    facts: list[CaseFacts] = []
    for case in cases:
        fact = case if isinstance(case, CaseFacts) else facts_of(case, days)
        if relevant(fact, period):
            facts.append(fact)
    owned = [item for fact in facts for item in obligations(fact, days)]
    waiting = [t if isinstance(t, TriageFact) else triage_fact(t, days) for t in triage]
    intake = intake_figures(facts, waiting, period, now, days)
    return Figures(
        period=period,
        as_at=now,
        steps=step_figures(owned, period, now, days, step_titles or {}),
        providers=provider_figures(facts, period, days),
        officers=officer_figures(facts, owned, period, now, days),
        intake=intake,
        trends=trend_figures(facts, owned, intake, period, now, days),
        names=dict(names or {}),
        cases_counted=len(facts),
    )
