"""The summary kept beside each open case: what `cases` lists must match the case itself."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.clock import LONDON
from bot.procedure.case import Case, Deadline
from bot.store.case_views import SUMMARY_VERSION, decode, encode, view_of

SET = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)


def _deadline(
    name: str, fires_day: int, status: str = "pending", event: str | None = None
) -> Deadline:
    fires = datetime(2026, 11, fires_day, 17, 0, tzinfo=LONDON)
    return Deadline(
        name=name,
        step="3",
        title=f"{name} title",
        due=fires.date(),
        fires_at=fires,
        rule="2 working days from event",
        explanation="worked out by hand",
        status=status,  # type: ignore[arg-type]
        event=event,
        set_at=SET,
    )


def _case(deadlines: list[Deadline]) -> Case:
    return Case(
        reference="CC-2026-0042",
        stage="awaiting_response",
        opened_at=SET,
        received_day=date(2026, 11, 2),
        referrer="referrer@example.org",
        provider_id="oakview",
        officer_id="officer-1",
        deadlines=deadlines,
    )


def test_the_next_deadline_is_the_one_the_case_names() -> None:
    case = _case(
        [
            _deadline("met-one", 3, status="met"),
            _deadline("fired-unanswered", 4, status="fired"),
            _deadline("later", 20),
            _deadline("first-of-two", 9),
            _deadline("second-of-two", 9),
            _deadline("handled", 5, status="fired", event="reminder_sent"),
        ]
    )
    decoded = decode(case.reference, encode(view_of(case), {"referrer@example.org"}))
    assert decoded is not None
    view, addresses = decoded
    assert addresses == {"referrer@example.org"}
    assert [d.name for d in view.deadlines] == [
        "fired-unanswered",
        "later",
        "first-of-two",
        "second-of-two",
    ]
    expected = case.next_deadline()
    assert expected is not None and view.next_deadline is not None
    assert view.deadlines[view.next_deadline].name == expected.name == "first-of-two"
    assert view.next_fire == expected.fires_at


def test_a_case_with_nothing_pending_has_no_next_deadline() -> None:
    case = _case([_deadline("fired-unanswered", 4, status="fired")])
    view = view_of(case)
    assert view.next_deadline is None and view.next_fire is None
    decoded = decode(case.reference, encode(view, set()))
    assert decoded is not None and decoded[0].next_deadline is None


def test_a_summary_pointing_past_its_deadlines_is_not_trusted() -> None:
    case = _case([_deadline("only", 9)])
    summary = encode(view_of(case), set())
    assert summary["v"] == SUMMARY_VERSION
    for bad in (1, -1, "0", True):
        assert decode(case.reference, {**summary, "next": bad}) is None
    # An older summary (without the mark) is read again from the case, never half-trusted.
    assert decode(case.reference, {**summary, "v": SUMMARY_VERSION - 1}) is None


def test_the_summary_follows_a_deadline_being_met() -> None:
    first, second = _deadline("first", 9), _deadline("second", 12)
    case = _case([first, second])
    assert view_of(case).next_deadline == 0
    first.status = "met"
    first.closed_at = SET + timedelta(days=3)
    view = view_of(case)
    assert view.next_deadline is not None
    assert view.deadlines[view.next_deadline].name == "second"
