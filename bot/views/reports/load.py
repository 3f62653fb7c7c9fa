"""Read what a report counts from the store (read-only): the cases and the triage items."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.store import Store
from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts, facts_of
from bot.views.reports.figures import CLOSED_MARGIN
from bot.views.reports.intake import TriageFact, triage_fact
from bot.views.reports.period import Period

Progress = Callable[[int, int], None]  # (done, total)
PROGRESS_EVERY = 1000


def load_cases(
    store: Store, period: Period, days: DayCounter, progress: Progress | None = None
) -> list[CaseFacts]:
    """Open cases, and the closed ones that can have anything in the period, as facts."""
    open_docs = list(store.open_case_documents())
    closed_count, closed_docs = store.closed_case_documents(period.start - CLOSED_MARGIN)
    total = len(open_docs) + closed_count
    facts = [facts_of(json.loads(doc), days) for doc in open_docs]
    done = len(open_docs)
    if progress:
        progress(done, total)
    for doc in closed_docs:
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
        facts.append(facts_of(json.loads(doc), days))
    if progress:
        progress(total, total)
    return facts


def load_triage(store: Store, days: DayCounter) -> list[TriageFact]:
    """Items waiting in triage and those resolved, each with its received day."""
    items = [triage_fact(item, days) for item in store.triage_items()]
    items += [triage_fact(line, days) for line in store.triage_resolved() if "item" in line]
    return items
