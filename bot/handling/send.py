"""Sending what the outbox holds, with the daily cap per address and an alert when it bites."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.actions.delivery import deliver
from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.config import Config
from bot.mailbox.base import Mailbox
from bot.store import Store

log = logging.getLogger(__name__)


def send_due(
    now: datetime, *, config: Config, store: Store, mailbox: Mailbox, outbox: Outbox
) -> tuple[int, int]:
    """Send every committed letter not yet sent; (delivered, failed). Commits what it records."""
    result = deliver(
        store,
        mailbox,
        shadow=config.shadow_mode,
        now=now,
        daily_cap=config.limits.daily_cap_per_recipient,
        untried=outbox.untried,
    )
    for message_id, address in result.held:
        _cap_alert(message_id, address, now, config=config, outbox=outbox)
    if result.delivered or result.held:
        store.commit()
    return result.delivered, result.failed


def _cap_alert(
    message_id: str, address: str, now: datetime, *, config: Config, outbox: Outbox
) -> None:
    """Tell the admins, once a day per address, that mail to it is being held."""
    admins = [Recipient("", a) for a in config.admin_contacts]
    if not admins:
        log.error("daily cap reached for %s; no admin_contacts to tell", message_id)
        return
    outbox.queue_message(
        template="admin_alert",
        to=admins,
        case=None,
        key=f"cap.{address}.{now.date().isoformat()}",
        now=now,
        extra={
            "problem": f"{config.limits.daily_cap_per_recipient} messages went to "
            f"{address} today, the daily cap; more for it are held until "
            "tomorrow (a mail loop?)",
            "since": now,
        },
    )
    outbox.stage()
