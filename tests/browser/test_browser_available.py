"""The browser tests can run: Playwright and Chromium are installed (required under CI)."""

import os

import pytest

from browser.lab import browser_missing


def test_browser_is_available():
    missing = browser_missing()
    if missing and os.environ.get("CI", "").lower() != "true":
        pytest.skip(f"browser tests not run: {missing}")
    assert not missing, f"CI=true but the browser tests cannot run: {missing}"
