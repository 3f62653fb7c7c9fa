"""What the tick and the digest need of an open case, and its form as the store's summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # a reader listing cases from their summaries never loads the model
    from bot.procedure.case import Case

# The summary's layout: a summary of another version is not trusted; the case is read again.
SUMMARY_VERSION = 3  # 3: the next deadline is marked, so `cases` lists without parsing


class DeadlineView(NamedTuple):
    """What the digest needs of a deadline still open (pending, or fired with no event)."""

    name: str
    step: str
    title: str
    due: date
    status: str
    event: str | None
    remind: str | None


class CaseView(NamedTuple):
    """What the tick and the digest need of an open case, without parsing it."""

    reference: str
    officer_id: str | None
    provider_id: str | None
    next_fire: datetime | None  # the earliest pending deadline's firing time
    deadlines: tuple[DeadlineView, ...]
    stage: str = ""
    next_deadline: int | None = None  # where in `deadlines` the earliest firing pending one is


def view_of(case: Case) -> CaseView:
    shown = [
        d for d in case.deadlines if d.status == "pending" or (d.status == "fired" and not d.event)
    ]
    live = tuple(
        DeadlineView(d.name, d.step, d.title, d.due, d.status, d.event, d.remind) for d in shown
    )
    pending = [(d.fires_at, index) for index, d in enumerate(shown) if d.status == "pending"]
    # The first of equal firing times, as Case.next_deadline picks it.
    first = min(pending, key=lambda item: item[0], default=None)
    return CaseView(
        case.reference,
        case.officer_id,
        case.provider_id,
        first[0] if first else None,
        live,
        case.stage,
        first[1] if first else None,
    )


def addresses_of(case: Case) -> set[str]:
    """Every address taking part in the case (for finding cases by sender)."""
    return {case.referrer, *case.participants}


def encode(view: CaseView, addresses: set[str]) -> dict[str, Any]:
    """The view as plain JSON, kept beside the case so the index is rebuilt without it."""
    return {
        "v": SUMMARY_VERSION,
        "officer": view.officer_id,
        "provider": view.provider_id,
        "stage": view.stage,
        "fires": view.next_fire.isoformat() if view.next_fire else None,
        "deadlines": [
            [d.name, d.step, d.title, d.due.isoformat(), d.status, d.event, d.remind]
            for d in view.deadlines
        ],
        "addresses": sorted(addresses),
        "next": view.next_deadline,
    }


def decode(reference: str, summary: Any) -> tuple[CaseView, set[str]] | None:
    """The view and addresses from a summary; None when it is missing or not this version's."""
    if not isinstance(summary, dict) or summary.get("v") != SUMMARY_VERSION:
        return None
    try:
        fires = summary["fires"]
        deadlines = tuple(
            DeadlineView(name, step, title, date.fromisoformat(due), status, event, remind)
            for name, step, title, due, status, event, remind in summary["deadlines"]
        )
        view = CaseView(
            reference,
            summary["officer"],
            summary["provider"],
            datetime.fromisoformat(fires) if fires else None,
            deadlines,
            summary["stage"],
            _position(summary["next"], len(deadlines)),
        )
        return view, set(summary["addresses"])
    except (KeyError, TypeError, ValueError):
        return None


def _position(value: Any, length: int) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < length:
        raise ValueError(f"no deadline {value!r} among {length}")
    return value
