"""Set a deadline on a case: its anchor, the working-day arithmetic, when it fires, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bot.procedure.case import Case, Deadline
from bot.procedure.model import DeadlineSpec
from bot.procedure.workdays import WorkCalendar


@dataclass(frozen=True)
class Times:
    """When deadlines fire on their day: letters in the morning, internal reminders later."""

    letters: time = time(9, 0)
    reminders: time = time(14, 0)


def set_deadline(
    case: Case, spec: DeadlineSpec, at: datetime, label: str, calendar: WorkCalendar, times: Times
) -> None:
    """Compute the deadline from its anchor and put it on the case, with its explanation.

    `at` is when the event that sets it happened; `label` names that event for people.
    """
    anchor = _anchor(case, spec, at, label, calendar)
    if anchor is None:
        case.note(
            at,
            "note",
            f"Deadline {spec.title!r} could not be set: no anchor date",
            spec.step,
            ref=spec.name,
        )
        return
    anchor_day, anchor_label = anchor
    computed = calendar.compute(spec.rule.to_rule(), anchor_day, anchor_label)
    fires_at = calendar.at_local(computed.due, times.reminders if spec.remind else times.letters)
    if spec.remind and fires_at <= at:
        # Set after the reminder hour on its own due day (a concern in at 16:00, say):
        # remind the next working morning rather than in the same minute.
        later = calendar.next_working_day(computed.due, include_self=False)
        fires_at = calendar.at_local(later, times.letters)
    # Replace an earlier pending deadline of the same name: a moved date, not a second one.
    for old in case.deadlines:
        if old.name == spec.name and old.status == "pending":
            old.status = "cancelled"
            old.closed_at = at
    case.deadlines.append(
        Deadline(
            name=spec.name,
            step=spec.step,
            title=spec.title,
            due=computed.due,
            fires_at=fires_at,
            rule=f"{spec.rule.describe()} from {anchor_label}",
            explanation=computed.explanation,
            remind=spec.remind,
            event=spec.event,
            scope=spec.scope,
            set_at=at,
        )
    )
    case.note(
        at,
        "deadline",
        f"Deadline set: {spec.title} by {computed.due:%a %d %b %Y}",
        spec.step,
        computed.explanation,
        spec.name,
    )


def _anchor(
    case: Case, spec: DeadlineSpec, at: datetime, label: str, calendar: WorkCalendar
) -> tuple[date, str] | None:
    """The first of the spec's anchors that the case has, with a name for it."""
    for anchor in spec.anchors:
        if anchor == "received":
            return case.received_day, "concern received"
        if anchor == "event":
            return calendar.effective_day(at)[0], label
        kind, _, name = anchor.partition(":")
        if kind == "deadline":
            found = case.deadline(name)
            if found is not None:
                return found.due, f"deadline {name}"
        elif kind == "data":
            raw = case.data.get(name)
            if raw:
                return (raw if isinstance(raw, date) else date.fromisoformat(str(raw))), name
    return None
