"""The dashboard in a real headless Chromium on the demo's workspace: one browser, one server.

Skipped where Debian's chromium and chromium-driver are not installed, except under CI=true,
where a missing browser is a failure (.ci/run installs them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from backends.browser import AXE_TAGS, axe_problems, wait, widths_at
from backends.dashboard_site import (
    HOSTILE_SUBJECT,
    STRANGER_TRIAGE,
    UNSCREENED,
    WITH_PROVIDER,
    ws,
)
from backends.web_app import served

from bot.clock import FixedClock
from bot.demo.harness import Workspace
from bot.demo.script import END
from bot.views.web.app import create_app

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

__all__ = ["ws"]  # the played demo, a fixture shared by the dashboard tests

PAGES = (
    "/cases",
    "/cases/mine",
    f"/cases/{WITH_PROVIDER}",
    f"/cases/{UNSCREENED}",
    f"/cases/{WITH_PROVIDER}/documents/1",
    "/triage",
    f"/triage/{STRANGER_TRIAGE}",
    "/triage/T0003",
    "/workload",
    "/procedure",
    "/health",
    "/cases/CC-2099-0001",
)


@pytest.fixture(scope="module")
def base(ws: Workspace) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port of 127.0.0.1, as `python -m bot web`."""
    with served(create_app(ws.root / "config.yaml", FixedClock(END), local_person="pjones")) as url:
        yield url


def test_find_a_case_by_search_open_it_see_its_deadlines_and_download_its_letter(
    browser: Any, base: str, downloads: Path, ws: Workspace
) -> None:

    browser.get(base + "/cases")
    browser.find_element(By.ID, "words").send_keys("night staffing")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    assert "night" not in browser.current_url
    browser.find_element(By.LINK_TEXT, WITH_PROVIDER).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Case {WITH_PROVIDER}"
    deadlines = browser.find_element(By.CSS_SELECTOR, "#deadlines + table").text
    assert "Reminder letter to the provider" in deadlines
    assert "Tuesday 20 April 2027" in deadlines and "7 working days left" in deadlines
    assert "14 calendar days after Tue 6 Apr 2027" in deadlines
    browser.find_element(By.LINK_TEXT, "Letter 1").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, "Download the original email").click()
    name = f"{WITH_PROVIDER}-"
    wait(browser).until(
        lambda _: any(p.name.startswith(name) and p.suffix == ".eml" for p in downloads.iterdir())
    )
    [letter] = [p for p in downloads.iterdir() if p.name.startswith(name)]
    assert letter.read_bytes() in ws.server.folder("sent")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_passes_axe_with_no_violations(browser: Any, base: str, path: str) -> None:
    browser.get(base + path)
    assert axe_problems(browser, AXE_TAGS) == [] and axe_problems(browser) == []


def test_a_hostile_email_is_shown_inert(browser: Any, base: str) -> None:
    browser.get(base + f"/cases/{WITH_PROVIDER}")
    links = browser.find_elements(By.PARTIAL_LINK_TEXT, "Read the email")
    links[-1].click()
    assert HOSTILE_SUBJECT in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CLASS_NAME, "details__summary").click()  # show the formatted copy
    formatted = browser.find_element(By.ID, "mail-html")
    assert "questions" in formatted.text
    assert formatted.find_elements(By.TAG_NAME, "img") == []
    assert formatted.find_elements(By.TAG_NAME, "iframe") == []
    trap = formatted.find_element(By.PARTIAL_LINK_TEXT, "Click to see our evidence")
    assert trap.get_attribute("href") is None
    trap.click()
    assert "<script>" in browser.find_element(By.ID, "mail-text").text  # shown, as text
    assert browser.execute_script("return window.__pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img, main iframe") == []


@pytest.mark.parametrize("path", ("/cases", f"/cases/{WITH_PROVIDER}", "/triage/T0003"))
def test_pages_read_at_320_pixels_wide_without_scrolling_sideways(
    browser: Any, base: str, path: str
) -> None:
    inner, width = widths_at(browser, base + path, 320)
    assert inner <= 320
    assert width <= inner


def test_the_keyboard_reaches_the_main_content_first(browser: Any, base: str) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(base + "/cases")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to main content"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main-content"


def test_file_a_triage_email_and_see_the_timeline_entry(
    browser: Any, base: str, ws: Workspace
) -> None:
    browser.get(base + "/triage")
    browser.find_element(By.LINK_TEXT, STRANGER_TRIAGE).click()
    browser.find_element(By.ID, "reference").send_keys(WITH_PROVIDER)
    browser.find_element(By.XPATH, "//button[text()='File it under this case']").click()
    assert "Sent to the bot" in browser.find_element(By.CLASS_NAME, "notification").text
    ws.run(END + timedelta(minutes=1))  # the daemon's next poll, beside the dashboard
    browser.get(base + f"/cases/{WITH_PROVIDER}")
    timeline = browser.find_element(By.CLASS_NAME, "timeline").text
    assert "Email placed by peter.jones@council.example from the dashboard" in timeline
    assert "Commands from peter.jones@council.example from the dashboard" not in timeline
    browser.get(base + "/triage")
    assert STRANGER_TRIAGE not in browser.find_element(By.TAG_NAME, "main").text
