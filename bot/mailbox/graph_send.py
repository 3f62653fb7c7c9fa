"""Sending as the shared mailbox: MIME for new threads, createReply for replies, never twice."""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

from bot.mailbox.base import SentRecord
from bot.mailbox.graph_client import GraphClient, user_path
from bot.mailbox.graph_mail import GraphInbox, odata_quote
from bot.mailbox.graph_mime import (
    Outgoing,
    angle,
    parse_outgoing,
    threading_and_bcc,
    with_bcc,
)

log = logging.getLogger(__name__)

# The bot's Message-ID on every draft it makes: finds a reply's sent copy (Exchange may give
# it its own internetMessageId) and a draft a crash left behind.
MESSAGE_ID_PROPERTY = "String {6d1e5d3a-3c2b-4a8e-9f41-2b7c0c9a5e11} Name ContractConcernsMessageId"
MIME_LIMIT = 3 * 1024 * 1024  # sendMail and MIME drafts take 4 MB once base64-encoded
ATTACHMENT_LIMIT = 3 * 1024 * 1024  # larger attachments need an upload session
CHUNK = 320 * 1024 * 10  # upload ranges: a multiple of 320 KiB, under 4 MB


class GraphSender:
    """Sends letters as the shared mailbox.

    A letter goes either on its first try, when it cannot have left anything in the mailbox,
    or after `already_sent` has looked for it (the delivery loop asks before every later
    try, and after a restart). That look also finds a draft a crash left half made, which
    the send then deletes; a first try needs no look at all.
    """

    def __init__(self, client: GraphClient, address: str, inbox: GraphInbox) -> None:
        self.client = client
        self.address = address
        self.inbox = inbox
        self._leftovers: dict[str, list[str]] = {}  # message id -> drafts `already_sent` saw
        self._lock = threading.Lock()  # letters of different cases go from several threads

    def _messages(self, flt: str) -> list[dict[str, Any]]:
        params = {"$filter": flt, "$select": "id,isDraft,parentFolderId,conversationId"}
        found = self.client.call("GET", user_path(self.address, "messages"), params=params)
        return list(found.json().get("value", []))

    def _by_message_id(self, message_id: str) -> list[dict[str, Any]]:
        return self._messages(f"internetMessageId eq '{odata_quote(angle(message_id))}'")

    def _by_property(self, message_id: str) -> list[dict[str, Any]]:
        value = odata_quote(angle(message_id))
        return self._messages(
            "singleValueExtendedProperties/Any(ep: ep/id eq "
            f"'{MESSAGE_ID_PROPERTY}' and ep/value eq '{value}')"
        )

    def already_sent(self, message_id: str) -> bool:
        """Sent (a non-draft with this id or property) or held in Review: two requests at most.
        Drafts of it found elsewhere were left by a crash: the next send deletes them."""
        sent, drafts = self._look(message_id)
        with self._lock:
            self._leftovers[angle(message_id)] = [] if sent else drafts
        return sent

    def _look(self, message_id: str) -> tuple[bool, list[str]]:
        drafts: list[str] = []
        for search in (self._by_message_id, self._by_property):
            found = search(message_id)
            if any(not item.get("isDraft") for item in found):
                return True, []
            if any(item.get("isDraft") for item in found):
                review = self.inbox.folder_id("review", create=False)
                if review and any(item.get("parentFolderId") == review for item in found):
                    return True, []
                left = [str(i["id"]) for i in found if i.get("isDraft")]
                drafts += [draft for draft in left if draft not in drafts]
        return False, drafts

    def _settled(self, message_id: str) -> bool:
        """Whether a send whose answer was lost took effect (asked inside that send)."""
        return self._look(message_id)[0]

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        in_reply_to, unlisted = threading_and_bcc(message, recipients)
        original = self._original(in_reply_to)
        if original is None and len(message) <= MIME_LIMIT:
            # A new thread: Graph sends the bytes as they are and keeps them in Sent Items.
            self.client.request(
                "POST",
                user_path(self.address, "sendMail"),
                data=base64.b64encode(with_bcc(message, unlisted)),
                headers={"Content-type": "text/plain"},
                settled=lambda: self._settled(message_id),
            )
            log.info("sent %s as MIME", message_id)
            return SentRecord(message_id, "Sent Items", {"via": "sendMail"})
        outgoing = parse_outgoing(message, recipients, message_id)
        draft = self._draft(outgoing, original, folder=None)
        self.client.request(
            "POST",
            user_path(self.address, "messages", draft, "send"),
            settled=lambda: self._settled(message_id),
        )
        log.info("sent %s from a draft (reply: %s)", message_id, original is not None)
        thread = {"conversation_id": original["conversationId"]} if original else {}
        return SentRecord(message_id, "Sent Items", {"via": "draft", **thread})

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        review = self.inbox.folder_id("review")
        assert review is not None  # made when missing
        if len(message) <= MIME_LIMIT:
            self.client.request(
                "POST",
                user_path(self.address, "mailFolders", review, "messages"),
                data=base64.b64encode(message),
                headers={"Content-type": "text/plain"},
                settled=lambda: self._settled(message_id),
            )
        else:
            self._draft(parse_outgoing(message, [], message_id), None, folder=review)
        return SentRecord(message_id, "Review", {"folder": "Review"})

    def _original(self, in_reply_to: str | None, *, look: bool = False) -> dict[str, Any] | None:
        """The message being answered, when the mailbox has it (not a draft of ours): mail
        this process filed away lately is known without a request, unless `look`."""
        if not in_reply_to:
            return None
        filed = None if look else self.inbox.filed(in_reply_to)
        if filed is not None:
            return filed
        found = [m for m in self._by_message_id(in_reply_to) if not m.get("isDraft")]
        return found[0] if found else None

    def _reply_draft(self, original: dict[str, Any], fields: dict[str, Any]) -> str:
        """A reply draft in the original's thread, with every field, in one request."""
        made = self.client.call(
            "POST",
            user_path(self.address, "messages", original["id"], "createReply"),
            data={"message": fields},
            accept={404},
        )
        if made.status_code == 404:  # filed elsewhere since the bot moved it: look it up
            found = self._original(original.get("internetMessageId"), look=True)
            if found is None:  # deleted since: the letter starts a thread of its own
                where = user_path(self.address, "messages")
                return str(self.client.call("POST", where, data=fields).json()["id"])
            made = self.client.call(
                "POST",
                user_path(self.address, "messages", found["id"], "createReply"),
                data={"message": fields},
            )
        return str(made.json()["id"])

    def _draft(
        self, outgoing: Outgoing, original: dict[str, Any] | None, folder: str | None
    ) -> str:
        """A complete draft of `outgoing` (a reply in the original's thread when given)."""
        with self._lock:
            leftovers = self._leftovers.pop(outgoing.message_id, [])
        for stale in leftovers:
            # Left by a crash midway: start again rather than send a half-made draft.
            self.client.call("DELETE", user_path(self.address, "messages", stale), accept={404})
        fields = outgoing.draft_fields()
        fields["singleValueExtendedProperties"] = [
            {"id": MESSAGE_ID_PROPERTY, "value": outgoing.message_id}
        ]
        if original is not None:
            draft = self._reply_draft(original, fields)
        else:
            where = ("mailFolders", folder, "messages") if folder else ("messages",)
            made = self.client.call("POST", user_path(self.address, *where), data=fields)
            draft = str(made.json()["id"])
        for attachment in outgoing.attachments:
            attachments = user_path(self.address, "messages", draft, "attachments")
            if len(attachment.content) <= ATTACHMENT_LIMIT:
                self.client.call("POST", attachments, data=attachment.as_graph())
                continue
            item = {
                "attachmentType": "file",
                "name": attachment.name,
                "size": len(attachment.content),
                "contentType": attachment.content_type,
            }
            session = self.client.call(
                "POST", attachments + "/createUploadSession", data={"AttachmentItem": item}
            )
            upload_ranges(self.client, session.json()["uploadUrl"], attachment.content)
        return draft


def upload_ranges(client: GraphClient, upload_url: str, content: bytes) -> dict[str, Any]:
    """PUT `content` to an upload session in ranges; the last answer describes the result.
    The upload URL carries its own authorisation, so no bearer token is sent to it."""
    total = len(content)
    answer: dict[str, Any] = {}
    for start in range(0, total, CHUNK):
        chunk = content[start : start + CHUNK]
        headers = {
            "Content-type": "application/octet-stream",
            "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}",
        }
        response = client.call("PUT", upload_url, data=chunk, headers=headers, auth=False)
        answer = response.json() if response.content else {}
    return answer
