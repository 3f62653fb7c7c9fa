"""Open cases held in memory as models, written to the store as they change."""

from __future__ import annotations

from collections.abc import Iterator

from bot.procedure.case import Case
from bot.store import Store


class CaseIndex:
    """Open cases by reference, and which open cases each address takes part in.

    Cases are validated once at start-up; each change is put to the store (which commits
    once per poll), so the cost of one email does not depend on how many cases exist.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._open: dict[str, Case] = {}
        self.participants: dict[str, set[str]] = {}
        self.reload()

    def reload(self) -> None:
        """Forget changes not yet committed: after the store has rolled back."""
        self._open.clear()
        self.participants.clear()
        for doc in self.store.open_cases():
            case = Case.model_validate(doc)
            self._open[case.reference] = case
            self._index(case)

    def __len__(self) -> int:
        return len(self._open)

    def open(self) -> Iterator[Case]:
        return iter(list(self._open.values()))

    def get(self, reference: str) -> Case | None:
        case = self._open.get(reference)
        if case is not None:
            return case
        doc = self.store.get_case(reference)
        return Case.model_validate(doc) if doc else None

    def put(self, case: Case) -> None:
        old = self._open.pop(case.reference, None)
        if old is not None:
            self._unindex(old)
        if case.status == "open":
            self._open[case.reference] = case
            self._index(case)
        self.store.put_case(case.model_dump(mode="json"))

    @staticmethod
    def addresses(case: Case) -> set[str]:
        return {case.referrer, *case.participants}

    def _index(self, case: Case) -> None:
        for address in self.addresses(case):
            self.participants.setdefault(address, set()).add(case.reference)

    def _unindex(self, case: Case) -> None:
        for address in self.addresses(case):
            refs = self.participants.get(address)
            if refs is not None:
                refs.discard(case.reference)
                if not refs:
                    del self.participants[address]
