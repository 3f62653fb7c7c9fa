"""Propose a screening outcome for a new concern; an officer always confirms it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Ordered: the first outcome whose signals appear is proposed; the rest are listed as reasons.
SIGNALS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "in_house",
        "mentions an in-house (council-run) service",
        re.compile(r"\bin[- ]house\b|\bcouncil[- ]run\b", re.I),
    ),
    (
        "investigation_pending",
        "a safeguarding or complaints investigation is still open",
        re.compile(
            r"\b(still|currently|being|remains?)\s+(under\s+)?investigat|"
            r"investigation\s+(is\s+)?(ongoing|open|under\s*way|not\s+(yet\s+)?(concluded|complete))|"
            r"awaiting\s+the\s+outcome",
            re.I,
        ),
    ),
    (
        "isolated",
        "described as an isolated incident already addressed by the provider",
        re.compile(r"\bisolated\b|\bone[- ]off\b", re.I),
    ),
    (
        "operational",
        "described as low level or operational",
        re.compile(r"\blow[- ]level\b|\boperational(ly)?\b|\bminor\b", re.I),
    ),
)
DATE_OF_INCIDENT = re.compile(
    r"(?:incident|concern|happened|occurred|took place)[^\n]{0,40}?\b(\d{1,2})/(\d{1,2})/(\d{4})\b",
    re.I,
)


@dataclass(frozen=True)
class Proposal:
    outcome: str
    reasons: tuple[str, ...]


def _months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def propose(text: str, received: date) -> Proposal:
    """The bot's suggestion with its reasons; 'eligible' when nothing argues otherwise."""
    reasons: list[str] = []
    outcome = ""
    match = DATE_OF_INCIDENT.search(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            incident = date(year, month, day)
        except ValueError:
            incident = None
        if incident and _months_between(incident, received) >= 6:
            outcome = "too_old"
            reasons.append(
                f"the incident date {incident:%d/%m/%Y} is 6 months or more before receipt"
            )
    for name, why, pattern in SIGNALS:
        if pattern.search(text):
            reasons.append(why)
            outcome = outcome or name
    if not outcome:
        outcome = "eligible"
        reasons.append(
            "nothing in the concern suggests another outcome; check the eligibility criteria"
        )
    return Proposal(outcome, tuple(reasons))
