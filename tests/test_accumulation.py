"""nablakit.accumulation: micro-batch gradients weighted by size give the full-batch gradient."""

import numpy as np
import pytest
from reference import centred_gradient

from nablakit import accumulation

def mse(X, y, w):
    return float(np.mean((X @ w - y) ** 2))


@pytest.fixture
def regression():
    rng = np.random.default_rng(7)
    return rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)


@pytest.mark.parametrize("micro_batch", [1, 3, 4, 5, 10, 25])
def test_accumulated_gradient_is_full_batch_gradient(regression, micro_batch):
    X, y, w = regression
    reference = centred_gradient(lambda v: mse(X, y, v), w)
    assert np.allclose(accumulation.accumulated_mse_gradient(X, y, w, micro_batch), reference, rtol=1e-7, atol=1e-9)


def test_equal_weights_go_wrong_only_with_unequal_micro_batches(regression):
    X, y, w = regression
    full = centred_gradient(lambda v: mse(X, y, v), w)
    assert [s.stop - s.start for s in accumulation.micro_batch_slices(10, 4)] == [4, 4, 2]
    assert np.allclose(accumulation.equal_weight_mse_gradient(X, y, w, 5), full, rtol=1e-7, atol=1e-9)
    wrong = accumulation.equal_weight_mse_gradient(X, y, w, 4)
    assert np.linalg.norm(wrong - full) > 1e-2 * np.linalg.norm(full)
    # The mistake in closed form: micro-batch means weighted 1/3 each instead of 4/10, 4/10, 2/10.
    means = [2 / (s.stop - s.start) * X[s].T @ (X[s] @ w - y[s]) for s in accumulation.micro_batch_slices(10, 4)]
    assert np.allclose(wrong, sum(means) / 3)
    assert np.allclose(full, 0.4 * means[0] + 0.4 * means[1] + 0.2 * means[2])


def test_micro_batch_errors():
    with pytest.raises(ValueError, match="micro_batch"):
        accumulation.micro_batch_slices(10, 0)
    with pytest.raises(ValueError, match="y must"):
        accumulation.accumulated_mse_gradient(np.ones((3, 2)), np.ones(4), np.ones(2), 2)
