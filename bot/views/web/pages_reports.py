"""The Reports page: timescale compliance for a chosen period, its charts beside their tables,
and the same figures as a workbook or CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.views.reports.charts import table_chart
from bot.views.reports.command import EXTENSIONS, render
from bot.views.reports.figures import Figures
from bot.views.reports.html import cell_text
from bot.views.reports.tables import Table
from bot.views.reports.tables_intake import report_tables
from bot.views.web.downloads import download
from bot.views.web.report_period import CHOICES, ENDS, PARTS, PeriodForm, read_form
from bot.views.web.site import Site

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
}
BREACHES = "Breaches"  # the table whose first column is a case reference, shown as a link


@dataclass(frozen=True)
class ViewCell:
    text: str
    numeric: bool
    link: str = ""


@dataclass(frozen=True)
class View:
    """One table of the report as the page shows it, with its chart (SVG, or "")."""

    number: int
    table: Table
    chart: str
    rows: list[list[ViewCell]]


def views(figures: Figures) -> list[View]:
    """Every table of the report (the workbook's sheets, the CSV files), ready to show."""
    shown = []
    for number, table in enumerate(report_tables(figures), start=1):
        rows = []
        for row in table.rows:
            cells = []
            for column, value in enumerate(row):
                text = cell_text(value, table.formats.get(column, ""))
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                link = f"/cases/{value}" if table.name == BREACHES and column == 0 else ""
                cells.append(ViewCell(text, numeric, link))
            rows.append(cells)
        shown.append(View(number, table, table_chart(table, f"chart-{number}"), rows))
    return shown


def routes(site: Site) -> list[Route]:
    def form_of(request: Request) -> PeriodForm:
        today = site.clock.now().date()
        return read_form(dict(request.query_params), today)

    def page(request: Request) -> Response:
        form = form_of(request)
        context: dict[str, Any] = {"figures": None, "views": []}
        if form.period is not None:
            figures = site.data.report(form.period, site.clock.now())
            context = {"figures": figures, "views": views(figures) if figures else []}
        return site.pages.render(
            request,
            "reports.html",
            400 if form.errors else 200,
            section="reports",
            form=form,
            choices=CHOICES,
            ends=ENDS,
            parts=PARTS,
            errors=form.errors,
            **context,
        )

    def file(request: Request) -> Response:
        fmt = str(request.path_params["format"])
        form = form_of(request)
        figures = site.data.report(form.period, site.clock.now()) if form.period else None
        if fmt not in MEDIA or figures is None:
            return site.not_found(request, "report")
        name = f"timescales-{figures.period.key}.{EXTENSIONS[fmt]}"
        body = render(figures, fmt, site.rules.config.council.name)
        return download(body, name, MEDIA[fmt])

    return [
        Route("/reports", page, methods=["GET"]),
        Route("/reports/download/{format:str}", file, methods=["GET"]),
    ]
