"""Per provider: concerns received, what became of them, how fast the provider answered.

Each figure counts what happened in the period: a concern on the day it counts from, an
acceptance or dispute on the day of the provider's first response, a concern upheld on the
day of the management decision, a referral for a default notice on the day it was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.views.reports.daycount import DayCounter
from bot.views.reports.facts import (
    CONCLUSIONS,
    EVIDENCE,
    RESPONSES,
    SCREENING_PREFIX,
    CaseFacts,
)
from bot.views.reports.period import Period
from bot.views.reports.stats import median

NO_PROVIDER = "(no provider named)"
DEFAULT_REFERRALS = ("timer.provider_final", "timer.follow_up_final", "follow_up.unsatisfactory")
# The step-2 grounds for not processing a concern, by the screening decision's event.
NOT_PROCESSED = {
    "investigation_pending": "investigation not yet concluded",
    "operational": "low level or operational",
    "isolated": "isolated and already addressed",
    "in_house": "in-house service",
    "too_old": "6 months old or more",
}
CLOSED_UNSCREENED = "closed by an officer before screening"
ELIGIBLE = f"{SCREENING_PREFIX}eligible"


@dataclass
class ProviderFigures:
    provider: str  # the provider's id, or NO_PROVIDER
    received: int = 0
    accepted: int = 0
    disputed: int = 0
    upheld: int = 0
    not_processed: dict[str, int] = field(default_factory=dict)
    response_days: list[int] = field(default_factory=list)
    reminded: int = 0  # reminder letters sent because the concern letter had no answer
    follow_ups_due: int = 0
    follow_ups_on_time: int = 0
    follow_up_reminders: int = 0
    default_referrals: int = 0

    @property
    def not_processed_total(self) -> int:
        return sum(self.not_processed.values())

    @property
    def median_response_days(self) -> float | None:
        return median(self.response_days)


def add_case(rows: dict[str, ProviderFigures], case: CaseFacts, period: Period,
             days: DayCounter) -> None:
    """Count one case's part in the period into its provider's row."""
    key = case.provider or NO_PROVIDER
    row = rows.get(key)
    if row is None:
        row = rows[key] = ProviderFigures(key)
    start, end = period.start, period.end  # compared directly: this runs for every case
    if start <= case.received <= end:
        row.received += 1
    response = case.first(*RESPONSES)
    if response is not None and start <= response[0] <= end:
        if response[1] == "provider.accepts":
            row.accepted += 1
        else:
            row.disputed += 1
        letter = case.first(ELIGIBLE)
        if letter is not None:
            row.response_days.append(days.between(letter[0], response[0]))
    screened = False
    evidence = []
    for day, event in case.events:
        screened = screened or event.startswith(SCREENING_PREFIX)
        if event in EVIDENCE:
            evidence.append(day)
        if not start <= day <= end:
            continue
        if event in CONCLUSIONS:
            row.upheld += 1
        elif event in DEFAULT_REFERRALS:
            row.default_referrals += 1
        elif event.startswith(SCREENING_PREFIX):
            reason = NOT_PROCESSED.get(event.removeprefix(SCREENING_PREFIX))
            if reason is not None:
                row.not_processed[reason] = row.not_processed.get(reason, 0) + 1
    if case.closed is not None and start <= case.closed <= end and not screened:
        row.not_processed[CLOSED_UNSCREENED] = row.not_processed.get(CLOSED_UNSCREENED, 0) + 1
    for d in case.deadlines:
        if not start <= d.due <= end or d.status == "cancelled":
            continue
        if d.name == "provider_reminder" and d.status == "fired":
            row.reminded += 1
        elif d.name == "follow_up_reminder" and d.status in ("met", "fired"):
            row.follow_ups_due += 1
            row.follow_up_reminders += d.status == "fired"
            first = d.set_day or d.due
            row.follow_ups_on_time += any(first <= day <= d.due for day in evidence)


def provider_figures(cases: Iterable[CaseFacts], period: Period,
                     days: DayCounter) -> list[ProviderFigures]:
    rows: dict[str, ProviderFigures] = {}
    for case in cases:
        add_case(rows, case, period, days)
    return sorted(
        (r for r in rows.values() if _active(r)),
        key=lambda r: (r.provider == NO_PROVIDER, r.provider),
    )


def _active(row: ProviderFigures) -> bool:
    return any((row.received, row.accepted, row.disputed, row.upheld, row.not_processed,
                row.reminded, row.follow_ups_due, row.default_referrals))
