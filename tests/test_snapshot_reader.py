"""Readers beside the bot: snapshots taken in a loop while it works through a backlog see whole
commits only, never block it, and never take its lock."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backends.concerns import concern

import bot.store.storage
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.procedure.case import Case
from bot.store import Store
from bot.store.case_views import addresses_of, encode, view_of

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
BATCHES, PER_BATCH = 6, 5


def check(snapshot: Store, seen: dict[str, Any]) -> None:
    """What holds at every commit the bot makes; half a commit would break one of them."""
    counters = snapshot.counters()
    allocated = int(counters.get("reference-2026", 0))
    references = set(snapshot.open_references()) | set(snapshot.closed_references())
    # Each reference is allocated in the same commit as the case it names.
    assert references == {f"CC-2026-{n:04d}" for n in range(1, allocated + 1)}
    summaries = dict(snapshot.case_summaries())
    for doc in snapshot.open_cases():
        case = Case.model_validate(doc)
        # The summary is written beside the case, in the same commit.
        assert summaries[case.reference] == encode(view_of(case), addresses_of(case))
    for entry in snapshot.audit_entries():
        assert entry.get("reference") in (None, *references)
    for name, value in counters.items():  # a later snapshot never goes back
        assert value >= seen.get(name, 0)
    seen.update(counters)


def test_readers_in_a_loop_see_whole_commits_while_the_bot_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store.storage, "COMPACT_AT_LEAST", 16_384)  # compactions meanwhile
    ws = Workspace(tmp_path / "ws", START)
    directory = ws.app.config.store.directory
    done = threading.Event()
    failures: list[BaseException] = []
    snapshots = [0, 0]  # fresh snapshots, refreshes that moved on

    def work() -> None:
        try:
            for batch in range(BATCHES):
                at = START + timedelta(hours=batch)
                for n in range(PER_BATCH):
                    concern(ws, batch * PER_BATCH + n, at + timedelta(minutes=n))
                ws.run(at + timedelta(minutes=30))
        except BaseException as err:  # reported by the test below
            failures.append(err)
        finally:
            done.set()

    def read() -> None:
        seen: dict[str, Any] = {}
        try:
            with Store.open_snapshot(directory) as kept:
                while not done.is_set():
                    with Store.open_snapshot(directory) as fresh:
                        check(fresh, {})
                    snapshots[0] += 1
                    if kept.refresh():
                        snapshots[1] += 1
                        check(kept, seen)
        except BaseException as err:
            failures.append(err)

    writer, reader = threading.Thread(target=work), threading.Thread(target=read)
    reader.start()
    writer.start()
    writer.join(timeout=300)
    reader.join(timeout=60)
    ws.close()
    assert not failures, failures
    assert snapshots[0] >= 10 and snapshots[1] >= 3, snapshots
    with Store.open_snapshot(directory) as final:
        check(final, {})
        assert len(final.open_references()) == BATCHES * PER_BATCH
        assert sorted(path.name for path in directory.glob("changes-*.jsonl")) != [
            "changes-1.jsonl"
        ]  # compactions happened while readers read
