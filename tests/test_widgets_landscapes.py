"""Widgets and figures of chapter 09 (nablakit.widgets.landscapes): sliders move the right artists, in place.

Slider moves are checked with ``widget_checks.move``, which renders the first
move under Agg and then only counts redraw requests (fast), and asserts that
no figure or axes appeared. Static figures: labelled, and showing the data
they were given.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit import depth as dp  # noqa: E402
from nablakit import optimizers as opt  # noqa: E402
from nablakit import testfunctions as tfn  # noqa: E402
from nablakit.widgets import landscapes as wl  # noqa: E402
from widget_checks import assert_labelled, move  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures_after_module")


@pytest.fixture(scope="module")
def ravine_app():
    return wl.ravine_explorer(kappa=10, fraction=0.9, beta=0.9, steps=120)


def check_ravine(app):
    kappa, fraction, beta = (app.sliders[k].value for k in ("kappa", "fraction", "beta"))
    tf = tfn.ravine(kappa=kappa)
    lr = fraction * 2 / (2 * max(1, kappa))
    gd = opt.gradient_descent(tf.grad, [-2.0, 1.0], lr, 120)
    mom = opt.momentum(tf.grad, [-2.0, 1.0], lr, 120, beta=beta)
    assert np.allclose(app.artists["path_gd"].get_xydata(), gd, equal_nan=True)
    assert np.allclose(app.artists["path_momentum"].get_xydata(), mom, equal_nan=True)
    x, yv = app.artists["loss_gd"].get_data()
    assert np.allclose(yv, tf.f(gd.T), equal_nan=True) and np.array_equal(x, np.arange(121))
    assert np.allclose(app.artists["loss_momentum"].get_ydata(), tf.f(mom.T), equal_nan=True)
    for line in app.artists["levels"]:
        values = tf.f(np.array(line.get_data()))
        assert np.allclose(values, values[0]), "each level line must be a level set"
    text = app.artists["label"].get_text()
    assert f"κ = {kappa}," in text and f"momentum (β = {beta})" in text


def test_ravine_explorer_is_labelled(ravine_app):
    assert_labelled(ravine_app.fig)
    assert set(ravine_app.sliders) == {"kappa", "fraction", "beta"}
    assert "κ" in ravine_app.sliders["kappa"].description and "β" in ravine_app.sliders["beta"].description


@pytest.mark.parametrize("name, values", [("kappa", [1, 100, 20]), ("fraction", [0.25, 1.05, 0.9]),
                                          ("beta", [0.5, 0.99, 0.9])])
def test_ravine_explorer_paths_levels_and_losses(ravine_app, name, values):
    for _ in move(ravine_app, name, values):
        check_ravine(ravine_app)


def test_ravine_explorer_step_counts_in_label(ravine_app):
    app = ravine_app
    app.sliders["fraction"].value = 0.9
    app.sliders["beta"].value = 0.9
    for kappa, (n_gd, n_mom) in {1: (35, 147), 10: (40, 160), 100: (419, 176)}.items():
        app.sliders["kappa"].value = kappa
        text = app.artists["label"].get_text()
        assert f"gradient descent: {n_gd} steps" in text and f"momentum (β = 0.9): {n_mom} steps" in text
        # independent count with the package optimiser
        tf = tfn.ravine(kappa=kappa)
        losses = tf.f(opt.gradient_descent(tf.grad, [-2.0, 1.0], 0.9 / kappa, 3000).T)
        assert np.flatnonzero(losses >= 1e-6)[-1] + 1 == n_gd


def test_ravine_explorer_rejects_values_off_the_sliders():
    with pytest.raises(ValueError, match="beta must be one of"):
        wl.ravine_explorer(beta=0.7)
    with pytest.raises(ValueError, match="kappa must be one of"):
        wl.ravine_explorer(kappa=3)


@pytest.mark.parametrize("name", ["rosenbrock", "beale"])
def test_optimizer_race_shows_the_chosen_runs(name):
    app = wl.optimizer_race(name, steps=40)
    assert_labelled(app.fig)
    tf = tfn.get_test_function(name)
    runners = {"gradient descent": opt.gradient_descent, "momentum": opt.momentum,
               "RMSProp": opt.rmsprop, "Adam": opt.adam}

    beta_keyword = {"momentum": "beta", "Adam": "beta1"}

    def check():
        o, lr, beta = (app.sliders[k].value for k in ("optimizer", "lr", "beta"))
        kwargs = {beta_keyword[o]: beta} if o in beta_keyword else {}
        for line, loss_line, start in zip(app.artists["paths"], app.artists["losses"], wl.RACE_STARTS[name]):
            ref = runners[o](tf.grad, start, lr, 40, **kwargs)
            assert np.allclose(line.get_xydata(), ref, rtol=1e-9, atol=1e-12, equal_nan=True)
            assert np.allclose(loss_line.get_ydata(), tf.f(ref.T), rtol=1e-9, equal_nan=True)
        first_line = app.artists["label"].get_text().splitlines()[0]
        symbol = {"momentum": "β", "Adam": "β₁"}
        assert first_line == (f"{o}, η = {lr:g}, {symbol[o]} = {beta:g}" if o in symbol
                              else f"{o}, η = {lr:g} (β = {beta:g} not used by {o})")

    assert app.sliders["beta"].value == 0.9, "the default keeps every optimiser's own default"
    for _ in move(app, "optimizer", ["momentum", "RMSProp", "Adam"]):
        check()
    for _ in move(app, "lr", [1e-4, 3e-3, 0.1]):
        check()
    assert len(app.runs) == 7, "only the runs the sliders asked for are computed"
    for _ in move(app, "beta", [0.0, 0.99]):  # Adam's beta1
        check()
    for o in ("momentum", "gradient descent", "RMSProp"):
        app.sliders["optimizer"].value = o
        check()
        for _ in move(app, "beta", [0.5, 0.9]):
            check()
    assert {k for k in app.runs if k[0] in ("gradient descent", "RMSProp")} == {
        (o, lr, None) for o in ("gradient descent", "RMSProp") for lr in (1e-3, 0.1)
    }, "moving β does not recompute an optimiser that has no β"


def test_optimizer_race_momentum_at_beta_zero_is_gradient_descent():
    app = wl.optimizer_race("rosenbrock", optimizer="momentum", lr=1e-3, beta=0.0, steps=40)
    gd_paths, _ = app.runs[("gradient descent", 1e-3, None)]
    assert np.array_equal(app.runs[("momentum", 1e-3, 0.0)][0], gd_paths)
    with pytest.raises(ValueError, match="beta must be one of"):
        wl.optimizer_race(beta=0.95)


def test_depth_explorer_curves():
    app = wl.depth_explorer(depth=20)
    assert_labelled(app.fig)
    assert "depth" in app.sliders["depth"].description
    for L in move(app, "depth", [1, 7, 50, 20]):
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
    with pytest.raises(ValueError, match="depth"):
        wl.depth_explorer(depth=0)


def test_critical_points_figure_marks_each_kind():
    f = lambda th: th[0] ** 3 - 3 * th[0] + th[1] ** 2  # noqa: E731
    kinds = {(1.0, 0.0): "minimum", (-1.0, 0.0): "saddle"}
    fig = wl.critical_points_figure(f, kinds, xlim=(-2.2, 2.2), ylim=(-1.6, 1.6), n=41)
    assert_labelled(fig)
    ax = fig.axes[0]
    marked = {line.get_label(): tuple(line.get_xydata()[0]) for line in ax.lines}
    assert marked == {"minimum (1, 0)": (1.0, 0.0), "saddle (-1, 0)": (-1.0, 0.0)}
    assert ax.get_xlim() == (-2.2, 2.2)
    with pytest.raises(ValueError, match="kind must be one of"):
        wl.critical_points_figure(f, {(0.0, 0.0): "plateau"}, xlim=(-1, 1), ylim=(-1, 1), n=11)


def test_saddle_escape_figure_draws_paths_and_distances():
    path = np.c_[0.8 ** np.arange(151), 1e-6 * 1.2 ** np.arange(151)]
    fig = wl.saddle_escape_figure(tfn.saddle().f, {"nudged": path}, steps=100)
    assert_labelled(fig)
    ax, ax2 = fig.axes
    assert np.allclose(ax.lines[0].get_xydata(), path[:101])
    assert np.allclose(ax2.lines[0].get_ydata(), np.abs(path[:101, 1]))
    assert ax2.get_yscale() == "log" and ax2.get_xlim() == (0, 100)
    assert any(np.allclose(line.get_ydata(), 1.0) for line in ax2.lines[1:]), "the escape threshold line"


def test_gradient_flow_figure_shows_errors_against_step():
    tf = tfn.ravine(kappa=5)
    start = np.array([-2.0, 1.0])
    flow = dp.quadratic_gradient_flow(tf.hessian(np.zeros(2)), start, np.linspace(0, 0.8, 50))
    runs = {eta: opt.gradient_descent(tf.grad, start, eta, round(0.8 / eta)) for eta in (0.08, 0.04)}
    errors = {eta: float(np.linalg.norm(p[-1] - flow[-1])) for eta, p in runs.items()}
    fig = wl.gradient_flow_figure(flow, runs, errors, time=0.8)
    assert_labelled(fig)
    ax, ax2 = fig.axes
    assert np.allclose(ax.lines[0].get_xydata(), flow)
    assert np.allclose(ax2.lines[0].get_xdata(), [0.04, 0.08]) and np.allclose(ax2.lines[0].get_ydata(),
                                                                              [errors[0.04], errors[0.08]])
    assert np.allclose(ax2.lines[1].get_ydata(), [errors[0.04], 2 * errors[0.04]]), "slope-1 reference"
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["0.04", "0.08"], "ticks at the learning rates"
    with pytest.raises(ValueError, match="learning rates"):
        wl.gradient_flow_figure(flow, runs, {0.08: 0.1}, time=0.8)


def test_gradient_norm_figure_keeps_gaps_for_diverged_runs():
    hist = {"loss": np.array([1.0, 0.5, np.nan]), "grad_norm": np.array([2.0, 1.0, np.nan])}
    fig = wl.gradient_norm_figure({"η = 1.0": hist})
    assert_labelled(fig)
    ax, ax2 = fig.axes
    assert np.allclose(ax2.lines[0].get_ydata(), [2.0, 1.0, np.nan], equal_nan=True)
    assert ax.get_yscale() == ax2.get_yscale() == "log"
    assert type(ax.yaxis.get_minor_locator()).__name__ == "NullLocator"


def test_loss_slice_figure_uses_log_levels():
    a = np.linspace(-1, 1, 21)
    Z = np.exp(np.add.outer(a**2, 2 * a**2))          # log10(Z) is a quadratic bowl
    fig = wl.loss_slice_figure(a, a, Z, levels=10)
    assert_labelled(fig)
    cs = fig.axes[0].collections[0]
    assert np.allclose(cs.levels, np.linspace(np.log10(Z.min()), np.log10(Z.max()), 10))
    star = fig.axes[0].lines[0]
    assert np.allclose(star.get_xydata(), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="positive"):
        wl.loss_slice_figure(a, a, Z - 2)
