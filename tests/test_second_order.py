"""best_step_size and newton_step: the second-order view of one gradient step (chapter on loss landscapes)."""

import numpy as np
import pytest
import sympy as sp

from nablakit import depth as dp
from nablakit.testfunctions import ravine


def test_best_step_minimises_the_exact_quadratic_along_the_gradient():
    rng = np.random.default_rng(3)
    M = rng.normal(size=(4, 4))
    H = M @ M.T + 0.1 * np.eye(4)
    theta = rng.normal(size=4)
    g = H @ theta                                   # L = 1/2 theta^T H theta
    eps_star = dp.best_step_size(g, H)
    loss = lambda t: 0.5 * t @ H @ t  # noqa: E731
    along = [loss(theta - e * g) for e in eps_star * np.linspace(0.5, 1.5, 101)]
    assert int(np.argmin(along)) == 50
    lam = np.linalg.eigvalsh(H)
    assert 1 / lam[-1] <= eps_star <= 1 / lam[0]
    assert loss(theta - 2 * eps_star * g) == pytest.approx(loss(theta))   # 2 eps*: back to the same loss


def test_best_step_formula_symbolically():
    eps, a, b = sp.symbols("epsilon a b", positive=True)
    model = -eps * a + eps**2 / 2 * b                # a = g^T g, b = g^T H g
    assert sp.solve(sp.diff(model, eps), eps) == [a / b]


def test_newton_step_solves_a_quadratic_in_one_step():
    L = ravine(kappa=10)
    theta = np.array([-2.0, 1.0])
    H = L.hessian(theta)
    new = theta - dp.newton_step(L.grad(theta), H)
    assert np.allclose(new, 0.0) and L.f(new) == pytest.approx(0.0, abs=1e-24)


@pytest.mark.parametrize("bad, message", [
    (([1.0, 0.0], [[-1.0, 0.0], [0.0, 1.0]]), "curvature"),
    (([1.0, 0.0, 0.0], np.eye(2)), "entries"),
    (([1.0, 0.0], [[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
])
def test_best_step_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        dp.best_step_size(*bad)


def test_newton_step_singular():
    with pytest.raises(ValueError, match="singular"):
        dp.newton_step([1.0, 0.0], np.zeros((2, 2)))
