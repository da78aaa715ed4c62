"""Widgets and figures of chapter 01 (nablakit.widgets.partials): sliders move the right artists, in place.

Each factory is built under Agg; a slider is moved to a few values and the
artists' data is compared with values computed here, independently of the
widget code. No callback may create a figure or an axes.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets import partials  # noqa: E402
from widget_checks import assert_labelled, assert_no_callback_errors, count_redraws, counts  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


def f01(x, y):
    return x**2 * y + np.sin(y)


def f01_x(x, y):
    return 2 * x * y


def f01_y(x, y):
    return x**2 + np.cos(y)


def g_scalar(x, y):
    """Clairaut's counterexample, written scalar-only as in the chapter."""
    if x == 0 and y == 0:
        return 0.0
    return x * y * (x**2 - y**2) / (x**2 + y**2)


def k_scalar(x, y):
    if x == 0 and y == 0:
        return 0.0
    return x * y / (x**2 + y**2)


@pytest.fixture(scope="module")
def slices():
    return partials.slice_explorer(f01)


@pytest.mark.parametrize("x0, y0", [(1.0, 1.0), (-1.5, 0.5), (0.0, -2.0), (2.0, 0.0), (0.7, -0.8)])
def test_slice_explorer_moves_lines_slices_and_tangents(slices, x0, y0):
    app = slices
    before = counts(app)
    redraws = count_redraws(app)
    app.sliders["x0"].value = x0
    app.sliders["y0"].value = y0
    assert redraws or (x0, y0) == (1.0, 1.0)  # (1, 1) is where the explorer starts
    a = app.artists
    assert np.allclose(a["hline"].get_ydata(), [y0, y0])
    assert np.allclose(a["vline"].get_xdata(), [x0, x0])
    assert np.allclose(np.ravel(a["point"].get_data()), [x0, y0])
    xs, ys = a["slice_x"].get_xdata(), a["slice_y"].get_xdata()
    assert np.allclose(a["slice_x"].get_ydata(), f01(xs, y0))
    assert np.allclose(a["slice_y"].get_ydata(), f01(x0, ys))
    z0 = f01(x0, y0)
    assert np.allclose(a["tangent_x"].get_ydata(), z0 + f01_x(x0, y0) * (xs - x0), atol=1e-6)
    assert np.allclose(a["tangent_y"].get_ydata(), z0 + f01_y(x0, y0) * (ys - y0), atol=1e-6)
    assert np.allclose(np.ravel(a["dot_x"].get_data()), [x0, z0])
    assert np.allclose(np.ravel(a["dot_y"].get_data()), [y0, z0])
    assert f"{f01_x(x0, y0):.3f}".replace("-0.000", "0.000") in a["text_x"].get_text().replace("-0.000", "0.000")
    assert f"{f01_y(x0, y0):.3f}" in a["text_y"].get_text()
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_slice_explorer_accepts_a_scalar_only_function():
    app = partials.slice_explorer(g_scalar, xlim=(-1, 1), ylim=(-1, 1), x0=0.5, y0=0.5)
    count_redraws(app)
    app.sliders["y0"].value = -0.25
    xs = app.artists["slice_x"].get_xdata()
    assert np.allclose(app.artists["slice_x"].get_ydata(), [g_scalar(v, -0.25) for v in xs])
    assert_no_callback_errors(app)
    assert_labelled(app.fig)
    assert all("₀" in s.description for s in app.sliders.values())


def test_slice_explorer_validates_input():
    with pytest.raises(TypeError, match="f must be callable"):
        partials.slice_explorer(3.0)
    with pytest.raises(ValueError, match="inside"):
        partials.slice_explorer(f01, x0=5.0)
    with pytest.raises(ValueError, match="xlim"):
        partials.slice_explorer(f01, xlim=(1.0, -1.0))


@pytest.mark.parametrize("axis", ["x", "y"])
def test_secant_explorer_turns_secant_into_tangent(axis):
    app = partials.secant_explorer(f01, x0=1.0, y0=1.0, axis=axis)
    before = counts(app)
    redraws = count_redraws(app)
    ts = app.artists["secant"].get_xdata()
    exact = 2.0 if axis == "x" else 1.0 + np.cos(1.0)
    move = (lambda s: f01(1.0 + s, 1.0)) if axis == "x" else (lambda s: f01(1.0, 1.0 + s))
    errors = []
    for step in (1.0, 0.3, 0.01, 0.001):
        app.sliders["h"].value = step
        step = app.sliders["h"].value  # the log slider snaps to its grid
        quotient = (move(step) - move(0.0)) / step
        assert np.allclose(np.ravel(app.artists["moved"].get_data()), [1.0 + step, move(step)])
        assert np.allclose(app.artists["secant"].get_ydata(), move(0.0) + quotient * (ts - 1.0))
        assert f"{quotient:.5f}" in app.artists["text"].get_text()
        errors.append(abs(quotient - exact))
    assert errors == sorted(errors, reverse=True) and errors[-1] < 2e-3
    assert len(redraws) == 3  # the first value equals the start value: no change, no redraw
    assert np.allclose(app.artists["tangent"].get_ydata(), move(0.0) + exact * (ts - 1.0), atol=1e-6)
    assert counts(app) == before
    assert_no_callback_errors(app)
    assert_labelled(app.fig)
    assert app.sliders["h"].description == "step h"


def test_secant_explorer_validates_input():
    with pytest.raises(ValueError, match="axis"):
        partials.secant_explorer(f01, axis="z")
    with pytest.raises(ValueError, match="h must lie"):
        partials.secant_explorer(f01, h=5.0)


def test_mixed_partials_figure_shows_slopes_minus_one_and_plus_one():
    before = len(plt.get_fignums())
    fig = partials.mixed_partials_figure(g_scalar)
    assert len(plt.get_fignums()) == before + 1
    ax = fig.axes[1]
    (gx_line, gy_line) = ax.lines[:2]
    ts = gx_line.get_xdata()
    assert np.allclose(gx_line.get_ydata(), -ts, atol=1e-6)
    assert np.allclose(gy_line.get_ydata(), ts, atol=1e-6)
    assert_labelled(fig)


def test_paths_figure_values_depend_on_the_path():
    slopes = (0.0, 0.5, 1.0, -1.0)
    fig = partials.paths_figure(k_scalar, slopes=slopes)
    lines = fig.axes[1].lines
    assert len(lines) == len(slopes)
    for line, mm in zip(lines, slopes):
        assert np.allclose(line.get_ydata(), mm / (1 + mm**2))
    assert_labelled(fig)
