"""Every chapter as a student meets it: opened in JupyterLab, Run All, widgets live.

Each chapter is opened once (module-scoped fixture, one chapter at a time in
the session's page), run top to bottom through JupyterLab's own "Run All
Cells" command, and then checked: no error or stderr in any cell, every
widget rendered, every live figure drawn, and a slider moved with the
keyboard redraws its canvas. Every slider of every live figure is then moved
through a sequence of values, and the canvas must equal a full redraw in the
kernel at the same values (no stale pixels from blitting), also after a
burst of values set from the kernel faster than the browser draws them; no slider
description may be cut off. A screenshot of each chapter goes to
``test-artifacts/screenshots/``, and one after the slider moves to
``<chapter>-after-sliders.png``.
"""

import hashlib
import inspect
import json
import time

import pytest

import test_accessibility as a11y
from browser import live
from browser.lab import ROOT
from course_map import chapter_files
from notebook_runner import problem_outputs

pytestmark = pytest.mark.xdist_group("browser")

CHAPTERS = chapter_files()
# The course outline lets chapter 08 (gradient checking) teach with tables instead of a slider.
WIDGET_FREE = {"08"}
RUN_TIMEOUT = 90
# Canvas pixels (channel difference > 2) allowed to differ from a full redraw after slider moves.
STALE_TOLERANCE = 1e-4
# The accessibility checks of tests/test_accessibility.py, run in the chapter's kernel on every
# matplotlib figure the chapter made (widget factories and inline plt.subplots alike).
_A11Y_SETUP = "\n".join([
    "import re",
    f"SAFE_CMAPS = {a11y.SAFE_CMAPS!r}",
    *(inspect.getsource(f) for f in (a11y._is_colorbar, a11y._has_label, a11y.axes_problems, a11y.cmap_problems)),
    "def _nablakit_figure_problems():",
    "    import json, matplotlib.pyplot as plt",
    "    found = []",
    "    for num in plt.get_fignums():",
    "        fig = plt.figure(num)",
    "        name = fig._suptitle.get_text() if fig._suptitle else next((a.get_title() for a in fig.axes), '')",
    "        found += [f'figure {name!r}: {p}' for p in axes_problems(fig) + cmap_problems(fig)]",
    "    return json.dumps(found)",
])


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request, student_page, screenshot_dir):
    """Open, run and inspect one chapter; close it (kernel shut down, nothing saved) afterwards."""
    path = request.param
    before = _digest(path)
    lab = student_page
    console_start = len(lab.console)
    start = time.perf_counter()
    lab.open_notebook(path.relative_to(ROOT))
    try:
        run_seconds = lab.run_all(timeout=RUN_TIMEOUT)
        rendered = lab.wait_widgets_rendered()
        figures = lab.figures()
        figure_problems = json.loads(lab.kernel_eval(_A11Y_SETUP, "_nablakit_figure_problems()"))
        shot = screenshot_dir / f"{path.stem}.png"
        lab.screenshot_output(figures[0]["index"] if figures else 0, shot)
        state = {
            "path": path,
            "lab": lab,
            "notebook": lab.notebook(),
            "dom_problems": lab.dom_problems(),
            "figures": figures,
            "rendered": rendered,
            "figure_problems": figure_problems,
            "run_seconds": run_seconds,
            "screenshot": shot,
            "console_start": console_start,
        }
        yield state
    finally:
        lab.close_notebook()
    with open(screenshot_dir.parent / "browser-timings.txt", "a") as log:
        log.write(f"{path.stem}: Run All {run_seconds:.1f} s, open+run+checks {time.perf_counter() - start:.1f} s, "
                  f"{sum(bool(f['canvases']) for f in figures)} live figures, {sum(f['sliders'] for f in figures)} "
                  f"sliders, {sum(f['images'] for f in figures)} images; screenshot {shot.relative_to(ROOT)}\n")
    assert _digest(path) == before, f"{path.name} was modified on disk by the browser test"


def test_cells_run_without_error_output(chapter):
    problems = problem_outputs(chapter["notebook"])
    assert not problems, "\n".join(f"cell {i}: {text[:400]}" for i, text in problems)
    assert not chapter["dom_problems"], "\n".join(chapter["dom_problems"])
    code_cells = [c for c in chapter["notebook"].cells if c.cell_type == "code" and c.source.strip()]
    not_run = [i for i, c in enumerate(code_cells) if c.execution_count is None]
    assert not not_run, f"code cells {not_run} did not run"


def test_widgets_render_and_figures_are_live(chapter):
    figures = chapter["figures"]
    stem = chapter["path"].stem
    assert chapter["rendered"], (f"{stem}: 60 s after Run All, some widget views, images or canvases "
                                 f"were still not rendered: {chapter['lab'].render_state}")
    if stem[:2] not in WIDGET_FREE:
        assert any(f["sliders"] for f in figures), f"{stem}: no slider rendered"
        assert any(f["canvases"] for f in figures), f"{stem}: no ipympl canvas rendered"
    assert figures, f"{stem}: shows no figure at all"
    blank = [f["index"] for f in figures if f["canvases"] and not f["live"]]
    assert not blank, f"{stem}: canvases of outputs {blank} are blank (figure never drawn)"
    unlabelled = [f["index"] for f in figures if any(not label.strip() for label in f["labels"])]
    assert not unlabelled, f"{stem}: outputs {unlabelled} have sliders without a label"


def test_figures_titled_labelled_colour_blind_safe(chapter):
    """Every figure in the kernel: titles, axis labels (3-D: z too), safe colour maps; sliders described."""
    problems = list(chapter["figure_problems"])
    for figure in chapter["figures"]:
        problems += [f"output {figure['index']}: slider label {label!r} does not name its quantity"
                     for label in figure["labels"] if not a11y.re.search(r"[^\W\d_]{2,}", label)]
    assert not problems, chapter["path"].stem + ":\n  " + "\n  ".join(problems)


def test_keyboard_slider_redraws_canvas(chapter):
    lab = chapter["lab"]
    pairs = [f for f in chapter["figures"] if f["sliders"] and f["canvases"]]
    if not pairs:
        pytest.skip(f"{chapter['path'].stem} has no slider driving a figure")
    stuck = []
    for figure, (latency, moved) in zip(pairs, lab.press_sliders([f["index"] for f in pairs], presses=2)):
        if not moved:
            stuck.append(f"output {figure['index']}: the arrow keys did not move the slider")
        elif latency is None:
            stuck.append(f"output {figure['index']}: slider moved but the canvas did not change")
    assert not stuck, "\n".join(stuck)


def test_no_console_errors(chapter):
    errors = chapter["lab"].console[chapter["console_start"]:]
    assert not errors, "\n".join(f"{kind}: {text[:300]}" for kind, text in errors)


def test_slider_descriptions_are_not_cut_off(chapter):
    clipped = live.clipped_labels(chapter["lab"])
    assert not clipped, f"{chapter['path'].stem}: slider descriptions cut off in a 1400-px window: {clipped}"


def test_no_stale_pixels_after_slider_moves(chapter, screenshot_dir):
    """Blitting leaves no ghost, trail or missing artist: the canvas equals a full redraw at the same values."""
    lab = chapter["lab"]
    figures = live.live_figures(lab)
    if not figures:
        pytest.skip(f"{chapter['path'].stem} has no live figure")
    problems = []
    for figure in figures:
        for slider in range(figure["sliders"]):
            # a zig-zag: three steps one way and one back, pressed as fast as the keyboard sends them
            live.press(lab, figure["index"], slider, "ArrowRight", 3)
            live.press(lab, figure["index"], slider, "ArrowLeft", 1)
            diff, _, _ = live.compare_with_full_redraw(lab, figure)
            if diff > STALE_TOLERANCE:
                problems.append(f"output {figure['index']} slider {slider} ({figure['labels'][slider]!r}): "
                                f"{diff:.2%} of the canvas differs from a full redraw")
        # a fast drag: frames leave the kernel faster than the browser decodes them, and some are lost
        live.kernel_burst(lab, figure["ordinal"], 0)
        diff, _, _ = live.compare_with_full_redraw(lab, figure)
        if diff > STALE_TOLERANCE:
            problems.append(f"output {figure['index']}: after a burst of values on slider 0, "
                            f"{diff:.2%} of the canvas differs from a full redraw")
    lab.screenshot_output(figures[0]["index"], screenshot_dir / f"{chapter['path'].stem}-after-sliders.png")
    assert not problems, "\n".join(problems)
