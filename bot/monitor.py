"""Self-monitoring: what needs an administrator (check_health) and telling them (send_alerts)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.actions.context import build_context
from bot.actions.delivery import deliver
from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.clock import LONDON
from bot.config import Config
from bot.letters.compose import compose, message_id_for
from bot.mailbox.base import Mailbox
from bot.poll import INBOX_LEFT
from bot.store import Store, StoreError
from bot.workdays import WorkCalendar

log = logging.getLogger(__name__)

POLL_FAILING_SINCE = "poll_failing_since"  # store meta: first failed poll since the last success
TOKEN_EXPIRES = "token_expires_at"  # store meta: when the mail system's access token runs out
LOGIN_FAILURE = "login_failure"  # store meta: {problem, since} while the mail system refuses us
ALERTS_SENT = "admin_alerts_sent"  # store meta: alert kind -> the day its email was queued
TEMPLATE = "admin_alert"
BOT_REFERENCE = "CC-BOT"  # what the outbox files mail about no case under


@dataclass(frozen=True)
class Alert:
    """One condition an administrator must look at; `problem` names no person and no content."""

    kind: str  # poll | inbox | outbox | triage: at most one email per kind per day
    problem: str
    since: datetime


@dataclass
class AlertMemory:
    """What the daemon keeps in memory for when the store itself cannot be written."""

    failing_since: datetime | None = None
    login_failure: str | None = None  # what the mail system said when it refused the login
    sent: dict[str, str] = field(default_factory=dict)  # kind -> day it was sent directly


def moment(value: Any) -> datetime | None:
    """A stored ISO time as an aware datetime; None for anything else."""
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed


def _day(now: datetime) -> str:
    return now.astimezone(LONDON).date().isoformat()


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def check_health(
    now: datetime,
    store: Store | None,
    config: Config,
    *,
    failing_since: datetime | None = None,
    login_failure: str | None = None,
) -> list[Alert]:
    """Every alert condition that holds at `now`; reads only. `store` is None when unusable."""
    found = [
        _login_alert(now, store, config, login_failure),
        _poll_alert(now, store, config, failing_since),
    ]
    if store is not None:
        found += [
            _inbox_alert(store, config),
            _outbox_alert(now, store, config),
            _triage_alert(now, store, config),
        ]
    return [alert for alert in found if alert is not None]


def _login_alert(
    now: datetime, store: Store | None, config: Config, failure: str | None
) -> Alert | None:
    """A refused login never cures itself: an administrator is needed at once."""
    recorded = store.get_meta(LOGIN_FAILURE) if store else None
    problem = failure or (recorded or {}).get("problem")
    if not problem:
        return None
    since = moment((recorded or {}).get("since")) or now
    return Alert(
        "login",
        f"The bot cannot log in to the mailbox {config.mailbox.address}: {problem}. Nothing is "
        "read or sent until an administrator fixes the credentials or the app's permissions.",
        since,
    )


def _poll_alert(
    now: datetime, store: Store | None, config: Config, failing_since: datetime | None
) -> Alert | None:
    limit = timedelta(minutes=config.monitoring.poll_failure_alert_minutes)
    recorded = moment(store.get_meta(POLL_FAILING_SINCE)) if store else None
    since = min((t for t in (failing_since, recorded) if t), default=None)
    address = config.mailbox.address
    if since and now - since > limit:
        return Alert(
            "poll",
            f"Polling the mailbox {address} has failed for {_minutes(now - since)} minutes "
            f"(since {since:%d/%m/%Y %H:%M}). The bot's log says why.",
            since,
        )
    last = moment(store.get_meta("last_poll")) if store else None
    # A daemon that has stopped records no failure; a last poll this old says it is not running.
    if last and now - last > limit + timedelta(seconds=config.poll_interval_seconds):
        return Alert(
            "poll",
            f"The mailbox {address} has not been polled for {_minutes(now - last)} minutes "
            f"(last poll {last:%d/%m/%Y %H:%M}). Is the bot running?",
            last,
        )
    return None


def _inbox_alert(store: Store, config: Config) -> Alert | None:
    """Mail that a successful poll saw but left in the inbox is stuck, not merely new."""
    last = moment(store.get_meta("last_poll"))
    if last is None:
        return None
    # What the last poll itself left behind: asking the mail system again would cost a
    # request per cycle, and with a delta query it would not show old mail at all.
    waiting = [t for t in (moment(v) for v in store.get_meta(INBOX_LEFT) or []) if t]
    cutoff = last - timedelta(minutes=config.monitoring.poll_failure_alert_minutes)
    stuck = sorted(t for t in waiting if t < cutoff)
    if not stuck:
        return None
    return Alert(
        "inbox",
        f"{len(stuck)} email(s) have stayed in the inbox of {config.mailbox.address} although "
        f"polling works (the oldest received {stuck[0]:%d/%m/%Y %H:%M}). The bot's log says why.",
        stuck[0],
    )


def _outbox_alert(now: datetime, store: Store, config: Config) -> Alert | None:
    minutes = config.monitoring.outbox_stuck_minutes
    stuck: list[tuple[datetime, str]] = []
    for item in store.outbox_pending():
        queued = moment(item.get("queued_at"))
        if queued is not None and now - queued > timedelta(minutes=minutes):
            stuck.append((queued, str(item.get("message_id", ""))))
    if not stuck:
        return None
    stuck.sort()
    oldest, message_id = stuck[0]
    return Alert(
        "outbox",
        f"{len(stuck)} outgoing message(s) have waited more than {minutes} minutes to be sent"
        f" (the oldest, {message_id}, since {oldest:%d/%m/%Y %H:%M}). "
        "Check the connection to the mail system and the bot's log.",
        oldest,
    )


def _triage_alert(now: datetime, store: Store, config: Config) -> Alert | None:
    days = config.monitoring.triage_alert_working_days
    calendar = WorkCalendar(config.closure_days_map(), config.close_of_business_time())
    today = now.astimezone(calendar.zone).date()
    old: list[tuple[datetime, str]] = []
    for item in store.triage_items():
        received = moment(item.get("received"))
        if received is None:
            continue
        day = received.astimezone(calendar.zone).date()
        if calendar.working_days_between(day, today) > days:
            old.append((received, str(item.get("id", ""))))
    if not old:
        return None
    old.sort()
    oldest, item_id = old[0]
    return Alert(
        "triage",
        f"{len(old)} item(s) on the triage list have waited more than {days} working days "
        f"(the oldest, {item_id}, since "
        f"{oldest:%d/%m/%Y}). The officers have been reminded; please make sure they clear it.",
        oldest,
    )


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
    return _directly(now, due, outbox, mailbox, memory)


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


def _directly(
    now: datetime, due: Sequence[Alert], outbox: Outbox, mailbox: Mailbox, memory: AlertMemory
) -> int:
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
