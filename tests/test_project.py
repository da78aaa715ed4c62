"""The project as a user meets it: make targets, JupyterLab start-up, notebook hygiene."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tracked_notebooks():
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / p for p in out.stdout.split()]


def test_setup_is_a_no_op_when_up_to_date():
    # `make -q` exits 0 only when nothing would be rebuilt, i.e. no reinstall.
    result = subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make setup would reinstall although pyproject and the lock are unchanged"


def test_make_help_lists_targets():
    out = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for target in ("lab", "test", "exercises", "bench", "clean", "grade", "system-deps", "test-fresh"):
        assert f"make {target}" in out, f"make help does not list {target}"


def test_make_lab_serves_jupyterlab():
    port = free_port()
    token = "course-test-token"
    proc = subprocess.Popen(
        ["make", "lab", f"PORT={port}", f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        status = None
        while time.time() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"})
                status = json.load(urllib.request.urlopen(req, timeout=2))
                break
            except OSError:
                time.sleep(0.5)
        if status is None:
            proc.terminate()
            pytest.fail("JupyterLab did not answer /api/status within 60 s:\n" + proc.communicate(timeout=20)[0][-3000:])
        assert "started" in status
        page = urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/lab/tree/course/00-welcome.ipynb?token={token}"), timeout=10
        ).read().decode()
        assert "JupyterLab" in page or "jupyter-config-data" in page

        # The course's lab settings (overrides.json from make setup) reach the running lab:
        # JupyterLab serves them as the schemas' defaults (a student's own choice would still win).
        def setting(plugin):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/lab/api/settings/{plugin}",
                                         headers={"Authorization": f"token {token}"})
            reply = json.load(urllib.request.urlopen(req, timeout=10))
            defaults = {key: prop.get("default") for key, prop in reply["schema"]["properties"].items()}
            return {**defaults, **reply["settings"]}

        assert setting("@jupyterlab/apputils-extension:notification")["fetchNews"] == "false"
        tracker = setting("@jupyterlab/notebook-extension:tracker")
        assert tracker["autoStartDefaultKernel"] is True and tracker["kernelShutdown"] is True
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernelspecs", headers={"Authorization": f"token {token}"})
        specs = json.load(urllib.request.urlopen(req, timeout=10))
        assert specs["default"] == "python3" and "python3" in specs["kernelspecs"], "the chapters' kernelspec"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("path", tracked_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {index} has outputs; run `make strip`"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name} lacks the python3 kernelspec"


def test_ci_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "make test" in text and "set -euo pipefail" in text
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_readme_leads_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make lab" in head and "make test" in head
