"""Cases' briefs: kept beside open cases and in the archive's index, so a report reads no case
file, and the same figures whether a brief is there or the case itself is read."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from reports_cases import NOW, fixed_cases

from bot.clock import LONDON, FixedClock
from bot.procedure.case import Case
from bot.rules import Rules
from bot.store import Store
from bot.store.brief import brief_of, brief_text, model_brief_text
from bot.store.case_index import CaseIndex
from bot.store.closed_index import INDEX_FILE
from bot.views.reports.command import display_names, figures_from_store, step_titles
from bot.views.reports.figures import Figures, compute_figures
from bot.views.reports.period import Period, financial_year, month

FIXTURE = Path(__file__).parent / "data" / "store-v1"
V1_NOW = datetime(2026, 12, 1, 13, 0, tzinfo=LONDON)


def case(reference: str, status: str, closed: str | None = None, **more: Any) -> dict[str, Any]:
    return {"reference": reference, "status": status, "received_day": "2026-01-05",
            "opened_at": "2026-01-05T10:00:00+00:00", "closed_at": closed, **more}  # fmt: skip


def references(briefs: object) -> list[str]:
    return sorted(brief[2] for brief in briefs)  # type: ignore[attr-defined]


def in_memory(
    rules: Rules, cases: list[Case], period: Period, now: datetime, triage: Sequence[Any] = ()
) -> Figures:
    return compute_figures(cases, triage, period, now, rules.engine().calendar,
                           step_titles=step_titles(rules.procedure),
                           names=display_names(rules.config))  # fmt: skip


def from_store(directory: Path, rules: Rules, period: Period, now: datetime) -> Figures:
    with Store.open_snapshot(directory) as snapshot:
        return figures_from_store(snapshot, rules, period, now)


def test_a_report_from_the_store_has_the_figures_of_the_cases_themselves(tmp_path: Path) -> None:
    rules, cases = fixed_cases()
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        for model in cases:
            store.put_case(json.loads(model.model_dump_json()))
        store.commit()
    closed = [c.reference for c in cases if c.status == "closed"]
    assert closed and len(closed) < len(cases)  # both kinds of brief are read
    for period in (month(2026, 5), month(2026, 4), financial_year(2026)):
        expected = in_memory(rules, cases, period, NOW)
        assert from_store(tmp_path, rules, period, NOW) == expected
    # Without the index every closed case's file is read: the same figures.
    (tmp_path / INDEX_FILE).unlink()
    assert from_store(tmp_path, rules, month(2026, 5), NOW) == in_memory(
        rules, cases, month(2026, 5), NOW)


def test_the_brief_made_of_the_model_is_the_one_made_of_its_json(tmp_path: Path) -> None:
    """The case index hands the store the brief made of the model, so the store never reads
    back the JSON it was given: the two briefs are the same, byte for byte, and so is what the
    store keeps of a case put either way."""
    _, cases = fixed_cases()
    opened = [c for c in cases if c.status == "open"]
    assert opened and any(e.kind == "stage" for c in opened for e in c.timeline)
    for model in cases:
        assert model_brief_text(model) == brief_text(json.loads(model.model_dump_json()))
    kept = {}
    for way in ("model", "json"):
        with Store(tmp_path / way, clock=FixedClock(NOW)) as store:
            index = CaseIndex(store)
            for model in opened:
                if way == "model":
                    index.put(model)
                else:
                    store.put_case(json.loads(model.model_dump_json()))
            store.commit()
        with Store.open_snapshot(tmp_path / way) as snapshot:
            # The brief as kept beside each case (not one made again of the case on reading).
            held = snapshot._summaries
            kept[way] = {c.reference: held.get(c.reference).get("brief") for c in opened}
    assert all(kept["model"].values())
    assert kept["model"] == kept["json"]


def test_an_older_store_is_read_as_it_is_and_gets_briefs_when_the_bot_opens_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    shutil.copytree(FIXTURE, root)
    rules = Rules.load(Path(__file__).resolve().parents[1] / "config.yaml")
    period = financial_year(2026)
    with Store(root, read_only=True) as reader:
        cases = [Case.model_validate(reader.get_case(ref))
                 for ref in reader.open_references() + reader.closed_references()]  # fmt: skip
        assert len(cases) == 8
        triage = [*reader.triage_items(), *(t for t in reader.triage_resolved() if "item" in t)]
    expected = in_memory(rules, cases, period, V1_NOW, triage)
    assert from_store(root, rules, period, V1_NOW) == expected  # no briefs: cases read
    assert not (root / INDEX_FILE).exists()  # a reader wrote nothing
    with Store(root, clock=FixedClock(V1_NOW)) as writer:
        beside = {doc["reference"]: doc for doc in writer._summaries.values()}
        assert all("brief" in beside[ref] for ref in writer.open_references())
    index = (root / INDEX_FILE).read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in index) == sorted(
        c.reference for c in cases if c.status == "closed")
    assert from_store(root, rules, period, V1_NOW) == expected


def test_closing_a_case_indexes_its_brief_and_reopening_hides_it(tmp_path: Path) -> None:
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        store.put_case(case("CC-2026-0001", "closed", "2026-02-10T10:00:00+00:00"))
        store.put_case(case("CC-2026-0002", "open"))
        store.commit()
        store.put_case(case("CC-2026-0002", "closed", "2026-02-20T16:00:00+00:00"))
        store.commit()
        store.put_case(case("CC-2026-0001", "open"))  # reopened
        store.commit()
        store.put_case(case("CC-2026-0002", "closed", "2026-03-02T09:00:00+00:00", stage="x"))
        store.commit()  # closed again, later: its last line counts
    lines = (tmp_path / INDEX_FILE).read_text().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        ["CC-2026-0001", "2026-02-10", "2026-01-05"],
        ["CC-2026-0002", "2026-02-20", "2026-01-05"],
        ["CC-2026-0002", "2026-03-02", "2026-01-05"],
    ]
    with Store.open_snapshot(tmp_path) as reader:
        count, briefs = reader.closed_case_briefs(date(2026, 2, 1))
        [brief] = list(briefs)
        assert count == 1 and brief[2:5] == ["CC-2026-0002", "closed", "x"]
        assert references(reader.open_case_briefs()) == ["CC-2026-0001"]


def test_a_case_the_index_shows_closed_before_the_period_is_not_opened(tmp_path: Path) -> None:
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        store.put_case(case("CC-2026-0001", "closed", "2026-01-10T10:00:00+00:00"))
        store.put_case(case("CC-2026-0002", "closed", "2026-02-20T16:00:00+00:00"))
        store.commit()
    # Rewritten in another layout, its tail no longer says when it closed: only the index can.
    path = tmp_path / "closed" / "2026" / "CC-2026-0001.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2) + "\n")
    with Store.open_snapshot(tmp_path) as reader:
        count, briefs = reader.closed_case_briefs(date(2026, 2, 1))
        assert count == 2 and references(briefs) == ["CC-2026-0002"]
    path.write_text("not JSON: a damaged file is only read when the index lacks it")
    with Store.open_snapshot(tmp_path) as reader:
        assert references(reader.closed_case_briefs(date(2026, 1, 1))[1]) == [
            "CC-2026-0001", "CC-2026-0002"]  # fmt: skip
    (tmp_path / INDEX_FILE).unlink()
    with Store.open_snapshot(tmp_path) as reader, pytest.raises(ValueError):
        list(reader.closed_case_briefs(date(2026, 1, 1))[1])


def test_a_line_cut_short_by_a_crash_is_dropped_and_the_case_file_read(tmp_path: Path) -> None:
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        store.put_case(case("CC-2026-0001", "closed", "2026-01-10T10:00:00+00:00"))
        store.commit()
    index = tmp_path / INDEX_FILE
    index.write_bytes(index.read_bytes()[:-25])  # torn inside its brief
    with Store(tmp_path, clock=FixedClock(NOW)) as store:
        _, briefs = store.closed_case_briefs(date(2026, 1, 1))
        assert references(briefs) == ["CC-2026-0001"]  # not in the index: its file is read
        store.put_case(case("CC-2026-0002", "closed", "2026-02-11T10:00:00+00:00"))
        store.commit()
    assert [line.split("\t")[0] for line in index.read_text().splitlines()] == ["CC-2026-0002"]


def test_a_brief_holds_dates_and_outcomes_not_what_the_concern_says_or_who_said_it() -> None:
    _, cases = fixed_cases()
    for model in cases:
        doc = json.loads(model.model_dump_json())
        text = json.dumps(brief_of(doc))
        assert model.referrer.split("@")[0] not in text
        assert model.referrer.split("@")[1] in text  # where concerns come from is a figure
        for entry in model.timeline:
            if entry.kind != "stage" and len(entry.text) > 20:
                assert entry.text not in text


def test_a_backup_leaves_the_index_out_and_the_restored_store_makes_it_again(
    tmp_path: Path,
) -> None:
    from bot.operations.backup import restore
    from bot.store.backup.pack import write_backup

    rules, cases = fixed_cases()
    directory = tmp_path / "store"
    with Store(directory, clock=FixedClock(NOW)) as store:
        for model in cases:
            store.put_case(json.loads(model.model_dump_json()))
        store.commit()
        assert (directory / INDEX_FILE).exists()
        archive = tmp_path / "store.tar.gz"
        write_backup(directory, archive, key=None, now=NOW)
        store.put_case(case("CC-2026-0099", "closed", "2026-05-20T10:00:00+00:00"))
        store.commit()  # after the backup: in the live index, not in the restored store
    into = tmp_path / "restored"
    restore(archive, into)
    expected = in_memory(rules, cases, month(2026, 5), NOW)
    assert from_store(into, rules, month(2026, 5), NOW) == expected
    with Store(into, clock=FixedClock(NOW)):  # the bot's first start on it
        pass
    lines = (into / INDEX_FILE).read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in lines) == sorted(
        c.reference for c in cases if c.status == "closed")
    assert from_store(into, rules, month(2026, 5), NOW) == expected
