"""``nablakit-grade --scheduler ADDRESS`` grades on a Dask distributed cluster.

A :class:`distributed.LocalCluster` (two worker processes) stands in for a
production cluster; the command line connects to its scheduler address, as an
instructor would to ``tcp://host:8786``. Each Dask worker keeps its own
grading worker process, so the limits and the tamper guard apply there too.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grading_support import TEST_LIMITS, gradebook_parts, make_course, released, solution, sqlite_url
from nablakit.grading.submission import build_submission, solution_answers

pytestmark = pytest.mark.xdist_group("grading-scale")

EX = "ex02-gradient-geometry"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


def test_command_line_grades_on_a_dask_cluster(cluster, tmp_path):
    right = solution_answers(solution(EX))
    root = tmp_path / "course"
    course = make_course(root, [EX])
    build_submission(released(root, EX), root, "dask-solution", right)
    build_submission(released(root, EX), root, "dask-patcher", {**right, "ex02-a-answer": (
        "from nablakit import checks\nchecks.expect_close = lambda *a, **k: None\n"
        "def grad_f(p):\n    return np.zeros(2)")})
    missing = build_submission(released(root, EX), root, "dask-missing", right)
    missing.unlink()
    limits = TEST_LIMITS
    out = subprocess.run(
        [str(Path(sys.executable).parent / "nablakit-grade"), EX, "--scheduler", cluster.scheduler_address,
         "--course-root", str(root), "--db-url", sqlite_url(root), "--no-progress",
         "--cell-timeout", str(limits.cell_timeout), "--notebook-timeout", str(limits.notebook_timeout),
         "--memory", "1.5G", "--reports", str(tmp_path / "reports"), "--feedback"],
        capture_output=True, text=True, timeout=300,
    )
    # one submission has no notebook: exit status 1, and it is named
    assert out.returncode == 1, out.stdout + out.stderr
    assert "dask-missing" in out.stderr and "could not be graded" in out.stderr
    assert "with 2 workers" in out.stdout
    full = gradebook_parts(course.db_url, EX, "dask-solution")
    patched = gradebook_parts(course.db_url, EX, "dask-patcher")
    assert all(v[0] == v[1] for v in full.values() if v[3] == "code")
    assert patched["ex02-a-grad-f"][0] == 0, "the patched check helper must not grant the part"
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "reports" / f"{EX}-grades.csv"))}
    assert rows["dask-missing"]["status"] == "failed"
    assert "nablakit.checks.expect_close was replaced" in rows["dask-patcher"]["flags"]
    assert (tmp_path / "reports" / f"{EX}.html").exists()
    assert f"feedback {EX}: ok" in out.stdout
    feedback = root / "autograder" / "feedback"
    assert {p.parent.parent.name for p in feedback.glob(f"*/{EX}/{EX}.html")} == {"dask-solution", "dask-patcher"}
