"""Turns a rendered letter into RFC 5322 bytes: threading, loop-prevention headers, attachments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.generator import BytesGenerator
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from functools import wraps
from io import BytesIO
from typing import ParamSpec

from bot.letters.attached import Chunk, Splice, as_message_part, attachment_part, spliced
from bot.letters.headers import (
    UTF8,
    WIRE,
    addresses,
    angle,
    bare,
    header_value,
    mailbox,
    one_line,
)
from bot.letters.render import Rendered
from bot.letters.wire import alternative, with_messages

P = ParamSpec("P")

_REPLY_PREFIX = re.compile(r"^((?:\s*(?:re|fw|fwd)\s*:)*)\s*(.*)$", re.IGNORECASE | re.DOTALL)
_UNSAFE_ID = re.compile(r"[^a-z0-9_-]+")
_UNSAFE_DOMAIN = re.compile(r"[^a-z0-9.-]+")
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def subject_with_reference(subject: str, reference: str) -> str:
    """The subject with exactly one "[REF]", after any Re:/Fwd: prefixes."""
    flat = " ".join(subject.split())
    if not reference:
        return flat
    tag = f"[{reference}]"
    wanted = reference.lower()

    def untagged(match: re.Match[str]) -> str:
        return " " if match.group(1).strip().lower() == wanted else match.group(0)

    # One pattern for every reference: a pattern made per reference missed re's cache.
    flat = " ".join(_BRACKETED.sub(untagged, flat).split())
    match = _REPLY_PREFIX.match(flat)
    prefix, rest = (match.group(1).strip(), match.group(2)) if match else ("", flat)
    return " ".join(part for part in (prefix, tag, rest) if part)


def message_id_for(reference: str, *parts: str, domain: str) -> str:
    """A deterministic Message-ID (no angle brackets), so a re-sent letter keeps its identity."""
    pieces = [_UNSAFE_ID.sub("-", piece.lower()).strip("-") for piece in (reference, *parts)]
    local = ".".join(piece for piece in pieces if piece)
    host = ".".join(p for p in _UNSAFE_DOMAIN.sub("-", domain.lower()).split(".") if p)
    if not local or not host:
        raise ValueError(f"cannot build a Message-ID from {reference!r}, {parts!r} @ {domain!r}")
    return f"{local}@{host}"


def _joined(chunks: Callable[P, Iterator[Chunk]]) -> Callable[P, bytes]:
    @wraps(chunks)
    def joined(*args: P.args, **kwargs: P.kwargs) -> bytes:
        return b"".join(chunks(*args, **kwargs))

    joined.__doc__ = "The letter `compose_chunks` writes, as one bytes object."
    return joined


def compose_chunks(
    *,
    rendered: Rendered,
    sender: str,
    sender_name: str,
    to: Sequence[str],
    cc: Sequence[str],
    reference: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    date: datetime,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    auto_submitted: str = "auto-generated",
    loop_header: str = "X-Contract-Concerns-Loop",
    generic: bool = False,
) -> Iterator[Chunk]:
    """Build the message, as chunks to write out. `attachments` are (filename, content type,
    bytes); a large one is never copied whole, so a letter can go straight to a file.

    A letter with no attachment (most of them) is written by `wire.alternative`, in a fifth
    of the time the email package takes, and one carrying emails by `wire.with_messages`;
    with other attachments, or `generic`, the email package's compat32 classes write it. The
    ways give the same bytes (tests/test_letters.py).
    """
    if date.tzinfo is None:
        raise ValueError("compose needs a timezone-aware date")
    if not to and not cc:
        raise ValueError("a message needs at least one recipient")
    headers: list[tuple[str, str]] = [("From", mailbox(one_line(sender_name), bare(sender)))]
    if to:
        headers.append(("To", addresses(to)))
    if cc:
        headers.append(("Cc", addresses(cc)))
    headers.append(("Subject", header_value(subject_with_reference(rendered.subject, reference))))
    headers.append(("Date", format_datetime(date)))
    headers.append(("Message-ID", angle(message_id)))
    thread = [angle(ref) for ref in references if ref.strip()]
    if in_reply_to:
        headers.append(("In-Reply-To", angle(in_reply_to)))
        # The parent belongs at the end of References (RFC 5322 3.6.4) even if the caller forgot it.
        if angle(in_reply_to) not in thread:
            thread.append(angle(in_reply_to))
    if thread:
        headers.append(("References", " ".join(dict.fromkeys(thread))))
    # Auto-Submitted and X-Auto-Response-Suppress stop auto-replies; the loop header lets our
    # own intake recognise mail we sent, even when relayed back to us.
    headers.append(("Auto-Submitted", auto_submitted))
    headers.append(("X-Auto-Response-Suppress", "All"))
    headers.append((loop_header, bare(sender)))
    stem = _stem(message_id, rendered, attachments)
    if not attachments and not generic:
        yield alternative(headers, f"=_{stem}_0", rendered.text, rendered.html)
        return
    messages = [] if generic else _messages(attachments)
    if messages:
        yield from with_messages(headers, stem, rendered.text, rendered.html, messages)
        return
    body: Message = MIMEMultipart(
        "alternative", _subparts=[_text(rendered.text, "plain"), _text(rendered.html, "html")]
    )
    splices: list[Splice] = []  # contents written in only as the letter is written out
    if attachments:
        parts = [body] + [
            attachment_part(_safe_filename(name), kind.strip().lower(), data, splices)
            for name, kind, data in attachments
        ]
        body = MIMEMultipart("mixed", _subparts=parts)
    for name, value in headers:
        body[name] = value
    _settle_parts(body, stem)
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=WIRE).flatten(body)
    yield from spliced(out.getvalue(), splices)


compose = _joined(compose_chunks)


def _text(content: str, subtype: str) -> MIMEText:
    # Plain ASCII goes as 7bit; anything else as quoted-printable UTF-8, still readable raw.
    # The stubs say str, but the email package takes a Charset here (it is what it uses inside).
    return MIMEText(content, subtype, "us-ascii" if content.isascii() else UTF8)  # type: ignore[arg-type]


def _stem(
    message_id: str, rendered: Rendered, attachments: Sequence[tuple[str, str, bytes]]
) -> str:
    """Content-derived boundaries, so the same letter always composes to the same bytes."""
    digest = hashlib.sha256(message_id.encode())
    for text in (rendered.subject, rendered.text, rendered.html):
        digest.update(text.encode("utf-8", "surrogateescape"))
    for filename, content_type, data in attachments:
        digest.update(f"{filename}\0{content_type}\0".encode("utf-8", "surrogateescape"))
        digest.update(data)  # apart, not concatenated: no copy of a large attachment
    return digest.hexdigest()[:32]


def _settle_parts(msg: Message, stem: str) -> None:
    for index, part in enumerate(_own_parts(msg)):
        if part is not msg:
            del part["MIME-Version"]  # the MIME classes put one on every part; it belongs on top
        if part.is_multipart():
            part.set_boundary(f"=_{stem}_{index}")


def _own_parts(part: Message) -> list[Message]:
    """Our parts, not descending into an attached message (that stays as it was sent)."""
    found = [part]
    if part.get_content_maintype() == "multipart":
        for child in part.get_payload():
            if isinstance(child, Message):
                found.extend(_own_parts(child))
    return found


def _messages(attachments: Sequence[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each attachment when every one is an email that can travel as a
    message part (`wire.with_messages` writes those); else empty."""
    found = []
    for name, kind, data in attachments:
        wire = as_message_part(data) if kind.strip().lower() == "message/rfc822" else None
        if wire is None:
            return []
        found.append((_safe_filename(name), wire))
    return found


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name or "attachment"
