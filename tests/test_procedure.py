"""The procedure definition is checked at load, and the pure engine applies events as written."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.clock import LONDON
from bot.config.yamlsource import ProblemsError
from bot.procedure.case import Case
from bot.procedure.checks import SEED_STEPS
from bot.procedure.deadlines import Times
from bot.procedure.engine import Engine, Event
from bot.procedure.loader import load_procedure
from bot.procedure.model import Procedure
from bot.procedure.workdays import WorkCalendar

RULES = Path(__file__).resolve().parents[1] / "rules" / "procedure.yaml"
TEMPLATES = {
    p.name.removesuffix(".txt.j2") for p in (RULES.parents[1] / "templates").glob("*.txt.j2")
}


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure(RULES, TEMPLATES)


@pytest.fixture
def engine(procedure: Procedure) -> Engine:
    calendar = WorkCalendar({date(2026, 12, 29): "Council closure"})
    return Engine(procedure, calendar, Times(time(9, 0), time(14, 0)))


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def new_case() -> Case:
    return Case(
        reference="CC-2026-0001",
        stage="",
        opened_at=london("2026-12-21T10:00"),
        received_day=date(2026, 12, 21),
        referrer="sam.ward@council.example",
        provider_id="oakview",
        officer_id="jsmith",
    )


def test_every_seed_step_is_carried(procedure: Procedure) -> None:
    assert set(SEED_STEPS) <= set(procedure.steps)
    assert procedure.start == "screening"
    assert procedure.stages["closed"].final


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "procedure.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def problems_for(path: Path, templates: set[str] | None = None) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        load_procedure(path, templates)
    return [str(p) for p in caught.value.problems]


def test_unknown_target_stage_named_with_line(tmp_path: Path) -> None:
    path = broken(
        tmp_path, "        - to: investigation_pending", "        - to: investigation_pendng"
    )
    found = problems_for(path)
    assert any("unknown stage 'investigation_pendng'" in p and ".yaml:" in p for p in found)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "pendng" in text)
    assert any(f"procedure.yaml:{line}:" in p for p in found)


def test_missing_template_is_reported(tmp_path: Path) -> None:
    found = problems_for(RULES, TEMPLATES - {"provider_reminder"})
    assert any("template 'provider_reminder' does not exist" in p for p in found)


def test_unreachable_stage_is_reported(tmp_path: Path) -> None:
    path = broken(tmp_path, "        - to: investigation_pending\n", "        - to: closed\n")
    found = problems_for(path)
    assert any("'investigation_pending' cannot be reached" in p for p in found)


def test_dead_end_is_reported(tmp_path: Path) -> None:
    path = broken(
        tmp_path,
        "      default_notice.issued:\n        - to: closed\n",
        "      default_notice.issued:\n        - to: default_notice_issue\n",
    )
    # Without the officer's "close" from any stage, that stage only leads back to itself.
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\nany:")] + "\n", encoding="utf-8")
    found = problems_for(path)
    assert any("'default_notice_issue' is a dead end" in p for p in found)


def test_missing_seed_step_is_reported(tmp_path: Path) -> None:
    path = broken(tmp_path, '  "16.1": {', '  "16.9": {')
    found = problems_for(path)
    assert any("step 16.1 of the seed procedure is missing" in p for p in found)


def test_open_case_sets_screening_deadline_and_letters(engine: Engine) -> None:
    outcome = engine.open_case(new_case(), Event("referral.new", london("2026-12-21T17:30")))
    case = outcome.case
    assert case.stage == "screening"
    # After close of business on Monday: counts from Tuesday.
    assert case.received_day == date(2026, 12, 22)
    screening = case.deadline("screening")
    assert screening is not None and screening.due == date(2026, 12, 22)
    assert [a.template for a in outcome.actions] == ["acknowledgement", "screening_request"]


def test_review_deadline_skips_christmas_and_closure(engine: Engine) -> None:
    case = engine.open_case(new_case(), Event("referral.new", london("2026-12-01T10:00"))).case
    case = engine.apply(case, Event("screen.eligible", london("2026-12-01T11:00"))).case
    outcome = engine.apply(case, Event("provider.accepts", london("2026-12-22T10:00")))
    review = outcome.case.deadline("review")
    assert review is not None
    # 23, 24 Dec; 25, 28 Dec bank holidays; 29 Dec closure; 30, 31 Dec; 1 Jan holiday; 4 Jan.
    assert review.due == date(2027, 1, 4)
    assert "Christmas Day" in review.explanation and "Council closure" in review.explanation
    assert [a.kind for a in outcome.actions] == ["diarise"]


def test_event_not_expected_in_stage_changes_nothing(engine: Engine) -> None:
    case = engine.open_case(new_case(), Event("referral.new", london("2026-12-01T10:00"))).case
    outcome = engine.apply(case, Event("decision.agreed", london("2026-12-01T11:00")))
    assert not outcome.applied
    assert "not expected" in outcome.reason
    assert outcome.case.stage == "screening"


def test_eligible_needs_a_provider(engine: Engine) -> None:
    case = new_case()
    case.provider_id = None
    case = engine.open_case(case, Event("referral.new", london("2026-12-01T10:00"))).case
    outcome = engine.apply(case, Event("screen.eligible", london("2026-12-01T11:00")))
    assert not outcome.applied and "provider" in outcome.reason


def test_provider_reminder_fires_on_day_14_across_clock_change(engine: Engine) -> None:
    case = engine.open_case(new_case(), Event("referral.new", london("2027-03-15T10:00"))).case
    case = engine.apply(case, Event("screen.eligible", london("2027-03-15T11:00"))).case
    reminder = case.deadline("provider_reminder")
    # Day 14 is Mon 29 March 2027, Easter Monday: the letter goes on the next working day.
    assert reminder is not None and reminder.due == date(2027, 3, 30)
    assert reminder.fires_at.utcoffset() is not None
    assert reminder.fires_at.utcoffset().total_seconds() == 3600  # BST after 28 March
    quiet = engine.fire_due(case, london("2027-03-30T08:59"))
    assert not quiet.applied
    fired = engine.fire_due(case, london("2027-03-30T09:00"))
    assert fired.case.stage == "provider_reminded"
    assert [a.template for a in fired.actions] == ["provider_reminder"]


def test_engine_is_pure(engine: Engine) -> None:
    case = engine.open_case(new_case(), Event("referral.new", london("2026-12-01T10:00"))).case
    before = case.model_dump()
    engine.apply(case, Event("screen.eligible", london("2026-12-01T11:00")))
    engine.fire_due(case, london("2027-06-01T09:00"))
    assert case.model_dump() == before


def test_with_approval_required_the_draft_waits_and_the_step_3_deadline_runs(
    engine: Engine,
) -> None:
    case = new_case()
    case.data["approval_required"] = True
    case = engine.open_case(case, Event("referral.new", london("2026-12-21T10:00"))).case
    outcome = engine.apply(case, Event("screen.eligible", london("2026-12-21T11:00")))
    assert outcome.case.stage == "letter_approval"
    [draft] = outcome.actions
    assert (draft.template, draft.to, draft.draft) == (
        "letter_approval_request",
        ("officer",),
        "concern_letter",
    )
    step3 = outcome.case.deadline("concern_letter")
    # Two working days from Monday 21 December: Wednesday 23rd (Christmas comes after).
    assert step3 is not None and step3.due == date(2026, 12, 23) and step3.remind == "officer"
    args = {"copy": "The approved copy.", "by": "jane.smith@council.example"}
    approved = engine.apply(
        outcome.case, Event("letter.approve", london("2026-12-22T09:00"), args=args)
    )
    assert approved.case.stage == "awaiting_provider"
    assert approved.case.data["concern_copy"] == "The approved copy."
    assert [(a.template, a.to) for a in approved.actions] == [("concern_letter", ("provider",))]
    assert approved.case.deadline("concern_letter").status == "met"  # type: ignore[union-attr]


def test_the_timeline_reads_in_time_order_causes_first() -> None:
    case = new_case()
    at = london("2026-12-21T11:00")
    case.note(london("2026-12-21T11:01"), "letter", "Letter out")
    case.note(at, "stage", "Stage 3")
    case.note(at, "command", "Commands from jane: 1 done")  # noted once its effects are known
    case.note(london("2026-12-21T10:00"), "mail_in", "Filed late from triage")
    case.note(at, "mail_in", "Email from jane")
    assert [e.text for e in case.ordered_timeline()] == [
        "Filed late from triage",
        "Email from jane",
        "Commands from jane: 1 done",
        "Stage 3",
        "Letter out",
    ]


def test_a_deep_copy_of_a_case_shares_nothing_that_can_change() -> None:
    from datetime import date
    from types import UnionType
    from typing import Literal, Union, get_args, get_origin

    from bot.procedure.case import Case, Deadline, TimelineEntry

    moment = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
    deadline = Deadline(name="d", step="2", title="t", due=date(2026, 11, 4), fires_at=moment,
                        rule="r", explanation="e", set_at=moment)
    case = Case(reference="CC-2026-0001", stage="s", opened_at=moment,
                received_day=date(2026, 11, 2), referrer="a@b.example",
                screening_reasons=["x"], data={"k": [{"v": 1}]}, deadlines=[deadline],
                timeline=[TimelineEntry(at=moment, kind="note", text="n")], thread_ids=["m1"],
                last_from={"a@b.example": "m1"}, participants=["c@d.example"],
                documents=[{"kind": "concern"}])
    copied = case.model_copy(deep=True)
    assert copied == case and copied.model_fields_set == case.model_fields_set
    # Nothing reachable from the copy is an object the original holds, but for scalars and
    # timeline entries, which cannot be changed.
    with pytest.raises(ValidationError):
        case.timeline[0].text = "rewritten"
    immutable = (str, int, float, bool, date, datetime, type(None), TimelineEntry)

    def containers(value: object) -> list[int]:
        if isinstance(value, immutable):
            return []
        found = [id(value)]
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            children = list(vars(value).values())
        return found + [i for child in children for i in containers(child)]

    assert not set(containers(copied)) & set(containers(case))
    # Every field is one __deepcopy__ copies or one whose values cannot change.
    for name, field in Case.model_fields.items():
        kind = field.annotation
        options = get_args(kind) if get_origin(kind) in (Union, UnionType, Literal) else (kind,)
        if not all(k in immutable or isinstance(k, str) for k in options):
            assert name in Case.__deepcopy__.__code__.co_names, name
