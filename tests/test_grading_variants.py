"""Grading with variants: nablakit-grade grades each student on their own variant, plain nbgrader on the reference.

One small class on exercise 3 (the fastest notebook with numeric answers):
``alice`` submits the solution; ``bob`` types in the reference variant's
numbers (what he would copy from a classmate on Binder, or from last year).
``nablakit-grade`` gives alice full marks on her variant and names bob's
numbers as not fitting his variant; plain ``nbgrader autograde`` of the same
submissions knows no identity and grades both on the reference variant.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from grading_support import TEST_LIMITS, autograde_sequentially, gradebook_parts, make_course, released, sqlite_url

from nablakit import variants
from nablakit.grading.batch import Course, grade_batch
from nablakit.grading.executors import LocalExecutor
from nablakit.grading.submission import build_submission, solution_answers

EX3 = "ex03-directional-derivatives"
COPIED = {
    "ex03-a-answer": "grad_f_at_a = np.array([-1.0, 0.0])",
    "ex03-c-answer": "zero_directions = [(0.0, 1.0), (0.0, -1.0)]",
}
pytestmark = pytest.mark.xdist_group("nbgrader")


def _outputs(root, student, grade_id):
    path = root / "autograder" / "autograded" / student / EX3 / f"{EX3}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return "\n".join(o.get("text", "") + o.get("evalue", "") for o in cells[0].get("outputs", []))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants") / "course"
    course = make_course(root, [EX3])
    right = solution_answers(root / "solutions" / EX3 / f"{EX3}.ipynb")
    build_submission(released(root, EX3), root, "alice", right)
    build_submission(released(root, EX3), root, "bob", {**right, **COPIED})
    plain = root.parent / "plain"
    shutil.copytree(root, plain)
    autograde_sequentially(plain)
    with LocalExecutor(2, log_dir=root / "autograder" / "logs") as executor:
        batch = grade_batch(course, [EX3], executor=executor, limits=TEST_LIMITS, progress=False)
    return root, plain, batch


def test_nablakit_grade_uses_each_students_variant(graded):
    root, _, batch = graded
    alice = next(r for r in batch.results if r["student"] == "alice")
    assert alice["status"] == "graded" and alice["auto_score"] == alice["auto_max"]
    label = variants.draw(EX3, env={"NABLAKIT_STUDENT": "alice"}).label
    assert f"This notebook uses the {label}." in _outputs(root, "alice", "ex03-imports")


def test_copied_numbers_fail_with_a_note_that_they_do_not_fit(graded):
    root, _, batch = graded
    bob = next(r for r in batch.results if r["student"] == "bob")
    assert bob["parts"]["ex03-a-gradient"][0] == 0 and bob["parts"]["ex03-c-zero-directions"][0] == 0
    assert bob["parts"]["ex03-d-function"][0] == bob["parts"]["ex03-d-function"][1]  # his own code still counts
    label = variants.draw(EX3, env={"NABLAKIT_STUDENT": "bob"}).label
    text = _outputs(root, "bob", "ex03-a-gradient")
    assert f"These values do not fit this variant ({label}): they are the answer of the reference variant" in text


def test_plain_nbgrader_autograde_grades_the_reference_variant(graded):
    _, plain, _ = graded
    for student in ("alice", "bob"):
        parts = gradebook_parts(sqlite_url(plain), EX3, student)
        auto = [p for p in parts.values() if p[3] == "code"]
        assert all(p[0] == p[1] for p in auto), (student, parts)
    assert "reference variant of ex03" in _outputs(plain, "bob", "ex03-imports")


def test_the_course_switch_reaches_the_sandboxed_kernels(graded, tmp_path, monkeypatch):
    # (Before the render test: forking workers from a process that ran nbclient
    # in-process fails there.) NABLAKIT_VARIANTS=off in the grader's environment: every kernel, inside its
    # sandbox, draws the reference variant, so bob's reference numbers now fit.
    root, _, _ = graded
    off = tmp_path / "course"
    shutil.copytree(root, off, ignore=shutil.ignore_patterns("autograded", "feedback", "logs"))
    monkeypatch.setenv("NABLAKIT_VARIANTS", "off")
    with LocalExecutor(1, log_dir=off / "autograder" / "logs") as executor:
        batch = grade_batch(Course.load(off, db_url=sqlite_url(off)), [EX3], students=["bob"], executor=executor,
                            limits=TEST_LIMITS, progress=False)
    (bob,) = batch.results
    assert bob["status"] == "graded" and bob["auto_score"] == bob["auto_max"], bob
    assert "reference variant of ex03" in _outputs(off, "bob", "ex03-imports")


def test_an_instructor_can_render_a_students_variant(tmp_path):
    from nablakit.grading.release import PROJECT_ROOT, main, render_for_student

    (path,) = render_for_student("alice", PROJECT_ROOT, [EX3], out_dir=tmp_path, log=lambda _: None)
    nb = nbformat.read(str(path), as_version=4)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    alice = variants.draw(EX3, env={"NABLAKIT_STUDENT": "alice"})
    assert f"This notebook uses the {alice.label}." in text
    assert f"a = ({alice['a'][0]:.6g}, {alice['a'][1]:.6g})" in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert main(["--student", "alice", "--root", str(tmp_path / "nowhere")]) == 1  # a clear error, no traceback

