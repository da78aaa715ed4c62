"""The nbgrader configuration is wired to the course layout and really releases."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def load_config(folder):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_config_points_at_the_layout():
    c = load_config(ROOT / "autograder")
    assert Path(c.CourseDirectory.root) == ROOT
    assert c.CourseDirectory.source_directory == "solutions"
    assert c.CourseDirectory.release_directory == "exercises"
    for key in ("submitted_directory", "autograded_directory", "feedback_directory"):
        assert c.CourseDirectory[key].startswith("autograder"), key
    assert "autograder" in c.CourseDirectory.db_url and c.CourseDirectory.course_id
    assert c.OverwriteCells.add_missing_cells is True
    assert 0 < c.Execute.timeout <= 120
    names = [p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in names and "ClearMarkScheme" in names


def test_gradebook_is_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "autograder/gradebook.db"], cwd=ROOT, capture_output=True)
    assert ignored.returncode == 0


def test_generate_assignment_smoke(tmp_path):
    course = tmp_path / "course"
    (course / "autograder").mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", course / "autograder")
    source = course / "solutions" / "smoke"
    source.mkdir(parents=True)
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        new_markdown_cell("Write `double`."),
        new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata={"nbgrader": {"grade": False, "solution": True, "locked": False, "task": False,
                                    "grade_id": "smoke-answer", "schema_version": 3}},
        ),
        new_code_cell(
            "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(5) == 10\n### END HIDDEN TESTS",
            metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "task": False, "points": 1,
                                    "grade_id": "smoke-test", "schema_version": 3}},
        ),
    ]
    nbformat.write(nb, source / "smoke.ipynb")
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["nbgrader", "generate_assignment", "smoke", "--force", "--create"],
        cwd=course / "autograder", env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    released = nbformat.read(course / "exercises" / "smoke" / "smoke.ipynb", as_version=4)
    assert "NotImplementedError" in released.cells[1].source
    assert "HIDDEN" not in released.cells[2].source and "double(5)" not in released.cells[2].source
    assert (course / "autograder" / "gradebook.db").exists()
