"""Read what a report counts from the store (read-only): the cases and the triage items."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta

from bot.store import Store
from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts, facts_of
from bot.views.reports.figures import CLOSED_MARGIN
from bot.views.reports.intake import TriageFact, triage_fact
from bot.views.reports.period import Period

Progress = Callable[[int, int], None]  # (done, total)
# A closed case's own closing time is the last key of its stored JSON (the model's last field).
_CLOSED_AT = re.compile(rb'"closed_at":"(\d{4}-\d{2}-\d{2})T[^"]*"\}\s*$')
_TAIL = 80
PROGRESS_EVERY = 1000


def closed_before(document: bytes, day: date) -> bool:
    """Whether a stored closed case closed before `day`, read from its tail without parsing.

    Anything unexpected (another layout, no date) says False, so the case is parsed and
    judged properly: skipping is only ever an optimisation.
    """
    match = _CLOSED_AT.search(document[-_TAIL:])
    return match is not None and date.fromisoformat(match[1].decode()) < day


def load_cases(
    store: Store, period: Period, days: DayCounter, progress: Progress | None = None
) -> list[CaseFacts]:
    """Open cases, and the closed ones that can have anything in the period, as facts."""
    open_docs = list(store.open_case_documents())
    closed_count, closed_docs = store.closed_case_documents()
    total = len(open_docs) + closed_count
    cutoff = period.start - CLOSED_MARGIN - timedelta(days=1)
    facts = [facts_of(json.loads(doc), days) for doc in open_docs]
    done = len(open_docs)
    if progress:
        progress(done, total)
    for doc in closed_docs:
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
        if closed_before(doc, cutoff):
            continue
        facts.append(facts_of(json.loads(doc), days))
    if progress:
        progress(total, total)
    return facts


def load_triage(store: Store, days: DayCounter) -> list[TriageFact]:
    """Items waiting in triage and those resolved, each with its received day."""
    items = [triage_fact(item, days) for item in store.triage_items()]
    items += [triage_fact(line, days) for line in store.triage_resolved() if "item" in line]
    return items
