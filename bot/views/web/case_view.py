"""One case laid out for its page: the stage track, deadlines, timeline, parties and mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.procedure.case import Case
from bot.rules import Rules
from bot.views.web.procedure_svg import actor_name
from bot.views.web.summary import DueView, Judge

KINDS = {
    "mail_in": "Email in",
    "stage": "Stage change",
    "deadline": "Deadline",
    "letter": "Letter out",
    "reminder": "Reminder",
    "command": "Instructions",
    "note": "Note",
    "automated": "Automated mail",
    "triage": "Triage",
    "comment": "Comment from a third party",
}
STATUS_TAGS = {
    "pending": ("Pending", "blue"),
    "fired": ("Due", "yellow"),
    "met": ("Met", "green"),
    "missed": ("Missed", "red"),
    "cancelled": ("Cancelled", "grey"),
}


@dataclass(frozen=True)
class TrackStage:
    name: str
    step: str
    title: str
    owner: str
    current: bool


def track(case: Case, rules: Rules) -> list[TrackStage]:
    """Every stage of the procedure in order, the case's own marked."""
    return [
        TrackStage(name, spec.step, spec.title, actor_name(spec.actor), name == case.stage)
        for name, spec in rules.procedure.stages.items()
    ]


def deadlines(case: Case, judge: Judge) -> list[dict[str, Any]]:
    rows = []
    for deadline in case.deadlines:
        view = DueView(deadline.title, deadline.step, deadline.due, deadline.status, deadline.event)
        live = deadline.status == "pending" or (deadline.status == "fired" and not deadline.event)
        label, colour = STATUS_TAGS.get(deadline.status, (deadline.status, "grey"))
        rows.append(
            {
                "deadline": deadline,
                "tag": label,
                "colour": colour,
                "overdue": case.status == "open" and judge.late(view),
                "days_left": judge.days_left(deadline.due) if live else None,
            }
        )
    return rows


def timeline(case: Case) -> list[dict[str, Any]]:
    """The history, each email and letter linked to the document the store kept of it."""
    by_message: dict[str, int] = {}
    for number, doc in enumerate(case.documents, start=1):
        message_id = doc.get("message_id", "")
        if message_id and doc.get("sha") and not doc.get("purged"):
            by_message.setdefault(message_id, number)
    rows = []
    for entry in case.ordered_timeline():
        document = by_message.get(entry.ref) if entry.kind in ("mail_in", "letter") else None
        cause = ""
        if entry.rule:
            cause = {"mail_in": "How it was read", "stage": "Cause"}.get(entry.kind, "Why")
        rows.append(
            {
                "entry": entry,
                "kind": KINDS.get(entry.kind, entry.kind),
                "cause": cause,
                "document": document,
            }
        )
    return rows


def documents(case: Case) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's kept emails and its letters, each with its number for the address."""
    mail: list[dict[str, Any]] = []
    letters: list[dict[str, Any]] = []
    for number, doc in enumerate(case.documents, start=1):
        row = {"number": number, "kind": doc.get("kind", ""), "purged": bool(doc.get("purged"))}
        (letters if doc.get("kind") == "letter" else mail).append(row)
    return mail, letters


def parties(case: Case, rules: Rules) -> dict[str, Any]:
    config = rules.config
    provider = config.provider(case.provider_id) if case.provider_id else None
    officer = config.person(case.officer_id) if case.officer_id else None
    return {
        "referrer": case.referrer,
        "referrer_name": case.referrer_name,
        "provider": provider,
        "officer": officer,
        "others": [a for a in case.participants if a != case.referrer],
    }
