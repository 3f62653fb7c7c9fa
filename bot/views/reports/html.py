"""The report as one self-contained, accessible HTML page: SVG charts beside their tables."""

from __future__ import annotations

from datetime import date
from html import escape

from bot.views.reports.charts import table_chart
from bot.views.reports.figures import Figures
from bot.views.reports.tables import DAYS, PERCENT, Cell, Table
from bot.views.reports.tables_intake import report_tables

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Inline: the page is one file (emailed, saved, opened offline) and loads nothing.
STYLE = """
body{font-family:Arial,sans-serif;color:#0b0c0c;margin:0;line-height:1.4}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fd0;padding:8px}
header{background:#0b0c0c;color:#fff;padding:12px 24px}main{padding:0 24px 48px;max-width:1200px}
h1{font-size:2rem}h2{font-size:1.5rem;margin-top:40px}
.pair{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.pair figure{flex:1 1 480px;margin:0;max-width:640px}.pair .table{flex:1 1 420px;overflow-x:auto}
table{border-collapse:collapse;font-size:.95rem}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border-bottom:1px solid #b1b4b6;padding:6px 10px 6px 0;text-align:left;vertical-align:top}
td.n{text-align:right}a{color:#1d70b8}a:focus,th:focus{outline:3px solid #fd0}
nav ul{padding-left:20px}
"""


def _day(value: date) -> str:
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def cell_text(value: Cell, kind: str = "") -> str:
    """A cell as people read it: 75%, 2.5, 1 Apr 2026, or n/a when there is nothing to show."""
    if value is None:
        return "n/a"
    if isinstance(value, date):
        return _day(value)
    if kind == PERCENT and isinstance(value, int | float):
        return f"{value:.0%}"
    if kind == DAYS and isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table_html(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for n, value in enumerate(row):
            text = escape(cell_text(value, table.formats.get(n, "")))
            if n == 0:
                cells.append(f'<th scope="row">{text}</th>')
            else:
                numeric = isinstance(value, int | float)
                cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    empty = f'<tr><td colspan="{len(table.headers)}">Nothing in this period</td></tr>'
    body = "".join(rows) or empty
    return (
        f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def section_html(table: Table, number: int) -> str:
    """One view: heading, note, then the chart (if any) beside the table of its numbers."""
    anchor = f"view-{number}"
    chart = table_chart(table, f"chart-{number}")
    figure = f"<figure>{chart}</figure>" if chart else ""
    return (
        f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(table.title)}</h2>'
        f"<p>{escape(table.note)}</p>"
        f'<div class="pair">{figure}<div class="table">{table_html(table)}</div></div></section>'
    )


def render_report_sections(figures: Figures) -> str:
    """The report's views as HTML sections, for a page that has its own layout (the dashboard)."""
    tables = report_tables(figures)
    contents = "".join(
        f'<li><a href="#view-{n}">{escape(t.title)}</a></li>' for n, t in enumerate(tables)
    )
    sections = "".join(section_html(t, n) for n, t in enumerate(tables))
    return f'<nav aria-label="Contents"><ul>{contents}</ul></nav>{sections}'


def render_report_html(figures: Figures, council: str = "") -> str:
    """A whole page: no script, nothing loaded from elsewhere."""
    title = f"Timescale compliance, {figures.period.label}"
    who = f"<p>{escape(council)}</p>" if council else ""
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        '<a class="skip" href="#main">Skip to the report</a>'
        f"<header>{who}<strong>Contract concerns</strong></header>"
        f'<main id="main"><h1>{escape(title)}</h1>'
        f"<p>As at {_day(figures.as_at.date())} {figures.as_at:%H:%M}. "
        f"{figures.cases_counted} cases counted.</p>"
        f"{render_report_sections(figures)}</main></body></html>"
    )
