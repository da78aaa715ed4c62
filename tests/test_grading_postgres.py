"""The batch grader writes into a PostgreSQL gradebook (nbgrader's ``db_url``).

A throw-away PostgreSQL server (Debian's ``postgresql`` package: initdb and
pg_ctl in a temporary folder, unix socket only, as the ``postgres`` user when
the tests run as root) holds the gradebook; the exercise is released into it
with real nbgrader, a small class is graded by ``nablakit-grade --db-url
postgresql+psycopg://...`` with two local workers (forked from the command's
process), and the grades are read back with nbgrader's ``Gradebook`` API.

One student of that class attacks the gradebook: its answer cell takes the
URL from ``NBGRADER_DB_URL`` or finds the server's socket under ``/tmp`` and
runs ``update grade set auto_score = 0``. In the sandbox it finds neither;
the honest students keep the grades plain sequential nbgrader gives them (a
copy of the class graded into SQLite), and the batch exits 1 naming it.
"""

from __future__ import annotations

import os

import pytest

import grading_attacks as attack
from exercise_cases import CASES
from grading_support import (
    TEST_LIMITS,
    autograde_sequentially,
    gradebook_parts,
    make_course,
    postgres_available,
    postgres_server,
    released,
    solution,
    sqlite_url,
)
import csv
import subprocess
import sys
from pathlib import Path

from nablakit.grading.submission import build_submission, solution_answers
from system_parts import skip_reason

pytestmark = [
    pytest.mark.xdist_group("grading-scale"),
    pytest.mark.skipif(not postgres_available() and not os.environ.get("CI"),
                       reason=skip_reason("postgresql", "PostgreSQL server not installed (Debian's package postgresql)")),
]

EX = "ex03-directional-derivatives"


def test_a_class_graded_into_postgresql_reads_back_with_nbgrader(tmp_path):
    from nbgrader.api import Gradebook

    right = solution_answers(solution(EX))
    case = CASES[EX]["wrong"][0]
    students = {"pg-solution": right, "pg-wrong": {**right, **case["answers"]}, "pg-blank": {}}
    reference = make_course(tmp_path / "reference", [EX])
    for student, answers in students.items():
        build_submission(released(reference.root, EX), reference.root, student, answers)
    sequential = autograde_sequentially(reference.root, wait=False)
    with postgres_server() as url:
        assert url.startswith("postgresql+psycopg://")
        course = make_course(tmp_path / "course", [EX], db_url=url)
        assert course.db_url == url
        for student, answers in students.items():
            build_submission(released(course.root, EX), course.root, student, answers)
        # graded after two of the honest students, before the third (one exercise, ids in order)
        build_submission(released(course.root, EX), course.root, "pg-tamper",
                         {**right, "ex03-a-answer": attack.GRADEBOOK_POSTGRES + right["ex03-a-answer"]})
        out = subprocess.run(
            [str(Path(sys.executable).parent / "nablakit-grade"), EX, "--course-root", str(course.root),
             "--db-url", url, "--workers", "2", "--no-progress", "--cell-timeout", str(TEST_LIMITS.cell_timeout),
             "--notebook-timeout", str(TEST_LIMITS.notebook_timeout), "--reports", str(tmp_path / "reports")],
            capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 1, out.stdout + out.stderr
        assert "4 submissions" in out.stdout and "with 2 workers" in out.stdout
        assert "INTEGRITY: 1 submission(s)" in out.stdout and "pg-tamper" in out.stderr
        reported = {r["student"]: r for r in csv.DictReader(open(tmp_path / "reports" / f"{EX}-grades.csv"))}
        tampered = gradebook_parts(url, EX, "pg-tamper")
        with Gradebook(url, "gradients") as gb:
            assert {s.id for s in gb.students} == set(students) | {"pg-tamper"}
            stored = {}
            for student in students:
                sub = gb.find_submission(EX, student)
                stored[student] = {g.name: g.score for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"}
                assert float(reported[student]["auto_score"]) == sum(stored[student].values())
            maximum = {g.name: g.max_score for g in gb.find_assignment(EX).notebooks[0].grade_cells
                       if g.cell_type == "code"}
    stdout, stderr = sequential.communicate(timeout=300)
    assert sequential.returncode == 0, stdout[-2000:] + stderr[-2000:]
    for student in students:
        assert stored[student] == {k: v[0] for k, v in gradebook_parts(sqlite_url(reference.root), EX, student).items()
                                   if v[3] == "code"}, student
    assert {k: v[0] for k, v in tampered.items() if v[3] == "code"} == maximum  # its own answers are right
    assert stored["pg-solution"] == maximum
    assert sum(stored["pg-blank"].values()) == 0
    assert stored["pg-wrong"][case["part"]] == 0 and 0 < sum(stored["pg-wrong"].values()) < sum(maximum.values())
