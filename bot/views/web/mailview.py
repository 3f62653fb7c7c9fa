"""An email as the dashboard shows it: a few headers, the text or cleaned HTML, attachments.

Mail is hostile input. The body is shown as text, or as HTML cleaned by nh3 (Ammonia): no
script, style, form, frame or image survives, links keep only http, https and mailto
addresses and open nothing in this window's context. Attachments are only ever downloads.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

import nh3
from markupsafe import Markup

from bot.intake.parse import (
    MailParseError,
    decode_bytes,
    decode_header_value,
    leaves,
    parse_mail,
    part_payload,
    raw_filename,
)

_MAX_DEPTH = 20
# What a cleaned email may keep: text structure, links and tables, nothing that loads or runs.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Part:
    """One attachment: what the page lists and what a download sends."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailView:
    sender: str
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: str
    text: str
    html: Markup | None  # cleaned; None when the email has no HTML body
    attachments: tuple[Part, ...]


def clean_html(html: str) -> Markup:
    """HTML from an email made inert: what nh3 keeps is safe to put in the page as it is."""
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # nh3's output is safe to show: that is what it is for


def safe_filename(name: str, fallback: str) -> str:
    """A name for Content-Disposition: plain characters only, never a path."""
    base = _SAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:100] or fallback


def _is_body(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    textual = part.get_content_type() in ("text/plain", "text/html")
    return textual and disposition != "attachment" and not raw_filename(part)


def read_mail(raw: bytes) -> MailView:
    """How the dashboard shows `raw`; unreadable mail still shows as its text."""
    try:
        parsed = parse_mail(raw)
    except MailParseError:
        text = raw.decode("utf-8", "replace")
        return MailView("", "", (), (), "(unreadable email)", "", text, None, ())
    message = email.message_from_bytes(raw, policy=compat32)
    html: str | None = None
    parts: list[Part] = []
    for number, part in enumerate(leaves(message, max_depth=_MAX_DEPTH), start=1):
        if _is_body(part):
            if part.get_content_type() == "text/html" and html is None:
                payload = part_payload(part)
                if isinstance(payload, bytes):
                    html = decode_bytes(payload, part.get_content_charset())
            continue
        payload = part_payload(part)
        data = payload if isinstance(payload, bytes) else b"".join(m.as_bytes() for m in payload)
        name = safe_filename(decode_header_value(raw_filename(part)), f"attachment-{number}")
        parts.append(Part(name, part.get_content_type(), data))
    return MailView(
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject,
        date=parsed.date.isoformat() if parsed.date else "",
        text=parsed.text,
        html=clean_html(html) if html and html.strip() else None,
        attachments=tuple(parts),
    )
