"""Relative error and gradient checking."""

import numpy as np
import pytest

from nablakit.gradcheck import GradientCheck, check_gradient, relative_error


def test_relative_error_values():
    assert relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_error([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(1.0)
    assert relative_error([2.0], [1.0]) == pytest.approx(1 / 3)
    # Scale-free: multiplying both arrays by 1e6 leaves it unchanged.
    assert relative_error([2e6], [1e6]) == pytest.approx(1 / 3)


def test_relative_error_zero_vectors_give_zero_not_nan():
    with np.errstate(all="raise"):
        assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
        assert relative_error(np.zeros((2, 2)), np.full((2, 2), 1e-20)) == pytest.approx(2e-8)


def test_relative_error_is_symmetric_and_works_on_matrices():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 3, 4))
    assert relative_error(A, B) == pytest.approx(relative_error(B, A))
    assert relative_error(A, B) == pytest.approx(np.linalg.norm(A - B) / (np.linalg.norm(A) + np.linalg.norm(B)))


def quadratic(W):
    return 0.5 * np.sum(W**2) + np.sum(np.sin(W))


def quadratic_grad(W):
    return W + np.cos(W)


def test_correct_gradient_passes():
    W = np.random.default_rng(2).normal(size=(3, 2))
    result = check_gradient(quadratic, quadratic_grad, W)
    assert isinstance(result, GradientCheck)
    assert result.passed and result.relative_error < 1e-8
    assert result.numeric.shape == result.analytic.shape == W.shape
    assert "passed" in str(result)


def test_wrong_coordinate_is_reported():
    W = np.random.default_rng(3).normal(size=(3, 2))
    original = W.copy()

    def buggy(V):
        g = quadratic_grad(V)
        g[2, 1] *= 1.5
        V[0, 0] = 99.0  # a careless grad must not reach the caller's array
        return g

    result = check_gradient(quadratic, buggy, W)
    assert not result.passed
    assert result.worst_index == (2, 1)
    assert result.relative_error > 1e-3
    assert np.array_equal(W, original)
    assert "FAILED" in str(result)


def test_threshold_decides_passed():
    W = np.array([1.0, 2.0])
    off = lambda V: quadratic_grad(V) * (1 + 1e-4)  # noqa: E731
    assert not check_gradient(quadratic, off, W).passed
    assert check_gradient(quadratic, off, W, threshold=1e-3).passed


def f_sum(v):
    return float(np.sum(v))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: relative_error([1.0, 2.0], [1.0]), ValueError, "a and b must have the same shape"),
    (lambda: relative_error([], []), ValueError, "a must not be empty"),
    (lambda: relative_error([1.0], [np.nan]), ValueError, "b must contain only finite"),
    (lambda: relative_error([1.0], [1.0], tiny=0), ValueError, "tiny must be"),
    (lambda: relative_error("x", [1.0]), TypeError, "a must be a numeric array"),
    (lambda: check_gradient("f", np.ones_like, [1.0]), TypeError, "f must be callable"),
    (lambda: check_gradient(f_sum, None, [1.0]), TypeError, "grad must be callable"),
    (lambda: check_gradient(f_sum, np.ones_like, []), ValueError, "x must not be empty"),
    (lambda: check_gradient(f_sum, np.ones_like, [np.inf]), ValueError, "x must contain only finite"),
    (lambda: check_gradient(f_sum, np.ones_like, [1.0], h=0), ValueError, "h must be"),
    (lambda: check_gradient(f_sum, np.ones_like, [1.0], threshold=-1), ValueError, "threshold must be"),
    (lambda: check_gradient(f_sum, lambda v: np.ones(3), [1.0, 2.0]), ValueError, r"grad\(x\) must have the shape"),
    (lambda: check_gradient(f_sum, lambda v: v * np.nan, [1.0]), ValueError, r"grad\(x\) must contain only finite"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
