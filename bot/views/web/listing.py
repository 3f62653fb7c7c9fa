"""The case list's filters, search, sorting and pages, as plain functions of the summaries."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.views.web.summary import CaseSummary, Judge, Standing

PAGE_SIZE = 50
SORTS = ("due", "reference", "provider", "officer", "stage", "opened")
STATUSES = ("open", "closed", "all")


@dataclass(frozen=True)
class Filters:
    """What the person asked to see; kept on the server, never in the address (a search may
    hold a name or words of a concern)."""

    status: str = "open"
    stage: str = ""
    officer: str = ""
    provider: str = ""
    overdue: bool = False
    due_this_week: bool = False
    words: str = ""
    mine: bool = False

    def any(self) -> bool:
        return self != Filters(status=self.status) or self.status != "open"

    def with_officer(self, officer_id: str) -> Filters:
        return replace(self, officer=officer_id, mine=False)


@dataclass(frozen=True)
class Row:
    summary: CaseSummary
    standing: Standing


@dataclass
class Listing:
    rows: list[Row]
    total: int
    page: int
    pages: int
    sort: str
    descending: bool
    counts: dict[str, int] = field(default_factory=dict)


def matches(summary: CaseSummary, standing: Standing, filters: Filters, me: str) -> bool:
    if filters.stage and summary.stage != filters.stage:
        return False
    officer = me if filters.mine else filters.officer
    if (filters.mine or officer) and summary.officer_id != officer:
        return False
    if filters.provider and summary.provider_id != filters.provider:
        return False
    if filters.overdue and not standing.overdue:
        return False
    if filters.due_this_week and not standing.due_this_week:
        return False
    return all(word in summary.search_text for word in filters.words.lower().split())


def _key(sort: str) -> Callable[[Row], Any]:
    far = (1, 0, "")
    keys: dict[str, Callable[[Row], Any]] = {
        "due": lambda r: (
            (0, r.summary.next_due.toordinal(), r.summary.reference) if r.summary.next_due else far
        ),
        "reference": lambda r: r.summary.reference,
        "provider": lambda r: (r.summary.provider_name or "~", r.summary.reference),
        "officer": lambda r: (r.summary.officer_name or "~", r.summary.reference),
        "stage": lambda r: (r.summary.stage_order, r.summary.reference),
        "opened": lambda r: (r.summary.opened.toordinal(), r.summary.reference),
    }
    return keys[sort]


def list_cases(
    summaries: Sequence[CaseSummary],
    judge: Judge,
    filters: Filters,
    *,
    me: str = "",
    sort: str = "due",
    descending: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Listing:
    """One page of the cases that match, sorted; page numbers past the end show the last."""
    sort = sort if sort in SORTS else "due"
    everything = filters == Filters(status=filters.status)
    rows = [
        Row(summary, standing)
        for summary in summaries
        if (standing := judge.standing(summary)) is not None
        and (everything or matches(summary, standing, filters, me))
    ]
    rows.sort(key=_key(sort), reverse=descending)
    pages = max(1, math.ceil(len(rows) / size))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * size : page * size]
    return Listing(shown, len(rows), page, pages, sort, descending)
