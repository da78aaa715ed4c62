"""nablakit.natural_gradient against sympy, the Fisher information by simulation, and the update rules."""

import numpy as np
import pytest
import sympy as sp

from nablakit import natural_gradient as ng
from nablakit.convergence import steps_to_settle

mu_s, sigma_s, x_s = sp.symbols("mu sigma x", real=True)
sigma_pos = sp.Symbol("sigma", positive=True)


def test_loglik_and_gradient_against_sympy():
    data = np.array([0.3, -1.2, 2.5, 1.1])
    logpdf = -sp.log(sigma_s) - sp.log(2 * sp.pi) / 2 - (x_s - mu_s) ** 2 / (2 * sigma_s**2)
    total = sum(logpdf.subs(x_s, sp.Float(v)) for v in data)
    point = {mu_s: 0.7, sigma_s: 1.3}
    assert ng.gaussian_loglik(data, 0.7, 1.3) == pytest.approx(float(total.subs(point)), rel=1e-12)
    grad = [float(sp.diff(total, v).subs(point)) for v in (mu_s, sigma_s)]
    assert np.allclose(ng.gaussian_loglik_grad(data, 0.7, 1.3), grad, rtol=1e-12)


def test_fisher_is_expected_outer_product_of_scores():
    z = sp.Symbol("z", real=True)
    mu, sigma = sp.Symbol("mu", real=True), sigma_pos
    x = mu + sigma * z
    logpdf = -sp.log(sigma) - (x_s - mu) ** 2 / (2 * sigma**2)
    scores = [sp.diff(logpdf, v).subs(x_s, x) for v in (mu, sigma)]
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    F = sp.Matrix(2, 2, lambda i, j: sp.simplify(sp.integrate(scores[i] * scores[j] * density, (z, -sp.oo, sp.oo))))
    assert sp.simplify(F - sp.diag(1 / sigma**2, 2 / sigma**2)) == sp.zeros(2, 2)
    for value in (0.5, 1.0, 3.0):
        assert np.allclose(ng.gaussian_fisher(value), np.array(F.subs(sigma, value), dtype=float))


def test_natural_gradient_closed_form_and_one_step():
    rng = np.random.default_rng(11)
    data = rng.normal(2.0, 1.0, size=100)
    for mu, sigma in [(0.0, 2.0), (5.0, 0.3), (-1.0, 1.0)]:
        expected = [data.mean() - mu, (np.mean((data - mu) ** 2) - sigma**2) / (2 * sigma)]
        assert np.allclose(ng.gaussian_natural_gradient(data, mu, sigma), expected, rtol=1e-12)
        path = ng.gaussian_ngd_path(data, [mu, sigma], 1.0, 1)
        assert path[1, 0] == pytest.approx(data.mean(), abs=1e-12)


def test_paths_follow_their_update_rules():
    rng = np.random.default_rng(5)
    data = rng.normal(1.0, 0.5, size=60)
    m = data.size
    gd = ng.gaussian_gd_path(data, [-1.0, 2.0], 0.1, 30)
    ngd = ng.gaussian_ngd_path(data, [-1.0, 2.0], 0.1, 30)
    for t in range(30):
        mu, s = gd[t]
        step = np.array([np.sum(data - mu) / s**2, -m / s + np.sum((data - mu) ** 2) / s**3]) / m
        assert np.allclose(gd[t + 1], gd[t] + 0.1 * step)
        mu, s = ngd[t]
        nat = np.array([data.mean() - mu, (np.mean((data - mu) ** 2) - s**2) / (2 * s)])
        assert np.allclose(ngd[t + 1], ngd[t] + 0.1 * nat)


def test_ngd_with_unit_step_is_heron_and_beats_gd():
    rng = np.random.default_rng(5)
    data = rng.normal(1.0, 0.5, size=60)
    mle = np.array([data.mean(), data.std()])
    path = ng.gaussian_ngd_path(data, [-1.0, 2.0], 1.0, 8)
    v = data.var()
    for t in range(1, 8):
        assert path[t + 1, 1] == pytest.approx((path[t, 1] + v / path[t, 1]) / 2, rel=1e-12)
    assert np.allclose(path[-1], mle, atol=1e-10)
    # Plain GD's best step size on a grid is still slower than natural gradient at step 1.
    n_ngd = steps_to_settle(path, mle, 1e-3)
    n_gd = [steps_to_settle(ng.gaussian_gd_path(data, [-1.0, 2.0], lr, 2000), mle, 1e-3) for lr in (0.05, 0.1, 0.2)]
    assert None not in n_gd and n_ngd is not None and n_ngd < min(n_gd)


def test_gd_path_stops_when_sigma_leaves_the_model():
    data = np.array([0.0, 0.1, -0.1])
    path = ng.gaussian_gd_path(data, [0.0, 1.0], 5.0, 5)
    assert np.all(np.isnan(path[-1])) and np.all(np.isfinite(path[0]))
    assert steps_to_settle(path, [0.0, 0.08], 1e-3) is None
    with pytest.raises(ValueError, match="sigma"):
        ng.gaussian_gd_path(data, [0.0, -1.0], 0.1, 5)
    with pytest.raises(ValueError, match="sigma"):
        ng.gaussian_fisher(0.0)


def test_average_loglik_grid_matches_scalar_loglik():
    data = np.array([0.2, 1.7, -0.4, 0.9, 1.1])
    mus, sigmas = np.meshgrid([-1.0, 0.5, 2.0], [0.3, 1.0, 2.5])
    grid = ng.gaussian_average_loglik(data, mus, sigmas)
    for mu, s, value in zip(mus.ravel(), sigmas.ravel(), grid.ravel()):
        assert value == pytest.approx(ng.gaussian_loglik(data, mu, s) / data.size, rel=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        ng.gaussian_average_loglik(data, 0.0, [1.0, 0.0])


def test_natural_gradient_path_is_equivariant_under_rescaling_but_gd_is_not():
    rng = np.random.default_rng(2)
    data = rng.normal(1.0, 0.5, size=40)
    ngd, ngd10 = (ng.gaussian_ngd_path(d, s, 0.3, 20) for d, s in ((data, [-1.0, 2.0]), (10 * data, [-10.0, 20.0])))
    assert np.allclose(ngd10, 10 * ngd)
    gd, gd10 = (ng.gaussian_gd_path(d, s, 0.1, 20) for d, s in ((data, [-1.0, 2.0]), (10 * data, [-10.0, 20.0])))
    assert not np.allclose(gd10, 10 * gd, rtol=1e-2)
