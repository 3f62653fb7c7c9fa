"""The changes file and its checkpoints: what a commit writes, torn tails, compaction, snapshots."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.store.storage
from bot.clock import LONDON, FixedClock
from bot.store import Store, StoreError
from bot.store.tables import Table

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=LONDON)


def case(number: int, **extra: Any) -> dict[str, Any]:
    timeline = [{"at": NOW.isoformat(), "text": f"entry {n} " + "x" * 200} for n in range(20)]
    return {"reference": f"CC-2026-{number:04d}", "status": "open", "timeline": timeline, **extra}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Iterator[Store]:
    with Store(root, clock=FixedClock(NOW)) as opened:
        yield opened


def changes_files(root: Path) -> list[str]:
    return sorted(path.name for path in root.glob("changes-*.jsonl"))


def appended_by(store: Store, root: Path, change: Any) -> int:
    (path,) = root.glob("changes-*.jsonl")
    before = path.stat().st_size
    change()
    store.commit()
    return path.stat().st_size - before


def test_a_commit_writes_what_changed_not_every_open_case(root: Path, store: Store) -> None:
    for number in range(1, 11):
        store.put_case(case(number))
    store.commit()
    small = appended_by(store, root, lambda: store.put_case(case(3, stage="screening")))
    for number in range(11, 401):
        store.put_case(case(number))
    store.commit()
    large = appended_by(store, root, lambda: store.put_case(case(3, stage="reviewing")))
    # One case changed: the same bytes whether 10 or 400 cases are open.
    assert large == small
    assert small < 2 * len(json.dumps(case(3, stage="screening")))


def test_a_torn_commit_is_ignored_by_readers_and_cut_by_the_writer(root: Path) -> None:
    with Store(root) as store:
        store.put_case(case(1))
        store.commit()
    (path,) = root.glob("changes-*.jsonl")
    whole = path.read_bytes()
    # A crash in the middle of the next commit's append: half a document, no mark.
    torn = b'{"c":2,"t":"cases","k":"CC-2026-0002","d":{"reference":"CC-2026-0002","sta'
    path.write_bytes(whole + torn)
    with Store.open_snapshot(root) as reader:
        assert [c["reference"] for c in reader.open_cases()] == ["CC-2026-0001"]
    assert path.read_bytes() == whole + torn  # a reader changes nothing
    with Store(root) as writer:
        assert path.read_bytes() == whole  # the writer cuts what was never acknowledged
        writer.put_case(case(2))
        writer.commit()
    with Store.open_snapshot(root) as reader:
        assert [c["reference"] for c in reader.open_cases()] == ["CC-2026-0001", "CC-2026-0002"]


def test_a_whole_commit_with_a_bad_mark_is_not_applied(root: Path) -> None:
    with Store(root) as store:
        store.put_case(case(1))
        store.commit()
        store.put_case(case(1, stage="changed"))
        store.commit()
    (path,) = root.glob("changes-*.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-2] = lines[-2].replace(b"changed", b"chanGed")  # the crc no longer matches
    path.write_bytes(b"".join(lines))
    with Store.open_snapshot(root) as reader:
        assert reader.get_case("CC-2026-0001") == case(1)


def test_damage_before_a_good_commit_is_refused_and_left_alone(root: Path) -> None:
    with Store(root) as store:
        for stage in ("one", "two", "three"):
            store.put_case(case(1, stage=stage))
            store.commit()
    (path,) = root.glob("changes-*.jsonl")
    data = path.read_bytes().replace(b'"two"', b'"tw0"')
    path.write_bytes(data)
    for read_only in (True, False):
        with pytest.raises(StoreError, match="damaged"):
            Store(root, read_only=read_only)
    assert path.read_bytes() == data


def test_a_checkpoint_waits_for_the_bot_to_be_idle_unless_the_changes_grow_far(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store.storage, "COMPACT_AT_LEAST", 20_000)
    monkeypatch.setattr(bot.store.storage, "COMPACT_OVERDUE_AT_LEAST", 30_000)
    padding = "x" * 5_000

    def grow_past(size: int) -> None:
        number = 0
        while (root / changes_files(root)[0]).stat().st_size <= size:
            number += 1
            store.put_case(case(number, note=padding))
            store.commit()

    grow_past(20_000)  # due: a poll or a tick does not write it
    assert changes_files(root) == ["changes-1.jsonl"]
    store.put_case(case(1, note="staged"))
    assert not store.compact_if_due()  # never with anything staged
    store.commit()
    assert store.compact_if_due()  # idle: written now
    assert changes_files(root) == ["changes-2.jsonl"]
    assert not store.compact_if_due()  # and not again until the changes grow
    sizes = []
    while changes_files(root) == ["changes-2.jsonl"]:  # no idle moment from here on
        sizes.append((root / "changes-2.jsonl").stat().st_size)
        store.put_case(case(len(sizes), note=padding))
        store.commit()
    # Twice the bound (and past the floor for that): the commit that crossed it wrote one.
    assert changes_files(root) == ["changes-3.jsonl"]
    assert 20_000 < sizes[-1] <= 40_000
    assert store.get_case("CC-2026-0002") == case(2, note=padding)


def test_changes_are_compacted_into_a_new_checkpoint(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store.storage, "COMPACT_AT_LEAST", 20_000)
    assert changes_files(root) == ["changes-1.jsonl"]
    for round_ in range(10):
        for number in range(1, 4):
            store.put_case(case(number, stage=f"round {round_}"))
        store.audit({"event": f"round {round_}"})
        store.commit()
        store.compact_if_due()  # as the bot does when idle
    assert changes_files(root) != ["changes-1.jsonl"]  # compacted at least once
    (path,) = root.glob("changes-*.jsonl")
    assert path.stat().st_size <= 20_000
    assert store.get_case("CC-2026-0002") == case(2, stage="round 9")
    store.close()
    with Store.open_snapshot(root) as reader:
        assert [c["stage"] for c in reader.open_cases()] == ["round 9"] * 3
        assert [e["event"] for e in reader.audit_entries()] == [f"round {n}" for n in range(10)]


def test_a_crash_during_a_compaction_loses_nothing(root: Path) -> None:
    with Store(root) as store:
        store.put_case(case(1))
        store.commit()
        store.put_case(case(2))
        store.commit()
    saved = root.parent / "saved"
    shutil.copytree(root, saved)
    # Killed after making the next changes file, before open.json names it:
    (root / "changes-2.jsonl").write_bytes(b"")
    with Store(root) as store:
        assert [c["reference"] for c in store.open_cases()] == ["CC-2026-0001", "CC-2026-0002"]
        assert changes_files(root) == ["changes-1.jsonl"]
        store.compact()
        assert changes_files(root) == ["changes-2.jsonl"]
    # Killed after the new open.json, before the old changes file was removed:
    shutil.copy(saved / "changes-1.jsonl", root / "changes-1.jsonl")
    with Store(root) as store:
        assert [c["reference"] for c in store.open_cases()] == ["CC-2026-0001", "CC-2026-0002"]
        assert changes_files(root) == ["changes-2.jsonl"]


def test_a_snapshot_stays_at_its_commit_until_refreshed(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_case(case(1))
    store.audit({"event": "first"})
    store.commit()
    with Store.open_snapshot(root) as snapshot:
        store.put_case(case(2))
        store.audit({"event": "second"})
        assert snapshot.refresh() is False  # staged is not committed
        store.commit()
        assert snapshot.open_references() == ["CC-2026-0001"]
        assert [e["event"] for e in snapshot.audit_entries()] == ["first"]
        assert snapshot.refresh() is True
        assert snapshot.open_references() == ["CC-2026-0001", "CC-2026-0002"]
        assert [e["event"] for e in snapshot.audit_entries()] == ["first", "second"]
        store.put_case(case(3))
        store.commit()
        store.compact()  # open.json replaced and the old changes file removed meanwhile
        assert snapshot.get_case("CC-2026-0002") == case(2)  # still readable: files kept open
        assert snapshot.refresh() is True
        assert snapshot.open_references() == ["CC-2026-0001", "CC-2026-0002", "CC-2026-0003"]
        with pytest.raises(StoreError, match="read-only"):
            snapshot.put_case(case(4))


def test_a_snapshot_takes_no_lock_and_writes_nothing(root: Path, store: Store) -> None:
    store.put_case(case(1))
    store.commit()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    with Store.open_snapshot(root) as snapshot:
        assert snapshot.open_references() == ["CC-2026-0001"]
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_rollback_keeps_the_order_of_the_outbox(store: Store) -> None:
    for n in range(1, 5):
        store.outbox_add({"message_id": f"<m{n}@council>", "kind": "mail"})
    store.commit()
    store.outbox_mark_sent("<m2@council>", {})
    store.outbox_add({"message_id": "<m5@council>", "kind": "mail"})
    store.rollback()
    assert [i["message_id"] for i in store.outbox_pending()] == [
        f"<m{n}@council>" for n in range(1, 5)
    ]


def test_summaries_follow_their_open_case(root: Path, store: Store) -> None:
    store.put_case(case(1), {"due": "soon"})
    store.put_case(case(2), {"due": "later"})
    store.commit()
    store.put_case(case(1, status="closed"))
    store.put_case(case(2, stage="changed"))  # no summary given: the old one is dropped
    store.commit()
    with Store.open_snapshot(root) as snapshot:
        assert list(snapshot.case_summaries()) == [("CC-2026-0002", None)]


Op = tuple[str, str]  # ("put" or "remove", key)
ops = st.lists(st.tuples(st.sampled_from(["put", "remove"]), st.sampled_from("abcdef")))


@settings(max_examples=200, deadline=None)
@given(first=ops, second=ops)
def test_replaying_a_tables_changes_gives_the_same_table_in_the_same_order(
    first: list[Op], second: list[Op]
) -> None:
    table = Table("t")
    for kind, key in first:
        if kind == "put":
            table.put(key, {"v": len(table)})
        else:
            table.remove(key)
    table.committed()
    committed = list(table.docs.items())
    replica = dict(table.docs)
    for serial, (kind, key) in enumerate(second):
        if kind == "put":
            table.put(key, {"v": serial})
        else:
            table.remove(key)
    for key, doc in table.changes():  # as a reader applies a commit
        if doc is None:
            replica.pop(key, None)
        else:
            replica[key] = doc
    assert list(replica.items()) == list(table.docs.items())
    table.rollback()
    assert list(table.docs.items()) == committed


def test_the_changes_file_is_owner_only(root: Path, store: Store) -> None:
    store.put_case(case(1))
    store.commit()
    (path,) = root.glob("changes-*.jsonl")
    assert os.stat(path).st_mode & 0o777 == 0o600


class _Appending:
    """A changes file read while the writer appends: the first read meets the end of the file
    in the middle of a commit's line; by the next, that commit and another are whole."""

    def __init__(self, whole: bytes, cut: int) -> None:
        self.parts = [whole[:cut], whole[cut:]]
        self.buffer = b""

    def readline(self) -> bytes:
        if not self.buffer and self.parts:
            self.buffer = self.parts.pop(0)
        line, newline, rest = self.buffer.partition(b"\n")
        self.buffer = rest
        return line + newline


def test_a_reader_meeting_an_append_in_progress_stops_there() -> None:
    from bot.store.changes import encode_commit, scan

    first, _ = encode_commit(1, [("meta", "a", b'{"key":"a","value":1}')], 0)
    second, _ = encode_commit(2, [("meta", "b", b'{"key":"b","value":2}')], len(first))
    third, _ = encode_commit(3, [("meta", "c", b'{"key":"c","value":3}')], 0)
    whole = first + second + third
    found = scan(_Appending(whole, len(first) + 10))  # type: ignore[arg-type]
    assert (found.last, found.end) == (1, len(first))  # not refused as damage
    assert scan(_Appending(whole, len(whole))).last == 3  # type: ignore[arg-type]
