"""A time limit on one call, run in a worker thread, so that no email can hang a poll."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


class TimeLimitExceeded(Exception):
    """The call did not finish within its time limit; its result will never be used."""


@dataclass
class _Call(Generic[R]):
    function: Callable[[], R]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


def _serve(calls: queue.SimpleQueue[_Call[Any] | None]) -> None:
    while True:
        call = calls.get()
        if call is None:
            return
        try:
            call.result = call.function()
        except BaseException as err:  # handed to the caller, who decides
            call.error = err
        call.function = _finished  # not kept: it may hold a large email until the next call
        call.done.set()
        del call


def _finished() -> None:
    return None


class TimeLimited:
    """Runs calls one at a time in a worker thread and waits at most `seconds` for each.

    Python cannot stop a thread, so a call that overruns is abandoned: its worker finishes
    on its own (or never), its result is dropped, and the next call gets a fresh worker.
    Reading mail changes nothing, so an abandoned read cannot leave anything half-done.
    """

    def __init__(self, seconds: float, name: str = "time-limited") -> None:
        self.seconds = seconds
        self.name = name
        self._calls: queue.SimpleQueue[_Call[Any] | None] | None = None

    def run(self, function: Callable[[], R]) -> R:
        if self._calls is None:
            self._calls = queue.SimpleQueue()
            worker = threading.Thread(target=_serve, args=(self._calls,), name=self.name)
            worker.daemon = True  # an abandoned call must not keep the process alive
            worker.start()
        call: _Call[R] = _Call(function)
        self._calls.put(call)
        if not call.done.wait(self.seconds):
            self._calls.put(None)  # that worker stops once (if ever) the call returns
            self._calls = None
            log.error("%s: abandoned a call after %g s", self.name, self.seconds)
            raise TimeLimitExceeded(f"took longer than {self.seconds:g} s")
        if call.error is not None:
            raise call.error
        result: R = call.result
        return result

    def close(self) -> None:
        """Let the worker thread end (it is a daemon thread, so this is only tidiness)."""
        if self._calls is not None:
            self._calls.put(None)
            self._calls = None
