"""Injected clocks: code asks a Clock for `now` instead of reading the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as wall_time
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local_instant(day: date, at: wall_time, zone: ZoneInfo = LONDON) -> datetime:
    """The instant a local wall time `at` falls on `day`."""
    if at.tzinfo is not None:
        raise ValueError("local_instant takes a local wall time without a tzinfo")
    naive = datetime.combine(day, at, tzinfo=zone)
    # Round-trip through UTC so a wall time skipped by the spring change (01:30 on the
    # last Sunday of March) comes back as the real instant, 02:30 BST.
    return naive.astimezone(UTC).astimezone(zone)


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in the configured zone; only the daemon's composition root uses it."""

    def __init__(self, zone: ZoneInfo = LONDON) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone)


class FixedClock:
    """A clock that only moves when told to: for `once --now`, the demo and tests."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now


class Deadline:
    """A time limit on work in progress, on a monotonic clock (injected in tests): unlike
    `now`, it measures how long something has taken, never what time it is."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._end = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._monotonic())

    def expired(self) -> bool:
        return self._monotonic() >= self._end
