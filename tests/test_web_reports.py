"""The dashboard's Reports page on the demo's workspace: the period form, every view beside its
chart, the same figures as `python -m bot report`, and the downloads behind sign-in."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from html import escape
from pathlib import Path

import openpyxl
import pytest
from backends.dashboard_site import ws
from backends.idp_fake import FakeIdentityProvider
from backends.idp_tokens import FakeUser
from backends.web_app import (
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET,
    TENANT,
    dashboard,
    sign_in,
)
from starlette.testclient import TestClient

from bot.clock import FixedClock
from bot.demo.harness import Workspace
from bot.demo.script import END
from bot.rules import Rules
from bot.store import Store
from bot.views.reports.charts import table_chart
from bot.views.reports.command import figures_from_store
from bot.views.reports.figures import Figures
from bot.views.reports.html import cell_text
from bot.views.reports.period import Period
from bot.views.reports.tables_intake import report_tables
from bot.views.reports.xlsx import FIRST_ROW
from bot.views.web.app import create_app
from bot.views.web.report_period import PARTS, quarter_of, read_form
from bot.views.web.site import Site

__all__ = ["ws"]  # the played demo, a fixture shared by the dashboard tests

LOCAL = "http://127.0.0.1:8080"
DEMO = Period(date(2026, 11, 1), date(2027, 4, 9))  # the demo's whole story
DATES = {"period": "dates", "from-day": "1", "from-month": "11", "from-year": "2026",
         "to-day": "9", "to-month": "4", "to-year": "2027"}  # fmt: skip


@pytest.fixture(scope="module")
def web(ws: Workspace) -> TestClient:
    app = create_app(ws.root / "config.yaml", FixedClock(END), local_person="pjones")
    return TestClient(app, base_url=LOCAL, follow_redirects=False)


@pytest.fixture(scope="module")
def expected(ws: Workspace) -> Figures:
    """What `python -m bot report` makes of the same store, period and moment."""
    rules = Rules.load(ws.root / "config.yaml")
    with Store.open_snapshot(rules.config.store.directory) as snapshot:
        return figures_from_store(snapshot, rules, DEMO, END)


def section(html: str, number: int) -> str:
    start = html.index(f'id="view-{number}"')
    end = html.find("<section", start)
    return html[start : end if end >= 0 else len(html)]


def test_the_page_shows_every_view_with_its_chart_beside_the_same_numbers(
    web: TestClient, expected: Figures
) -> None:
    page = web.get("/reports", params=DATES)
    assert page.status_code == 200
    html = page.text
    assert 'href="/reports" aria-current="page"' in html  # in the navigation, current
    tables = report_tables(expected)
    shown = re.findall(r'<h2 class="heading-m" id="view-\d+">([^<]+)</h2>', html)
    assert shown == [escape(t.title) for t in tables] and len(tables) == 9
    charts = 0
    for number, table in enumerate(tables, start=1):
        part = section(html, number)
        chart = table_chart(table, f"chart-{number}")
        if chart:  # drawn on the server, named for screen readers, before its table
            charts += 1
            assert chart in part and part.index("<svg") < part.index("<table")
            assert 'role="img"' in chart and f'aria-labelledby="chart-{number}-title' in chart
        cells = re.findall(r"<t[hd] [^>]*data-label[^>]*>(.*?)</t[hd]>", part, re.S)
        texts = [re.sub(r"<[^>]+>", "", c) for c in cells]
        assert texts == [escape(cell_text(v, table.formats.get(n, "")))
                         for row in table.rows for n, v in enumerate(row)]  # fmt: skip
    assert charts == 5
    assert len(expected.breaches) >= 3
    for breach in expected.breaches:  # each breach leads to its case
        link = f'<a class="link" href="/cases/{breach.reference}">{breach.reference}</a>'
        assert link in section(html, 3)
    summary = (f"{expected.received} concerns received, {expected.fell_due} timescales fell "
               f"due, {expected.met} met, {len(expected.breaches)} breaches")  # fmt: skip
    assert summary in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize(
    ("choice", "checked", "heading"),
    [(None, "this-month", "Apr 2027"), ("this-month", "this-month", "Apr 2027"),
     ("last-month", "last-month", "Mar 2027"), ("this-quarter", "this-quarter", "Q1 2027/28"),
     ("this-year", "this-year", "Financial year 2027/28"),
     ("nonsense", "this-month", "Apr 2027")],
)  # fmt: skip
def test_named_periods_are_counted_from_today(
    web: TestClient, choice: str | None, checked: str, heading: str
) -> None:
    page = web.get("/reports", params={"period": choice} if choice else {})
    assert page.status_code == 200
    assert f'id="report-title">{heading}</h2>' in page.text
    radios = re.findall(r'id="period-([a-z-]+)" name="period" type="radio" value="[a-z-]+" '
                        r"checked", page.text)  # fmt: skip
    assert radios == [checked]


def test_quarters_and_years_run_from_april() -> None:
    assert quarter_of(date(2027, 2, 10)) == Period(date(2027, 1, 1), date(2027, 3, 31))
    assert quarter_of(date(2026, 12, 31)) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_of(date(2026, 4, 1)) == Period(date(2026, 4, 1), date(2026, 6, 30))
    year = read_form({"period": "this-year"}, date(2027, 3, 31)).period
    assert year == Period(date(2026, 4, 1), date(2027, 3, 31))


def dates(start: tuple[str, str, str], end: tuple[str, str, str]) -> dict[str, str]:
    fields = {"period": "dates"}
    for name, values in (("from", start), ("to", end)):
        fields.update({f"{name}-{part}": v for part, v in zip(PARTS, values, strict=True)})
    return fields


@pytest.mark.parametrize(
    ("start", "end", "problems"),
    [
        (("", "", ""), ("", "", ""), {"from-day": "Enter the date the report starts from",
                                       "to-day": "Enter the date the report ends on"}),
        (("31", "2", "2026"), ("1", "3", "2026"),
         {"from-day": "The date the report starts from must be a real date"}),
        (("1", "", "2026"), ("1", "3", "2026"),
         {"from-month": "The date the report starts from must include a month"}),
        (("1", "4", "2026"), ("", "3", ""),
         {"to-day": "The date the report ends on must include a day and a year"}),
        (("1", "4", "26"), ("1", "5", "2026"), {"from-year": "Year must include 4 numbers"}),
        (("1", "April", "2026"), ("1", "5", "2026"),
         {"from-month": "The date the report starts from must be a real date"}),
        (("1", "5", "2026"), ("30", "4", "2026"),
         {"to-day": "The date the report ends on must be the same as or after the date the "
                    "report starts from"}),
        (("1", "4", "2016"), ("31", "3", "2027"),
         {"from-day": "The report can cover at most 5 years"}),
    ],
)  # fmt: skip
def test_dates_that_do_not_read_get_the_error_summary_and_are_shown_again(
    web: TestClient,
    start: tuple[str, str, str],
    end: tuple[str, str, str],
    problems: dict[str, str],
) -> None:
    page = web.get("/reports", params=dates(start, end))
    assert page.status_code == 400
    html = page.text
    assert "<title>Error: Reports" in html and "There is a problem" in html
    summary = html[html.index("error-summary__list") : html.index("</ul>", html.index(
        "error-summary__list"))]  # fmt: skip
    assert re.findall(r'<a href="#([a-z-]+)">([^<]+)</a>', summary) == [
        (field, escape(message)) for field, message in problems.items()]  # fmt: skip
    for field in problems:  # each link leads to an input, marked in error
        assert re.search(rf'class="[^"]*input--error[^"]*" id="{field}"', html)
    for name, value in dates(start, end).items():
        if name != "period":
            assert f'id="{name}" name="{name}" type="text" inputmode="numeric" value="' \
                   f'{escape(value)}"' in html
    assert 'value="dates" checked' in html
    assert 'id="report-title"' not in html and "/reports/download/" not in html


def test_downloads_are_the_same_figures_as_a_workbook_and_csv_files(
    web: TestClient, expected: Figures
) -> None:
    page = web.get("/reports", params=DATES).text
    links = re.findall(r'href="(/reports/download/[a-z]+\?[^"]+)" download', page)
    assert len(links) == 2
    book_answer = web.get(links[0].replace("&amp;", "&"))
    assert book_answer.status_code == 200
    assert book_answer.headers["content-disposition"] == (
        'attachment; filename="timescales-2026-11-01_2027-04-09.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(book_answer.content))
    assert book.sheetnames == [t.name for t in report_tables(expected)]
    breaches = [r[0] for r in book["Breaches"].iter_rows(min_row=FIRST_ROW + 2,
                                                          values_only=True) if r[0]]
    assert breaches == [b.reference for b in expected.breaches]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=FIRST_ROW + 2,
                                                             values_only=True)}  # fmt: skip
    assert summary["Concerns received"] == expected.received
    zipped = web.get(links[1].replace("&amp;", "&"))
    assert zipped.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert len(archive.namelist()) == 9
    rows = list(csv.reader(io.StringIO(archive.read("03-breaches.csv").decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == breaches
    assert web.get("/reports/download/pdf", params=DATES).status_code == 404
    bad = dates(("31", "2", "2026"), ("1", "3", "2026"))
    assert web.get("/reports/download/xlsx", params=bad).status_code == 404


def test_the_page_and_its_downloads_need_a_signed_in_member_of_staff(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCBOT_TEST_DASHBOARD_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CCBOT_TEST_SESSION_SECRET", SESSION_SECRET)
    clock = FixedClock(END)
    idp = FakeIdentityProvider(tmp_path / "idp", clock.now, tenant=TENANT, client_id=CLIENT_ID,
                               client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK]).start()
    try:
        idp.user = FakeUser("jane.smith@council.example", "Jane Smith",
                            email="jane.smith@council.example")  # fmt: skip
        rules = Rules.load(ws.root / "config.yaml")
        rules.config = rules.config.model_copy(update={"dashboard": dashboard(
            {"authority": idp.authority, "ca_bundle": str(idp.tls.ca_file)})})  # fmt: skip
        app = create_app(Site.build(rules, clock), clock)
        web = TestClient(app, base_url=LOCAL, follow_redirects=False)
        for path in ("/reports", "/reports/download/xlsx", "/reports/download/csv"):
            answer = web.get(path, params=DATES)
            assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in"), path
        sign_in(web, idp.tls.ca_file, start="/reports")
        assert "Jane Smith" in web.get("/reports", params=DATES).text
        book = web.get("/reports/download/xlsx", params=DATES)
        assert book.status_code == 200 and book.content.startswith(b"PK")
    finally:
        idp.stop()
