"""The batch grader writes into a PostgreSQL gradebook (nbgrader's ``db_url``).

A throw-away PostgreSQL server (Debian's ``postgresql`` package: initdb and
pg_ctl in a temporary folder, unix socket only, as the ``postgres`` user when
the tests run as root) holds the gradebook; the exercise is released into it
with real nbgrader, a small class is graded by ``nablakit-grade --db-url
postgresql+psycopg://...`` with two local workers (forked from the command's
process), and the grades are read back with nbgrader's ``Gradebook`` API.
"""

from __future__ import annotations

import os

import pytest

from exercise_cases import CASES
from grading_support import TEST_LIMITS, make_course, postgres_available, postgres_server, released, solution
import csv
import subprocess
import sys
from pathlib import Path

from nablakit.grading.submission import build_submission, solution_answers

pytestmark = [
    pytest.mark.xdist_group("grading-scale"),
    pytest.mark.skipif(not postgres_available() and not os.environ.get("CI"),
                       reason="PostgreSQL server not installed (apt-get install -y postgresql; .ci/run does it)"),
]

EX = "ex03-directional-derivatives"


def test_a_class_graded_into_postgresql_reads_back_with_nbgrader(tmp_path):
    from nbgrader.api import Gradebook

    right = solution_answers(solution(EX))
    case = CASES[EX]["wrong"][0]
    students = {"pg-solution": right, "pg-wrong": {**right, **case["answers"]}, "pg-blank": {}}
    with postgres_server() as url:
        assert url.startswith("postgresql+psycopg://")
        course = make_course(tmp_path / "course", [EX], db_url=url)
        assert course.db_url == url
        for student, answers in students.items():
            build_submission(released(course.root, EX), course.root, student, answers)
        out = subprocess.run(
            [str(Path(sys.executable).parent / "nablakit-grade"), EX, "--course-root", str(course.root),
             "--db-url", url, "--workers", "2", "--no-progress", "--cell-timeout", str(TEST_LIMITS.cell_timeout),
             "--notebook-timeout", str(TEST_LIMITS.notebook_timeout), "--reports", str(tmp_path / "reports")],
            capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert "3 submissions" in out.stdout and "with 2 workers" in out.stdout
        reported = {r["student"]: r for r in csv.DictReader(open(tmp_path / "reports" / f"{EX}-grades.csv"))}
        with Gradebook(url, "gradients") as gb:
            assert {s.id for s in gb.students} == set(students)
            stored = {}
            for student in students:
                sub = gb.find_submission(EX, student)
                stored[student] = {g.name: g.score for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"}
                assert float(reported[student]["auto_score"]) == sum(stored[student].values())
            maximum = {g.name: g.max_score for g in gb.find_assignment(EX).notebooks[0].grade_cells
                       if g.cell_type == "code"}
    assert stored["pg-solution"] == maximum
    assert sum(stored["pg-blank"].values()) == 0
    assert stored["pg-wrong"][case["part"]] == 0 and 0 < sum(stored["pg-wrong"].values()) < sum(maximum.values())
