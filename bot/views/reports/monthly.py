"""Makes the monthly report the upkeep sends: the workbook, and a summary of references and
figures for the covering email (never anything a concern says)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.rules import Rules
from bot.store import Store
from bot.upkeep.monthly_report import MonthlyReport, ReportMaker
from bot.views.reports.command import figures_from_store
from bot.views.reports.figures import Figures
from bot.views.reports.period import Period
from bot.views.reports.xlsx import workbook_bytes


def summary(figures: Figures) -> dict[str, Any]:
    rate = figures.on_time_rate
    return {
        "period": figures.period.label,
        "received": figures.received,
        "fell_due": figures.fell_due,
        "met": figures.met,
        "late": figures.late,
        "on_time": "n/a" if rate is None else f"{rate:.0%}",
        "steps": [
            {"step": r.step, "title": r.title, "fell_due": r.fell_due, "met": r.met,
             "late": r.missed + r.overdue}
            for r in figures.steps
        ],
        "breaches": [
            {"reference": b.reference, "step": b.step, "title": b.title, "due": b.due,
             "done": b.done, "late": b.working_days_late}
            for b in figures.breaches
        ],
    }


def monthly_maker(rules: Rules, store: Store) -> ReportMaker:
    """The function the tick calls on the first working day of a month."""

    def make(start: date, end: date, now: datetime) -> MonthlyReport:
        figures = figures_from_store(store, rules, Period(start, end), now)
        return MonthlyReport(workbook_bytes(figures), summary(figures))

    return make
