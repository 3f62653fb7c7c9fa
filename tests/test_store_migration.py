"""A store written by the bot before issue 12 (schema 1) opens, and is moved to the new layout."""

from __future__ import annotations

import json
import shutil
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import LONDON, FixedClock
from bot.procedure.case import Case
from bot.store import Store, StoreError
from bot.store.case_index import CaseIndex

FIXTURE = Path(__file__).parent / "data" / "store-v1"
OPEN = ["CC-2026-0001", "CC-2026-0002", "CC-2026-0003", "CC-2026-0008"]
NOW = datetime(2026, 12, 1, 13, 0, tzinfo=LONDON)
CLOSED = ["CC-2026-0004", "CC-2026-0005", "CC-2026-0006", "CC-2026-0007"]


@pytest.fixture
def old(tmp_path: Path) -> Path:
    """A copy of the schema-1 store, owner-only as the old bot left it (git keeps no modes)."""
    root = tmp_path / "store"
    shutil.copytree(FIXTURE, root)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return root


def everything(store: Store) -> dict[str, Any]:
    """What the store holds, as a person would ask for it."""
    return {
        "open": {c["reference"]: c for c in store.open_cases()},
        "closed": {ref: store.get_case(ref) for ref in store.closed_references()},
        "outbox": store.outbox_pending(),
        "triage": store.triage_items(),
        "audit": list(store.audit_entries()),
        "meta": {key: store.get_meta(key) for key in ("last_poll", "digest_day", "fixture")},
    }


def test_the_fixture_is_a_schema_1_store() -> None:
    tables = json.loads((FIXTURE / "open.json").read_text())
    meta = {doc["key"]: doc["value"] for doc in tables["meta"].values()}
    assert meta["schema_version"] == 1
    assert sorted(doc["reference"] for doc in tables["cases"].values()) == OPEN
    assert not list(FIXTURE.glob("changes-*.jsonl"))


def test_a_schema_1_store_is_migrated_on_first_open(old: Path) -> None:
    with Store(old, read_only=True) as reader:  # a reader opens it as it is, changing nothing
        before = everything(reader)
    assert sorted(before["open"]) == OPEN and sorted(before["closed"]) == CLOSED
    assert [item["name"] for item in before["outbox"]] == ["fixture-note.txt"]
    assert before["audit"][-1]["event"] == "fixture"
    assert not list(old.glob("changes-*.jsonl"))

    with Store(old, clock=FixedClock(NOW)) as store:
        assert everything(store) == before
        assert store.get_meta("fixture") == {"made_by": "scripts in tests/data/store-v1/README.md"}
        # Work goes on where the old bot left it: counters, dedupe and history carry over.
        assert store.next_reference(2026) == "CC-2026-0009"
        seen = [json.loads(line)["key"] for line in (old / "seen/seen.jsonl").read_text().split()]
        assert seen and all(store.seen(key) for key in seen)
        store.rollback()
    tables = json.loads((old / "open.json").read_text())
    meta = {doc["key"]: doc["value"] for doc in tables["meta"].values()}
    assert meta["schema_version"] == Store.SCHEMA_VERSION
    assert (old / f"changes-{meta['generation']}.jsonl").exists()
    assert stat.S_IMODE((old / "open.json").stat().st_mode) == 0o600

    with Store(old) as again:  # the second open finds the new layout: nothing to migrate
        assert everything(again) == before
        index = CaseIndex(again)
        assert sorted(view.reference for view in index.views()) == OPEN
        again.commit()  # the summaries the index wrote for the old cases
    with Store.open_snapshot(old) as snapshot:
        assert [s is not None for _, s in snapshot.case_summaries()] == [True] * 4


def test_history_committed_but_not_yet_appended_survives_the_migration(old: Path) -> None:
    # The old bot was killed after its last commit, before appending its history lines:
    # open.json's journal table still holds them, and the migration must not lose them.
    (old / "audit" / "2026-12.jsonl").unlink()
    with Store(old) as store:
        assert [e["event"] for e in store.audit_entries()][-1] == "fixture"
    (line,) = (old / "audit" / "2026-12.jsonl").read_text().splitlines()
    assert json.loads(line)["note"] == "the last commit of the old layout"


def test_cases_of_the_old_store_still_read_as_cases(old: Path) -> None:
    with Store(old) as store:
        cases = [Case.model_validate(doc) for doc in store.open_cases()]
    assert sorted(case.reference for case in cases) == OPEN
    assert all(case.timeline for case in cases)


def test_a_store_newer_than_the_bot_is_refused_untouched(old: Path) -> None:
    tables = json.loads((old / "open.json").read_text())
    for doc in tables["meta"].values():
        if doc["key"] == "schema_version":
            doc["value"] = Store.SCHEMA_VERSION + 1
    (old / "open.json").write_text(json.dumps(tables))
    before = (old / "open.json").read_bytes()
    with pytest.raises(StoreError, match="newer version of the bot"):
        Store(old)
    assert (old / "open.json").read_bytes() == before

