"""Diary entries as all-day Exchange calendar items, found again by an extended property."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from exchangelib import CalendarItem, EWSDate
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.fields import InvalidField

from bot.mailbox.base import CalendarEntry
from bot.mailbox.ews_client import EwsCaller

log = logging.getLogger(__name__)

# Our own MAPI property set: any fixed GUID works, as long as it never changes.
PROPERTY_SET = "6f0d1c54-3f0b-4b8e-9a41-7d3c2b1e5a90"


class EntryUid(ExtendedProperty):  # type: ignore[misc]
    """The CalendarEntry.uid an item was made for: how a repeated or moved entry finds it."""

    property_set_id = PROPERTY_SET
    property_name = "ContractConcernsUid"
    property_type = "String"


class EntryDigest(ExtendedProperty):  # type: ignore[misc]
    """What the item says (day, title, description), hashed: unchanged means nothing to do."""

    property_set_id = PROPERTY_SET
    property_name = "ContractConcernsDigest"
    property_type = "String"


def register(cls: Any, name: str, prop: type[ExtendedProperty]) -> None:
    # Registration is process-wide in exchangelib; a second EwsMailbox must not repeat it.
    try:
        cls.get_field_by_fieldname(name)
    except InvalidField:
        cls.register(name, prop)


register(CalendarItem, "cc_uid", EntryUid)
register(CalendarItem, "cc_digest", EntryDigest)


def digest(entry: CalendarEntry) -> str:
    seed = f"{entry.day.isoformat()}\n{entry.title}\n{entry.description}".encode()
    return hashlib.sha256(seed).hexdigest()[:32]


def diarise(account: Any, calendar: Any, call: EwsCaller, entry: CalendarEntry) -> None:
    """Create the all-day item for `entry.uid`, or move/rewrite the one already there.

    The lookup is on the server, not in our state, so a crash between creating the item and
    committing cannot lead to a second item on the retry.
    """
    wanted = digest(entry)
    found = call(
        "FindItem calendar",
        lambda: list(calendar.filter(cc_uid=entry.uid).only("id", "changekey", "cc_digest")),
    )
    if len(found) > 1:
        log.warning("calendar has %d items for one diary entry; updating the first", len(found))
    day = EWSDate(entry.day.year, entry.day.month, entry.day.day)
    fields = {
        "subject": entry.title,
        "body": entry.description,
        # exchangelib makes an all-day item end at midnight after `end`: one day here.
        "start": day,
        "end": day,
        "is_all_day": True,
        "legacy_free_busy_status": "Free",
        "categories": [entry.case_reference],
        "cc_uid": entry.uid,
        "cc_digest": wanted,
    }
    if not found:
        item = CalendarItem(account=account, folder=calendar, **fields)
        call("CreateItem calendar", lambda: item.save(send_meeting_invitations="SendToNone"))
        return
    current = found[0]
    if current.cc_digest == wanted:
        return
    item = CalendarItem(
        account=account, folder=calendar, id=current.id, changekey=current.changekey, **fields
    )
    changed = ["subject", "body", "start", "end", "categories", "cc_digest"]
    call(
        "UpdateItem calendar",
        lambda: item.save(update_fields=changed, send_meeting_invitations="SendToNone"),
    )
