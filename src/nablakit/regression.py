"""A small seeded regression problem, gradient-descent runs on it, and input gradients.

Chapter 06 trains a straight line ``y = w0 + w1 x`` on forty noisy points. The
MSE ``L(w) = mean((Xw - y)**2)`` has the constant Hessian ``H = (2/m) X^T X``,
so plain gradient descent converges for every start exactly when the step
``lr`` is below ``2 / lambda_max(H)``; this module computes that threshold from
the data and runs full-batch and mini-batch descent for the widgets.

The last three functions take the gradient with respect to the *input* of a
small logistic model: its saliency, and a one-step sign-of-gradient change of
the input.

Long on purpose: its chapter and widgets use it as one ``regression``
namespace; about two thirds of its lines are docstrings with examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nablakit._validate import as_float_array, check_count, check_design, check_positive
from nablakit.depth import max_stable_lr
from nablakit.losses import mse, mse_grad, sigmoid
from nablakit.optimizers import gradient_descent

__all__ = [
    "Run",
    "make_regression",
    "least_squares",
    "mse_hessian",
    "hessian_eigenvalues",
    "stable_learning_rate",
    "excess_loss",
    "gd_run",
    "sgd_run",
    "minibatch_gradients",
    "logistic_input_gradient",
    "logistic_loss_input_gradient",
    "sign_gradient_step",
]


def _start(w0, n):
    if w0 is None:
        return np.zeros(n)
    return as_float_array(w0, "w0", shape=(n,))


@dataclass(frozen=True)
class Run:
    """One optimisation run on a regression problem.

    Attributes
    ----------
    path : ndarray of shape (steps + 1, n)
        The weights after each step, the start first (rows after a
        divergence are NaN).
    loss : ndarray of shape (steps + 1,)
        The full-data MSE at each row of ``path``.
    excess : ndarray of shape (steps + 1,)
        ``loss`` minus the least-squares minimum, computed without
        cancellation (see :func:`excess_loss`).
    """

    path: np.ndarray
    loss: np.ndarray
    excess: np.ndarray


def make_regression(m=40, seed=0, noise=0.5):
    """Forty (by default) noisy points on the line ``y = 1.5 + 2 x``.

    The inputs are drawn from N(1, 1), so they are not centred: the two
    weights (intercept and slope) are coupled and the MSE's contours are
    tilted, elongated ellipses.

    Parameters
    ----------
    m : int, default 40
        Number of points, >= 2.
    seed : int, default 0
        Seed of ``np.random.default_rng``.
    noise : float, default 0.5
        Standard deviation of the Gaussian noise on ``y``, > 0.

    Returns
    -------
    X : ndarray of shape (m, 2)
        Design matrix: a column of ones, then the inputs.
    y : ndarray of shape (m,)
        Targets.

    Raises
    ------
    TypeError
        If ``m`` or ``seed`` is not an integer.
    ValueError
        If ``m < 2`` or ``noise <= 0``.

    Examples
    --------
    >>> X, y = make_regression()
    >>> X.shape, y.shape
    ((40, 2), (40,))
    >>> bool(np.all(X[:, 0] == 1.0))
    True
    """
    m = check_count(m, "m", 2)
    seed = check_count(seed, "seed")
    noise = check_positive(noise, "noise")
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 1.0, size=m)
    y = 1.5 + 2.0 * x + rng.normal(0.0, noise, size=m)
    return np.column_stack([np.ones(m), x]), y


def least_squares(X, y):
    """The minimiser ``w*`` of the MSE, from a least-squares solver.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix of full column rank.
    y : array_like of shape (m,)
        Targets.

    Returns
    -------
    ndarray of shape (n,)
        The weights solving the normal equations ``X^T X w = X^T y``.

    Raises
    ------
    ValueError
        If the shapes do not match or ``X`` has dependent columns.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> np.allclose(least_squares(X, [1.0, 3.0, 5.0]), [1.0, 2.0])
    True
    """
    X, y = check_design(X, y)
    w, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    if rank < X.shape[1]:
        raise ValueError(f"X must have independent columns; got rank {rank} for {X.shape[1]} columns")
    return w


def mse_hessian(X):
    """The Hessian ``(2/m) X^T X`` of the MSE (the same at every ``w``).

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix.

    Returns
    -------
    ndarray of shape (n, n)
        Symmetric, positive semi-definite.

    Examples
    --------
    >>> mse_hessian([[1.0, 0.0], [0.0, 2.0]])
    array([[1., 0.],
           [0., 4.]])
    """
    X = as_float_array(X, "X", ndim=2)
    return (2.0 / X.shape[0]) * X.T @ X


def hessian_eigenvalues(X):
    """Eigenvalues of :func:`mse_hessian`, smallest first.

    Examples
    --------
    >>> np.allclose(hessian_eigenvalues([[1.0, 0.0], [0.0, 2.0]]), [1.0, 4.0])
    True
    """
    return np.linalg.eigvalsh(mse_hessian(X))


def stable_learning_rate(X):
    """The critical step ``2 / lambda_max`` of gradient descent on the MSE.

    This is :func:`nablakit.depth.max_stable_lr` of :func:`mse_hessian`.

    Along the Hessian's top eigenvector a step of size ``lr`` multiplies the
    error by ``1 - lr * lambda_max``, whose size is below 1 exactly when
    ``lr < 2 / lambda_max``; above it the error grows at every step.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix (not all zero).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``X`` is all zeros (no curvature, no threshold).

    Examples
    --------
    >>> stable_learning_rate([[1.0, 0.0], [0.0, 2.0]])
    0.5
    """
    X = as_float_array(X, "X", ndim=2)
    if not X.any():
        raise ValueError("X must not be all zeros: the MSE has no curvature then")
    return max_stable_lr(mse_hessian(X))


def excess_loss(X, path, w_star):
    """``L(w) - L(w*)`` for each row ``w`` of ``path``, without cancellation.

    For least squares the gap is the quadratic ``mean((X (w - w*))**2)``
    exactly (the cross term vanishes because the gradient is zero at ``w*``),
    which stays accurate down to tiny gaps where subtracting two losses would
    only return rounding noise.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix.
    path : array_like of shape (n,) or (k, n)
        One weight vector or a sequence of them (NaN rows give NaN).
    w_star : array_like of shape (n,)
        The least-squares minimiser.

    Returns
    -------
    float or ndarray of shape (k,)

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> y = np.array([1.0, 2.0, 4.0])
    >>> w_star, w = least_squares(X, y), np.array([0.5, 1.0])
    >>> from nablakit.losses import mse
    >>> bool(np.isclose(excess_loss(X, w, w_star), mse(X, y, w) - mse(X, y, w_star)))
    True
    """
    X = as_float_array(X, "X", ndim=2)
    w_star = as_float_array(w_star, "w_star", shape=(X.shape[1],))
    path = np.asarray(path, dtype=float)
    if path.ndim not in (1, 2) or path.shape[-1] != X.shape[1]:
        raise ValueError(f"path must have shape ({X.shape[1]},) or (k, {X.shape[1]}); got {path.shape}")
    diff = (path - w_star) @ X.T
    gap = np.mean(diff**2, axis=-1)
    return float(gap) if path.ndim == 1 else gap


def _run(X, y, path):
    w_star = least_squares(X, y)
    loss = np.array([mse(X, y, w) if np.all(np.isfinite(w)) else np.nan for w in path])
    return Run(path=path, loss=loss, excess=excess_loss(X, path, w_star))


def gd_run(X, y, lr, steps, w0=None):
    """Full-batch gradient descent on the MSE.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix.
    y : array_like of shape (m,)
        Targets.
    lr : float
        Learning rate, > 0.
    steps : int
        Number of updates, >= 0.
    w0 : array_like of shape (n,), optional
        Start; zeros by default.

    Returns
    -------
    Run
        Path, loss curve and excess-loss curve, each with ``steps + 1`` rows.

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If the shapes do not match, ``lr <= 0`` or ``steps < 0``.

    Examples
    --------
    >>> X, y = make_regression()
    >>> lr = stable_learning_rate(X)
    >>> bool(gd_run(X, y, 0.9 * lr, 100).excess[-1] < 1e-3)
    True
    >>> bool(gd_run(X, y, 1.1 * lr, 100).excess[-1] > 1e3)
    True
    """
    X, y = check_design(X, y)
    lr = check_positive(lr, "lr")
    steps = check_count(steps, "steps")
    w = _start(w0, X.shape[1])
    path = gradient_descent(lambda v: mse_grad(X, y, v), w, lr, steps)
    return _run(X, y, np.asarray(path, dtype=float))


def sgd_run(X, y, lr, steps, batch_size, seed=0, w0=None):
    """Mini-batch stochastic gradient descent on the MSE.

    Each step draws ``batch_size`` distinct rows at random and follows the
    MSE gradient of that batch alone; the loss curve is still the loss on
    all the data, so its jitter shows the noise of the estimates.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix.
    y : array_like of shape (m,)
        Targets.
    lr : float
        Learning rate, > 0.
    steps : int
        Number of updates, >= 0.
    batch_size : int
        Rows per batch, between 1 and m (m gives full-batch descent).
    seed : int, default 0
        Seed of the batch sampler.
    w0 : array_like of shape (n,), optional
        Start; zeros by default.

    Returns
    -------
    Run
        Path, loss curve and excess-loss curve, each with ``steps + 1`` rows.

    Raises
    ------
    TypeError
        If ``steps``, ``batch_size`` or ``seed`` is not an integer.
    ValueError
        If the shapes do not match, ``lr <= 0``, ``steps < 0`` or
        ``batch_size`` is outside ``[1, m]``.

    Examples
    --------
    >>> X, y = make_regression()
    >>> run = sgd_run(X, y, 0.1, 50, batch_size=4)
    >>> run.path.shape, run.loss.shape
    ((51, 2), (51,))
    >>> np.allclose(sgd_run(X, y, 0.1, 20, 40).path, gd_run(X, y, 0.1, 20).path)
    True
    """
    X, y = check_design(X, y)
    lr = check_positive(lr, "lr")
    steps = check_count(steps, "steps")
    m = X.shape[0]
    batch_size = check_count(batch_size, "batch_size", 1, m)
    rng = np.random.default_rng(check_count(seed, "seed"))
    path = np.empty((steps + 1, X.shape[1]))
    path[0] = _start(w0, X.shape[1])
    for t in range(steps):
        rows = rng.choice(m, size=batch_size, replace=False)
        path[t + 1] = path[t] - lr * mse_grad(X[rows], y[rows], path[t])
    return _run(X, y, path)


def minibatch_gradients(X, y, w, batch_size, draws=200, seed=0):
    """MSE gradients at ``w`` estimated from ``draws`` random mini-batches.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix.
    y : array_like of shape (m,)
        Targets.
    w : array_like of shape (n,)
        Where to take the gradients.
    batch_size : int
        Rows per batch (drawn without replacement), between 1 and m.
    draws : int, default 200
        Number of batches, >= 1.
    seed : int, default 0
        Seed of the sampler.

    Returns
    -------
    ndarray of shape (draws, n)
        One gradient estimate per row; their mean is close to the full
        gradient and their spread shrinks as ``batch_size`` grows.

    Examples
    --------
    >>> X, y = make_regression()
    >>> g = minibatch_gradients(X, y, [0.0, 0.0], batch_size=40, draws=3)
    >>> np.allclose(g, mse_grad(X, y, np.zeros(2)))
    True
    """
    X, y = check_design(X, y)
    w = as_float_array(w, "w", shape=(X.shape[1],))
    m = X.shape[0]
    batch_size = check_count(batch_size, "batch_size", 1, m)
    draws = check_count(draws, "draws", 1)
    rng = np.random.default_rng(check_count(seed, "seed"))
    out = np.empty((draws, X.shape[1]))
    for k in range(draws):
        rows = rng.choice(m, size=batch_size, replace=False)
        out[k] = mse_grad(X[rows], y[rows], w)
    return out


def _logistic_args(w, b, x):
    w = as_float_array(w, "w", ndim=1)
    x = as_float_array(x, "x", shape=(w.shape[0],))
    b = float(as_float_array(b, "b", ndim=0))
    return w, b, x


def logistic_input_gradient(w, b, x):
    """Gradient of the predicted probability ``sigmoid(w . x + b)`` with respect to ``x``.

    By the chain rule it is ``p (1 - p) w``: every input is weighted by its
    weight, scaled by how far the model is from saturating. Its absolute
    value is the model's *saliency* map at ``x``.

    Parameters
    ----------
    w : array_like of shape (d,)
        Weights of the model.
    b : float
        Bias of the model.
    x : array_like of shape (d,)
        The input.

    Returns
    -------
    ndarray of shape (d,)

    Examples
    --------
    >>> logistic_input_gradient([2.0, -1.0], 0.0, [0.0, 0.0])
    array([ 0.5 , -0.25])
    """
    w, b, x = _logistic_args(w, b, x)
    p = sigmoid(w @ x + b)
    return p * (1.0 - p) * w


def logistic_loss_input_gradient(w, b, x, y):
    """Gradient of the cross-entropy loss of one example with respect to its input.

    For the label ``y`` in {0, 1} and ``p = sigmoid(w . x + b)`` it is
    ``(p - y) w`` (the same "error times ..." shape as the gradient with
    respect to ``w``, with the roles of ``w`` and ``x`` swapped).

    Parameters
    ----------
    w : array_like of shape (d,)
        Weights of the model.
    b : float
        Bias of the model.
    x : array_like of shape (d,)
        The input.
    y : {0, 1}
        The label whose loss is differentiated.

    Returns
    -------
    ndarray of shape (d,)

    Raises
    ------
    ValueError
        If ``y`` is not 0 or 1.

    Examples
    --------
    >>> logistic_loss_input_gradient([2.0, -1.0], 0.0, [0.0, 0.0], 1)
    array([-1. ,  0.5])
    """
    w, b, x = _logistic_args(w, b, x)
    if y not in (0, 1):
        raise ValueError(f"y must be 0 or 1; got {y!r}")
    return (sigmoid(w @ x + b) - y) * w


def sign_gradient_step(x, grad, eps):
    """Move every coordinate of ``x`` by ``eps`` in the direction of ``sign(grad)``.

    This is the one-step "fast gradient sign" change of an input: with the
    gradient of the loss it is the largest first-order increase of the loss
    among all changes of at most ``eps`` per coordinate.

    Parameters
    ----------
    x : array_like of shape (d,)
        The input.
    grad : array_like of shape (d,)
        A gradient with respect to the input.
    eps : float
        Size of the change per coordinate, > 0.

    Returns
    -------
    ndarray of shape (d,)
        ``x + eps * sign(grad)`` (coordinates with a zero gradient stay).

    Examples
    --------
    >>> sign_gradient_step([1.0, 1.0, 1.0], [0.3, -2.0, 0.0], 0.5)
    array([1.5, 0.5, 1. ])
    """
    x = as_float_array(x, "x", ndim=1)
    grad = as_float_array(grad, "grad", shape=(x.shape[0],))
    eps = check_positive(eps, "eps")
    return x + eps * np.sign(grad)
