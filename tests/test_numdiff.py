"""Finite differences: agreement with sympy, convergence order, input checks."""

import numpy as np
import pytest
import sympy as sp

from nablakit.numdiff import (
    backward_difference,
    central_difference,
    difference_quotient,
    forward_difference,
    numerical_gradient,
    numerical_hessian,
    numerical_jacobian,
)

t = sp.Symbol("t")
ONE_D = {
    "polynomial": t**3 - 2 * t**2 + t - 5,
    "exp-log": sp.exp(t / 2) * sp.log(1 + t**2),
    "trig": sp.sin(t) * sp.cos(2 * t),
}
a, b, c = sp.symbols("a b c")
MULTI = a * b**2 + sp.exp(a * c) - sp.sin(b * c)
X0 = np.array([0.4, -1.1, 0.7])
multi_f = sp.lambdify([(a, b, c)], MULTI, "numpy")


def slope(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("rule, tol", [(forward_difference, 1e-5), (backward_difference, 1e-5),
                                       (central_difference, 1e-8)])
def test_one_d_rules_match_sympy(name, rule, tol):
    f = sp.lambdify(t, ONE_D[name], "numpy")
    exact = sp.lambdify(t, sp.diff(ONE_D[name], t), "numpy")
    for x in (-1.3, 0.2, 1.7):
        assert rule(f, x) == pytest.approx(exact(x), abs=tol)


@pytest.mark.parametrize("rule, order", [(forward_difference, 1), (backward_difference, 1),
                                         (central_difference, 2)])
@pytest.mark.parametrize("name", ONE_D)
def test_convergence_order_one_d(rule, order, name):
    f = sp.lambdify(t, ONE_D[name], "numpy")
    exact = float(sp.diff(ONE_D[name], t).subs(t, 0.8))
    # Large enough for round-off (~1e-16 / h) to stay far below truncation error.
    hs = np.logspace(-1, -3, 7)
    errors = [abs(rule(f, 0.8, h=h) - exact) for h in hs]
    assert slope(hs, errors) == pytest.approx(order, abs=0.2)


@pytest.mark.parametrize("method, order", [("forward", 1), ("backward", 1), ("central", 2)])
def test_convergence_order_gradient(method, order):
    exact = np.array([float(sp.diff(MULTI, v).subs(dict(zip((a, b, c), X0)))) for v in (a, b, c)])
    hs = np.logspace(-1, -3, 7)
    errors = [np.linalg.norm(numerical_gradient(multi_f, X0, h=h, method=method) - exact) for h in hs]
    assert slope(hs, errors) == pytest.approx(order, abs=0.2)


def test_gradient_matches_sympy_multivariate():
    exact = [float(sp.diff(MULTI, v).subs(dict(zip((a, b, c), X0)))) for v in (a, b, c)]
    assert np.allclose(numerical_gradient(multi_f, X0), exact, atol=1e-8)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 1, 3)])
def test_gradient_any_shape(shape):
    x = np.random.default_rng(0).normal(size=shape)
    A = np.arange(1.0, x.size + 1).reshape(shape)
    g = numerical_gradient(lambda v: np.sum(A * v**2), x)
    assert g.shape == x.shape
    assert np.allclose(g, 2 * A * x, atol=1e-7)


def test_x_is_never_modified_but_f_sees_perturbations():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    original = x.copy()
    seen = []

    def f(v):
        seen.append(v.copy())
        v += 100.0  # a careless f that writes into its argument
        return float(np.sum(seen[-1] ** 2))

    g = numerical_gradient(f, x, h=1e-3)
    assert np.array_equal(x, original), "numerical_gradient changed the caller's x"
    assert np.allclose(g, 2 * original, atol=1e-8)
    moved = [np.argwhere(~np.isclose(s, original, rtol=0, atol=1e-12)) for s in seen]
    assert all(len(m) == 1 for m in moved), "each call of f should differ from x in exactly one entry"
    assert any(np.isclose(s[1, 0], 3.0 + 1e-3) for s in seen), "f never saw x[1, 0] + h"
    for method in ("forward", "backward"):
        numerical_gradient(f, x, method=method)
        assert np.array_equal(x, original)


def test_jacobian_matches_sympy():
    exprs = sp.Matrix([a * b, sp.sin(a) + c**2, sp.exp(b) * c, a])
    f = sp.lambdify([(a, b, c)], list(exprs), "numpy")
    exact = np.array(exprs.jacobian([a, b, c]).subs(dict(zip((a, b, c), X0))), dtype=float)
    J = numerical_jacobian(lambda v: np.array(f(v)), X0)
    assert J.shape == (4, 3)
    assert np.allclose(J, exact, atol=1e-8)


def test_jacobian_of_scalar_function_is_one_row():
    J = numerical_jacobian(multi_f, X0)
    assert J.shape == (1, 3)
    assert np.allclose(J[0], numerical_gradient(multi_f, X0), atol=1e-9)


def test_hessian_matches_sympy_and_is_symmetric():
    exact = np.array(sp.hessian(MULTI, (a, b, c)).subs(dict(zip((a, b, c), X0))), dtype=float)
    x = X0.copy()
    H = numerical_hessian(multi_f, x)
    assert np.array_equal(x, X0)
    assert np.allclose(H, exact, atol=1e-5)
    assert np.array_equal(H, H.T)


def f_sum(v):
    return float(np.sum(v))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: forward_difference(np.sin, 1.0, h=0), ValueError, "h must be"),
    (lambda: backward_difference(np.sin, 1.0, h=-1e-3), ValueError, "h must be"),
    (lambda: central_difference(np.sin, float("nan")), ValueError, "x must contain only finite"),
    (lambda: central_difference(np.sin, [1.0, 2.0]), ValueError, "x must have 0 dimension"),
    (lambda: central_difference("sin", 1.0), TypeError, "f must be callable"),
    (lambda: central_difference(np.log, 0.0), ValueError, "f returned a non-finite"),
    (lambda: numerical_gradient(f_sum, [], h=1e-5), ValueError, "x must not be empty"),
    (lambda: numerical_gradient(f_sum, [1.0, np.inf]), ValueError, "x must contain only finite"),
    (lambda: numerical_gradient(f_sum, [1.0], h=float("inf")), ValueError, "h must be"),
    (lambda: numerical_gradient(f_sum, [1.0], h="small"), TypeError, "h must be a real number"),
    (lambda: numerical_gradient(f_sum, [1.0], method="centred"), ValueError, "method must be one of"),
    (lambda: numerical_gradient(None, [1.0]), TypeError, "f must be callable"),
    (lambda: numerical_gradient(lambda v: v, [1.0, 2.0]), ValueError, "f must return a scalar"),
    (lambda: numerical_gradient(f_sum, "abc"), TypeError, "x must be a numeric array"),
    (lambda: numerical_jacobian(lambda v: v, [[1.0, 2.0]]), ValueError, "x must have 1 dimension"),
    (lambda: numerical_jacobian(lambda v: np.outer(v, v), [1.0, 2.0]), ValueError, "f must return a scalar or a 1-D"),
    (lambda: numerical_jacobian(lambda v: v / 0.0, [1.0]), ValueError, "f returned a non-finite"),
    (lambda: numerical_jacobian(lambda v: v, [1.0], h=0), ValueError, "h must be"),
    (lambda: numerical_hessian(f_sum, [], h=1e-4), ValueError, "x must not be empty"),
    (lambda: numerical_hessian(f_sum, [1.0], h=-1.0), ValueError, "h must be"),
    (lambda: numerical_hessian(42, [1.0]), TypeError, "f must be callable"),
])
def test_bad_input(call, exc, match):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(exc, match=match):
        call()


def test_difference_quotient_uses_the_three_formulas():
    f, x, h = np.sin, 0.7, 1e-3
    assert np.isclose(difference_quotient(f, x, h, "forward"), (f(x + h) - f(x)) / h, rtol=1e-12)
    assert np.isclose(difference_quotient(f, x, h, "backward"), (f(x) - f(x - h)) / h, rtol=1e-12)
    assert np.isclose(difference_quotient(f, x, h, "central"), (f(x + h) - f(x - h)) / (2 * h), rtol=1e-12)
