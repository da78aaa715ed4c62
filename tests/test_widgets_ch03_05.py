"""Widgets of chapters 04-06: moving a slider moves the right artists to the right places.

Every factory is built under Agg, each slider is set to several values, and
the artists' data are compared with values computed here independently of
the package. No callback may create a figure or axes.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets.directional import direction_explorer, subgradient_figure  # noqa: E402
from nablakit.widgets.level_sets import (  # noqa: E402
    EXAMPLE_MATRIX,
    KAPPA_LEVELS,
    condition_number_explorer,
    gradient_contour_figure,
    level_value_explorer,
)
from nablakit.widgets.ml import (  # noqa: E402
    BATCH_SIZES,
    LR_GRID,
    SALIENCY_MODEL,
    batch_size_explorer,
    learning_rate_explorer,
    saliency_figure,
)
from widget_checks import assert_labelled, move  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- chapter 04 -------------------------------------------------------------------------------


def test_direction_explorer_follows_the_angle():
    app = direction_explorer()
    a = np.array([1.5, 1.0])
    grad = np.array([2 * a[0], 4 * a[1]])  # f = x^2 + 2y^2
    assert "θ" in app.sliders["theta"].description
    for deg in move(app, "theta", [0.0, 30.0, 53.0, 90.0, 143.0, 233.0, 300.0, 360.0]):
        u = np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])
        slope = grad @ u
        x, y = app.artists["marker"].get_data()
        assert np.allclose([x[0], y[0]], [deg, slope])
        q = app.artists["direction"]
        assert np.allclose([q.U[0], q.V[0]], u) and np.allclose(q.get_offsets(), [a])
        sx, sy = app.artists["shadow"].get_data()
        assert np.allclose([sx[-1], sy[-1]], a + slope / 5.0 * u)
        dx, dy = app.artists["drop"].get_data()
        tip = a + grad / 5.0
        assert np.isclose((np.array([dx[0], dy[0]]) - np.array([dx[1], dy[1]])) @ u, 0.0, atol=1e-12)
        assert np.allclose([dx[0], dy[0]], tip)
        assert f"{slope:+.3f}" in app.artists["label"].get_text()
    assert_labelled(app.fig)


def test_direction_explorer_marks_max_and_min():
    app = direction_explorer()
    ax_curve = app.fig.axes[1]
    marks = {tuple(np.round(np.ravel(line.get_data()), 6)) for line in ax_curve.lines if len(line.get_xdata()) == 1}
    phi = np.degrees(np.arctan2(4.0, 3.0))
    assert (round(phi, 6), 5.0) in marks
    assert (round(phi + 180.0, 6), -5.0) in marks
    with pytest.raises(ValueError, match="theta_deg"):
        direction_explorer(400.0)
    with pytest.raises(ValueError, match="vanishes"):
        direction_explorer(point=(0.0, 0.0))


def test_subgradient_figure_lines_support_the_graphs():
    fig = subgradient_figure()
    assert_labelled(fig)
    for ax, f, interval in zip(fig.axes, (np.abs, lambda x: np.maximum(x, 0.0)), ((-1, 1), (0, 1))):
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) >= 3
        for line in dashed:
            x, y = line.get_data()
            slope = (y[-1] - y[0]) / (x[-1] - x[0])
            assert interval[0] - 1e-12 <= slope <= interval[1] + 1e-12
            assert np.all(y <= f(x) + 1e-12), "a subgradient line must stay below the graph"


# --- chapter 05 -------------------------------------------------------------------------------


def test_level_value_explorer_moves_the_ellipse_and_its_normals():
    app = level_value_explorer()
    A = np.array(EXAMPLE_MATRIX)
    for c in move(app, "c", [0.25, 1.0, 2.0, 5.5, 8.0]):
        x, y = app.artists["curve"].get_data()
        x, y = np.asarray(x), np.asarray(y)
        assert np.allclose(5 * x**2 + 4 * x * y + 2 * y**2, c)
        radius = np.hypot(x, y)
        assert np.isclose(radius.max(), np.sqrt(c / 1.0), rtol=1e-3)  # eigenvalues 1 and 6
        assert np.isclose(radius.min(), np.sqrt(c / 6.0), rtol=1e-3)
        q = app.artists["gradients"]
        feet = q.get_offsets()
        assert feet.shape == (8, 2), "the caption promises eight arrows"
        assert np.allclose(5 * feet[:, 0] ** 2 + 4 * feet[:, 0] * feet[:, 1] + 2 * feet[:, 1] ** 2, c)
        assert np.allclose(np.column_stack([q.U, q.V]), 0.1 * 2 * feet @ A)
        # Normal: the arrows are perpendicular to the curve's direction at their feet.
        for foot, arrow in zip(feet, np.column_stack([q.U, q.V])):
            k = int(np.argmin(np.hypot(x - foot[0], y - foot[1])))
            k1, k2 = (k + 1) % (len(x) - 1), (k - 1) % (len(x) - 1)
            chord = np.array([x[k1] - x[k2], y[k1] - y[k2]])
            assert abs(chord @ arrow) < 2e-3 * np.linalg.norm(chord) * np.linalg.norm(arrow)
        assert f"c = {c:.2f}" in app.artists["label"].get_text()
    assert_labelled(app.fig)


def test_condition_number_explorer_stretches_the_ellipses():
    app = condition_number_explorer()
    for kappa in move(app, "kappa", [1.0, 4.0, 9.0, 17.5, 30.0]):
        for line, c in zip(app.artists["levels"], KAPPA_LEVELS):
            x, y = map(np.asarray, line.get_data())
            assert np.allclose(x**2 + kappa * y**2, c)
            assert np.isclose(np.ptp(x) / np.ptp(y), np.sqrt(kappa), rtol=1e-3)
        px, py = app.artists["point"].get_data()
        p = np.array([px[0], py[0]])
        assert np.isclose(p[0] ** 2 + kappa * p[1] ** 2, 4.0)
        q = app.artists["arrows"]
        vectors = np.column_stack([q.U, q.V])
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
        grad = np.array([2 * p[0], 2 * kappa * p[1]])
        assert np.allclose(vectors[0], -grad / np.linalg.norm(grad))
        assert np.allclose(vectors[1], -p / np.linalg.norm(p))
        angle = np.degrees(np.arccos(2 * np.sqrt(kappa) / (1 + kappa)))
        assert np.isclose(np.degrees(np.arccos(np.clip(vectors[0] @ vectors[1], -1, 1))), angle, atol=1e-6)
        assert f"{angle:4.1f}°" in app.artists["label"].get_text()
    assert_labelled(app.fig)
    with pytest.raises(ValueError, match="kappa"):
        condition_number_explorer(0.5)


def test_gradient_contour_figure_tangents_are_perpendicular():
    fig = gradient_contour_figure()
    assert_labelled(fig)
    ax = fig.axes[0]
    segments = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert len(segments) == 4
    for line in segments:
        x, y = map(np.asarray, line.get_data())
        mid = np.array([x.mean(), y.mean()])
        grad = np.array([np.cos(mid[0]), -np.sin(mid[1])])
        assert abs(grad @ np.array([x[1] - x[0], y[1] - y[0]])) < 1e-12


# --- chapter 06 -------------------------------------------------------------------------------


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 1.0, size=40)
    y = 1.5 + 2.0 * x + rng.normal(0.0, 0.5, size=40)
    return np.column_stack([np.ones(40), x]), y


def _gd_excess(X, y, lr, steps):
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    w, out = np.zeros(2), []
    for _ in range(steps + 1):
        out.append(np.mean((X @ (w - w_star)) ** 2))
        w = w - lr * 2 / len(y) * X.T @ (X @ w - y)
    return np.array(out)


def test_learning_rate_explorer_switches_at_two_over_lambda_max():
    app = learning_rate_explorer()
    X, y = _data()
    critical = 2 / np.linalg.eigvalsh(2 / 40 * X.T @ X)[-1]
    assert app.sliders["lr"].min < critical < app.sliders["lr"].max, "the slider must straddle 2/lambda_max"
    assert "η" in app.sliders["lr"].description
    for lr in move(app, "lr", [0.02, 0.3, 0.44, 0.45, 0.5, 0.333]):
        expected = _gd_excess(X, y, lr, 100)
        curve = np.asarray(app.artists["curve"].get_ydata())
        assert np.allclose(curve, expected, rtol=1e-6, atol=1e-25)
        mx, my = app.artists["marker"].get_data()
        assert np.isclose(mx[0], lr) and np.isclose(my[0], expected[-1], rtol=1e-6, atol=1e-25)
        px, _ = app.artists["path"].get_data()
        assert len(px) == 101 and px[0] == 0.0
        if lr < critical:
            assert curve[-1] < curve[0] and "converges" in app.artists["label"].get_text()
        else:
            assert curve[-1] > curve[0] and "diverges" in app.artists["label"].get_text()
    assert_labelled(app.fig)
    assert np.isclose(LR_GRID[0], 0.02) and np.isclose(LR_GRID[-1], 0.5)


def test_batch_size_explorer_noise_shrinks_with_the_batch():
    app = batch_size_explorer()
    X, y = _data()
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    per_example = 2 * X * (X @ w_star - y)[:, None]  # gradient of each squared error at w*
    # Variance of a mean of b of the m per-example gradients drawn without replacement.
    total_var = np.sum(np.var(per_example, axis=0))  # population variance of the 40 gradients
    spreads = []
    for b in move(app, "batch_size", list(BATCH_SIZES)):
        cloud = app.artists["cloud"].get_offsets()
        assert cloud.shape == (300, 2)
        if b == 1:
            distance = np.min(np.linalg.norm(cloud[:, None, :] - per_example[None], axis=2), axis=1)
            assert np.allclose(distance, 0.0, atol=1e-12), "with b = 1 every point is one example's gradient"
        if b == 40:
            assert np.allclose(cloud, 0.0, atol=1e-12), "the full batch has zero gradient at the minimum"
        spread = np.sqrt(np.mean(np.sum(cloud**2, axis=1)))
        theory = np.sqrt(total_var * (40 - b) / (b * 39))
        assert np.isclose(spread, theory, rtol=0.2, atol=1e-12)
        spreads.append(spread)
        curve = np.asarray(app.artists["curve"].get_ydata())
        assert curve.shape == (151,) and np.isclose(curve[0], np.mean((X @ w_star) ** 2))
        assert f"b = {b:2d}" in app.artists["label"].get_text()
    assert all(s1 > s2 for s1, s2 in zip(spreads, spreads[1:]))
    gd_line = app.fig.axes[1].lines[0]
    assert np.allclose(gd_line.get_ydata(), _gd_excess(X, y, 0.1, 150), rtol=1e-6, atol=1e-25)
    assert_labelled(app.fig)


def test_saliency_figure_shows_the_input_gradient_and_the_flip():
    fig = saliency_figure()
    assert_labelled(fig)
    w, x, b, eps = (np.array(SALIENCY_MODEL[k]) for k in ("w", "x", "b", "eps"))
    p = 1 / (1 + np.exp(-(w @ x + b)))
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert np.allclose(heights, p * (1 - p) * w)
    p_after = 1 / (1 + np.exp(-(w @ (x - eps * np.sign(w)) + b)))
    probs = [patch.get_height() for patch in fig.axes[1].patches]
    assert np.allclose(probs, [p, p_after])
    assert probs[0] > 0.5 > probs[1]
