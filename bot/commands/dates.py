"""Dates as officers write them: 15/01/2027, 2027-01-15, 15 January 2027, within 28 days."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"

_NUMERIC_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_MONTH_YEAR = re.compile(
    rf"{_WEEKDAY}(\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+({_MONTH})\.?,?\s+(\d{{4}})", re.IGNORECASE
)
_MONTH_DAY_YEAR = re.compile(
    rf"{_WEEKDAY}({_MONTH})\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})", re.IGNORECASE
)
_PERIOD = re.compile(
    r"(?:within|in)?\s*(?:the\s+next\s+)?(\d{1,3}|one|two|three|four|six|twelve)\s+"
    r"(calendar\s+days?|days?|weeks?|months?)",
    re.IGNORECASE,
)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}
# Anything with these in it was meant as a date, so failing to read it is an error, not silence.
_DATE_LIKE = re.compile(
    rf"\d{{1,4}}[/.-]\d{{1,2}}|\d{_ORDINAL}\s+(?:of\s+)?(?:{_MONTH})\b|\b(?:{_MONTH})\.?\s+\d"
    r"|\b\d+\s+(?:working\s+|calendar\s+)?(?:days?|weeks?|months?)\b",
    re.IGNORECASE,
)


class DateError(ValueError):
    """Text that looks like a date but is not one we can read (31/02/2027, 10 working days)."""


def looks_like_date(text: str) -> bool:
    return _DATE_LIKE.search(text) is not None


def parse_date(text: str, today: date) -> date:
    """Read one date; relative periods count calendar days from `today`. Raises DateError."""
    value = text.strip().strip("()").rstrip(".,;").strip()
    try:
        if found := _ISO.fullmatch(value):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if found := _NUMERIC_DMY.fullmatch(value):
            return date(int(found[3]), int(found[2]), int(found[1]))
        if found := _DAY_MONTH_YEAR.fullmatch(value):
            return date(int(found[3]), _MONTHS[found[2].lower()], int(found[1]))
        if found := _MONTH_DAY_YEAR.fullmatch(value):
            return date(int(found[3]), _MONTHS[found[1].lower()], int(found[2]))
    except ValueError as err:
        raise DateError(f"{value!r} is not a real date ({err})") from err
    if found := _PERIOD.fullmatch(value):
        count = _WORDS.get(found[1].lower()) or int(found[1])
        unit = found[2].lower().split()[-1].rstrip("s")
        if unit == "day":
            return today + timedelta(days=count)
        if unit == "week":
            return today + timedelta(weeks=count)
        return _add_months(today, count)
    raise DateError(f"cannot read {value!r} as a date; write 15/01/2027 or 2027-01-15")


def _add_months(start: date, months: int) -> date:
    # 31 January + 1 month is the last day of February, not an error.
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
