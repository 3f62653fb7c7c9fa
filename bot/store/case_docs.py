"""Cases in the store: open ones in the tables (with a small summary each), closed ones archived."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from bot.store.archive import check_reference
from bot.store.brief import brief_text
from bot.store.core import StoreCore
from bot.store.files import json_bytes, json_copy, load_json
from bot.store.segments import DocRef, encoded

# How a case's JSON begins when its model wrote it: the two fields put_case needs to know.
_HEAD = re.compile(rb'\{"reference":"([^"\\]*)","status":"(open|closed)"')


class CaseDocs(StoreCore):
    """Open cases are kept as their JSON, read from disk only when used; beside each, a
    summary its owner (the case index) chose, so an index is rebuilt without reading cases,
    and the case's brief for reports (bot.store.brief)."""

    def open_cases(self) -> list[dict[str, Any]]:
        return [load_json(doc) for doc in self.open_case_documents()]

    def open_case_documents(self) -> Iterator[bytes]:
        """Each open case as its stored JSON, oldest first: parsed only by whoever needs it."""
        return (encoded(doc) for doc in self._cases.values())

    def open_case_document(self, reference: str) -> bytes | None:
        """An open case's stored JSON, or None if it is not open."""
        doc = self._cases.get(reference)
        return None if doc is None else encoded(doc)

    def will_read_cases(self, references: Iterable[str]) -> None:
        """The open cases about to be read, one after another (a tick's cases due): their
        stored JSON is read from the disk side by side, ahead of them."""
        for reference in references:
            doc = self._cases.get(reference)
            if isinstance(doc, DocRef):
                doc.will_need()

    def open_case_versions(self) -> Iterator[tuple[str, Hashable]]:
        """(reference, version) of each open case: a version equal to one seen before means
        the same stored JSON, so a reader keeping summaries reads only the cases that changed
        (a different version may still hold the same bytes, after a compaction)."""
        for reference, doc in self._cases.docs.items():
            yield (
                reference,
                doc.version() if isinstance(doc, DocRef) else hashlib.sha256(doc).digest(),
            )

    def open_references(self) -> list[str]:
        """The open cases' references, oldest first."""
        return list(self._cases)

    def case_summaries(self) -> Iterator[tuple[str, Any]]:
        """(reference, its summary or None) for each open case, oldest first; not copies:
        callers only read them."""
        summaries = self._summaries
        for reference in self._cases:
            doc = summaries.get(reference)
            yield reference, None if doc is None else doc.get("summary")

    def get_case(self, reference: str) -> dict[str, Any] | None:
        doc = self.open_case_document(reference)
        if doc is not None:
            return dict(load_json(doc))
        staged = self._staged_closed.get(reference)
        if staged is not None:
            return copy.deepcopy(staged)
        try:
            return self._archive.read(reference)
        except ValueError:
            return None

    def put_case(
        self, case: dict[str, Any] | bytes, summary: Any = None, *, brief: str | None = None
    ) -> None:
        """Stage a case, as a dict or as its JSON (the model writes that itself, faster);
        an open one with `summary` (plain JSON), or None to drop the old one.

        `brief`, given with an open case's JSON as its model wrote it (`model_brief_text`),
        spares reading that JSON back: a case is some 15 KB, and reading it again was a
        tenth of a tick's time."""
        if isinstance(case, bytes) and brief is not None:
            head = _HEAD.match(case)
            if head is not None and head[2] == b"open":
                reference = check_reference(head[1].decode())
                self._stage("save a case")
                self._put_open(reference, case, summary, brief)
                return
        encoded = case if isinstance(case, bytes) else None
        if isinstance(case, bytes):
            case = load_json(case)
            if not isinstance(case, dict):
                raise TypeError("a case must be a JSON object")
        reference = check_reference(case.get("reference"))
        if case.get("status") not in ("open", "closed"):
            raise ValueError(f"case {reference}: status must be 'open' or 'closed'")
        self._stage("save a case")
        # The reference first, so the checkpoint finds each case's without parsing it.
        if encoded is not None and encoded.startswith(b'{"reference":'):
            doc = encoded
        else:
            doc = json_bytes({"reference": reference, **case}, f"case {reference}")
        if case["status"] == "closed":
            self._cases.remove(reference)
            self._summaries.remove(reference)
            self._maybe_archived.discard(reference)
            # Our own copy: read from the JSON just now, or else read again from it.
            self._staged_closed[reference] = case if encoded is not None else load_json(doc)
            return
        self._put_open(reference, doc, summary, brief_text(case))

    def _put_open(self, reference: str, doc: bytes, summary: Any, brief: str | None) -> None:
        if reference not in self._cases:
            # Possibly a reopened case: its archive copy goes once the commit holds it.
            self._maybe_archived.add(reference)
        self._staged_closed.pop(reference, None)
        self._cases.put(reference, doc)
        self._put_beside(reference, summary, brief)

    def kept_brief(self, reference: str) -> str | None:
        """The brief kept beside an open case, as staged (see bot.store.brief)."""
        held = self._summaries.get(reference)
        brief = held.get("brief") if held is not None else None
        return brief if isinstance(brief, str) else None

    def put_case_summary(self, reference: str, summary: Any) -> None:
        """Stage an open case's summary (None drops it); its brief stays."""
        self._stage("save a case summary")
        held = self._summaries.get(reference)
        self._put_beside(reference, summary, held.get("brief") if held is not None else None)

    def _put_beside(self, reference: str, summary: Any, brief: str | None) -> None:
        """What is kept beside an open case: one document with its summary and its brief."""
        doc: dict[str, Any] = {"reference": reference}
        if summary is not None:
            doc["summary"] = json_copy(summary, f"the summary of case {reference}")
        if brief is not None:
            doc["brief"] = brief  # JSON text: opening the store does not build it
        if len(doc) > 1 and reference in self._cases:
            self._summaries.put(reference, doc)
        else:
            self._summaries.remove(reference)

    def closed_references(self) -> list[str]:
        closed = self._archive.references() | set(self._staged_closed)
        return sorted(ref for ref in closed if ref not in self._cases)

    def next_reference(self, year: int) -> str:
        self._stage("allocate a case reference")
        return f"CC-{year:04d}-{self._meta.next_number(f'reference-{year:04d}'):04d}"
