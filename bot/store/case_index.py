"""Open cases: a slim view of each in memory, the case itself parsed from the store on use."""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime

from bot.procedure.case import Case
from bot.store import Store
from bot.store.case_views import CaseView, DeadlineView, addresses_of, decode, encode, view_of

__all__ = ["CaseIndex", "CaseView", "DeadlineView", "view_of"]

# Parsed cases kept for reuse: the few an email or a tick touches, never all of them.
CACHED_CASES = 64
_LAST = "\U0010ffff"  # sorts after every reference


class CaseIndex:
    """Open cases by reference, which open cases each address takes part in, and when each
    next has a deadline firing.

    Only a slim view of each open case stays in memory, rebuilt at start from the summary the
    store keeps beside each case (a case is read only when its summary is missing or old); a
    case is parsed from the store's copy when it is used. Each change is put to the store
    (which commits once per poll), so the cost of one email does not depend on how many cases
    exist, and a tick looks only at the cases whose next deadline is due.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._views: dict[str, CaseView] = {}
        self._cache: OrderedDict[str, Case] = OrderedDict()
        self.participants: dict[str, set[str]] = {}
        self._addresses: dict[str, set[str]] = {}  # each open case's entries in participants
        self._fires: list[tuple[datetime, str]] = []  # (next firing, reference), sorted
        self._order: dict[str, int] = {}  # each view's place, as `views()` lists them
        self._counter = itertools.count()
        self.reload()

    def reload(self) -> None:
        """Forget changes not yet committed: after the store has rolled back."""
        self._views.clear()
        self._cache.clear()
        self.participants.clear()
        self._addresses.clear()
        self._order.clear()
        fires: list[tuple[datetime, str]] = []
        for reference, summary in self.store.case_summaries():
            found = decode(reference, summary)
            if found is None:
                case = self._parse(reference)
                if case is None:
                    continue
                found = view_of(case), addresses_of(case)
                if not self.store.read_only:  # kept for the next start
                    self.store.put_case_summary(reference, encode(*found))
            view, addresses = found
            self._views[reference] = view
            self._order[reference] = next(self._counter)
            self._index(reference, addresses)
            if view.next_fire is not None:
                fires.append((view.next_fire, reference))
        fires.sort()
        self._fires = fires

    def __len__(self) -> int:
        return len(self._views)

    def open(self) -> Iterator[Case]:
        """Every open case, parsed one at a time (for the views and status, not per email)."""
        for reference in list(self._views):
            case = self._cache.get(reference) or self._parse(reference)
            if case is not None:
                yield case

    def views(self) -> list[CaseView]:
        return list(self._views.values())

    def due(self, now: datetime) -> list[str]:
        """Open cases with a pending deadline firing by `now`, in the order `views()` gives:
        found in the index of firing times, not by looking at every case."""
        end = bisect.bisect_right(self._fires, (now, _LAST))
        due = [reference for _, reference in self._fires[:end]]
        return sorted(due, key=self._order.__getitem__)

    def get(self, reference: str) -> Case | None:
        """The case (open or closed); callers copy it before changing it."""
        if reference in self._views:
            case = self._cache.get(reference)
            if case is not None:
                self._cache.move_to_end(reference)
                return case
            case = self._parse(reference)
            if case is not None:
                self._remember(case)
            return case
        doc = self.store.get_case(reference)
        return Case.model_validate(doc) if doc else None

    def put(self, case: Case) -> None:
        reference = case.reference
        old = self._views.pop(reference, None)
        if old is not None:
            self._unindex(reference, old)
        self._cache.pop(reference, None)
        if case.status != "open":
            self.store.put_case(case.model_dump(mode="json"))
            return
        view, addresses = view_of(case), addresses_of(case)
        self.store.put_case(case.model_dump(mode="json"), encode(view, addresses))
        self._views[reference] = view
        self._order[reference] = next(self._counter)
        self._index(reference, addresses)
        if view.next_fire is not None:
            bisect.insort(self._fires, (view.next_fire, reference))
        self._remember(case)

    @staticmethod
    def addresses(case: Case) -> set[str]:
        return addresses_of(case)

    def _parse(self, reference: str) -> Case | None:
        doc = self.store.open_case_document(reference)
        return Case.model_validate_json(doc) if doc is not None else None

    def _remember(self, case: Case) -> None:
        self._cache[case.reference] = case
        while len(self._cache) > CACHED_CASES:
            self._cache.popitem(last=False)

    def _index(self, reference: str, addresses: set[str]) -> None:
        for address in addresses:
            self.participants.setdefault(address, set()).add(reference)
        self._addresses[reference] = addresses

    def _unindex(self, reference: str, view: CaseView) -> None:
        self._order.pop(reference, None)
        if view.next_fire is not None:
            at = bisect.bisect_left(self._fires, (view.next_fire, reference))
            if at < len(self._fires) and self._fires[at] == (view.next_fire, reference):
                del self._fires[at]
        for address in self._addresses.pop(reference, set()):
            refs = self.participants.get(address)
            if refs is not None:
                refs.discard(reference)
                if not refs:
                    del self.participants[address]
