"""The report's formats: the workbook read back with openpyxl, the CSV zip, the HTML page and
its SVG charts, the progress bar, and `python -m bot report` on a real store."""

from __future__ import annotations

import csv
import io
import json
import stat
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from reports_cases import NOW, TRIAGE, fixed_cases

from bot.cli import main
from bot.demo.harness import Workspace
from bot.views.reports.charts import bar_chart, line_chart
from bot.views.reports.command import display_names, step_titles
from bot.views.reports.csvzip import csv_zip_bytes
from bot.views.reports.figures import Figures, compute_figures
from bot.views.reports.html import render_report_html
from bot.views.reports.period import month
from bot.views.reports.progress import ProgressBar
from bot.views.reports.tables_intake import report_tables
from bot.views.reports.xlsx import FIRST_ROW, workbook_bytes

SHEETS = ["Summary", "Steps", "Breaches", "Providers", "Not processed", "Officers", "Intake",
          "Sources", "Trends"]


@pytest.fixture(scope="module")
def may() -> Figures:
    rules, cases = fixed_cases()
    return compute_figures(cases, TRIAGE, month(2026, 5), NOW, rules.engine().calendar,
                           step_titles=step_titles(rules.procedure),
                           names=display_names(rules.config))


def _rows(sheet: object, width: int) -> list[list[object]]:
    rows = sheet.iter_rows(min_row=FIRST_ROW + 2, max_col=width, values_only=True)  # type: ignore[attr-defined]
    return [list(r) for r in rows if r[0] is not None]


def test_workbook_has_a_sheet_per_view_with_the_figures_and_native_charts(may: Figures) -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(may)))
    assert book.sheetnames == SHEETS
    steps = _rows(book["Steps"], 10)
    review = next(r for r in steps if r[0] == "8")
    assert review[1] == "Review of the concern and recommendation"
    assert review[2:10] == [3, 1, 1, 1, 1, pytest.approx(0.3333), 5.5, 7]
    breaches = _rows(book["Breaches"], 6)
    assert [(r[0], r[5]) for r in breaches] == [("CC-2026-0003", 11), ("CC-2026-0002", 2)]
    providers = {r[0]: r for r in _rows(book["Providers"], 12)}
    assert providers["Brightpath Home Care Ltd"][1:4] == [1, 1, 0]
    officers = {r[0]: r for r in _rows(book["Officers"], 7)}
    assert officers["Aisha Khan"][1:6] == [1, 1, 3, 2, 1]
    assert officers["Senior Procurement Officer"][6] == 1.0
    charted = {name for name in SHEETS if book[name]._charts}
    assert charted == {"Steps", "Providers", "Officers", "Intake", "Trends"}


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook(may: Figures) -> None:
    names = {**may.names, "oakview": "=HYPERLINK(\"http://x.example\",\"open\")"}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(replace(may, names=names))))
    cells = [row[0] for row in book["Providers"].iter_rows(min_row=FIRST_ROW + 2)]
    [cell] = [c for c in cells if str(c.value).startswith("=")]
    assert cell.data_type == "s" and cell.value == names["oakview"]
    archive = zipfile.ZipFile(io.BytesIO(csv_zip_bytes(replace(may, names=names))))
    text = archive.read("04-providers.csv").decode("utf-8-sig")
    [row] = [r for r in csv.reader(io.StringIO(text)) if "HYPERLINK" in r[0]]
    assert row[0] == "'" + names["oakview"]  # a spreadsheet shows it as text


def test_csv_is_a_zip_of_one_file_per_view(may: Figures) -> None:
    archive = zipfile.ZipFile(io.BytesIO(csv_zip_bytes(may)))
    names = archive.namelist()
    assert len(names) == len(SHEETS) and names[2] == "03-breaches.csv"
    text = archive.read("03-breaches.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Reference"
    assert rows[1] == ["CC-2026-0003", "8", "Review the concern and recommend", "2026-05-26",
                       "", "11"]


def test_html_page_has_charts_beside_tables_and_no_script(may: Figures) -> None:
    page = render_report_html(may, "Example Borough Council")
    assert page.startswith("<!DOCTYPE html>") and 'lang="en-GB"' in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") == 5 and page.count("<table>") == len(SHEETS)
    assert page.count('role="img"') == 5
    for reference in ("CC-2026-0002", "CC-2026-0003"):
        assert f'<th scope="row">{reference}</th>' in page
    # Each chart sits in the same section as the table of its numbers.
    for section in page.split("<section")[1:]:
        if "<svg" in section:
            assert section.index("<svg") < section.index("<table>")


def test_svg_charts_are_well_formed_and_draw_each_value() -> None:
    svg = bar_chart("Met and missed", ["1", "8"], [("Met", [4, 1]), ("Missed", [0, 1])],
                    chart_id="c1")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert [b.find(f"{ns}title").text for b in bars] == [  # type: ignore[union-attr]
        "1, Met: 4", "8, Met: 1", "8, Missed: 1"]
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    line = ET.fromstring(line_chart("Trend", ["Apr", "May"], [("Received", [1, 4])]))
    assert len(list(line.iter(f"{ns}circle"))) == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_for_large_stores() -> None:
    shown, hidden = _Terminal(), io.StringIO()
    for stream in (shown, hidden):
        bar = ProgressBar(stream)
        bar(5000, 10000)
        bar(10000, 10000)
    assert "5,000 of 10,000 cases" in shown.getvalue() and shown.getvalue().endswith("\n")
    assert hidden.getvalue() == ""
    small = _Terminal()
    ProgressBar(small)(10, 100)
    assert small.getvalue() == ""


def test_tables_of_every_view_have_rows_as_wide_as_their_headers(may: Figures) -> None:
    for table in report_tables(may):
        assert all(len(row) == len(table.headers) for row in table.rows), table.name


def test_report_command_reads_the_store_read_only(
    make_workspace: Callable[..., Workspace], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = make_workspace(NOW)
    _, cases = fixed_cases()
    for case in cases:
        ws.app.store.put_case(json.loads(case.model_dump_json()))
    ws.app.store.commit()
    config = ws.root / "config.yaml"
    for fmt, name in (("xlsx", "may.xlsx"), ("csv", "may.zip"), ("html", "may.html")):
        out = tmp_path / name
        code = main(["--config", str(config), "report", "--from", "2026-05-01", "--to",
                     "2026-05-31", "--format", fmt, "--out", str(out), "--now",
                     "2026-06-10T12:00"])
        assert code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    printed = capsys.readouterr().out
    assert "May 2026, 4 concerns received, 13 timescales fell due, 11 met, 2 breaches" in printed
    book = openpyxl.load_workbook(tmp_path / "may.xlsx")
    assert [r[0] for r in _rows(book["Breaches"], 1)] == ["CC-2026-0003", "CC-2026-0002"]
    assert "CC-2026-0003" in (tmp_path / "may.html").read_text(encoding="utf-8")
    assert main(["--config", str(config), "report", "--from", "2026-05-31", "--to",
                 "2026-05-01"]) == 2
