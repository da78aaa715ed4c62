"""Attacks on the checks themselves (issue 19, item 6): each grades exactly as its honest equivalent.

One class of exercise 1 and exercise 6 submissions (module fixture), built
from the released notebooks: honest ones (blank, wrong answers of the right
shapes, the solution, the solution computed on the reference variant's
numbers) and hostile ones from ``tests/grading_attacks.py`` whose answer
cells bend the test cells after them: (a) an input transformer that turns
test cells into ``pass``, (b) an AST transformer that wraps them in
``try/except: pass``, (c) a custom exception handler and a silent
traceback, (d) exercise 6 switched to the reference variant, (e) a trace
function that rewrites the arguments of every check, (f) a replaced display
hook forging partial credit, (g) a replaced ``execute_request`` handler,
(h) answers lying through ``__array__``/``__float__``/``__eq__`` with the
reference read from the caller's frames, (i) a student function that
installs the trace function when a test calls it.

The class is graded twice through the ``nablakit-grade`` command, one batch
per mode, both batches at once on two copies of the course:

- the default (the checks in a checker outside the student's kernel): every
  attack earns exactly what its honest equivalent earns (a blank stays 0,
  exercise 6 is graded on the student's own variant);
- ``--in-kernel-checks`` (the checks in the student's kernel, as plain
  nbgrader runs them): the attacks work (a blank gets 10/10), which proves
  each test above can fail.

Until the command has ``--in-kernel-checks`` its default is the in-kernel
design: the in-kernel batch then runs without the option and the split tests
are skipped with the reason.
"""

from __future__ import annotations

import csv
import functools
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import grading_attacks as attack
from grading_support import gradebook_parts, make_course, released, solution, sqlite_url
from nablakit.grading.isolation import bwrap_path
from nablakit.grading.submission import build_submission, solution_answers

pytestmark = [
    pytest.mark.xdist_group("grading-injection"),
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed (apt-get install -y bubblewrap)"),
]

EX1, EX6 = "ex01-partial-derivatives", "ex06-gradient-checking"
GRADE_CMD = str(Path(sys.executable).parent / "nablakit-grade")
FIRST = "ex01-a-answer"


@functools.lru_cache(maxsize=None)
def has_split_option():
    out = subprocess.run([GRADE_CMD, "--help"], capture_output=True, text=True, timeout=120)
    return "--in-kernel-checks" in out.stdout


NO_SPLIT = "nablakit-grade has no --in-kernel-checks yet: its only mode runs the checks in the student's kernel"


def ex06_on_reference_numbers():
    """The exercise 6 solution computed on the reference variant's numbers, in names of its own (no hook, no
    change to the notebook's variant): what the variant attack (d) amounts to when graded on the student's own
    variant."""
    right = solution_answers(solution(EX6))
    reference = 'variants.params_for("ex06", 0)'
    return {
        **right,
        "ex06-b-lsq-grad-answer": f"_ref = {reference}\n_rng = np.random.default_rng(_ref['seed_ls'])\n"
                                  "_X_ls = _rng.normal(size=(20, 4))\n_y_ls = _rng.normal(size=20)\n"
                                  "_w_ls = _rng.normal(size=4)\n\n\n"
                                  "def lsq_grad(w):\n    return _X_ls.T @ (_X_ls @ w - _y_ls)\n",
        "ex06-b-lsq-rel-error-answer": "def _lsq_loss(w):\n    r = _X_ls @ w - _y_ls\n    return 0.5 * float(r @ r)\n\n\n"
                                       "lsq_rel_error = relative_error(numerical_gradient(_lsq_loss, _w_ls), "
                                       "lsq_grad(_w_ls))\n",
        "ex06-c-answer": f"_w_wavy = np.array({reference}['w_wavy'])\n"
                         + right["ex06-c-answer"].replace("w_wavy", "_w_wavy"),
        "ex06-d-rel-error-answer": f"_rng_lr = np.random.default_rng({reference}['seed_lr'])\n"
                                   "_X_lr = _rng_lr.normal(size=(30, 3))\n"
                                   "_y_lr = (_rng_lr.uniform(size=30) < 0.5).astype(float)\n"
                                   "_w_lr = _rng_lr.normal(size=3)\n"
                                   + right["ex06-d-rel-error-answer"].replace("X_lr", "_X_lr")
                                   .replace("y_lr", "_y_lr").replace("w_lr", "_w_lr"),
    }


def submissions():
    """student -> (exercise, answers)."""
    dummy = attack.EX01_DUMMY
    right6 = solution_answers(solution(EX6))
    return {
        "honest-blank": (EX1, {}),
        "honest-wrong": (EX1, dummy),
        "honest-ex06-full": (EX6, right6),
        "honest-ex06-reference": (EX6, ex06_on_reference_numbers()),
        "a-input-transformer": (EX1, {FIRST: attack.INPUT_TRANSFORMER}),
        "b-ast-transformer": (EX1, {FIRST: attack.AST_TRANSFORMER}),
        "c-custom-exc": (EX1, {FIRST: attack.CUSTOM_EXC}),
        "d-variant-switch": (EX6, {**right6, "ex06-a-answer": attack.VARIANT_SWITCH + right6["ex06-a-answer"]}),
        "e-settrace": (EX1, {**dummy, FIRST: attack.SETTRACE + dummy[FIRST]}),
        "f-displayhook": (EX1, {**dummy, FIRST: attack.DISPLAYHOOK + attack.EX01_DISPLAYING[FIRST]}),
        "g-execute-handler": (EX1, {FIRST: attack.EXECUTE_HANDLER}),
        "h-liar": (EX1, attack.EX01_LIAR),
        "i-hook-on-call": (EX1, {**dummy, FIRST: attack.HOOK_ON_CALL}),
    }


#: attack -> the honest submission it must grade exactly as (with the checks outside the student's kernel)
HONEST_EQUIVALENT = {
    "a-input-transformer": "honest-blank", "b-ast-transformer": "honest-blank", "c-custom-exc": "honest-blank",
    "d-variant-switch": "honest-ex06-reference", "e-settrace": "honest-wrong", "f-displayhook": "honest-wrong",
    "g-execute-handler": "honest-blank", "h-liar": "honest-blank", "i-hook-on-call": "honest-wrong",
}


class Graded:
    """One mode's batch: per-part grades from the gradebook, flags from the CSV report."""

    def __init__(self, root, proc, seconds):
        self.root, self.proc, self.seconds = root, proc, seconds
        self.url = sqlite_url(root)
        self.rows = {}
        for exercise in (EX1, EX6):
            with open(root / "reports" / f"{exercise}-grades.csv", encoding="utf-8") as fh:
                self.rows.update({row["student"]: row for row in csv.DictReader(fh)})

    def parts(self, student):
        exercise = submissions()[student][0]
        return {name: score for name, (score, *_) in gradebook_parts(self.url, exercise, student).items()}

    def score(self, student):
        return sum(self.parts(student).values())

    def flags(self, student):
        return self.rows[student]["flags"]


def _start(root, *extra):
    return subprocess.Popen([GRADE_CMD, EX1, EX6, "--course-root", str(root), "--workers", "2", "--no-progress",
                             "--cell-timeout", "20", "--notebook-timeout", "150", "--reports", str(root / "reports"),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def modes(tmp_path_factory):
    """Both batches, graded at the same time on two copies of one course."""
    base = tmp_path_factory.mktemp("injection")
    root = base / "in-kernel"
    make_course(root, [EX1, EX6])
    for student, (exercise, answers) in submissions().items():
        build_submission(released(root, exercise), root, student, answers)
    started = {}
    split = has_split_option()
    if split:
        shutil.copytree(root, base / "split")
        started["split"] = _start(base / "split")
    started["in-kernel"] = _start(root, *(["--in-kernel-checks"] if split else []))
    start, seconds = time.perf_counter(), {}
    while len(seconds) < len(started) and time.perf_counter() - start < 600:
        seconds.update({mode: time.perf_counter() - start for mode, proc in started.items()
                        if mode not in seconds and proc.poll() is not None})
        time.sleep(0.1)
    graded = {}
    for mode, proc in started.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 1), f"{mode}: exit {proc.returncode}\n{out[-3000:]}\n{err[-3000:]}"
        graded[mode] = Graded(base / mode, proc, seconds.get(mode))
        print(f"\n{mode} batch: {len(submissions())} submissions in {seconds.get(mode, 0):.1f} s (both at once)")
    return graded


@pytest.fixture(scope="module")
def split(modes):
    if "split" not in modes:
        pytest.skip(NO_SPLIT)
    return modes["split"]


@pytest.fixture(scope="module")
def in_kernel(modes):
    return modes["in-kernel"]


def test_every_submission_is_graded_in_both_modes(modes):
    for mode, graded in modes.items():
        assert set(graded.rows) == set(submissions()), mode
        assert all(row["status"] == "graded" for row in graded.rows.values()), (mode, graded.rows)


# -- with the checks outside the student's kernel ---------------------------------------------------------------------
@pytest.mark.parametrize("student", sorted(HONEST_EQUIVALENT))
def test_each_attack_grades_exactly_as_its_honest_equivalent(split, student):
    assert split.parts(student) == split.parts(HONEST_EQUIVALENT[student]), student


def test_the_split_changes_no_honest_grade(split, in_kernel):
    for student in {*HONEST_EQUIVALENT.values(), "honest-ex06-full"}:
        assert split.parts(student) == in_kernel.parts(student), student


def test_a_blank_stays_zero_whatever_its_hooks(split):
    for student in ("honest-blank", "honest-wrong", *(s for s, h in HONEST_EQUIVALENT.items() if h == "honest-blank")):
        assert split.score(student) == 0, (student, split.parts(student))


def test_lying_answers_are_refused_by_name(split):
    autograded = split.root / "autograder" / "autograded" / "h-liar" / EX1 / f"{EX1}.ipynb"
    errors = [o for cell in nbformat.read(autograded, as_version=4).cells for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    named = {name for name in ("df_dx", "d2f_dydx", "grad_L", "grad_f_at_110", "critical_points_L")
             if any(name in e.evalue and "_Answer" in e.evalue for e in errors)}
    assert len(named) == 5, [e.evalue for e in errors]


def test_exercise_6_is_graded_on_the_students_own_variant(split):
    """Computed on the reference variant, the answers that depend on the variant are wrong; the rest are right."""
    full, reference = split.parts("honest-ex06-full"), split.parts("honest-ex06-reference")
    assert sum(full.values()) == 10
    assert 0 < sum(reference.values()) < 10, reference
    assert full["ex06-a-numerical-gradient"] == reference["ex06-a-numerical-gradient"] == 2  # no variant in it
    assert reference["ex06-b-lsq"] == 0  # lsq_grad computes on the reference variant's data
    assert split.parts("d-variant-switch") == reference


# -- with the checks in the student's kernel: each attack works, so each test above can fail --------------------------
@pytest.mark.parametrize("student", ["a-input-transformer", "b-ast-transformer", "g-execute-handler"])
def test_in_the_kernel_a_blank_with_a_hook_gets_full_marks(in_kernel, student):
    assert in_kernel.score("honest-blank") == 0
    assert in_kernel.score(student) == 10, in_kernel.parts(student)


@pytest.mark.parametrize("student", ["e-settrace", "i-hook-on-call"])
def test_in_the_kernel_a_trace_function_turns_wrong_answers_into_full_marks(in_kernel, student):
    assert in_kernel.score("honest-wrong") == 0
    assert in_kernel.score(student) == 10, in_kernel.parts(student)


def test_in_the_kernel_lying_answers_pass_the_checks_that_read_them(in_kernel):
    parts = in_kernel.parts("h-liar")
    assert sum(parts.values()) >= 8, parts  # every check of a value; not the critical points, read through a list
    assert parts["ex01-a-df-dx"] == parts["ex01-d-grad-L"] - 1 == 1


def test_in_the_kernel_the_reference_variant_earns_full_marks(in_kernel):
    assert in_kernel.score("d-variant-switch") == 10
    assert in_kernel.score("honest-ex06-reference") < 10


def test_in_the_kernel_a_silent_traceback_and_forged_credit_still_earn_nothing(in_kernel):
    """(c) and (f) earn nothing even with the checks in the kernel: the failing tests' errors still reach the
    notebook (c), and a score displayed before an error is removed (f; plain nbgrader counts it as partial credit)."""
    for student in ("c-custom-exc", "f-displayhook"):
        assert in_kernel.score(student) == 0, (student, in_kernel.parts(student))
    assert "forged partial credit removed" in in_kernel.flags("f-displayhook")


# -- signs ----------------------------------------------------------------------------------------------------------
def test_every_attack_is_flagged_and_no_honest_submission_is(modes):
    for mode, graded in modes.items():
        for student in HONEST_EQUIVALENT:
            assert "lint" in graded.flags(student), (mode, student, graded.flags(student))
        for student in {*HONEST_EQUIVALENT.values(), "honest-ex06-full"}:
            assert "lint" not in graded.flags(student), (mode, student, graded.flags(student))
        assert "input transformers" in graded.flags("a-input-transformer")
        assert "kernel message handler" in graded.flags("g-execute-handler")
        assert "changes which variant" in graded.flags("d-variant-switch")
