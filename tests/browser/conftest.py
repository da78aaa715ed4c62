"""One JupyterLab server and one headless Chromium for the whole browser session.

Without Chromium (or Playwright) the browser test modules are not collected;
``test_browser_available.py`` then reports one skip saying how to install it,
or fails under CI (``CI=true``), where the browser tests must run. The same
holds for the JupyterHub test without JupyterHub or Node.js.
"""

import time
from pathlib import Path

import pytest

from browser.hub_pages import hub_missing
from browser.lab import ROOT, LabPage, LabServer, browser_missing, launch_browser

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

if browser_missing():
    collect_ignore = ["test_chapters.py", "test_exercise.py", "test_nbgrader_ui.py", "test_hub.py"]
elif hub_missing():
    collect_ignore = ["test_hub.py"]


@pytest.fixture(scope="session")
def lab_server():
    start = time.perf_counter()
    ARTIFACTS.mkdir(exist_ok=True)
    timings = ARTIFACTS / "browser-timings.txt"
    timings.write_text("")
    server = LabServer(ROOT)
    with open(timings, "a") as log:
        log.write(f"JupyterLab server up in {time.perf_counter() - start:.1f} s\n")
    yield server
    server.stop()
    with open(timings, "a") as log:
        log.write(f"browser session {time.perf_counter() - start:.1f} s in all\n")


@pytest.fixture(scope="session")
def browser():
    # Not tied to lab_server: the hub test (its own xdist group) needs Chromium but no JupyterLab server.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def student_page(lab_server, browser):
    """JupyterLab as a student gets it (nbgrader's instructor plugins disabled), loaded once."""
    lab_server.set_role("student")
    page = LabPage(browser, lab_server).load()
    yield page
    page.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
