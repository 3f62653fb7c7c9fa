"""Reading the briefs of cases for reports: kept beside open cases and in the archive's index."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

from bot.store.archive import read_closed_since
from bot.store.brief import (
    Brief,
    brief_of,
    brief_text,
    is_current,
    read_brief,
    received_after,
)
from bot.store.case_docs import CaseDocs
from bot.store.errors import StoreError
from bot.store.files import load_json
from bot.store.segments import encoded

log = logging.getLogger(__name__)


class CaseBriefs(CaseDocs):
    """Each case's brief, read from where the store keeps it, or made from the case itself
    when there is none (a store from before briefs, a crash between an archive file and its
    index line): a missing brief costs time, never a figure."""

    def _complete(self) -> None:
        """Open cases of a store from before briefs (or of another version) get theirs at the
        writer's first start."""
        made = 0
        summaries = self._summaries
        for reference in [
            r for r in self._cases if not is_current((summaries.get(r) or {}).get("brief"))
        ]:
            try:
                brief = brief_text(load_json(encoded(self._cases.get(reference))))
            except ValueError:  # a damaged case: its readers say so, the start does not fail
                continue
            if brief is not None:
                held = self._summaries.get(reference)
                self._put_beside(reference, held.get("summary") if held else None, brief)
                made += 1
        if made:
            self._dirty = True
            self.commit()
            log.info("store: kept the brief of %d open cases for reports", made)

    def open_case_briefs(self, received_by: date | None = None) -> Iterator[Brief]:
        """The brief of each open case, oldest first; with `received_by`, only of those
        received by that day (the others are passed over, their briefs unread)."""
        summaries = self._summaries
        last = received_by.isoformat() if received_by is not None else None
        for reference, doc in self._cases.docs.items():
            held = summaries.get(reference)
            text = held.get("brief") if held is not None else None
            if last is not None and text and received_after(text, last):
                continue
            brief = read_brief(text)
            if brief is None or brief[2] != reference:
                brief = brief_of(load_json(encoded(doc)))
                if last is not None and str(brief[1]) > last:
                    continue
            yield brief

    def closed_case_briefs(
        self, closed_since: date | None = None, received_by: date | None = None
    ) -> tuple[int, Iterator[Brief]]:
        """How many closed cases there are, and the brief of each. Reports go through tens of
        thousands and need those that can touch their period: with `closed_since`, a case the
        index shows closed before that (calendar) day is skipped unread, and with
        `received_by` one received after it (a case the index lacks is read and yielded)."""
        files = [
            (ref, path)
            for ref, path in self._archive.files()
            if ref not in self._cases and ref not in self._staged_closed
        ]
        index = self._archive.index(closed_since, received_by)

        def briefs() -> Iterator[Brief]:
            for reference, path in files:
                if reference in index:
                    text = index[reference]
                    if text is None:
                        continue  # closed before the days asked for, or received after them
                    brief = read_brief(text)
                    if brief is not None and brief[2] == reference:
                        yield brief
                        continue
                try:
                    document = read_closed_since(path, closed_since)
                except OSError as exc:
                    raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
                if document is not None:
                    yield brief_of(load_json(document))
            for case in self._staged_closed.values():
                yield brief_of(case)

        return len(files) + len(self._staged_closed), briefs()
