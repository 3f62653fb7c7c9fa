"""The report as an Excel workbook: one sheet per view, each with a native Excel chart."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import xlsxwriter

from bot.views.reports.figures import Figures
from bot.views.reports.tables import DAYS, PERCENT, Table
from bot.views.reports.tables_intake import report_tables

FIRST_ROW = 3  # title, note, blank, then the header row


def workbook_bytes(figures: Figures) -> bytes:
    """The .xlsx file's bytes (built in memory: it is small, and mailed or saved whole)."""
    buffer = io.BytesIO()
    # Text is written as text, never read as a formula or a link: a provider's name or a
    # triage kind beginning with "=" stays a name (and writing is faster without the checks).
    options = {"in_memory": True, "remove_timezone": True, "strings_to_formulas": False,
               "strings_to_urls": False, "strings_to_numbers": False}  # fmt: skip
    book = xlsxwriter.Workbook(buffer, options)
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "header": book.add_format({"bold": True, "bottom": 1, "text_wrap": True}),
        PERCENT: book.add_format({"num_format": "0%"}),
        DAYS: book.add_format({"num_format": "0.0"}),
        "date": book.add_format({"num_format": "d mmm yyyy"}),
    }
    book.set_properties({"title": f"Timescale compliance, {figures.period.label}"})
    for table in report_tables(figures):
        _sheet(book, table, formats)
    book.close()
    return buffer.getvalue()


def _sheet(book: Any, table: Table, formats: dict[str, Any]) -> None:
    sheet = book.add_worksheet(table.name)
    sheet.write(0, 0, table.title, formats["title"])
    sheet.write(1, 0, table.note)
    sheet.write_row(FIRST_ROW, 0, table.headers, formats["header"])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, len(table.headers) - 1, 14)
    for r, row in enumerate(table.rows, start=FIRST_ROW + 1):
        for c, value in enumerate(row):
            if value is None:
                sheet.write_blank(r, c, None)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, formats["date"])
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif c in table.formats:
                sheet.write_number(r, c, value, formats[table.formats[c]])
            else:
                sheet.write_number(r, c, value)
    sheet.freeze_panes(FIRST_ROW + 1, 1)
    if table.chart is None or not table.rows:
        return
    chart = book.add_chart({"type": "column" if table.chart.kind == "bar" else "line"})
    last = FIRST_ROW + len(table.rows)
    for column in table.chart.series:
        chart.add_series(
            {
                "name": [table.name, FIRST_ROW, column],
                "categories": [table.name, FIRST_ROW + 1, 0, last, 0],
                "values": [table.name, FIRST_ROW + 1, column, last, column],
                "marker": {"type": "circle"} if table.chart.kind == "line" else {},
            }
        )
    chart.set_title({"name": table.chart.title})
    chart.set_y_axis({"name": table.chart.y_title})
    chart.set_size({"width": 720, "height": 360})
    sheet.insert_chart(last + 2, 0, chart)
