"""Reporting periods: a month, a quarter or a financial year (from 1 April), or any two days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FINANCIAL_YEAR_START = 4  # the council's financial year runs from 1 April


@dataclass(frozen=True, order=True)
class Period:
    """Every day from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        # Asked hundreds of thousands of times a report: a day compares, anything else (None,
        # a datetime) does not and is not in it.
        try:
            return self.start <= day <= self.end  # type: ignore[operator]
        except TypeError:
            return False

    @property
    def label(self) -> str:
        """What people call it: Apr 2026, Q1 2026/27, financial year 2026/27, or the days."""
        start, end = self.start, self.end
        if start.day == 1 and end == _month_end(start):
            return f"{_MONTHS[start.month - 1]} {start.year}"
        year = start.year if start.month >= FINANCIAL_YEAR_START else start.year - 1
        years = f"{year}/{(year + 1) % 100:02d}"
        if self == financial_year(year):
            return f"financial year {years}"
        for number in (1, 2, 3, 4):
            if self == quarter(year, number):
                return f"Q{number} {years}"
        return f"{_day(start)} to {_day(end)}"

    @property
    def key(self) -> str:
        """A stable name for the period, for file names and for 'sent once' keys."""
        if self.start.day == 1 and self.end == _month_end(self.start):
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def months(self) -> list[Period]:
        """The calendar months the period touches, each cut to the period (for trends)."""
        found: list[Period] = []
        first = self.start.replace(day=1)
        while first <= self.end:
            last = _month_end(first)
            found.append(Period(max(first, self.start), min(last, self.end)))
            first = last + timedelta(days=1)
        return found


def _day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    return Period(first, _month_end(first))


def previous_month(day: date) -> Period:
    """The whole calendar month before the one `day` is in."""
    last = day.replace(day=1) - timedelta(days=1)
    return month(last.year, last.month)


def quarter(year: int, number: int) -> Period:
    """Financial quarter `number` (1: April to June) of the year starting 1 April `year`."""
    if number not in (1, 2, 3, 4):
        raise ValueError(f"a quarter is 1, 2, 3 or 4, not {number}")
    first_month = FINANCIAL_YEAR_START + 3 * (number - 1)
    first = date(year + (first_month - 1) // 12, (first_month - 1) % 12 + 1, 1)
    last = first
    for _ in range(2):
        last = _month_end(last) + timedelta(days=1)
    return Period(first, _month_end(last))


def financial_year(year: int) -> Period:
    """1 April `year` to 31 March the year after."""
    return Period(date(year, FINANCIAL_YEAR_START, 1), date(year + 1, FINANCIAL_YEAR_START, 1)
                  - timedelta(days=1))


def financial_year_of(day: date) -> Period:
    return financial_year(day.year if day.month >= FINANCIAL_YEAR_START else day.year - 1)
