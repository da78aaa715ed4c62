"""Widgets of chapters 08 and 09: sliders move the right artists to the right data, in place."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nablakit.widgets import training as wt


def move_and_check(app, name, values, check):
    """Set slider `name` to each value, run `check(value)`, and assert no figure/axes appeared."""
    figs, axes = len(plt.get_fignums()), len(app.fig.axes)
    for v in values:
        app.sliders[name].value = v
        assert not app.errors.outputs, f"callback raised: {app.errors.outputs}"
        check(v)
    assert len(plt.get_fignums()) == figs, "a slider created a new figure"
    assert len(app.fig.axes) == axes, "a slider created new axes"


# --------------------------------------------------------------------------- chapter 09


def test_clipping_explorer_moves_arrows_circle_square_and_marker():
    app = wt.clipping_explorer(g=(4.0, 1.0), c=1.5)
    g = np.array([4.0, 1.0])

    def check(c):
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

    move_and_check(app, "c", [0.5, 1.0, 2.5, 4.0, 5.0], check)
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
    from nablakit import training as tr

    data = gaussian_sample
    app = wt.natural_gradient_paths(data, theta0=(-1.0, 2.0), lr=0.1, steps=300, shown=80)
    m, xbar, v = data.size, data.mean(), data.var()

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

    def check(lr):
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

    move_and_check(app, "lr", [0.05, 0.25, 1.0, 0.2], check)
    assert m == 200


def test_natural_gradient_paths_rejects_unknown_step(gaussian_sample):
    with pytest.raises(ValueError, match="lr must be one of"):
        wt.natural_gradient_paths(gaussian_sample, lr=0.33)


# --------------------------------------------------------------------------- chapter 08

from nablakit import optimizers as opt  # noqa: E402
from nablakit import testfunctions as tfn  # noqa: E402
from nablakit.widgets import landscapes as wl  # noqa: E402


@pytest.fixture(scope="module")
def ravine_app():
    return wl.ravine_explorer(kappa=10, fraction=0.9, steps=120)


def test_ravine_explorer_paths_levels_and_losses(ravine_app):
    app = ravine_app

    def check(_):
        kappa, fraction = app.sliders["kappa"].value, app.sliders["fraction"].value
        tf = tfn.ravine(kappa=kappa)
        lr = fraction * 2 / (2 * max(1, kappa))
        gd = opt.gradient_descent(tf.grad, [-2.0, 1.0], lr, 120)
        mom = opt.momentum(tf.grad, [-2.0, 1.0], lr, 120, beta=0.9)
        assert np.allclose(app.artists["path_gd"].get_xydata(), gd, equal_nan=True)
        assert np.allclose(app.artists["path_momentum"].get_xydata(), mom, equal_nan=True)
        x, yv = app.artists["loss_gd"].get_data()
        assert np.allclose(yv, tf.f(gd.T), equal_nan=True) and np.array_equal(x, np.arange(121))
        assert np.allclose(app.artists["loss_momentum"].get_ydata(), tf.f(mom.T), equal_nan=True)
        values = [float(tf.f(np.array(line.get_data()))[0]) for line in app.artists["levels"]]
        for line, c in zip(app.artists["levels"], values):
            assert np.allclose(tf.f(np.array(line.get_data())), c), "each level line must be a level set"
        assert f"κ = {kappa}," in app.artists["label"].get_text()

    move_and_check(app, "kappa", [1, 100, 20], check)
    move_and_check(app, "fraction", [0.25, 1.05, 0.9], check)


def test_ravine_explorer_step_counts_in_label(ravine_app):
    app = ravine_app
    app.sliders["fraction"].value = 0.9
    for kappa, (n_gd, n_mom) in {1: (35, 147), 10: (40, 160), 100: (419, 176)}.items():
        app.sliders["kappa"].value = kappa
        text = app.artists["label"].get_text()
        assert f"gradient descent: {n_gd} steps" in text and f"momentum (β = 0.9): {n_mom} steps" in text
        # independent count with the package optimiser
        tf = tfn.ravine(kappa=kappa)
        losses = tf.f(opt.gradient_descent(tf.grad, [-2.0, 1.0], 0.9 / kappa, 3000).T)
        assert np.flatnonzero(losses >= 1e-6)[-1] + 1 == n_gd


@pytest.mark.parametrize("name", ["rosenbrock", "beale"])
def test_optimizer_race_shows_the_chosen_runs(name):
    app = wl.optimizer_race(name, steps=40)
    tf = tfn.get_test_function(name)
    runners = {"gradient descent": opt.gradient_descent, "momentum": opt.momentum,
               "RMSProp": opt.rmsprop, "Adam": opt.adam}

    def check(_):
        o, lr = app.sliders["optimizer"].value, app.sliders["lr"].value
        for line, loss_line, start in zip(app.artists["paths"], app.artists["losses"], wl.RACE_STARTS[name]):
            ref = runners[o](tf.grad, start, lr, 40)
            assert np.allclose(line.get_xydata(), ref, rtol=1e-9, atol=1e-12, equal_nan=True)
            assert np.allclose(loss_line.get_ydata(), tf.f(ref.T), rtol=1e-9, equal_nan=True)
        assert app.artists["label"].get_text().startswith(f"{o}, η = {lr:g}")

    move_and_check(app, "optimizer", ["momentum", "RMSProp", "Adam"], check)
    move_and_check(app, "lr", [1e-4, 3e-3, 0.1], check)


def test_depth_explorer_curves():
    app = wl.depth_explorer(depth=20)

    def check(L):
        k = np.arange(L + 1)
        assert np.allclose(app.artists["rho_0.9"].get_ydata(), 0.9 ** (L - k))
        assert np.allclose(app.artists["rho_1.1"].get_ydata(), 1.1 ** (L - k))
        assert np.allclose(app.artists["bound"].get_ydata(), 0.25 ** (L - k))
        # independent chain rule for the sigmoid chain with weight 1, bias 0, input 0
        a, factors = 0.0, []
        for _ in range(L):
            s = 1 / (1 + np.exp(-a))
            factors.append(s * (1 - s))
            a = s
        expected = [np.prod(factors[j:]) for j in range(L)] + [1.0]
        assert np.allclose(app.artists["sigmoid"].get_ydata(), expected, rtol=1e-10)
        assert f"L = {L}:" in app.artists["label"].get_text()

    move_and_check(app, "depth", [1, 7, 50, 20], check)
    with pytest.raises(ValueError, match="depth"):
        wl.depth_explorer(depth=0)
