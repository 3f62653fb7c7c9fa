"""Per step with a timescale: how many fell due, met, missed, open and overdue, and the breaches.

A step's timescale is one the council must keep: a deadline that reminds someone (the officer
or the Senior Procurement Officer), and step 3, writing to the provider within 2 working days
of the day the concern counts from. The procedure's own timers (the provider's reminder and
last day, the referrer's reminder) are kept by the bot itself and are counted in the provider
view instead. A deadline belongs to the period its due day falls in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import SCREENING_PREFIX, CaseFacts
from bot.views.reports.period import Period
from bot.views.reports.stats import median, p90, rate, step_key

DISPATCH_STEP = "3"
DISPATCH_WORKING_DAYS = 2  # step 3: "within 2 working days from receipt of concern"
DISPATCH_TITLE = "Dispatch the concern to the service provider"


@dataclass(frozen=True)
class Breach:
    """A timescale not kept: done late, or still not done after its day."""

    reference: str
    step: str
    title: str
    due: date
    done: date | None  # None: still open
    working_days_late: int


class Obligation(NamedTuple):
    """One timescale on one case, whoever keeps it (a tuple: a year's report makes 80,000)."""

    reference: str
    step: str
    title: str
    owner: str  # the officer's id, or the role (spo) that must act
    due: date
    state: str  # met, missed, open
    start: date
    done: date | None


@dataclass
class StepFigures:
    step: str
    title: str
    fell_due: int = 0
    met: int = 0
    missed: int = 0
    open: int = 0
    overdue: int = 0
    taken: list[int] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        """Met, out of those met, missed or open past their day."""
        return rate(self.met, self.met + self.missed + self.overdue)

    @property
    def median_days(self) -> float | None:
        return median(self.taken)

    @property
    def p90_days(self) -> int | None:
        return p90(self.taken)


def obligations(case: CaseFacts, days: DayCounter) -> Iterable[Obligation]:
    """Every timescale the council had to keep on this case."""
    for d in case.deadlines:
        if d.remind is None or d.status == "cancelled":
            continue
        owner = (case.officer or "unallocated") if d.remind == "officer" else d.remind
        state = d.status if d.status in ("met", "missed") else "open"
        done = d.closed_day if state != "open" else None
        start = d.set_day or d.due  # always set for a deadline that reminds someone
        yield Obligation(case.reference, d.step, d.title, owner, d.due, state, start, done)
    dispatch = _dispatch(case, days)
    if dispatch is not None:
        yield dispatch


def _dispatch(case: CaseFacts, days: DayCounter) -> Obligation | None:
    """Step 3, from the day the concern last came to be screened to the letter's day."""
    eligible = case.first(f"{SCREENING_PREFIX}eligible")
    if eligible is None and not (case.status == "open" and case.stage == "screening"):
        return None
    until = eligible[0] if eligible else date.max
    starts = [
        d.set_day
        for d in case.deadlines
        if d.name == "screening" and d.set_day is not None and d.set_day <= until
    ]
    start = max(starts, default=case.received)
    due = days.add(start, DISPATCH_WORKING_DAYS)
    owner = case.officer or "unallocated"
    if eligible is None:
        return Obligation(case.reference, DISPATCH_STEP, DISPATCH_TITLE, owner, due, "open",
                          start, None)
    state = "met" if eligible[0] <= due else "missed"
    return Obligation(case.reference, DISPATCH_STEP, DISPATCH_TITLE, owner, due, state, start,
                      eligible[0])


def is_overdue(due: date, now: datetime, days: DayCounter) -> bool:
    """Past close of business on its day, as the engine judges a deadline overdue."""
    local = now.astimezone(days.zone)
    return local.date() > due or (local.date() == due and local.time() >= days.close_of_business)


def step_figures(
    items: Iterable[Obligation],
    period: Period,
    now: datetime,
    days: DayCounter,
    titles: Mapping[str, str],
) -> list[StepFigures]:
    rows: dict[str, StepFigures] = {}
    start, end = period.start, period.end
    for item in items:
        if not start <= item.due <= end:
            continue
        row = rows.get(item.step)
        if row is None:
            row = rows[item.step] = StepFigures(item.step, titles.get(item.step, item.title))
        row.fell_due += 1
        if item.state == "open":
            row.open += 1
            if is_overdue(item.due, now, days):
                row.overdue += 1
                today = now.astimezone(days.zone).date()
                row.breaches.append(Breach(item.reference, item.step, item.title, item.due,
                                           None, days.between(item.due, today)))
            continue
        assert item.done is not None
        row.taken.append(days.between(item.start, item.done))
        if item.state == "met":
            row.met += 1
        else:
            row.missed += 1
            row.breaches.append(Breach(item.reference, item.step, item.title, item.due,
                                       item.done, days.between(item.due, item.done)))
    for row in rows.values():
        row.breaches.sort(key=lambda b: (b.due, b.reference))
    return sorted(rows.values(), key=lambda r: step_key(r.step))
