"""The monthly timescale report: on the first working day of a month, for the month before,
emailed (the workbook attached) to the people config.yaml names and saved to the shared drive.

Sent once per month: the period is remembered in the store, and the email and the file have
Message-IDs made from the period, so the outbox never queues them twice. The figures are made
by a function the composition root passes in (the views build them; upkeep only sends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient
from bot.config import Config
from bot.config.report_settings import report_recipients
from bot.procedure.workdays import WorkCalendar
from bot.store import Store

log = logging.getLogger(__name__)

META_KEY = "monthly_report"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class MonthlyReport:
    """A month's report as sent: the workbook, and the references and figures the email quotes."""

    workbook: bytes
    summary: dict[str, Any] = field(default_factory=dict)


# (first day, last day, now) -> the report of that month.
ReportMaker = Callable[[date, date, datetime], MonthlyReport]


def month_before(today: date) -> tuple[date, date, str]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last, f"{last:%Y-%m}"


def send_monthly_report(
    now: datetime,
    *,
    config: Config,
    calendar: WorkCalendar,
    store: Store,
    outbox: Outbox,
    make_report: ReportMaker,
) -> bool:
    """Queue last month's report if it is due and not yet sent; True when it was queued."""
    if not config.reports.monthly:
        return False
    local = now.astimezone(calendar.zone)
    today = local.date()
    first_working = calendar.next_working_day(today.replace(day=1))
    if today < first_working or (today == first_working and local.time() < config.letters_time()):
        return False
    start, end, key = month_before(today)
    if store.get_meta(META_KEY) == key or end < config.start_date:
        return False  # sent already, or a month before the bot started work
    people = report_recipients(config.reports, config.people)
    if not people:
        log.warning("monthly report %s: nobody to send it to; set reports.recipients", key)
        store.set_meta(META_KEY, key)
        return False
    try:
        report = make_report(start, end, now)
    except Exception:  # a report must not stop the tick; it is tried again at the next one
        log.exception("monthly report %s could not be made", key)
        return False
    name = f"timescale-report-{key}.xlsx"
    saved = outbox.queue_file(
        name=name, content=report.workbook, key=f"monthly-report-file.{key}", now=now
    )
    sent = outbox.queue_message(
        template="monthly_report",
        to=[Recipient(p.name, p.email) for p in people],
        case=None,
        key=f"monthly-report.{key}",
        now=now,
        extra={**report.summary, "file_name": name},
        attachments=[(name, XLSX, report.workbook)],
    )
    store.set_meta(META_KEY, key)
    return bool(saved or sent)
