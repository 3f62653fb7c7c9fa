"""Deliver what the outbox holds, after commit: exactly once, and never more than the daily cap."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.mailbox.base import CalendarEntry, Mailbox
from bot.store import Store

log = logging.getLogger(__name__)


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

    def over(self, addresses: list[str], cap: int, planned: Mapping[str, int]) -> str | None:
        """The first address that has had `cap` messages today, counting those `planned`."""
        return next(
            (a for a in addresses if self.counts.get(a, 0) + planned.get(a, 0) >= cap), None
        )

    def add(self, addresses: list[str]) -> None:
        for address in addresses:
            self.counts[address] = self.counts.get(address, 0) + 1
        self.store.set_meta(self.KEY, {"day": self.day, "counts": self.counts})


def deliver(
    store: Store,
    mailbox: Mailbox,
    *,
    shadow: bool,
    now: datetime,
    daily_cap: int,
    untried: set[str] | None = None,
) -> Delivery:
    """Send everything pending. Failures stay queued for the next cycle; so do messages to an
    address that has had `daily_cap` messages today, which stops a mail loop that slipped past
    the automated-mail checks.

    `untried` holds the messages this process queued, committed and has not tried yet: only
    those cannot already be in Sent, so only they go without a look there first (on a mail
    server the look costs requests, and most letters go out on their first try). After a
    restart the set is empty and every pending message is looked for. Tried messages are
    taken out of the set.
    """
    result = Delivery()
    counts = DailyCounts(store, now.date().isoformat())
    fresh = untried if untried is not None else set()
    planned: list[Planned] = []
    going: dict[str, int] = {}  # messages planned to each address in this pass
    for item in store.outbox_pending():
        message_id = item["message_id"]
        addresses = [*item.get("to", []), *item.get("cc", [])] if item["kind"] == "mail" else []
        over = counts.over(addresses, daily_cap, going)
        if over is not None:
            result.held.append((message_id, over))
            continue
        for address in addresses:
            going[address] = going.get(address, 0) + 1
        first_try = message_id in fresh
        fresh.discard(message_id)  # from here on it may have gone, whatever happens
        planned.append(Planned(item, addresses, first_try))
    outcomes = send_all(planned, mailbox, store, shadow, getattr(mailbox, "concurrent_sends", 1))
    for plan, outcome in zip(planned, outcomes, strict=True):
        message_id = plan.item["message_id"]
        if isinstance(outcome, Exception):  # one stuck item must not hold up the rest
            result.failed += 1
            log.warning(
                "%s for %s not delivered: %s",
                plan.item.get("template") or plan.item["kind"],
                plan.item.get("reference"),
                type(outcome).__name__,
                extra=_context(plan.item, "send-failed"),
            )
            continue
        counts.add(plan.addresses)
        store.outbox_mark_sent(
            message_id, {"at": now.isoformat(), "where": outcome, "shadow": shadow}
        )
        result.delivered += 1
        log.info(
            "%s %s",
            plan.item.get("template") or plan.item["kind"],
            "held for review" if shadow else "delivered",
            extra=_context(plan.item, "review" if shadow else "sent"),
        )
    return result


@dataclass(frozen=True)
class Planned:
    item: Mapping[str, Any]
    addresses: list[str]
    first_try: bool


def send_all(
    planned: list[Planned], mailbox: Mailbox, store: Store, shadow: bool, concurrency: int
) -> list[str | Exception]:
    """Send each planned item; where each went, or why it failed, in the order planned.

    With a mailbox that takes several requests at once, the items of different cases go side
    by side, `concurrency` at most; one case's go one after another, in order, because a
    letter may answer the one before it (it must be in Sent when the next looks for it).
    """

    def chain(indexes: list[int]) -> list[tuple[int, str | Exception]]:
        done: list[tuple[int, str | Exception]] = []
        for index in indexes:
            plan = planned[index]
            try:
                where = _deliver_one(
                    plan.item, mailbox, shadow, store, maybe_sent=not plan.first_try
                )
            except Exception as err:
                done.append((index, err))
            else:
                done.append((index, where))
        return done

    groups: dict[str, list[int]] = {}
    for index, plan in enumerate(planned):
        key = plan.item.get("reference") or plan.item["message_id"]
        groups.setdefault(str(key), []).append(index)
    outcomes: list[str | Exception] = [""] * len(planned)
    if concurrency <= 1 or len(groups) <= 1:
        results = [chain(list(range(len(planned))))]
    else:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="send") as pool:
            results = list(pool.map(chain, groups.values()))
    for done in results:
        for index, outcome in done:
            outcomes[index] = outcome
    return outcomes


def _deliver_one(
    item: Mapping[str, Any], mailbox: Mailbox, shadow: bool, store: Store, *, maybe_sent: bool
) -> str:
    kind = item["kind"]
    message_id = item["message_id"]
    if kind == "mail":
        if maybe_sent and mailbox.already_sent(message_id):
            return "already in Sent"
        # A large letter waits in the store (outbox.INLINE_LETTER_BYTES), the rest inline.
        sha = item.get("raw_sha")
        raw = store.load_raw(sha) if sha else base64.b64decode(item["raw"])
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
        # A binary document (a workbook) is kept base64-encoded; a text one as it is.
        if "content_b64" in item:
            return mailbox.save_file(name, base64.b64decode(item["content_b64"]))
        return mailbox.save_file(name, item["content"].encode("utf-8"))
    raise ValueError(f"unknown outbox item kind {kind!r}")


def _context(item: Mapping[str, Any], event: str) -> dict[str, Any]:
    """What a log line about an outbox item may carry: its case and letter, never recipients
    (a message id looks like an address, so the log would only show it redacted)."""
    return {"event": event, "reference": item.get("reference"), "letter": item.get("template")}
