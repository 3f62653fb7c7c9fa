"""The fake EWS server's mailbox: folders, items and the change log SyncFolderItems reads."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import getaddresses

DISTINGUISHED = ("root", "msgfolderroot", "inbox", "sentitems", "drafts", "calendar")
# A server-side time for items the server creates itself (sent copies, drafts): fixed, so
# the fake never reads the wall clock; only the order of items matters to the tests.
SERVER_TIME = datetime(2000, 1, 1, tzinfo=UTC)

ExtKey = tuple[tuple[str, str], ...]  # the ExtendedFieldURI attributes, sorted


@dataclass
class FakeFolder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None
    folder_class: str = "IPF.Note"


@dataclass
class FakeItem:
    id: str
    folder: str
    kind: str  # "Message" or "CalendarItem": the element name in SOAP
    received: datetime
    seq: int = 0  # arrival order, for "oldest first"
    version: int = 1  # bumped on every change; the ChangeKey is made from it
    mime: bytes = b""
    subject: str = ""
    body: str = ""
    message_id: str = ""
    conversation_id: str = ""
    is_draft: bool = False
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    categories: list[str] = field(default_factory=list)
    extended: dict[ExtKey, str] = field(default_factory=dict)

    @property
    def changekey(self) -> str:
        return f"CK{self.version}"


@dataclass(frozen=True)
class Change:
    seq: int
    folder: str
    kind: str  # "create" or "delete"
    item_id: str


def headers_of(mime: bytes) -> dict[str, str]:
    parsed = BytesHeaderParser(policy=default).parsebytes(mime)
    return {key.lower(): str(value) for key, value in parsed.items()}


def recipients_of(mime: bytes) -> list[str]:
    parsed = BytesHeaderParser(policy=default).parsebytes(mime)
    values = [str(v) for key in ("to", "cc", "bcc") for v in parsed.get_all(key, [])]
    return [address.lower() for _, address in getaddresses(values) if address]


def conversation_of(headers: dict[str, str]) -> str:
    """Exchange threads by the first message of a chain: References' first id, else
    In-Reply-To, else the message's own Message-ID."""
    chain = headers.get("references", "").split() or headers.get("in-reply-to", "").split()
    root = chain[0] if chain else headers.get("message-id", "")
    return "CONV-" + hashlib.sha256(root.strip().encode()).hexdigest()[:16]


class EwsStore:
    """Everything the fake server holds; every method takes the lock (the server is threaded)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.folders: dict[str, FakeFolder] = {}
        self.items: dict[str, FakeItem] = {}
        self.changes: list[Change] = []
        self.deliveries: list[tuple[list[str], bytes]] = []
        self._counter = 0
        parents = {"root": None, "msgfolderroot": "root"}
        for name in DISTINGUISHED:
            parent = parents.get(name, "msgfolderroot")
            folder_class = "IPF.Appointment" if name == "calendar" else "IPF.Note"
            self.folders[name.upper()] = FakeFolder(
                name.upper(), name.title(), parent and parent.upper(), name, folder_class
            )

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            return f"{prefix}{self._counter:06d}"

    def distinguished(self, name: str) -> FakeFolder | None:
        return next((f for f in self.folders.values() if f.distinguished == name), None)

    def folder_named(self, name: str) -> FakeFolder | None:
        with self.lock:
            return next((f for f in self.folders.values() if f.name.lower() == name.lower()), None)

    def create_folder(self, parent: str, name: str, folder_class: str) -> FakeFolder:
        with self.lock:
            folder = FakeFolder(self.next_id("FOLDER"), name, parent, None, folder_class)
            self.folders[folder.id] = folder
            return folder

    def put(self, item: FakeItem) -> FakeItem:
        with self.lock:
            item.seq = self._counter = self._counter + 1
            self.items[item.id] = item
            self.changes.append(Change(item.seq, item.folder, "create", item.id))
            return item

    def add_message(self, mime: bytes, folder: str, received: datetime, draft: bool) -> FakeItem:
        headers = headers_of(mime)
        item = FakeItem(
            id=self.next_id("MSG"),
            folder=folder,
            kind="Message",
            received=received,
            mime=mime,
            subject=headers.get("subject", ""),
            message_id=headers.get("message-id", "").strip(),
            conversation_id=conversation_of(headers),
            is_draft=draft,
        )
        return self.put(item)

    def move(self, item_id: str, folder: str) -> FakeItem | None:
        """Exchange gives a moved item a new id; the old one no longer resolves."""
        with self.lock:
            old = self.items.pop(item_id, None)
            if old is None:
                return None
            self._counter += 1
            self.changes.append(Change(self._counter, old.folder, "delete", old.id))
            old.id, old.folder = self.next_id("MSG"), folder
            old.version += 1
            self.items[old.id] = old
            self._counter += 1
            self.changes.append(Change(self._counter, folder, "create", old.id))
            return old

    def in_folder(self, folder: str) -> list[FakeItem]:
        with self.lock:
            return sorted(
                (i for i in self.items.values() if i.folder == folder), key=lambda i: i.seq
            )

    def sync(self, folder: str, since: int, limit: int) -> tuple[list[Change], int, bool]:
        """Changes to `folder` after `since`: at most `limit`, the new position, and whether
        that was the last. A create for an item that has left again is not reported, and a
        delete only for an item the client could have seen."""
        with self.lock:
            seen_before = {c.item_id for c in self.changes if c.folder == folder and c.seq <= since}
            found: list[Change] = []
            position = since
            for change in self.changes:
                if change.seq <= since or change.folder != folder:
                    continue
                if len(found) == limit:
                    return found, position, False
                position = change.seq
                item = self.items.get(change.item_id)
                created = change.kind == "create" and item is not None and item.folder == folder
                if created or (change.kind == "delete" and change.item_id in seen_before):
                    found.append(change)
            return found, max(position, self._counter), True
