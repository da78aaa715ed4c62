"""Machine-learning losses next to their gradients, written to be numerically stable.

Stability tricks: ``sigmoid`` only exponentiates ``-|z|``; ``softmax`` and
``cross_entropy`` subtract the largest logit first; ``logistic_loss`` uses
``log(1 + e^z) = logaddexp(0, z)``. Underflow of ``exp`` to 0 is the correctly
rounded result, so it is silenced on purpose.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_design, check_nonnegative


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, without overflow for any finite ``z``.

    Parameters
    ----------
    z : float or array_like
        Input(s) of any shape.

    Returns
    -------
    float or ndarray shaped like ``z``
        Values in ``[0, 1]``. Its derivative is ``sigmoid(z) * (1 - sigmoid(z))``.

    Raises
    ------
    TypeError
        If ``z`` is not numeric.
    ValueError
        If ``z`` is empty or not finite.

    Examples
    --------
    >>> sigmoid(0.0)
    0.5
    >>> sigmoid([-1000.0, 1000.0])
    array([0., 1.])
    """
    z = as_float_array(z, "z")
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(out) if out.ndim == 0 else out


def mse(X, y, w):
    """Mean squared error ``mean((X w - y)**2)`` of a linear model.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix, one example per row.
    y : array_like of shape (m,)
        Targets.
    w : array_like of shape (n,)
        Weights.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If a shape does not fit ``X`` or a value is not finite.

    Examples
    --------
    >>> mse([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0], [1.0, 3.0])
    2.0
    """
    X, y, w = check_design(X, y, w)
    return float(np.mean((X @ w - y) ** 2))


def mse_grad(X, y, w):
    """Gradient of :func:`mse` with respect to ``w``: ``(2/m) X^T (X w - y)``.

    Parameters
    ----------
    X, y, w : array_like of shapes (m, n), (m,), (n,)
        As in :func:`mse`.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    ValueError
        As in :func:`mse` (TypeError for non-numeric input).

    Examples
    --------
    >>> mse_grad([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0], [1.0, 3.0])
    array([0., 2.])
    """
    X, y, w = check_design(X, y, w)
    return 2.0 / X.shape[0] * X.T @ (X @ w - y)


def _labels(w, X, y):
    X, y, w = check_design(X, y, w)
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold labels in [0, 1] (0/1 classes or probabilities)")
    return X, y, w


def logistic_loss(w, X, y):
    """Mean binary cross-entropy of logistic regression, stable for large ``|X w|``.

    With ``z = X w`` and ``p = sigmoid(z)``:
    ``-mean(y log p + (1 - y) log(1 - p)) = mean(logaddexp(0, z) - y z)``.

    Parameters
    ----------
    w : array_like of shape (n,)
        Weights.
    X : array_like of shape (m, n)
        Design matrix.
    y : array_like of shape (m,)
        Labels in ``[0, 1]``.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If a shape does not fit ``X``, a value is not finite, or ``y`` leaves ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(logistic_loss([0.0], [[1.0], [2.0]], [0.0, 1.0]), np.log(2))
    True
    >>> logistic_loss([1.0], [[-1000.0]], [1.0])
    1000.0
    """
    X, y, w = _labels(w, X, y)
    z = X @ w
    with np.errstate(under="ignore"):
        return float(np.mean(np.logaddexp(0.0, z) - y * z))


def logistic_grad(w, X, y):
    """Gradient of :func:`logistic_loss`: ``(1/m) X^T (sigmoid(X w) - y)``.

    Parameters
    ----------
    w, X, y : array_like of shapes (n,), (m, n), (m,)
        As in :func:`logistic_loss`.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    ValueError
        As in :func:`logistic_loss` (TypeError for non-numeric input).

    Examples
    --------
    >>> logistic_grad([0.0], [[1.0], [2.0]], [0.0, 1.0])
    array([-0.25])
    """
    X, y, w = _labels(w, X, y)
    return X.T @ (sigmoid(X @ w) - y) / X.shape[0]


def softmax(z, axis=-1):
    """Softmax ``exp(z_i) / sum_j exp(z_j)`` along ``axis``, stable for large logits.

    Parameters
    ----------
    z : array_like, at least 1-D
        Logits.
    axis : int, default -1
        Axis along which the probabilities sum to 1.

    Returns
    -------
    ndarray shaped like ``z``

    Raises
    ------
    TypeError
        If ``z`` is not numeric.
    ValueError
        If ``z`` is 0-d, empty or not finite, or ``axis`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(softmax([1000.0, 1001.0]), softmax([0.0, 1.0]))
    True
    """
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must be at least 1-D (a vector of logits); got a scalar")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis must be in [-{z.ndim}, {z.ndim - 1}] for z of shape {z.shape}; got {axis}")
    with np.errstate(under="ignore"):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(z):
    """Jacobian ``d p_i / d z_j = diag(p) - p p^T`` of ``p = softmax(z)``.

    Parameters
    ----------
    z : array_like of shape (k,)
        Logits.

    Returns
    -------
    ndarray of shape (k, k)
        Symmetric; each row sums to 0 (the probabilities always sum to 1).

    Raises
    ------
    TypeError
        If ``z`` is not numeric.
    ValueError
        If ``z`` is not a finite non-empty 1-D array.

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    p = softmax(as_float_array(z, "z", ndim=1))
    return np.diag(p) - np.outer(p, p)


def _targets(z, y):
    z = as_float_array(z, "z", ndim=(1, 2))
    y = as_float_array(y, "y", shape=z.shape)
    if np.any(y < 0) or not np.allclose(y.sum(axis=-1), 1.0, atol=1e-8):
        raise ValueError("y must be one-hot (or probability) rows: entries >= 0 summing to 1")
    return z, y


def cross_entropy(z, y):
    """Softmax cross-entropy ``-sum_i y_i log softmax(z)_i`` of logits ``z``.

    A 1-D ``z`` is one example; a 2-D ``z`` holds one example per row and the
    loss is the mean over rows. Uses ``log softmax(z) = z - logsumexp(z)``.

    Parameters
    ----------
    z : array_like of shape (k,) or (m, k)
        Logits.
    y : array_like shaped like ``z``
        One-hot labels (any probability rows are accepted).

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If shapes differ, values are not finite, or rows of ``y`` are not probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(cross_entropy([0.0, 0.0], [1.0, 0.0]), np.log(2))
    True
    >>> cross_entropy([1000.0, 0.0], [0.0, 1.0])
    1000.0
    """
    z, y = _targets(z, y)
    shifted = z - z.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(np.mean(-(y * log_p).sum(axis=-1)))


def cross_entropy_grad(z, y):
    """Gradient of :func:`cross_entropy` with respect to ``z``: ``p - y``.

    For a 2-D batch of ``m`` rows the mean makes it ``(p - y) / m``.

    Parameters
    ----------
    z, y : array_like of shape (k,) or (m, k)
        Logits and one-hot labels, as in :func:`cross_entropy`.

    Returns
    -------
    ndarray shaped like ``z``

    Raises
    ------
    ValueError
        As in :func:`cross_entropy` (TypeError for non-numeric input).

    Examples
    --------
    >>> cross_entropy_grad([0.0, 0.0], [1.0, 0.0])
    array([-0.5,  0.5])
    """
    z, y = _targets(z, y)
    return (softmax(z) - y) / (z.shape[0] if z.ndim == 2 else 1)


def l2_penalty(w, lam):
    """Weight-decay term ``lam / 2 * ||w||**2`` (sum over all entries of ``w``).

    Parameters
    ----------
    w : array_like of any shape
        Weights.
    lam : float
        Regularisation strength, >= 0.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``w`` is not numeric.
    ValueError
        If ``w`` is empty or not finite, or ``lam`` is negative or not finite.

    Examples
    --------
    >>> l2_penalty([3.0, 4.0], 0.1)
    1.25
    """
    w, lam = as_float_array(w, "w"), check_nonnegative(lam, "lam")
    return 0.5 * lam * float(np.sum(w**2))


def l2_grad(w, lam):
    """Gradient of :func:`l2_penalty`: ``lam * w``.

    Parameters
    ----------
    w : array_like of any shape
        Weights.
    lam : float
        Regularisation strength, >= 0.

    Returns
    -------
    ndarray shaped like ``w``

    Raises
    ------
    ValueError
        As in :func:`l2_penalty` (TypeError for non-numeric ``w``).

    Examples
    --------
    >>> l2_grad([3.0, 4.0], 0.5)
    array([1.5, 2. ])
    """
    w, lam = as_float_array(w, "w"), check_nonnegative(lam, "lam")
    return lam * w
