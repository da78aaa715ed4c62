"""nablakit.depth against sympy, finite differences and the optimisers it mirrors."""

import numpy as np
import pytest
import sympy as sp

from nablakit import depth as dp
from nablakit import optimizers as opt
from nablakit import testfunctions as tfn


# --------------------------------------------------------------------------- critical points


@pytest.mark.parametrize(
    "expr, point, expected",
    [
        ("x**2 + y**2", (0, 0), "minimum"),
        ("-x**2 - 3*y**2 + x*y", (0, 0), "maximum"),
        ("x**2 - y**2", (0, 0), "saddle"),
        ("x**2 + y**4", (0, 0), "degenerate"),
        ("x**2 - y**4", (0, 0), "degenerate"),
        ("x**3 - 3*x + y**2", (1, 0), "minimum"),
        ("x**3 - 3*x + y**2", (-1, 0), "saddle"),
    ],
)
def test_classify_with_sympy_hessians(expr, point, expected):
    x, y = sp.symbols("x y")
    f = sp.sympify(expr)
    subs = {x: point[0], y: point[1]}
    assert all(sp.diff(f, v).subs(subs) == 0 for v in (x, y)), "test point must be critical"
    H = np.array(sp.hessian(f, (x, y)).subs(subs), dtype=float)
    assert dp.classify_critical_point(H) == expected


def test_classify_three_dimensions_and_errors():
    assert dp.classify_critical_point(np.diag([1.0, 2.0, -1e-3])) == "saddle"
    assert dp.classify_critical_point(np.diag([1.0, 2.0, 1e-12])) == "degenerate"
    with pytest.raises(ValueError, match="square"):
        dp.classify_critical_point(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        dp.classify_critical_point([[1.0, 2.0], [0.0, 1.0]])


# --------------------------------------------------------------------------- stability on quadratics


@pytest.mark.parametrize("kappa", [1, 10, 100])
def test_max_stable_lr_separates_convergence_from_divergence(kappa):
    tf = tfn.ravine(kappa=kappa)
    H = tf.hessian(np.zeros(2))
    limit = dp.max_stable_lr(H)
    assert limit == pytest.approx(1.0 / kappa)
    below = opt.gradient_descent(tf.grad, [1.0, 1.0], 0.95 * limit, 2000)
    above = opt.gradient_descent(tf.grad, [1.0, 1.0], 1.05 * limit, 2000)
    assert np.allclose(below[-1], 0.0, atol=1e-6)
    assert np.isnan(above[-1]).all() or np.abs(above[-1]).max() > 1e3


def test_gd_contraction_matches_one_step():
    H = np.array([[3.0, 1.0], [1.0, 2.0]])
    lam, fac = dp.gd_contraction(H, 0.2)
    _, V = np.linalg.eigh(H)
    for i in range(2):
        step = V[:, i] - 0.2 * H @ V[:, i]
        assert np.linalg.norm(step) == pytest.approx(fac[i])
    with pytest.raises(ValueError, match="positive eigenvalue"):
        dp.max_stable_lr(-np.eye(2))


def test_quadratic_flow_solves_the_ode():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    theta0 = np.array([1.0, -2.0])
    ts = np.linspace(0, 1, 11)
    path = dp.quadratic_gradient_flow(A, theta0, ts)
    h = 1e-6
    for t in ts[1:-1]:
        plus, minus = dp.quadratic_gradient_flow(A, theta0, [t + h, t - h])
        here = dp.quadratic_gradient_flow(A, theta0, [t])[0]
        assert np.allclose((plus - minus) / (2 * h), -A @ here, atol=1e-6)
    assert np.allclose(path[0], theta0)


def test_euler_error_is_first_order():
    tf = tfn.ravine(kappa=5)
    A = tf.hessian(np.zeros(2))
    exact = dp.quadratic_gradient_flow(A, [-2.0, 1.0], [1.0])[0]
    errs = [np.linalg.norm(opt.gradient_descent(tf.grad, [-2.0, 1.0], eta, round(1 / eta))[-1] - exact)
            for eta in (0.01, 0.005, 0.0025)]
    slopes = np.diff(np.log(errs)) / np.diff(np.log([0.01, 0.005, 0.0025]))
    assert np.allclose(slopes, 1.0, atol=0.02)


@pytest.mark.parametrize("beta", [0.0, 0.9])
@pytest.mark.parametrize("kappa, fraction", [(1, 0.5), (10, 0.9), (100, 1.05), (50, 0.1)])
def test_diagonal_quadratic_runs_match_the_optimizers(beta, kappa, fraction):
    tf = tfn.ravine(kappa=kappa)
    lr = fraction / kappa
    runner = opt.gradient_descent if beta == 0 else (lambda g, s, a, n: opt.momentum(g, s, a, n, beta=beta))
    reference = runner(tf.grad, [-2.0, 1.0], lr, 400)
    batch = dp.diagonal_quadratic_runs([[2.0, 2.0 * kappa]] * 2, [-2.0, 1.0], [lr, lr], 400, beta=beta)
    assert np.allclose(batch[0], reference, rtol=1e-10, atol=1e-300, equal_nan=True)
    assert np.allclose(batch[1], batch[0], equal_nan=True)


def test_diagonal_quadratic_runs_take_one_beta_per_run():
    tf = tfn.ravine(kappa=20)
    betas = [0.0, 0.5, 0.9, 0.99]
    batch = dp.diagonal_quadratic_runs([[2.0, 40.0]] * 4, [-2.0, 1.0], 0.045, 300, beta=betas)
    for path, beta in zip(batch, betas):
        reference = opt.momentum(tf.grad, [-2.0, 1.0], 0.045, 300, beta=beta)
        assert np.allclose(path, reference, rtol=1e-10, atol=1e-300), f"beta = {beta}"
    with pytest.raises(ValueError, match="beta"):
        dp.diagonal_quadratic_runs([[1.0]] * 2, [1.0], 0.1, 3, beta=[0.5, -0.1])


def test_diagonal_quadratic_runs_marks_divergence_per_run():
    paths = dp.diagonal_quadratic_runs([[2.0, 2.0], [2.0, 2.0]], [1.0, 1.0], [0.5, 1.5], 200)
    assert np.all(np.isfinite(paths[0])) and np.isnan(paths[1, -1]).all()
    with pytest.raises(ValueError, match="beta"):
        dp.diagonal_quadratic_runs([[1.0]], [1.0], 0.1, 3, beta=1.0)


# --------------------------------------------------------------------------- depth


def chain_output(x0, depth, w=1.0, b=0.0):
    a = x0
    for _ in range(depth):
        a = 1.0 / (1.0 + np.exp(-(w * a + b)))
    return a


@pytest.mark.parametrize("depth, w, b, x0", [(1, 1.0, 0.0, 0.0), (5, 2.0, -0.5, 0.3), (12, 1.0, 0.0, 0.0), (8, -3.0, 1.0, 2.0)])
def test_sigmoid_chain_gradients_by_finite_differences(depth, w, b, x0):
    a, g = dp.sigmoid_chain(depth, weight=w, bias=b, x0=x0)
    assert a[-1] == pytest.approx(chain_output(x0, depth, w, b), rel=1e-12)
    # complex-step derivative: Im f(x + ih) / h, exact to rounding even for tiny gradients
    h = 1e-30
    assert g[0] == pytest.approx(chain_output(x0 + 1j * h, depth, w, b).imag / h, rel=1e-9)
    # gradient w.r.t. an intermediate activation: restart the chain from a_k
    k = depth // 2
    assert g[k] == pytest.approx(chain_output(a[k] + 1j * h, depth - k, w, b).imag / h, rel=1e-9)
    assert np.all(np.abs(g) <= (abs(w) / 4) ** (depth - np.arange(depth + 1)) * (1 + 1e-12))


def test_recurrence_norms_follow_spectral_norm_powers():
    for rho in (0.9, 1.0, 1.1):
        norms = dp.recurrence_grad_norms(dp.scaled_rotation(rho, 0.7), 50)
        assert np.allclose(norms, rho ** (50 - np.arange(51.0)), rtol=1e-9)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 4))
    norms = dp.recurrence_grad_norms(W, 6)
    assert norms[0] == pytest.approx(np.linalg.norm(np.linalg.matrix_power(W, 6), 2))
    assert np.all(norms <= np.linalg.norm(W, 2) ** (6 - np.arange(7.0)) * (1 + 1e-9))
    with pytest.raises(ValueError, match="square"):
        dp.recurrence_grad_norms(np.ones((2, 3)), 3)


def test_depth_curves_combine_the_chain_and_the_recurrences():
    curves = dp.depth_curves(6, rhos=(0.9, 1.1))
    assert curves["layers"].tolist() == list(range(7))
    _, grads = dp.sigmoid_chain(6)
    assert np.array_equal(curves["sigmoid"], np.abs(grads))
    # the sigmoid's slope is at most 1/4, so the gradient reaching layer k is below 0.25 ** (L - k)
    assert np.all(curves["sigmoid"] <= curves["bound"] * (1 + 1e-12))
    for rho in (0.9, 1.1):  # a scaled rotation's powers have norm rho ** (L - k)
        assert np.allclose(curves[rho], rho ** (6 - np.arange(7.0)), rtol=1e-12)

