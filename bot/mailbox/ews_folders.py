"""The Exchange folders the bot uses: the well-known ones, and its own made on first use."""

from __future__ import annotations

from typing import Any

from exchangelib import Account, Folder
from exchangelib.errors import ErrorFolderExists, ErrorFolderNotFound
from exchangelib.folders import Calendar, Inbox, MsgFolderRoot, Root, SentItems
from exchangelib.services import CreateFolder

from bot.mailbox.base import MailboxState
from bot.mailbox.ews_client import EwsCaller

OWN_FOLDERS = {"processed": "Processed", "quarantine": "Quarantine", "review": "Review"}
STATE_KEY = "folders"


class EwsFolders:
    """Well-known folders are asked for once per process; the bot's own folders are found by
    name (or created) under the message folder root once, and their ids kept in the state."""

    def __init__(self, account: Account, state: MailboxState, call: EwsCaller) -> None:
        self.account = account
        self.state = state
        self.call = call
        # A root without the folder cache: exchangelib would otherwise fetch every folder.
        self.root = Root(account=account)
        self._known: dict[str, Any] = {}

    def _distinguished(self, cls: Any) -> Any:
        key = cls.DISTINGUISHED_FOLDER_ID
        if key not in self._known:
            self._known[key] = self.call(
                f"GetFolder {key}", lambda: cls.get_distinguished(root=self.root)
            )
        return self._known[key]

    def inbox(self) -> Any:
        return self._distinguished(Inbox)

    def sent(self) -> Any:
        return self._distinguished(SentItems)

    def calendar(self) -> Any:
        return self._distinguished(Calendar)

    def own(self, key: str) -> Folder:
        """The bot's folder `key` (processed, quarantine, review)."""
        ids: dict[str, str] = dict(self.state.get(STATE_KEY) or {})
        if key not in ids:
            ids[key] = self._find_or_create(OWN_FOLDERS[key])
            self.state.set(STATE_KEY, ids)
        return Folder(root=self.root, id=ids[key])

    def forget(self, key: str) -> None:
        """Drop a cached id that no longer resolves (an administrator deleted the folder)."""
        ids: dict[str, str] = dict(self.state.get(STATE_KEY) or {})
        if ids.pop(key, None) is not None:
            self.state.set(STATE_KEY, ids)

    def _find_or_create(self, name: str) -> str:
        parent = self._distinguished(MsgFolderRoot)

        def find() -> str | None:
            try:
                found: Any = parent // name
            except ErrorFolderNotFound:
                return None
            return str(found.id)

        existing = self.call(f"FindFolder {name}", find)
        if existing is not None:
            return existing

        def create() -> str | None:
            new = Folder(root=self.root, name=name, folder_class="IPF.Note")
            try:
                made: Any = CreateFolder(account=self.account).get(
                    parent_folder=parent, folders=[new]
                )
            except ErrorFolderExists:
                return None  # made meanwhile by another client: find it below
            return str(made.id)

        created = self.call(f"CreateFolder {name}", create)
        if created is not None:
            return created
        again = self.call(f"FindFolder {name}", find)
        if again is None:
            raise ErrorFolderNotFound(f"folder {name!r} exists but cannot be found")
        return again
