"""Run an exercise notebook, visible and hidden tests included, for one student's variant in this process.

The nbgrader pipeline test grades a handful of submissions with the real
autograder; this runner is its fast twin for the variant sweep, which needs
thousands of runs: it executes the code cells of ``solutions/<name>`` (with
the instructor's answers, or some replaced) one after the other in a fresh
namespace, with ``NABLAKIT_STUDENT`` set, and scores each autograder-test
cell as nbgrader does (full points when the cell raises nothing, else 0).
"""

from __future__ import annotations

import contextlib
import io
import os
import textwrap
import warnings
from pathlib import Path

import nbformat

from nablakit import variants
from nablakit.grading.submission import solution_answers

ROOT = Path(__file__).resolve().parents[1]


def solution_path(name):
    return ROOT / "solutions" / name / f"{name}.ipynb"


def exercise_names():
    return sorted(p.name for p in (ROOT / "solutions").glob("ex[0-9][0-9]-*") if any(p.glob("*.ipynb")))


_NOTEBOOKS = {}


def _cells(name):
    """(grade_id, kind, source, points) of every code cell, solutions without their markers."""
    if name not in _NOTEBOOKS:
        path = solution_path(name)
        nb = nbformat.read(str(path), as_version=4)
        answers = solution_answers(nb)
        cells = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id")
            kind = "answer" if meta.get("solution") else "test" if meta.get("grade") else "other"
            source = answers[gid] if kind == "answer" else cell.source
            cells.append((gid, kind, source, float(meta.get("points", 0) or 0)))
        _NOTEBOOKS[name] = cells
    return _NOTEBOOKS[name]


def student_for_variant(name, number, salt=variants.DEFAULT_SALT):
    """A student id whose variant of exercise ``name`` is ``number`` (1..N_VARIANTS)."""
    for j in range(200 * variants.N_VARIANTS):
        student = f"sweep-{j}"
        if variants.variant_number(name, student, salt) == number:
            return student
    raise LookupError(f"no student id found for variant {number} of {name}")  # pragma: no cover


def run(name, student=None, answers=None, *, until=None, stop_on_failure=False):
    """Execute exercise ``name`` for ``student`` (None: the reference variant).

    ``until`` stops after that test cell, ``stop_on_failure`` after the first failed
    test cell (the sweep only needs to know that a wrong submission loses a part).

    Returns ``(scores, errors, variant, namespace)``: grade_id -> points earned,
    grade_id -> the error message of each failed test cell, the variant used, and
    the notebook's globals afterwards.
    """
    answers = {k: textwrap.dedent(v).strip("\n") for k, v in (answers or {}).items()}
    saved = {k: os.environ.get(k) for k in (variants.ENV_STUDENT, variants.ENV_HUB_USER, variants.ENV_SWITCH)}
    for key in saved:
        os.environ.pop(key, None)
    if student is not None:
        os.environ[variants.ENV_STUDENT] = student
    variants.forget()
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace = {"__name__": "__main__"}
    scores, errors = {}, {}
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for gid, kind, source, points in _cells(name):
                code = answers.get(gid, source) if kind == "answer" else source
                try:
                    exec(compile(code, f"<{name}:{gid}>", "exec"), namespace)  # noqa: S102 - our own notebooks
                except Exception as exc:  # noqa: BLE001 - a failing cell fails its part, as in nbgrader
                    if kind == "test":
                        scores[gid], errors[gid] = 0.0, f"{type(exc).__name__}: {exc}"
                        if stop_on_failure:
                            break
                    if until is not None and gid == until:
                        break
                    continue
                if kind == "test":
                    scores[gid] = points
                if until is not None and gid == until:
                    break
        variant = variants.draw(name)
        if "plt" in namespace:
            namespace["plt"].close("all")
    finally:
        variants.forget()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return scores, errors, variant, namespace


def full_marks(name):
    return sum(points for _, kind, _, points in _cells(name) if kind == "test")
