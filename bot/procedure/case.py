"""A case as the procedure sees it: stage, data, deadlines with their explanations, timeline."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from bot.procedure.timeline_json import entries_of_kind


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

    # A case read from the store may leave its timeline unread (bot/procedure/stored_case.py):
    # a tick changes hundreds of cases and reads none of their history, which is half of a
    # case's JSON and two thirds of the time to read it. Then "timeline" is missing from the
    # instance's fields, `_unread` holds the stored JSON array of entries and `_noted` the
    # entries noted since; the first read of `timeline` reads them into it.
    # (None for no entries: a default factory costs pydantic a signature lookup per case.)
    _unread: bytes | None = PrivateAttr(default=None)
    _noted: list[TimelineEntry] | None = PrivateAttr(default=None)

    if not TYPE_CHECKING:  # so that type checkers still see every attribute's own type

        def __getattr__(self, name: str) -> Any:
            if name == "timeline":
                return self._read_timeline()
            return super().__getattr__(name)

    @property
    def timeline_unread(self) -> bool:
        return "timeline" not in self.__dict__

    def leave_unread(self, entries: bytes) -> None:
        """Hold the stored timeline (its JSON array) unread until it is asked for."""
        self.__dict__.pop("timeline", None)
        self._held().update(_unread=entries, _noted=None)

    def unread_parts(self) -> tuple[bytes, list[TimelineEntry]] | None:
        """While the timeline is unread: its stored JSON and the entries noted since."""
        if not self.timeline_unread:
            return None
        held = self._held()
        return held["_unread"] or b"[]", held["_noted"] or []

    def _held(self) -> dict[str, Any]:
        # The private attributes' own dict: reading one by name goes through pydantic's
        # __getattr__, a tenth of the time of noting an entry.
        held = self.__pydantic_private__
        assert held is not None
        return held

    def _read_timeline(self) -> list[TimelineEntry]:
        held = self._held()
        entries = timeline_entries(held["_unread"]) if held["_unread"] else []
        entries.extend(held["_noted"] or ())
        self.with_timeline(entries)
        held.update(_unread=None, _noted=None)
        return entries

    def with_timeline(self, entries: list[TimelineEntry]) -> dict[str, Any]:
        """Put `entries` in as the timeline, in its place among the fields (pydantic writes
        them in the order the instance holds them); the fields as they were, returned."""
        fields = self.__dict__
        object.__setattr__(
            self,
            "__dict__",
            {
                name: entries if name == "timeline" else fields[name]
                for name in type(self).model_fields
                if name == "timeline" or name in fields
            },
        )
        return fields

    # What reads every field reads the timeline first: pydantic's own serialisers, equality
    # and copies look at the instance's fields directly, and would silently leave it out.
    def model_dump(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.timeline  # noqa: B018 (read for its effect)
        return super().model_dump(*args, **kwargs)

    def model_dump_json(self, *args: Any, **kwargs: Any) -> str:
        self.timeline  # noqa: B018
        return super().model_dump_json(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        self.timeline  # noqa: B018
        if isinstance(other, Case):
            other.timeline  # noqa: B018
        return super().__eq__(other)

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        self.timeline  # noqa: B018
        return super().__iter__()

    def __repr_args__(self) -> Any:
        self.timeline  # noqa: B018
        return super().__repr_args__()

    def __copy__(self) -> Case:
        self.timeline  # noqa: B018 (a shallow copy shares one timeline list)
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Case:
        """The copy the engine changes (`model_copy(deep=True)`): every list, dict and nested
        model copied, the immutable values (str, date, datetime, frozen timeline entries)
        shared. The generic deep copy walks every value and was a fifth of the cost of
        handling an email; copying each timeline entry was most of what was left."""
        new = super().__copy__()
        if self.timeline_unread:  # still unread in the copy: its own list of what is noted
            new._held()["_noted"] = list(self._held()["_noted"] or ())
        else:
            new.__dict__["timeline"] = list(self.timeline)
        new.__dict__.update(
            screening_reasons=list(self.screening_reasons),
            data=copy.deepcopy(self.data, memo),
            deadlines=[copy.copy(d) for d in self.deadlines],  # their fields are immutable
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
        entry = TimelineEntry(at=at, kind=kind, step=step, text=text, rule=rule, ref=ref)
        if not self.timeline_unread:
            self.timeline.append(entry)
        else:
            held = self._held()
            held["_noted"] = [*(held["_noted"] or ()), entry]

    def entries_of_kind(self, kind: str) -> list[TimelineEntry]:
        """The timeline's entries of one kind, in the order written; a timeline still unread
        stays so (its entries of that kind are found in its JSON)."""
        parts = self.unread_parts()
        if parts is None:
            return [e for e in self.timeline if e.kind == kind]
        found = timeline_entries(entries_of_kind(parts[0], kind))
        return found + [e for e in parts[1] if e.kind == kind]

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


@cache
def _entries_reader() -> TypeAdapter[list[TimelineEntry]]:
    return TypeAdapter(list[TimelineEntry])


def timeline_entries(data: bytes) -> list[TimelineEntry]:
    """Timeline entries from their JSON array, as the model writes it."""
    return _entries_reader().validate_json(data)
