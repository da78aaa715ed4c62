"""Numbers of the material added from the best references (issue 14, section 3), recomputed."""

import numpy as np
import pytest

from nablakit import depth as dp
from nablakit import optimizers as opt
from nablakit.selfcheck import QUESTIONS
from nablakit.testfunctions import ravine


# ---- loss landscapes §3: one step seen to second order, and one Newton step


def test_second_order_view_numbers():
    L10, theta = ravine(kappa=10), np.array([-2.0, 1.0])
    g, H = L10.grad(theta), L10.hessian(theta)
    assert L10.f(theta) == 14.0 and np.allclose(g, [-4.0, 20.0])
    assert g @ g == 416.0 and g @ H @ g == 8032.0
    eps = dp.best_step_size(g, H)
    assert eps == pytest.approx(416 / 8032) and round(eps, 4) == 0.0518 and round(2 * eps, 4) == 0.1036
    assert 1 / np.linalg.eigvalsh(H).max() == 0.05 and eps > 0.05
    printed = {0.5: 5.92, 1.0: 3.23, 2.0: 14.0}
    for factor, value in printed.items():
        step = factor * eps
        model = L10.f(theta) - step * g @ g + 0.5 * step**2 * g @ H @ g
        assert L10.f(theta - step * g) == pytest.approx(model, abs=1e-12)   # exact on a quadratic
        assert round(float(L10.f(theta - step * g)), 2) == value
    new = theta - dp.newton_step(g, H)
    assert np.allclose(new, 0.0) and float(L10.f(new)) == pytest.approx(0.0, abs=1e-24)


def test_newton_cost_numbers():
    n = 10**6
    assert n**2 == 10**12 and n**2 * 8 == 8 * 10**12   # 8 terabytes of float64


def test_gd_needs_40_steps_at_kappa_10_where_newton_needs_one():
    L = ravine(kappa=10)
    H = L.hessian(np.zeros(2))
    path = opt.gradient_descent(L.grad, [-2.0, 1.0], 0.9 * dp.max_stable_lr(H), 200)
    losses = np.array([L.f(p) for p in path])
    below = losses < 1e-6
    first = int(np.flatnonzero(below)[0])
    assert below[first:].all() and first == 40


# ---- loss landscapes §4: the update equations and Adam's first step


def test_update_equations_match_the_package():
    grad = ravine(kappa=10).grad
    theta0, eta = np.array([-2.0, 1.0]), 0.01
    paths = {"momentum": opt.momentum(grad, theta0, eta, 3, beta=0.9),
             "rmsprop": opt.rmsprop(grad, theta0, eta, 3, rho=0.9),
             "adam": opt.adam(grad, theta0, eta, 3)}
    th, v = theta0.copy(), 0.0
    for t in range(1, 4):
        v = 0.9 * v + grad(th)
        th = th - eta * v
        assert np.allclose(paths["momentum"][t], th)
    th, s = theta0.copy(), 0.0
    for t in range(1, 4):
        g = grad(th)
        s = 0.9 * s + 0.1 * g**2
        th = th - eta * g / (np.sqrt(s) + 1e-8)
        assert np.allclose(paths["rmsprop"][t], th)
    th, m, v = theta0.copy(), 0.0, 0.0
    for t in range(1, 4):
        g = grad(th)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        th = th - eta * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert np.allclose(paths["adam"][t], th)


def test_adam_first_step_is_about_eta_per_coordinate():
    rng = np.random.default_rng(0)
    for _ in range(20):
        g0 = rng.normal(size=5) * 10.0 ** rng.uniform(-4, 4, size=5)
        step = opt.adam(lambda th: g0, np.zeros(5), 0.1, 1)[1]
        assert np.allclose(step, -0.1 * np.sign(g0), rtol=1e-3)
    first = opt.adam(ravine(kappa=10).grad, [-2.0, 1.0], 0.1, 1)[1]
    assert np.allclose(first, [-1.9, 0.9], rtol=1e-9)
    assert QUESTIONS["09.adam-first-step"].expected == pytest.approx(tuple(first), rel=1e-9)
    # the note: gradient descent would have moved w2 five times further than w1
    assert abs(20.0) / abs(-4.0) == 5.0


# ---- loss landscapes §7: the gradient norm rises while the loss falls (blue run)


def test_gradient_norm_rises_while_loss_falls():
    from nablakit import training as tr
    from nablakit.networks import init_mlp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(64, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=64)
    _, history = tr.train_mlp(init_mlp(1, 16, 1, rng=1), X, y, 0.1, 600, batch_size=None, rng=2)
    loss, norm = np.array(history["loss"]), np.array(history["grad_norm"])
    assert np.all(np.diff(loss[15:147]) < 0)
    assert loss[[15, 146]] == pytest.approx([0.149, 0.092], abs=5e-4)   # stated to three decimals
    assert norm[[15, 146]] == pytest.approx([0.055, 0.073], abs=5e-4)
    assert norm[146] / norm[15] == pytest.approx(4 / 3, abs=0.03)   # "rises by a third"
