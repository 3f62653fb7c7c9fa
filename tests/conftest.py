"""Shared fixtures: the example council's bot in a workspace on a Europe/London clock."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace

# A Monday, the first working day after the example config's start_date (2026-11-01).
START = datetime(2026, 11, 2, 8, 0, tzinfo=LONDON)

MakeWorkspace = Callable[..., Workspace]


@pytest.fixture(autouse=True)
def thawed_heap() -> Iterator[None]:
    """A daemon cycle freezes the heap it leaves (bot.upkeep.memory.settle_heap); the next
    test starts with it thawed, so one test's objects are never kept from the collector."""
    yield
    gc.unfreeze()


@pytest.fixture
def make_workspace(tmp_path: Path) -> Iterator[MakeWorkspace]:
    """Build workspaces in tmp_path, each with an explicit London start time; close them all."""
    opened: list[Workspace] = []

    def make(start: datetime, *, shadow: bool = False) -> Workspace:
        if start.tzinfo is not LONDON:
            raise ValueError("give the start as a Europe/London aware datetime")
        ws = Workspace(tmp_path / f"workspace-{len(opened)}", start, shadow=shadow)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture
def workspace(make_workspace: MakeWorkspace) -> Workspace:
    """The example config's bot, its clock at 08:00 on Monday 2 November 2026 (London)."""
    return make_workspace(START)


@pytest.fixture(scope="module")
def downloads() -> Iterator[Path]:
    """Where a browser test module's Chromium saves what it downloads."""
    from backends.browser import download_folder

    with download_folder() as folder:
        yield folder


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    """One headless Chromium per browser test module (skipped, or under CI=true failed,
    where Debian's chromium and chromium-driver are missing)."""
    from backends.browser import chromium

    with chromium(downloads) as driver:
        yield driver
