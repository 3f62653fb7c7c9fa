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
        self._paused_until = float("-inf")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of the CONCURRENT slots for this thread's request; a request this thread makes
        inside its own (a `settled` check) uses the slot it holds."""
        if getattr(self._thread, "slot", False):
            yield
            return
        with self._slots:
            self._thread.slot = True
            try:
                yield
            finally:
                self._thread.slot = False

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
