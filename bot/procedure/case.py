"""A case as the procedure sees it: stage, data, deadlines with their explanations, timeline."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Deadline(BaseModel):
    """A dated obligation on the case, with the rule and arithmetic that produced it."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    name: str
    step: str
    title: str
    due: date
    fires_at: datetime
    rule: str  # e.g. "14 calendar days from event"
    explanation: str  # the arithmetic, with every skipped day
    remind: str | None = None
    event: str | None = None
    scope: Literal["stage", "case"] = "stage"
    status: Literal["pending", "fired", "met", "missed", "cancelled"] = "pending"
    set_at: datetime
    closed_at: datetime | None = None


class TimelineEntry(BaseModel):
    """One line of a case's history, in the order things happened; written once, never
    changed (frozen), so copies of a case share its entries."""

    model_config = ConfigDict(extra="ignore", defer_build=True, frozen=True)

    at: datetime
    kind: str  # mail_in, stage, deadline, letter, reminder, command, note, automated, triage,
    # comment (from a third party)
    step: str = ""
    text: str
    rule: str = ""
    ref: str = ""  # a Message-ID or deadline name the entry is about


# For entries at the same moment, the cause before its effect: the email, then the commands
# it gave, then the stage they moved the case to, then the letters that stage sent.
CAUSE_ORDER = {
    "mail_in": 0,
    "automated": 1,
    "command": 1,
    "comment": 1,
    "triage": 2,
    "note": 3,
    "stage": 4,
    "deadline": 5,
    "reminder": 6,
    "letter": 7,
}


class Case(BaseModel):
    """Everything the bot knows about one concern."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    reference: str
    status: Literal["open", "closed"] = "open"
    stage: str
    opened_at: datetime
    received_day: date
    received_note: str = ""
    referrer: str
    referrer_name: str = ""
    provider_id: str | None = None
    officer_id: str | None = None
    subject: str = ""
    concern_message_id: str = ""
    concern_sha: str = ""
    concern_text: str = ""
    screening_proposal: str = ""
    screening_reasons: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    thread_ids: list[str] = Field(default_factory=list)  # Message-IDs in and out, oldest first
    last_from: dict[str, str] = Field(default_factory=dict)  # address -> last Message-ID exchanged
    participants: list[str] = Field(default_factory=list)  # other addresses copied into the case
    documents: list[dict[str, str]] = Field(default_factory=list)  # kind, sha, message_id
    closed_at: datetime | None = None

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Case:
        """The copy the engine changes (`model_copy(deep=True)`): every list, dict and nested
        model copied, the immutable values (str, date, datetime, frozen timeline entries)
        shared. The generic deep copy walks every value and was a fifth of the cost of
        handling an email; copying each timeline entry was most of what was left."""
        new = copy.copy(self)
        new.__dict__.update(
            screening_reasons=list(self.screening_reasons),
            data=copy.deepcopy(self.data, memo),
            deadlines=[copy.copy(d) for d in self.deadlines],  # their fields are immutable
            timeline=list(self.timeline),
            thread_ids=list(self.thread_ids),
            last_from=dict(self.last_from),
            participants=list(self.participants),
            documents=[dict(d) for d in self.documents],
        )
        return new

    def pending(self) -> list[Deadline]:
        return [d for d in self.deadlines if d.status == "pending"]

    def deadline(self, name: str) -> Deadline | None:
        """The most recent deadline of that name, whatever its status."""
        for item in reversed(self.deadlines):
            if item.name == name:
                return item
        return None

    def next_deadline(self) -> Deadline | None:
        pending = self.pending()
        return min(pending, key=lambda d: d.fires_at) if pending else None

    def note(
        self, at: datetime, kind: str, text: str, step: str = "", rule: str = "", ref: str = ""
    ) -> None:
        self.timeline.append(
            TimelineEntry(at=at, kind=kind, step=step, text=text, rule=rule, ref=ref)
        )

    def ordered_timeline(self) -> list[TimelineEntry]:
        """The timeline by when things happened; at equal times, causes before effects.
        (Entries are written as handling goes, which is not always in time order: a command
        is noted once its effects are known, and an email filed from triage arrives late.)"""
        return sorted(self.timeline, key=lambda e: (e.at, CAUSE_ORDER.get(e.kind, 3)))

    def last_document(self, kind: str) -> dict[str, str] | None:
        for doc in reversed(self.documents):
            if doc.get("kind") == kind:
                return doc
        return None
