"""Widgets of chapters 00-02: sliders move the right artists to the right data, in place.

Each factory is built under Agg; a slider is moved to a few values and the
artists' data is compared with values computed here, independently of the
widget code. No callback may create a figure or an axes.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.selfcheck import QUESTIONS, check, compare, self_check  # noqa: E402
from nablakit.widgets import welcome  # noqa: E402
from widget_checks import assert_labelled, count_redraws, counts  # noqa: E402


def assert_no_callback_errors(app):
    assert not app.errors.outputs, f"a callback failed: {app.errors.outputs}"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- chapter 00

def test_tangent_teaser_moves_point_and_tangent_in_place():
    app = welcome.tangent_teaser()
    before = counts(app)
    redraws = count_redraws(app)
    xs = app.artists["tangent"].get_xdata()
    for x0 in (-2.0, -0.5, 0.0, 1.3, 2.0):
        app.sliders["x0"].value = x0
        px, py = app.artists["point"].get_data()
        assert np.allclose([px[0], py[0]], [x0, x0**2])
        assert np.allclose(app.artists["tangent"].get_ydata(), x0**2 + 2 * x0 * (xs - x0))
        assert f"{2 * x0:.1f}" in app.artists["label"].get_text()
    assert len(redraws) == 5
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_tangent_teaser_has_labels_and_rejects_bad_start():
    app = welcome.tangent_teaser()
    assert_labelled(app.fig)
    assert app.sliders["x0"].description
    assert (app.sliders["x0"].min, app.sliders["x0"].max) == (-2.0, 2.0)  # "the slider stops at 2"
    with pytest.raises(ValueError, match="x0"):
        welcome.tangent_teaser(x0=5.0)


def test_environment_report_lists_course_packages():
    versions = welcome.environment_versions()
    assert list(versions)[0] == "python"
    assert set(welcome.PACKAGES) <= set(versions)
    assert welcome.missing_packages(versions) == []
    text = " ".join(f"{k} {v}" for k, v in versions.items())
    assert "Warning" not in text and "Error" not in text
    with pytest.raises(TypeError, match="packages"):
        welcome.environment_versions("numpy")


# ------------------------------------------------------------- self-checks

@pytest.mark.parametrize(
    "answer, expected, status",
    [
        (None, 1.0, "missing"),
        ([1.0, None], [1.0, 2.0], "missing"),
        (1.0, 1.0, "correct"),
        (np.array([[3.0], [4.0]]), [3.0, 4.0], "correct"),
        (1.004, 1.0, "close"),
        (-1.0, 1.0, "wrong"),
        (float("nan"), 1.0, "wrong"),
        ([1, 2, 3], [1, 2], "shape"),
        ("one", 1.0, "unreadable"),
        ({"a": 1}, 1.0, "unreadable"),
        (object(), 1.0, "unreadable"),
    ],
)
def test_compare_statuses(answer, expected, status):
    assert compare(answer, expected) == status


def test_self_check_never_raises_and_avoids_alarming_words(capsys):
    for answer in (None, "x", object(), [None], np.inf, [1, 2, 3], 2.0, -2.0):
        self_check(answer, 2.0, hint="look again")
    out = capsys.readouterr().out
    assert "Correct!" in out and "Not answered yet" in out and "Hint: look again" in out
    assert "Error" not in out and "Warning" not in out


def test_check_every_question_accepts_its_answer_and_rejects_others(capsys):
    for name, question in QUESTIONS.items():
        check(name, question.expected)
        assert capsys.readouterr().out.startswith("Correct!"), name
        check(name, np.asarray(question.expected, dtype=float) + 1.0)
        assert capsys.readouterr().out.startswith("Not quite. Hint:"), name
        check(name, None)
        assert capsys.readouterr().out.startswith("Not answered yet"), name
    check("00.nope", 1.0)
    assert "no self-check" in capsys.readouterr().out


# ---------------------------------------------------------------- chapter 01

from nablakit.widgets import partials  # noqa: E402


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


# ---------------------------------------------------------------- chapter 02

from nablakit.widgets import gradient  # noqa: E402

SURFACES = {
    "paraboloid": (lambda x, y: x**2 + y**2, lambda x, y: (2 * x, 2 * y)),
    "saddle": (lambda x, y: x**2 - y**2, lambda x, y: (2 * x, -2 * y)),
}


@pytest.fixture(scope="module", params=sorted(SURFACES))
def explorer(request):
    return request.param, gradient.gradient_explorer(request.param)


def test_gradient_explorer_moves_arrow_point_and_plane(explorer):
    name, app = explorer
    fun, grad = SURFACES[name]
    before = counts(app)
    redraws = count_redraws(app)
    w = 0.5
    for x0, y0 in [(1.0, 0.5), (-1.5, 1.2), (0.0, 0.0), (2.0, -2.0), (0.3, -0.7)]:
        app.sliders["x0"].value = x0
        app.sliders["y0"].value = y0
        a = app.artists
        gx, gy = grad(x0, y0)
        z0 = fun(x0, y0)
        assert np.allclose(np.ravel(a["point"].get_data()), [x0, y0])
        assert np.allclose(a["arrow"].get_offsets(), [[x0, y0]])
        assert np.allclose([a["arrow"].U[0], a["arrow"].V[0]], [gx, gy])
        assert f"{gx:+.2f}" in a["text"].get_text() and f"{gy:+.2f}" in a["text"].get_text()
        assert np.allclose(np.ravel(a["point3d"].get_data_3d()), [x0, y0, z0])
        # the plane's outline: a closed rectangle around the point, inside the window, on the plane
        px, py, pz = a["plane"].get_data_3d()
        assert np.allclose([px[0], py[0], pz[0]], [px[-1], py[-1], pz[-1]])
        assert np.allclose(sorted({*np.round(px, 9)}), [max(x0 - w, -2), min(x0 + w, 2)])
        assert np.allclose(sorted({*np.round(py, 9)}), [max(y0 - w, -2), min(y0 + w, 2)])
        assert np.allclose(pz, z0 + gx * (px - x0) + gy * (py - y0))
        # the two slice tangents go through the point with slopes df/dx and df/dy
        lx, ly, lz = a["line_x"].get_data_3d()
        assert np.allclose(ly, y0) and np.allclose(lz, z0 + gx * (lx - x0))
        mx, my, mz = a["line_y"].get_data_3d()
        assert np.allclose(mx, x0) and np.allclose(mz, z0 + gy * (my - y0))
    assert len(redraws) >= 4
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_gradient_explorer_figure_is_labelled_and_validates():
    app = gradient.gradient_explorer("saddle")
    assert_labelled(app.fig)
    assert all(s.description for s in app.sliders.values())
    with pytest.raises(ValueError, match="window"):
        gradient.gradient_explorer("paraboloid", x0=3.0)
    with pytest.raises(TypeError, match="function"):
        gradient.gradient_explorer(42)


def test_quiver_fields_figure_arrows_are_the_gradients():
    fig = gradient.quiver_fields_figure(["paraboloid", "saddle"])
    assert len(fig.axes) == 2
    for ax, name in zip(fig.axes, ["paraboloid", "saddle"]):
        (quiver,) = [c for c in ax.collections if type(c).__name__ == "Quiver"]
        pts = quiver.get_offsets()
        assert len(pts) == 121
        gx, gy = SURFACES[name][1](pts[:, 0], pts[:, 1])
        assert np.allclose(quiver.U, gx) and np.allclose(quiver.V, gy)
        assert name in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="arrows"):
        gradient.quiver_fields_figure(arrows=1)


def test_tangent_plane_and_patch():
    assert np.allclose(gradient.tangent_plane(1.0, [2.0, 3.0], [0.0, 0.0], [[1.0, 1.0], [0.0, -1.0]]), [6.0, -2.0])
    outline, lx, ly = gradient.tangent_patch(1.0, [2.0, 3.0], [0.0, 0.0], 0.5)
    assert np.allclose(outline[:, 2], 1.0 + 2.0 * outline[:, 0] + 3.0 * outline[:, 1])
    assert np.allclose(lx, [[-0.5, 0.0, 0.0], [0.5, 0.0, 2.0]])
    assert np.allclose(ly, [[0.0, -0.5, -0.5], [0.0, 0.5, 2.5]])
    with pytest.raises(ValueError, match="inside"):
        gradient.tangent_patch(0.0, [1.0, 1.0], [3.0, 0.0], 0.5, xlim=(-2, 2))
    with pytest.raises(ValueError, match="half_width"):
        gradient.tangent_patch(0.0, [1.0, 1.0], [0.0, 0.0], 0.0)


def test_counting_questions_have_no_very_close_band(capsys):
    check("07.evaluations", 50_001)  # off by one is wrong, not "rounded"
    assert capsys.readouterr().out.startswith("Not quite. Hint:")
    check("07.evaluations", 25_001)  # the forward-difference count
    assert "x - h e_i" in capsys.readouterr().out
    check("07.best-exponent", -5)  # the prompt's own style of answer
    assert capsys.readouterr().out.startswith("Correct!")
