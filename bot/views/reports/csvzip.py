"""The report as CSV: one file per view, in one zip (a single file to save, send or attach)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

from bot.views.reports.figures import Figures
from bot.views.reports.tables import Cell
from bot.views.reports.tables_intake import report_tables

# A spreadsheet opening the file would read text starting with these as a formula: such text
# (a mail domain comes from whoever wrote to the bot) gets an apostrophe first, as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_zip_bytes(figures: Figures) -> bytes:
    """A zip of NN-name.csv files (UTF-8 with a byte order mark, so Excel reads it right)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, table in enumerate(report_tables(figures), start=1):
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(table.headers)
            writer.writerows([_plain(v) for v in row] for row in table.rows)
            name = f"{n:02d}-{table.name.lower().replace(' ', '-')}.csv"
            archive.writestr(name, "\ufeff" + text.getvalue())
    return buffer.getvalue()
