"""Every chapter notebook runs headless, top to bottom, without errors or warnings."""

import nbformat
import pytest

from course_map import chapter_files
from notebook_runner import execute_notebook, problem_outputs

CHAPTERS = chapter_files()
SECONDS_PER_CHAPTER = 20


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_clean(path):
    nb, seconds = execute_notebook(path)
    problems = problem_outputs(nb)
    assert not problems, "\n".join(f"cell {i}: {text[:500]}" for i, text in problems)
    assert seconds < SECONDS_PER_CHAPTER, f"{path.name} took {seconds:.1f} s (limit {SECONDS_PER_CHAPTER} s)"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_structure(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec python3 is missing"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert "learning goals" in text or "you will be able to" in text, "chapter must open with learning goals"
    assert "summary" in text, "chapter must close with a summary"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib widget" in code, "live figures need the ipympl backend"


def test_chapters_in_reading_order():
    numbers = [int(p.name[:2]) for p in CHAPTERS]
    assert numbers == list(range(len(numbers))), f"chapters must be numbered 00, 01, ... without gaps; got {numbers}"
