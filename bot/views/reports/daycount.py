"""Working days between two dates in O(1), on the deadlines' own calendar (for large stores)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.procedure.workdays import WorkCalendar

_ONE_DAY = timedelta(days=1)
_MARGIN = 400  # days of calendar worked out beyond a date asked for, so growth is rare


class DayCounter:
    """Counts working days exactly as `WorkCalendar` does, from a table built once.

    A year's report over tens of thousands of cases asks hundreds of thousands of times; the
    calendar walks day by day, this looks up a running count of working days instead.
    """

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.close_of_business: time = calendar.close_of_business
        self._first = date.max
        self._running: list[int] = []  # working days from _first up to and including the day
        self._working: list[bool] = []
        # A case's moments repeat (an event sets one deadline and closes another at the same
        # instant, and its timeline entry says so too): remembered by their stored text, and
        # looked up here directly by the reports' tightest loop.
        self.moments: dict[str, date] = {}

    def _extend(self, to: date) -> None:
        day = self._first + timedelta(days=len(self._running))
        count = self._running[-1] if self._running else 0
        while day <= to:
            working = self.calendar.is_working_day(day)
            count += working
            self._working.append(working)
            self._running.append(count)
            day += _ONE_DAY

    def _index(self, day: date) -> int:
        if day < self._first:
            # Start the table earlier (rare: once, or when an older case turns up).
            last = self._first + timedelta(days=len(self._running) - 1) if self._running else day
            self._first = day - timedelta(days=_MARGIN)
            self._running, self._working = [], []
            self._extend(max(last, day + timedelta(days=_MARGIN)))
        at = (day - self._first).days
        if at >= len(self._running):
            self._extend(day + timedelta(days=_MARGIN))
        return at

    def is_working_day(self, day: date) -> bool:
        at = self._index(day)
        return self._working[at]

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (WorkCalendar's count)."""
        if end < start:
            return -self.between(end, start)
        # The earlier day first: only it can rebuild the table; the later one only extends it.
        first = self._index(start)
        last = self._index(end)
        return self._running[last] - self._running[first]

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add(self, start: date, n: int) -> date:
        """The n-th working day after `start` (n = 0: `start` or the next working day)."""
        if n == 0:
            return self.next_working_day(start)
        day = start
        while n:
            day += _ONE_DAY
            n -= self.is_working_day(day)
        return day

    def effective_day_of(self, text: str) -> date:
        """effective_day of a stored ISO time, remembered (the cache is emptied when large)."""
        found = self.moments.get(text)
        if found is None:
            if len(self.moments) > 200_000:
                self.moments.clear()
            found = self.moments[text] = self.effective_day(datetime.fromisoformat(text))
        return found

    def effective_day(self, at: datetime) -> date:
        """The working day a moment counts as (WorkCalendar.effective_day, without the note)."""
        local = at.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.close_of_business:
            return day
        return self.next_working_day(day + _ONE_DAY)
