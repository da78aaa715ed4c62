"""The course as the tests see it: the one chapter table, and what the tree holds.

Chapters and exercises are *found* in the tree (``course/NN-*.ipynb``,
``solutions/exNN-*/``), so a new chapter or exercise is checked with no test
edit. What cannot be found, each chapter's title and the exercise folders
its summary points to, lives once in :data:`CHAPTERS`; the README's table
is checked against it (``tests/test_chapter_style.py``).

Adding a chapter: add its row here and to the README's table.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_PATTERN = "[0-9][0-9]*-*.ipynb"
EXERCISE_PATTERN = "ex[0-9][0-9]*-*"

#: number -> (title as in the notebook's first line "# NN · Title", exercise folders the summary names)
CHAPTERS = {
    "00": ("Welcome", ()),
    "01": ("Partial derivatives", ("ex01-partial-derivatives",)),
    "02": ("The gradient vector", ("ex01-partial-derivatives", "ex02-gradient-geometry", "ex04-matrix-calculus")),
    "03": ("The chain rule and backpropagation", ("ex11-backpropagation",)),
    "04": ("Directional derivatives", ("ex03-directional-derivatives",)),
    "05": ("Level sets", ("ex02-gradient-geometry", "ex10-loss-landscape")),
    "06": ("Gradients in machine learning",
           ("ex04-matrix-calculus", "ex05-linear-regression", "ex07-softmax-gradient")),
    "07": ("Finite differences", ("ex06-gradient-checking",)),
    "08": ("Gradient checking", ("ex06-gradient-checking", "ex07-softmax-gradient")),
    "09": ("Loss landscapes", ("ex08-natural-gradient", "ex10-loss-landscape")),
    "10": ("Gradients at training time", ("ex08-natural-gradient", "ex09-clipping-accumulation")),
}


def chapter_files():
    """Every chapter notebook, in reading order: ``course/NN-name.ipynb`` (two or more digits)."""
    return sorted((ROOT / "course").glob(CHAPTER_PATTERN), key=lambda p: int(p.name.split("-")[0]))


def exercise_names():
    """Every exercise folder of ``solutions/`` (``exNN-name``), in order."""
    found = [p.name for p in (ROOT / "solutions").glob(EXERCISE_PATTERN) if p.is_dir()]
    return sorted(found, key=lambda n: int(n[2:].split("-")[0]))
