"""Deliver what the outbox holds, after commit: exactly once, and never more than the daily cap."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.mailbox.base import CalendarEntry, Mailbox
from bot.store import Store

log = logging.getLogger(__name__)

ATTEMPTED = "delivery_attempted"  # store meta: outbox messages that have been tried at least once


@dataclass
class Delivery:
    delivered: int = 0
    failed: int = 0
    held: list[tuple[str, str]] = field(default_factory=list)  # (message id, address over the cap)


class DailyCounts:
    """Messages sent to each address today, kept in the store so a restart keeps counting."""

    KEY = "sent_today"

    def __init__(self, store: Store, day: str) -> None:
        self.store = store
        saved = store.get_meta(self.KEY) or {}
        self.day = day
        self.counts: dict[str, int] = (
            dict(saved.get("counts", {})) if saved.get("day") == day else {}
        )

    def over(self, addresses: list[str], cap: int) -> str | None:
        return next((a for a in addresses if self.counts.get(a, 0) >= cap), None)

    def add(self, addresses: list[str]) -> None:
        for address in addresses:
            self.counts[address] = self.counts.get(address, 0) + 1
        self.store.set_meta(self.KEY, {"day": self.day, "counts": self.counts})


def deliver(
    store: Store, mailbox: Mailbox, *, shadow: bool, now: datetime, daily_cap: int
) -> Delivery:
    """Send everything pending. Failures stay queued for the next cycle; so do messages to an
    address that has had `daily_cap` messages today, which stops a mail loop that slipped past
    the automated-mail checks."""
    result = Delivery()
    counts = DailyCounts(store, now.date().isoformat())
    pending = store.outbox_pending()
    tried = _record_attempts(store, [item["message_id"] for item in pending])
    for item in pending:
        message_id = item["message_id"]
        addresses = [*item.get("to", []), *item.get("cc", [])] if item["kind"] == "mail" else []
        over = counts.over(addresses, daily_cap)
        if over is not None:
            result.held.append((message_id, over))
            continue
        try:
            where = _deliver_one(item, mailbox, shadow, maybe_sent=message_id in tried)
        except Exception as err:  # one stuck item must not hold up the rest
            result.failed += 1
            log.warning(
                "outbox item %s for %s not delivered: %s",
                message_id,
                item.get("reference"),
                type(err).__name__,
            )
            continue
        counts.add(addresses)
        store.outbox_mark_sent(
            message_id, {"at": now.isoformat(), "where": where, "shadow": shadow}
        )
        result.delivered += 1
    if result.delivered:
        still = {item["message_id"] for item in store.outbox_pending()}
        store.set_meta(ATTEMPTED, sorted(m for m in store.get_meta(ATTEMPTED) or [] if m in still))
    return result


def _record_attempts(store: Store, message_ids: list[str]) -> set[str]:
    """Durably note which messages are about to be tried; return those tried before.

    Only a message tried before can already be in Sent (a crash between sending and the
    commit that marks it sent), so only those are looked for there: on a mail server that
    look costs requests, and most letters go out on their first try.
    """
    before = set(store.get_meta(ATTEMPTED) or [])
    fresh = [m for m in message_ids if m not in before]
    if fresh:
        store.set_meta(ATTEMPTED, sorted(before | set(fresh)))
        store.commit()  # before anything is sent, or a crash could hide a sent letter
    return before


def _deliver_one(
    item: Mapping[str, Any], mailbox: Mailbox, shadow: bool, *, maybe_sent: bool
) -> str:
    kind = item["kind"]
    message_id = item["message_id"]
    if kind == "mail":
        if maybe_sent and mailbox.already_sent(message_id):
            return "already in Sent"
        raw = base64.b64decode(item["raw"])
        if shadow:
            return mailbox.hold_for_review(raw, message_id).location or "review"
        recipients = [*item["to"], *item.get("cc", [])]
        return mailbox.send(raw, recipients, message_id).location or "sent"
    if kind == "calendar":
        if shadow:
            return "held: shadow mode"
        mailbox.diarise(
            CalendarEntry(
                uid=item["uid"],
                day=datetime.fromisoformat(item["day"]).date(),
                title=item["title"],
                description=item["description"],
                case_reference=item["reference"],
            )
        )
        return "calendar"
    if kind == "file":
        name = ("shadow-" + item["name"]) if shadow else item["name"]
        return mailbox.save_file(name, item["content"].encode("utf-8"))
    raise ValueError(f"unknown outbox item kind {kind!r}")
