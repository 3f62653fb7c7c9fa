"""Read what a report counts from the store (read-only): the cases' briefs and triage items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.store import Store
from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import CaseFacts, facts_from_brief
from bot.views.reports.figures import CLOSED_MARGIN
from bot.views.reports.intake import TriageFact, triage_fact
from bot.views.reports.period import Period

Progress = Callable[[int, int], None]  # (done, total)
PROGRESS_EVERY = 1000
# The store skips closed cases by the calendar day they closed; the figures judge by the working
# day that counts as (later, after a weekend or a closure): the store keeps a few weeks more, so
# that what it skips is exactly what the figures would leave out. A case received after the
# period is left out either way (its received day is already a working day).
_CALENDAR_SLACK = timedelta(days=31)


def load_cases(
    store: Store, period: Period, days: DayCounter, progress: Progress | None = None
) -> list[CaseFacts]:
    """Open cases, and the closed ones that can have anything in the period, as facts (those
    received after it are left out here, as the figures would leave them out)."""
    facts = [facts_from_brief(brief, days) for brief in store.open_case_briefs(period.end)]
    since = period.start - CLOSED_MARGIN - _CALENDAR_SLACK
    closed_count, closed = store.closed_case_briefs(since, period.end)
    total = len(facts) + closed_count
    done = len(facts)
    if progress:
        progress(done, total)
    for brief in closed:
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
        facts.append(facts_from_brief(brief, days))
    if progress:
        progress(total, total)
    return facts


def load_triage(store: Store, days: DayCounter) -> list[TriageFact]:
    """Items waiting in triage and those resolved, each with its received day."""
    items = [triage_fact(item, days) for item in store.triage_items()]
    items += [triage_fact(line, days) for line in store.triage_resolved() if "item" in line]
    return items
