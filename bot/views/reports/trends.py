"""The headline figures month by month across the period, in one pass over the cases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import RESPONSES, SCREENING_PREFIX, CaseFacts
from bot.views.reports.intake import MonthIntake
from bot.views.reports.period import Period
from bot.views.reports.stats import median, rate
from bot.views.reports.steps import Obligation, is_overdue


@dataclass
class MonthTrend:
    month: Period
    received: int = 0
    eligible: int = 0  # screened in and written to the provider
    not_processed: int = 0
    fell_due: int = 0  # timescales the council had to keep
    met: int = 0
    late: int = 0
    responses: int = 0  # providers' first responses to the concern letter
    response_days: list[int] = field(default_factory=list)
    triaged: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.met, self.met + self.late)

    @property
    def median_response_days(self) -> float | None:
        return median(self.response_days)


def trend_figures(
    cases: Iterable[CaseFacts],
    owned: Iterable[Obligation],
    intake: Iterable[MonthIntake],
    period: Period,
    now: datetime,
    days: DayCounter,
) -> list[MonthTrend]:
    months = {(m.start.year, m.start.month): MonthTrend(m) for m in period.months()}

    start, end = period.start, period.end

    def month_of(day: date) -> MonthTrend | None:
        if not start <= day <= end:
            return None
        return months.get((day.year, day.month))

    for case in cases:
        row = month_of(case.received)
        if row is not None:
            row.received += 1
        for day, event in case.events:
            if event.startswith(SCREENING_PREFIX) and (row := month_of(day)) is not None:
                if event == f"{SCREENING_PREFIX}eligible":
                    row.eligible += 1
                else:
                    row.not_processed += 1
        response = case.first(*RESPONSES)
        if response is not None and (row := month_of(response[0])) is not None:
            row.responses += 1
            letter = case.first(f"{SCREENING_PREFIX}eligible")
            if letter is not None:
                row.response_days.append(days.between(letter[0], response[0]))
    for item in owned:
        row = month_of(item.due)
        if row is None:
            continue
        row.fell_due += 1
        if item.state == "met":
            row.met += 1
        elif item.state == "missed" or is_overdue(item.due, now, days):
            row.late += 1
    for month in intake:
        row = month_of(month.month.start)
        if row is not None:
            row.triaged = month.triaged
    return list(months.values())
