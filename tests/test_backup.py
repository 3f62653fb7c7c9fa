"""Backups taken while the bot works through a backlog restore to a whole commit: every case,
letter and audit line their manifest counts is there, and the restored store opens and works."""

from __future__ import annotations

import json
import stat
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backends.concerns import concern

import bot.store.storage
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.operations.backup import restore
from bot.store import Store
from bot.store.backup.manifest import Manifest
from bot.store.backup.pack import write_backup
from bot.store.files import read_json_lines

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
BATCHES, PER_BATCH = 8, 5
OFFICER = "jane.smith@council.example"


def backlog(ws: Workspace, started: threading.Event) -> None:
    """Batches of concerns, each polled in one go; the officer closes some earlier cases."""
    for batch in range(BATCHES):
        at = START + timedelta(hours=batch)
        for n in range(PER_BATCH):
            concern(ws, batch * PER_BATCH + n, at + timedelta(minutes=n))
        if batch >= 2:  # cases opened two batches ago: screened out, so closed
            for n in (1, 3):
                reference = f"CC-2026-{(batch - 2) * PER_BATCH + n:04d}"
                ws.email(OFFICER, f"RE: {reference}", f"{reference}\nscreen: operational",
                         at=at + timedelta(minutes=20))
        ws.run(at + timedelta(minutes=30))
        started.set()


def history(directory: Path, file: str) -> list[dict[str, Any]]:
    return list(read_json_lines(directory / file))


def test_backups_taken_during_a_backlog_restore_to_whole_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store.storage, "COMPACT_AT_LEAST", 16_384)  # compactions meanwhile
    ws = Workspace(tmp_path / "ws", START)
    directory = ws.app.config.store.directory
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    started, failures = threading.Event(), []

    def work() -> None:
        try:
            backlog(ws, started)
        except BaseException as err:  # reported below
            failures.append(err)
            started.set()

    writer = threading.Thread(target=work)
    writer.start()
    started.wait(timeout=300)
    taken: list[tuple[Path, Manifest]] = []
    while writer.is_alive() or not taken:
        target = backups / f"store-{len(taken):03d}.tar.gz"
        taken.append((target, write_backup(directory, target, key=None, now=START)))
    writer.join()
    assert not failures, failures

    live = ws.app.store
    live_audit = list(live.audit_entries())
    live_cases = set(live.open_references()) | set(live.closed_references())
    live_outbox = {item["message_id"] for item in live.outbox_pending()}
    assert live.closed_references(), "the backlog closes cases too"
    ws.close()
    live_sent = history(directory, "outbox/sent.jsonl")
    live_seen = history(directory, "seen/seen.jsonl")
    print(f"{len(taken)} backups, audit lines {[m.counts['audit_lines'] for _, m in taken]}")
    assert len({m.counts["audit_lines"] for _, m in taken}) > 1, "backups of different commits"

    for number, (archive, manifest) in enumerate(taken):
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        into = tmp_path / f"restored-{number}"
        restore(archive, into)
        assert stat.S_IMODE(into.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in into.rglob("*")} <= {0o600, 0o700}
        counts = manifest.counts
        with Store(into) as store:  # a writer: it appends what the journal held
            allocated = int(store.counters().get("reference-2026", 0))
            references = set(store.open_references()) | set(store.closed_references())
            # Every case the commit had allocated, open or closed, and no other.
            assert references == {f"CC-2026-{n:04d}" for n in range(1, allocated + 1)}
            assert references <= live_cases
            assert len(store.open_references()) == counts["open_cases"]
            # Every audit line up to the commit, the same as the bot wrote it, none after.
            audit = list(store.audit_entries())
            assert len(audit) == counts["audit_lines"]
            assert audit == live_audit[: len(audit)]
            for entry in audit:
                assert entry.get("reference") in (None, *references)
            # Every letter: sent ones as the bot recorded them, waiting ones sent later.
            pending = {item["message_id"] for item in store.outbox_pending()}
            assert len(pending) == counts["outbox_pending"]
            store.set_meta("restored", True)  # the restored store takes commits
            store.commit()
        sent = history(into, "outbox/sent.jsonl")
        assert len(sent) == counts["letters_sent"] and sent == live_sent[: len(sent)]
        sent_ids = {line["message_id"] for line in live_sent}
        assert pending <= live_outbox | sent_ids
        assert not pending & {line["message_id"] for line in sent}
        seen = history(into, "seen/seen.jsonl")
        assert len(seen) == counts["seen_keys"] and seen == live_seen[: len(seen)]


def test_what_the_bot_does_after_the_freeze_is_not_in_the_backup(tmp_path: Path) -> None:
    """A commit after the backup's moment: a reopened case's archive copy removed, history
    appended, a torn append left by a crash. The backup holds the state before all of it."""
    from bot.store.backup.frozen import Frozen

    directory = tmp_path / "store"
    with Store(directory) as store:
        store.put_case({"reference": "CC-2026-0001", "status": "open", "n": 1})
        store.put_case({"reference": "CC-2026-0002", "status": "open", "n": 2})
        store.audit({"event": "opened", "at": "2026-11-02T09:00:00+00:00"})
        store.commit()
        store.put_case({"reference": "CC-2026-0001", "status": "closed", "n": 1})
        store.audit({"event": "closed", "at": "2026-11-02T10:00:00+00:00"})
        store.commit()
        frozen = Frozen(directory)
        store.put_case({"reference": "CC-2026-0001", "status": "open", "n": 3})  # reopened
        store.put_case({"reference": "CC-2026-0002", "status": "closed", "n": 4})
        store.audit({"event": "after", "at": "2026-11-02T11:00:00+00:00"})
        store.commit()
    with (directory / frozen.reader.committed_files()[-1][1].path).open("ab") as changes:
        changes.write(b'{"c":99,"t":"meta","k":"x","d":{"key":"x"')  # a torn append
    try:
        pieces = {p.name: p.data.read(p.size) for p in frozen.pieces()}
    finally:
        frozen.close()
    assert json.loads(pieces["closed/2026/CC-2026-0001.json"])["n"] == 1
    assert "closed/2026/CC-2026-0002.json" not in pieces
    audit = [json.loads(line)["event"] for line in pieces["audit/2026-11.jsonl"].splitlines()]
    assert audit == ["opened", "closed"]
    assert not (set(pieces) - {"open.json", "audit/2026-11.jsonl", "closed/2026/CC-2026-0001.json"}
                - {name for name in pieces if name.startswith("changes-")})
    assert not list(directory.glob(".backup-*")), "its hard links go when it is closed"


def test_history_the_commit_holds_but_its_files_lack_is_restored(tmp_path: Path) -> None:
    """The bot killed after a commit, before appending its history: the backup holds the
    journal, and the restored store appends the lines when it opens."""
    directory = tmp_path / "store"
    with Store(directory) as store:
        store.audit({"event": "first", "at": "2026-11-02T09:00:00+00:00"})
        store.commit()
        store.audit({"event": "second", "at": "2026-11-02T10:00:00+00:00"})
        store.commit()
    audit_file = directory / "audit" / "2026-11.jsonl"
    first, _ = audit_file.read_bytes().splitlines(keepends=True)
    audit_file.write_bytes(first)  # as if killed before the append
    manifest = write_backup(directory, tmp_path / "b.tar.gz", key=None, now=START)
    assert manifest.counts["audit_lines"] == 2
    restore(tmp_path / "b.tar.gz", tmp_path / "restored")
    with Store(tmp_path / "restored") as restored:
        assert [e["event"] for e in restored.audit_entries()] == ["first", "second"]
    assert len((tmp_path / "restored" / "audit" / "2026-11.jsonl").read_bytes().splitlines()) == 2


def test_a_changed_byte_anywhere_in_the_archive_is_refused(tmp_path: Path) -> None:
    """Down to the tar's zero padding and the gzip trailer, which the tar reader never
    needs; a change there must still fail the whole-file check. A change that leaves every
    decompressed byte the same (an unused Huffman code) is harmless and may restore."""
    import gzip
    import shutil
    import zlib

    from bot.store.backup.unpack import unpack
    from bot.store.errors import BackupError

    directory = tmp_path / "store"
    with Store(directory) as store:
        for n in range(1, 4):
            store.put_case({"reference": f"CC-2026-{n:04d}", "status": "open", "n": n})
        store.audit({"event": "opened", "at": "2026-11-02T09:00:00+00:00"})
        store.commit()
    archive = tmp_path / "b.tar.gz"
    write_backup(directory, archive, key=None, now=START)
    data = archive.read_bytes()
    content = gzip.decompress(data)
    # Every byte of the last 1,200 (padding and trailer), and a sample of the rest.
    tail = len(data) - 1200
    positions = [*range(10, tail, 61), *range(max(tail, 10), len(data))]

    def flipped(position: int) -> bytes:
        return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]

    accepted = []
    for position in positions:
        changed = tmp_path / "changed.tar.gz"
        changed.write_bytes(flipped(position))
        into = tmp_path / "into"
        into.mkdir()
        try:
            unpack(changed, into, key=None)
        except BackupError:
            pass
        else:
            accepted.append(position)
        shutil.rmtree(into)

    def harmless(position: int) -> bool:
        try:
            return gzip.decompress(flipped(position)) == content
        except (OSError, EOFError, zlib.error):
            return False

    assert [p for p in accepted if not harmless(p)] == [], "changed, yet restored"
    assert len(accepted) < len(positions) // 100


def test_a_commit_holds_the_gate_while_it_writes_closed_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a commit writes files outside its changes file, a backup cannot freeze."""
    import fcntl
    import os

    from bot.store.archive import ClosedArchive

    directory = tmp_path / "store"
    held: list[bool] = []
    write = ClosedArchive.write

    def watched(self: ClosedArchive, case: dict[str, Any]) -> None:
        fd = os.open(directory / "commit.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)
        write(self, case)

    monkeypatch.setattr(ClosedArchive, "write", watched)
    with Store(directory) as store:
        store.put_case({"reference": "CC-2026-0001", "status": "closed"})
        store.commit()
    assert held == [True]


def test_commits_between_the_first_links_and_the_freeze_are_caught_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closed cases are linked once while the bot works, then brought up to date while
    commits wait: a case closed and another reopened in between read as at the later commit."""
    from contextlib import contextmanager

    from bot.store.backup.frozen import Frozen
    from bot.store.lock import CommitGate

    directory = tmp_path / "store"
    store = Store(directory)
    store.put_case({"reference": "CC-2026-0001", "status": "open", "n": 1})
    store.put_case({"reference": "CC-2026-0002", "status": "closed", "n": 2})
    store.commit()
    exclusive = CommitGate.exclusive

    @contextmanager
    def after_a_commit(self: CommitGate, timeout: float) -> Any:
        store.put_case({"reference": "CC-2026-0001", "status": "closed", "n": 3})
        store.put_case({"reference": "CC-2026-0002", "status": "open", "n": 4})  # reopened
        store.commit()
        with exclusive(self, timeout):
            yield

    monkeypatch.setattr(CommitGate, "exclusive", after_a_commit)
    frozen = Frozen(directory)
    try:
        names = {p.name: p.data.read(p.size) for p in frozen.pieces()}
    finally:
        frozen.close()
        store.close()
    assert json.loads(names["closed/2026/CC-2026-0001.json"])["n"] == 3
    assert "closed/2026/CC-2026-0002.json" not in names
