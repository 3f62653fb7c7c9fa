"""Open cases: a slim view of each in memory, the case itself parsed from the store on use."""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.store import Store
from bot.store.brief import Brief, model_brief_text, read_brief
from bot.store.case_views import (
    SUMMARY_VERSION,
    CaseView,
    DeadlineView,
    addresses_of,
    decode,
    encode,
    view_of,
)

if TYPE_CHECKING:
    from bot.procedure.case import Case

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
    exist, and a tick looks only at the cases whose next deadline is due: the firing times
    are kept sorted. A summary is decoded into a view when first asked for, and the index of
    addresses is built when mail is first read: a reader listing cases needs neither.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._views: dict[str, CaseView | dict[str, Any]] = {}  # a view, or its summary
        self._cache: OrderedDict[str, Case] = OrderedDict()
        self._addresses: dict[str, list[str] | set[str]] = {}  # each open case's addresses
        self._participants: dict[str, set[str]] | None = None
        self._fire_at: dict[str, float] = {}  # next firing, as a POSIX timestamp
        self._fires: list[tuple[float, str]] = []  # (next firing, reference), sorted
        self._order: dict[str, int] = {}  # each view's place, as `views()` lists them
        self._counter = itertools.count()
        self.reload()

    def reload(self) -> None:
        """Forget changes not yet committed: after the store has rolled back."""
        self._views.clear()
        self._cache.clear()
        self._addresses.clear()
        self._participants = None
        self._fire_at.clear()
        self._order.clear()
        for reference, summary in self.store.case_summaries():
            if not _usable(summary):
                case = self._parse(reference)
                if case is None:
                    continue
                summary = encode(view_of(case), addresses_of(case))
                if not self.store.read_only:  # kept for the next start
                    self.store.put_case_summary(reference, summary)
            self._views[reference] = summary
            self._order[reference] = next(self._counter)
            self._addresses[reference] = summary["addresses"]
            if summary["fires"]:
                self._fire_at[reference] = datetime.fromisoformat(summary["fires"]).timestamp()
        self._fires = sorted((at, reference) for reference, at in self._fire_at.items())

    def __len__(self) -> int:
        return len(self._views)

    @property
    def participants(self) -> dict[str, set[str]]:
        """Address -> the open cases it takes part in (built when first asked for)."""
        if self._participants is None:
            found: dict[str, set[str]] = {}
            for reference, addresses in self._addresses.items():
                for address in addresses:
                    found.setdefault(address, set()).add(reference)
            self._participants = found
        return self._participants

    def open(self) -> Iterator[Case]:
        """Every open case, parsed one at a time (for the views and status, not per email)."""
        for reference in list(self._views):
            case = self._cache.get(reference) or self._parse(reference)
            if case is not None:
                yield case

    def views(self) -> list[CaseView]:
        return [self._view(reference) for reference in list(self._views)]

    def due(self, now: datetime) -> list[str]:
        """Open cases with a pending deadline firing by `now`, in the order `views()` gives:
        found in the sorted firing times, not by looking at every case."""
        end = bisect.bisect_right(self._fires, (now.timestamp(), _LAST))
        return sorted((ref for _, ref in self._fires[:end]), key=self._order.__getitem__)

    def will_get(self, references: list[str]) -> None:
        """The cases about to be got one after another: those not held parsed are read
        from the disk ahead, side by side."""
        self.store.will_read_cases(r for r in references if r not in self._cache)

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
        return _model().model_validate(doc) if doc else None

    def take(self, reference: str) -> Case | None:
        """The case, the caller's own to change: no longer held parsed here, so no one else
        sees it (a tick changes each case due in place rather than copying it)."""
        case = self.get(reference)
        self._cache.pop(reference, None)
        return case

    def put(self, case: Case) -> None:
        reference = case.reference
        if self._views.pop(reference, None) is not None:
            self._unindex(reference)
        self._cache.pop(reference, None)
        # As JSON written by the model itself: a third of the time of a dict and json.dumps.
        if case.status != "open":
            self.store.put_case(_case_json(case))
            return
        view, addresses = view_of(case), addresses_of(case)
        # Before the JSON: writing it takes the entries noted since into the unread timeline.
        brief = model_brief_text(case, self._kept_brief(case))
        self.store.put_case(_case_json(case), encode(view, addresses), brief=brief)
        self._views[reference] = view
        self._order[reference] = next(self._counter)
        self._index(reference, addresses)
        if view.next_fire is not None:
            self._fire_at[reference] = at = view.next_fire.timestamp()
            bisect.insort(self._fires, (at, reference))
        self._remember(case)

    @staticmethod
    def addresses(case: Case) -> set[str]:
        return addresses_of(case)

    def _view(self, reference: str) -> CaseView:
        held = self._views[reference]
        if isinstance(held, CaseView):
            return held
        view = decoded[0] if (decoded := decode(reference, held)) else None
        if view is None:  # a summary that does not read: the case itself, then
            case = self._parse(reference)
            view = view_of(case) if case else CaseView(reference, None, None, None, ())
        self._views[reference] = view
        return view

    def _kept_brief(self, case: Case) -> Brief | None:
        """The brief kept with the case as last written, when its timeline is still unread
        (else it is not needed); None when it is missing or not this case's."""
        if not case.timeline_unread:
            return None
        kept = read_brief(self.store.kept_brief(case.reference))
        return kept if kept is not None and kept[2] == case.reference else None

    def _parse(self, reference: str) -> Case | None:
        doc = self.store.open_case_document(reference)
        return _read_case(doc) if doc is not None else None

    def _remember(self, case: Case) -> None:
        self._cache[case.reference] = case
        while len(self._cache) > CACHED_CASES:
            self._cache.popitem(last=False)

    def _index(self, reference: str, addresses: set[str]) -> None:
        self._addresses[reference] = addresses
        if self._participants is not None:
            for address in addresses:
                self._participants.setdefault(address, set()).add(reference)

    def _unindex(self, reference: str) -> None:
        self._order.pop(reference, None)
        at = self._fire_at.pop(reference, None)
        if at is not None:
            place = bisect.bisect_left(self._fires, (at, reference))
            if place < len(self._fires) and self._fires[place] == (at, reference):
                del self._fires[place]
        addresses = self._addresses.pop(reference, ())
        if self._participants is not None:
            for address in addresses:
                refs = self._participants.get(address)
                if refs is not None:
                    refs.discard(reference)
                    if not refs:
                        del self._participants[address]


def _usable(summary: Any) -> bool:
    """A summary of this version, with what the index reads at start in the right shape."""
    return (
        isinstance(summary, dict)
        and summary.get("v") == SUMMARY_VERSION
        and isinstance(summary.get("addresses"), list)
        and isinstance(summary.get("fires"), str | None)
    )


def _read_case(doc: bytes) -> Case:
    # Imported when a case is first parsed, as the model is (below).
    from bot.procedure.stored_case import read_case

    return read_case(doc)


def _case_json(case: Case) -> bytes:
    from bot.procedure.stored_case import case_json

    return case_json(case)


def _model() -> type[Case]:
    # Imported when a case is first parsed: listing open cases from their summaries (the
    # `cases` command) never builds the case model.
    from bot.procedure.case import Case

    return Case
