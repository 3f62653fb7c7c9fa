"""Tests for the case store: durability, the commit point, recovery, locking and modes."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

import bot.store.core
import bot.store.raw_writer
from bot.clock import LONDON, FixedClock
from bot.store import Store, StoreError, StoreLocked
from bot.store.journal import write_records as real_write_records
from bot.store.raw_spill import SPILL_BYTES
from bot.store.storage import ChangesStorage

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=LONDON)


def make_store(path: Path, **kwargs: Any) -> Store:
    return Store(path, clock=FixedClock(NOW), **kwargs)


def case(reference: str, status: str = "open", **extra: Any) -> dict[str, Any]:
    return {"reference": reference, "status": status, "provider": "Acme Care Ltd", **extra}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Iterator[Store]:
    with make_store(root) as opened:
        yield opened


def disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def large(head: bytes) -> bytes:
    """Mail too large to go into the changes file (bot.store.raw_spill): a file of its own."""
    return head + b"x" * SPILL_BYTES


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_round_trip_across_reopen(root: Path) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0001", stage="screening"))
        store.outbox_add({"message_id": "<a1@council>", "reference": "CC-2026-0001"})
        triage_id = store.triage_add({"subject": "no reference"})
        store.set_meta("delta_link", {"inbox": "https://example.invalid/d1"})
        store.mark_seen("<m1@provider>")
        store.audit({"reference": "CC-2026-0001", "event": "opened", "at": NOW.isoformat()})
        store.commit()
    with make_store(root) as store:
        assert store.get_case("CC-2026-0001") == case("CC-2026-0001", stage="screening")
        assert [c["reference"] for c in store.open_cases()] == ["CC-2026-0001"]
        assert [i["message_id"] for i in store.outbox_pending()] == ["<a1@council>"]
        assert [i["id"] for i in store.triage_items()] == [triage_id]
        assert store.get_meta("delta_link") == {"inbox": "https://example.invalid/d1"}
        assert store.seen("<m1@provider>")
        assert [e["event"] for e in store.audit_entries()] == ["opened"]


def test_the_store_is_a_tinydb_database(root: Path, store: Store) -> None:
    store.put_case(case("CC-2026-0007"))
    store.commit()
    # Through the store's own storage, tinydb sees every commit...
    db = TinyDB(root / "open.json", storage=ChangesStorage, read_only=True)
    assert [doc["reference"] for doc in db.table("cases").all()] == ["CC-2026-0007"]
    db.close()
    # ...and after a compaction open.json alone is a plain tinydb file holding them.
    store.compact()
    db = TinyDB(root / "open.json", access_mode="r")
    assert [doc["reference"] for doc in db.table("cases").all()] == ["CC-2026-0007"]
    db.close()


def test_nothing_is_durable_before_commit(root: Path) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0001"))
        store.commit()
        store.put_case(case("CC-2026-0001", stage="changed"))
        store.put_case(case("CC-2026-0002"))
        store.mark_seen("<m2@x>")
        store.audit({"event": "not committed"})
        store.set_meta("last_poll", "2026-03-02T09:00:00+00:00")
    with make_store(root) as store:
        assert store.get_case("CC-2026-0001") == case("CC-2026-0001")
        assert store.get_case("CC-2026-0002") is None
        assert not store.seen("<m2@x>")
        assert list(store.audit_entries()) == []
        assert store.get_meta("last_poll", "never") == "never"


def test_commit_appends_to_the_changes_file_and_replaces_nothing(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced: list[str] = []
    real_replace = os.replace

    def counting_replace(src: str, dst: str) -> None:
        replaced.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting_replace)
    checkpoint = (root / "open.json").read_bytes()
    store.put_case(case("CC-2026-0001"))
    store.mark_seen("<m1@x>")
    store.audit({"event": "a"})
    store.outbox_add({"message_id": "<o1@council>"})
    store.commit()
    assert replaced == []
    assert (root / "open.json").read_bytes() == checkpoint
    assert b"CC-2026-0001" in (root / "changes-1.jsonl").read_bytes()


def test_closed_case_moves_to_archive(root: Path) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0001"))
        store.put_case(case("CC-2026-0002"))
        store.commit()
        store.put_case(case("CC-2026-0001", status="closed", outcome="upheld"))
        assert store.get_case("CC-2026-0001") == case("CC-2026-0001", "closed", outcome="upheld")
        store.commit()
        store.compact()
    assert "CC-2026-0001" not in (root / "open.json").read_text()
    archived = json.loads((root / "closed" / "2026" / "CC-2026-0001.json").read_text())
    assert archived["outcome"] == "upheld"
    with make_store(root) as store:
        assert [c["reference"] for c in store.open_cases()] == ["CC-2026-0002"]
        assert store.get_case("CC-2026-0001") == case("CC-2026-0001", "closed", outcome="upheld")
        assert store.closed_references() == ["CC-2026-0001"]


def test_reopened_case_leaves_the_archive(root: Path, store: Store) -> None:
    store.put_case(case("CC-2026-0003", status="closed"))
    store.commit()
    store.put_case(case("CC-2026-0003", status="open", reopened=True))
    store.commit()
    assert not (root / "closed" / "2026" / "CC-2026-0003.json").exists()
    assert store.closed_references() == []
    assert store.get_case("CC-2026-0003") == case("CC-2026-0003", reopened=True)


def test_stray_archive_file_is_removed_and_open_copy_wins(root: Path) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0004", stage="review"))
        store.commit()
    stray = root / "closed" / "2026" / "CC-2026-0004.json"
    stray.parent.mkdir(parents=True)
    stray.write_text(json.dumps(case("CC-2026-0004", status="closed")))
    with make_store(root) as store:
        assert store.get_case("CC-2026-0004") == case("CC-2026-0004", stage="review")
        assert store.closed_references() == []
        assert stray.exists()  # harmless, and not looked for at every start...
        store.compact()
    assert not stray.exists()  # ...but gone with the next checkpoint


def test_archive_is_written_before_the_commit_point(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_case(case("CC-2026-0005"))
    store.commit()
    changes = root / "changes-1.jsonl"
    committed = changes.read_bytes()
    store.put_case(case("CC-2026-0005", status="closed"))
    real_replace = os.replace

    def replace_fails(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", dst)

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(StoreError):
        store.commit()  # the archive write fails first, so nothing is appended
    assert changes.read_bytes() == committed
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "fdatasync", disk_full)
    with pytest.raises(StoreError):
        store.commit()  # now the archive copy exists but the commit point was not reached
    assert (root / "closed" / "2026" / "CC-2026-0005.json").exists()
    assert changes.read_bytes() == committed  # the half-made append was taken back
    monkeypatch.undo()
    store.close()
    with make_store(root) as reopened:
        assert reopened.get_case("CC-2026-0005") == case("CC-2026-0005")
        assert reopened.closed_references() == []


def test_journal_replayed_after_crash_between_replace_and_append(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(root)
    store.audit({"reference": "CC-2026-0001", "event": "kept"})
    store.commit()

    def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(bot.store.core, "write_records", crash)
    store.mark_seen("<crash@x>")
    store.audit({"reference": "CC-2026-0001", "event": "after crash"})
    with pytest.raises(RuntimeError):
        store.commit()
    monkeypatch.undo()
    store.close()
    audit_path = root / "audit" / "2026-03.jsonl"
    assert [e["event"] for e in read_lines(audit_path)] == ["kept"]
    for _ in range(2):  # a second open must not append the same lines again
        with make_store(root) as reopened:
            assert reopened.seen("<crash@x>")
            assert [e["event"] for e in reopened.audit_entries("CC-2026-0001")] == [
                "kept",
                "after crash",
            ]
    assert [e["seq"] for e in read_lines(audit_path)] == [1, 2]
    assert [line["key"] for line in read_lines(root / "seen" / "seen.jsonl")] == ["<crash@x>"]


def test_half_written_line_is_cut_before_replay(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(root)
    store.audit({"event": "first"})
    store.commit()
    monkeypatch.setattr(bot.store.core, "write_records", lambda *args: 1 / 0)
    store.audit({"event": "second"})
    with pytest.raises(ZeroDivisionError):
        store.commit()
    monkeypatch.undo()
    store.close()
    audit_path = root / "audit" / "2026-03.jsonl"
    with audit_path.open("a") as handle:
        handle.write('{"event": "sec')
    with make_store(root) as reopened:
        assert [e["event"] for e in reopened.audit_entries()] == ["first", "second"]
    assert [e["event"] for e in read_lines(audit_path)] == ["first", "second"]


def test_failed_append_is_retried_at_next_commit(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bot.store.core, "write_records", disk_full)
    store.audit({"event": "one"})
    store.commit()  # durable in the journal, so this is not an error
    monkeypatch.undo()
    assert [e["event"] for e in store.audit_entries()] == ["one"]
    store.audit({"event": "two"})
    store.commit()
    assert [e["event"] for e in read_lines(root / "audit" / "2026-03.jsonl")] == ["one", "two"]


def test_retry_after_a_partly_done_append_adds_no_duplicates(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def written_then_failed(directory: Path, records: list[Any]) -> None:
        real_write_records(directory, records)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(bot.store.core, "write_records", written_then_failed)
    store.audit({"event": "one"})
    store.mark_seen("<once@x>")
    store.commit()
    monkeypatch.undo()
    store.audit({"event": "two"})
    store.commit()
    assert [e["event"] for e in read_lines(root / "audit" / "2026-03.jsonl")] == ["one", "two"]
    assert [line["key"] for line in read_lines(root / "seen" / "seen.jsonl")] == ["<once@x>"]


def test_seen_keys_survive_reopen(root: Path) -> None:
    with make_store(root) as store:
        store.mark_seen("<k1@x>")
        store.mark_seen("<k1@x>")
        store.commit()
        store.mark_seen("<k2@x>")
        store.commit()
    with make_store(root) as store:
        assert store.seen("<k1@x>") and store.seen("<k2@x>")
        assert not store.seen("<k3@x>")
    assert len(read_lines(root / "seen" / "seen.jsonl")) == 2


def test_second_store_on_same_directory_is_locked(root: Path, store: Store) -> None:
    with pytest.raises(StoreLocked) as raised:
        make_store(root)
    assert f"pid {os.getpid()}" in str(raised.value)
    assert str(root) in str(raised.value)
    store.close()
    make_store(root).close()


def test_read_only_takes_no_lock_and_refuses_writes(root: Path, store: Store) -> None:
    store.put_case(case("CC-2026-0001"))
    store.commit()
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with make_store(root, read_only=True) as viewer:
        assert viewer.get_case("CC-2026-0001") == case("CC-2026-0001")
        writes = [
            lambda: viewer.put_case(case("CC-2026-0002")),
            lambda: viewer.next_reference(2026),
            lambda: viewer.mark_seen("<x@y>"),
            lambda: viewer.keep_raw(b"mail"),
            lambda: viewer.audit({"event": "x"}),
            lambda: viewer.outbox_add({"message_id": "<z@council>"}),
            lambda: viewer.outbox_mark_sent("<z@council>", {}),
            lambda: viewer.triage_add({"subject": "x"}),
            lambda: viewer.triage_resolve("T0001", "done"),
            lambda: viewer.set_meta("k", 1),
            viewer.commit,
        ]
        for write in writes:
            with pytest.raises(StoreError, match="read-only"):
                write()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_files_are_owner_only_whatever_the_umask(root: Path) -> None:
    root.mkdir(mode=0o755)
    old_umask = os.umask(0)
    try:
        with make_store(root) as store:
            sha = store.keep_raw(large(b"Subject: hello\r\n\r\nbody\r\n"))
            store.put_case(case("CC-2026-0001", status="closed"))
            store.mark_seen("<m@x>")
            store.audit({"event": "closed"})
            store.commit()
    finally:
        os.umask(old_umask)
    files = ["open.json", "changes-1.jsonl", "bot.lock", "seen/seen.jsonl", "audit/2026-03.jsonl"]
    files += [f"raw/{sha[:2]}/{sha}.eml", "closed/2026/CC-2026-0001.json"]
    dirs = [".", "raw", f"raw/{sha[:2]}", "closed", "closed/2026", "audit", "seen"]
    assert {f: stat.S_IMODE((root / f).stat().st_mode) for f in files} == dict.fromkeys(
        files, 0o600
    )
    assert {d: stat.S_IMODE((root / d).stat().st_mode) for d in dirs} == dict.fromkeys(dirs, 0o700)


def test_newer_schema_is_refused(root: Path) -> None:
    root.mkdir()
    (root / "open.json").write_text(
        json.dumps({"meta": {"1": {"key": "schema_version", "value": Store.SCHEMA_VERSION + 1}}})
    )
    with pytest.raises(StoreError, match="newer version"):
        make_store(root)
    # The lock was released on the failed open, so a retry gets the same clear refusal.
    with pytest.raises(StoreError, match=f"schema {Store.SCHEMA_VERSION + 1}"):
        make_store(root)


def test_missing_schema_on_non_empty_store_is_refused(root: Path) -> None:
    root.mkdir()
    (root / "open.json").write_text(
        json.dumps({"cases": {"1": {"reference": "CC-2026-0001", "status": "open"}}})
    )
    with pytest.raises(StoreError, match="no schema version"):
        make_store(root)


def test_corrupt_open_json_is_refused_and_left_untouched(root: Path) -> None:
    root.mkdir()
    damaged = b'{"cases": {"1": {"reference": "CC-2026-0001"'
    (root / "open.json").write_bytes(damaged)
    with pytest.raises(StoreError) as raised:
        make_store(root)
    assert str(root / "open.json") in str(raised.value)
    assert (root / "open.json").read_bytes() == damaged


def test_outbox_dedupes_queued_and_sent_letters(root: Path) -> None:
    with make_store(root) as store:
        letter = {"message_id": "<ack-1@council>", "reference": "CC-2026-0001", "to": ["a@b"]}
        assert store.outbox_add(letter) is True
        assert store.outbox_add(letter) is False
        store.commit()
        store.outbox_mark_sent("<ack-1@council>", {"location": "Sent Items"})
        assert store.outbox_add(letter) is False
        assert store.outbox_pending() == []
        store.commit()
    with make_store(root) as store:
        assert store.was_sent("<ack-1@council>")
        assert not store.was_sent("<other@council>")
        assert store.outbox_add(letter) is False
    (sent,) = read_lines(root / "outbox" / "sent.jsonl")
    assert sent["reference"] == "CC-2026-0001"
    assert sent["info"] == {"location": "Sent Items"}


def test_next_reference_counts_per_year_and_is_staged(root: Path) -> None:
    with make_store(root) as store:
        assert store.next_reference(2026) == "CC-2026-0001"
        assert store.next_reference(2026) == "CC-2026-0002"
        assert store.next_reference(2027) == "CC-2027-0001"
        store.commit()
        assert store.next_reference(2026) == "CC-2026-0003"  # never committed
    with make_store(root) as store:
        assert store.next_reference(2026) == "CC-2026-0003"
        assert store.next_reference(2027) == "CC-2027-0002"


def test_disk_full_on_commit_keeps_previous_state(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_case(case("CC-2026-0001"))
    store.commit()
    changes = root / "changes-1.jsonl"
    committed = changes.read_bytes()
    monkeypatch.setattr(os, "fdatasync", disk_full)
    store.put_case(case("CC-2026-0002"))
    with pytest.raises(StoreError) as raised:
        store.commit()
    message = str(raised.value)
    assert "could not write the store at" in message and "disk full" in message
    assert "nothing was lost: the previous state is intact" in message
    assert changes.read_bytes() == committed
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    store.commit()  # staged work survives the failure and goes in once there is room
    assert b"CC-2026-0002" in changes.read_bytes()
    with make_store(root, read_only=True) as reader:
        assert [c["reference"] for c in reader.open_cases()] == ["CC-2026-0001", "CC-2026-0002"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_read_only_directory_gives_store_error(root: Path, store: Store) -> None:
    store.put_case(case("CC-2026-0001"))
    store.commit()
    committed = (root / "changes-1.jsonl").read_bytes()
    store.put_case(case("CC-2026-0001", status="closed"))  # its archive folder is new
    os.chmod(root, 0o500)
    try:
        with pytest.raises(StoreError, match="permission denied"):
            store.commit()
    finally:
        os.chmod(root, 0o700)
    assert (root / "changes-1.jsonl").read_bytes() == committed


def test_keep_raw_is_content_addressed_and_idempotent(root: Path, store: Store) -> None:
    raw = large(b"From: a@b\r\nSubject: concern\r\n\r\nText\r\n")
    sha = store.keep_raw(raw)
    assert store.keep_raw(raw) == sha
    assert len(sha) == 64
    assert store.load_raw(sha) == raw
    store.commit()  # the file is written meanwhile; the commit waits for it
    assert list((root / "raw").rglob("*.eml")) == [root / "raw" / sha[:2] / f"{sha}.eml"]
    assert list((root / "raw").rglob(".*")) == []  # no temporary file left beside it
    assert store.load_raw(sha) == raw
    with pytest.raises(StoreError, match="could not read kept mail"):
        store.load_raw("0" * 64)


def test_raw_mail_that_cannot_be_written_fails_the_commit_that_needs_it(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.set_meta("before", 1)
    store.commit()
    committed = (root / "changes-1.jsonl").read_bytes()
    monkeypatch.setattr(bot.store.raw_writer, "put_durably", disk_full)  # on its thread
    raw = large(b"From: a@b\r\nSubject: concern\r\n\r\nText\r\n")
    sha = store.keep_raw(raw)
    assert store.load_raw(sha) == raw  # readable while it is being written
    store.set_meta("refers", sha)
    with pytest.raises(StoreError, match="disk full"):
        store.commit()
    assert (root / "changes-1.jsonl").read_bytes() == committed
    monkeypatch.undo()
    assert store.keep_raw(raw) == sha  # kept again once there is room, and committed
    store.commit()
    assert store.raw_path(sha).read_bytes() == raw
    assert b'"refers"' in (root / "changes-1.jsonl").read_bytes()


def test_a_damaged_copy_left_by_a_crash_is_written_again(root: Path, store: Store) -> None:
    raw = large(b"From: a@b\r\nSubject: concern\r\n\r\nText\r\n")
    path = store.raw_path(hashlib.sha256(raw).hexdigest())
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(raw[:10])  # a power cut before the data reached the disk
    store.keep_raw(raw)
    store.commit()
    assert path.read_bytes() == raw


def test_triage_items_resolve_and_leave_the_tables(root: Path) -> None:
    with make_store(root) as store:
        first = store.triage_add({"subject": "who is this?"})
        second = store.triage_add({"subject": "no reference"})
        assert (first, second) == ("T0001", "T0002")
        store.commit()
        store.triage_resolve(first, "spam")
        with pytest.raises(KeyError):
            store.triage_resolve(first, "again")
        store.commit()
    with make_store(root) as store:
        assert [item["id"] for item in store.triage_items()] == ["T0002"]
    (resolved,) = read_lines(root / "triage" / "resolved.jsonl")
    assert resolved["note"] == "spam" and resolved["item"]["subject"] == "who is this?"


def test_audit_seq_month_files_and_filter(root: Path, store: Store) -> None:
    store.audit({"reference": "CC-2026-0001", "event": "a", "at": "2026-02-27T16:00:00+00:00"})
    store.audit({"reference": "CC-2026-0002", "event": "b"})
    store.commit()
    store.audit({"reference": "CC-2026-0001", "event": "c"})
    assert [(e["seq"], e["event"]) for e in store.audit_entries()] == [(1, "a"), (2, "b"), (3, "c")]
    assert [e["event"] for e in store.audit_entries("CC-2026-0001")] == ["a", "c"]
    assert [e["event"] for e in read_lines(root / "audit" / "2026-02.jsonl")] == ["a"]
    assert [e["event"] for e in read_lines(root / "audit" / "2026-03.jsonl")] == ["b"]


def test_rollback_drops_staged_changes(store: Store) -> None:
    store.put_case(case("CC-2026-0001"))
    store.commit()
    store.put_case(case("CC-2026-0001", status="closed"))
    store.mark_seen("<half@x>")
    store.next_reference(2026)
    store.rollback()
    assert store.get_case("CC-2026-0001") == case("CC-2026-0001")
    assert not store.seen("<half@x>")
    assert store.next_reference(2026) == "CC-2026-0001"


def test_stored_cases_are_copies(store: Store) -> None:
    original = case("CC-2026-0001", people=["referrer"])
    store.put_case(original)
    original["people"].append("leaked")
    fetched = store.get_case("CC-2026-0001")
    assert fetched is not None and fetched["people"] == ["referrer"]
    fetched["people"].append("leaked")
    assert store.open_cases()[0]["people"] == ["referrer"]


def test_bad_input_is_rejected_at_the_call(store: Store) -> None:
    with pytest.raises(TypeError, match="plain JSON"):
        store.put_case(case("CC-2026-0001", opened=datetime(2026, 3, 2, tzinfo=LONDON)))
    for number in (float("nan"), float("inf")):  # JSON has no such numbers
        with pytest.raises(TypeError, match="plain JSON"):
            store.put_case(case("CC-2026-0001", data={"scores": [1.5, None, number]}))
        with pytest.raises(TypeError, match="plain JSON"):
            store.outbox_add({"message_id": "a@x", "kind": "mail", "weight": number})
    with pytest.raises(ValueError, match="CC-2026-0042"):
        store.put_case(case("../../etc/passwd"))
    with pytest.raises(ValueError, match="status"):
        store.put_case(case("CC-2026-0001", status="pending"))
    assert store.get_case("../x") is None


def test_is_queued_answers_for_the_outbox_only(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        assert not store.is_queued("a@x")
        store.outbox_add({"message_id": "a@x", "kind": "mail"})
        assert store.is_queued("a@x")
        store.outbox_mark_sent("a@x", {"at": "2026-12-01T09:00:00+00:00"})
        assert not store.is_queued("a@x") and store.was_sent("a@x")


def test_open_cases_are_one_a_line_at_the_end_of_open_json(root: Path) -> None:
    with make_store(root) as store:
        for n in (1, 2, 3):
            store.put_case(case(f"CC-2026-000{n}", note="line one\nline two"))
        store.set_meta("delta_link", "https://example.invalid/d1")
        store.commit()
        store.compact()
    lines = (root / "open.json").read_bytes().split(b"\n")
    assert lines[0].endswith(b'"cases":{')
    assert [json.loads(line.rstrip(b",").partition(b":")[2])["reference"]
            for line in lines[1:-1]] == ["CC-2026-0001", "CC-2026-0002", "CC-2026-0003"]
    assert lines[-1] == b"}}"
    with make_store(root) as store:
        assert store.get_case("CC-2026-0002") == case("CC-2026-0002", note="line one\nline two")
        assert store.get_meta("delta_link") == "https://example.invalid/d1"


def test_open_json_in_the_older_one_line_layout_still_opens(root: Path) -> None:
    root.mkdir()
    path = root / "open.json"
    path.write_text(  # as the first versions wrote it: one line, schema 1, no changes file
        json.dumps(
            {
                "meta": {"1": {"key": "schema_version", "value": 1}},
                "cases": {"1": case("CC-2026-0001")},
            }
        )
    )
    with make_store(root) as store:
        assert store.get_case("CC-2026-0001") == case("CC-2026-0001")
        store.put_case(case("CC-2026-0002"))
        store.commit()
    assert path.read_bytes().count(b"\n") == 2  # rewritten as a checkpoint, one case a line
    with make_store(root) as store:
        assert [c["reference"] for c in store.open_cases()] == ["CC-2026-0001", "CC-2026-0002"]


def test_an_open_json_cut_short_is_refused_and_left_as_it_is(root: Path) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0001"))
        store.put_case(case("CC-2026-0002"))
        store.commit()
        store.compact()
    path = root / "open.json"
    cut = path.read_bytes().rsplit(b"\n", 2)[0]  # the last case and the closing lines lost
    path.write_bytes(cut)
    with pytest.raises(StoreError, match="left untouched"):
        make_store(root)
    assert path.read_bytes() == cut


@pytest.mark.parametrize("bad", [b"[1, 2]", b'{"reference": "CC-2026-0002"'])
def test_an_open_case_line_that_is_not_an_object_is_refused(root: Path, bad: bytes) -> None:
    with make_store(root) as store:
        store.put_case(case("CC-2026-0001"))
        store.put_case(case("CC-2026-0002"))
        store.commit()
        store.compact()
    path = root / "open.json"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].partition(b":")[0] + b":" + bad
    path.write_bytes(b"\n".join(lines))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a JSON object"):
        make_store(root)
    assert path.read_bytes() == before


def test_a_raw_folder_removed_behind_the_bots_back_is_made_again(
    root: Path, store: Store
) -> None:
    first = large(b"From: a@b\r\nSubject: one\r\n\r\nText\r\n")
    store.keep_raw(first)
    store.commit()
    folder = store.raw_path(hashlib.sha256(first).hexdigest()).parent
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()  # someone tidied the store by hand
    # The same folder again: the bot remembers it, so the write fails and the commit says so.
    again = large(b"From: a@b\r\nSubject: one\r\n\r\nText\r\n\r\n")
    while store.raw_path(hashlib.sha256(again).hexdigest()).parent != folder:
        again += b" "
    store.keep_raw(again)
    with pytest.raises(StoreError):
        store.commit()
    sha = store.keep_raw(again)  # looked for afresh after the failure
    store.commit()
    assert store.raw_path(sha).read_bytes() == again


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="Linux only")
def test_cases_about_to_be_read_are_read_ahead_where_they_lie(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_store(root) as store:
        for n in (1, 2, 3):
            store.put_case(case(f"CC-2026-000{n}", note="x" * 100 * n))
        store.commit()
        store.compact()  # the cases now lie in the checkpoint, read when used
    advised: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_WILLNEED
        advised.append((offset, length))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", record)
    with make_store(root, read_only=True) as store:
        store.will_read_cases(["CC-2026-0003", "CC-2026-0001", "CC-2026-0009"])
        data = (root / "open.json").read_bytes()
        read = [data[offset : offset + length] for offset, length in advised]
        assert read == [store.open_case_document(r) for r in ("CC-2026-0003", "CC-2026-0001")]


def test_deleting_mail_kept_again_meanwhile_leaves_nothing_unsynced(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = large(b"From: a@b\r\nSubject: old\r\n\r\nText\r\n")
    other = large(b"From: a@b\r\nSubject: new\r\n\r\nText\r\n")
    sha = store.keep_raw(raw)
    store.commit()
    synced: list[Path] = []
    real = bot.store.core.fsync_dir
    monkeypatch.setattr(bot.store.core, "fsync_dir", lambda p: (synced.append(p), real(p)))
    store.keep_raw(other)  # being written when retention removes the first
    store.keep_raw(raw)
    assert store.delete_raw(sha)
    # The other file, written meanwhile, had its folder's entry made durable as a commit would.
    assert store.raw_path(hashlib.sha256(other).hexdigest()).parent in synced
    assert not store.raw_path(sha).exists()
