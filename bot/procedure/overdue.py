"""When a deadline is overdue: one rule for the engine and for views that never load it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import LONDON, local_instant


class DeadlineState(Protocol):
    """What overdue-ness depends on: a Deadline, or the case index's slim view of one."""

    @property
    def status(self) -> str: ...
    @property
    def event(self) -> str | None: ...
    @property
    def due(self) -> date: ...


def is_overdue(
    deadline: DeadlineState, now: datetime, close_of_business: time, zone: ZoneInfo = LONDON
) -> bool:
    """Still open (pending, or fired with nothing done) after close of business on its day."""
    if deadline.status not in ("pending", "fired"):
        return False
    if deadline.status == "fired" and deadline.event:
        return False  # the procedure already acted on it
    return now > local_instant(deadline.due, close_of_business, zone)
