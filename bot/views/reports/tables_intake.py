"""The intake, triage, sources and trend tables of a report."""

from __future__ import annotations

from bot.views.reports import tables as t
from bot.views.reports.figures import Figures
from bot.views.reports.tables import DAYS, PERCENT, Chart, Table, fraction

ARRIVALS = ("in working hours", "after close of business",
            "on a weekend, bank holiday or closure day")


def intake(f: Figures) -> Table:
    table = Table(
        "Intake",
        "Concerns and triage, month by month",
        "How they arrived: when the concern email came in. Triage wait: working days from "
        "the email to an officer dealing with it (to today for those still waiting).",
        ["Month", "Concerns received", *(a.capitalize() for a in ARRIVALS), "Triage items",
         "Median triage wait", "90th percentile triage wait", "Still waiting"],
        formats={6: DAYS, 7: DAYS},
        chart=Chart("bar", "Concerns received and triage items, by month", (1, 5)),
    )
    table.rows = [
        [m.month.label, m.received, *(m.arrived.get(a, 0) for a in ARRIVALS), m.triaged,
         m.median_wait, m.p90_wait, m.still_waiting]
        for m in f.intake
    ]
    return table


def sources(f: Figures) -> Table:
    table = Table(
        "Sources",
        "Where concerns came from, and what went to triage",
        "Concerns by the mail domain of the person who raised them; triage items by kind.",
        ["Source", "What", "Number"],
    )
    counts: dict[tuple[str, str], int] = {}
    for m in f.intake:
        for domain, n in m.sources.items():
            counts[("concerns", domain)] = counts.get(("concerns", domain), 0) + n
        for kind, n in m.triage_kinds.items():
            counts[("triage", kind)] = counts.get(("triage", kind), 0) + n
    table.rows = [[what, name, n] for (what, name), n in sorted(counts.items())]
    return table


def trends(f: Figures) -> Table:
    table = Table(
        "Trends",
        "Month by month",
        "The same figures for each month of the period.",
        ["Month", "Received", "Screened in", "Not processed", "Fell due", "Met",
         "Missed or overdue", "On-time rate", "Provider responses", "Median days to respond",
         "Triage items"],
        formats={7: PERCENT, 9: DAYS},
        chart=Chart("line", "Concerns received and timescales met and late, by month",
                    (1, 5, 6)),
    )
    table.rows = [
        [t.month.label, t.received, t.eligible, t.not_processed, t.fell_due, t.met, t.late,
         fraction(t.on_time_rate), t.responses, t.median_response_days, t.triaged]
        for t in f.trends
    ]
    return table


def report_tables(f: Figures) -> list[Table]:
    """Every table of a report, in the order the formats show them."""
    return [t.summary(f), t.steps(f), t.breaches(f), t.providers(f), t.not_processed(f),
            t.officers(f), intake(f), sources(f), trends(f)]
