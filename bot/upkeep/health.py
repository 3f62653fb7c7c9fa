"""What needs an administrator, judged from the store and the config alone; sends nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import LONDON
from bot.config import Config
from bot.procedure.workdays import WorkCalendar
from bot.store import Store
from bot.store.meta_keys import INBOX_LEFT, LOGIN_FAILURE, POLL_FAILING_SINCE
from bot.upkeep.poll_marker import running_since


@dataclass(frozen=True)
class Alert:
    """One condition an administrator must look at; `problem` names no person and no content."""

    kind: str  # login | poll | stuck | inbox | outbox | triage: one email per kind per day
    problem: str
    since: datetime


def moment(value: Any) -> datetime | None:
    """A stored ISO time as an aware datetime; None for anything else."""
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed


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
        _running_alert(now, config),
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


def stuck_alert(started: datetime, now: datetime, address: str) -> Alert:
    """The alert for a poll still running at `now`; the same words in `status` and the email."""
    minutes = int((now - started).total_seconds() // 60)
    return Alert(
        "stuck",
        f"A poll of the mailbox {address} has been running for {minutes} minutes (since "
        f"{started:%d/%m/%Y %H:%M}); no mail is handled until it ends. The bot's log says "
        "what it was doing; restarting the bot ends it.",
        started,
    )


def _running_alert(now: datetime, config: Config) -> Alert | None:
    """A poll the daemon (another process) started and has not finished within the limit."""
    started = running_since(config.store.directory)
    limit = timedelta(minutes=config.monitoring.poll_stuck_minutes)
    if started is None or now - started <= limit:
        return None
    return stuck_alert(started, now, config.mailbox.address)


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
