"""The Reports page and the draft letter page in a real headless Chromium: axe finds nothing
against WCAG 2.2 AA, the keyboard reaches every control, table and link, and the downloads
land as real files. One browser and one server for the module, on the demo's workspace with
one more concern whose letter waits for its officer's approval.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from backends.browser import AXE_TAGS, axe_problems, wait, widths_at
from backends.dashboard_site import WITH_PROVIDER, ws
from backends.web_app import served
from starlette.testclient import TestClient

from bot.demo.harness import Workspace
from bot.demo.script import END
from bot.views.web.app import create_app
from bot.views.web.csrf import CSRF_FIELD

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402

__all__ = ["ws"]  # the played demo, a fixture shared by the dashboard tests

DATES = ("period=dates&from-day=1&from-month=11&from-year=2026"
         "&to-day=9&to-month=4&to-year=2027")  # fmt: skip
BAD_DATES = "period=dates&from-day=31&from-month=2&from-year=2026&to-day=&to-month=4&to-year=27"


def waiting_draft(ws: Workspace) -> str:
    """A new concern, screened eligible from the dashboard: its letter waits for approval."""
    at = END + timedelta(minutes=5)
    ws.email("sam.ward@council.example", "Concern: Oakview Care Home",
             "I am raising a contract concern about Oakview Care Home. Residents missed their "
             "medication.\n\nThe safeguarding enquiry has concluded.", at=at)  # fmt: skip
    ws.run(at + timedelta(minutes=1))
    reference = max(case.reference for case in ws.app.cases.open())
    web = TestClient(create_app(ws.root / "config.yaml", ws.clock, local_person="jsmith"),
                     base_url="http://127.0.0.1:8080", follow_redirects=False)  # fmt: skip
    page = web.get(f"/cases/{reference}")
    token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert token
    answer = web.post(f"/cases/{reference}/decision", data={
        CSRF_FIELD: token[1], "decision": "screen.eligible", "reason": "in scope"})  # fmt: skip
    assert answer.status_code == 303
    ws.run(at + timedelta(minutes=10))  # the daemon's next poll carries it out
    case = ws.app.cases.get(reference)
    assert case is not None and case.stage == "letter_approval", case
    return reference


@pytest.fixture(scope="module")
def draft(ws: Workspace) -> str:
    return waiting_draft(ws)


@pytest.fixture(scope="module")
def base(ws: Workspace, draft: str) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port of 127.0.0.1, as `python -m bot web`."""
    with served(create_app(ws.root / "config.yaml", ws.clock, local_person="pjones")) as url:
        yield url


@pytest.mark.parametrize(
    "path",
    ["/reports", f"/reports?{DATES}", "/reports?period=this-year", f"/reports?{BAD_DATES}",
     "/cases/{draft}/drafts", f"/cases/{WITH_PROVIDER}/drafts"],
)  # fmt: skip
def test_reports_and_draft_pages_pass_axe_against_wcag_2_2_aa(
    browser: Any, base: str, draft: str, path: str
) -> None:
    browser.get(base + path.format(draft=draft))
    assert browser.find_element(By.TAG_NAME, "h1").text
    assert axe_problems(browser, AXE_TAGS) == []
    assert axe_problems(browser) == []  # and every rule axe runs by default


def test_a_draft_refused_for_an_empty_copy_passes_axe_with_its_error_summary(
    browser: Any, base: str, draft: str
) -> None:
    browser.get(f"{base}/cases/{draft}/drafts")
    copy = browser.find_element(By.ID, "copy")
    assert "Residents missed their" in copy.get_attribute("value")
    copy.clear()
    browser.find_element(By.XPATH, "//button[text()='Send with this copy']").click()
    wait(browser).until(lambda b: b.find_elements(By.CLASS_NAME, "error-summary"))
    summary = browser.find_element(By.CLASS_NAME, "error-summary")
    assert "Enter the copy of the concern" in summary.text
    assert summary.find_element(By.TAG_NAME, "a").get_attribute("href").endswith("#copy")
    assert axe_problems(browser, AXE_TAGS) == [] and axe_problems(browser) == []


def tab_through(browser: Any, limit: int = 400) -> list[WebElement]:
    """Every element the Tab key reaches, in order, from the top of a page just loaded."""
    reached: list[WebElement] = []
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(limit):
        element = browser.switch_to.active_element
        if reached and element == reached[0]:
            break  # round again to the first
        if element.tag_name == "body":
            break
        reached.append(element)
        element.send_keys(Keys.TAB)
    return reached


def test_the_keyboard_alone_chooses_dates_and_reaches_every_table_and_breach(
    browser: Any, base: str
) -> None:
    browser.get(base + "/reports")
    order = tab_through(browser)
    names = [e.get_attribute("id") or e.get_attribute("textContent").strip() for e in order]
    assert names[0] == "Skip to main content" and "Reports" in names
    # One stop for the radios (the checked one), then each date input, then the button.
    form = names[names.index("period-this-month"):]
    assert form[:8] == ["period-this-month", "from-day", "from-month", "from-year", "to-day",
                        "to-month", "to-year", "Show the report"]  # fmt: skip
    radio = browser.find_element(By.ID, "period-this-month")
    radio.send_keys(Keys.ARROW_DOWN * 4)  # the arrow keys move the choice within the group
    assert browser.switch_to.active_element.get_attribute("id") == "period-dates"
    assert browser.find_element(By.ID, "period-dates").is_selected()
    for value in ("1", "11", "2026", "9", "4", "2027"):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        browser.switch_to.active_element.send_keys(value)
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Show the report"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser).until(lambda b: b.find_elements(By.ID, "report-title"))
    assert browser.find_element(By.ID, "report-title").text == "1 Nov 2026 to 9 Apr 2027"

    order = tab_through(browser)
    regions = browser.find_elements(By.CSS_SELECTOR, ".table-scroll")
    breaches = browser.find_elements(By.CSS_SELECTOR, "#view-3 ~ .report-pair a")
    downloads = browser.find_elements(By.PARTIAL_LINK_TEXT, "Download as")
    assert len(regions) == 9 and len(breaches) >= 3 and len(downloads) == 2
    for element in [*downloads, *regions, *breaches]:
        assert element in order
    # A table's region shows where the focus is (the yellow outline).
    browser.execute_script("arguments[0].focus()", regions[0])
    outline = browser.execute_script(
        "return getComputedStyle(arguments[0]).outlineStyle", regions[0])
    assert outline == "solid"
    breaches[0].send_keys(Keys.ENTER)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Case CC-")


def test_the_downloads_save_a_workbook_and_a_zip_of_csv_files(
    browser: Any, base: str, downloads: Path
) -> None:
    browser.get(f"{base}/reports?{DATES}")
    for label, suffix in (("a spreadsheet", ".xlsx"), ("CSV files", ".zip")):
        browser.find_element(By.PARTIAL_LINK_TEXT, f"Download as {label}").click()
        name = f"timescales-2026-11-01_2027-04-09{suffix}"
        wait(browser).until(lambda _, n=name: (downloads / n).exists())
    book = openpyxl.load_workbook(downloads / "timescales-2026-11-01_2027-04-09.xlsx")
    assert "Breaches" in book.sheetnames and len(book.sheetnames) == 9
    archive = zipfile.ZipFile(io.BytesIO(
        (downloads / "timescales-2026-11-01_2027-04-09.zip").read_bytes()))  # fmt: skip
    assert len(archive.namelist()) == 9


@pytest.mark.parametrize("path", ["/reports", f"/reports?{DATES}", f"/reports?{BAD_DATES}"])
def test_the_reports_page_reads_at_320_pixels_wide_without_scrolling_sideways(
    browser: Any, base: str, path: str
) -> None:
    inner, width = widths_at(browser, base + path, 320)
    assert inner <= 320
    assert width <= inner
