"""Every figure of a month's report against values worked out by hand (see reports_cases.py)."""

from __future__ import annotations

from datetime import date

import pytest
from reports_cases import NOW, TRIAGE, fixed_cases

from bot.views.reports.figures import Figures, compute_figures
from bot.views.reports.period import Period, financial_year, month, quarter
from bot.views.reports.providers import NO_PROVIDER


@pytest.fixture(scope="module")
def may() -> Figures:
    rules, cases = fixed_cases()
    return compute_figures(cases, TRIAGE, month(2026, 5), NOW, rules.engine().calendar)


def test_periods_month_quarter_and_financial_year_from_1_april() -> None:
    assert financial_year(2026) == Period(date(2026, 4, 1), date(2027, 3, 31))
    assert quarter(2026, 4) == Period(date(2027, 1, 1), date(2027, 3, 31))
    assert [m.label for m in quarter(2026, 1).months()] == ["Apr 2026", "May 2026", "Jun 2026"]
    assert financial_year(2026).label == "financial year 2026/27"


def test_steps(may: Figures) -> None:
    rows = {r.step: r for r in may.steps}
    assert list(rows) == ["1", "3", "8", "10", "14", "15"]
    # Step 1, screening the same working day: A due Fri 1 May, B due Tue 5 May (in on
    # Saturday; Mon 4 May a bank holiday), C Mon 11 May, E Fri 22 May (in after 17:00 on
    # Thu 21 May); each screened on its day: 0 working days. D fell due in April.
    s1 = rows["1"]
    assert (s1.fell_due, s1.met, s1.missed, s1.open, s1.overdue) == (4, 4, 0, 0, 0)
    assert (s1.on_time_rate, s1.median_days, s1.p90_days) == (1.0, 0.0, 0)
    # Step 3, written to the provider within 2 working days: A due Wed 6 May (4 May skipped),
    # B Thu 7 May, C Wed 13 May; each written the day it was screened. E was not processed.
    s3 = rows["3"]
    assert (s3.fell_due, s3.met, s3.missed, s3.median_days) == (3, 3, 0, 0.0)
    # Step 8, review in 5 working days: A due Fri 15 May, done Thu 14 May (11,12,13,14 = 4);
    # B due Thu 28 May (25 May skipped), done Mon 1 Jun: 21,22,26,27,28,29,1 = 7 taken,
    # 29 May and 1 Jun = 2 late; C due Tue 26 May, still open on Wed 10 Jun: overdue.
    s8 = rows["8"]
    assert (s8.fell_due, s8.met, s8.missed, s8.open, s8.overdue) == (3, 1, 1, 1, 1)
    assert s8.on_time_rate == pytest.approx(1 / 3)  # met 1 of met + missed + overdue = 3
    assert (s8.median_days, s8.p90_days) == (5.5, 7)  # taken [4, 7]: p90 at rank ceil(1.8)=2
    # Step 10, decision in 5 working days: A set Thu 14 May, decided Tue 19 May: 15,18,19 = 3.
    assert (rows["10"].fell_due, rows["10"].met, rows["10"].median_days) == (1, 1, 3.0)
    # Steps 14 and 15, D: referred Mon 11 May, decided Tue 12 May (1); issued Thu 14 May (2).
    assert (rows["14"].met, rows["14"].median_days) == (1, 1.0)
    assert (rows["15"].met, rows["15"].median_days) == (1, 2.0)
    # Totals: 4 + 3 + 3 + 1 + 1 + 1 = 13 fell due; 11 met; B missed and C overdue.
    assert (may.fell_due, may.met, may.late) == (13, 11, 2)
    assert may.on_time_rate == pytest.approx(11 / 13)


def test_breaches_by_reference(may: Figures) -> None:
    # C: due Tue 26 May, open on Wed 10 Jun: 27,28,29, 1-5, 8,9,10 = 11 working days late.
    found = [(b.reference, b.step, b.due, b.done, b.working_days_late) for b in may.breaches]
    assert found == [
        ("CC-2026-0003", "8", date(2026, 5, 26), None, 11),
        ("CC-2026-0002", "8", date(2026, 5, 28), date(2026, 6, 1), 2),
    ]


def test_providers(may: Figures) -> None:
    rows = {r.provider: r for r in may.providers}
    assert NO_PROVIDER not in rows
    oakview, bright, river, meadows = (rows[k] for k in ("oakview", "brightpath", "riverside",
                                                          "meadows"))
    # Oakview: A and E received; A accepted Fri 8 May, 4 working days after the letter on
    # Fri 1 May (5,6,7,8; 4 May skipped); A upheld Tue 19 May; E not processed (operational).
    assert (oakview.received, oakview.accepted, oakview.disputed, oakview.upheld) == (2, 1, 0, 1)
    assert oakview.not_processed == {"low level or operational": 1}
    assert oakview.median_response_days == 4.0
    # Brightpath: B reminded Tue 19 May (14 days after Tue 5 May), accepted Wed 20 May:
    # 6,7,8, 11-15, 18,19,20 = 11 working days.
    assert (bright.received, bright.accepted, bright.reminded) == (1, 1, 1)
    assert bright.median_response_days == 11.0
    # Riverside: C disputed Thu 14 May, 3 working days after Mon 11 May.
    assert (river.received, river.disputed, river.median_response_days) == (1, 1, 3.0)
    # Meadows: D came in April; referred for a default notice Mon 11 May.
    assert (meadows.received, meadows.default_referrals, meadows.reminded) == (0, 1, 0)
    # A's follow-up reminder is due Tue 2 Jun: not in May.
    assert sum(r.follow_ups_due for r in may.providers) == 0


def test_officers(may: Figures) -> None:
    rows = {r.officer: (r.open_cases, r.handled, r.fell_due, r.met, r.late)
            for r in may.officers}
    # jsmith: A open; A and E handled; A's steps 1, 3, 8 and E's step 1 all met.
    assert rows["jsmith"] == (1, 2, 4, 4, 0)
    # akhan: B; steps 1 and 3 met, review missed.
    assert rows["akhan"] == (1, 1, 3, 2, 1)
    # pjones: C open, D closed 14 May (both handled); C's 1 and 3 met, review overdue.
    assert rows["pjones"] == (1, 2, 3, 2, 1)
    # The SPO: A's decision, D's steps 14 and 15, all met; B's decision (due 8 Jun) open.
    assert rows["spo"] == (1, 0, 3, 3, 0)


def test_intake_and_triage(may: Figures) -> None:
    (row,) = may.intake
    assert row.received == 4  # A 1 May, B 5 May, C 11 May, E 22 May (D was April)
    assert row.arrived == {"in working hours": 2, "after close of business": 1,
                           "on a weekend, bank holiday or closure day": 1}
    assert row.sources == {"council.example": 3, "nhs.example": 1}
    # T0001 waited 2 working days; T0002 still waits, 12 (26-29 May, 1-5, 8-10 Jun).
    assert (row.triaged, row.still_waiting, row.triage_waits) == (2, 1, [2, 12])
    assert (row.median_wait, row.p90_wait) == (7.0, 12)


def test_trends_month_by_month() -> None:
    rules, cases = fixed_cases()
    two = compute_figures(cases, TRIAGE, Period(date(2026, 4, 1), date(2026, 5, 31)), NOW,
                          rules.engine().calendar)
    april, may = two.trends
    # April: D received and screened in; its steps 1 (13 Apr) and 3 (15 Apr) met; T0003.
    assert (april.received, april.eligible, april.fell_due, april.met, april.late,
            april.triaged) == (1, 1, 2, 2, 0, 1)
    # May: as the month's own figures; responses A (4), B (11), C (3): median 4.
    assert (may.received, may.eligible, may.not_processed, may.fell_due, may.met,
            may.late) == (4, 3, 1, 13, 11, 2)
    assert (may.responses, may.median_response_days, may.triaged) == (3, 4.0, 2)
    assert two.fell_due == 15 and two.on_time_rate == pytest.approx(13 / 15)
