"""The chapter-05 regression problem, its stability threshold and the input-gradient tools."""

import numpy as np
import pytest

from nablakit.losses import logistic_loss, mse, mse_grad, sigmoid
from nablakit.numdiff import numerical_gradient, numerical_hessian
from nablakit.regression import (
    excess_loss,
    gd_run,
    hessian_eigenvalues,
    least_squares,
    logistic_input_gradient,
    logistic_loss_input_gradient,
    make_regression,
    minibatch_gradients,
    mse_hessian,
    sgd_run,
    sign_gradient_step,
    stable_learning_rate,
)


@pytest.fixture(scope="module")
def data():
    return make_regression()


def test_data_is_seeded_and_shaped(data):
    X, y = data
    X2, y2 = make_regression()
    assert X.shape == (40, 2) and y.shape == (40,)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.allclose(make_regression(seed=1)[1], y)


def test_least_squares_solves_normal_equations(data):
    X, y = data
    w = least_squares(X, y)
    assert np.allclose(X.T @ X @ w, X.T @ y)
    assert np.allclose(mse_grad(X, y, w), 0.0, atol=1e-12)
    assert np.allclose(w, [1.5, 2.0], atol=0.5)  # near the true line


def test_hessian_matches_finite_differences(data):
    X, y = data
    numeric = numerical_hessian(lambda w: mse(X, y, w), np.array([0.3, -0.7]))
    assert np.allclose(mse_hessian(X), numeric, rtol=1e-5, atol=1e-6)
    assert np.allclose(hessian_eigenvalues(X), np.linalg.eigvalsh(numeric), rtol=1e-5)


def test_stable_rate_is_two_over_lambda_max(data):
    X, _ = data
    assert stable_learning_rate(X) == pytest.approx(2 / np.linalg.eigvalsh(2 / 40 * X.T @ X)[-1])
    with pytest.raises(ValueError, match="curvature"):
        stable_learning_rate(np.zeros((3, 2)))


def test_excess_loss_equals_loss_gap(data):
    X, y = data
    w_star = least_squares(X, y)
    ws = np.random.default_rng(3).normal(size=(5, 2))
    gaps = np.array([mse(X, y, w) - mse(X, y, w_star) for w in ws])
    assert np.allclose(excess_loss(X, ws, w_star), gaps, rtol=1e-10)
    assert excess_loss(X, w_star, w_star) == 0.0


@pytest.mark.parametrize("factor, converges", [(0.5, True), (0.95, True), (1.05, False), (1.2, False)])
def test_gd_converges_exactly_below_the_threshold(data, factor, converges):
    X, y = data
    run = gd_run(X, y, factor * stable_learning_rate(X), 300)
    assert run.path.shape == (301, 2) and run.loss.shape == run.excess.shape == (301,)
    if converges:
        assert run.excess[-1] < 1e-6 * run.excess[0]
    else:
        assert not np.isfinite(run.excess[-1]) or run.excess[-1] > 1e3 * run.excess[0]


def test_gd_run_follows_the_update_rule(data):
    X, y = data
    run = gd_run(X, y, 0.1, 3, w0=[1.0, 1.0])
    w = np.array([1.0, 1.0])
    for t in range(3):
        w = w - 0.1 * mse_grad(X, y, w)
        assert np.allclose(run.path[t + 1], w)
    assert np.allclose(run.loss, [mse(X, y, p) for p in run.path])


def test_sgd_full_batch_equals_gd_and_small_batches_are_noisier(data):
    X, y = data
    assert np.allclose(sgd_run(X, y, 0.1, 30, 40).path, gd_run(X, y, 0.1, 30).path)
    plateau = [np.mean(sgd_run(X, y, 0.1, 300, b, seed=1).excess[100:]) for b in (1, 4, 16)]
    assert plateau[0] > plateau[1] > plateau[2]
    assert np.array_equal(sgd_run(X, y, 0.1, 10, 2, seed=5).path, sgd_run(X, y, 0.1, 10, 2, seed=5).path)


def test_minibatch_gradients_are_unbiased_and_shrink(data):
    X, y = data
    w = np.zeros(2)
    full = mse_grad(X, y, w)
    spreads = []
    for b in (1, 4, 16):
        g = minibatch_gradients(X, y, w, b, draws=4000, seed=2)
        assert np.allclose(g.mean(axis=0), full, atol=0.15 * np.linalg.norm(full))
        spreads.append(np.sqrt(np.mean(np.sum((g - full) ** 2, axis=1))))
    assert spreads[0] > spreads[1] > spreads[2]
    # Without replacement the variance scales like (m - b) / (b (m - 1)).
    ratio = spreads[0] ** 2 / spreads[1] ** 2
    assert ratio == pytest.approx((39 / 1) / (36 / 4), rel=0.15)


def test_input_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    w, x, b = rng.normal(size=3), rng.normal(size=3), 0.3
    prob = lambda v: float(sigmoid(w @ v + b))  # noqa: E731
    assert np.allclose(logistic_input_gradient(w, b, x), numerical_gradient(prob, x), atol=1e-9)
    for label in (0, 1):
        loss = lambda v: logistic_loss(np.append(w, b), np.append(v, 1.0)[None, :], np.array([label]))  # noqa: E731
        assert np.allclose(logistic_loss_input_gradient(w, b, x, label), numerical_gradient(loss, x), atol=1e-8)


def test_sign_step_and_validation():
    assert np.allclose(sign_gradient_step([0.0, 0.0], [2.0, -0.1], 0.25), [0.25, -0.25])
    with pytest.raises(ValueError, match="eps"):
        sign_gradient_step([0.0], [1.0], 0.0)
    with pytest.raises(ValueError, match="y must be 0 or 1"):
        logistic_loss_input_gradient([1.0], 0.0, [1.0], 2)
    with pytest.raises(ValueError, match="batch_size"):
        sgd_run(*make_regression(), 0.1, 5, 41)
    with pytest.raises(TypeError, match="steps"):
        gd_run(*make_regression(), 0.1, 2.5)
    with pytest.raises(ValueError, match="lr"):
        gd_run(*make_regression(), -0.1, 5)
    with pytest.raises(ValueError, match="one entry per row"):
        least_squares(np.ones((3, 2)), np.ones(4))
