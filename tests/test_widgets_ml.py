"""Widgets of chapter 06 (nablakit.widgets.ml): moving a slider moves the right artists to the right places.

Every factory is built under Agg, each slider is set to several values, and
the artists' data are compared with values computed here independently of
the package. No callback may create a figure or axes.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets.ml import (  # noqa: E402
    BATCH_SIZES,
    LR_GRID,
    SALIENCY_MODEL,
    batch_size_explorer,
    learning_rate_explorer,
    saliency_figure,
)
from widget_checks import assert_labelled, move  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


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
