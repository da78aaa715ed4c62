"""Symbolic gradients and Hessians against hand-derived results."""

import numpy as np
import pytest
import sympy as sp

from nablakit.numdiff import numerical_gradient
from nablakit.symbolic import lambdify_gradient, lambdify_scalar, sym_gradient, sym_hessian

x, y, z = sp.symbols("x y z")


def test_gradient_of_known_functions():
    assert sym_gradient(x**2 + 3 * x * y, [x, y]) == sp.Matrix([2 * x + 3 * y, 3 * x])
    grad = sym_gradient(sp.exp(x * y) + sp.sin(z), (x, y, z))
    assert grad.shape == (3, 1)
    assert sp.simplify(grad - sp.Matrix([y * sp.exp(x * y), x * sp.exp(x * y), sp.cos(z)])) == sp.zeros(3, 1)
    assert sym_gradient(x**3, x) == sp.Matrix([3 * x**2])
    assert sym_gradient("x*y**2", [x, y]) == sp.Matrix([y**2, 2 * x * y])


def test_other_symbols_are_constants():
    a = sp.Symbol("a")
    assert sym_gradient(a * x**2, [x]) == sp.Matrix([2 * a * x])


def test_hessian_of_known_functions():
    assert sym_hessian(x**2 * y + y**3, [x, y]) == sp.Matrix([[2 * y, 2 * x], [2 * x, 6 * y]])
    # Quadratic form x^T A x has Hessian A + A^T.
    A = sp.Matrix([[1, 2], [0, 3]])
    v = sp.Matrix([x, y])
    assert sym_hessian((v.T * A * v)[0], [x, y]) == A + A.T
    H = sym_hessian(sp.log(1 + x**2 + y**2), [x, y])
    assert H == H.T


def test_lambdified_versions_match_hand_results_and_numdiff():
    expr = sp.exp(x) * sp.cos(y) + x * y**2
    f = lambdify_scalar(expr, [x, y])
    g = lambdify_gradient(expr, [x, y])
    p = np.array([0.3, -1.2])
    assert isinstance(f(p), float)
    assert f(p) == pytest.approx(np.exp(0.3) * np.cos(-1.2) + 0.3 * 1.44)
    assert np.allclose(g(p), [np.exp(0.3) * np.cos(-1.2) + 1.44, -np.exp(0.3) * np.sin(-1.2) + 2 * 0.3 * -1.2])
    assert np.allclose(g(p), numerical_gradient(f, p), atol=1e-8)


def test_lambdified_functions_are_vectorised_over_trailing_axes():
    expr = x**2 + 3 * y  # gradient (2x, 3) has a constant component
    f = lambdify_scalar(expr, [x, y])
    g = lambdify_gradient(expr, [x, y])
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 3)))
    assert f(grid).shape == (3, 4)
    assert np.allclose(f(grid), grid[0] ** 2 + 3 * grid[1])
    G = g(grid)
    assert G.shape == (2, 3, 4)
    assert np.allclose(G[0], 2 * grid[0]) and np.allclose(G[1], 3.0)
    assert lambdify_scalar(sp.Integer(5), [x])([2.0]) == 5.0


@pytest.mark.parametrize("call, exc, match", [
    (lambda: sym_gradient(sp.Matrix([x, y]), [x, y]), TypeError, "expr must be a scalar"),
    (lambda: sym_gradient(sp.Eq(x, 1), [x]), TypeError, "expr must be a scalar"),
    (lambda: sym_gradient(object(), [x]), TypeError, "expr must be a scalar"),
    (lambda: sym_gradient("x +* y", [x]), ValueError, "expr must be a scalar"),
    (lambda: sym_gradient(x**2, []), ValueError, "variables must not be empty"),
    (lambda: sym_gradient(x**2, ["x"]), TypeError, "variables must contain sympy Symbols"),
    (lambda: sym_hessian(x**2, [x, x]), ValueError, "variables must not repeat"),
    (lambda: lambdify_scalar(x * y, [x]), ValueError, "expr has symbols not in variables: y"),
    (lambda: lambdify_gradient(x * y, [x]), ValueError, "expr has symbols not in variables"),
    (lambda: lambdify_scalar(x * y, [x, y])([1.0, 2.0, 3.0]), ValueError, "x must have first axis of length 2"),
    (lambda: lambdify_gradient(x * y, [x, y])([1.0, np.nan]), ValueError, "x must contain only finite"),
    (lambda: lambdify_gradient(x * y, [x, y])([]), ValueError, "x must not be empty"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
