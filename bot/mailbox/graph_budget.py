"""A request budget per rolling window, so a backlog never runs the bot into Graph's throttling."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

# Graph allows 10,000 requests per 10 minutes per app per mailbox; staying well below leaves
# room for retries and for an administrator's own tools on the same app registration.
DEFAULT_LIMIT = 6000
WINDOW_SECONDS = 600.0


class RequestBudget:
    """At most `limit` requests in any `window` seconds: a request over budget waits.

    Time comes from `monotonic` (never the wall clock, which can jump) and waiting from
    `sleep`; both are injected so tests can run a backlog without waiting.
    """

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = WINDOW_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a request budget needs a positive limit and window")
        self.limit = limit
        self.window = window
        self.monotonic = monotonic
        self.sleep = sleep
        self.spent: deque[float] = deque()
        self.waited = 0.0  # seconds spent waiting for the budget, for logs and benchmarks
        self._last = float("-inf")
        # One thread at a time: a thread that waits for the budget holds the others back too.
        self._lock = threading.Lock()

    def spend(self) -> None:
        """Take one request from the budget, waiting first when the window is full."""
        with self._lock:
            self._spend()

    def _spend(self) -> None:
        # Never earlier than the last request: a stopped clock must not refill the budget.
        now = max(self.monotonic(), self._last)
        self._expire(now)
        if len(self.spent) >= self.limit:
            wait = self.spent[0] + self.window - now
            log.info(
                "Graph request budget spent (%d in %.0f s): waiting %.1f s",
                self.limit,
                self.window,
                wait,
            )
            self.sleep(wait)
            self.waited += wait
            now += wait
            self._expire(now)
        self.spent.append(now)
        self._last = now

    def _expire(self, now: float) -> None:
        while self.spent and self.spent[0] <= now - self.window:
            self.spent.popleft()

    def peak(self) -> int:
        """Requests in the current window."""
        return len(self.spent)
