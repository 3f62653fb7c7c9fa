"""Turns a rendered letter into RFC 5322 bytes: threading, loop-prevention headers, attachments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses
from functools import wraps
from io import BytesIO
from typing import ParamSpec, cast

from bot.letters.attached import Chunk, Splice, attachment_part, spliced
from bot.letters.render import Rendered

P = ParamSpec("P")

_REPLY_PREFIX = re.compile(r"^((?:\s*(?:re|fw|fwd)\s*:)*)\s*(.*)$", re.IGNORECASE | re.DOTALL)
_UNSAFE_ID = re.compile(r"[^a-z0-9_-]+")
_UNSAFE_DOMAIN = re.compile(r"[^a-z0-9.-]+")
_WIRE = compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
_MSG_ID = re.compile(r"^[!#$%&'*+/=?^_`{|}~a-zA-Z0-9.-]+@[a-zA-Z0-9.\[\]:-]+$")


def subject_with_reference(subject: str, reference: str) -> str:
    """The subject with exactly one "[REF]", after any Re:/Fwd: prefixes."""
    flat = " ".join(subject.split())
    if not reference:
        return flat
    tag = f"[{reference}]"
    flat = " ".join(re.sub(rf"\[\s*{re.escape(reference)}\s*\]", " ", flat, flags=re.I).split())
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
) -> Iterator[Chunk]:
    """Build the message, as chunks to write out. `attachments` are (filename, content type,
    bytes); a large one is never copied whole, so a letter can go straight to a file.

    Written with the email package's compat32 classes: every header is formatted here, so the
    package does not parse each one back into objects, which made composing a letter the
    largest single cost of intake.
    """
    if date.tzinfo is None:
        raise ValueError("compose needs a timezone-aware date")
    if not to and not cc:
        raise ValueError("a message needs at least one recipient")
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
    body["From"] = _mailbox(_one_line(sender_name), _bare(sender))
    if to:
        body["To"] = _addresses(to)
    if cc:
        body["Cc"] = _addresses(cc)
    body["Subject"] = _header(subject_with_reference(rendered.subject, reference))
    body["Date"] = format_datetime(date)
    body["Message-ID"] = _angle(message_id)
    thread = [_angle(ref) for ref in references if ref.strip()]
    if in_reply_to:
        body["In-Reply-To"] = _angle(in_reply_to)
        # The parent belongs at the end of References (RFC 5322 3.6.4) even if the caller forgot it.
        if _angle(in_reply_to) not in thread:
            thread.append(_angle(in_reply_to))
    if thread:
        body["References"] = " ".join(dict.fromkeys(thread))
    # Auto-Submitted and X-Auto-Response-Suppress stop auto-replies; the loop header lets our
    # own intake recognise mail we sent, even when relayed back to us.
    body["Auto-Submitted"] = auto_submitted
    body["X-Auto-Response-Suppress"] = "All"
    body[loop_header] = _bare(sender)
    _settle_parts(body, message_id, rendered, attachments)
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_WIRE).flatten(body)
    return spliced(out.getvalue(), splices)


compose = _joined(compose_chunks)


def _text(content: str, subtype: str) -> MIMEText:
    # Plain ASCII goes as 7bit; anything else as quoted-printable UTF-8, still readable raw.
    # The stubs say str, but the email package takes a Charset here (it is what it uses inside).
    return MIMEText(content, subtype, "us-ascii" if content.isascii() else _UTF8)  # type: ignore[arg-type]


def _header(value: str) -> str:
    if value.isascii():
        return value
    # compat32 takes a Header and folds its encoded words itself; the stubs say str only.
    return cast(str, Header(value, _UTF8))


def _settle_parts(
    msg: Message,
    message_id: str,
    rendered: Rendered,
    attachments: Sequence[tuple[str, str, bytes]],
) -> None:
    """Content-derived boundaries, so the same letter always composes to the same bytes."""
    digest = hashlib.sha256(message_id.encode())
    for text in (rendered.subject, rendered.text, rendered.html):
        digest.update(text.encode("utf-8", "surrogateescape"))
    for filename, content_type, data in attachments:
        digest.update(f"{filename}\0{content_type}\0".encode("utf-8", "surrogateescape"))
        digest.update(data)  # apart: joining them would copy the attachment
    stem = digest.hexdigest()[:32]
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


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name or "attachment"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _bare(address: str) -> str:
    found = getaddresses([address])
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"not an email address: {address!r}")
    return found[0][1]


def _mailbox(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _addresses(values: Sequence[str]) -> str:
    result = []
    for value in values:
        for name, addr in getaddresses([value]):
            if "@" not in addr:
                raise ValueError(f"not an email address: {value!r}")
            result.append(_mailbox(_one_line(name), addr))
    return ", ".join(result)


def _angle(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    if not _MSG_ID.match(bare):
        raise ValueError(f"not a usable Message-ID: {message_id!r}")
    return f"<{bare}>"
