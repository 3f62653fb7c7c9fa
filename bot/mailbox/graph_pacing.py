"""Graph's limits per mailbox kept by every thread at once: four requests in flight, and a
Retry-After that holds all of them back, not only the one that was told."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Graph serves at most four requests at once per app and mailbox; more are refused with 429.
CONCURRENT = 4


class Pacing:
    """Slots for requests in flight and a shared pause, on an injected clock and sleep."""

    def __init__(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self._slots = threading.BoundedSemaphore(CONCURRENT)
        self._thread = threading.local()
        self._lock = threading.Lock()
        self._whole = threading.Lock()  # one thread at a time gathers every slot
        self._paused_until = float("-inf")
        self.busy = 0  # slots held now
        self.peak = 0  # the most held at once: requests in flight at Graph, for benchmarks

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of the CONCURRENT slots for this thread's request; a request this thread makes
        inside its own (a `settled` check) uses the slot it holds."""
        if getattr(self._thread, "slot", False):
            yield
            return
        with self._slots:
            self._thread.slot = True
            self._held(1)
            try:
                yield
            finally:
                self._held(-1)
                self._thread.slot = False

    def _held(self, change: int) -> None:
        with self._lock:
            self.busy += change
            self.peak = max(self.peak, self.busy)

    @contextmanager
    def all_slots(self) -> Iterator[None]:
        """Every slot, for a batch whose requests run CONCURRENT at once at Graph's end."""
        with self._whole:
            taken = 0
            try:
                while taken < CONCURRENT:
                    self._slots.acquire()
                    taken += 1
                self._thread.slot = True
                self._held(taken)
                yield
            finally:
                if self._thread.slot:
                    self._held(-taken)
                self._thread.slot = False
                for _ in range(taken):
                    self._slots.release()

    def wait(self) -> None:
        """Sleep out a Retry-After another thread was given; each thread sleeps each once."""
        with self._lock:
            until = self._paused_until
        left = until - self.monotonic()
        if left > 0 and until > getattr(self._thread, "slept_until", float("-inf")):
            self._thread.slept_until = until
            self.sleep(left)

    def pause_all(self, seconds: float) -> None:
        """Hold every thread's next request back for `seconds`; this thread sleeps them now."""
        with self._lock:
            until = self._paused_until = max(self._paused_until, self.monotonic() + seconds)
        self._thread.slept_until = until
        self.sleep(seconds)
