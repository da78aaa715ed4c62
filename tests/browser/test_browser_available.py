"""The browser tests can run: Playwright and Chromium, and for the hub test JupyterHub and Node.js (required under CI)."""

import os

import pytest

from browser.lab import browser_missing, browser_missing_part
from system_parts import skip_reason


def test_browser_is_available():
    missing = browser_missing_part()
    if missing and os.environ.get("CI", "").lower() != "true":
        pytest.skip(skip_reason(*missing))
    assert not missing, f"CI=true but the browser tests cannot run: {missing}"


def test_hub_is_available():
    from browser.hub_pages import hub_missing

    missing = browser_missing() or hub_missing()
    if missing and os.environ.get("CI", "").lower() != "true":
        pytest.skip(f"JupyterHub test (tests/browser/test_hub.py) not run: {missing}")
    assert not missing, f"CI=true but the JupyterHub test cannot run: {missing}"
