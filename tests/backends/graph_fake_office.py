"""The fake Graph's calendar, drive and directory endpoints (a part of GraphApi)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from backends.graph_fake_call import (
    ANY_PROPERTY,
    EXPAND_PROPERTY,
    SIMPLE_UPLOAD_LIMIT,
    Call,
    Reply,
    error,
    reply,
    unq,
)


class OfficeApi:
    """Events with extended properties, drive uploads and managers."""

    base_url: str
    events: dict[str, dict[str, Any]]
    drive: dict[str, bytes]  # "drive/path" -> content
    managers: dict[str, str | None]
    _tokens: itertools.count[int]

    def _select(self, call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _session(self, size: int, finish: Callable[[bytes], Reply]) -> Reply:
        raise NotImplementedError

    # -- calendar, drive, directory ---------------------------------------------------

    def list_events(self, call: Call) -> Reply:
        match = ANY_PROPERTY.match(call.query.get("$filter", ""))
        if not match and not call.query.get("$filter") and "$top" in call.query:
            first = list(self.events.values())[: int(call.query["$top"])]  # doctor's check
            return reply(200, {"value": [{"id": e["id"]} for e in first]})
        if not match:
            return error(400, "ErrorInvalidUrlQueryFilter", "unsupported filter")
        pid, value = unq(match[1]), unq(match[2])
        found = [e for e in self.events.values() if e["props"].get(pid) == value]
        expand = EXPAND_PROPERTY.match(call.query.get("$expand", ""))
        shown = []
        for event in found:
            item = {k: v for k, v in event.items() if k != "props"}
            if expand and unq(expand[1]) in event["props"]:
                wanted = unq(expand[1])
                item["singleValueExtendedProperties"] = [
                    {"id": wanted, "value": event["props"][wanted]}
                ]
            shown.append(item)
        return reply(200, {"value": self._select(call, shown) if not expand else shown})

    def create_event(self, call: Call) -> Reply:
        event: dict[str, Any] = {"id": f"AAMkEv{next(self._tokens)}=", "props": {}}
        self._apply_event(event, call.json())
        self.events[event["id"]] = event
        return reply(201, {k: v for k, v in event.items() if k != "props"})

    def _apply_event(self, event: dict[str, Any], data: dict[str, Any]) -> None:
        for prop in data.pop("singleValueExtendedProperties", []) or []:
            event["props"][prop["id"]] = str(prop["value"])
        event.update(data)

    def patch_event(self, call: Call) -> Reply:
        event = self.events.get(call.params["eid"])
        if event is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        self._apply_event(event, call.json())
        return reply(200, {k: v for k, v in event.items() if k != "props"})

    def delete_event(self, call: Call) -> Reply:
        if self.events.pop(call.params["eid"], None) is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        return reply(204)

    def _drive_item(self, drive: str, path: str, content: bytes) -> Reply:
        self.drive[f"{drive}/{path}"] = content
        web = f"{self.base_url}sites/fake/{quote(drive)}/{quote(path)}"
        return reply(
            201,
            {
                "id": f"item-{len(self.drive)}",
                "name": path.rsplit("/", 1)[-1],
                "size": len(content),
                "webUrl": web,
            },
        )

    def drive_put(self, call: Call) -> Reply:
        if len(call.body) > SIMPLE_UPLOAD_LIMIT:
            return error(413, "requestTooLarge", "use an upload session over 4 MB")
        return self._drive_item(_drive(call), call.params["path"], call.body)

    def drive_session(self, call: Call) -> Reply:
        drive, path = _drive(call), call.params["path"]
        # Graph learns a drive upload's size from the first range (-1: not known yet).
        return self._session(-1, lambda content: self._drive_item(drive, path, content))

    def drive_delete(self, call: Call) -> Reply:
        if self.drive.pop(f"{_drive(call)}/{call.params['path']}", None) is None:
            return error(404, "itemNotFound", "The resource could not be found.")
        return reply(204)

    def manager(self, call: Call) -> Reply:
        mail = self.managers.get(call.params["who"].lower())
        if mail is None:
            return error(404, "Request_ResourceNotFound", "Resource 'manager' does not exist.")
        return reply(200, {"mail": mail} if mail else {})


def _drive(call: Call) -> str:
    """A drive's key: its id, or "me:{user}" for the mailbox user's OneDrive."""
    return call.params.get("drive") or f"me:{call.params['user']}"
