"""After each daemon cycle the long-lived heap is frozen, and garbage is still collected."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timedelta

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.upkeep.daemon import Cycle
from bot.upkeep.memory import settle_heap


class Node:
    """Something that can take part in a reference cycle (only the collector frees those)."""

    def __init__(self) -> None:
        self.other: Node | None = None


def garbage_cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_settling_collects_the_garbage_first_then_freezes_what_lives_on() -> None:
    gc.unfreeze()
    dropped = garbage_cycle()
    kept = Node()
    settle_heap()
    assert dropped() is None  # collected, not frozen
    assert gc.get_freeze_count() > 0 and gc.is_tracked(kept)


def test_a_cycle_among_frozen_objects_waits_for_the_thorough_sweep() -> None:
    gc.unfreeze()
    first, second = Node(), Node()
    first.other, second.other = second, first
    ref = weakref.ref(first)
    settle_heap()
    del first, second  # now garbage, but frozen: an ordinary sweep does not look at it
    gc.collect()
    assert ref() is not None
    settle_heap(thorough=True)
    assert ref() is None


def test_a_daemon_cycle_settles_the_heap_and_sweeps_it_whole_on_a_new_day(
    workspace: Workspace,
) -> None:
    gc.unfreeze()
    cycle = Cycle(workspace.app)
    monday = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
    workspace.clock.set(monday)
    cycle()
    assert gc.get_freeze_count() > 0
    first, second = Node(), Node()
    first.other, second.other = second, first
    ref = weakref.ref(first)
    workspace.clock.set(monday + timedelta(minutes=1))
    cycle()  # frozen with the rest
    del first, second
    workspace.clock.set(monday + timedelta(minutes=2))
    cycle()
    assert ref() is not None  # the same day: only what is new is swept
    workspace.clock.set(monday + timedelta(days=1))
    cycle()
    assert ref() is None
