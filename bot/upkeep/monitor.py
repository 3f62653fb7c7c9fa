"""Self-monitoring: telling the administrators what `health.check_health` found."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.actions.context import build_context
from bot.actions.delivery import deliver
from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.clock import LONDON
from bot.config import Config
from bot.letters.compose import compose, message_id_for
from bot.mailbox.base import Mailbox
from bot.store import StoreError
from bot.store.meta_keys import (
    ALERTS_SENT,
)
from bot.upkeep.health import Alert

log = logging.getLogger(__name__)

TEMPLATE = "admin_alert"
BOT_REFERENCE = "CC-BOT"  # what the outbox files mail about no case under


@dataclass
class AlertMemory:
    """What the daemon keeps in memory for when the store itself cannot be written."""

    failing_since: datetime | None = None
    login_failure: str | None = None  # what the mail system said when it refused the login
    sent: dict[str, str] = field(default_factory=dict)  # kind -> day it was sent directly


def _day(now: datetime) -> str:
    return now.astimezone(LONDON).date().isoformat()


def alert_message_id(alert: Alert, now: datetime, domain: str) -> str:
    """One Message-ID per kind per day, so the outbox and Sent both refuse a second copy."""
    return message_id_for(BOT_REFERENCE, _key(alert, now), domain=domain)


def _key(alert: Alert, now: datetime) -> str:
    return f"admin-alert.{alert.kind}.{_day(now)}"


def send_alerts(
    now: datetime,
    alerts: Sequence[Alert],
    *,
    outbox: Outbox,
    mailbox: Mailbox,
    memory: AlertMemory,
    store_ok: bool = True,
    reset: Callable[[], None] | None = None,
) -> int:
    """Email the admin contacts about each alert, once per kind per day; returns how many.

    Normally through the outbox like every letter. If the store is what is failing (store_ok
    False, or it fails here, after which `reset` drops what was staged), straight to the mailbox.
    """
    today = _day(now)
    due = [alert for alert in alerts if memory.sent.get(alert.kind) != today]
    if not due or not outbox.config.admin_contacts:
        return 0
    if store_ok:
        try:
            return _through_outbox(now, due, outbox, mailbox)
        except (StoreError, OSError) as err:
            log.warning("monitor: cannot queue admin alerts (%s); sending directly", err)
            if reset is not None:
                reset()
    return send_directly(now, due, outbox, mailbox, memory)


def _admins(config: Config) -> list[Recipient]:
    found = [config.person_by_email(address) for address in config.admin_contacts]
    return [
        Recipient(person.name if person else "", address)
        for person, address in zip(found, config.admin_contacts, strict=True)
    ]


def _through_outbox(now: datetime, due: Sequence[Alert], outbox: Outbox, mailbox: Mailbox) -> int:
    store, config = outbox.store, outbox.config
    today = _day(now)
    sent: dict[str, str] = dict(store.get_meta(ALERTS_SENT) or {})
    queued = 0
    for alert in due:
        if sent.get(alert.kind) == today:
            continue
        if outbox.queue_message(
            template=TEMPLATE,
            to=_admins(config),
            case=None,
            key=_key(alert, now),
            now=now,
            extra={"problem": alert.problem, "since": alert.since},
        ):
            queued += 1
            log.warning("monitor: admin alert %s queued", alert.kind)
        sent[alert.kind] = today
    if not queued:
        return 0
    outbox.stage()
    store.set_meta(ALERTS_SENT, sent)
    store.commit()
    deliver(
        store,
        mailbox,
        shadow=config.shadow_mode,
        now=now,
        daily_cap=config.limits.daily_cap_per_recipient,
        untried=outbox.untried,
    )
    store.commit()
    return queued


def send_directly(
    now: datetime, due: Sequence[Alert], outbox: Outbox, mailbox: Mailbox, memory: AlertMemory
) -> int:
    """Render and send each alert straight through `mailbox`, bypassing the store; how many.

    Reads only the outbox's config, procedure and renderer, so another thread may call it
    while the poll thread holds the store.
    """
    config = outbox.config
    admins = _admins(config)
    sent = 0
    for alert in due:
        message_id = alert_message_id(alert, now, outbox.domain)
        context = build_context(
            config=config,
            procedure=outbox.procedure,
            case=None,
            recipient=admins[0],
            deadline=None,
            mail=None,
            now=now,
            today=now.date(),
            extra={"problem": alert.problem, "since": alert.since},
        )
        rendered = outbox.renderer.render(TEMPLATE, context)
        raw = compose(
            rendered=rendered,
            sender=config.mailbox.address,
            sender_name=config.council.team_name,
            to=[a.email for a in admins],
            cc=[],
            reference=BOT_REFERENCE,
            message_id=message_id,
            in_reply_to=None,
            references=[],
            date=now,
        )
        try:
            if not mailbox.already_sent(message_id):
                mailbox.send(raw, [a.email for a in admins], message_id)
        except Exception:  # nothing else can be done from here; the log keeps it
            log.exception("monitor: admin alert %s could not be sent", alert.kind)
            continue
        memory.sent[alert.kind] = _day(now)
        sent += 1
    return sent
