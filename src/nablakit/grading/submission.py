"""Build student submissions from a released notebook, for tests and trial runs.

An instructor who wants to see how the autograder treats a particular answer
(a typical mistake, a hard-coded number, an empty notebook) does not need a
student: take the released notebook, put code into its answer cells by
``grade_id``, and write the result where ``nbgrader autograde`` looks for
submissions, ``<course_root>/autograder/submitted/<student>/<assignment>/``.

Typical use, from the project root::

    from pathlib import Path
    from nablakit.grading.submission import build_submission, solution_answers

    root = Path(".")
    name = "ex05-linear-regression"
    answers = solution_answers(root / "solutions" / name / f"{name}.ipynb")
    # everything right except the MSE gradient, which forgets the 1/m:
    answers["ex05-b-answer"] = '''
    def mse_grad(X, y, w):
        return 2 * X.T @ (X @ w - y)
    '''
    build_submission(root / "exercises" / name / f"{name}.ipynb", root, "trial-missing-1-over-m", answers)

then ``cd autograder && nbgrader autograde ex05-linear-regression
--student trial-missing-1-over-m`` and look at the grades in the formgrader or
with ``nbgrader generate_feedback``. Answers are matched by the cell's nbgrader
``grade_id`` (open the solution notebook's cell metadata to see them).
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import nbformat

__all__ = ["solution_answers", "grade_ids", "fill_answers", "build_submission"]

_MARKER = re.compile(r"^\s*#*\s*(BEGIN|END) SOLUTION\s*$")


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_ids(nb, *, kind=None):
    """The ``grade_id`` of every nbgrader cell, optionally only ``kind`` = "solution" | "grade" | "locked".

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "a", "solution": True}})])
    >>> grade_ids(nb, kind="solution")
    ['a']
    """
    out = []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if "grade_id" in meta and (kind is None or meta.get(kind, False)):
            out.append(meta["grade_id"])
    return out


def _read(notebook):
    if isinstance(notebook, (str, Path)):
        return nbformat.read(str(notebook), as_version=4)
    return notebook


def solution_answers(source_notebook):
    """The instructor's answers: grade_id -> cell source with the solution markers removed.

    Parameters
    ----------
    source_notebook : path or NotebookNode
        A notebook from ``solutions/`` (with ``### BEGIN SOLUTION`` regions).

    Returns
    -------
    dict of str to str
        One entry per solution cell (code and written answers), ready to pass
        to :func:`fill_answers` or :func:`build_submission`.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> src = "def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"
    >>> nb = new_notebook(cells=[new_code_cell(src, metadata={"nbgrader": {"grade_id": "a", "solution": True}})])
    >>> print(solution_answers(nb)["a"])
    def f(x):
        return 2 * x
    """
    nb = _read(source_notebook)
    answers = {}
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            lines = [line for line in cell.source.split("\n") if not _MARKER.match(line)]
            answers[meta["grade_id"]] = "\n".join(lines).strip("\n")
    return answers


def fill_answers(released_notebook, answers=None, *, replace=None, delete=()):
    """A copy of a released notebook with answer cells filled in.

    Parameters
    ----------
    released_notebook : path or NotebookNode
        A notebook from ``exercises/``.
    answers : dict of str to str, optional
        ``grade_id`` -> new source for *solution* cells (code or markdown).
        Leading indentation common to all lines is removed, so triple-quoted
        strings may be indented.
    replace : dict of str to str, optional
        ``grade_id`` -> new source for *any* nbgrader cell, e.g. to simulate
        a student who edits a locked test cell (nbgrader restores it when
        autograding).
    delete : iterable of str
        ``grade_id`` (or cell ``id``) of cells to delete.

    Returns
    -------
    NotebookNode

    Raises
    ------
    KeyError
        If a ``grade_id`` does not exist, or ``answers`` names a cell that is
        not a solution cell.
    """
    nb = nbformat.from_dict(_read(released_notebook))  # deep copy
    answers = dict(answers or {})
    replace = dict(replace or {})
    delete = set(delete)
    by_id = {_nbgrader(c).get("grade_id"): c for c in nb.cells if "grade_id" in _nbgrader(c)}
    for key, mapping in (("answers", answers), ("replace", replace)):
        unknown = sorted(set(mapping) - set(by_id))
        if unknown:
            raise KeyError(f"{key} names grade_id(s) not in the notebook: {unknown}; known: {sorted(by_id)}")
    not_solution = sorted(g for g in answers if not _nbgrader(by_id[g]).get("solution"))
    if not_solution:
        raise KeyError(f"answers may only fill solution cells; these are not: {not_solution} (use replace=...)")
    for gid, source in {**answers, **replace}.items():
        by_id[gid].source = textwrap.dedent(source).strip("\n")
    if delete:
        nb.cells = [c for c in nb.cells if _nbgrader(c).get("grade_id") not in delete and c.get("id") not in delete]
    return nb


def build_submission(released_notebook, course_root, student, answers=None, *, assignment=None, replace=None,
                     delete=(), timestamp=None):
    """Write a filled-in copy of a released notebook as ``student``'s submission.

    Parameters
    ----------
    released_notebook : path
        ``exercises/<assignment>/<name>.ipynb``.
    course_root : path
        The course root; the file goes to
        ``autograder/submitted/<student>/<assignment>/<name>.ipynb``.
    student : str
        Student id (nbgrader adds unknown students to the gradebook when it
        autogrades them).
    answers, replace, delete
        As in :func:`fill_answers`.
    assignment : str, optional
        Default: the name of the released notebook's folder.
    timestamp : datetime, optional
        Submission time written to ``timestamp.txt`` (default: now, UTC).

    Returns
    -------
    Path
        The submitted notebook.
    """
    released_notebook = Path(released_notebook)
    assignment = assignment or released_notebook.parent.name
    nb = fill_answers(released_notebook, answers, replace=replace, delete=delete)
    folder = Path(course_root) / "autograder" / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / released_notebook.name
    nbformat.write(nb, str(path))
    stamp = (timestamp or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    (folder / "timestamp.txt").write_text(stamp.strip() + "\n", encoding="utf-8")
    return path
