"""Every number and formula that chapters 04-06 state in their text, recomputed here.

Each test names the chapter and section it backs. Values are recomputed
independently (sympy, finite differences or plain NumPy) and compared with
tolerances matching the digits the text prints.
"""

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import sympy as sp

from nablakit import losses, regression
from nablakit.calculus import directional_derivative, level_tangent, steepest_ascent, unit_vector
from nablakit.gradcheck import check_gradient
from nablakit.numdiff import numerical_gradient, numerical_hessian, numerical_jacobian
from nablakit.selfcheck import QUESTIONS
from nablakit.widgets.directional import example_f, example_grad
from nablakit.widgets.level_sets import (EXAMPLE_MATRIX, KAPPA_LEVELS, gradient_contour_figure,
                                        quadratic_level_curve, wavy_f, wavy_grad)
from nablakit.widgets.ml import LR_GRID, SALIENCY_MODEL, saliency_figure

x_, y_ = sp.symbols("x y", real=True)

# --- chapter 04: directional derivatives ------------------------------------------------------

A_POINT = np.array([1.5, 1.0])


def test_04_example_gradient_and_its_length():
    f = x_**2 + 2 * y_**2
    grad = [sp.diff(f, v).subs({x_: sp.Rational(3, 2), y_: 1}) for v in (x_, y_)]
    assert grad == [3, 4]
    assert np.allclose(example_grad(A_POINT), [3.0, 4.0])
    assert np.isclose(example_f(A_POINT), 4.25)
    assert np.isclose(np.linalg.norm(example_grad(A_POINT)), 5.0)


def test_04_difference_quotients_and_their_exact_form():
    u = np.array([1.0, 1.0]) / np.sqrt(2)
    printed = {0.1: 5.0997, 0.01: 4.9647, 0.001: 4.9512}
    for h, value in printed.items():
        quotient = (example_f(A_POINT + h * u) - example_f(A_POINT)) / h
        assert round(quotient, 4) == pytest.approx(value, abs=1e-9)
        assert quotient == pytest.approx(7 / np.sqrt(2) + 1.5 * h, rel=1e-9)
    # Symbolically: (f(a + h u) - f(a)) / h = 7/sqrt(2) + 3h/2.
    h = sp.symbols("h", positive=True)
    f = lambda px, py: px**2 + 2 * py**2  # noqa: E731
    s = 1 / sp.sqrt(2)
    quotient = (f(sp.Rational(3, 2) + h * s, 1 + h * s) - f(sp.Rational(3, 2), 1)) / h
    assert sp.simplify(quotient - (7 / sp.sqrt(2) + sp.Rational(3, 2) * h)) == 0
    assert round(7 / np.sqrt(2), 4) == 4.9497


def test_04_gradient_formula_matches_the_limit_in_any_direction():
    rng = np.random.default_rng(0)
    for theta in rng.uniform(0, 2 * np.pi, size=5):
        u = np.array([np.cos(theta), np.sin(theta)])
        h = 1e-6
        limit = (example_f(A_POINT + h * u) - example_f(A_POINT - h * u)) / (2 * h)
        assert directional_derivative(example_grad(A_POINT), u) == pytest.approx(limit, rel=1e-8, abs=1e-8)
    assert directional_derivative([3.0, 4.0], unit_vector([1.0, 1.0])) == pytest.approx(7 / np.sqrt(2))


def test_04_extreme_and_level_directions():
    g = example_grad(A_POINT)
    up, level = steepest_ascent(g), level_tangent(g)
    assert np.allclose(up, [0.6, 0.8]) and np.allclose(level, [-0.8, 0.6])
    slopes = [directional_derivative(g, v) for v in (up, -up, level, -level)]
    assert np.allclose(slopes, [5.0, -5.0, 0.0, 0.0], atol=1e-15)
    assert max(abs(slopes[2]), abs(slopes[3])) < 1e-15  # "about 4e-16": rounding only
    # No unit direction is steeper than 5 (Cauchy-Schwarz), checked on a fine circle of directions.
    thetas = np.linspace(0, 2 * np.pi, 3601)
    values = 3 * np.cos(thetas) + 4 * np.sin(thetas)
    assert values.max() == pytest.approx(5.0, abs=1e-5) and values.min() == pytest.approx(-5.0, abs=1e-5)


def test_04_widget_caption_angles():
    phi = np.degrees(np.arctan2(4, 3))
    assert round(phi, 1) == 53.1
    assert round(phi + 180, 1) == 233.1
    zeros = [t for t in (phi + 90, phi + 270)]
    assert [round(t, 1) for t in zeros] == [143.1, 323.1]
    for t in zeros:
        assert abs(3 * np.cos(np.radians(t)) + 4 * np.sin(np.radians(t))) < 1e-12
        u = np.array([np.cos(np.radians(t)), np.sin(np.radians(t))])
        assert np.isclose(abs(u @ np.array([-0.8, 0.6])), 1.0)  # u lies along the level direction


def test_04_try_it_answers():
    assert round(np.degrees(np.arctan2(0.8, -0.6)), 1) == 126.9
    assert directional_derivative([3.0, 4.0], [-0.6, 0.8]) == pytest.approx(1.4)
    assert np.array([3.0, 4.0]) @ np.array([3.0, -1.0]) == pytest.approx(5.0)
    assert directional_derivative([3.0, 4.0], unit_vector([3.0, -1.0])) == pytest.approx(5 / np.sqrt(10))
    assert round(5 / np.sqrt(10), 3) == 1.581


def test_04_non_unit_vector_values():
    g, v = example_grad(A_POINT), np.array([1.0, 1.0])
    assert g @ v == pytest.approx(7.0) and np.linalg.norm(v) == pytest.approx(1.414, abs=5e-4)
    assert g @ v == pytest.approx(np.linalg.norm(v) * 7 / np.sqrt(2))
    assert g @ (10 * v) == pytest.approx(70.0)
    step = 0.01 * v
    assert g @ step == pytest.approx(0.07)
    assert example_f(A_POINT + step) - example_f(A_POINT) == pytest.approx(0.0703, abs=1e-12)
    with pytest.raises(ValueError, match="unit vector"):
        directional_derivative(g, v)


def test_04_kinks_one_sided_slopes_and_subgradients():
    h = 1e-6
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    assert [(abs(h * s) - 0.0) / h for s in (1, -1)] == [1.0, 1.0]
    assert [float(relu(h * s)) / h for s in (1, -1)] == [1.0, 0.0]
    xs = np.linspace(-3, 3, 601)
    verdicts = {g: bool(np.all(relu(xs) >= g * xs)) for g in (-0.5, 0.0, 0.5, 1.0, 1.5)}
    assert verdicts == {-0.5: False, 0.0: True, 0.5: True, 1.0: True, 1.5: False}
    for g in np.linspace(-1, 1, 9):
        assert np.all(np.abs(xs) >= g * xs)
    for g in (-1.5, -1.01, 1.01, 1.5):
        assert not np.all(np.abs(xs) >= g * xs)
    # For convex f, the one-sided slope along u is the largest g*u over the subdifferential.
    for u in (1, -1):
        assert max(g * u for g in np.linspace(-1, 1, 201)) == pytest.approx(1.0)
    assert max(g * 1 for g in np.linspace(0, 1, 101)) == pytest.approx(1.0)
    assert max(g * -1 for g in np.linspace(0, 1, 101)) == pytest.approx(0.0)
    assert np.sign(0.0) == 0.0


# --- chapter 05: level sets -------------------------------------------------------------------


def test_05_wavy_critical_points():
    f = sp.sin(x_) + sp.cos(y_)
    grad = [sp.diff(f, v) for v in (x_, y_)]
    assert [sp.simplify(gi - ei) for gi, ei in zip(grad, (sp.cos(x_), -sp.sin(y_)))] == [0, 0]
    cases = {(sp.pi / 2, 0): 2, (-sp.pi / 2, sp.pi): -2, (-sp.pi / 2, -sp.pi): -2, (-sp.pi / 2, 0): 0}
    for (px, py), value in cases.items():
        subs = {x_: px, y_: py}
        assert [gi.subs(subs) for gi in grad] == [0, 0]
        assert f.subs(subs) == value
    hess = sp.hessian(f, (x_, y_)).subs({x_: -sp.pi / 2, y_: 0})
    assert hess.det() < 0  # the crossing contours mark a saddle
    assert np.allclose(wavy_grad(np.array([0.3, -1.2])), numerical_gradient(wavy_f, np.array([0.3, -1.2])))


def test_05_gradient_perpendicular_and_tangent_steps():
    p = np.array([0.6, 0.9])
    g = wavy_grad(p)
    t = level_tangent(g)
    assert abs(g @ t) < 1e-15
    assert np.linalg.norm(g) == pytest.approx(1.138, abs=5e-4)
    for s in (0.1, 0.01, 0.001):
        along_t = wavy_f(p + s * t) - wavy_f(p)
        along_g = wavy_f(p + s * unit_vector(g)) - wavy_f(p)
        assert along_t / s**2 == pytest.approx(-0.30, abs=0.005)
        assert along_g / s == pytest.approx(1.14, abs=0.04)
    assert round(wavy_f(p + 0.1 * t) - wavy_f(p), 5) == -0.00297


def test_05_chain_rule_along_a_level_curve():
    A = np.array(EXAMPLE_MATRIX)
    lam, V = np.linalg.eigh(A)
    tau = np.linspace(0, 2 * np.pi, 13)
    points = np.sqrt(3.0) * (V @ (np.stack([np.cos(tau), np.sin(tau)]) / np.sqrt(lam)[:, None]))
    velocity = np.sqrt(3.0) * (V @ (np.stack([-np.sin(tau), np.cos(tau)]) / np.sqrt(lam)[:, None]))
    grads = 2 * A @ points
    assert np.allclose(np.sum(grads * velocity, axis=0), 0.0, atol=1e-12)


def test_05_try_it_level_slope():
    f = x_**2 + 3 * y_**2
    slope = (-sp.diff(f, x_) / sp.diff(f, y_)).subs({x_: 1, y_: 1})
    assert slope == sp.Rational(-1, 3)
    grad = np.array([2.0, 6.0])
    assert grad @ np.array([1.0, -1 / 3]) == pytest.approx(0.0)


def test_05_quadratic_form_eigen_facts():
    A = sp.Matrix(EXAMPLE_MATRIX).applyfunc(sp.nsimplify)
    p = sp.Matrix([x_, y_])
    form = sp.expand((p.T * A * p)[0])
    assert form == 5 * x_**2 + 4 * x_ * y_ + 2 * y_**2
    grad = sp.Matrix([sp.diff(form, v) for v in (x_, y_)])
    assert sp.simplify(grad - 2 * A * p) == sp.zeros(2, 1)
    assert A.eigenvals() == {1: 1, 6: 1}
    An = np.array(EXAMPLE_MATRIX)
    for value, vec in ((1.0, [1.0, -2.0]), (6.0, [2.0, 1.0])):
        assert np.allclose(An @ vec, value * np.array(vec))
    lam = np.linalg.eigvalsh(An)
    assert np.allclose(np.sqrt(6.0 / lam), [2.449, 1.0], atol=5e-4)
    assert lam[1] / lam[0] == pytest.approx(6.0)
    assert np.sqrt(lam[1] / lam[0]) == pytest.approx(2.449, abs=5e-4)


def test_05_level_curve_caption_facts():
    A = np.array(EXAMPLE_MATRIX)
    lam, V = np.linalg.eigh(A)
    for c in (0.5, 2.0, 6.0):
        pts = quadratic_level_curve(A, c, n=2001)
        r = np.hypot(*pts.T)
        assert r.max() == pytest.approx(np.sqrt(c), rel=1e-5)
        big = quadratic_level_curve(A, 4 * c, n=2001)
        assert np.hypot(*big.T).max() == pytest.approx(2 * r.max(), rel=1e-5)
        assert r.max() / r.min() == pytest.approx(np.sqrt(6), rel=1e-5)
        short_end, long_end = np.sqrt(c / 6) * V[:, 1], np.sqrt(c) * V[:, 0]
        ratio = np.linalg.norm(2 * A @ short_end) / np.linalg.norm(2 * A @ long_end)
        assert ratio == pytest.approx(np.sqrt(6))
        gradient_lengths = np.linalg.norm(2 * pts @ A, axis=1)
        assert gradient_lengths.max() / gradient_lengths.min() == pytest.approx(np.sqrt(6), rel=1e-5)


def test_05_try_it_level_with_short_axis_two():
    c = 24.0
    lam = np.linalg.eigvalsh(np.array(EXAMPLE_MATRIX))
    assert np.sqrt(c / lam).tolist() == pytest.approx([np.sqrt(24), 2.0])
    assert round(np.sqrt(24), 1) == 4.9


def test_05_condition_number_angle():
    kappa = sp.symbols("kappa", positive=True)
    px, py = 2 * sp.cos(sp.pi / 4), 2 / sp.sqrt(kappa) * sp.sin(sp.pi / 4)
    f = px**2 + kappa * py**2
    grad = sp.Matrix([2 * px, 2 * kappa * py])
    p = sp.Matrix([px, py])
    assert sp.simplify(f - 4) == 0
    assert sp.simplify((p.T * grad)[0] - 2 * f) == 0
    cos_alpha = (p.T * grad)[0] / (p.norm() * grad.norm())
    # Both sides are positive, so comparing squares settles it (sympy keeps sqrt((1 + kappa)**2) otherwise).
    assert sp.simplify(cos_alpha**2 - 4 * kappa / (1 + kappa) ** 2) == 0
    printed = {1: 0.0, 4: 36.9, 10: 54.9, 30: 69.3}
    for k, angle in printed.items():
        assert round(float(np.degrees(np.arccos(2 * np.sqrt(k) / (1 + k)))), 1) == angle
    assert np.degrees(np.arccos(2 * np.sqrt(1e8) / (1 + 1e8))) > 89.9
    assert sp.hessian(x_**2 + kappa * y_**2, (x_, y_)) == sp.diag(2, 2 * kappa)


def test_05_flat_direction_factor_at_the_stable_step():
    lam_min, lam_max = 2.0, 12.0  # the Hessian 2A's eigenvalues, not A's
    eta = 2 / lam_max
    assert 1 - eta * lam_min == pytest.approx(1 - 2 / (lam_max / lam_min))
    assert abs(1 - eta * lam_max) == pytest.approx(1.0)


# --- chapter 06: gradients in machine learning ------------------------------------------------


@pytest.fixture(scope="module")
def data():
    return regression.make_regression()


def test_06_data_set(data):
    X, y = data
    assert X.shape == (40, 2) and np.all(X[:, 0] == 1.0)
    assert np.allclose(regression.least_squares(X, y), [1.5, 2.0], atol=0.5)


def test_06_mse_gradient_formula_and_values(data):
    X, y = data
    # The formula, symbolically for a general 3 x 2 problem ...
    Xs, ys, ws = sp.Matrix(3, 2, sp.symbols("a0:6")), sp.Matrix(sp.symbols("b0:3")), sp.Matrix(sp.symbols("w0:2"))
    r = Xs * ws - ys
    L = (r.T * r)[0] / 3
    grad_sym = sp.Matrix([sp.diff(L, wi) for wi in ws])
    assert sp.expand(grad_sym - sp.Rational(2, 3) * Xs.T * r) == sp.zeros(2, 1)
    # ... and numerically for the chapter's data.
    w = np.array([0.3, -0.2])
    assert np.allclose(losses.mse_grad(X, y, w), numerical_gradient(lambda v: losses.mse(X, y, v), w), rtol=1e-8)
    assert losses.mse(X, y, np.zeros(2)) == pytest.approx(15.13, abs=5e-3)
    assert np.allclose(losses.mse_grad(X, y, np.zeros(2)), [-7.06, -9.06], atol=5e-3)
    result = check_gradient(lambda v: losses.mse(X, y, v), lambda v: losses.mse_grad(X, y, v), np.zeros(2))
    assert result.passed and result.relative_error < 1e-10


def test_06_least_squares_solution(data):
    X, y = data
    w_star = regression.least_squares(X, y)
    assert np.allclose(w_star, [1.689, 1.959], atol=5e-4)
    assert np.allclose(X.T @ X @ w_star, X.T @ y)


def test_06_logistic_gradient(data):
    X, y = data
    z = sp.symbols("z")
    sig = 1 / (1 + sp.exp(-z))
    assert sp.simplify(sp.diff(sig, z) - sig * (1 - sig)) == 0
    yy = sp.symbols("yy")
    bracket = -(yy * sp.log(sig) + (1 - yy) * sp.log(1 - sig))
    assert sp.simplify(sp.diff(bracket, z) - (sig - yy)) == 0
    labels = (y > np.median(y)).astype(float)
    assert labels.sum() == 20
    result = check_gradient(lambda w: losses.logistic_loss(w, X, labels),
                            lambda w: losses.logistic_grad(w, X, labels), np.array([-1.0, 0.5]))
    assert result.passed and result.relative_error < 1e-10


def test_06_softmax_cross_entropy_values():
    z = np.array([2.0, 1.0, -1.0])
    onehot = np.array([1.0, 0.0, 0.0])
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(losses.softmax(z), [0.705, 0.259, 0.035], atol=5e-4)
    jac = numerical_jacobian(losses.softmax, z)
    assert np.allclose(jac, np.diag(p) - np.outer(p, p), atol=1e-8)
    grad = losses.cross_entropy_grad(z, onehot)
    assert np.allclose(grad, p - onehot) and np.allclose(grad, [-0.295, 0.259, 0.035], atol=5e-4)
    assert grad.sum() == pytest.approx(0.0, abs=1e-15)
    result = check_gradient(lambda v: losses.cross_entropy(v, onehot),
                            lambda v: losses.cross_entropy_grad(v, onehot), z)
    assert result.passed and result.relative_error < 1e-10
    other = losses.cross_entropy_grad(z, np.array([0.0, 0.0, 1.0]))
    assert np.allclose(other, [0.705, 0.259, -0.965], atol=5e-4)


def test_06_l2_regularisation(data):
    X, y = data
    lam, eta = 0.5, 0.1
    w = np.array([1.0, -2.0])
    assert np.allclose(losses.l2_grad(w, lam), numerical_gradient(lambda v: losses.l2_penalty(v, lam), w))
    step = w - eta * (losses.mse_grad(X, y, w) + lam * w)
    assert np.allclose(step, (1 - eta * lam) * w - eta * losses.mse_grad(X, y, w))
    result = check_gradient(lambda v: losses.mse(X, y, v) + losses.l2_penalty(v, lam),
                            lambda v: losses.mse_grad(X, y, v) + losses.l2_grad(v, lam), np.array([1.0, 1.0]))
    assert result.passed
    H = regression.mse_hessian(X)
    w_reg = np.linalg.solve(H + lam * np.eye(2), 2 / 40 * X.T @ y)
    assert np.allclose(losses.mse_grad(X, y, w_reg) + lam * w_reg, 0.0, atol=1e-12)
    w_star = regression.least_squares(X, y)
    assert np.linalg.norm(w_star) == pytest.approx(2.587, abs=5e-4)
    assert np.linalg.norm(w_reg) == pytest.approx(2.323, abs=5e-4)
    shifted = np.linalg.eigvalsh(H + lam * np.eye(2))
    assert np.allclose(shifted, np.linalg.eigvalsh(H) + lam)
    assert shifted[1] / shifted[0] < np.linalg.eigvalsh(H)[1] / np.linalg.eigvalsh(H)[0]


def test_06_error_recursion_and_threshold(data):
    X, y = data
    H = regression.mse_hessian(X)
    assert np.allclose(H, numerical_hessian(lambda v: losses.mse(X, y, v), np.array([0.2, 0.7])), atol=1e-5)
    w_star = regression.least_squares(X, y)
    w = np.array([-0.4, 3.0])
    assert np.allclose(losses.mse_grad(X, y, w), H @ (w - w_star))
    eta = 0.3
    assert np.allclose((w - eta * losses.mse_grad(X, y, w)) - w_star, (np.eye(2) - eta * H) @ (w - w_star))
    lam_min, lam_max = regression.hessian_eigenvalues(X)
    assert lam_min == pytest.approx(0.557, abs=5e-4)
    assert lam_max == pytest.approx(4.447, abs=5e-4)
    assert 2 / lam_max == pytest.approx(0.4497, abs=5e-5)
    assert regression.stable_learning_rate(X) == pytest.approx(2 / lam_max)
    assert lam_max / lam_min == pytest.approx(7.98, abs=5e-3)


def test_06_runs_either_side_of_the_threshold(data):
    X, y = data
    lam_max = regression.hessian_eigenvalues(X)[1]
    below = regression.gd_run(X, y, 0.44, 100)
    above = regression.gd_run(X, y, 0.46, 100)
    assert below.excess[0] == pytest.approx(14.8, abs=0.05)
    assert below.excess[-1] == pytest.approx(0.0022, abs=5e-5)
    assert above.excess[-1] == pytest.approx(1.2e5, rel=0.05)
    assert abs(1 - 0.44 * lam_max) == pytest.approx(0.957, abs=5e-4)
    assert abs(1 - 0.46 * lam_max) == pytest.approx(1.046, abs=5e-4)
    assert (0.46 - 0.44) / 0.44 < 0.05


def test_06_slider_grid_straddles_the_threshold(data):
    X, _ = data
    critical = regression.stable_learning_rate(X)
    assert len(LR_GRID) == 49 and LR_GRID[0] == pytest.approx(0.02) and LR_GRID[-1] == pytest.approx(0.5)
    assert 0.44 < critical < 0.45


def test_06_caption_zigzag_slow_and_best_rates(data):
    X, y = data
    lam_min, lam_max = regression.hessian_eigenvalues(X)
    assert 1 / lam_max == pytest.approx(0.225, abs=5e-4)
    v_max = np.linalg.eigh(regression.mse_hessian(X))[1][:, 1]
    w_star = regression.least_squares(X, y)
    for eta, zigzags in ((0.2, False), (0.3, True)):
        along = (regression.gd_run(X, y, eta, 8).path - w_star) @ v_max
        assert bool(np.all(along[1:] * along[:-1] < 0)) is zigzags
    assert 1 - 0.02 * lam_min == pytest.approx(0.989, abs=5e-4)
    best = 2 / (lam_min + lam_max)
    assert best == pytest.approx(0.40, abs=5e-3)
    assert abs(1 - best * lam_min) == pytest.approx(abs(1 - best * lam_max))


def test_06_try_it_growth_factor(data):
    X, _ = data
    lam_max = regression.hessian_eigenvalues(X)[1]
    factor = abs(1 - 0.5 * lam_max)
    assert factor == pytest.approx(1.224, abs=5e-4)
    assert factor**100 == pytest.approx(6e8, rel=0.05)


def test_06_minibatch_variance_formula_exactly(data):
    X, y = data
    w_star = regression.least_squares(X, y)
    per_example = 2 * X * (X @ w_star - y)[:, None]
    m, b = 40, 2
    batches = np.array([per_example[list(pair)].mean(axis=0) for pair in itertools.combinations(range(m), b)])
    assert np.allclose(batches.mean(axis=0), per_example.mean(axis=0), atol=1e-12)  # unbiased
    exact = np.mean(np.sum((batches - per_example.mean(axis=0)) ** 2, axis=1))
    sigma2 = np.sum(np.var(per_example, axis=0))
    assert exact == pytest.approx(sigma2 / b * (m - b) / (m - 1), rel=1e-10)


def test_06_printed_noise_levels(data):
    X, y = data
    w_star = regression.least_squares(X, y)
    printed = {1: 1.85, 4: 0.90, 16: 0.36}
    per_example = 2 * X * (X @ w_star - y)[:, None]
    sigma2 = np.sum(np.var(per_example, axis=0))
    values = {}
    for b in (1, 4, 16, 40):
        g = regression.minibatch_gradients(X, y, w_star, b, draws=2000, seed=1)
        values[b] = np.sqrt(np.mean(np.sum(g**2, axis=1)))
        theory = np.sqrt(sigma2 / b * (40 - b) / 39)
        assert values[b] == pytest.approx(theory, rel=0.05, abs=1e-12)
    for b, value in printed.items():
        assert values[b] == pytest.approx(value, abs=0.006)
    assert values[40] < 1e-12
    assert 0.4 < values[4] / values[1] < 0.5 and values[16] / values[4] < 0.5
    # with b = 1 only the 40 per-example gradients can occur
    assert len(np.unique(np.round(regression.minibatch_gradients(X, y, w_star, 1, draws=300), 10), axis=0)) <= 40


def test_06_sgd_plateau_and_full_batch(data):
    X, y = data
    plateaus = [np.mean(regression.sgd_run(X, y, 0.1, 150, b, seed=0).excess[-50:]) for b in (1, 4, 16)]
    assert plateaus[0] > plateaus[1] > plateaus[2]
    assert np.allclose(regression.sgd_run(X, y, 0.1, 150, 40).excess, regression.gd_run(X, y, 0.1, 150).excess)


def test_06_all_gradient_checks_have_relative_error_of_order_1e_11(data):
    X, y = data
    labels = (y > np.median(y)).astype(float)
    z, onehot = np.array([2.0, 1.0, -1.0]), np.array([1.0, 0.0, 0.0])
    w, b, x = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x"))
    checks = [
        check_gradient(lambda v: losses.mse(X, y, v), lambda v: losses.mse_grad(X, y, v), np.zeros(2)),
        check_gradient(lambda v: losses.logistic_loss(v, X, labels), lambda v: losses.logistic_grad(v, X, labels),
                       np.array([-1.0, 0.5])),
        check_gradient(lambda v: losses.cross_entropy(v, onehot), lambda v: losses.cross_entropy_grad(v, onehot), z),
        check_gradient(lambda v: losses.mse(X, y, v) + losses.l2_penalty(v, 0.5),
                       lambda v: losses.mse_grad(X, y, v) + losses.l2_grad(v, 0.5), np.array([1.0, 1.0])),
        check_gradient(lambda v: losses.sigmoid(w @ v + b), lambda v: regression.logistic_input_gradient(w, b, v), x),
    ]
    assert all(c.passed and c.relative_error < 5e-11 for c in checks), [c.relative_error for c in checks]


def test_06_input_gradient_and_saliency():
    w, b, x = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x"))
    assert w.tolist() == [1.2, -2.0, 0.4, 0.8] and b == -0.2 and x.tolist() == [0.9, -0.3, 0.5, 0.2]
    logit = w @ x + b
    p = 1 / (1 + np.exp(-logit))
    assert logit == pytest.approx(1.84) and p == pytest.approx(0.863, abs=5e-4)
    assert p * (1 - p) == pytest.approx(0.118, abs=5e-4)
    grad = regression.logistic_input_gradient(w, b, x)
    assert np.allclose(grad, numerical_gradient(lambda v: float(losses.sigmoid(w @ v + b)), x), atol=1e-9)
    assert np.argmax(np.abs(grad)) == 1 and grad[1] < 0
    xs = sp.symbols("x1:5")
    p_sym = 1 / (1 + sp.exp(-(sum(wi * xi for wi, xi in zip(w.tolist(), xs)) + b)))
    sym = [float(sp.diff(p_sym, xi).subs(dict(zip(xs, x.tolist())))) for xi in xs]
    assert np.allclose(grad, sym)


def test_06_sign_step_flips_the_prediction():
    w, b, x, eps = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x", "eps"))
    p = 1 / (1 + np.exp(-(w @ x + b)))
    g_loss = regression.logistic_loss_input_gradient(w, b, x, 1)
    assert np.allclose(g_loss, (p - 1) * w)
    x_adv = regression.sign_gradient_step(x, g_loss, float(eps))
    assert np.allclose(x_adv, [0.4, 0.2, 0.0, -0.3])
    logit_adv = w @ x_adv + b
    assert logit_adv == pytest.approx(-0.36) and logit_adv == pytest.approx(w @ x + b - eps * np.abs(w).sum())
    assert np.abs(w).sum() == pytest.approx(4.4)
    p_adv = 1 / (1 + np.exp(-logit_adv))
    assert p_adv == pytest.approx(0.411, abs=5e-4)
    assert p > 0.5 > p_adv, "the step must flip the predicted class"


def test_06_sign_step_is_the_best_box_step():
    g = np.array([0.3, -1.2, 0.05, 0.7])
    eps = 0.5
    vertices = np.array(list(itertools.product((-eps, eps), repeat=4)))
    best = vertices[np.argmax(vertices @ g)]
    assert np.allclose(best, eps * np.sign(g))
    assert (vertices @ g).max() == pytest.approx(eps * np.abs(g).sum())
    rng = np.random.default_rng(3)
    inside = rng.uniform(-eps, eps, size=(2000, 4))
    assert np.all(inside @ g <= eps * np.abs(g).sum() + 1e-12)


def test_06_try_it_smallest_flipping_step():
    w, b, x = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x"))
    eps_star = (w @ x + b) / np.abs(w).sum()
    assert eps_star == pytest.approx(1.84 / 4.4) and round(eps_star, 3) == 0.418
    assert w @ (x - eps_star * np.sign(w)) + b == pytest.approx(0.0, abs=1e-12)
    assert eps_star < SALIENCY_MODEL["eps"]


# --- the "Try it" answers stored in nablakit.selfcheck -----------------------------------------


def stored(name):
    return np.asarray(QUESTIONS[name].expected, dtype=float)


def test_04_06_stored_try_it_answers(data):
    assert stored("04.slope") == pytest.approx(directional_derivative([3.0, 4.0], [-0.6, 0.8]))
    assert stored("04.true-slope") == pytest.approx(directional_derivative([3.0, 4.0], unit_vector([3.0, -1.0])))
    f = x_**2 + 3 * y_**2
    assert stored("05.level-slope") == pytest.approx(float((-sp.diff(f, x_) / sp.diff(f, y_)).subs({x_: 1, y_: 1})))
    lam_max = np.linalg.eigvalsh(np.array(EXAMPLE_MATRIX))[1]
    assert np.sqrt(stored("05.short-axis") / lam_max) == pytest.approx(2.0)
    z = np.array([2.0, 1.0, -1.0])
    assert np.allclose(stored("06.softmax-gradient"), losses.cross_entropy_grad(z, [0.0, 0.0, 1.0]))
    X, _ = data
    growth = abs(1 - 0.5 * regression.hessian_eigenvalues(X)[1])
    assert stored("06.growth-factor") == pytest.approx(growth, rel=1e-5)
    w, b, x = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x"))
    assert stored("06.flip-eps") == pytest.approx((w @ x + b) / np.abs(w).sum())


def test_05_condition_number_widget_levels():
    assert KAPPA_LEVELS == (0.25, 1.0, 2.25, 4.0)  # the caption lists these levels
    assert KAPPA_LEVELS[-1] == 4.0  # the marked point lies on f = 4


def test_06_mse_check_is_around_1e_11(data):
    X, y = data
    result = check_gradient(lambda v: losses.mse(X, y, v), lambda v: losses.mse_grad(X, y, v), np.zeros(2))
    # "of order 1e-11 or smaller": pure round-off (no truncation for a quadratic), so only an upper band,
    # the model size eps |L| / (h |grad L|) ~ 3e-11 with a factor 3 to spare; the digits vary by machine
    L, g = losses.mse(X, y, np.zeros(2)), losses.mse_grad(X, y, np.zeros(2))
    model = np.finfo(float).eps * L / (1e-5 * np.linalg.norm(g))
    assert model == pytest.approx(3e-11, rel=0.2) and result.relative_error < 3 * model


# --- issue 21, section 4 ----------------------------------------------------------------------


def prose(number):
    """The markdown of chapter ``number`` (two digits), found by file name."""
    (path,) = (Path(__file__).resolve().parents[1] / "course").glob(f"{number}-*.ipynb")
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_04_one_name_per_angle():
    """theta is the slider's angle from the x-axis; alpha the angle between u and the gradient."""
    phi = np.degrees(np.arctan2(4.0, 3.0))
    thetas = np.radians(np.arange(0.0, 361.0))
    u = np.column_stack([np.cos(thetas), np.sin(thetas)])
    shadow = u @ (np.array([3.0, 4.0]) / 5.0)            # signed length of the orange bar
    assert np.allclose(shadow, np.cos(thetas - np.radians(phi)))
    assert not np.allclose(shadow, np.cos(thetas))       # "cos theta" is wrong for the slider's theta
    assert np.allclose(5 * shadow, 3 * np.cos(thetas) + 4 * np.sin(thetas))
    text = prose("04")
    assert "angle $\\theta$ between" not in text and "angle $\\alpha$ between" in text
    assert "\\cos\\alpha = \\cos(\\theta - 53.1^\\circ)" in text and "\\alpha = \\theta - 53.1^\\circ" in text
    # every remaining cos(theta) belongs to the slider's u = (cos theta, sin theta)
    rest = text.replace("(\\cos\\theta, \\sin\\theta)", "").replace("3\\cos\\theta + 4\\sin\\theta", "")
    assert "\\cos\\theta" not in rest


def test_05_pits_on_the_plot_edge_show_half_rings():
    fig = gradient_contour_figure()
    ax = fig.axes[0]
    assert np.allclose(ax.get_xlim(), (-np.pi, np.pi)) and np.allclose(ax.get_ylim(), (-np.pi, np.pi))
    plt.close(fig)
    for pit in (np.array([-np.pi / 2, np.pi]), np.array([-np.pi / 2, -np.pi])):
        assert np.allclose(wavy_grad(pit), 0.0, atol=1e-15) and wavy_f(pit) == pytest.approx(-2.0)
        assert np.all(np.linalg.eigvalsh(numerical_hessian(wavy_f, pit)) > 0.5)   # a minimum
        assert abs(pit[1]) == pytest.approx(np.pi)                                # on the map's edge
    summit = np.array([np.pi / 2, 0.0])
    assert wavy_f(summit) == pytest.approx(2.0) and np.all(np.abs(summit) < np.pi - 1)   # inside: full rings
    text = prose("05")
    assert "and around the pits" not in text
    assert "half-rings at the top and bottom edges, around the pits" in text


def test_06_features_are_counted_from_zero():
    w, b, x = (np.array(SALIENCY_MODEL[k], dtype=float) for k in ("w", "b", "x"))
    grad = regression.logistic_input_gradient(w, b, x)
    most = int(np.argmax(np.abs(grad)))
    assert most == 1 and w[most] == -2.0 and grad[most] < 0    # x_1 counting from 0, as w_0, w_1 of section 1
    text = prose("06")
    assert "$w_0$ is the\nintercept" in text                     # the chapter counts from 0
    assert "feature 2" not in text and f"feature $x_{most}$" in text
    fig = saliency_figure()
    labels = [tick.get_text() for tick in fig.axes[0].get_xticklabels()]
    plt.close(fig)
    assert labels == ["$x_0$", "$x_1$", "$x_2$", "$x_3$"]
