"""The deadline tick: fire what has fallen due, queue its letters and the digests, commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.actions.outbox import Outbox
from bot.config import Config
from bot.handling.handle import Handler
from bot.procedure.engine import Engine
from bot.store import Store
from bot.store.case_index import CaseIndex
from bot.upkeep.digest import send_digests
from bot.upkeep.monthly_report import ReportMaker, send_monthly_report

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    cases_changed: list[str] = field(default_factory=list)
    digests: int = 0
    monthly_report: bool = False
    delivered: int = 0
    failed: int = 0


def tick(
    now: datetime,
    *,
    config: Config,
    engine: Engine,
    cases: CaseIndex,
    store: Store,
    outbox: Outbox,
    handler: Handler,
    monthly: ReportMaker | None = None,
) -> TickReport:
    """Fire every deadline due by `now` and queue the digests, then commit once (sends nothing)."""
    report = TickReport()
    # Only cases with a deadline firing by now are parsed: a tick is not O(open cases) work.
    due = cases.due(now)
    cases.will_get(due)
    for reference in due:
        case = cases.take(reference)  # ours to change: a failure half-way is never seen
        if case is None:
            continue
        try:
            outcome = engine.fire_due(case, now, owned=True)
            if not outcome.applied:
                continue
            handler.queue_outcome(outcome, now, None)
            outbox.stage()
            cases.put(outcome.case)
            report.cases_changed.append(case.reference)
            log.info(
                "deadline fired",
                extra={"event": "tick", "reference": case.reference, "step": outcome.case.stage},
            )
            store.audit(
                {
                    "at": now.isoformat(),
                    "event": "tick",
                    "reference": case.reference,
                    "stage": outcome.case.stage,
                }
            )
        except Exception as err:  # one broken case must not stop the others' deadlines
            outbox.discard()
            log.exception(
                "deadline tick failed for %s",
                case.reference,
                extra={"event": "tick-error", "reference": case.reference},
            )
            store.audit(
                {
                    "at": now.isoformat(),
                    "event": "tick-error",
                    "reference": case.reference,
                    "error": type(err).__name__,
                }
            )
    report.digests = send_digests(
        now=now, config=config, engine=engine, cases=cases, store=store, outbox=outbox
    )
    if monthly is not None:
        report.monthly_report = send_monthly_report(
            now, config=config, calendar=engine.calendar, store=store, outbox=outbox,
            make_report=monthly,
        )
    outbox.stage()
    store.set_meta("last_tick", now.isoformat())
    store.commit()
    return report
