"""Diary entries as all-day events in the shared mailbox's calendar, one per entry uid."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from bot.mailbox.base import CalendarEntry
from bot.mailbox.graph_client import GraphClient, user_path
from bot.mailbox.graph_mail import odata_quote

log = logging.getLogger(__name__)

_NAMESPACE = "{6d1e5d3a-3c2b-4a8e-9f41-2b7c0c9a5e11}"
UID_PROPERTY = f"String {_NAMESPACE} Name ContractConcernsUid"
# A digest of what the bot wrote: Exchange rewrites event bodies as HTML, so comparing the
# body itself would see a change every time.
DIGEST_PROPERTY = f"String {_NAMESPACE} Name ContractConcernsDigest"


def _digest(entry: CalendarEntry) -> str:
    seed = "\n".join((entry.day.isoformat(), entry.title, entry.description, entry.case_reference))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _event(entry: CalendarEntry) -> dict[str, Any]:
    def midnight(offset: int) -> dict[str, str]:
        day = entry.day + timedelta(days=offset)
        return {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": "Europe/London"}

    return {
        "subject": entry.title,
        "body": {
            "contentType": "text",
            "content": f"{entry.description}\n\n{entry.case_reference}",
        },
        "start": midnight(0),
        "end": midnight(1),
        "isAllDay": True,
        "showAs": "free",
        "isReminderOn": False,
        "singleValueExtendedProperties": [
            {"id": UID_PROPERTY, "value": entry.uid},
            {"id": DIGEST_PROPERTY, "value": _digest(entry)},
        ],
    }


class GraphCalendar:
    def __init__(self, client: GraphClient, address: str) -> None:
        self.client = client
        self.address = address

    def _events(self, uid: str) -> list[dict[str, Any]]:
        params = {
            "$filter": "singleValueExtendedProperties/Any(ep: ep/id eq "
            f"'{UID_PROPERTY}' and ep/value eq '{odata_quote(uid)}')",
            "$select": "id,subject,start",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{DIGEST_PROPERTY}')",
        }
        found = self.client.call("GET", user_path(self.address, "events"), params=params)
        return list(found.json().get("value", []))

    def diarise(self, entry: CalendarEntry) -> None:
        """Create the event, or bring the one with this uid up to date; nothing when unchanged."""
        found = self._events(entry.uid)
        if not found:
            self.client.request(
                "POST",
                user_path(self.address, "events"),
                data=_event(entry),
                settled=lambda: bool(self._events(entry.uid)),
            )
            log.info("calendar: created the event for %s", entry.case_reference)
            return
        keep, *extra = sorted(found, key=lambda e: str(e["id"]))
        for duplicate in extra:  # only a crash mid-create could make one; never keep two
            self.client.call(
                "DELETE", user_path(self.address, "events", duplicate["id"]), accept={404}
            )
        digests = [p.get("value") for p in keep.get("singleValueExtendedProperties", [])]
        if _digest(entry) in digests:
            return
        self.client.call("PATCH", user_path(self.address, "events", keep["id"]), data=_event(entry))
        log.info("calendar: updated the event for %s", entry.case_reference)
