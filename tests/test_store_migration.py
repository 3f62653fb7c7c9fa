"""Stores written by earlier versions (schemas 1 and 2) open, and are moved to the new layout."""

from __future__ import annotations

import json
import logging
import shutil
import stat
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import LONDON, FixedClock
from bot.operations.backup import restore
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
    with pytest.raises(StoreError) as refused:
        Store(old)
    message = str(refused.value)
    assert f"it has schema {Store.SCHEMA_VERSION + 1}" in message
    assert f"this bot knows schema {Store.SCHEMA_VERSION} at most" in message
    assert "upgrade the bot, or restore the backup made before the upgrade" in message
    assert str(old / "upgrade-backups") in message
    assert (old / "open.json").read_bytes() == before
    assert not (old / "upgrade-backups").exists()


def test_the_first_start_backs_the_old_store_up_before_migrating_it(
    old: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()}
    with caplog.at_level(logging.WARNING, logger="bot.store.backup.upgrade"), Store(
        old, clock=FixedClock(NOW)
    ):
        pass
    [backup] = (old / "upgrade-backups").iterdir()
    assert backup.name == "schema1-20261201T130000.tar.gz"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert str(backup) in caplog.text and "before upgrading it" in caplog.text
    with tarfile.open(backup) as archive:  # made before the migration: schema 1 inside
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["schema_version"] == 1
    assert not any(name.startswith("changes-") for name in manifest["files"])

    with Store(old):  # the second start finds schema 2: no second backup
        pass
    assert len(list((old / "upgrade-backups").iterdir())) == 1

    # The backup restores to the store the previous version wrote, byte for byte.
    restore(backup, tmp_path / "restored")
    restored = tmp_path / "restored"
    after = {p.relative_to(restored): p.read_bytes() for p in restored.rglob("*") if p.is_file()}
    assert after == before
    with Store.open_snapshot(restored) as snapshot:
        assert snapshot._meta.get("schema_version") == 1
        assert sorted(snapshot.open_references()) == OPEN


def test_a_failed_backup_before_the_upgrade_changes_nothing(old: Path) -> None:
    (old / "upgrade-backups").write_text("in the way\n")  # a file where the folder goes
    before = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()}
    with pytest.raises(StoreError, match="must be backed up before this bot upgrades it"):
        Store(old, clock=FixedClock(NOW))
    after = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()
             if p.name not in ("bot.lock", "commit.lock")}
    assert after == before



@pytest.fixture
def v2(tmp_path: Path) -> Path:
    """A copy of the schema-2 store (every kept email a file of its own), owner-only."""
    root = tmp_path / "store-v2"
    shutil.copytree(Path(__file__).parent / "data" / "store-v2", root)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return root


def kept_mail(store: Store) -> dict[str, bytes]:
    """Every email and letter the cases point to, by sha."""
    shas = {
        doc["sha"]
        for case in [*store.open_cases(), *map(store.get_case, store.closed_references())]
        if case is not None
        for doc in case.get("documents", [])
        if doc.get("sha")
    }
    return {sha: store.load_raw(sha) for sha in sorted(shas)}


def test_a_schema_2_store_is_backed_up_and_migrated_and_its_mail_still_reads(v2: Path) -> None:
    with Store(v2, read_only=True) as reader:
        assert reader._meta.get("schema_version") == 2
        before, mail = everything(reader), kept_mail(reader)
    assert sorted(before["open"]) == OPEN and sorted(before["closed"]) == CLOSED
    assert len(mail) > 20
    with Store(v2, clock=FixedClock(NOW)) as store:
        assert everything(store) == before and kept_mail(store) == mail
        sha = store.keep_raw(b"Subject: new\r\n\r\nKept the new way\r\n")
        store.commit()
    [backup] = (v2 / "upgrade-backups").iterdir()
    assert backup.name == "schema2-20261201T130000.tar.gz"
    tables = json.loads((v2 / "open.json").read_text())
    meta = {doc["key"]: doc["value"] for doc in tables["meta"].values()}
    assert meta["schema_version"] == Store.SCHEMA_VERSION == 3
    with Store.open_snapshot(v2) as snapshot:
        assert kept_mail(snapshot) == mail
        assert snapshot.load_raw(sha).endswith(b"Kept the new way\r\n")

