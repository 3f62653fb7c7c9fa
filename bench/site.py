"""Seeded stores made once per size, and a bot workspace on a fresh copy of one for each run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import bot.handling.send
from bench.library import Library, build_library
from bench.seed import OpenCase, link_copy, seed_closed, seed_open
from bot.clock import LONDON
from bot.demo.harness import PROJECT, MailServer, Workspace

# A Monday after the morning runs: the bot's clock for every measurement.
NOW = datetime(2027, 6, 14, 9, 30, tzinfo=LONDON)


class Seeds:
    """Pristine stores under `root`, one per (open, closed) size, link-copied for each use."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.seed = seed
        self._library: Library | None = None
        self.seconds: dict[str, float] = {}  # how long each seeding took

    def library(self) -> Library:
        path = self.root / "library.json"
        if self._library is None:
            if path.exists():
                self._library = Library.load(path)
            else:
                self._library = build_library(self.root / "library-workspace")
                self._library.save(path)
        return self._library

    def _closed(self, count: int) -> Path:
        path = self.root / f"closed-{count}"
        if not path.exists():
            import time

            started = time.perf_counter()
            smaller = sorted(
                int(p.name.split("-")[1]) for p in self.root.glob("closed-*") if p.is_dir()
            )
            base = max((n for n in smaller if n < count), default=0)
            work = self.root / f".closed-{count}"
            if base:
                link_copy(self._closed(base), work)
            seed_closed(work, self.library(), count - base, now=NOW, seed=self.seed + count)
            work.rename(path)
            self.seconds[f"closed {count}"] = time.perf_counter() - started
        return path

    def store(self, open_cases: int, closed_cases: int) -> tuple[Path, list[OpenCase]]:
        folder = self.root / f"store-{open_cases}-{closed_cases}"
        if not folder.exists():
            import time

            base = self._closed(closed_cases)
            started = time.perf_counter()
            work = self.root / f".store-{open_cases}-{closed_cases}"
            work.mkdir()
            link_copy(base, work / "store")
            cases = seed_open(
                work / "store", self.library(), open_cases, now=NOW, seed=self.seed + open_cases
            )
            (work / "cases.json").write_text(json.dumps([asdict(c) for c in cases]))
            work.rename(folder)
            self.seconds[f"open {open_cases}"] = time.perf_counter() - started
        data = json.loads((folder / "cases.json").read_text())
        return folder / "store", [OpenCase(**c) for c in data]


@contextmanager
def site(
    seeds: Seeds, root: Path, open_cases: int, closed_cases: int, server: MailServer | None = None
) -> Iterator[tuple[Workspace, list[OpenCase]]]:
    """The bot over a fresh copy of a seeded store, its clock at NOW, the day's runs done."""
    pristine, cases = seeds.store(open_cases, closed_cases)
    (root / "var").mkdir(parents=True)
    link_copy(pristine, root / "var" / "store")
    ws = Workspace(root, NOW, server=server)
    try:
        ws.app.once()  # today's digests and the first run's setup: not measured
        _settle_heap()
        yield ws, cases
    finally:
        ws.close()


def _settle_heap() -> None:
    """As the daemon does after each cycle (bot.upkeep.memory); an older bot (`--before`)
    has nothing of the kind, and its daemon did not do it."""
    try:
        from bot.upkeep.memory import settle_heap
    except ImportError:
        return
    settle_heap()


@contextmanager
def graph_server(root: Path) -> Iterator[Any]:
    """The tests' fake Microsoft Graph (tests/backends) on a loopback port, in a process of
    its own as the real one is: the bot's interpreter runs only the bot."""
    tests = str(PROJECT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from bench.graph_remote import remote_graph

    with remote_graph(root) as server:
        yield server


@dataclass
class Split:
    """Seconds spent inside one function of the bot during the timed calls, and its calls."""

    seconds: float = 0.0
    calls: int = 0


@contextmanager
def _timing(module: Any, name: str) -> Iterator[Split]:
    """Time every call of `module.name` while the block runs (nothing, if it has none)."""
    import time

    split = Split()
    real: Callable[..., Any] | None = getattr(module, name, None)
    if real is None:
        yield split
        return
    original: Callable[..., Any] = real

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            split.seconds += time.perf_counter() - started
            split.calls += 1

    setattr(module, name, timed)
    try:
        yield split
    finally:
        setattr(module, name, original)


def delivery_timer() -> AbstractContextManager[Split]:
    """Time bot.handling.send.deliver, so a poll's letters can be reported apart from its intake."""
    return _timing(bot.handling.send, "deliver")


def pdf_timer() -> AbstractContextManager[Split]:
    """Time the PDF letters rendered inside the timed calls (WeasyPrint's layout), so intake
    can be reported with and without them. Older bots without PDF letters time nothing."""
    try:
        import bot.letters.document as document
    except ImportError:
        return _timing(None, "render_pdf")
    return _timing(document, "render_pdf")
