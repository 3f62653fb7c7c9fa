"""Open cases: a slim view of each in memory, the case itself parsed from the store on use."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, datetime
from typing import NamedTuple

from bot.procedure.case import Case
from bot.store import Store

# Parsed cases kept for reuse: the few an email or a tick touches, never all of them.
CACHED_CASES = 64


class DeadlineView(NamedTuple):
    """What the digest needs of a deadline still open (pending, or fired with no event)."""

    name: str
    step: str
    title: str
    due: date
    status: str
    event: str | None
    remind: str | None


class CaseView(NamedTuple):
    """What the tick and the digest need of an open case, without parsing it."""

    reference: str
    officer_id: str | None
    provider_id: str | None
    next_fire: datetime | None  # the earliest pending deadline's firing time
    deadlines: tuple[DeadlineView, ...]
    stage: str = ""


def view_of(case: Case) -> CaseView:
    pending = [d.fires_at for d in case.deadlines if d.status == "pending"]
    live = tuple(
        DeadlineView(d.name, d.step, d.title, d.due, d.status, d.event, d.remind)
        for d in case.deadlines
        if d.status == "pending" or (d.status == "fired" and not d.event)
    )
    return CaseView(
        case.reference,
        case.officer_id,
        case.provider_id,
        min(pending, default=None),
        live,
        case.stage,
    )


class CaseIndex:
    """Open cases by reference, and which open cases each address takes part in.

    Only a slim view of each open case stays in memory (memory and a tick stay small with
    thousands of open cases); a case is parsed from the store's copy when it is used. Each
    change is put to the store (which commits once per poll), so the cost of one email does
    not depend on how many cases exist.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._views: dict[str, CaseView] = {}
        self._cache: OrderedDict[str, Case] = OrderedDict()
        self.participants: dict[str, set[str]] = {}
        self._addresses: dict[str, set[str]] = {}  # each open case's entries in participants
        self.reload()

    def reload(self) -> None:
        """Forget changes not yet committed: after the store has rolled back."""
        self._views.clear()
        self._cache.clear()
        self.participants.clear()
        self._addresses.clear()
        for doc in self.store.open_case_documents():
            case = Case.model_validate_json(doc)  # every case is validated at start-up
            self._views[case.reference] = view_of(case)
            self._index(case.reference, self.addresses(case))

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
        """Open cases with a pending deadline firing by `now`, in the order `open()` gives."""
        return [
            view.reference
            for view in self._views.values()
            if view.next_fire is not None and view.next_fire <= now
        ]

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
            self._unindex(reference)
        self._cache.pop(reference, None)
        self.store.put_case(case.model_dump(mode="json"))
        if case.status == "open":
            self._views[reference] = view_of(case)
            self._index(reference, self.addresses(case))
            self._remember(case)

    @staticmethod
    def addresses(case: Case) -> set[str]:
        return {case.referrer, *case.participants}

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

    def _unindex(self, reference: str) -> None:
        for address in self._addresses.pop(reference, set()):
            refs = self.participants.get(address)
            if refs is not None:
                refs.discard(reference)
                if not refs:
                    del self.participants[address]
