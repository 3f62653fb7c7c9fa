"""What the reports need of one case, from its brief (or its stored JSON) without the model."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from bot.procedure.case import Case
from bot.store.brief import Brief, brief_of
from bot.views.reports.daycount import DayCounter

SCREENING_PREFIX = "screen."
RESPONSES = ("provider.accepts", "provider.disputes")
CONCLUSIONS = ("decision.agreed", "decision.alternative")
EVIDENCE = ("provider.follow_up", "ops.validation")


class DeadlineFact(NamedTuple):
    """One deadline: what it was, when it fell due, and when and how it was closed."""

    name: str
    step: str
    title: str
    due: date
    status: str  # pending, fired, met, missed, cancelled
    remind: str | None  # who had to act (officer, spo); None for the procedure's own timers
    set_day: date | None  # the working day it was set on (for timescales and follow-ups)
    closed_day: date | None  # the working day it was met, missed or cancelled


class CaseFacts(NamedTuple):
    """One case reduced to the dates and outcomes the figures count."""

    reference: str
    status: str
    stage: str
    received: date
    closed: date | None
    provider: str | None
    officer: str | None
    arrived: str  # in working hours, after close of business, on a non-working day
    source: str  # the mail domain the concern came from
    events: tuple[tuple[date, str], ...]  # (working day, event) of each stage change
    deadlines: tuple[DeadlineFact, ...]

    def first(self, *names: str) -> tuple[date, str] | None:
        """The first event with one of these names (or, for a name ending '.', that prefix)."""
        exact, prefixes = _split(names)
        for day, event in self.events:
            if event in exact or event.startswith(prefixes):
                return day, event
        return None

    def last(self, *names: str) -> tuple[date, str] | None:
        exact, prefixes = _split(names)
        for day, event in reversed(self.events):
            if event in exact or event.startswith(prefixes):
                return day, event
        return None


@functools.cache
def _split(names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names to match whole, and prefixes (ending '.'): str.startswith takes them at once."""
    return names, tuple(n for n in names if n.endswith("."))


# Deadlines whose start and end the figures measure; the others need only due and status.
_MEASURED = frozenset({"screening", "follow_up_reminder"})


def _arrival(opened: str | None, days: DayCounter) -> str:
    if not opened:
        return ""
    local = datetime.fromisoformat(opened).astimezone(days.zone)
    if not days.is_working_day(local.date()):
        return "on a weekend, bank holiday or closure day"
    if local.time() >= days.close_of_business:
        return "after close of business"
    return "in working hours"


def facts_from_brief(brief: Brief, days: DayCounter) -> CaseFacts:
    """The facts of a case from its brief (bot.store.brief): times are ISO text, as stored."""
    (_, received, reference, status, stage, closed_at, provider, officer, opened, source,
     events, deadlines) = brief  # fmt: skip
    # Tens of thousands of cases a report, each with hundreds of thousands of times between
    # them: the names are bound once, a time already seen is looked up without a call, and
    # the tuples are made directly.
    known, when = days.moments.get, days.effective_day_of
    day, new = date.fromisoformat, tuple.__new__
    facts = []
    for name, step, title, due, state, remind, set_at, closed in deadlines:
        measured = remind is not None or name in _MEASURED
        started = (known(set_at) or when(set_at)) if set_at and measured else None
        ended = (known(closed) or when(closed)) if closed and measured else None
        facts.append(new(DeadlineFact, (name, step, title, day(due), state, remind, started,
                                        ended)))
    changes = [((known(at) or when(at)) if at else date.min, name) for at, name in events]
    return new(CaseFacts, (reference, status, stage, day(received),
                           when(closed_at) if closed_at else None, provider, officer,
                           _arrival(opened, days), "unknown" if source is None else source,
                           tuple(changes), tuple(facts)))  # fmt: skip


def facts_of(case: Case | Mapping[str, Any], days: DayCounter) -> CaseFacts:
    """The facts of a case given as the model or as its stored JSON (a dict, times as text)."""
    doc: Mapping[str, Any] = case.model_dump(mode="json") if isinstance(case, Case) else case
    return facts_from_brief(brief_of(doc), days)
