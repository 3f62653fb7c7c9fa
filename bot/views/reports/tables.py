"""The figures as tables, one per view, each with its chart: what every format writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.views.reports.figures import Figures

Cell = str | int | float | date | None
PERCENT = "percent"
DAYS = "days"


@dataclass(frozen=True)
class Chart:
    """A chart of some columns of a table against its first column."""

    kind: Literal["bar", "line"]
    title: str
    series: tuple[int, ...]  # column numbers drawn, one series each
    y_title: str = "Number"
    percent: bool = False


@dataclass
class Table:
    name: str  # short: a sheet name and a file name (at most 31 characters)
    title: str
    note: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    formats: dict[int, str] = field(default_factory=dict)  # column -> PERCENT or DAYS
    chart: Chart | None = None


def fraction(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary(f: Figures) -> Table:
    table = Table(
        "Summary",
        f"Timescale compliance, {f.period.label}",
        f"As at {f.as_at:%d %b %Y %H:%M} (Europe/London). Days are working days on the "
        "deadlines' calendar (weekends, bank holidays and closure days skipped).",
        ["Figure", "Value"],
        formats={},
    )
    table.rows = [
        ["Period from", f.period.start],
        ["Period to", f.period.end],
        ["Concerns received", f.received],
        ["Timescales that fell due", f.fell_due],
        ["Met on time", f.met],
        ["Missed or overdue", f.late],
        ["On-time rate", fraction(f.on_time_rate)],
        ["Breaches listed", len(f.breaches)],
    ]
    return table


def steps(f: Figures) -> Table:
    table = Table(
        "Steps",
        "Timescales by step",
        "A timescale belongs to the period its due day falls in. On-time rate: met, out of met, "
        "missed and still open past the due day. Days taken: from the day the timescale "
        "started to the day it was done.",
        ["Step", "Timescale", "Fell due", "Met", "Missed", "Open", "Open and overdue",
         "On-time rate", "Median days taken", "90th percentile days taken"],
        formats={7: PERCENT, 8: DAYS, 9: DAYS},
        chart=Chart("bar", "Timescales met and missed, by step", (3, 4, 6)),
    )
    table.rows = [
        [r.step, r.title, r.fell_due, r.met, r.missed, r.open, r.overdue,
         fraction(r.on_time_rate), r.median_days, r.p90_days]
        for r in f.steps
    ]
    return table


def breaches(f: Figures) -> Table:
    table = Table(
        "Breaches",
        "Every breach, by reference",
        "Done late, or still not done after its due day (Done is blank). Days late: working "
        "days after the due day.",
        ["Reference", "Step", "Timescale", "Due", "Done", "Working days late"],
    )
    table.rows = [
        [b.reference, b.step, b.title, b.due, b.done, b.working_days_late] for b in f.breaches
    ]
    return table


def providers(f: Figures) -> Table:
    table = Table(
        "Providers",
        "Concerns by provider",
        "Received: on the day the concern counts from. Accepted or disputed: the provider's "
        "first response. Upheld: a management decision to conclude. Response days: from the "
        "concern letter to the first response.",
        ["Provider", "Received", "Accepted", "Disputed", "Upheld", "Not processed",
         "Median days to respond", "Reminded to respond", "Follow-ups due",
         "Follow-ups on time", "Follow-up reminders", "Referred for a default notice"],
        formats={6: DAYS},
        chart=Chart("bar", "Concerns received and their outcome, by provider", (1, 2, 3, 5)),
    )
    table.rows = [
        [f.name(r.provider), r.received, r.accepted, r.disputed, r.upheld,
         r.not_processed_total, r.median_response_days, r.reminded, r.follow_ups_due,
         r.follow_ups_on_time, r.follow_up_reminders, r.default_referrals]
        for r in f.providers
    ]
    return table


def not_processed(f: Figures) -> Table:
    table = Table(
        "Not processed",
        "Concerns not processed, and why (step 2)",
        "Each screening decision not to process a concern, on the day it was made.",
        ["Provider", "Reason", "Concerns"],
    )
    table.rows = [
        [f.name(r.provider), reason, count]
        for r in f.providers
        for reason, count in sorted(r.not_processed.items())
    ]
    return table


def officers(f: Figures) -> Table:
    table = Table(
        "Officers",
        "Workload and timescales by officer",
        "Open now: allocated and open when the report was made (for the Senior Procurement "
        "Officer, decisions waiting). Handled: open at some time in the period.",
        ["Officer", "Open now", "Handled", "Fell due", "Met", "Missed or overdue",
         "On-time rate"],
        formats={6: PERCENT},
        chart=Chart("bar", "Timescales met and late, by officer", (4, 5)),
    )
    table.rows = [
        [f.name(r.officer), r.open_cases, r.handled, r.fell_due, r.met, r.late,
         fraction(r.on_time_rate)]
        for r in f.officers
    ]
    return table
