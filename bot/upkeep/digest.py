"""The daily digest for each officer and the reminder of what waits in triage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.config import Config
from bot.procedure.engine import Engine
from bot.store import Store
from bot.store.case_index import CaseIndex

UPCOMING_WORKING_DAYS = 5


def _day(value: Any) -> date:
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return date.min


def send_digests(
    *, now: datetime, config: Config, engine: Engine, cases: CaseIndex, store: Store, outbox: Outbox
) -> int:
    """Once per working day after digest time: each officer's due, overdue and upcoming work."""
    calendar = engine.calendar
    local = now.astimezone(calendar.zone)
    today = local.date()
    if not calendar.is_working_day(today) or local.time() < config.digest_time():
        return 0
    if store.get_meta("digest_day") == today.isoformat():
        return 0
    horizon = calendar.add_working_days(today, UPCOMING_WORKING_DAYS).due
    triage = store.triage_items()
    people = {
        p.id: p
        for role in ("cmo", "spo", "head_of_procurement")
        for p in config.people_with_role(role)
    }
    lists: dict[str, dict[str, list[dict[str, Any]]]] = {
        pid: {"drafts": [], "due_today": [], "overdue": [], "upcoming": []} for pid in people
    }
    spo = [p.id for p in config.people_with_role("spo")]
    names: dict[str, str] = {}  # provider id -> name, looked up once per provider
    overdue: dict[tuple[date, str, bool], bool] = {}  # one look at the calendar per day
    # Stages where a draft letter waits for its officer's approval (they accept letter.approve).
    approval = {n for n, s in engine.procedure.stages.items() if "letter.approve" in s.events}
    for case in cases.views():
        if case.stage in approval and case.officer_id in lists:
            lists[case.officer_id]["drafts"].append(
                {
                    "reference": case.reference,
                    "title": "Concern letter to approve",
                    "due": min((d.due for d in case.deadlines), default=today),
                    "provider": _provider_name(case.provider_id, config, names),
                }
            )
        for deadline in case.deadlines:
            status = deadline.status
            if status != "pending" and (status != "fired" or deadline.event):
                continue  # done, or fired and the procedure already acted on it
            due = deadline.due
            if due > horizon:
                continue  # neither overdue, due today nor coming up: most deadlines of most cases
            key = (due, status, bool(deadline.event))
            late = overdue.get(key)
            if late is None:
                late = overdue[key] = engine.is_overdue(deadline, now)
            bucket = "overdue" if late else "due_today" if due == today else "upcoming"
            if deadline.remind == "spo":
                owners = spo
            else:
                owners = [case.officer_id] if case.officer_id else []
            item = {
                "reference": case.reference,
                "title": deadline.title,
                "due": due,
                "provider": _provider_name(case.provider_id, config, names),
            }
            for owner in owners:
                if owner in lists:
                    lists[owner][bucket].append(item)
    sent = 0
    for pid, buckets in lists.items():
        person = people[pid]
        counts_triage = "cmo" in person.roles
        if not any(buckets.values()):
            continue
        for items in buckets.values():
            items.sort(key=lambda i: (i["due"], i["reference"]))
        if outbox.queue_message(
            template="daily_digest",
            to=[Recipient(person.name, person.email)],
            case=None,
            key=f"digest.{pid}.{today.isoformat()}",
            now=now,
            extra={**buckets, "triage_count": len(triage) if counts_triage else 0},
        ):
            sent += 1
    if triage and _triage_due(store, today, len(triage)):
        officers = [Recipient(p.name, p.email) for p in config.people_with_role("cmo")]
        items = [
            {
                "id": t.get("id", ""),
                "received": _day(t.get("received")),
                "sender": t["sender"],
                "subject": t["subject"],
                "reason": t["reason"],
            }
            for t in triage
        ]
        if officers and outbox.queue_message(
            template="triage_reminder",
            to=officers,
            case=None,
            key=f"triage.{today.isoformat()}",
            now=now,
            extra={"items": items},
        ):
            sent += 1
    store.set_meta("digest_day", today.isoformat())
    return sent


def _provider_name(provider_id: str | None, config: Config, names: dict[str, str]) -> str:
    """A provider's name, looked up once per provider in a digest run."""
    if not provider_id:
        return ""
    if provider_id not in names:
        provider = config.provider(provider_id)
        names[provider_id] = provider.name if provider else ""
    return names[provider_id]


def _triage_due(store: Store, today: date, count: int) -> bool:
    """Remind when something new has arrived in triage, and every Monday while it is not empty."""
    last = store.get_meta("triage_reminded") or {}
    due = count > int(last.get("count", 0)) or today.weekday() == 0 or not last
    store.set_meta("triage_reminded", {"day": today.isoformat(), "count": count})
    return due
