"""Unit tests of the release and submission helpers (no nbgrader run; the pipeline test does that)."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nablakit.grading import release
from nablakit.grading.submission import fill_answers, grade_ids, solution_answers


def test_normalise_notebook_is_canonical_and_idempotent(tmp_path):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}, "widgets": {"state": 1}})
    cell = new_code_cell("x = 1", metadata={"execution": {"iopub.status.busy": "2026"}, "collapsed": False})
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    cell.execution_count = 3
    nb.cells = [cell, new_markdown_cell("é", metadata={"scrolled": True})]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb, indent=4), encoding="utf-8")
    assert release.normalise_notebook(path) is True
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in data["metadata"]
    assert data["cells"][0]["metadata"] == {} and data["cells"][1]["metadata"] == {}
    assert data["cells"][0]["outputs"] == [] and data["cells"][0]["execution_count"] is None
    assert "é" in path.read_text(encoding="utf-8") and path.read_text(encoding="utf-8").endswith("}\n")
    assert release.normalise_notebook(path) is False


def test_find_assignments_and_pattern(tmp_path):
    for name in ("ex01-a", "ex02-b", "notes", "ex3-c"):
        (tmp_path / "solutions" / name).mkdir(parents=True)
        (tmp_path / "solutions" / name / f"{name}.ipynb").write_text("{}")
    (tmp_path / "solutions" / "ex04-empty").mkdir()
    assert release.find_assignments(tmp_path) == ["ex01-a", "ex02-b"]
    assert release.find_assignments(tmp_path / "nowhere") == []
    import fnmatch

    assert fnmatch.fnmatch("ex01-a", release.ALL_PATTERN) and not fnmatch.fnmatch("ex3-c", release.ALL_PATTERN)


def test_run_nbgrader_needs_the_course_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        release.run_nbgrader(["--version"], tmp_path)


def test_main_reports_an_empty_course(tmp_path, capsys):
    (tmp_path / "autograder").mkdir()
    assert release.main(["--root", str(tmp_path)]) == 1
    assert "no exercise folders" in capsys.readouterr().err


def test_nbgrader_env_puts_this_interpreter_first(monkeypatch):
    monkeypatch.setenv("NBGRADER_DB_URL", "postgresql://real")
    env = release.nbgrader_env()
    assert env["NBGRADER_DB_URL"] == "postgresql://real"
    assert env["PATH"].split(":")[0].endswith("bin")


def test_solution_answers_and_fill_answers_roundtrip():
    meta = {"nbgrader": {"grade_id": "ex99-a", "solution": True, "grade": False, "locked": False}}
    written = {"nbgrader": {"grade_id": "ex99-w", "solution": True, "grade": True, "locked": False, "points": 1}}
    test = {"nbgrader": {"grade_id": "ex99-t", "solution": False, "grade": True, "locked": True, "points": 1}}
    source = new_notebook(cells=[
        new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION", metadata=meta),
        new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION", metadata=written),
        new_code_cell("assert f(1) == 2", metadata=test),
    ])
    answers = solution_answers(source)
    assert answers == {"ex99-a": "def f(x):\n    return x + 1", "ex99-w": "Because."}
    assert grade_ids(source, kind="grade") == ["ex99-w", "ex99-t"]
    released = nbformat.from_dict(source)
    released.cells[0].source = "def f(x):\n    raise NotImplementedError()"
    filled = fill_answers(released, {"ex99-a": """
        def f(x):
            return x + 2
    """})
    assert filled.cells[0].source == "def f(x):\n    return x + 2"
    assert released.cells[0].source.endswith("NotImplementedError()")
