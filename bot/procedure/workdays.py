"""Working-day calendar arithmetic for the procedure's timescales, with officer-readable reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.clock import LONDON, local_instant

# Fixed English names: strftime's %a/%b follow the process locale, and letters must not.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKEND = {5: "Saturday", 6: "Sunday"}
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """A timescale from the procedure, e.g. "within 2 working days" or "on the 14th day"."""

    kind: Literal["working_days", "calendar_days"]
    n: int
    shift: bool = True  # calendar_days only: a non-working due day moves to the next working day

    def __post_init__(self) -> None:
        if self.kind not in ("working_days", "calendar_days"):
            raise ValueError(f"unknown timescale kind {self.kind!r}")
        if self.n < 0:
            raise ValueError(f"a timescale cannot be negative (got {self.n})")


@dataclass(frozen=True)
class ComputedDate:
    """A due date and, for an officer, why it is that date."""

    due: date
    explanation: str


def _uk(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _anchor(start: date, label: str) -> str:
    return f"{_uk(start)} ({label})" if label else _uk(start)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


class WorkCalendar:
    """England and Wales bank holidays, weekends and the council's own closure days."""

    def __init__(
        self,
        closure_days: Mapping[date, str] | None = None,
        close_of_business: time = time(17, 0),
        zone: ZoneInfo = LONDON,
    ) -> None:
        closures = dict(closure_days or {})
        for day in closures:
            # datetime is a date subclass but would never equal a plain date in lookups.
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"closure day {day!r} must be a date, not {type(day).__name__}")
        if close_of_business.tzinfo is not None:
            raise ValueError("close_of_business is a local wall time; give it without a tzinfo")
        self._closures = closures
        self.close_of_business = close_of_business
        self.zone = zone
        self._bank_holidays: dict[int, dict[date, str]] = {}

    def _bank_holiday(self, day: date) -> str | None:
        year = self._bank_holidays.get(day.year)
        if year is None:
            import holidays  # here, not at the top: a view that never counts days skips it

            found = holidays.country_holidays("GB", subdiv="ENG", years=day.year)
            year = {d: str(name) for d, name in found.items()}
            self._bank_holidays[day.year] = year
        return year.get(day)

    def _reason(self, day: date, bank_holiday_style: str) -> str | None:
        # Weekend first: a Saturday Boxing Day is closed because it is Saturday, and the
        # weekday substitute ("observed") carries the holiday.
        if day.weekday() in _WEEKEND:
            return _WEEKEND[day.weekday()]
        name = self._bank_holiday(day)
        if name is not None:
            return bank_holiday_style.format(name=name)
        if day in self._closures:
            return f"council closure: {self._closures[day]}"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.why_not_working(day) is None

    def why_not_working(self, day: date) -> str | None:
        return self._reason(day, "{name} (bank holiday)")

    def _skip_note(self, day: date) -> str | None:
        reason = self._reason(day, "{name}, bank holiday")
        return None if reason is None else f"{_uk(day)} ({reason})"

    def next_working_day(self, day: date, include_self: bool = True) -> date:
        current = day if include_self else day + _ONE_DAY
        while not self.is_working_day(current):
            current += _ONE_DAY
        return current

    def _skipped(self, first: date, last: date) -> list[str]:
        """Reasons for each non-working day in [first, last]."""
        notes: list[str] = []
        current = first
        while current <= last:
            note = self._skip_note(current)
            if note is not None:
                notes.append(note)
            current += _ONE_DAY
        return notes

    def effective_day(self, at: datetime) -> tuple[date, str]:
        if at.tzinfo is None:
            raise ValueError("effective_day needs a timezone-aware datetime")
        local = at.astimezone(self.zone)
        day = local.date()
        received = f"received {_uk(day)} {local:%H:%M}"
        cob = f"{self.close_of_business:%H:%M}"
        why_not = self.why_not_working(day)
        if why_not is None and local.time() < self.close_of_business:
            return day, f"{received}, before close of business ({cob}): counted from {_uk(day)}"
        counted = self.next_working_day(day, include_self=False)
        if why_not is not None:
            cause = f"not a working day ({why_not})"
        elif local.time() == self.close_of_business:
            cause = f"at close of business ({cob})"
        else:
            cause = f"after close of business ({cob})"
        skipped = self._skipped(day + _ONE_DAY, counted - _ONE_DAY)
        skip_text = f"; skipped {', '.join(skipped)}" if skipped else ""
        return counted, f"{received}, {cause}{skip_text}: counted from {_uk(counted)}"

    def add_working_days(self, start: date, n: int, label: str = "") -> ComputedDate:
        if n < 0:
            raise ValueError(f"cannot add a negative number of working days ({n})")
        if n == 0:
            due = self.next_working_day(start)
            head = f"same working day as {_anchor(start, label)}"
            skipped = self._skipped(start, due - _ONE_DAY)
        else:
            due = start
            for _ in range(n):
                due = self.next_working_day(due, include_self=False)
            head = f"{_plural(n, 'working day')} after {_anchor(start, label)}"
            skipped = self._skipped(start + _ONE_DAY, due)
        skip_text = f": skipped {', '.join(skipped)}" if skipped else ""
        return ComputedDate(due, f"{head}{skip_text} = {_uk(due)}")

    def add_calendar_days(
        self, start: date, n: int, label: str = "", shift: bool = True
    ) -> ComputedDate:
        if n < 0:
            raise ValueError(f"cannot add a negative number of calendar days ({n})")
        landing = start + timedelta(days=n)
        head = f"{_plural(n, 'calendar day')} after {_anchor(start, label)} = {_uk(landing)}"
        why_not = self.why_not_working(landing)
        if why_not is None:
            return ComputedDate(landing, head)
        if not shift:
            note = f"not a working day ({why_not}); not moved, this timescale does not shift"
            return ComputedDate(landing, f"{head}, {note}")
        due = self.next_working_day(landing)
        skipped = ", ".join(self._skipped(landing, due - _ONE_DAY))
        return ComputedDate(
            due, f"{head}, not a working day; moved past {skipped} to next working day {_uk(due)}"
        )

    def compute(self, rule: Rule, anchor: date, label: str) -> ComputedDate:
        if rule.kind == "working_days":
            return self.add_working_days(anchor, rule.n, label)
        return self.add_calendar_days(anchor, rule.n, label, shift=rule.shift)

    def at_local(self, day: date, at: time) -> datetime:
        return local_instant(day, at, self.zone)

    def working_days_between(self, start: date, end: date) -> int:
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start + _ONE_DAY
        while current <= end:
            if self.is_working_day(current):
                count += 1
            current += _ONE_DAY
        return count
