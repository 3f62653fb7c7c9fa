"""The fake Graph's in-memory mailbox: folders, messages (MIME or JSON), delta log, rendering."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid
from html.parser import HTMLParser
from typing import Any

WELL_KNOWN = ("msgfolderroot", "inbox", "sentitems", "drafts", "deleteditems")


@dataclass
class Message:
    id: str
    folder: str
    seq: int
    internet_message_id: str
    conversation_id: str
    received: datetime
    is_draft: bool
    mime: bytes | None = None  # kept exactly when the message came as MIME
    sender: str = ""
    subject: str = ""
    body: dict[str, str] = field(default_factory=lambda: {"contentType": "text", "content": ""})
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    props: dict[str, str] = field(default_factory=dict)
    attached: bool = False  # MIME with files attached (multipart/mixed), as Exchange sees it

    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]

    def as_json(self) -> dict[str, Any]:
        def people(addresses: list[str]) -> list[dict[str, Any]]:
            return [{"emailAddress": {"address": a}} for a in addresses]

        return {
            "id": self.id,
            "isDraft": self.is_draft,
            "parentFolderId": self.folder,
            "conversationId": self.conversation_id,
            "internetMessageId": self.internet_message_id,
            "receivedDateTime": self.received.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject": self.subject,
            "body": dict(self.body),
            "from": {"emailAddress": {"address": self.sender}},
            "toRecipients": people(self.to),
            "ccRecipients": people(self.cc),
            "bccRecipients": people(self.bcc),
            "hasAttachments": bool(self.attachments) or self.attached,
        }

    def render(self) -> bytes:
        """The MIME Graph gives for $value: the bytes as received, or built from the JSON."""
        if self.mime is not None:
            return self.mime
        mail = EmailMessage()
        mail["From"] = self.sender
        if self.to:
            mail["To"] = ", ".join(self.to)
        if self.cc:
            mail["Cc"] = ", ".join(self.cc)
        mail["Subject"] = self.subject
        mail["Date"] = format_datetime(self.received.astimezone(UTC))
        mail["Message-ID"] = self.internet_message_id
        if self.in_reply_to:
            mail["In-Reply-To"] = self.in_reply_to
            mail["References"] = self.in_reply_to
        content = self.body.get("content", "")
        if self.body.get("contentType") == "html":
            # Exchange sends an HTML body with a plain-text alternative it derives itself.
            mail.set_content(_text_of(content))
            mail.add_alternative(content, subtype="html")
        else:
            mail.set_content(content)
        for item in self.attachments:
            maintype, _, sub = str(item["contentType"]).partition("/")
            mail.add_attachment(
                item["content"],
                maintype=maintype,
                subtype=sub or "octet-stream",
                filename=item["name"],
            )
        rendered = mail.as_bytes()
        if not self.is_draft:
            self.mime = rendered  # a sent message no longer changes: render it once
        return rendered


def _addresses(mail: EmailMessage, header: str) -> list[str]:
    return [a for _, a in getaddresses([str(v) for v in mail.get_all(header, [])]) if a]


class MailStore:
    """One shared mailbox as Exchange would hold it."""

    def __init__(self, address: str, clock: Any) -> None:
        self.address = address
        self.now = clock
        self._ids = itertools.count(1)
        self.seq = 0
        self.folders: dict[str, dict[str, str]] = {}
        for name in WELL_KNOWN:
            parent = "" if name == "msgfolderroot" else self.alias("msgfolderroot")
            self.add_folder(name, parent, fid=f"folder-{name}")
        self.messages: dict[str, Message] = {}
        self.delta_log: list[tuple[int, str, str]] = []  # (seq, "added"/"removed", id)

    def new_id(self, prefix: str = "AAMk") -> str:
        return f"{prefix}{next(self._ids):06d}="

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def add_folder(self, name: str, parent: str, fid: str | None = None) -> dict[str, str]:
        folder = {"id": fid or self.new_id("AQMk"), "displayName": name, "parentFolderId": parent}
        self.folders[folder["id"]] = folder
        return folder

    def alias(self, name_or_id: str) -> str:
        if name_or_id in self.folders:
            return name_or_id
        return f"folder-{name_or_id.lower()}" if name_or_id.lower() in WELL_KNOWN else ""

    def folder_named(self, name: str) -> str | None:
        return next((f["id"] for f in self.folders.values() if f["displayName"] == name), None)

    def in_folder(self, folder_id: str) -> list[Message]:
        return sorted((m for m in self.messages.values() if m.folder == folder_id), key=_order)

    def by_message_id(self, internet_message_id: str) -> Message | None:
        return next(
            (m for m in self.messages.values() if m.internet_message_id == internet_message_id),
            None,
        )

    def _conversation(self, refs: list[str]) -> str:
        for ref in refs:
            known = self.by_message_id(ref)
            if known is not None:
                return known.conversation_id
        return f"conv-{next(self._ids)}"

    def put(self, message: Message) -> Message:
        self.messages[message.id] = message
        if message.folder == self.alias("inbox"):
            self.delta_log.append((self.tick(), "added", message.id))
        return message

    def from_mime(self, raw: bytes, folder: str, *, draft: bool, received: datetime) -> Message:
        # Only the headers are read: the bytes are kept whole and given back as they came.
        mail = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        assert isinstance(mail, EmailMessage)
        refs = str(mail["In-Reply-To"] or "").split() + str(mail["References"] or "").split()
        senders = _addresses(mail, "From")
        return self.put(
            Message(
                id=self.new_id(),
                folder=folder,
                seq=self.tick(),
                internet_message_id=str(mail["Message-ID"] or make_msgid()).strip(),
                conversation_id=self._conversation(refs),
                received=received,
                is_draft=draft,
                mime=raw,
                sender=senders[0] if senders else self.address,
                subject=str(mail["Subject"] or ""),
                to=_addresses(mail, "To"),
                cc=_addresses(mail, "Cc"),
                bcc=_addresses(mail, "Bcc"),
                in_reply_to=refs[0] if refs else None,
                attached=mail.get_content_type() == "multipart/mixed",
            )
        )

    def from_json(self, data: dict[str, Any], folder: str, *, draft: bool) -> Message:
        message = Message(
            id=self.new_id(),
            folder=folder,
            seq=self.tick(),
            internet_message_id=make_msgid(domain="fake.outlook.test"),
            conversation_id=f"conv-{next(self._ids)}",
            received=self.now(),
            is_draft=draft,
            sender=self.address,
        )
        self.update(message, data)
        return self.put(message)

    def update(self, message: Message, data: dict[str, Any]) -> None:
        def people(key: str) -> list[str]:
            return [r["emailAddress"]["address"] for r in data.get(key) or []]

        message.mime = None if message.is_draft else message.mime
        if "subject" in data:
            message.subject = str(data["subject"])
        if "body" in data:
            message.body = dict(data["body"])
        for key, attr in (("toRecipients", "to"), ("ccRecipients", "cc"), ("bccRecipients", "bcc")):
            if key in data:
                setattr(message, attr, people(key))
        if "internetMessageId" in data:
            message.internet_message_id = str(data["internetMessageId"])
        for prop in data.get("singleValueExtendedProperties") or []:
            message.props[prop["id"]] = str(prop["value"])
        if message.folder == self.alias("inbox"):
            self.delta_log.append((self.tick(), "added", message.id))  # reported as updated

    def move(self, message: Message, folder: str) -> Message:
        """A move gives the message a new id, as Exchange does (unless immutable ids)."""
        del self.messages[message.id]
        if message.folder == self.alias("inbox"):
            self.delta_log.append((self.tick(), "removed", message.id))
        message.id = self.new_id()
        message.folder = folder
        return self.put(message)

    def delta(self, since: int | None, select: list[str]) -> list[dict[str, Any]]:
        """Changes to the Inbox since `since` (everything in it when None)."""
        inbox = self.alias("inbox")

        def shown(message: Message) -> dict[str, Any]:
            full = message.as_json()
            return {k: v for k, v in full.items() if not select or k in select or k == "id"}

        if since is None:
            return [shown(m) for m in self.in_folder(inbox)]
        changes: dict[str, dict[str, Any]] = {}
        for seq, kind, mid in self.delta_log:
            if seq <= since:
                continue
            changes.pop(mid, None)
            current = self.messages.get(mid)
            if kind == "removed":
                changes[mid] = {"id": mid, "@removed": {"reason": "deleted"}}
            elif current is not None and current.folder == inbox:
                changes[mid] = shown(current)
        return list(changes.values())


def _order(message: Message) -> tuple[datetime, int]:
    return (message.received, message.seq)


class _Text(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script", "head")
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script", "head")
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"
