"""Reading a command's arguments from its matched wording: names, emails, texts and dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.commands.dates import looks_like_date, parse_date

# Takes the wording's match and the day the mail is read; raises ValueError for a bad argument.
Build = Callable[["re.Match[str]", date], dict[str, Any]]

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_DUE = re.compile(
    r"^(?P<action>.+?)(?:\s*[,(]\s*|\s+)(?:to\s+be\s+(?:completed|done)\s+)?"
    r"(?P<word>by|before|no\s+later\s+than|within|in)\s+(?P<when>[^,]+?)\)?$",
    re.IGNORECASE,
)


def _clean(value: str | None) -> str:
    return (value or "").strip().rstrip(".;,").strip()


def nothing(found: re.Match[str], today: date) -> dict[str, Any]:
    return {}


def text(found: re.Match[str], today: date) -> dict[str, Any]:
    return {"text": _clean(found["text"])}


def officer(found: re.Match[str], today: date) -> dict[str, Any]:
    return {"officer": _clean(found["officer"])}


def provider(found: re.Match[str], today: date) -> dict[str, Any]:
    return {"name": _clean(found["name"])}


def referrer(found: re.Match[str], today: date) -> dict[str, Any]:
    email = _EMAIL.search(found["rest"])
    if email is None:
        raise ValueError("no email address given for the referrer")
    return {"email": email.group(0).lower()}


def remedial(found: re.Match[str], today: date) -> dict[str, Any]:
    written = _clean(found["text"])
    split = _DUE.match(written)
    if split is None or not looks_like_date(split["when"]):
        return {"action": written, "due": None}
    return {"action": _clean(split["action"]), "due": parse_date(split["when"], today)}


def deadline(found: re.Match[str], today: date) -> dict[str, Any]:
    return {"due": parse_date(found["when"], today)}


def triage_item(found: re.Match[str], today: date) -> dict[str, Any]:
    args: dict[str, Any] = {"item": found["item"].upper()}
    if "reference" in found.groupdict():
        args["reference"] = found["reference"].upper()
    if "text" in found.groupdict():
        args["text"] = _clean(found["text"])
    return args


def identity(found: re.Match[str], today: date) -> dict[str, Any]:
    """Whether the provider is told who raised the concern."""
    shared = found["value"].lower().startswith(("shar", "nam", "give", "show", "tell", "reveal"))
    return {"value": "shared" if shared else "withheld"}


def attachments(found: re.Match[str], today: date) -> dict[str, Any]:
    """Whether the referral's attachments go with the provider's copy of the concern."""
    keep = found["value"].lower().startswith(("keep", "send", "includ", "yes", "enclos"))
    return {"value": "keep" if keep else "drop"}
