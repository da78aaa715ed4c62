"""Widgets and figures of chapter 10 (nablakit.widgets.training): sliders move the right artists, in place.

Slider moves are checked with ``widget_checks.move``, which renders the first
move under Agg and then only counts redraw requests (fast), and asserts that
no figure or axes appeared. Static figures: labelled, and showing the data
they were given.
"""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit import training as tr  # noqa: E402
from nablakit.widgets import training as wt  # noqa: E402
from widget_checks import assert_labelled, move  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures_after_module")


def test_clipping_explorer_moves_arrows_circle_square_and_marker():
    app = wt.clipping_explorer(g=(4.0, 1.0), c=1.5)
    assert_labelled(app.fig)
    assert "threshold" in app.sliders["c"].description
    g = np.array([4.0, 1.0])
    for c in move(app, "c", [0.5, 1.0, 2.5, 4.0, 5.0]):
        q = app.artists["arrows"]
        # independent reference: norm clip by hand, value clip by hand
        by_norm = g * min(1.0, c / math.hypot(4.0, 1.0))
        by_value = np.array([min(4.0, c), min(1.0, c)])
        assert np.allclose(q.U, [4.0, by_norm[0], by_value[0]])
        assert np.allclose(q.V, [1.0, by_norm[1], by_value[1]])
        x, y = app.artists["circle"].get_data()
        assert np.allclose(np.hypot(x, y), c)
        sx, sy = app.artists["square"].get_data()
        assert np.allclose(np.abs(sx), c) and np.allclose(np.abs(sy), c)
        turned = math.degrees(math.atan2(by_value[1], by_value[0]) - math.atan2(1.0, 4.0))
        mx, my = app.artists["marker_value"].get_data()
        assert np.allclose(mx, [c]) and np.allclose(my, [turned], atol=1e-9)
        assert np.allclose(app.artists["marker_norm"].get_data()[1], [0.0], atol=1e-9)
        assert f"turned {turned:.1f}°" in app.artists["label"].get_text()
    # at c <= 1 the value-clipped vector is the diagonal: 45 - atan(1/4) = 30.96 degrees
    app.sliders["c"].value = 0.75
    assert app.artists["marker_value"].get_data()[1][0] == pytest.approx(45 - math.degrees(math.atan(0.25)))


def test_clipping_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="g must not"):
        wt.clipping_explorer(g=(0.0, 0.0))
    with pytest.raises(ValueError, match="c must"):
        wt.clipping_explorer(c=6.0)


@pytest.fixture(scope="module")
def gaussian_sample():
    return np.random.default_rng(0).normal(1.0, 0.5, size=200)


def test_natural_gradient_paths_swap_precomputed_data(gaussian_sample):
    data = gaussian_sample
    app = wt.natural_gradient_paths(data, theta0=(-1.0, 2.0), lr=0.1, steps=300, shown=80)
    assert_labelled(app.fig)
    assert "η" in app.sliders["lr"].description
    xbar, v = data.mean(), data.var()

    def reference(lr, natural):
        # independent loop with the closed-form updates
        theta = np.array([-1.0, 2.0])
        rows = [theta.copy()]
        for _ in range(80):
            mu, s = theta
            if natural:
                step = np.array([xbar - mu, (v + (xbar - mu) ** 2 - s**2) / (2 * s)])
            else:
                step = np.array([(xbar - mu) / s**2, -1 / s + (v + (xbar - mu) ** 2) / s**3])
            theta = theta + lr * step
            if not np.all(np.isfinite(theta)) or theta[1] <= 0:
                break
            rows.append(theta.copy())
        return np.array(rows)

    for lr in move(app, "lr", [0.05, 0.25, 1.0, 0.2]):
        for name, natural in (("gd", False), ("ngd", True)):
            drawn = app.artists[name].get_xydata()
            drawn = drawn[np.all(np.isfinite(drawn), axis=1)]
            ref = reference(lr, natural)
            assert np.allclose(drawn, ref[: len(drawn)], rtol=1e-8, atol=1e-10)
            assert len(drawn) == len(ref)
        n_gd, n_ngd = app.reached[lr]
        text = app.artists["label"].get_text()
        assert f"η = {lr}" in text
        assert (f"natural: {n_ngd} steps" in text) if n_ngd is not None else ("natural: never" in text)
        assert n_ngd == tr.steps_to_settle(tr.gaussian_ngd_path(data, [-1.0, 2.0], lr, 300),
                                           [xbar, math.sqrt(v)], 1e-3)


def test_natural_gradient_paths_rejects_unknown_step(gaussian_sample):
    with pytest.raises(ValueError, match="lr must be one of"):
        wt.natural_gradient_paths(gaussian_sample, lr=0.33)


def test_checkpoint_growth_figure_draws_the_table():
    ns = [1, 4, 16, 100]
    fig = wt.checkpoint_growth_figure(np.array(ns))
    assert_labelled(fig)
    ax_mem, ax_cmp = fig.axes
    assert ax_mem.get_xscale() == ax_mem.get_yscale() == "log"
    # independent counts: store all n / n; recompute all 2 / n + n(n-1)/2; sqrt(n) rows from the table's formula
    assert ax_mem.lines[0].get_ydata().tolist() == ns and ax_cmp.lines[0].get_ydata().tolist() == ns
    assert ax_mem.lines[2].get_ydata().tolist() == [1, 2, 2, 2]
    assert ax_cmp.lines[2].get_ydata().tolist() == [n + n * (n - 1) // 2 for n in ns]
    assert ax_mem.lines[1].get_ydata().tolist()[-1] == 19 and ax_cmp.lines[1].get_ydata().tolist()[-1] == 190
    assert [t.get_text() for t in ax_mem.get_legend().get_texts()][0] == "store all"
    with pytest.raises(ValueError, match="n_layers"):
        wt.checkpoint_growth_figure([0, 4])


def test_float16_error_figure_draws_envelopes():
    mags = np.geomspace(1e-10, 0.5, 2000)
    envelopes = {k: tr.float16_error_envelope(mags, 2.0**k, per_bin=20) for k in (0, 16)}
    fig = wt.float16_error_figure(envelopes)
    assert_labelled(fig)
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_label().startswith("loss scale")]
    assert [line.get_label() for line in lines] == ["loss scale $2^{0}$", "loss scale $2^{16}$"]
    # independent envelope: worst error of float16 per bin of 20
    bins = mags.reshape(-1, 20)
    worst = (np.abs(bins.astype(np.float16).astype(float) - bins) / bins).max(axis=1)
    assert np.allclose(lines[0].get_ydata(), worst)
    assert np.allclose(lines[0].get_xdata(), np.sqrt(bins[:, 0] * bins[:, -1]))
    verticals = sorted(line.get_xdata()[0] for line in ax.lines if line not in lines)
    assert verticals == [2.0**-24, 2.0**-14]
