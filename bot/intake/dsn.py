"""Read delivery status notifications and other reports: what failed, for whom, about which mail."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from typing import Any

from bot.intake.message import ParsedMail
from bot.intake.parse import decode_bytes, html_to_text, part_payload

DELAY_SUBJECT = (
    r"delivery delayed|delayed mail|warning: (could not send|message .* delayed)|"
    r"delivery status notification \(delay\)|mail delivery delayed"
)
DELIVERED_SUBJECT = (
    r"delivered:|relayed:|successful mail delivery report|"
    r"delivery status notification \(success\)"
)
_WARNING_ONLY = re.compile(
    r"warning (message )?only|will (continue|keep) (re)?trying|will retry|still being retried|"
    r"delivery (is|has been) delayed|will continue to be attempted|has ?n[o']t been delivered "
    r"yet|has not yet been delivered|no action is required on your part",
    re.I,
)
SES_EVENT = re.compile(r'(?:notification|event)Type\\?"\s*:\s*\\?"(Bounce|Complaint|Delivery)')
_SES_RECIPIENT = re.compile(r'emailAddress\\?"\s*:\s*\\?"([^"\\\s]+@[^"\\\s]+)')
_TEXT_MESSAGE_ID = re.compile(r"^[ \t]*(?:X-Original-)?Message-ID:\s*<([^<>\s]+)>", re.I | re.M)
_EMBEDDED_HEADERS = re.compile(r"^(Return-Path|Received|Message-ID|From|Date):", re.I | re.M)
# Matches start only where a run of address characters starts, and runs never backtrack:
# a long line of letters (base64, a pasted document) costs linear time, not quadratic.
_ADDRESS = re.compile(r"(?<![\w.+=-])[\w.+=-]++(?:'[\w.+=-]++)*+@[\w-]++(?:\.[\w-]++)++")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$")
DSN_TYPES = ("message/delivery-status", "message/global-delivery-status", "message/feedback-report")
_COPY_TYPES = ("message/rfc822", "message/global")
_HEADER_TYPES = ("text/rfc822-headers", "message/global-headers")
# Free-text reports: which lines name a recipient that failed, and which name someone else.
_FAILURE_WORDS = re.compile(
    r"\b[45]\d\d\b|\b[45]\.\d{1,3}\.\d{1,3}\b|unknown|not found|no such|n[o']t exist|rejected|"
    r"refused|fail|undeliverable|(could ?n[o']t|cannot|can ?not|was ?n[o']t|not|unable to) "
    r"(be )?deliver|invalid|unavailable|disabled|quota|mailbox (is )?full|not listed|permanent|"
    r"blocked|denied|unroutable|bounced|fatal|errors?\b|timed? out",
    re.I,
)
_HEADING = re.compile(r"(recipients?|address(es)?|destinations?)\b|deliver|fail", re.I)
_RULED = re.compile(r"^\s*[-*=]{3}")  # "----- The following addresses had errors -----"
_OTHER_PARTY = re.compile(
    r"^\s*(>>>\s*)?(mail from|from|sender|original[- ]sender|reply-to|return-path|"
    r"envelope-from|message-?id)\b|\b(contact|help ?desk|administrator)\b",
    re.I,
)
_ACTION_RANK = ("failed", "delayed", "delivered", "relayed", "expanded")


@dataclass
class Report:
    """What a report says: each recipient's action, who failed, and our message it is about."""

    actions: list[tuple[str, str]] = field(default_factory=list)  # (action, recipient)
    failed: list[str] = field(default_factory=list)
    original: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _part_text(part: Message) -> str:
    payload = part_payload(part)
    if isinstance(payload, bytes):
        return decode_bytes(payload, part.get_content_charset())
    # delivery-status blocks and message/* bodies arrive parsed: serialise them back.
    return "\n".join(sub.as_string() for sub in payload)


def _fields(text: str) -> Iterator[dict[str, str]]:
    """RFC 3464 field groups; a repeated recipient field starts a new group (some omit gaps)."""
    group: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _FIELD.match(line)
        if line[:1] in (" ", "\t") and last and line.strip():
            group[last] += " " + line.strip()
        elif match:
            last = match.group(1).lower()
            if last in group and last in ("final-recipient", "original-recipient", "action"):
                yield group
                group = {}
            group[last] = match.group(2).strip()
        else:
            if group:
                yield group
            group, last = {}, ""
    if group:
        yield group


def _dsn(report: Report, text: str) -> None:
    for group in _fields(text):
        if group.get("feedback-type"):  # RFC 5965 abuse/feedback report
            report.actions.append(("feedback", ""))
            report.extra["feedback_type"] = group["feedback-type"].split()[0].lower()
        recipients = [
            found.group(0)
            for name in ("original-recipient", "final-recipient")
            if (found := _ADDRESS.search(group.get(name, "").split(";")[-1]))
        ]
        # No Action field: the Status class says it (2.x.x delivered, anything else failed).
        implied = "delivered" if group.get("status", "5")[:1] == "2" else "failed"
        action = ((group.get("action") or "").split() or [implied])[0].lower()
        if recipients:
            report.actions.append((action, recipients[0].lower()))
            if action == "failed":
                report.failed.extend(recipients)


def _ses(report: Report, text: str) -> None:
    """Amazon SES/SNS notifications carry the report as JSON, often inside a JSON string."""
    try:
        data: Any = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            data = json.loads(data["Message"])
    except ValueError:
        data = None
    if not isinstance(data, dict):
        report.failed.extend(_SES_RECIPIENT.findall(text))
        report.actions.append(("failed", ""))
        return
    event = str(data.get("notificationType") or data.get("eventType") or "")
    nested = data.get(event[:1].lower() + event[1:])
    detail = nested if isinstance(nested, dict) else data
    key = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients"}.get(event, "")
    listed = detail.get(key or "recipients")
    entries = listed if isinstance(listed, list) else []
    people = [str(r.get("emailAddress", "") if isinstance(r, dict) else r) for r in entries]
    action = {"Bounce": "failed", "Complaint": "feedback", "Delivery": "delivered"}.get(event, "")
    if event == "Bounce" and detail.get("bounceType") == "Transient":
        action = "delayed"  # SES retries transient failures itself
    report.actions.extend((action, p.lower()) for p in people or [""])
    if action == "failed":
        report.failed.extend(people)
    if action == "feedback":
        report.extra["feedback_type"] = str(detail.get("complaintFeedbackType") or "complaint")
    mail = data.get("mail")
    common = mail.get("commonHeaders") if isinstance(mail, dict) else None
    if isinstance(common, dict):
        report.original = str(common.get("messageId") or "").strip("<>")


def _returned_headers(parts: Sequence[Message], text: str) -> Message | None:
    """The header block of the mail the report is about, wherever the reporting system put it."""
    for part in parts:
        ctype = part.get_content_type()
        payload = part_payload(part)
        if ctype in _COPY_TYPES and isinstance(payload, list) and payload:
            first = payload[0]
            inner = first.get_payload()
            if isinstance(inner, str) and not first.keys():
                # A stray blank line before the copy leaves its headers in the "body".
                return email.message_from_string(inner.lstrip("\r\n"), policy=compat32)
            return first
        if ctype in _HEADER_TYPES:
            return email.message_from_string(_part_text(part).lstrip("\r\n"), policy=compat32)
    match = _EMBEDDED_HEADERS.search(text)  # plain-text reports paste the copy after a banner
    return email.message_from_string(text[match.start() :], policy=compat32) if match else None


def _addresses_in(message: Message | None, *names: str) -> set[str]:
    values = [str(v) for name in names for v in (message.get_all(name, []) if message else [])]
    return {a.lower() for _, a in getaddresses(values) if "@" in a}


def _text_failures(explanation: str, returned: Message | None, exclude: set[str]) -> list[str]:
    """Addresses on the lines of a free-text report that say a delivery failed."""
    flagged: list[str] = []
    listing = taken = False  # under a "these recipients failed:" heading; took an address
    for line in explanation.split("\n"):
        found = [a.lower() for a in _ADDRESS.findall(line)]
        if not line.strip():
            listing = listing and not taken  # a blank line ends a list, not the gap before it
        elif not found:
            ends = line.rstrip(" -*=").endswith(":") or bool(_RULED.match(line))
            listing, taken = ends and bool(_HEADING.search(line)), False
        elif not _OTHER_PARTY.search(line):
            bare = not _ADDRESS.sub("", line).strip(" <>()[]:;,.'\"\t")
            if listing or bare or _FAILURE_WORDS.search(line):
                flagged.extend(found)
                taken = taken or listing
    # Trust most what the returned copy was addressed to; then failure lines naming others.
    addressed = _addresses_in(returned, "To", "Cc")
    mentioned = [a.lower() for a in _ADDRESS.findall(explanation)]
    for choice in (
        [a for a in flagged if a in addressed],
        [a for a in mentioned if a in addressed],
        [a for a in flagged if a not in exclude],
    ):
        if choice:
            return choice
    return []


def read_report(mail: ParsedMail, parts: Sequence[Message], own_addresses: Sequence[str]) -> Report:
    """Read the report in `mail`; `parts` are its own MIME parts, not those of mail it carries."""
    report = Report()
    for value in mail.header_all("X-Failed-Recipients"):
        report.failed.extend(a.strip(" <>") for a in value.split(","))
    plain: list[str] = []
    html: list[str] = []
    for part in parts:
        ctype = part.get_content_type()
        if ctype in DSN_TYPES:
            _dsn(report, _part_text(part))
        elif ctype in ("text/plain", "text/html"):
            text = _part_text(part)
            (plain if ctype == "text/plain" else html).append(text)
    text = "\n".join(plain or [html_to_text(h) for h in html]).replace("\r\n", "\n")
    explanation = _EMBEDDED_HEADERS.split(text, maxsplit=1)[0]
    if SES_EVENT.search(text):
        _ses(report, text.strip())
    elif not report.actions:
        _dsn(report, explanation)  # some systems print the DSN fields in the text itself
    returned = _returned_headers(parts, text)
    if not report.failed and not report.actions:
        exclude = _addresses_in(returned, "From", "Sender", "Return-Path")
        exclude |= {mail.sender, *mail.to, *mail.cc, *(a.lower() for a in own_addresses)}
        report.failed.extend(_text_failures(explanation, returned, exclude))
    ids = re.findall(r"<([^<>\s]+)>", str(returned.get("Message-ID", ""))) if returned else []
    match = _TEXT_MESSAGE_ID.search(text)
    fallback = next(iter(mail.in_reply_to or mail.references[-1:]), "")
    original = report.original or (ids[0] if ids else match.group(1) if match else fallback)
    # Returned headers keep undecodable 8-bit bytes as surrogates; an id is ASCII or nothing.
    report.original = original if original.isascii() else ""
    report.failed = [a for a in report.failed if a.isascii()]
    return report


def delivery_action(mail: ParsedMail, report: Report) -> str:
    """'' for a failure; otherwise what the report says happened (delayed, delivered, ...)."""
    actions = {action for action, _ in report.actions}
    if "failed" in actions or mail.header("X-Failed-Recipients") is not None:
        return ""
    if actions:
        return next((a for a in _ACTION_RANK if a in actions), sorted(actions)[0])
    if re.match(rf"^\s*({DELAY_SUBJECT})", mail.subject, re.I):
        return "delayed"
    if _WARNING_ONLY.search(mail.text[:3000]):
        return "delayed"
    return "delivered" if re.match(rf"^\s*({DELIVERED_SUBJECT})", mail.subject, re.I) else ""
