"""A headless Chromium for the dashboard's browser tests, and axe's check of a page."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def browser_paths() -> tuple[str, str] | None:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@contextmanager
def chromium(downloads: Path) -> Iterator[Any]:
    """One headless Chromium saving downloads to `downloads`. Skipped where Debian's chromium
    and chromium-driver are not installed, except under CI=true, where that is a failure."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = browser_paths()
    if paths is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs chromium and chromedriver (apt: chromium chromium-driver)")
        pytest.skip("no chromium and chromedriver on this machine")
    binary, chromedriver = paths
    options = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix="ccbot-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.binary_location = binary
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        driver.set_window_size(1200, 900)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def download_folder() -> Iterator[Path]:
    """A folder for the browser's downloads, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ccbot-downloads-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait(driver: Any, seconds: float = 10) -> Any:
    """A WebDriverWait polling every 50 ms."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05)


def widths_at(driver: Any, url: str, window: int) -> tuple[int, int]:
    """The page's viewport width and its content's width, loaded in a window `window` pixels
    wide (the window goes back to its usual size afterwards)."""
    driver.set_window_size(window, 800)
    try:
        driver.get(url)
        inner = int(driver.execute_script("return window.innerWidth"))
        content = int(driver.execute_script("return document.documentElement.scrollWidth"))
    finally:
        driver.set_window_size(1200, 900)
    return inner, content


def axe_problems(driver: Any, tags: list[str] | None = None) -> list[tuple[str, list[Any]]]:
    """axe's violations on the page the browser shows: (rule, the elements), [] when none."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    axe.inject()
    options = {"runOnly": {"type": "tag", "values": tags}} if tags else None
    results = axe.run(options=options)
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in results["violations"]]
