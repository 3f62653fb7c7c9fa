"""A case read from the store leaves its timeline unread until asked for: the same case, the
same JSON written back and the same brief kept as when it is read whole."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime
from pathlib import Path

import pytest
from reports_cases import NOW, fixed_cases

from bot.clock import LONDON, FixedClock
from bot.procedure.case import Case
from bot.procedure.engine import Event
from bot.procedure.stored_case import case_json, read_case
from bot.store import Store
from bot.store.brief import brief_text, model_brief_text
from bot.store.case_index import CaseIndex

LATER = datetime(2026, 7, 20, 12, 0, tzinfo=LONDON)


def stored(case: Case) -> bytes:
    return case.model_dump_json().encode()


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    _, found = fixed_cases()
    assert all(c.timeline for c in found)
    return found


def test_a_case_read_with_its_timeline_unread_writes_back_the_same_json(
    cases: list[Case],
) -> None:
    for whole in cases:
        doc = stored(whole)
        case = read_case(doc)
        assert case.timeline_unread
        assert case_json(case) == doc
        assert model_brief_text(case) == model_brief_text(whole)
        for kind in ("stage", "mail_in", "letter", "deadline"):
            assert case.entries_of_kind(kind) == [e for e in whole.timeline if e.kind == kind]
        whole = whole.model_copy(deep=True)
        for n in range(2):
            case.note(LATER, "note", f"Checked {n}", "3")
            whole.note(LATER, "note", f"Checked {n}", "3")
            assert case_json(case) == stored(whole)
            assert case.timeline_unread  # writing it did not read it
        assert case.timeline == whole.timeline  # read now, in order, with what was noted
        assert not case.timeline_unread
        assert case_json(case) == stored(whole)


def test_the_engine_changes_a_case_alike_whether_its_timeline_was_read(
    cases: list[Case],
) -> None:
    rules, _ = fixed_cases()
    engine = rules.engine()
    changed = 0
    for whole in cases:
        if whole.status != "open":
            continue
        case = read_case(stored(whole))
        by_timer = engine.fire_due(case, LATER, owned=True)
        expected = engine.fire_due(whole, LATER)
        assert by_timer.applied == expected.applied
        assert case_json(by_timer.case) == stored(expected.case)
        assert model_brief_text(by_timer.case) == model_brief_text(expected.case)
        event = Event("case.note", LATER, {"text": "A word"})
        assert case_json(engine.apply(by_timer.case, event).case) == stored(
            engine.apply(expected.case, event).case
        )
        changed += by_timer.applied
    assert changed  # a deadline fired on some case: the unread timeline was written to


def test_json_inside_the_text_and_the_data_does_not_mislead_it(cases: list[Case]) -> None:
    whole = cases[0].model_copy(deep=True)
    tricky = '],"thread_ids":[{"at":"2026-01-01T00:00:00Z","kind":"stage","rule":"x"}],"'
    whole.note(LATER, "comment", tricky, ref=',"timeline":[')
    whole.data["timeline"] = [{"at": "2026-01-01", "kind": "stage"}]
    whole.data["thread_ids"] = ['],"thread_ids":[']
    doc = stored(whole)
    case = read_case(doc)
    assert case.timeline_unread and case_json(case) == doc
    assert case.entries_of_kind("stage") == [e for e in whole.timeline if e.kind == "stage"]
    assert case.data == whole.data and case.timeline == whole.timeline


def test_a_document_laid_out_otherwise_is_read_whole(cases: list[Case]) -> None:
    whole = cases[1]
    fields = json.loads(stored(whole))
    timeline = fields.pop("timeline")
    doc = json.dumps({**fields, "timeline": timeline}, separators=(",", ":")).encode()  # last
    case = read_case(doc)
    assert not case.timeline_unread
    assert case == whole


def test_a_timeline_in_the_data_after_the_case_s_own_is_not_taken_for_it(
    cases: list[Case],
) -> None:
    whole = cases[1].model_copy(deep=True)
    entry = {"at": "2026-01-01T00:00:00Z", "kind": "note", "text": "x"}
    whole.data = {"first": 1, "timeline": [entry], "thread_ids": ["<a@b>"]}
    fields = json.loads(stored(whole))
    data = fields.pop("data")
    doc = json.dumps({**fields, "data": data}, separators=(",", ":")).encode()  # data last
    case = read_case(doc)
    assert case == whole and case.data == whole.data


def test_what_reads_every_field_reads_the_timeline_first(cases: list[Case]) -> None:
    whole = cases[2]

    def unread() -> Case:
        case = read_case(stored(whole))
        assert case.timeline_unread
        return case

    assert unread().model_dump() == whole.model_dump()
    assert unread().model_dump_json() == whole.model_dump_json()
    assert unread() == whole and whole == unread()
    assert dict(unread()) == dict(whole)
    assert repr(unread()) == repr(Case.model_validate_json(stored(whole)))  # times as read
    assert copy.copy(unread()).timeline == whole.timeline
    assert pickle.loads(pickle.dumps(unread())) == whole
    # A deep copy keeps it unread, and what each notes stays its own.
    original = unread()
    twin = copy.deepcopy(original)
    assert twin.timeline_unread
    twin.note(LATER, "note", "Only in the copy")
    assert case_json(original) == stored(whole)
    assert len(twin.timeline) == len(whole.timeline) + 1


def test_the_brief_kept_beside_a_case_written_twice_in_a_commit_is_its_own(
    tmp_path: Path, cases: list[Case]
) -> None:
    """The brief of a case with its timeline unread is the kept one's stage changes and those
    noted since: after two writes in one commit, it still is the brief of the JSON kept."""
    rules, _ = fixed_cases()
    engine = rules.engine()
    opened = [c for c in cases if c.status == "open"]
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        index = CaseIndex(store)
        for case in opened:
            index.put(case)
        store.commit()
    with Store(tmp_path, clock=FixedClock(LATER)) as store:
        index = CaseIndex(store)
        for reference in [c.reference for c in opened]:
            case = index.take(reference)
            assert case is not None and case.timeline_unread
            case = engine.fire_due(case, LATER, owned=True).case
            case.note(LATER, "stage", "Moved first", "4", rule="provider.disputes")
            index.put(case)
            again = index.take(reference)
            assert again is not None and again.timeline_unread
            # A stage change noted on the second write too: each is in the brief once.
            again.note(LATER, "stage", "Moved for the test", "4", rule="provider.accepts")
            index.put(again)
        store.commit()
    with Store.open_snapshot(tmp_path) as snapshot:
        for case in opened:
            doc = json.loads(snapshot.open_case_document(case.reference) or b"null")
            assert snapshot.kept_brief(case.reference) == brief_text(doc)
            assert doc["timeline"][-1]["text"] == "Moved for the test"
