"""Statements corrected in issue 14 (section 1) and issue 21 (section 4), each checked so that the old wording would fail.

Chapters are found by their name, not their number, so the tests survive a renumbering.
"""

import numpy as np
import pytest
import sympy as sp

from nablakit import depth as dp
from nablakit import fd_error
from nablakit.calculus import level_tangent
from nablakit.gradcheck import relative_error
from nablakit.numdiff import numerical_gradient
from nablakit.optimizers import gradient_descent
from nablakit.widgets.level_sets import EXAMPLE_MATRIX


# ---- gradient checking §1: the relative error is exactly 1 for opposite *or zero* gradients


def test_relative_error_is_one_for_opposite_or_zero_gradients():
    g = np.array([0.5, -2.0, 1.5])
    assert relative_error(np.zeros(3), g) == 1.0       # all-zero analytic gradient: like a sign flip
    assert relative_error(g, np.zeros(3)) == 1.0
    for c in (0.0, 0.1, 1.0, 3.0, 1e3):
        assert relative_error(g, -c * g) == pytest.approx(1.0, abs=1e-15)
    assert relative_error(g, -g) == pytest.approx(1.0)  # the printed special cases
    assert relative_error(g, -3 * g) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0   # both zero: 0, thanks to `tiny`
    # and only then: any pair that is not (anti)parallel-or-zero scores strictly below 1
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b = rng.normal(size=3), rng.normal(size=3)
        assert relative_error(a, b) < 1 - 1e-6


# ---- gradients in ML §2: the derivative of the *loss* (minus the bracket)


def test_logistic_loss_derivative_is_minus_the_brackets():
    p, y = sp.symbols("p y", positive=True)
    bracket = y * sp.log(p) + (1 - y) * sp.log(1 - p)
    stated = -y / p + (1 - y) / (1 - p)
    assert sp.simplify(sp.diff(-bracket, p) - stated) == 0     # the loss ell = -bracket
    assert sp.simplify(sp.diff(bracket, p) + stated) == 0      # the bracket's own derivative has the other sign
    assert sp.simplify(stated * p * (1 - p) - (p - y)) == 0


# ---- level sets §2 and §4


def test_tangent_needs_a_nonzero_gradient_and_the_saddle_has_two_level_lines():
    assert level_tangent(np.zeros(2)) is None
    s = sp.symbols("s", real=True)
    for sign in (1, -1):
        assert sp.simplify(sp.sin(s - sp.pi / 2) + sp.cos(sign * s)) == 0
    x, y = sp.symbols("x y", real=True)
    f = sp.sin(x) + sp.cos(y)
    at = {x: -sp.pi / 2, y: 0}
    assert [sp.diff(f, v).subs(at) for v in (x, y)] == [0, 0]
    # the lines y = +-(x + pi/2) have directions (1, 1) and (1, -1): a right angle
    assert np.dot([1, 1], [1, -1]) == 0


def test_stability_limit_uses_the_hessian_of_the_chapter_matrix():
    A = np.array(EXAMPLE_MATRIX)
    x, y = sp.symbols("x y")
    form = sp.expand((sp.Matrix([x, y]).T * sp.Matrix(EXAMPLE_MATRIX).applyfunc(sp.nsimplify) * sp.Matrix([x, y]))[0])
    H = np.array(sp.hessian(form, (x, y)), dtype=float)
    assert np.allclose(H, 2 * A)
    h = np.linalg.eigvalsh(H)
    assert np.allclose(h, [2.0, 12.0]) and 2 / h[-1] == pytest.approx(1 / 6)
    assert np.allclose(np.linalg.eigvalsh(A), [1.0, 6.0])   # the old text's 2/lambda_max(A) = 1/3 ...
    distances = {}
    for eta in (0.16, 0.17, 0.3):
        path = gradient_descent(lambda q: H @ q, [1.0, 1.0], eta, 200)
        distances[eta] = np.linalg.norm(path[-1])
    assert distances[0.16] < 1e-6 and distances[0.17] > 1e3    # printed: converges / grows to thousands
    assert not np.isfinite(distances[0.3])                       # ... diverges far below 1/3
    assert 1 - 0.16 * 12 == pytest.approx(-0.92) and 1 - 0.17 * 12 == pytest.approx(-1.04)
    # just either side of the limit
    for eta, converges in ((0.99 / 6, True), (1.01 / 6, False)):
        end = np.linalg.norm(gradient_descent(lambda q: H @ q, [1.0, 1.0], eta, 2000)[-1])
        assert (end < 1e-3) == converges
    # flat-direction factor at eta = 2 / h_max is 1 - 2 / kappa
    assert 1 - (2 / h[-1]) * h[0] == pytest.approx(1 - 2 / (h[-1] / h[0]))


# ---- loss landscapes §6: the spectral radius decides the long run, the norm bounds the growth


def test_spectral_radius_not_norm_decides_explosion():
    W = np.array([[0.5, 3.0], [0.0, 0.5]])
    norm, rho = np.linalg.norm(W, 2), max(abs(np.linalg.eigvals(W)))
    assert norm == pytest.approx(3.08, abs=0.005) and rho == pytest.approx(0.5)
    powers = {k: np.linalg.norm(np.linalg.matrix_power(W, k), 2) for k in range(1, 51)}
    assert powers[1] > 2.9 and powers[2] > 2.9 and powers[3] < 2.9     # "stay near 3 for two steps"
    assert powers[10] == pytest.approx(0.06, abs=0.005)
    assert 2e-13 < powers[50] < 4e-13                                  # "about 3e-13"
    assert all(powers[k] <= norm**k * (1 + 1e-12) for k in powers)    # the norm bounds the growth
    k = 1000                                                           # Gelfand: the k-th root tends to rho
    assert np.linalg.norm(np.linalg.matrix_power(W, k), 2) ** (1 / k) == pytest.approx(rho, rel=0.02)
    for r in (0.9, 1.1):                                               # scaled rotations: norm = radius
        R = dp.scaled_rotation(r)
        assert np.linalg.norm(R, 2) == pytest.approx(max(abs(np.linalg.eigvals(R)))) == pytest.approx(r)


def test_recurrence_helper_says_the_norm_only_bounds_the_growth():
    doc = dp.recurrence_grad_norms.__doc__
    assert "exploding for spectral norm > 1" not in doc
    assert "only bounds" in doc and "spectral radius" in doc
    W = np.array([[0.5, 3.0], [0.0, 0.5]])                             # the docstring's shear
    assert f"{np.linalg.norm(W, 2):.2f}" == "3.08" and "3.08" in doc
    assert f"{dp.recurrence_grad_norms(W, 50)[0]:.1e}" == "2.7e-13" and "2.7e-13" in doc


def test_sigmoid_bound_needs_small_weights():
    L = 20
    for w in (1.0, 0.5, 3.0, 6.0):
        g = dp.sigmoid_chain(L, weight=w)[1][0]
        assert abs(g) <= (abs(w) / 4) ** L * (1 + 1e-12)
    # with |w| > 4 the bound (|w|/4)^L exceeds 1: 0.25^L is not a bound for every weight
    assert (6.0 / 4) ** L > 1 > 0.25**L
    assert abs(dp.sigmoid_chain(L, weight=6.0, bias=-3.0)[1][0]) > 0.25**L


# ---- gradient vector §6: which measure says "about 0.2" and which "47 %"


def test_2Ax_shortcut_error_by_both_measures():
    rng = np.random.default_rng(0)
    A, _, _, x0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    wrong, true = 2 * A @ x0, (A + A.T) @ x0
    assert relative_error(wrong, numerical_gradient(lambda v: v @ A @ v, x0)) == pytest.approx(0.198, abs=0.001)
    assert np.linalg.norm(wrong - true) / np.linalg.norm(true) == pytest.approx(0.47, abs=0.005)


# ---- finite differences §4-5: a range from theory, which both quoted machines' values obey


def test_best_step_range_from_theory():
    E = np.e
    central = fd_error.optimal_step("central", f_scale=E, derivative_scale=E)
    forward = fd_error.optimal_step("forward", f_scale=E, derivative_scale=E)
    assert central == pytest.approx((3 * np.finfo(float).eps) ** (1 / 3))
    assert central / 3 == pytest.approx(3e-6, rel=0.04) and central == pytest.approx(9e-6, rel=0.04)
    assert forward / 5 == pytest.approx(6e-9, rel=0.02) and forward == pytest.approx(3e-8, rel=0.02)
    for measured in (5.0e-6, 7.9e-6):                       # the two machines quoted in the chapter
        assert central / 3 <= measured <= central
    # a round-off term c times smaller moves the best step by c**(-1/3) (centred), c**(-1/2) (forward)
    c = 27.0
    smaller = fd_error.optimal_step("central", f_scale=E / c, derivative_scale=E)
    assert smaller == pytest.approx(central / 3)
    assert fd_error.optimal_step("forward", f_scale=E / 25, derivative_scale=E) == pytest.approx(forward / 5)


# ---- the suite must pass on any machine: the most rounding-sensitive run, perturbed


def test_spiky_training_run_is_insensitive_to_rounding():
    """The eta = 0.5 run of the gradient-norm section is the most sensitive to rounding (it trains at
    the edge of stability). Perturbing its start by 1e-15 relative, the size of the rounding differences
    between machines' maths libraries, moves its gradient norms by far less than the bands of the facts."""
    from nablakit import training as tr
    from nablakit.networks import init_mlp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(64, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=64)
    p0 = init_mlp(1, 16, 1, rng=1)
    noise = np.random.default_rng(100)
    p1 = {k: v * (1 + 1e-15 * noise.normal(size=np.shape(v))) for k, v in p0.items()}
    g0 = np.array(tr.train_mlp(p0, X, y, 0.5, 600, rng=2)[1]["grad_norm"])
    g1 = np.array(tr.train_mlp(p1, X, y, 0.5, 600, rng=2)[1]["grad_norm"])
    assert np.max(np.abs(g1 / g0 - 1)) < 1e-3
