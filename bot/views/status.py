"""`status`: the bot's health at a glance, read-only, as text or JSON; exit 1 on any alert."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import LONDON, Clock
from bot.config import Config
from bot.procedure.engine import Engine
from bot.store import Store
from bot.store.case_index import CaseIndex
from bot.store.meta_keys import POLL_FAILING_SINCE, TOKEN_EXPIRES
from bot.upkeep.health import Alert, check_health, moment
from bot.upkeep.poll_marker import running_since
from bot.views.reader import Reader


@dataclass
class Status:
    """Every figure `status` shows; None where unknown (before the first poll, no mailbox)."""

    now: datetime
    last_poll: datetime | None = None
    last_tick: datetime | None = None
    poll_failing_since: datetime | None = None
    poll_running_since: datetime | None = None  # a poll under way in the daemon
    backlog: int | None = None
    outbox_pending: int = 0
    outbox_oldest: datetime | None = None
    triage: int = 0
    triage_oldest: datetime | None = None
    quarantined: int = 0
    open_cases: int = 0
    overdue: list[dict[str, str]] = field(default_factory=list)
    token_expires_at: str | None = None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.alerts

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "now": iso(self.now),
            "healthy": self.healthy,
            "last_poll": iso(self.last_poll),
            "last_tick": iso(self.last_tick),
            "poll_failing_since": iso(self.poll_failing_since),
            "poll_running_since": iso(self.poll_running_since),
            "mailbox_backlog": self.backlog,
            "outbox_pending": {
                "count": self.outbox_pending,
                "oldest": iso(self.outbox_oldest),
                "oldest_age_minutes": _age(self.now, self.outbox_oldest),
            },
            "triage": {"count": self.triage, "oldest": iso(self.triage_oldest)},
            "quarantined": self.quarantined,
            "open_cases": self.open_cases,
            "overdue": {"count": len(self.overdue), "steps": self.overdue},
            "token_expires_at": self.token_expires_at,
            "alerts": [
                {"kind": a.kind, "problem": a.problem, "since": a.since.isoformat()}
                for a in self.alerts
            ],
        }

    def health_json(self) -> dict[str, Any]:
        """What a monitoring system may see without signing in: times, counts and alert kinds,
        no names, addresses or references. The same keys as `to_json` (`status --json`)."""
        full = self.to_json()
        return {
            "now": full["now"],
            "healthy": full["healthy"],
            "last_poll": full["last_poll"],
            "last_tick": full["last_tick"],
            "poll_failing_since": full["poll_failing_since"],
            "poll_running_since": full["poll_running_since"],
            "outbox_pending": full["outbox_pending"],
            "token_expires_at": full["token_expires_at"],
            "alerts": [{"kind": a["kind"], "since": a["since"]} for a in full["alerts"]],
        }

    def render(self) -> str:
        def when(value: datetime | None, never: str = "never") -> str:
            if value is None:
                return never
            return f"{value.astimezone(LONDON):%a %d %b %Y %H:%M} ({_ago(self.now, value)})"

        outbox = f"{self.outbox_pending}"
        if self.outbox_oldest:
            outbox += f" (oldest queued {when(self.outbox_oldest)})"
        triage = f"{self.triage}"
        if self.triage_oldest:
            triage += f" (oldest received {when(self.triage_oldest)})"
        rows = [
            ("last successful poll", when(self.last_poll)),
            ("last deadline tick", when(self.last_tick)),
            ("polling failing since", when(self.poll_failing_since, "-")),
            ("poll running since", when(self.poll_running_since, "-")),
            ("mailbox backlog", "n/a" if self.backlog is None else str(self.backlog)),
            ("outbox pending", outbox),
            ("triage", triage),
            ("quarantined", str(self.quarantined)),
            ("open cases", str(self.open_cases)),
            ("overdue steps", str(len(self.overdue))),
        ]
        lines = [f"status at {self.now.astimezone(LONDON):%a %d %b %Y %H:%M}"]
        lines += [f"  {label + ':':<23}{value}" for label, value in rows]
        lines += [
            f"    {o['reference']} [{o['step']}] {o['title']}: due {o['due']}" for o in self.overdue
        ]
        lines.append(f"  {'token expires:':<23}{self.token_expires_at or 'n/a'}")
        if self.healthy:
            lines.append("healthy")
        lines += [f"ALERT {alert.kind}: {alert.problem}" for alert in self.alerts]
        return "\n".join(lines)


def _age(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else int((now - then).total_seconds() // 60)


def _ago(now: datetime, then: datetime) -> str:
    minutes = _age(now, then) or 0
    if minutes < 0:
        return "in the future"
    if minutes < 120:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def collect(
    now: datetime,
    config: Config,
    engine: Engine,
    store: Store | None,
    backlog: int | None,
    *,
    cases: bool = True,
) -> Status:
    """The figures at `now`, changing nothing; `store` None means the bot has never run;
    `backlog` is what waits in the inbox, None where it was not looked at; `cases` False skips
    counting open cases and overdue steps (for a monitoring probe, which must stay cheap)."""
    status = Status(now=now, backlog=backlog)
    status.alerts = check_health(now, store, config)
    status.poll_running_since = running_since(config.store.directory)
    if store is None:
        return status
    status.last_poll = moment(store.get_meta("last_poll"))
    status.last_tick = moment(store.get_meta("last_tick"))
    status.poll_failing_since = moment(store.get_meta(POLL_FAILING_SINCE))
    token = store.get_meta(TOKEN_EXPIRES)
    status.token_expires_at = str(token) if token else None
    pending = store.outbox_pending()
    status.outbox_pending = len(pending)
    status.outbox_oldest = min(
        (t for t in (moment(i.get("queued_at")) for i in pending) if t), default=None
    )
    triage = store.triage_items()
    status.triage = len(triage)
    status.triage_oldest = min(
        (t for t in (moment(i.get("received")) for i in triage) if t), default=None
    )
    status.quarantined = sum(1 for item in triage if item.get("kind") == "quarantined")
    if not cases:
        return status
    open_cases = list(CaseIndex(store).open())
    status.open_cases = len(open_cases)
    for case in sorted(open_cases, key=lambda c: c.reference):
        for deadline in case.deadlines:
            if engine.is_overdue(deadline, now):
                status.overdue.append(
                    {
                        "reference": case.reference,
                        "step": deadline.step,
                        "title": deadline.title,
                        "due": deadline.due.isoformat(),
                    }
                )
    return status


def show_status(reader: Reader, clock: Clock, backlog: int | None, *, as_json: bool = False) -> int:
    """Print the status; 0 when healthy, 1 when any alert condition holds."""
    rules = reader.rules
    status = collect(clock.now(), rules.config, rules.engine(), reader.store, backlog)
    print(json.dumps(status.to_json(), indent=2) if as_json else status.render())
    return 0 if status.healthy else 1
