"""When a deadline is overdue: one rule for the engine and for views that never load it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import LONDON


class DeadlineState(Protocol):
    """What overdue-ness depends on: a Deadline, or the case index's slim view of one."""

    @property
    def status(self) -> str: ...
    @property
    def event(self) -> str | None: ...
    @property
    def due(self) -> date: ...


def local_instant(day: date, at: time, zone: ZoneInfo = LONDON) -> datetime:
    """The instant a local wall time `at` falls on `day`."""
    if at.tzinfo is not None:
        raise ValueError("local_instant takes a local wall time without a tzinfo")
    naive = datetime.combine(day, at, tzinfo=zone)
    # Round-trip through UTC so a wall time skipped by the spring change (01:30 on the
    # last Sunday of March) comes back as the real instant, 02:30 BST.
    return naive.astimezone(UTC).astimezone(zone)


def is_overdue(
    deadline: DeadlineState, now: datetime, close_of_business: time, zone: ZoneInfo = LONDON
) -> bool:
    """Still open (pending, or fired with nothing done) after close of business on its day."""
    if deadline.status not in ("pending", "fired"):
        return False
    if deadline.status == "fired" and deadline.event:
        return False  # the procedure already acted on it
    return now > local_instant(deadline.due, close_of_business, zone)
