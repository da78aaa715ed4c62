"""The graded exercises through real nbgrader: release, validate, autograde, feedback.

Everything runs in ONE temporary course (session fixture): the committed
``solutions/`` are released again, then for every exercise the solution, the
empty release, the wrong answers of ``tests/exercise_cases.py``, a hard-coded
and an imported answer are submitted by different "students" and autograded
with one ``nbgrader autograde`` per exercise; one ``nbgrader generate_feedback``
per exercise follows. The tests below only read the results. The real
``autograder/`` folder is never touched.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from exercise_cases import CASES
from nablakit.grading.release import (
    ALL_PATTERN,
    VOLATILE_CELL_METADATA,
    VOLATILE_NOTEBOOK_METADATA,
    find_assignments,
    release_all,
    run_nbgrader,
)
from nablakit.grading.submission import build_submission, fill_answers, solution_answers

ROOT = Path(__file__).resolve().parents[1]
# EXERCISE_PIPELINE_ONLY="ex01-partial-derivatives,ex05-linear-regression" narrows a local run.
_ONLY = [n for n in os.environ.get("EXERCISE_PIPELINE_ONLY", "").split(",") if n]
EXERCISES = [n for n in find_assignments(ROOT) if not _ONLY or n in _ONLY]
# The test course must not use an instructor's real database or exchange; a loaded
# test machine gets more time per cell than students' notebooks do (30 s).
ISOLATED_ENV = {"NBGRADER_DB_URL": None, "NBGRADER_EXCHANGE": None, "NBGRADER_CELL_TIMEOUT": "120"}

pytestmark = pytest.mark.xdist_group("nbgrader")


def nbgrader(args, course_root, **kwargs):
    return run_nbgrader(args, course_root, extra_env=ISOLATED_ENV, **kwargs)


def notebook_path(root, folder, name):
    return Path(root) / folder / name / f"{name}.ipynb"


def students_for(name):
    """Student id -> answers (grade_id -> source) for one exercise."""
    case = CASES.get(name, {})
    right = solution_answers(notebook_path(ROOT, "solutions", name))
    students = {"solution": right, "blank": {}}
    for i, wrong in enumerate(case.get("wrong", []), start=1):
        students[f"wrong{i}"] = {**right, **wrong["answers"]}
    for kind in ("hardcoded", "imported"):
        if case.get(kind):
            students[kind] = {**right, **case[kind]["answers"]}
    return students


class Course:
    """Results of the one pipeline run: scores, autograded notebooks, feedback text."""

    def __init__(self, root):
        self.root = root
        self.timings = {}
        self.errors = {}

    def grades(self, name, student):
        """grade_id -> (score, max_score, needs_manual_grade, cell type) and the submission totals."""
        from nbgrader.api import Gradebook

        autograded = self.root / "autograder" / "autograded" / student / name / f"{name}.ipynb"
        assert autograded.exists(), f"nbgrader did not autograde {name} for {student}:\n{self.errors.get('autograde', '')}"

        with Gradebook(f"sqlite:///{self.root / 'autograder' / 'gradebook.db'}") as gb:
            sub = gb.find_submission(name, student)
            nb = sub.notebooks[0]
            per_cell = {
                g.name: (g.score, g.max_score, g.needs_manual_grade, g.cell_type) for g in nb.grades
            }
            auto_cells = {k: v for k, v in per_cell.items() if v[3] == "code"}
            totals = {
                "auto": sum(v[0] for v in auto_cells.values()),
                "auto_max": sum(v[1] for v in auto_cells.values()),
                "needs_manual": sub.needs_manual_grade,
            }
            return per_cell, totals

    def autograded(self, name, student):
        return nbformat.read(
            self.root / "autograder" / "autograded" / student / name / f"{name}.ipynb", as_version=4
        )

    def feedback_text(self, name, student):
        path = self.root / "autograder" / "feedback" / student / name / f"{name}.html"
        assert path.exists(), f"no feedback for {student} on {name}:\n{self.errors.get('generate_feedback', '')}"
        raw = path.read_text(encoding="utf-8")
        return html.unescape(re.sub(r"<[^>]+>", "", raw))


def _run_pipeline(root):
    """Release, submit every trial student, autograde and generate feedback in ``root``."""
    (root / "autograder").mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", root / "autograder")
    for name in EXERCISES:
        shutil.copytree(ROOT / "solutions" / name, root / "solutions" / name)
    timings, errors = {}, {}
    start = time.perf_counter()
    release_all(root, EXERCISES, log=lambda *_: None)
    timings["release"] = time.perf_counter() - start
    n_notebooks, students = 0, set()
    for name in EXERCISES:
        released = notebook_path(root, "exercises", name)
        for student, answers in students_for(name).items():
            build_submission(released, root, student, answers)
            students.add(student)
            n_notebooks += 1
    # Two nbgrader processes per step, each over all exercises for half of the
    # students (nbgrader grades one notebook at a time; the SQLite gradebook
    # takes two writers on disjoint students), so both cores work.
    ordered = sorted(students)
    halves = (ordered[0::2], ordered[1::2])
    for step in ("autograde", "generate_feedback"):
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            outs = list(pool.map(
                lambda other: nbgrader(
                    [step, ALL_PATTERN, "--force", f"--CourseDirectory.student_id_exclude={','.join(other)}"],
                    root, check=False,
                ),
                halves[::-1],
            ))
        timings[step] = (time.perf_counter() - start, n_notebooks)
        failed = [o.stdout[-4000:] + o.stderr[-4000:] for o in outs if o.returncode != 0]
        if failed:
            errors[step] = "\n".join(failed)
    return {"timings": timings, "errors": errors}


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    # The run happens once per test session even when xdist spreads this module's
    # tests over several workers: the first worker runs it under a file lock in a
    # folder all workers share, the others wait for it and read the results.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "exercise-pipeline-course"
    with open(shared / "exercise-pipeline.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        summary = root / "pipeline-summary.json"
        if not summary.exists():
            info = _run_pipeline(root)
            summary.write_text(json.dumps(info), encoding="utf-8")
        info = json.loads(summary.read_text(encoding="utf-8"))
    result = Course(root)
    result.timings = {k: tuple(v) if isinstance(v, list) else v for k, v in info["timings"].items()}
    result.errors = info["errors"]
    return result


@pytest.mark.parametrize("name", EXERCISES)
def test_release_is_up_to_date(course, name):
    def canonical(path):
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        for key in VOLATILE_NOTEBOOK_METADATA:
            nb["metadata"].pop(key, None)
        for cell in nb["cells"]:
            for key in VOLATILE_CELL_METADATA:
                cell["metadata"].pop(key, None)
        return nb

    committed = notebook_path(ROOT, "exercises", name)
    assert committed.exists(), f"exercises/{name} is missing; run `make exercises`"
    fresh = notebook_path(course.root, "exercises", name)
    assert canonical(committed) == canonical(fresh), (
        f"exercises/{name} differs from what nbgrader generates from solutions/{name}; run `make exercises`"
    )
    # The release is reproducible: regenerating gives the committed bytes.
    assert committed.read_bytes() == fresh.read_bytes(), f"exercises/{name} is not in canonical form; run `make exercises`"


def test_validate_solutions_and_inverted_blanks(course):
    solutions = [str(notebook_path(course.root, "solutions", n)) for n in EXERCISES]
    blanks = [str(notebook_path(course.root, "exercises", n)) for n in EXERCISES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        valid = pool.submit(nbgrader, ["validate", *solutions], course.root, check=False)
        inverted = pool.submit(nbgrader, ["validate", "--invert", *blanks], course.root, check=False)
        valid, inverted = valid.result(), inverted.result()
    assert valid.stdout.count("Success! Your notebook passes all the tests.") == len(EXERCISES), valid.stdout + valid.stderr
    assert inverted.stdout.count("Success! The notebook does not pass any tests.") == len(EXERCISES), (
        inverted.stdout + inverted.stderr
    )


@pytest.mark.parametrize("name", EXERCISES)
def test_notebook_structure(name):
    nb = nbformat.read(notebook_path(ROOT, "solutions", name), as_version=4)
    assert nb.metadata.kernelspec["name"] == "python3"
    metas = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    ids = [m["grade_id"] for m in metas if "grade_id" in m]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    assert all(i.startswith(name[:4] + "-") for i in ids), "grade_ids start with the exercise number"
    points = [m.get("points", 0) for m in metas if m.get("grade")]
    assert sum(points) == 10, f"{name} is worth {sum(points)} points, not 10"
    written = [m.get("points", 0) for c, m in zip(nb.cells, metas) if m.get("grade") and c.cell_type == "markdown"]
    assert sum(written) <= 3, "written parts are worth at most 3 points"
    for cell, meta in zip(nb.cells, metas):
        if meta.get("grade") and cell.cell_type == "code":
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden tests"
            assert cell.source.lstrip().startswith('"""'), f"{meta['grade_id']} should open with a docstring"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source
    assert name in CASES, f"add trial submissions for {name} to tests/exercise_cases.py"


@pytest.mark.parametrize("name", EXERCISES)
def test_solution_earns_full_autograded_marks_and_waits_for_manual_grading(course, name):
    per_cell, totals = course.grades(name, "solution")
    assert totals["auto"] == totals["auto_max"] > 0, per_cell
    manual = {k: v for k, v in per_cell.items() if v[3] == "markdown"}
    for grade_id, (_score, _max, needs_manual, _kind) in manual.items():
        assert needs_manual, f"{grade_id} was scored automatically instead of waiting for manual grading"
    assert totals["needs_manual"] == bool(manual)


@pytest.mark.parametrize("name", EXERCISES)
def test_blank_release_earns_nothing(course, name):
    per_cell, totals = course.grades(name, "blank")
    assert totals["auto"] == 0, {k: v for k, v in per_cell.items() if v[0]}
    assert course.autograded(name, "blank").cells, "autograding the blank release did not complete"


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _error_text(cell):
    return "\n".join(f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error")


@pytest.mark.parametrize("name", EXERCISES)
def test_wrong_answers_lose_their_part_and_are_named_in_feedback(course, name):
    wrong = CASES[name]["wrong"]
    assert len(wrong) >= 2, f"{name} needs at least two wrong submissions in tests/exercise_cases.py"
    for i, case in enumerate(wrong, start=1):
        student = f"wrong{i}"
        per_cell, totals = course.grades(name, student)
        assert 0 < totals["auto"] < totals["auto_max"], (student, case["misconception"], totals)
        assert per_cell[case["part"]][0] == 0, (student, case["part"], per_cell[case["part"]])
        # No mistake paid twice: every other autograded cell keeps its points unless the case names it.
        allowed = {case["part"], *case.get("also_fails", ())}
        lost = {gid: v[:2] for gid, v in per_cell.items() if v[3] == "code" and gid not in allowed and v[0] < v[1]}
        assert not lost, f"{student} ({case['misconception']}) also loses {lost}"
        text = course.feedback_text(name, student)
        assert case["misconception"] in text, f"{student} ({case['misconception']}) not named in the feedback"


@pytest.mark.parametrize("name", EXERCISES)
def test_feedback_never_shows_hidden_tests(course, name):
    source = nbformat.read(notebook_path(ROOT, "solutions", name), as_version=4)
    hidden, visible = set(), set()
    for cell in source.cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif len(line.strip()) >= 20:
                (hidden if inside else visible).add(line.strip())
    visible_text = "\n".join(visible)
    hidden = {line for line in hidden if line not in visible_text}
    assert hidden
    for student in students_for(name):
        text = course.feedback_text(name, student)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"feedback for {student} shows hidden test code: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text


@pytest.mark.parametrize("name", EXERCISES)
def test_hardcoded_answers_fail_the_hidden_tests(course, name):
    case = CASES[name].get("hardcoded")
    if not case:
        pytest.skip(f"{name} has no function part to hard-code")
    per_cell, _ = course.grades(name, "hardcoded")
    assert per_cell[case["part"]][0] == 0
    error = _error_text(_cell(course.autograded(name, "hardcoded"), case["part"]))
    assert error.startswith("HiddenTestFailure"), f"the visible checks should pass and a hidden one fail; got {error}"


@pytest.mark.parametrize("name", EXERCISES)
def test_answers_imported_from_nablakit_earn_no_credit(course, name):
    case = CASES[name].get("imported")
    if not case:
        pytest.skip(f"nablakit holds no answer of {name}")
    per_cell, totals = course.grades(name, "imported")
    assert per_cell[case["part"]][0] == 0
    assert totals["auto"] > 0, "only the part with the imported answer should lose its points"
    assert "nablakit" in _error_text(_cell(course.autograded(name, "imported"), case["part"]))


def test_submission_builder_rejects_unknown_or_locked_cells():
    name = EXERCISES[0]
    released = notebook_path(ROOT, "exercises", name)
    with pytest.raises(KeyError, match="not in the notebook"):
        fill_answers(released, {"no-such-cell": "x = 1"})
    nb = nbformat.read(released, as_version=4)
    locked = next(c.metadata.nbgrader.grade_id for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    with pytest.raises(KeyError, match="only fill solution cells"):
        fill_answers(released, {locked: "pass"})
    filled = fill_answers(released, replace={locked: "pass"}, delete=[nb.cells[-1].id])
    assert len(filled.cells) == len(nb.cells) - 1
    assert _cell(filled, locked).source == "pass"
    assert _cell(nb, locked).source != "pass", "the released notebook itself must not change"


def test_report_timings(course):
    """Not a check: prints the release and autograde times (run with -s to see them)."""
    seconds, n = course.timings["autograde"]
    feedback, _ = course.timings["generate_feedback"]
    print(
        f"\nrelease of {len(EXERCISES)} exercises: {course.timings['release']:.1f} s; "
        f"autograde of {n} notebooks: {seconds:.1f} s ({seconds / n:.2f} s each); feedback: {feedback:.1f} s"
    )
