"""The store's checkpoint is written when the daemon is idle, not in the middle of a poll."""

from __future__ import annotations

from datetime import datetime

import pytest

import bot.store.storage
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.upkeep.daemon import Cycle


def changes_files(workspace: Workspace) -> list[str]:
    return sorted(p.name for p in workspace.app.store.directory.glob("changes-*.jsonl"))


def test_a_due_checkpoint_waits_for_the_end_of_the_cycle(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON))
    cycle = Cycle(workspace.app)
    cycle()
    before = changes_files(workspace)
    (current,) = before
    size = (workspace.app.store.directory / current).stat().st_size
    # Due at the next commit, and far from twice the bound that makes a commit write it.
    monkeypatch.setattr(bot.store.storage, "COMPACT_AT_LEAST", size)
    workspace.clock.set(datetime(2026, 11, 2, 10, 1, tzinfo=LONDON))
    workspace.app.poll()
    workspace.app.tick()
    assert changes_files(workspace) == before  # committed, not compacted
    cycle()
    (after,) = changes_files(workspace)
    assert after != current
    assert not workspace.app.store.compact_if_due()
