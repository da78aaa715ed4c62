"""Legends of every live figure stay clear of what moves: no moving artist is ever drawn over a legend.

For every live figure of the course (``LIVE_WIDGETS``), each slider is swept
over its whole range (every option, or evenly spaced values from its minimum
to its maximum) with the other sliders where the chapter starts them, and then
every corner of the sliders' ranges is visited. After each step the window
extent of every visible moving artist (cut to its clip box: what is clipped
away is not drawn) must not overlap the window extent of any legend.
"""

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from widget_checks import LIVE_WIDGETS, assert_no_callback_errors  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")

STEPS = 9  # values per numeric slider, ends included
SLACK = 0.5  # pixels: boxes that only touch do not overlap


def sweep_values(s, n=STEPS):
    """Every option of a selection slider; else ``n`` values from ``min`` to ``max`` on the slider's grid."""
    options = getattr(s, "options", None)
    if options:
        return [o[1] if isinstance(o, tuple) else o for o in options]
    lo, hi, step = s.min, s.max, s.step
    values = sorted({min(hi, lo + round((hi - lo) * t / step) * step) for t in np.linspace(0.0, 1.0, n)})
    if hasattr(s, "base"):  # FloatLogSlider: min, max and step are exponents
        values = [s.base**v for v in values]
    return values


def drawn_extent(artist, renderer):
    """Window extent of ``artist``, cut to its clip box; ``None`` if nothing of it is drawn."""
    box = artist.get_window_extent(renderer)
    if not np.all(np.isfinite(box.get_points())):
        return None
    if isinstance(artist, Line2D) and artist.get_linestyle() not in ("None", " ", ""):
        box = box.padded(artist.get_linewidth() * artist.figure.dpi / 72 / 2)  # matplotlib pads markers only
    clip = artist.get_clip_box() if artist.get_clip_on() else None
    if clip is not None:
        box = Bbox.intersection(box, clip)
    return box


def overlap(a, b):
    both = Bbox.intersection(a, b)
    return both is not None and both.width > SLACK and both.height > SLACK


def legends(fig):
    found = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [leg for leg in found + list(fig.legends) if leg.get_visible()]


def clashes(app):
    renderer = app.fig.canvas.get_renderer()
    boxes = [(leg, leg.get_window_extent(renderer)) for leg in legends(app.fig)]
    found = []
    for artist in app.blitter.moving:
        if not artist.get_visible():
            continue
        box = drawn_extent(artist, renderer)
        if box is None:
            continue
        for leg, leg_box in boxes:
            if overlap(box, leg_box):
                title = leg.axes.get_title() if leg.axes is not None else "figure"
                found.append(f"{type(artist).__name__} {artist.get_label()!r} over the legend of {title!r}")
    return found


def states(app):
    """Each slider over its range (the others at their start), then every corner of the ranges."""
    start = {name: s.value for name, s in app.sliders.items()}
    wanted = [{**start, name: value} for name, s in app.sliders.items() for value in sweep_values(s)]
    ends = [(name, (sweep_values(s)[0], sweep_values(s)[-1])) for name, s in app.sliders.items()]
    wanted += [dict(zip((name for name, _ in ends), corner)) for corner in itertools.product(*(v for _, v in ends))]
    seen = set()
    for state in wanted:
        key = tuple(sorted(state.items()))
        if key not in seen:
            seen.add(key)
            yield state


@pytest.mark.parametrize("chapter, name, sliders, build", LIVE_WIDGETS, ids=[f"{c[0]}-{c[1]}" for c in LIVE_WIDGETS])
def test_no_moving_artist_is_drawn_over_a_legend(chapter, name, sliders, build):
    app = build()
    app.fig.canvas.draw()
    problems = {}
    for state in states(app):
        for slider, value in state.items():
            app.sliders[slider].value = value
        assert_no_callback_errors(app)
        for clash in clashes(app):
            problems.setdefault(clash, state)
    assert not problems, f"{name}: " + "; ".join(f"{clash} at {state}" for clash, state in problems.items())


def test_the_check_sees_a_line_crossing_a_legend():
    """The check itself: a moving line through the legend is caught, the same line beside it is not."""
    import ipywidgets as widgets

    from nablakit.widgets._base import live_figure, new_figure

    fig, ax = new_figure(figsize=(4, 3), layout="constrained")
    ax.plot([0, 1], [0.9, 0.9], label="static")
    ax.set(xlim=(0, 1), ylim=(0, 1), title="t", xlabel="x", ylabel="y")
    ax.legend(loc="upper right")
    (line,) = ax.plot([0, 1], [0, 0], lw=3, label="moving")
    s = widgets.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="height")
    app = live_figure(fig, {"h": s}, {"line": line}, lambda h: line.set_ydata([h, h]))
    app.fig.canvas.draw()
    assert clashes(app) == []
    s.value = 0.95
    assert clashes(app) == ["Line2D 'moving' over the legend of 't'"]
    line.set_ydata([5.0, 5.0])  # outside the axes: clipped away, so nothing is drawn over the legend
    assert clashes(app) == []


def test_every_live_figure_of_the_package_is_swept():
    """Each factory in ``nablakit.widgets`` that returns a ``live_figure`` is in ``LIVE_WIDGETS``."""
    import ast
    import importlib
    import inspect
    import pkgutil

    import nablakit.widgets as package

    factories = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        tree = ast.parse(inspect.getsource(importlib.import_module(f"nablakit.widgets.{info.name}")))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(n, ast.Call) and getattr(n.func, "id", None) == "live_figure" for n in ast.walk(node)):
                factories.add(node.name)
    assert factories == {name.split("[")[0] for _, name, _, _ in LIVE_WIDGETS}
