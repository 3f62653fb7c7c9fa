"""The fake Graph's mail endpoints: folders, delta, MIME, moves, drafts, sending, uploads."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from backends.graph_fake_call import (
    ANY_PROPERTY,
    ATTACHMENT_LIMIT,
    DISPLAY_NAME,
    MESSAGE_ID,
    SIMPLE_UPLOAD_LIMIT,
    Call,
    Reply,
    error,
    reply,
    unq,
)
from backends.graph_fake_office import OfficeApi
from backends.graph_fake_store import MailStore, Message

DELTA_PAGE = 10  # Graph's page of a message delta when the client states no preference


@dataclass
class Upload:
    size: int
    finish: Callable[[bytes], Reply]
    data: bytearray = field(default_factory=bytearray)


class GraphApi(OfficeApi):
    """Answers Graph calls from one MailStore plus a calendar, a drive and a directory."""

    def __init__(self, store: MailStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url
        self.events: dict[str, dict[str, Any]] = {}
        self.drive: dict[str, bytes] = {}  # "drive/path" -> content
        self.managers: dict[str, str | None] = {}
        self.uploads: dict[str, Upload] = {}
        self.delta_pages: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self.delta_tokens: dict[str, tuple[int, list[str]]] = {}
        # Graph pages a message delta by 10, or by the client's odata.maxpagesize; a test
        # that wants to see paging with a few messages sets a smaller cap here.
        self.page_size: int | None = None
        self._tokens = itertools.count(1)

    # -- helpers ------------------------------------------------------------------

    def _message(self, call: Call) -> Message | None:
        return self.store.messages.get(call.params["mid"])

    def _select(self, call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fields = [f for f in call.query.get("$select", "").split(",") if f]
        if not fields:
            return items
        return [{k: v for k, v in i.items() if k in fields or k == "id"} for i in items]

    # -- mail -----------------------------------------------------------------------

    def delta(self, call: Call) -> Reply:
        user = quote(self.store.address)
        link = f"{self.base_url}v1.0/users/{user}/mailFolders/inbox/messages/delta"
        if "$skiptoken" in call.query:
            saved = self.delta_pages.pop(call.query["$skiptoken"], None)
            if saved is None:
                return error(400, "SyncStateInvalid", "unknown skip token")
            entries, delta_link = saved
        else:
            since: int | None = None
            select = [f for f in call.query.get("$select", "").split(",") if f]
            if "$deltatoken" in call.query:
                known = self.delta_tokens.get(call.query["$deltatoken"])
                if known is None:
                    return error(410, "SyncStateNotFound", "the delta token has expired")
                since, select = known
            entries = self.store.delta(since, select)
            token = f"d{next(self._tokens)}"
            self.delta_tokens[token] = (self.store.seq, select)
            delta_link = f"{link}?$deltatoken={token}"
        prefer = re.search(r"odata\.maxpagesize=(\d+)", call.headers.get("prefer", ""))
        size = int(prefer.group(1)) if prefer else DELTA_PAGE
        size = min(size, self.page_size) if self.page_size else size
        page, rest = entries[:size], entries[size:]
        answer: dict[str, Any] = {"value": page}
        if rest:
            token = f"s{next(self._tokens)}"
            self.delta_pages[token] = (rest, delta_link)
            answer["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            answer["@odata.deltaLink"] = delta_link
        return reply(200, answer)

    def value(self, call: Call) -> Reply:
        message = self._message(call)
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        return 200, {"Content-Type": "text/plain"}, message.render()

    def list_messages(self, call: Call) -> Reply:
        flt = call.query.get("$filter", "")
        found: list[Message]
        if match := MESSAGE_ID.match(flt):
            found = [
                m for m in self.store.messages.values() if m.internet_message_id == unq(match[1])
            ]
        elif match := ANY_PROPERTY.match(flt):
            pid, value = unq(match[1]), unq(match[2])
            found = [m for m in self.store.messages.values() if m.props.get(pid) == value]
        elif not flt and "$top" in call.query:  # the first few, as doctor's read check asks
            found = list(self.store.messages.values())[: int(call.query["$top"])]
        else:
            return error(400, "ErrorInvalidUrlQueryFilter", f"unsupported filter {flt!r}")
        return reply(200, {"value": self._select(call, [m.as_json() for m in found])})

    def create_message(self, call: Call) -> Reply:
        folder = self.store.alias(call.params.get("fid", "drafts"))
        if not folder:
            return error(404, "ErrorItemNotFound", "no such folder")
        if call.headers.get("content-type", "").startswith("text/plain"):
            raw = base64.b64decode(call.body)
            made = self.store.from_mime(raw, folder, draft=True, received=self.store.now())
        else:
            made = self.store.from_json(call.json(), folder, draft=True)
        return reply(201, made.as_json())

    def child_folders(self, call: Call) -> Reply:
        parent = self.store.alias(call.params["fid"])
        children = [f for f in self.store.folders.values() if f["parentFolderId"] == parent]
        if match := DISPLAY_NAME.match(call.query.get("$filter", "")):
            children = [f for f in children if f["displayName"] == unq(match[1])]
        return reply(200, {"value": self._select(call, children)})

    def create_folder(self, call: Call) -> Reply:
        parent = self.store.alias(call.params["fid"])
        name = str(call.json()["displayName"])
        if any(
            f["parentFolderId"] == parent and f["displayName"] == name
            for f in self.store.folders.values()
        ):
            return error(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        return reply(201, self.store.add_folder(name, parent))

    def move(self, call: Call) -> Reply:
        message = self._message(call)
        destination = self.store.alias(str(call.json().get("destinationId", "")))
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        if not destination:
            return error(400, "ErrorInvalidIdMalformed", "bad destination")
        return reply(201, self.store.move(message, destination).as_json())

    def create_reply(self, call: Call) -> Reply:
        original = self._message(call)
        if original is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        asked = call.json()
        changes = asked.get("message") or {}
        if "comment" in asked and "body" in changes:
            # Graph: a comment or the message's body, never both.
            return error(400, "ErrorInvalidRequest", "specify either comment or message body")
        draft = self.store.from_json(
            {
                "subject": f"RE: {original.subject}",
                "toRecipients": [{"emailAddress": {"address": original.sender}}],
                "body": {"contentType": "text", "content": str(asked.get("comment") or "")},
            },
            self.store.alias("drafts"),
            draft=True,
        )
        draft.conversation_id = original.conversation_id
        draft.in_reply_to = original.internet_message_id
        # Any writeable property of the reply may come with the request, as with a PATCH.
        self.store.update(draft, changes)
        return reply(201, draft.as_json())

    def patch_message(self, call: Call) -> Reply:
        message = self._message(call)
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        data = call.json()
        if "internetMessageId" in data and not message.is_draft:
            return error(400, "ErrorInvalidPropertyUpdateSentMessage", "only drafts")
        self.store.update(message, data)
        return reply(200, message.as_json())

    def delete_message(self, call: Call) -> Reply:
        message = self._message(call)
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        self.store.move(message, self.store.alias("deleteditems"))
        return reply(204)

    def send_mail(self, call: Call) -> Reply:
        sent = self.store.alias("sentitems")
        if call.headers.get("content-type", "").startswith("text/plain"):
            if len(call.body) > SIMPLE_UPLOAD_LIMIT:
                return error(413, "ErrorRequestEntityTooLarge", "over 4 MB")
            raw = base64.b64decode(call.body)
            self.store.from_mime(raw, sent, draft=False, received=self.store.now())
        else:
            data = call.json()["message"]
            made = self.store.from_json(data, sent, draft=False)
            made.attachments = [_attachment(a) for a in data.get("attachments", [])]
        return reply(202)

    def send_draft(self, call: Call) -> Reply:
        draft = self._message(call)
        if draft is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        if not draft.is_draft:
            return error(400, "ErrorInvalidOperation", "not a draft")
        draft.is_draft = False
        draft.received = self.store.now()
        self.store.move(draft, self.store.alias("sentitems"))
        return reply(202)

    def add_attachment(self, call: Call) -> Reply:
        message = self._message(call)
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        item = _attachment(call.json())
        if len(item["content"]) > ATTACHMENT_LIMIT:
            return error(413, "ErrorRequestEntityTooLarge", "use an upload session over 3 MB")
        message.attachments.append(item)
        return reply(201, {"id": f"att-{len(message.attachments)}", "name": item["name"]})

    def attachment_session(self, call: Call) -> Reply:
        message = self._message(call)
        if message is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        item = call.json()["AttachmentItem"]

        def finish(content: bytes) -> Reply:
            message.attachments.append(
                {"name": item["name"], "contentType": item.get("contentType"), "content": content}
            )
            return reply(201)

        return self._session(int(item["size"]), finish)

    def _session(self, size: int, finish: Callable[[bytes], Reply]) -> Reply:
        token = f"u{next(self._tokens)}"
        self.uploads[token] = Upload(size, finish)
        return reply(
            200,
            {
                "uploadUrl": f"{self.base_url}upload/{token}",
                "expirationDateTime": "2099-01-01T00:00:00Z",
                "nextExpectedRanges": ["0-"],
            },
        )

    def upload_put(self, call: Call) -> Reply:
        upload = self.uploads.get(call.params["token"])
        if upload is None:
            return error(404, "itemNotFound", "no such upload session")
        if "authorization" in call.headers:
            return error(401, "invalidRequest", "the upload URL is pre-authenticated: no token")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", call.headers.get("content-range", ""))
        if match and upload.size < 0:
            upload.size = int(match[3])
        if not match or int(match[1]) != len(upload.data) or int(match[3]) != upload.size:
            return error(416, "invalidRange", "unexpected range")
        if int(match[2]) - int(match[1]) + 1 != len(call.body):
            return error(400, "invalidRange", "length does not match the range")
        upload.data.extend(call.body)
        if len(upload.data) < upload.size:
            return reply(202, {"nextExpectedRanges": [f"{len(upload.data)}-"]})
        del self.uploads[call.params["token"]]
        return upload.finish(bytes(upload.data))


def _attachment(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data.get("name", "attachment"),
        "contentType": data.get("contentType") or "application/octet-stream",
        "content": base64.b64decode(data.get("contentBytes", "")),
    }
