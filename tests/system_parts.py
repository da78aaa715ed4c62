"""Suites that need a part of the system outside .venv, and the loud note when one did not run.

A test that cannot run because such a part is missing skips with
:func:`skip_reason`, which tags the reason. This module is also a pytest
plugin (``tests/conftest.py`` takes its hooks): after pytest's own summary
it prints one block naming every suite that was skipped that way, why, and
the command that fixes it. Under xdist the skips happen in the workers; the
block is built in the controller from the reports they send back.
"""

from __future__ import annotations

import os
import re

#: part -> (the suite that needs it, how to get it: "install" with the package manager or "setup" the venv)
PARTS = {
    "chromium": ("browser tests (tests/browser/)", "install"),
    "playwright": ("browser tests (tests/browser/)", "setup"),
    "postgresql": ("PostgreSQL gradebook tests (tests/test_grading_postgres.py)", "install"),
    "bwrap": ("grading sandbox tests (tests/test_grading_sandbox.py)", "setup"),
}
_TAG = re.compile(r"\[missing system part: (\w+)\] ?(.*)")


def fix_command(how):
    """The command that brings a missing part: ``how`` is ``"install"`` (system packages) or ``"setup"`` (.venv)."""
    if how == "setup":
        return "make setup"
    return "make system-deps" if os.geteuid() == 0 else "sudo make system-deps"


def skip_reason(part, why):
    """The reason a test gives when it skips because ``part`` (a key of :data:`PARTS`) is missing.

    Examples
    --------
    >>> skip_reason("chromium", "Chromium not found")
    '[missing system part: chromium] Chromium not found'
    """
    if part not in PARTS:
        raise ValueError(f"unknown system part {part!r}; expected one of {sorted(PARTS)}")
    return f"[missing system part: {part}] {why}"


def missing_parts(reports):
    """{part: why} from pytest's skip reports (test or collection reports).

    Examples
    --------
    >>> class Report:
    ...     longrepr = ("t.py", 3, "Skipped: [missing system part: postgresql] no initdb (Debian's postgresql)")
    >>> missing_parts([Report(), Report()])
    {'postgresql': "no initdb (Debian's postgresql)"}
    """
    found = {}
    for report in reports:
        longrepr = getattr(report, "longrepr", None)
        text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
        match = _TAG.search(text)
        if match:
            found.setdefault(*match.groups())
    return found


def not_tested_lines(found):
    """The block's lines: each suite that did not run and why (up to a parenthesis), then the one fix.

    Examples
    --------
    >>> not_tested_lines({"bwrap": "no bwrap (anywhere)"})
    ['grading sandbox tests (tests/test_grading_sandbox.py): no bwrap', 'fix: make setup, then run make test again']
    """
    lines, fixes = [], []
    for part in sorted(found):
        suite, how = PARTS[part]
        lines.append(f"{suite}: {found[part].split(' (')[0]}")
        if fix_command(how) not in fixes:
            fixes.append(fix_command(how))
    return lines + [f"fix: {' && '.join(fixes)}, then run make test again"] if lines else []


def pytest_unconfigure(config):
    """Print the block after pytest's closing line (the terminal summary hook runs before that line)."""
    if hasattr(config, "workerinput"):  # an xdist worker: its skips reach the controller's reporter
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    lines = not_tested_lines(missing_parts(reporter.stats.get("skipped", []))) if reporter else []
    if not lines:
        return
    reporter._tw.sep("!", "NOT TESTED: system parts missing", red=True, bold=True)
    for line in lines:
        reporter._tw.line(line, red=True, bold=line.startswith("fix:"))
