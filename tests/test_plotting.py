"""Plot helpers under Agg: the right artist types, labels and colours."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.contour import QuadContourSet  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from nablakit.landscape import grid_eval  # noqa: E402
from nablakit.optimizers import gradient_descent  # noqa: E402
from nablakit.plotting import (  # noqa: E402
    CMAP,
    CYCLE,
    PALETTE,
    contour_plot,
    gradient_quiver,
    label_axes,
    plot_trajectory,
)
from nablakit.testfunctions import paraboloid, rosenbrock, saddle  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.fixture(scope="module")
def rosen_grid():
    tf = rosenbrock()
    return grid_eval(tf.f, tf.xlim, tf.ylim, n=60)


def test_palette_is_okabe_ito_and_cmap_is_colour_blind_safe():
    assert {v.upper() for v in PALETTE.values()} == {
        "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
    }
    assert set(CYCLE) == set(PALETTE.values()) and len(CYCLE) == 8
    assert CMAP in ("viridis", "cividis")
    matplotlib.colormaps[CMAP]  # exists


def test_contour_plot_returns_contour_set(ax, rosen_grid):
    X, Y, Z = rosen_grid
    cs = contour_plot(ax, X, Y, Z, levels=12)
    assert isinstance(cs, QuadContourSet) and not cs.filled
    assert cs.get_cmap().name == CMAP
    assert 1 <= len(cs.levels) <= 14


def test_contour_plot_explicit_filled_and_log_levels(ax, rosen_grid):
    X, Y, Z = rosen_grid
    cs = contour_plot(ax, X, Y, Z, levels=[1.0, 10.0, 100.0])
    assert np.allclose(cs.levels, [1.0, 10.0, 100.0])
    filled = contour_plot(ax, X, Y, Z, levels=8, filled=True)
    assert isinstance(filled, QuadContourSet) and filled.filled
    logc = contour_plot(ax, X, Y, Z, levels=10, log=True)
    ratios = logc.levels[1:] / logc.levels[:-1]
    assert len(logc.levels) == 10 and np.allclose(ratios, ratios[0]), "log levels are geometric"


def test_contour_plot_tolerates_nan_cells(ax):
    X, Y, Z = grid_eval(paraboloid().f, (-1, 1), (-1, 1), n=20)
    Z = Z.copy()
    Z[0, :5] = np.nan
    Z[3, 3] = np.inf
    assert isinstance(contour_plot(ax, X, Y, Z, levels=5), QuadContourSet)


def test_contour_plot_errors(ax):
    X, Y, Z = grid_eval(paraboloid().f, (-1, 1), (-1, 1), n=10)
    with pytest.raises(TypeError, match="ax"):
        contour_plot("not axes", X, Y, Z)
    with pytest.raises(ValueError, match="X"):
        contour_plot(ax, X[:5], Y, Z)
    with pytest.raises(ValueError, match="Z"):
        contour_plot(ax, X, Y, Z.ravel())
    with pytest.raises(ValueError, match="Z"):
        contour_plot(ax, X, Y, np.full_like(Z, np.nan))
    with pytest.raises(ValueError, match="levels"):
        contour_plot(ax, X, Y, Z, levels=[3.0, 1.0])
    with pytest.raises(ValueError, match="levels"):
        contour_plot(ax, X, Y, Z, levels=0)
    with pytest.raises(ValueError, match="log"):
        contour_plot(ax, X, Y, -Z - 1, levels=5, log=True)


def test_gradient_quiver_returns_quiver_with_the_vectors(ax):
    tf = saddle()
    pts = np.array([[1.0, 0.5], [-0.5, 1.0], [0.0, 0.0]])
    vec = tf.grad(pts.T).T
    q = gradient_quiver(ax, pts, vec)
    assert isinstance(q, Quiver)
    assert np.allclose(q.U, vec[:, 0]) and np.allclose(q.V, vec[:, 1])
    assert np.allclose(q.get_offsets(), pts)
    assert np.allclose(q.get_facecolor()[0][:3], to_rgb(PALETTE["vermillion"]))
    assert q.angles == "xy"


def test_gradient_quiver_normalize_and_scale(ax):
    pts = np.array([[0.0, 0.0], [1.0, 1.0]])
    vec = np.array([[0.0, 0.0], [3.0, 4.0]])
    q = gradient_quiver(ax, pts, vec, normalize=True, scale=1.0, color=PALETTE["blue"])
    assert np.allclose(q.U, [0.0, 0.6]) and np.allclose(q.V, [0.0, 0.8])
    assert q.scale == 1.0 and q.scale_units == "xy"


def test_gradient_quiver_errors(ax):
    pts = np.zeros((3, 2))
    with pytest.raises(TypeError, match="ax"):
        gradient_quiver(None, pts, pts)
    with pytest.raises(ValueError, match="points"):
        gradient_quiver(ax, np.zeros((3, 3)), pts)
    with pytest.raises(ValueError, match="vectors"):
        gradient_quiver(ax, pts, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="vectors"):
        gradient_quiver(ax, pts, np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="scale"):
        gradient_quiver(ax, pts, pts, scale=0)


def test_plot_trajectory_returns_line_with_the_path(ax):
    tf = rosenbrock()
    path = gradient_descent(tf.grad, [-1.5, 2.0], 1e-3, 30)
    line = plot_trajectory(ax, path, label="GD", color=PALETTE["orange"])
    assert isinstance(line, Line2D)
    assert line.get_label() == "GD" and line.get_marker() == "o"
    assert np.allclose(line.get_xdata(), path[:, 0]) and np.allclose(line.get_ydata(), path[:, 1])
    assert to_rgb(line.get_color()) == pytest.approx(to_rgb(PALETTE["orange"]))
    assert line in ax.get_lines()


def test_plot_trajectory_accepts_diverged_paths(ax):
    path = gradient_descent(paraboloid().grad, [1.0, 1.0], 1.5, 60)
    assert np.isnan(path[-1]).all()
    line = plot_trajectory(ax, path)
    assert isinstance(line, Line2D) and len(line.get_xdata()) == 61
    ax.figure.canvas.draw()  # NaN rows must not break drawing


def test_plot_trajectory_errors(ax):
    with pytest.raises(TypeError, match="ax"):
        plot_trajectory(plt.figure(), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="path"):
        plot_trajectory(ax, [0.0, 0.0])
    with pytest.raises(ValueError, match="path"):
        plot_trajectory(ax, np.zeros((0, 2)))
    with pytest.raises(TypeError, match="path"):
        plot_trajectory(ax, "path")
    with pytest.raises(TypeError, match="label"):
        plot_trajectory(ax, [[0.0, 0.0]], label=3)
    plt.close("all")


def test_label_axes_sets_and_returns_texts(ax):
    texts = label_axes(ax, r"$\theta_1$", r"$\theta_2$", "Rosenbrock valley")
    assert len(texts) == 3 and all(isinstance(t, Text) for t in texts)
    assert ax.get_xlabel() == r"$\theta_1$" and ax.get_ylabel() == r"$\theta_2$"
    assert ax.get_title() == "Rosenbrock valley"
    assert texts[2].get_text() == "Rosenbrock valley"


def test_label_axes_errors(ax):
    with pytest.raises(TypeError, match="ax"):
        label_axes(object(), "x", "y", "t")
    with pytest.raises(TypeError, match="title"):
        label_axes(ax, "x", "y", None)
    with pytest.raises(TypeError, match="xlabel"):
        label_axes(ax, 1, "y", "t")


def test_helpers_do_not_create_figures(rosen_grid):
    fig, ax = plt.subplots()
    before = (len(plt.get_fignums()), len(fig.axes))
    X, Y, Z = rosen_grid
    contour_plot(ax, X, Y, Z)
    gradient_quiver(ax, [[0.0, 0.0]], [[1.0, 0.0]])
    plot_trajectory(ax, [[0.0, 0.0], [1.0, 1.0]])
    label_axes(ax, "x", "y", "t")
    assert (len(plt.get_fignums()), len(fig.axes)) == before
    plt.close(fig)
