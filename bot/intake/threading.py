"""Find the case an email belongs to: reference in the subject, our Message-IDs, or the sender."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.intake.message import ParsedMail

REFERENCE = re.compile(r"\bCC-(\d{4})-(\d{4,6})\b", re.IGNORECASE)
# Message-IDs the bot makes start with the lower-cased reference (see letters.compose).
OUR_ID = re.compile(r"^(cc-\d{4}-\d{4,6})\.", re.IGNORECASE)


@dataclass(frozen=True)
class Threading:
    reference: str | None
    how: str  # "report", "in-reply-to", "references", "subject", "participant", "officer", ""
    detail: str = ""
    refused: str = ""  # a case named by someone who takes no part in it


def normalise(reference: str) -> str:
    match = REFERENCE.search(reference)
    if not match:
        return reference.upper()
    return f"CC-{match.group(1)}-{match.group(2)}"


def references_in(text: str) -> list[str]:
    return [f"CC-{m.group(1)}-{m.group(2)}" for m in REFERENCE.finditer(text)]


REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|antw)\s*:\s*)+", re.IGNORECASE)


def is_reply(mail: ParsedMail) -> bool:
    return bool(mail.in_reply_to or mail.references or REPLY_PREFIX.match(mail.subject))


def _our_reference(message_id: str, own_domain: str) -> str | None:
    local, _, domain = message_id.partition("@")
    match = OUR_ID.match(local)
    if match and domain.lower() == own_domain.lower():
        return normalise(match.group(1))
    return None


def find_case(
    mail: ParsedMail,
    *,
    own_domain: str,
    exists: Callable[[str], bool],
    participant_of: Callable[[str, str], bool],
    participant_cases: Mapping[str, set[str]],
    bounced_id: str = "",
) -> Threading:
    """The case this mail threads to, and how it was found; first match wins in this order.

    A reference (in the subject, or in a Message-ID of ours, which anyone can guess) only
    threads mail from someone taking part in that case; anyone else's goes to triage.
    """
    candidates: list[tuple[str, str, str]] = []
    bounced = _our_reference(bounced_id, own_domain) if bounced_id else None
    if bounced and exists(bounced):
        # A delivery report about a letter of ours: the report's sender is a mail server.
        return Threading(bounced, "report", bounced_id)
    for field_name, ids in (("in-reply-to", mail.in_reply_to), ("references", mail.references)):
        for message_id in reversed(ids):
            if reference := _our_reference(message_id, own_domain):
                candidates.append((reference, field_name, message_id))
    candidates += [(ref, "subject", ref) for ref in references_in(mail.subject)]
    refused = ""
    for reference, how, detail in candidates:
        if not exists(reference):
            continue
        if participant_of(reference, mail.sender):
            return Threading(reference, how, detail)
        refused = refused or reference
    if refused:
        reason = f"{refused} named by {mail.sender}, who takes no part in that case"
        return Threading(None, "", reason, refused=refused)
    if not is_reply(mail):
        # A fresh email from someone with an open case is a new matter, not part of that case.
        return Threading(None, "")
    cases = participant_cases.get(mail.sender, set())
    if len(cases) == 1:
        (reference,) = tuple(cases)
        return Threading(reference, "participant", mail.sender)
    if len(cases) > 1:
        return Threading(None, "", f"sender is a participant of {len(cases)} open cases")
    return Threading(None, "")
