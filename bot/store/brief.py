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

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.store.files import dump_json

BRIEF_VERSION = 1
_AT_STAGE = " at stage "
_RECEIVED = re.compile(rf'\[{BRIEF_VERSION},"(\d{{4}}-\d{{2}}-\d{{2}})"')
Brief = list[Any]


def brief_of(case: Mapping[str, Any]) -> Brief:
    """The brief of a case given as its stored JSON (a dict)."""
    events: list[list[Any]] = []
    for entry in case.get("timeline", ()):
        if entry.get("kind") != "stage":
            continue
        # A stage change is recorded as "<event> at stage <stage>" (the first as "<event>").
        name = str(entry.get("rule", "")).split(_AT_STAGE, 1)[0]
        if name and " " not in name:
            events.append([entry["at"], name])
    deadlines = [
        [
            item["name"],
            str(item.get("step", "")),
            str(item.get("title", "")),
            item["due"],
            str(item.get("status", "pending")),
            item.get("remind"),
            item.get("set_at"),
            item.get("closed_at"),
        ]
        for item in case.get("deadlines", ())
    ]
    referrer = str(case.get("referrer", ""))
    return [
        BRIEF_VERSION,
        case.get("received_day"),
        str(case["reference"]),
        str(case.get("status", "open")),
        str(case.get("stage", "")),
        case.get("closed_at"),
        case.get("provider_id"),
        case.get("officer_id"),
        case.get("opened_at"),
        referrer.rsplit("@", 1)[-1].lower() if "@" in referrer else None,
        events,
        deadlines,
    ]


# What of a case its brief is made of: the fields brief_of reads.
_FIELDS = {
    "reference", "received_day", "status", "stage", "closed_at", "provider_id", "officer_id",
    "opened_at", "referrer", "deadlines",
}  # fmt: skip


def model_brief_text(case: Any) -> str | None:
    """The brief of a case model (the procedure's Case), as `brief_text` makes it of the
    case's JSON: the same serialiser writes the few fields it reads, stage changes only of
    the timeline, so the JSON the model just wrote is never read back to make it."""
    stages = {i for i, entry in enumerate(case.timeline) if entry.kind == "stage"}
    include: dict[str, Any] = dict.fromkeys(_FIELDS, True)
    if stages:
        include["timeline"] = stages
    return brief_text(case.model_dump(mode="json", include=include))


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
        brief = json.loads(text)
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
