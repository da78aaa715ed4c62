"""House style of every chapter found in course/, checked on the notebook files (no kernel needed).

One title style, learning goals first, a summary with an "I can" checklist and
the exact exercise folders last, a "**Figure:**" caption after every cell that
shows a figure, short code cells, and self-checks that name stored questions.
"""

import re
from fnmatch import fnmatch

import nbformat
import pytest

from course_map import CHAPTERS as TABLE
from course_map import CHAPTER_PATTERN, EXERCISE_PATTERN, ROOT, chapter_files
from nablakit.selfcheck import QUESTIONS

CHAPTERS = chapter_files()
# A code cell shows a figure when it ends by calling a factory or explorer.
SHOWS_FIGURE = re.compile(r"(_figure|_explorer|_teaser)\(.*\)\s*$|^\w+_app\s*$")


@pytest.fixture(scope="module", params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    number = request.param.name.split("-")[0]
    assert number in TABLE, f"chapter {number} is missing from the chapter table in tests/course_map.py"
    return number, nbformat.read(request.param, as_version=4)


def test_new_chapters_and_exercises_are_found_by_their_names():
    assert all(fnmatch(n, CHAPTER_PATTERN) for n in ("00-welcome.ipynb", "10-chain-rule.ipynb", "123-x-y.ipynb"))
    assert not any(fnmatch(n, CHAPTER_PATTERN) for n in ("welcome.ipynb", "1-x.ipynb", "draft-10.ipynb"))
    assert all(fnmatch(n, EXERCISE_PATTERN) for n in ("ex01-partial-derivatives", "ex11-backpropagation"))


def test_the_table_lists_exactly_the_chapters_in_course():
    assert sorted(TABLE) == [p.name.split("-")[0] for p in CHAPTERS], "tests/course_map.py and course/ disagree"


def readme_chapter_rows():
    """(number, topic, exercise numbers) of each row of the README's chapter table."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d{2,}) \| ([^|]+?) \| ([^|]+?) \|$", text, flags=re.M)
    return [(n, topic, [] if ex.strip() in ("–", "-") else [int(e) for e in ex.split(",")]) for n, topic, ex in rows]


def test_readme_chapter_table_matches_the_chapter_table():
    rows = readme_chapter_rows()
    assert [n for n, _, _ in rows] == sorted(TABLE), "the README's chapter table lists other chapters"
    for number, topic, exercises in rows:
        title, folders = TABLE[number]
        assert topic.startswith(title), f"README row {number}: topic {topic!r} should start with {title!r}"
        assert exercises == [int(f[2:4]) for f in folders], f"README row {number}: exercises {exercises}"


def test_title_learning_goals_and_closing(chapter):
    number, nb = chapter
    assert nb.cells[0].source.splitlines()[0] == f"# {number} · {TABLE[number][0]}"
    head = "\n".join(c.source for c in nb.cells[:2])
    assert "## Learning goals" in head and "you will be able to" in head
    tail = "\n".join(c.source for c in nb.cells[-3:] if c.cell_type == "markdown")
    assert "## Summary" in tail and "### Check yourself" in tail
    assert len(re.findall(r"^- \[ \] I can", tail, flags=re.M)) >= 3, "an 'I can ...' checklist"
    assert "### Graded exercise" in tail
    for folder in TABLE[number][1]:
        assert f"`exercises/{folder}/`" in tail, f"chapter {number} must point to exercises/{folder}/"
    assert "`exercises/ex" in tail, f"chapter {number} must point to an exercise folder"


def test_sections_are_numbered_in_order(chapter):
    _, nb = chapter
    titles = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
              if line.startswith("## ") and line not in ("## Learning goals", "## Summary")]
    assert titles == [f"## {i}. {t.split('. ', 1)[1]}" for i, t in enumerate(titles, 1)]


def test_every_figure_has_a_caption_right_after(chapter):
    _, nb = chapter
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and SHOWS_FIGURE.search(cell.source.strip().splitlines()[-1]):
            after = nb.cells[i + 1]
            assert after.cell_type == "markdown" and after.source.startswith("**Figure:**"), (
                f"cell {i} shows a figure; cell {i + 1} must start with '**Figure:**'"
            )


def test_code_cells_are_short_and_clean(chapter):
    _, nb = chapter
    lengths = sorted(len(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")
    assert lengths[-1] <= 25 and lengths[len(lengths) // 2] <= 4, lengths
    text = "\n".join(c.source for c in nb.cells)
    assert "TODO" not in text and "FIXME" not in text and "import matplotlib.pyplot" not in text
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is None and not cell.outputs


def test_try_it_cells_use_stored_questions(chapter):
    number, nb = chapter
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    keys = [m for s in sources for m in re.findall(r'^check\("([^"]+)", my_answer\)$', s, flags=re.M)]
    answers = [s for s in sources if s.startswith("my_answer = None")]
    assert len(keys) == len(answers) >= 1, "each Try it: an answer cell and a check cell"
    assert len(keys) <= 4, "chapter 00 promises one to four Try-it questions per chapter"
    assert all(k in QUESTIONS and k.startswith(f"{number}.") for k in keys), keys
    assert "self_check(" not in "\n".join(sources), "use check('NN.topic', my_answer): it keeps the answer out of sight"


def test_section_headings_open_their_cells(chapter):
    _, nb = chapter
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for j, line in enumerate(cell.source.splitlines()):
            if re.match(r"## \d+\. ", line):
                assert j == 0, f"cell {i}: {line!r} must be the first line of its own markdown cell"


def test_chapter_numbers_have_two_digits(chapter):
    _, nb = chapter
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    chain = r"\b[Cc]hapters? (\d+)((?:(?:,| and| or| to) \d+\b)*)"
    for m in re.finditer(chain, text):
        numbers = [m.group(1), *re.findall(r"\d+", m.group(2))]
        assert all(len(n) == 2 for n in numbers), f"write chapter numbers with two digits: {m.group(0)!r}"
