"""Reads an outgoing RFC 5322 message into the JSON pieces Graph's draft API takes."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: bytes
    content_id: str | None = None

    def as_graph(self) -> dict[str, Any]:
        """A fileAttachment for POST …/attachments (under 3 MB)."""
        item: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": self.name,
            "contentType": self.content_type,
            "contentBytes": base64.b64encode(self.content).decode("ascii"),
        }
        if self.content_id:
            item |= {"contentId": self.content_id, "isInline": True}
        return item


@dataclass(frozen=True)
class Outgoing:
    """What a draft needs: recipients, subject, one body, the attachments, the thread."""

    message_id: str
    subject: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    body_type: str  # "text" or "html"
    body: str
    in_reply_to: str | None
    unlisted: list[str] = field(default_factory=list)  # recipients named in no header
    attachments: list[Attachment] = field(default_factory=list)

    def draft_fields(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body": {"contentType": self.body_type, "content": self.body},
            "toRecipients": _recipients(self.to),
            "ccRecipients": _recipients(self.cc),
            "bccRecipients": _recipients(self.bcc),
            "internetMessageId": self.message_id,
        }


def with_bcc(raw: bytes, addresses: list[str]) -> bytes:
    """`raw` with a Bcc header first: Graph sends MIME to the addresses its headers name."""
    if not addresses:
        return raw
    newline = b"\r\n" if b"\r\n" in raw.split(b"\n", 1)[0] + b"\n" else b"\n"
    return b"Bcc: " + ", ".join(addresses).encode("ascii") + newline + raw


def angle(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def _recipients(addresses: list[str]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"address": a}} for a in addresses]


def _addresses(mail: EmailMessage, header: str) -> list[str]:
    return [addr for _, addr in getaddresses([str(v) for v in mail.get_all(header, [])]) if addr]


def threading_and_bcc(raw: bytes, recipients: list[str]) -> tuple[str | None, list[str]]:
    """What sending a new thread as MIME needs of `raw`: the message it answers, and who of
    `recipients` no header names (they go in Bcc). Read from the headers alone, with the
    lighter compat32 parser: most letters go this way, and need no more."""
    head = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
    named = [str(v) for h in ("To", "Cc", "Bcc") for v in head.get_all(h, [])]
    listed = {addr.lower() for _, addr in getaddresses(named) if addr}
    unlisted = [a for a in recipients if a.lower() not in listed]
    in_reply_to = str(head["In-Reply-To"]).split() if head["In-Reply-To"] else []
    return (in_reply_to[0] if in_reply_to else None), unlisted


def read_message(raw: bytes) -> EmailMessage:
    """`raw` as the email package reads it with policy.default, in under half the time.

    Both policies keep a header as the same raw text and parse it when it is asked for; the
    parser asks for each part's Content-Type again and again, which policy.default parses
    each time. So the parse runs under compat32, and every part is read under policy.default
    after it (`tests/test_graph_mime.py` holds the two equal)."""
    mail = BytesParser(_class=EmailMessage, policy=compat32).parsebytes(raw)
    for part in mail.walk():
        part.policy = policy.default
    assert isinstance(mail, EmailMessage)
    return mail


def parse_outgoing(raw: bytes, recipients: list[str], message_id: str) -> Outgoing:
    """The parts of `raw`; anyone in `recipients` but not in To or Cc goes in Bcc."""
    mail = read_message(raw)
    to, cc, listed_bcc = _addresses(mail, "To"), _addresses(mail, "Cc"), _addresses(mail, "Bcc")
    listed = {a.lower() for a in to + cc + listed_bcc}
    unlisted = [a for a in recipients if a.lower() not in listed]
    body_part = mail.get_body(preferencelist=("html", "plain"))
    if body_part is None:
        body_type, body = "text", ""
    else:
        body_type = "html" if body_part.get_content_subtype() == "html" else "text"
        body = str(body_part.get_content())
    attachments = []
    for part in mail.iter_attachments():
        if not isinstance(part, EmailMessage) or part.is_multipart():
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        content_id = str(part["Content-ID"]).strip("<>") if part["Content-ID"] else None
        name = part.get_filename() or (content_id or "attachment")
        attachments.append(Attachment(name, part.get_content_type(), content, content_id))
    in_reply_to = str(mail["In-Reply-To"]).split()[0] if mail["In-Reply-To"] else None
    return Outgoing(
        message_id=angle(message_id),
        subject=str(mail["Subject"] or ""),
        to=to,
        cc=cc,
        bcc=listed_bcc + unlisted,
        unlisted=unlisted,
        body_type=body_type,
        body=body,
        in_reply_to=in_reply_to,
        attachments=attachments,
    )
