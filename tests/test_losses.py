"""Losses: values, stability at extreme inputs, and every gradient by finite differences."""

import numpy as np
import pytest

from nablakit.losses import (
    cross_entropy,
    cross_entropy_grad,
    l2_grad,
    l2_penalty,
    logistic_grad,
    logistic_loss,
    mse,
    mse_grad,
    sigmoid,
    softmax,
    softmax_jacobian,
)
from nablakit.numdiff import numerical_gradient, numerical_jacobian


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20, 3))
    w = rng.normal(size=3)
    y_reg = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=20)
    y_cls = (rng.random(20) < sigmoid(X @ w)).astype(float)
    return X, w, y_reg, y_cls


def test_sigmoid_values_and_symmetry():
    z = np.linspace(-30, 30, 61)
    assert np.allclose(sigmoid(z), 1 / (1 + np.exp(-z)))
    assert np.allclose(sigmoid(z) + sigmoid(-z), 1.0)
    assert sigmoid(0.0) == 0.5 and isinstance(sigmoid(0.0), float)
    slope = numerical_gradient(lambda v: np.sum(sigmoid(v)), z)
    assert np.allclose(slope, sigmoid(z) * (1 - sigmoid(z)), atol=1e-9)


def test_stable_at_extreme_inputs():
    X_big = np.array([[1000.0], [-1000.0]])
    with np.errstate(all="raise"):
        assert np.allclose(sigmoid([-1000.0, 1000.0]), [0.0, 1.0])
        assert np.allclose(softmax([1000.0, 1001.0]), softmax([0.0, 1.0]))
        assert np.allclose(softmax([-1000.0, 0.0]), [0.0, 1.0])
        assert logistic_loss([1.0], X_big, [0.0, 1.0]) == pytest.approx(1000.0)
        assert logistic_loss([1.0], X_big, [1.0, 0.0]) == pytest.approx(0.0, abs=1e-300)
        assert np.allclose(logistic_grad([1.0], X_big, [0.0, 1.0]), [1000.0])
        assert cross_entropy([1000.0, 0.0, -1000.0], [0.0, 0.0, 1.0]) == pytest.approx(2000.0)
        assert np.allclose(cross_entropy_grad([1000.0, 1001.0], [1.0, 0.0]), softmax([0.0, 1.0]) - [1.0, 0.0])


def test_mse_value_and_gradient(data):
    X, w, y, _ = data
    assert mse(X, y, w) == pytest.approx(np.mean((X @ w - y) ** 2))
    assert np.allclose(mse_grad(X, y, w), numerical_gradient(lambda v: mse(X, y, v), w), atol=1e-8)


def test_logistic_value_and_gradient(data):
    X, w, _, y = data
    p = 1 / (1 + np.exp(-(X @ w)))
    assert logistic_loss(w, X, y) == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert np.allclose(logistic_grad(w, X, y), numerical_gradient(lambda v: logistic_loss(v, X, y), w), atol=1e-8)
    w_big = 50 * w  # saturated sigmoids: the naive log(1 - p) would give -inf
    assert np.allclose(logistic_grad(w_big, X, y), numerical_gradient(lambda v: logistic_loss(v, X, y), w_big),
                       atol=1e-6)


def test_softmax_properties():
    z = np.random.default_rng(3).normal(size=(4, 5))
    p = softmax(z)
    assert np.allclose(p.sum(axis=1), 1.0) and np.all(p > 0)
    assert np.allclose(softmax(z + 7.0), p), "softmax ignores a constant shift"
    assert np.allclose(softmax(z, axis=0).sum(axis=0), 1.0)
    assert np.allclose(softmax(z[0]), np.exp(z[0]) / np.exp(z[0]).sum())


def test_softmax_jacobian_matches_finite_differences():
    z = np.array([0.3, -1.2, 2.0, 0.1])
    J = softmax_jacobian(z)
    assert np.allclose(J, numerical_jacobian(softmax, z), atol=1e-9)
    assert np.allclose(J, J.T) and np.allclose(J.sum(axis=1), 0.0)


def test_cross_entropy_single_example():
    z = np.array([0.3, -1.2, 2.0])
    y = np.array([0.0, 1.0, 0.0])
    assert cross_entropy(z, y) == pytest.approx(-np.log(softmax(z)[1]))
    assert np.allclose(cross_entropy_grad(z, y), softmax(z) - y)
    assert np.allclose(cross_entropy_grad(z, y), numerical_gradient(lambda v: cross_entropy(v, y), z), atol=1e-9)


def test_cross_entropy_batch_is_mean_over_rows():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(6, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=6)]
    per_row = [cross_entropy(z, y) for z, y in zip(Z, Y)]
    assert cross_entropy(Z, Y) == pytest.approx(np.mean(per_row))
    G = cross_entropy_grad(Z, Y)
    assert np.allclose(G, (softmax(Z) - Y) / 6)
    assert np.allclose(G, numerical_gradient(lambda V: cross_entropy(V, Y), Z), atol=1e-9)


def test_l2_term_and_gradient():
    W = np.random.default_rng(9).normal(size=(3, 2))
    assert l2_penalty(W, 0.3) == pytest.approx(0.15 * np.sum(W**2))
    assert l2_penalty(W, 0) == 0.0
    assert np.allclose(l2_grad(W, 0.3), numerical_gradient(lambda V: l2_penalty(V, 0.3), W), atol=1e-9)


X2 = [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("call, exc, match", [
    (lambda: sigmoid([]), ValueError, "z must not be empty"),
    (lambda: sigmoid([np.inf]), ValueError, "z must contain only finite"),
    (lambda: sigmoid("big"), TypeError, "z must be a numeric array"),
    (lambda: mse([1.0, 2.0], [1.0], [1.0]), ValueError, "X must have 2 dimension"),
    (lambda: mse(X2, [1.0, 2.0, 3.0], [1.0, 1.0]), ValueError, r"y must have shape \(2,\)"),
    (lambda: mse_grad(X2, [1.0, 2.0], [1.0]), ValueError, r"w must have shape \(2,\)"),
    (lambda: mse_grad(X2, [1.0, np.nan], [1.0, 1.0]), ValueError, "y must contain only finite"),
    (lambda: logistic_loss([1.0, 1.0], X2, [0.0, 2.0]), ValueError, r"y must hold labels in \[0, 1\]"),
    (lambda: logistic_grad([1.0], X2, [0.0, 1.0]), ValueError, r"w must have shape \(2,\)"),
    (lambda: logistic_grad([1.0, 1.0], np.zeros((0, 2)), []), ValueError, "X must not be empty"),
    (lambda: softmax(3.0), ValueError, "z must be at least 1-D"),
    (lambda: softmax([1.0, 2.0], axis=1), ValueError, "axis must be in"),
    (lambda: softmax_jacobian(X2), ValueError, "z must have 1 dimension"),
    (lambda: cross_entropy([1.0, 2.0], [1.0, 0.0, 0.0]), ValueError, r"y must have shape \(2,\)"),
    (lambda: cross_entropy([1.0, 2.0], [1.0, 1.0]), ValueError, "y must be one-hot"),
    (lambda: cross_entropy_grad([1.0, 2.0], [1.5, -0.5]), ValueError, "y must be one-hot"),
    (lambda: cross_entropy(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), ValueError, "z must have 1 or 2 dimension"),
    (lambda: l2_penalty([1.0], -0.1), ValueError, "lam must be a finite number >= 0"),
    (lambda: l2_grad([1.0], float("nan")), ValueError, "lam must be"),
    (lambda: l2_grad([], 0.1), ValueError, "w must not be empty"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
