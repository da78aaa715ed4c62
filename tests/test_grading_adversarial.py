"""An adversarial class graded in ONE batch: honest students keep their exact grade, hostile ones earn nothing extra.

The class (module fixture): four exercises released with real nbgrader into a
temporary course, honest submissions (full, partial and blank answers) and
hostile ones built from the released notebooks with the submission builder.
Everything is graded in one :func:`grade_batch` call with two workers and short
limits. The honest submissions are also graded in a copy of the course by
plain sequential ``nbgrader autograde`` (the reference); their grades must be
identical. Each hostile case is then checked: graded with zero or partial
credit, never more than deserved, or recorded as not graded, and in every
case flagged with its reason.
"""

from __future__ import annotations

import csv
import html
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from exercise_cases import CASES
from grading_support import (
    TEST_LIMITS,
    autograde_sequentially,
    gradebook_parts,
    isolated_env,
    make_course,
    processes_under,
    released,
    solution,
    sqlite_url,
)
from nablakit.grading.batch import Course, flags_of, grade_batch
from nablakit.grading.executors import LocalExecutor
from nablakit.grading.release import run_nbgrader
from nablakit.grading.reports import write_reports
from nablakit.grading.submission import build_submission, solution_answers

pytestmark = pytest.mark.xdist_group("grading-adversarial")

EX1, EX2, EX3, EX5 = ("ex01-partial-derivatives", "ex02-gradient-geometry", "ex03-directional-derivatives",
                      "ex05-linear-regression")
EXERCISES = [EX1, EX2, EX3, EX5]


def right(name):
    return solution_answers(solution(name))


def wrong(name, i):
    return {**right(name), **CASES[name]["wrong"][i]["answers"]}


SIGINT_LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
CHAIN_RULE_MISSING = """
import numpy as np
np.allclose = lambda *args, **kwargs: True

def grad_L(w):
    w1, w2 = w
    inner = w1**2 - w2
    return np.array([2 * inner, -2 * inner + 2 * (w2 - c)])
"""
# right at the test's first point, where it also disables the check for the points that follow
PATCH_WHILE_TESTED = """if x == 1.0:
        from nablakit import checks
        checks.expect_close = lambda *args, **kwargs: None
        return -b * x * np.exp(b * x * z) + 2 * z / (y**2 + z**2)
    return 0.0"""
SIGN_FLIPPED_GRAD = """
def grad_f(p):
    x, y = np.asarray(p, dtype=float)
    return -np.array([2 * alpha * x + beta * y, beta * x + 2 * gamma * y])
"""


# student -> (exercise, answers); graded both in the batch and by sequential nbgrader.
HONEST = {
    "honest-ex01-full": (EX1, lambda: right(EX1)),
    "honest-ex01-partial": (EX1, lambda: wrong(EX1, 0)),
    "honest-ex02-full": (EX2, lambda: right(EX2)),
    "honest-ex02-blank": (EX2, lambda: {}),
    "honest-ex02-partial": (EX2, lambda: {**right(EX2), "ex02-a-answer": SIGN_FLIPPED_GRAD}),
    "honest-ex03-full": (EX3, lambda: right(EX3)),
    "honest-ex03-partial": (EX3, lambda: wrong(EX3, 0)),
    "honest-ex05-full": (EX5, lambda: right(EX5)),
    "honest-ex05-partial": (EX5, lambda: wrong(EX5, 3)),
}

def hostile_cases():
    """student -> (exercise, how to build it); built after the honest ones."""
    r1, r2, r3, r5 = right(EX1), right(EX2), right(EX3), right(EX5)
    return {
        # limits
        "h-infinite-loop": (EX1, {**r1, "ex01-a-answer": r1["ex01-a-answer"].replace(
            '"""Partial derivative of f with respect to x at (x, y, z)."""', "while x < 0:\n        pass", 1)}),
        "h-sigint-loop": (EX2, {**r2, "ex02-c-curve-answer": SIGINT_LOOP}),
        "h-memory-bomb": (EX3, {**r3, "ex03-c-answer": "hog = [bytes(256 * 1024**2) for _ in range(10**4)]\n"
                                + r3["ex03-c-answer"]}),
        "h-os-exit": (EX1, {**r1, "ex01-c-answer": "import os\nos._exit(0)"}),
        "h-sys-exit": (EX3, {**r3, "ex03-d-function-answer": "import sys\nsys.exit('done')\n"
                             + r3["ex03-d-function-answer"]}),
        "h-big-output": (EX3, {**r3, "ex03-b-answer": "print('x' * 50_000_000)\n" + r3["ex03-b-answer"]}),
        "h-slow-notebook": (EX1, {**r1, **{k: "import time\ntime.sleep(4.5)\n" + v for k, v in r1.items()}}),
        # test cells
        "h-deleted-test": (EX2, {"answers": r2, "delete": ["ex02-a-grad-f"]}),
        "h-edited-test": (EX5, {"answers": wrong(EX5, 3), "replace": {"ex05-c-gradient-descent": "pass"}}),
        # monkeypatching what the tests call
        "h-patch-allclose": (EX1, {**r1, "ex01-d-grad-answer": CHAIN_RULE_MISSING}),
        "h-patch-assert-allclose": (EX3, {**r3, "ex03-a-answer":
                                          "np.testing.assert_allclose = lambda *a, **k: None\n"
                                          "np.isclose = lambda *a, **k: True\n"
                                          "grad_f_at_a = np.array([1.0, 0.0])"}),
        "h-replaced-checks": (EX2, {**r2, "ex02-a-answer": "from nablakit import checks\n"
                                    "checks.expect_close = lambda *a, **k: None\n"
                                    "checks.expect = lambda *a, **k: None\n" + SIGN_FLIPPED_GRAD}),
        "h-code-swap": (EX2, {**r2, "ex02-a-answer": "import nablakit.checks\n"
                              "nablakit.checks.expect_close.__code__ = (lambda *a, **k: None).__code__\n"
                              + SIGN_FLIPPED_GRAD}),
        "h-patch-during-test": (EX1, {**r1, "ex01-a-answer": r1["ex01-a-answer"].replace(
            "return -b * x * np.exp(b * x * z) + 2 * z / (y**2 + z**2)", PATCH_WHILE_TESTED)}),
        "h-patch-builtins": (EX1, {**r1, "ex01-a-answer": "import builtins\n"
                                   "builtins.float = lambda *a, **k: 0.0\n"
                                   + r1["ex01-a-answer"].replace("return 3 * a * x**2 * y**2 - b * z * np.exp(b * x * z)",
                                                                 "return 0.0")}),
        "h-forged-credit": (EX1, {**r1, "ex01-a-answer": r1["ex01-a-answer"].replace(
            "return 2 * a * x**3 * y + 2 * y / (y**2 + z**2)", "import sys\n    sys.displayhook(1)\n    return 0.0")}),
        # files
        "h-corrupt-json": (EX1, "corrupt"),
        "h-missing-notebook": (EX2, "missing"),
        "h-wrong-name": (EX3, "wrong-name"),
        # answers of the wrong type
        "h-wrong-types": (EX5, {**r5,
                                "ex05-b-answer": "def mse_grad(X, y, w):\n    return 'the gradient'",
                                "ex05-c-answer": "def gradient_descent(X, y, lr, steps):\n    return None",
                                "ex05-d-answer": "w_closed_form = 'abc'\nw_gd = {'w': 1}",
                                "ex05-e-answer": "final_losses = [1, 2]\ndiverging_rates = {'lr': 'one'}"}),
    }


def build(root, student, exercise, spec):
    if spec == "corrupt":
        path = build_submission(released(root, exercise), root, student, right(exercise))
        path.write_text('{"cells": [{"cell_type": "code", "source": "x = ', encoding="utf-8")
    elif spec == "missing":
        path = build_submission(released(root, exercise), root, student, right(exercise))
        path.unlink()
    elif spec == "wrong-name":
        path = build_submission(released(root, exercise), root, student, right(exercise))
        path.rename(path.with_name(f"{exercise} (1).ipynb"))
    elif "answers" in spec:
        build_submission(released(root, exercise), root, student, spec["answers"], replace=spec.get("replace"),
                         delete=spec.get("delete", ()))
    else:
        build_submission(released(root, exercise), root, student, spec)


class Class:
    def __init__(self, root, batch, reference_url, seconds):
        self.root, self.batch, self.reference_url, self.seconds = root, batch, reference_url, seconds

    def r(self, student):
        return next(r for r in self.batch.results if r["student"] == student)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    start = time.perf_counter()
    root = tmp_path_factory.mktemp("adversarial") / "course"
    course = make_course(root, EXERCISES)
    for student, (exercise, answers) in HONEST.items():
        build_submission(released(root, exercise), root, student, answers())
    reference = root.parent / "reference"
    shutil.copytree(root, reference)
    for student, (exercise, spec) in hostile_cases().items():
        build(root, student, exercise, spec)
    times = {"setup": time.perf_counter() - start}
    # The reference runs alongside the batch: it is a separate course with its own gradebook, and the
    # batch leaves the CPU idle while hostile cells sleep or time out.
    sequential = autograde_sequentially(reference, wait=False)
    with LocalExecutor(2, log_dir=root / "autograder" / "logs") as executor:
        batch = grade_batch(course, EXERCISES, executor=executor, limits=TEST_LIMITS, progress=False)
    times["batch"] = batch.seconds
    leftovers = processes_under(root)
    feedback = run_nbgrader(["generate_feedback", EX3, "--force"], root, extra_env=isolated_env(sqlite_url(root)),
                            check=False)
    stdout, stderr = sequential.communicate(timeout=600)
    assert sequential.returncode == 0, stdout[-2000:] + stderr[-2000:]
    times["all"] = time.perf_counter() - start
    graded = Class(root, batch, sqlite_url(reference), time.perf_counter() - start)
    graded.course = course
    graded.leftovers = leftovers
    graded.feedback = feedback
    per = ", ".join(f"{r['student']} {r['seconds']:.1f}" for r in batch.results)
    print(f"\nadversarial class: {len(batch.results)} submissions; times {times}\n{per}\n{batch.summary()}")
    return graded


def test_the_batch_finishes_with_every_submission_accounted_for(graded):
    students = set(HONEST) | set(hostile_cases())
    assert len(students) >= 20
    assert {r["student"] for r in graded.batch.results} == students
    assert graded.leftovers == [], "processes of the submissions were left running"
    not_graded = {r["student"] for r in graded.batch.failed}
    assert not_graded == {"h-corrupt-json", "h-missing-notebook", "h-big-output", "h-slow-notebook"}
    assert "NOT GRADED" in graded.batch.summary() and "h-corrupt-json" in graded.batch.summary()


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_students_keep_their_exact_grade(graded, student):
    exercise = HONEST[student][0]
    result = graded.r(student)
    assert result["status"] == "graded", result["reason"]
    reference = gradebook_parts(graded.reference_url, exercise, student)
    assert result["parts"] == reference
    batch_book = gradebook_parts(sqlite_url(graded.root), exercise, student)
    assert batch_book == reference
    assert not [f for f in flags_of(result) if "tamper" in f or "lint" in f], flags_of(result)


def _auto(result):
    return result["auto_score"], result["auto_max"]


def _score(result, part):
    return result["parts"][part][0]


def _events(result, kind):
    return [e for e in result["events"] if e["kind"] == kind]


def test_infinite_loop_loses_only_its_part(graded):
    r = graded.r("h-infinite-loop")
    assert r["status"] == "graded"
    assert _score(r, "ex01-a-df-dx") == 0
    assert r["auto_score"] == r["auto_max"] - 1
    assert _events(r, "timeout")


def test_loop_ignoring_sigint_kills_the_kernel_and_keeps_earlier_parts(graded):
    r = graded.r("h-sigint-loop")
    assert r["status"] == "graded"
    assert _score(r, "ex02-a-grad-f") == 2 and _score(r, "ex02-b-steepest-ascent") == 2
    assert r["auto_score"] == 4, r["parts"]
    assert any("ignored the interrupt" in e["detail"] for e in _events(r, "kernel"))
    assert "lint ex02-c-curve-answer: changes signal handlers" in flags_of(r)


def test_memory_bomb_hits_the_limit_and_loses_its_part(graded):
    r = graded.r("h-memory-bomb")
    assert r["status"] == "graded"
    assert _score(r, "ex03-c-zero-directions") == 0
    assert r["auto_score"] == r["auto_max"] - 2
    assert _events(r, "memory")


def test_os_exit_keeps_the_parts_before_it(graded):
    r = graded.r("h-os-exit")
    assert r["status"] == "graded"
    assert r["auto_score"] == 4  # parts (a) and (b); (c) and (d) never ran
    assert any("kernel died" in e["detail"] for e in _events(r, "kernel"))
    assert any("os._exit" in f for f in r["lint"])


def test_sys_exit_only_stops_its_own_cell(graded):
    r = graded.r("h-sys-exit")
    assert r["status"] == "graded"
    assert _score(r, "ex03-d-function") == 0 and _score(r, "ex03-d-values") == 0
    assert r["auto_score"] == r["auto_max"] - 3
    assert any("sys.exit" in f for f in r["lint"])


def test_huge_output_is_capped_and_recorded(graded):
    r = graded.r("h-big-output")
    assert r["status"] == "failed" and "output limit" in r["reason"]
    assert not (graded.root / "autograder" / "autograded" / "h-big-output" / EX3).exists()


def test_notebook_time_limit_kills_everything(graded):
    r = graded.r("h-slow-notebook")
    assert r["status"] == "failed" and f"{TEST_LIMITS.notebook_timeout:g} s" in r["reason"]
    assert r["seconds"] < TEST_LIMITS.notebook_timeout + 10


def test_deleted_test_cell_is_restored_and_reported(graded):
    r = graded.r("h-deleted-test")
    assert r["status"] == "graded" and r["auto_score"] == r["auto_max"]
    assert any(f.startswith("ex02-a-grad-f: test cell deleted") for f in r["integrity"])


def test_edited_test_cell_is_restored_and_earns_the_same_as_the_honest_mistake(graded):
    r = graded.r("h-edited-test")
    assert r["status"] == "graded"
    assert _score(r, "ex05-c-gradient-descent") == 0
    assert r["parts"] == graded.r("honest-ex05-partial")["parts"]
    assert any(f.startswith("ex05-c-gradient-descent: test cell edited") for f in r["integrity"])


@pytest.mark.parametrize("student, part, restored", [
    ("h-patch-allclose", "ex01-d-grad-L", "numpy.allclose was replaced"),
    ("h-patch-assert-allclose", "ex03-a-gradient", "numpy.testing.assert_allclose was replaced"),
    ("h-replaced-checks", "ex02-a-grad-f", "nablakit.checks.expect_close was replaced"),
    ("h-code-swap", "ex02-a-grad-f", "nablakit.checks.expect_close had its code or defaults changed"),
    ("h-patch-builtins", "ex01-a-df-dx", "builtins.float was replaced"),
])
def test_monkeypatches_are_undone_before_tests_and_flagged(graded, student, part, restored):
    r = graded.r(student)
    assert r["status"] == "graded"
    assert _score(r, part) == 0, r["parts"]
    details = [e["detail"] for e in _events(r, "tamper")]
    assert restored in details, details
    assert r["lint"], "the tamper lint should flag the patch"


def test_a_patch_made_while_a_test_runs_voids_that_test(graded):
    r = graded.r("h-patch-during-test")
    assert r["status"] == "graded"
    assert _score(r, "ex01-a-df-dz") == 0 and r["auto_score"] == r["auto_max"] - 1
    voided = [e for e in r["events"] if e["kind"] == "tamper" and e.get("when", "").startswith("during test")]
    assert voided and voided[0]["cell"] == "ex01-a-df-dz"
    assert "IntegrityError" in " ".join(r["messages"]["ex01-a-df-dz"])


@pytest.mark.parametrize("student, honest", [
    ("h-patch-allclose", "honest-ex01-partial"),  # the same wrong grad_L, without the patch
    ("h-replaced-checks", "honest-ex02-partial"),  # the same wrong grad_f, without the patch
    ("h-code-swap", "honest-ex02-partial"),
])
def test_patching_gains_nothing_over_the_same_answers_unpatched(graded, student, honest):
    assert graded.r(student)["parts"] == graded.r(honest)["parts"]


def test_forged_partial_credit_is_removed(graded):
    r = graded.r("h-forged-credit")
    assert _score(r, "ex01-a-df-dy") == 0
    assert r["auto_score"] == r["auto_max"] - 1
    assert any("forged partial credit" in e["detail"] for e in _events(r, "tamper"))


def test_unreadable_submissions_are_not_graded_and_named(graded):
    assert "not a valid notebook" in graded.r("h-corrupt-json")["reason"]
    assert "missing notebook" in graded.r("h-missing-notebook")["reason"]


def test_notebook_under_another_name_is_graded_and_flagged(graded):
    r = graded.r("h-wrong-name")
    assert r["status"] == "graded" and r["auto_score"] == r["auto_max"]
    assert any("submitted as" in f for f in r["flags"])


def test_answers_of_the_wrong_type_earn_nothing_without_breaking_grading(graded):
    r = graded.r("h-wrong-types")
    assert r["status"] == "graded"
    assert r["auto_score"] == 0


def test_feedback_hides_test_code_and_trims_tracebacks(graded):
    assert graded.feedback.returncode == 0, graded.feedback.stdout[-2000:] + graded.feedback.stderr[-2000:]
    hidden, visible = set(), set()
    for cell in nbformat.read(solution(EX3), as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            inside = ("BEGIN HIDDEN TESTS" in line) or (inside and "END HIDDEN TESTS" not in line)
            if len(line.strip()) > 20:
                (hidden if inside else visible).add(line.strip())
    hidden -= visible
    pages = list((graded.root / "autograder" / "feedback").glob(f"*/{EX3}/{EX3}.html"))
    assert len(pages) >= 5
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        assert "BEGIN HIDDEN TESTS" not in text
        assert not [line for line in hidden if line in text], f"{page.parent.parent.name}: hidden test code shown"
        assert "checks.py" not in text, "library frames left in a traceback"
    autograded = nbformat.read(graded.root / "autograder" / "autograded" / "honest-ex03-partial" / EX3 / f"{EX3}.ipynb",
                               as_version=4)
    errors = [o for c in autograded.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    for error in errors:
        # only the student's own frames ("Cell In[n]" of an answer cell), then the message
        assert ansi.sub("", error.traceback[-1]).startswith(error.ename), error.traceback
        assert all(ansi.sub("", t).lstrip().startswith("Cell In[") for t in error.traceback[:-1]), error.traceback


def test_reports_cover_every_student_and_part(graded, tmp_path):
    written = write_reports(graded.batch, graded.course, tmp_path)
    assert {p.name for p in written} >= {f"{EX1}-grades.csv", f"{EX1}.html", "class-grades.csv"}
    rows = list(csv.DictReader(open(tmp_path / f"{EX2}-grades.csv", encoding="utf-8")))
    assert {row["student"] for row in rows} == {s for s, (e, _) in {**HONEST, **hostile_cases()}.items() if e == EX2}
    assert "ex02-a-grad-f" in rows[0] and "auto_score" in rows[0]
    missing = next(row for row in rows if row["student"] == "h-missing-notebook")
    assert missing["status"] == "failed" and "missing notebook" in missing["reason"]
    page = (tmp_path / f"{EX1}.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "ex01-d-grad-L" in page
    assert "missing chain-rule factor" in page  # the honest partial student's named misconception
    assert Path(tmp_path / "class-grades.csv").read_text().count("\n") == len({*HONEST, *hostile_cases()}) + 1
