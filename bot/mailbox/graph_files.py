"""Closure reports to a SharePoint library or OneDrive, and managers from the directory."""

from __future__ import annotations

import logging
from urllib.parse import quote

from bot.mailbox.base import MailboxAuthError
from bot.mailbox.graph_client import GraphClient, user_path
from bot.mailbox.graph_send import upload_ranges

log = logging.getLogger(__name__)

SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024  # larger files need an upload session


class GraphFiles:
    def __init__(
        self, client: GraphClient, address: str, drive_id: str | None, folder: str
    ) -> None:
        self.client = client
        self.address = address
        self.drive = (
            f"drives/{quote(drive_id, safe='')}" if drive_id else user_path(address, "drive")
        )
        self.folder = folder.strip("/")

    def save_file(self, name: str, content: bytes) -> str:
        """Upload (replacing a file of the same name); return the item's web address."""
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise ValueError(f"unsafe file name for the shared drive: {name!r}")
        path = quote(f"{self.folder}/{name}" if self.folder else name)
        item = f"{self.drive}/root:/{path}:"
        if len(content) <= SIMPLE_UPLOAD_LIMIT:
            answer = self.client.call(
                "PUT",
                f"{item}/content",
                data=content,
                headers={"Content-type": "application/octet-stream"},
            ).json()
        else:
            replace = {"item": {"@microsoft.graph.conflictBehavior": "replace"}}
            session = self.client.call("POST", f"{item}/createUploadSession", data=replace).json()
            answer = upload_ranges(self.client, session["uploadUrl"], content)
        log.info("saved a %d-byte file to the drive", len(content))
        return str(answer.get("webUrl") or f"{self.folder}/{name}")

    def manager_of(self, address: str) -> str | None:
        """The manager's address from the directory, or None (none set, or not permitted)."""
        try:
            response = self.client.call(
                "GET", user_path(address, "manager"), params={"$select": "mail"}, accept={404}
            )
        except MailboxAuthError:
            # Reading managers needs User.Read.All; without it the config must name them.
            log.warning("the directory refused a manager lookup: name the manager in the config")
            return None
        if response.status_code == 404:
            return None
        mail = response.json().get("mail")
        return str(mail) if mail else None
