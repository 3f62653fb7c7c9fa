"""Turns a rendered letter into RFC 5322 bytes: threading, loop-prevention headers, attachments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy
from email.utils import getaddresses

from bot.letters.render import Rendered

_REPLY_PREFIX = re.compile(r"^((?:\s*(?:re|fw|fwd)\s*:)*)\s*(.*)$", re.IGNORECASE | re.DOTALL)
_UNSAFE_ID = re.compile(r"[^a-z0-9_-]+")
_UNSAFE_DOMAIN = re.compile(r"[^a-z0-9.-]+")
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


def compose(
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
) -> bytes:
    """Build the message. `attachments` are (filename, content type, bytes)."""
    if date.tzinfo is None:
        raise ValueError("compose needs a timezone-aware date")
    if not to and not cc:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=_one_line(sender_name), addr_spec=_bare(sender))
    if to:
        msg["To"] = _addresses(to)
    if cc:
        msg["Cc"] = _addresses(cc)
    msg["Subject"] = subject_with_reference(rendered.subject, reference)
    msg["Date"] = date
    msg["Message-ID"] = _angle(message_id)
    thread = [_angle(ref) for ref in references if ref.strip()]
    if in_reply_to:
        msg["In-Reply-To"] = _angle(in_reply_to)
        # The parent belongs at the end of References (RFC 5322 3.6.4) even if the caller forgot it.
        if _angle(in_reply_to) not in thread:
            thread.append(_angle(in_reply_to))
    if thread:
        msg["References"] = " ".join(dict.fromkeys(thread))
    # Auto-Submitted and X-Auto-Response-Suppress stop auto-replies; the loop header lets our
    # own intake recognise mail we sent, even when relayed back to us.
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    msg[loop_header] = _bare(sender)
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for filename, content_type, data in attachments:
        _attach(msg, _safe_filename(filename), content_type.strip().lower(), data)
    _settle_parts(msg, message_id, rendered, attachments)
    return msg.as_bytes(policy=SMTP)


def _settle_parts(
    msg: EmailMessage,
    message_id: str,
    rendered: Rendered,
    attachments: Sequence[tuple[str, str, bytes]],
) -> None:
    """Content-derived boundaries, so the same letter always composes to the same bytes."""
    digest = hashlib.sha256(message_id.encode())
    for text in (rendered.subject, rendered.text, rendered.html):
        digest.update(text.encode("utf-8", "surrogateescape"))
    for filename, content_type, data in attachments:
        digest.update(f"{filename}\0{content_type}\0".encode("utf-8", "surrogateescape") + data)
    stem = digest.hexdigest()[:32]
    for index, part in enumerate(_own_parts(msg)):
        if part is not msg:
            # add_alternative leaves a stray MIME-Version on sub-parts; it belongs only at the top.
            del part["MIME-Version"]
        if part.is_multipart():
            part.set_boundary(f"=_{stem}_{index}")


def _own_parts(part: EmailMessage) -> list[EmailMessage]:
    """Our parts, not descending into an attached message (that stays as it was sent)."""
    found = [part]
    if part.get_content_maintype() == "multipart":
        for child in part.iter_parts():
            found.extend(_own_parts(child))  # type: ignore[arg-type]
    return found


def _attach(msg: EmailMessage, filename: str, content_type: str, data: bytes) -> None:
    if content_type == "message/rfc822":
        inner = message_from_bytes(data, policy=default_policy)
        try:
            inner.as_bytes(policy=SMTP)
        except Exception:  # the email package raises several types on such mail
            # Real mail with raw 8-bit headers cannot always be written out again as a
            # message part; send its exact bytes instead, which any mail client opens.
            msg.add_attachment(
                data, maintype="application", subtype="octet-stream", filename=filename
            )
            return
        msg.add_attachment(inner, filename=filename)
        return
    maintype, _, subtype = content_type.partition("/")
    # Multipart/message types cannot be attached as opaque bytes; send them as plain data.
    if not maintype or not subtype or maintype in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


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


def _addresses(values: Sequence[str]) -> list[Address]:
    result = []
    for value in values:
        for name, addr in getaddresses([value]):
            if "@" not in addr:
                raise ValueError(f"not an email address: {value!r}")
            result.append(Address(display_name=_one_line(name), addr_spec=addr))
    return result


def _angle(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    if not _MSG_ID.match(bare):
        raise ValueError(f"not a usable Message-ID: {message_id!r}")
    return f"<{bare}>"
