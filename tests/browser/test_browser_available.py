"""The browser tests can run: Playwright and Chromium are installed (required under CI)."""

import os

import pytest

from browser.lab import browser_missing_part
from system_parts import skip_reason


def test_browser_is_available():
    missing = browser_missing_part()
    if missing and os.environ.get("CI", "").lower() != "true":
        pytest.skip(skip_reason(*missing))
    assert not missing, f"CI=true but the browser tests cannot run: {missing}"
