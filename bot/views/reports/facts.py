"""What the reports need of one case, taken from its stored JSON without building the model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from bot.procedure.case import Case
from bot.views.reports.daycount import DayCounter

_AT_STAGE = " at stage "
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
        for day, event in self.events:
            if event in names or any(n.endswith(".") and event.startswith(n) for n in names):
                return day, event
        return None

    def last(self, *names: str) -> tuple[date, str] | None:
        for day, event in reversed(self.events):
            if event in names or any(n.endswith(".") and event.startswith(n) for n in names):
                return day, event
        return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value))


def _when(value: Any, days: DayCounter) -> date | None:
    """The working day a stored time (text, or a datetime from a model) counts as."""
    if not value:
        return None
    if isinstance(value, str):
        return days.effective_day_of(value)
    return days.effective_day(value)


# Deadlines whose start and end the figures measure; the others need only due and status.
_MEASURED = frozenset({"screening", "follow_up_reminder"})


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _arrival(opened: datetime, days: DayCounter) -> str:
    local = opened.astimezone(days.zone)
    if not days.is_working_day(local.date()):
        return "on a weekend, bank holiday or closure day"
    if local.time() >= days.close_of_business:
        return "after close of business"
    return "in working hours"


def facts_of(case: Case | Mapping[str, Any], days: DayCounter) -> CaseFacts:
    """The facts of a case given as the model or as its stored JSON (a dict)."""
    doc: Mapping[str, Any] = case.model_dump(mode="json") if isinstance(case, Case) else case
    events: list[tuple[date, str]] = []
    for entry in doc.get("timeline", ()):
        if entry.get("kind") != "stage":
            continue
        name = str(entry.get("rule", "")).split(_AT_STAGE, 1)[0]
        if name and " " not in name:
            events.append((_when(entry["at"], days) or date.min, name))
    deadlines = []
    for item in doc.get("deadlines", ()):
        measured = item.get("remind") is not None or item["name"] in _MEASURED
        deadlines.append(
            DeadlineFact(
                item["name"],
                str(item.get("step", "")),
                str(item.get("title", "")),
                _day(item["due"]),
                str(item.get("status", "pending")),
                item.get("remind"),
                _when(item["set_at"], days) if measured else None,
                _when(item.get("closed_at"), days) if measured else None,
            )
        )
    opened = _moment(doc["opened_at"])
    referrer = str(doc.get("referrer", ""))
    return CaseFacts(
        reference=str(doc["reference"]),
        status=str(doc.get("status", "open")),
        stage=str(doc.get("stage", "")),
        received=_day(doc["received_day"]),
        closed=_when(doc.get("closed_at"), days),
        provider=doc.get("provider_id"),
        officer=doc.get("officer_id"),
        arrived=_arrival(opened, days) if opened else "",
        source=referrer.rsplit("@", 1)[-1].lower() if "@" in referrer else "unknown",
        events=tuple(events),
        deadlines=tuple(deadlines),
    )
