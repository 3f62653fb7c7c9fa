"""A case's brief: the few dates and outcomes reports count, kept beside each case.

A year's compliance report counts tens of thousands of cases; reading each case whole (15 KB of
timeline, mail and letters) is most of its cost. So the store keeps a brief of every case as it
is put: beside an open case (in its summaries document, as JSON text, so that opening the store
does not build it) and, for a closed one, a line in the archive's index. A report reads the
briefs; the case itself only when a brief is missing (a store from before briefs, a crash
between the archive file and its index line). The brief holds no concern text, no names and no
addresses: the referrer's mail domain only.

Layout (a JSON list, so the index stays small): [version, received_day, reference, status,
stage, closed_at, provider_id, officer_id, opened_at, referrer's mail domain (or null),
[[at, event], ...] for each stage change, [[name, step, title, due, status, remind, set_at,
closed_at], ...] for each deadline]. Times are the case's own ISO text: working days depend on
the calendar, which a council may change, so they are counted when the report is made. The
received day comes first, so a reader passes over a case received after its period unparsed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.files import dump_json, load_json

BRIEF_VERSION = 1
_AT_STAGE = " at stage "
_RECEIVED = re.compile(rf'\[{BRIEF_VERSION},"(\d{{4}}-\d{{2}}-\d{{2}})"')
Brief = list[Any]


def _time(value: Any) -> Any:
    """A time as Python writes it (`isoformat`): the model's serialiser writes a UTC time with
    a Z, and a brief made of the model must read the same as one made of its JSON."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value  # left as it is: a reader says what is wrong with it


def brief_of(case: Mapping[str, Any]) -> Brief:
    """The brief of a case given as its stored JSON (a dict)."""
    events: list[list[Any]] = []
    for entry in case.get("timeline", ()):
        if entry.get("kind") != "stage":
            continue
        name = _event_name(str(entry.get("rule", "")))
        if name:
            events.append([_time(entry["at"]), name])
    deadlines = [
        [
            item["name"],
            str(item.get("step", "")),
            str(item.get("title", "")),
            item["due"],
            str(item.get("status", "pending")),
            item.get("remind"),
            _time(item.get("set_at")),
            _time(item.get("closed_at")),
        ]
        for item in case.get("deadlines", ())
    ]
    return [
        BRIEF_VERSION,
        case.get("received_day"),
        str(case["reference"]),
        str(case.get("status", "open")),
        str(case.get("stage", "")),
        _time(case.get("closed_at")),
        case.get("provider_id"),
        case.get("officer_id"),
        _time(case.get("opened_at")),
        _domain(str(case.get("referrer", ""))),
        events,
        deadlines,
    ]


def _event_name(rule: str) -> str | None:
    """The event of a stage change, recorded as "<event> at stage <stage>" (the first as
    "<event>"); None for a rule that names none."""
    name = rule.split(_AT_STAGE, 1)[0]
    return name if name and " " not in name else None


def _domain(referrer: str) -> str | None:
    return referrer.rsplit("@", 1)[-1].lower() if "@" in referrer else None


def model_brief_text(case: Any, kept: Brief | None = None) -> str:
    """The brief of a case model (the procedure's Case), the same text `brief_text` makes of
    the case's JSON, read from the model's fields: the JSON the model just wrote (some 15 KB)
    is never read back to make it.

    `kept`, the brief kept beside the case as last written, spares reading a timeline the
    case has left unread: its stage changes are those kept, then those noted since."""
    parts = case.unread_parts()
    if kept is not None and parts is not None:
        events = list(kept[10])  # the kept brief is read afresh: its lists are ours
        entries = [entry for entry in parts[1] if entry.kind == "stage"]
    else:
        events = []
        entries = case.entries_of_kind("stage")  # a timeline not yet read stays unread
    for entry in entries:
        if name := _event_name(entry.rule):
            events.append([entry.at.isoformat(), name])
    deadlines = [
        [
            d.name,
            d.step,
            d.title,
            d.due.isoformat(),
            d.status,
            d.remind,
            d.set_at.isoformat() if d.set_at else None,
            d.closed_at.isoformat() if d.closed_at else None,
        ]
        for d in case.deadlines
    ]
    brief = [
        BRIEF_VERSION,
        case.received_day.isoformat(),
        case.reference,
        case.status,
        case.stage,
        case.closed_at.isoformat() if case.closed_at else None,
        case.provider_id,
        case.officer_id,
        case.opened_at.isoformat(),
        _domain(case.referrer),
        events,
        deadlines,
    ]
    return dump_json(brief).decode()


def brief_text(case: Mapping[str, Any]) -> str | None:
    """The brief as the store keeps it; None for a document it cannot be made of (the store
    keeps any JSON, and a reader then reads the case itself)."""
    try:
        return dump_json(brief_of(case)).decode()
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def read_brief(text: str | bytes | None) -> Brief | None:
    """A kept brief, or None when it is missing, damaged or of another version."""
    if not text:
        return None
    try:
        brief = load_json(text)
    except ValueError:
        return None
    if isinstance(brief, list) and len(brief) == 12 and brief[0] == BRIEF_VERSION:
        return brief
    return None


def received_after(text: str, day: str) -> bool:
    """True only when a kept brief shows its case received after `day` (ISO), unparsed."""
    found = _RECEIVED.match(text)
    return found is not None and found[1] > day


def is_current(text: object) -> bool:
    """Whether a kept brief is of this version (else the writer makes it again)."""
    return isinstance(text, str) and text.startswith(f"[{BRIEF_VERSION},")
