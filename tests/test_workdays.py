"""Tests for working-day arithmetic against known England and Wales dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import LONDON
from bot.procedure.workdays import Rule, WorkCalendar

SHUTDOWN = {date(2026, 12, 29): "Christmas shutdown"}


@pytest.fixture
def plain() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def council() -> WorkCalendar:
    return WorkCalendar(closure_days=SHUTDOWN)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 12, 25), "Christmas Day (bank holiday)"),
        (date(2026, 12, 26), "Saturday"),  # also Boxing Day, but the weekend is the reason
        (date(2026, 12, 27), "Sunday"),
        (date(2026, 12, 28), "Boxing Day (observed) (bank holiday)"),
        (date(2026, 12, 29), "council closure: Christmas shutdown"),
        (date(2026, 12, 30), None),
        (date(2027, 3, 26), "Good Friday (bank holiday)"),
        (date(2027, 3, 29), "Easter Monday (bank holiday)"),
        (date(2027, 5, 3), "May Day (bank holiday)"),
        (date(2027, 5, 4), None),
    ],
)
def test_why_not_working(council: WorkCalendar, day: date, reason: str | None) -> None:
    assert council.why_not_working(day) == reason
    assert council.is_working_day(day) is (reason is None)


@pytest.mark.parametrize(
    ("closures", "start", "n", "due"),
    [
        ({}, date(2026, 12, 24), 2, date(2026, 12, 30)),
        (SHUTDOWN, date(2026, 12, 24), 2, date(2026, 12, 31)),
        ({}, date(2027, 3, 25), 1, date(2027, 3, 30)),  # over Easter
        ({}, date(2027, 4, 30), 1, date(2027, 5, 4)),  # over the early May bank holiday
        ({}, date(2026, 12, 4), 5, date(2026, 12, 11)),  # one ordinary week
        ({}, date(2026, 12, 26), 1, date(2026, 12, 29)),  # anchor on a non-working day
        ({}, date(2026, 12, 5), 0, date(2026, 12, 7)),  # n=0 on a Saturday
        ({}, date(2026, 12, 9), 0, date(2026, 12, 9)),  # n=0 on a working day
    ],
)
def test_add_working_days(closures: dict[date, str], start: date, n: int, due: date) -> None:
    assert WorkCalendar(closure_days=closures).add_working_days(start, n).due == due


def test_working_days_explanation_names_every_skipped_day(plain: WorkCalendar) -> None:
    result = plain.add_working_days(date(2026, 12, 24), 2, "concern received")
    assert result.explanation == (
        "2 working days after Thu 24 Dec 2026 (concern received): skipped "
        "Fri 25 Dec 2026 (Christmas Day, bank holiday), Sat 26 Dec 2026 (Saturday), "
        "Sun 27 Dec 2026 (Sunday), Mon 28 Dec 2026 (Boxing Day (observed), bank holiday) "
        "= Wed 30 Dec 2026"
    )


def test_working_days_explanation_names_closure(council: WorkCalendar) -> None:
    result = council.add_working_days(date(2026, 12, 24), 2, "concern received")
    assert "Tue 29 Dec 2026 (council closure: Christmas shutdown)" in result.explanation
    assert result.explanation.endswith("= Thu 31 Dec 2026")
    assert "\n" not in result.explanation


def test_explanation_without_skips_or_label(plain: WorkCalendar) -> None:
    result = plain.add_working_days(date(2026, 12, 7), 1)
    assert result.explanation == "1 working day after Mon 7 Dec 2026 = Tue 8 Dec 2026"


def test_zero_days_on_weekend_explains_the_move(plain: WorkCalendar) -> None:
    result = plain.add_working_days(date(2026, 12, 5), 0, "referred")
    assert result.explanation == (
        "same working day as Sat 5 Dec 2026 (referred): skipped Sat 5 Dec 2026 (Saturday), "
        "Sun 6 Dec 2026 (Sunday) = Mon 7 Dec 2026"
    )


@pytest.mark.parametrize(
    ("received", "counted"),
    [
        (datetime(2026, 12, 17, 16, 59, tzinfo=LONDON), date(2026, 12, 17)),
        (datetime(2026, 12, 17, 17, 0, tzinfo=LONDON), date(2026, 12, 18)),
        (datetime(2026, 12, 17, 17, 1, tzinfo=LONDON), date(2026, 12, 18)),
        (datetime(2026, 12, 19, 10, 0, tzinfo=LONDON), date(2026, 12, 21)),  # Saturday
        (datetime(2026, 12, 24, 17, 30, tzinfo=LONDON), date(2026, 12, 29)),  # over Christmas
        (datetime(2027, 6, 1, 23, 30, tzinfo=UTC), date(2027, 6, 2)),  # 00:30 BST on 2 June
        (datetime(2027, 6, 1, 15, 30, tzinfo=UTC), date(2027, 6, 1)),  # 16:30 BST
        (datetime(2027, 6, 1, 16, 30, tzinfo=UTC), date(2027, 6, 2)),  # 17:30 BST
    ],
)
def test_effective_day(plain: WorkCalendar, received: datetime, counted: date) -> None:
    assert plain.effective_day(received)[0] == counted


def test_effective_day_explanation_after_close(plain: WorkCalendar) -> None:
    _, why = plain.effective_day(datetime(2026, 12, 17, 17, 42, tzinfo=LONDON))
    assert why == (
        "received Thu 17 Dec 2026 17:42, after close of business (17:00): "
        "counted from Fri 18 Dec 2026"
    )


def test_effective_day_explanation_uses_local_time(plain: WorkCalendar) -> None:
    _, why = plain.effective_day(datetime(2027, 6, 1, 23, 30, tzinfo=UTC))
    assert why == (
        "received Wed 2 Jun 2027 00:30, before close of business (17:00): "
        "counted from Wed 2 Jun 2027"
    )


def test_effective_day_explanation_on_weekend(plain: WorkCalendar) -> None:
    _, why = plain.effective_day(datetime(2026, 12, 19, 10, 0, tzinfo=LONDON))
    assert why == (
        "received Sat 19 Dec 2026 10:00, not a working day (Saturday); "
        "skipped Sun 20 Dec 2026 (Sunday): counted from Mon 21 Dec 2026"
    )


def test_configured_close_of_business() -> None:
    early = WorkCalendar(close_of_business=time(16, 0))
    assert early.effective_day(datetime(2026, 12, 17, 16, 30, tzinfo=LONDON))[0] == date(
        2026, 12, 18
    )


def test_effective_day_rejects_naive_datetime(plain: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plain.effective_day(datetime(2026, 12, 17, 12, 0))


@pytest.mark.parametrize(
    ("start", "n", "shift", "due"),
    [
        (date(2026, 12, 13), 14, True, date(2026, 12, 29)),  # lands Sun 27, then Boxing obs.
        (date(2026, 12, 13), 14, False, date(2026, 12, 27)),
        (date(2027, 3, 19), 7, True, date(2027, 3, 30)),  # lands on Good Friday
        (date(2027, 3, 19), 7, False, date(2027, 3, 26)),
        (date(2026, 12, 1), 7, True, date(2026, 12, 8)),  # lands on a working day
    ],
)
def test_add_calendar_days(
    plain: WorkCalendar, start: date, n: int, shift: bool, due: date
) -> None:
    assert plain.add_calendar_days(start, n, shift=shift).due == due


def test_calendar_days_explains_shift(plain: WorkCalendar) -> None:
    result = plain.add_calendar_days(date(2027, 3, 19), 7, "letter sent")
    assert result.explanation == (
        "7 calendar days after Fri 19 Mar 2027 (letter sent) = Fri 26 Mar 2027, not a working "
        "day; moved past Fri 26 Mar 2027 (Good Friday, bank holiday), Sat 27 Mar 2027 "
        "(Saturday), Sun 28 Mar 2027 (Sunday), Mon 29 Mar 2027 (Easter Monday, bank holiday) "
        "to next working day Tue 30 Mar 2027"
    )


def test_calendar_days_explains_no_shift(plain: WorkCalendar) -> None:
    result = plain.add_calendar_days(date(2026, 12, 13), 14, "letter sent", shift=False)
    assert result.explanation == (
        "14 calendar days after Sun 13 Dec 2026 (letter sent) = Sun 27 Dec 2026, "
        "not a working day (Sunday); not moved, this timescale does not shift"
    )


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        (Rule("working_days", 2), date(2026, 12, 31)),
        (Rule("calendar_days", 4), date(2026, 12, 30)),  # lands Mon 28, closure Tue 29
        (Rule("calendar_days", 4, shift=False), date(2026, 12, 28)),
    ],
)
def test_compute_dispatches_on_rule(council: WorkCalendar, rule: Rule, due: date) -> None:
    result = council.compute(rule, date(2026, 12, 24), "concern received")
    assert result.due == due
    assert "Thu 24 Dec 2026 (concern received)" in result.explanation


def test_rule_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        Rule("working_days", -1)


def test_closure_days_must_be_dates() -> None:
    with pytest.raises(TypeError, match="must be a date"):
        WorkCalendar(closure_days={datetime(2026, 12, 29, tzinfo=LONDON): "shutdown"})


@pytest.mark.parametrize(
    ("day", "at", "offset_hours", "wall"),
    [
        (date(2026, 10, 24), time(9, 0), 1, time(9, 0)),  # BST
        (date(2026, 10, 25), time(9, 0), 0, time(9, 0)),  # back to GMT that night
        (date(2027, 3, 27), time(9, 0), 0, time(9, 0)),  # GMT
        (date(2027, 3, 28), time(9, 0), 1, time(9, 0)),  # forward to BST
        (date(2027, 3, 28), time(1, 30), 1, time(2, 30)),  # 01:30 does not exist that day
    ],
)
def test_at_local_across_clock_changes(
    plain: WorkCalendar, day: date, at: time, offset_hours: int, wall: time
) -> None:
    moment = plain.at_local(day, at)
    assert moment.utcoffset() == timedelta(hours=offset_hours)
    assert (moment.date(), moment.time()) == (day, wall)


@pytest.mark.parametrize(
    ("closures", "start", "end", "count"),
    [
        ({}, date(2026, 12, 24), date(2026, 12, 30), 2),
        ({}, date(2026, 12, 30), date(2026, 12, 24), -2),
        (SHUTDOWN, date(2026, 12, 24), date(2026, 12, 31), 2),
        ({}, date(2026, 12, 4), date(2026, 12, 11), 5),
        ({}, date(2026, 12, 9), date(2026, 12, 9), 0),
        ({}, date(2027, 3, 25), date(2027, 3, 29), 0),  # Easter weekend only
    ],
)
def test_working_days_between(
    closures: dict[date, str], start: date, end: date, count: int
) -> None:
    assert WorkCalendar(closure_days=closures).working_days_between(start, end) == count


@given(
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_and_count_agree(start: date, n: int) -> None:
    calendar = WorkCalendar(closure_days=SHUTDOWN)
    due = calendar.add_working_days(start, n).due
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(start, due) == n
