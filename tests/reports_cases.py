"""A fixed set of cases run through the real procedure engine, for the report tests.

May 2026 has two bank holidays (Mon 4 May, Mon 25 May). Working days are counted as the
deadlines count them: days after the start, up to and including the end.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import LONDON
from bot.procedure.case import Case
from bot.procedure.engine import Engine, Event
from bot.rules import Rules

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=LONDON)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def run(engine: Engine, reference: str, received: str, referrer: str, provider: str,
        officer: str, events: list[tuple[str, str, dict[str, Any]]]) -> Case:
    """Open a case, then apply each event after firing whatever fell due before it."""
    opened = at(received)
    case = Case(reference=reference, stage="", opened_at=opened, received_day=opened.date(),
                referrer=referrer, provider_id=provider, officer_id=officer)
    case = engine.open_case(case, Event("referral.new", opened)).case
    for when, name, args in events:
        moment = at(when)
        case = engine.fire_due(case, moment).case
        outcome = engine.apply(case, Event(name, moment, args))
        assert outcome.applied, f"{reference} {name}: {outcome.reason}"
        case = outcome.case
    return engine.fire_due(case, NOW).case


def fixed_cases() -> tuple[Rules, list[Case]]:
    rules = Rules.load(PROJECT / "config.yaml")
    engine = rules.engine()
    conclusion = ("review.conclusion", {"text": "Staffing shortfall confirmed"})
    cases = [
        # A: in on Fri 1 May, screened the same day; accepted Fri 8 May; reviewed Thu 14 May;
        # decided Tue 19 May. Everything on time.
        run(engine, "CC-2026-0001", "2026-05-01T10:00", "sam.ward@council.example", "oakview",
            "jsmith", [
                ("2026-05-01T15:00", "screen.eligible", {}),
                ("2026-05-08T10:00", "provider.accepts", {}),
                ("2026-05-14T09:00", *conclusion),
                ("2026-05-14T10:00", "review.concluded", {}),
                ("2026-05-19T10:00", "decision.agreed", {}),
            ]),
        # B: in on Saturday 2 May, counted from Tue 5 May (Mon 4 May is a bank holiday); the
        # provider is reminded on Tue 19 May and accepts Wed 20 May; the review, due
        # Thu 28 May, is done Mon 1 Jun: missed.
        run(engine, "CC-2026-0002", "2026-05-02T11:00", "chris.evans@council.example",
            "brightpath", "akhan", [
                ("2026-05-05T11:00", "screen.eligible", {}),
                ("2026-05-20T10:00", "provider.accepts", {}),
                ("2026-06-01T09:00", *conclusion),
                ("2026-06-01T10:00", "review.concluded", {}),
            ]),
        # C: in Mon 11 May; the provider disputes Thu 14 May; the referrer comments Mon 18 May;
        # the review, due Tue 26 May, is still not done on 10 June.
        run(engine, "CC-2026-0003", "2026-05-11T09:30", "hannah.lee@nhs.example", "riverside",
            "pjones", [
                ("2026-05-11T12:00", "screen.eligible", {}),
                ("2026-05-14T10:00", "provider.disputes", {}),
                ("2026-05-18T10:00", "referrer.comment", {}),
            ]),
        # D: in Mon 13 Apr; the provider never answers: reminded Mon 27 Apr, referred for a
        # default notice Mon 11 May; the SPO decides Tue 12 May and issues it Thu 14 May.
        run(engine, "CC-2026-0004", "2026-04-13T10:00", "sam.ward@council.example", "meadows",
            "pjones", [
                ("2026-04-13T11:00", "screen.eligible", {}),
                ("2026-05-12T10:00", "default_notice.yes", {}),
                ("2026-05-14T10:00", "default_notice.issued", {}),
            ]),
        # E: in Thu 21 May after close of business, counted from Fri 22 May; not processed:
        # low level and operational.
        run(engine, "CC-2026-0005", "2026-05-21T18:30", "sam.ward@council.example", "oakview",
            "jsmith", [("2026-05-22T10:00", "screen.operational", {})]),
    ]
    return rules, cases


def item(received: str, kind: str) -> dict[str, Any]:
    return {"received": at(received).isoformat(), "kind": kind, "sender": "x@y.example",
            "subject": "", "reason": "unknown sender"}


TRIAGE = [
    # Waited Tue 5 May to Thu 7 May: 2 working days.
    {"id": "T0001", "note": "filed", "item": item("2026-05-05T10:00", "unknown"),
     "at": at("2026-05-07T10:00").isoformat()},
    # Still waiting on 10 June since Fri 22 May: 12 working days (25 May a bank holiday).
    {**item("2026-05-22T10:00", "not_understood"), "id": "T0002"},
    # April: only in the two-month trend.
    {"id": "T0003", "note": "dismissed", "item": item("2026-04-27T10:00", "unknown"),
     "at": at("2026-04-27T15:00").isoformat()},
]
