"""`python -m bot report`: the figures of a period from the store, as xlsx, csv (zip) or html."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.procedure.model import Procedure
from bot.rules import Rules
from bot.store import Store
from bot.store.bulk import collector_paused
from bot.views.reader import Reader
from bot.views.reports.daycount import DayCounter
from bot.views.reports.figures import Figures, compute_figures
from bot.views.reports.load import Progress, load_cases, load_triage
from bot.views.reports.period import Period
from bot.views.reports.progress import ProgressBar

EXTENSIONS = {"xlsx": "xlsx", "csv": "zip", "html": "html"}


def display_names(config: Config) -> dict[str, str]:
    """What people read for the ids in the figures: providers, officers, the SPO's role."""
    names = {p.id: p.name for p in config.providers}
    names.update({p.id: p.name for p in config.people})
    names["spo"] = "Senior Procurement Officer"
    names["unallocated"] = "(no officer allocated)"
    return names


def step_titles(procedure: Procedure) -> dict[str, str]:
    return {number: step.title for number, step in procedure.steps.items()}


def figures_from_store(
    store: Store, rules: Rules, period: Period, now: datetime, progress: Progress | None = None
) -> Figures:
    """The figures of `period` as at `now`, from the store's briefs of its cases (what the
    command, the monthly report and the dashboard's Reports page all show)."""
    days = DayCounter(rules.engine().calendar)
    with collector_paused():
        cases = load_cases(store, period, days, progress)
        return compute_figures(
            cases,
            load_triage(store, days),
            period,
            now,
            days,
            step_titles=step_titles(rules.procedure),
            names=display_names(rules.config),
        )


def render(figures: Figures, fmt: str, council: str = "") -> bytes:
    """The report's bytes in one format (imports only the writer it needs)."""
    with collector_paused():
        return _render(figures, fmt, council)


def _render(figures: Figures, fmt: str, council: str) -> bytes:
    if fmt == "xlsx":
        from bot.views.reports.xlsx import workbook_bytes

        return workbook_bytes(figures)
    if fmt == "csv":
        from bot.views.reports.csvzip import csv_zip_bytes

        return csv_zip_bytes(figures)
    if fmt == "html":
        from bot.views.reports.html import render_report_html

        return render_report_html(figures, council).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r}: use xlsx, csv or html")


def write_private(path: Path, content: bytes) -> None:
    """Owner-only, like every data file the bot writes."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)


def run_report(
    reader: Reader,
    period: Period,
    fmt: str,
    out: Path | None,
    now: datetime,
    stderr: TextIO | None = None,
) -> int:
    if reader.store is None:
        print("error: there is no store yet: the bot has not run", file=stderr or sys.stderr)
        return 3
    bar = ProgressBar(stderr)
    figures = figures_from_store(reader.store, reader.rules, period, now, bar)
    bar.finish()
    target = out or Path(f"timescales-{period.key}.{EXTENSIONS[fmt]}")
    write_private(target, render(figures, fmt, reader.rules.config.council.name))
    print(
        f"{target}: {figures.period.label}, {figures.received} concerns received, "
        f"{figures.fell_due} timescales fell due, {figures.met} met, "
        f"{len(figures.breaches)} breaches"
    )
    return 0
