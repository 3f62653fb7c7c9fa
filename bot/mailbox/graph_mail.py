"""The Inbox through Graph: delta polling with pending mail kept in the state, folders, moves."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bot.mailbox.base import IncomingMail, MailboxState
from bot.mailbox.graph_batch import Part, run_batches
from bot.mailbox.graph_client import CONCURRENT, GraphClient, user_path
from bot.mailbox.graph_mime import angle

log = logging.getLogger(__name__)

DELTA_SELECT = "id,isDraft,receivedDateTime,internetMessageId,conversationId,hasAttachments"
PAGE_SIZE = 50
# A body a batch did not bring is fetched alone, which raises as any request does.
ANY_ERROR = frozenset(range(400, 600))
FILED_KEPT = 5000  # moved messages remembered for the letters that answer them
FOLDER_NAMES = {"processed": "Processed", "quarantine": "Quarantine", "review": "Review"}
# A named MAPI property on quarantined mail: why the bot set it aside, seen by admins' tools.
REASON_PROPERTY = "String {6d1e5d3a-3c2b-4a8e-9f41-2b7c0c9a5e11} Name ContractConcernsQuarantine"


def odata_quote(value: str) -> str:
    return value.replace("'", "''")


class GraphInbox:
    """Finds new Inbox mail by delta query and moves handled mail to the bot's folders.

    Ids fetched but not yet moved stay "pending" in the state, so a mail whose handling
    failed is offered again by the next poll, also after a restart.
    """

    def __init__(self, client: GraphClient, address: str, state: MailboxState) -> None:
        self.client = client
        self.address = address
        self.state = state
        self._folders: dict[str, str] = dict(state.get("folders") or {})
        self._folder_lock = threading.Lock()  # letters are sent from several threads
        # Mail this process moved lately, by its Message-ID: its id and thread after the move
        # (Graph gives a moved message a new id), so a letter answering it needs no lookup.
        self._filed: dict[str, dict[str, str]] = {}

    # -- polling ------------------------------------------------------------------

    def _pending(self) -> dict[str, dict[str, str]]:
        return dict(self.state.get("pending") or {})

    def _delta_changes(self, pending: dict[str, dict[str, str]]) -> str:
        """Apply every page of the delta to `pending`; return the next delta link."""
        first = user_path(self.address, "mailFolders", "inbox", "messages", "delta")
        url: str = self.state.get("delta_link") or first
        params: dict[str, str] | None = None if url != first else {"$select": DELTA_SELECT}
        headers = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
        while True:
            response = self.client.call("GET", url, params=params, headers=headers, accept={410})
            if response.status_code == 410:
                # The delta link expired: sync again from scratch (pending dedupes).
                log.info("Graph delta link expired; starting a full Inbox sync")
                url, params = first, {"$select": DELTA_SELECT}
                continue
            page: dict[str, Any] = response.json()
            for item in page.get("value", []):
                if "@removed" in item:
                    pending.pop(item["id"], None)  # moved or deleted by someone
                elif not item.get("isDraft"):
                    pending[item["id"]] = {
                        "received": item.get("receivedDateTime", ""),
                        "conversation_id": item.get("conversationId") or "",
                        "internet_message_id": item.get("internetMessageId") or "",
                        "attachments": "yes" if item.get("hasAttachments") else "",
                    }
            if "@odata.nextLink" in page:
                url, params = page["@odata.nextLink"], None
                continue
            return str(page["@odata.deltaLink"])

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        pending = self._pending()
        delta_link = self._delta_changes(pending)
        wanted: list[tuple[str, datetime, dict[str, str]]] = []
        for graph_id, meta in sorted(pending.items(), key=lambda kv: (kv[1]["received"], kv[0])):
            received = datetime.fromisoformat(meta["received"])
            if received < since:
                del pending[graph_id]  # before the bot's start date: never touched
                continue
            wanted.append((graph_id, received, meta))
        found: list[IncomingMail] = []
        bodies = self._bodies(
            [(graph_id, bool(meta.get("attachments"))) for graph_id, _, meta in wanted]
        )
        for (graph_id, received, meta), (status, raw) in zip(wanted, bodies, strict=True):
            if status == 404:
                del pending[graph_id]  # moved out of the Inbox since: nothing to do
                continue
            found.append(IncomingMail(graph_id, received, raw, meta=dict(meta)))
        self.state.set("pending", pending)
        self.state.set("delta_link", delta_link)
        log.info("Graph inbox: %d new or pending message(s)", len(found))
        return found

    def _bodies(self, wanted: list[tuple[str, bool]]) -> list[tuple[int, bytes]]:
        """Each message's status and MIME, in the order asked (the bot handles mail in the
        order it arrived). Mail without attachments goes in batches (four at once at Graph's
        end); mail with them, which can be megabytes, alone and side by side, as does any
        whose answer in a batch was not the MIME (a batch answer holds it in base64 text)."""
        paths = [user_path(self.address, "messages", i, "$value") for i, _ in wanted]
        small = [n for n, (_, attached) in enumerate(wanted) if not attached]
        bodies: dict[int, tuple[int, bytes]] = {}
        if len(small) > 1:
            parts = [Part("GET", paths[n]) for n in small]
            for n, answer in zip(small, run_batches(self.client, parts, ANY_ERROR), strict=True):
                if answer.status == 404 or (answer.status < 300 and isinstance(answer.body, bytes)):
                    bodies[n] = (answer.status, answer.body or b"")
        alone = [n for n in range(len(paths)) if n not in bodies]

        def body(n: int) -> tuple[int, bytes]:
            response = self.client.call("GET", paths[n], accept={404})
            return response.status_code, response.content

        if len(alone) <= 1:
            bodies.update((n, body(n)) for n in alone)
        else:
            with ThreadPoolExecutor(CONCURRENT, thread_name_prefix="graph-fetch") as pool:
                bodies.update(zip(alone, pool.map(body, alone), strict=True))
        return [bodies[n] for n in range(len(paths))]

    # -- folders and moves ----------------------------------------------------------

    def folder_id(self, key: str, *, create: bool = True) -> str | None:
        """The id of one of the bot's folders under the mailbox root, made on first use
        (None when it does not exist and `create` is false)."""
        with self._folder_lock:
            return self._folder_id(key, create)

    def _folder_id(self, key: str, create: bool) -> str | None:
        if key in self._folders:
            return self._folders[key]
        name = FOLDER_NAMES[key]
        children = user_path(self.address, "mailFolders", "msgfolderroot", "childFolders")
        lookup = {"$filter": f"displayName eq '{odata_quote(name)}'", "$select": "id,displayName"}
        found = self.client.call("GET", children, params=lookup).json().get("value", [])
        if not found and not create:
            return None
        if not found:
            made = self.client.call("POST", children, data={"displayName": name}, accept={409})
            if made.status_code == 409:  # made by someone else meanwhile
                found = self.client.call("GET", children, params=lookup).json().get("value", [])
            else:
                found = [made.json()]
                log.info("created the %s folder in the shared mailbox", name)
        self._folders[key] = str(found[0]["id"])
        self.state.set("folders", dict(self._folders))
        return self._folders[key]

    def filed(self, internet_message_id: str) -> dict[str, str] | None:
        """A message this process moved lately, as Graph described it after the move."""
        return self._filed.get(angle(internet_message_id))

    def _remember(self, status: int, item: Any) -> None:
        if status >= 300 or not isinstance(item, dict):
            return
        key = angle(str(item.get("internetMessageId") or ""))
        if key == "<>" or item.get("isDraft") or "id" not in item:
            return
        keep = ("id", "conversationId", "internetMessageId")
        self._filed[key] = {k: str(item[k]) for k in keep if item.get(k) is not None}
        while len(self._filed) > FILED_KEPT:
            del self._filed[next(iter(self._filed))]  # the oldest: insertion order

    def move(self, graph_id: str, key: str) -> None:
        """Move a message out of the Inbox; one already moved (404) is fine."""
        destination = self.folder_id(key)
        assert destination is not None  # made when missing
        moved = self.client.call(
            "POST",
            user_path(self.address, "messages", graph_id, "move"),
            data={"destinationId": destination},
            accept={404},
        )
        self._remember(moved.status_code, moved.json() if moved.content else None)
        self._forget(graph_id)

    def move_all(self, graph_ids: list[str], key: str) -> None:
        """Move many messages out of the Inbox in batches (CONCURRENT at once at Graph's
        end); the pending list in the state is written once, not once a message."""
        if len(graph_ids) == 1:
            self.move(graph_ids[0], key)
            return
        destination = self.folder_id(key)
        assert destination is not None  # made when missing
        body = {"destinationId": destination}
        parts = [
            Part("POST", user_path(self.address, "messages", i, "move"), body) for i in graph_ids
        ]
        for answer in run_batches(self.client, parts, accept={404}):
            self._remember(answer.status, answer.body)
        pending = self._pending()
        forgotten = [graph_id for graph_id in graph_ids if pending.pop(graph_id, None)]
        if forgotten:
            self.state.set("pending", pending)

    def _forget(self, graph_id: str) -> None:
        pending = self._pending()
        if pending.pop(graph_id, None) is not None:
            self.state.set("pending", pending)

    def quarantine(self, graph_id: str, reason: str) -> None:
        """Record the reason on the message, then move it, whole, to Quarantine."""
        note = {"singleValueExtendedProperties": [{"id": REASON_PROPERTY, "value": reason[:1000]}]}
        path = user_path(self.address, "messages", graph_id)
        if self.client.call("PATCH", path, data=note, accept={404}).status_code == 404:
            self._forget(graph_id)  # moved already (a repeated step after a crash)
            return
        self.move(graph_id, "quarantine")
