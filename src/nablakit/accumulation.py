"""Gradient accumulation: the full-batch gradient from micro-batches.

:func:`accumulated_mse_gradient` weights each micro-batch by its size and
reproduces the full-batch MSE gradient exactly;
:func:`equal_weight_mse_gradient` is the common mistake (equal weights), wrong
when the last micro-batch is smaller.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import check_count, check_design
from nablakit.losses import mse_grad


def micro_batch_slices(m, micro_batch):
    """Split ``range(m)`` into consecutive slices of length ``micro_batch``.

    The last slice is shorter when ``micro_batch`` does not divide ``m``.

    Parameters
    ----------
    m : int
        Number of examples, >= 1.
    micro_batch : int
        Examples per micro-batch, >= 1.

    Returns
    -------
    list of slice

    Raises
    ------
    TypeError
        If either number is not an integer.
    ValueError
        If either number is less than 1.

    Examples
    --------
    >>> [(s.start, s.stop) for s in micro_batch_slices(10, 4)]
    [(0, 4), (4, 8), (8, 10)]
    """
    m, micro_batch = check_count(m, "m", 1), check_count(micro_batch, "micro_batch", 1)
    return [slice(start, min(start + micro_batch, m)) for start in range(0, m, micro_batch)]



def accumulated_mse_gradient(X, y, w, micro_batch):
    """Full-batch MSE gradient computed one micro-batch at a time.

    Each micro-batch ``b`` contributes its mean gradient weighted by
    ``m_b / m``; the sum equals ``(2/m) X^T (Xw - y)`` exactly, also when the
    last micro-batch is smaller.

    Parameters
    ----------
    X : array_like of shape (m, n)
    y : array_like of shape (m,)
    w : array_like of shape (n,)
    micro_batch : int
        Examples per micro-batch.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    TypeError
        If ``micro_batch`` is not an integer.
    ValueError
        If the shapes do not fit or ``micro_batch`` is less than 1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)
    >>> full = 2 / 10 * X.T @ (X @ w - y)
    >>> np.allclose(accumulated_mse_gradient(X, y, w, 4), full)
    True
    """
    X, y, w = check_design(X, y, w)
    m = X.shape[0]
    total = np.zeros(X.shape[1])
    for s in micro_batch_slices(m, micro_batch):
        total += (s.stop - s.start) / m * mse_grad(X[s], y[s], w)
    return total


def equal_weight_mse_gradient(X, y, w, micro_batch):
    """The common mistake: average the micro-batch mean gradients with equal weights.

    This agrees with the full-batch gradient only when all micro-batches
    have the same size; a smaller last micro-batch gets too much weight.

    Parameters
    ----------
    X : array_like of shape (m, n)
    y : array_like of shape (m,)
    w : array_like of shape (n,)
    micro_batch : int

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    TypeError
        If ``micro_batch`` is not an integer.
    ValueError
        If the shapes do not fit or ``micro_batch`` is less than 1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)
    >>> np.allclose(equal_weight_mse_gradient(X, y, w, 5), accumulated_mse_gradient(X, y, w, 5))
    True
    >>> np.allclose(equal_weight_mse_gradient(X, y, w, 4), accumulated_mse_gradient(X, y, w, 4))
    False
    """
    X, y, w = check_design(X, y, w)
    grads = [mse_grad(X[s], y[s], w) for s in micro_batch_slices(X.shape[0], micro_batch)]
    return np.mean(grads, axis=0)
