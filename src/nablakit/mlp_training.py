"""Training the small network of :mod:`nablakit.networks`, and its loss surface.

:func:`train_mlp` runs (mini-batch) gradient descent and records the loss
and the gradient norm at every step, the training diagnostic of *Loss landscapes*;
:func:`mlp_loss_stack` evaluates the loss at many parameter vectors at once
for the loss-surface slices of :func:`nablakit.landscape.plane_slice`.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_choice, check_count, check_positive, check_rng
from nablakit.clipping import global_norm
from nablakit.losses import sigmoid
from nablakit.networks import ACTIVATIONS, PARAM_NAMES, flatten_params, mlp_grads, mlp_loss


def train_mlp(params, X, y, lr, steps, *, batch_size=None, rng=None, activation="tanh"):
    """Train a :mod:`nablakit.networks` MLP (MSE loss) by (mini-batch) gradient descent, recording diagnostics.

    At every step the full-batch loss and the norm of the gradient actually
    used (the mini-batch gradient when ``batch_size`` is set) are recorded
    *before* the update. If the loss or the parameters stop being finite
    (a too-large learning rate), training stops and the rest of the record
    is NaN.

    Parameters
    ----------
    params : dict
        Starting parameters (``W1``, ``b1``, ``W2``, ``b2``); not modified.
    X : array_like of shape (m, n_in)
    y : array_like of shape (m,) or (m, n_out)
    lr : float
        Learning rate, > 0.
    steps : int
        Number of updates, >= 0.
    batch_size : int, optional
        Examples per mini-batch, drawn without replacement at each step;
        ``None`` means full-batch gradient descent.
    rng : numpy.random.Generator or int, optional
        Needed when ``batch_size`` is set.
    activation : {"tanh", "sigmoid"}, default "tanh"

    Returns
    -------
    params : dict
        The parameters after training (the last finite ones).
    history : dict
        ``"loss"`` and ``"grad_norm"``, arrays of shape ``(steps + 1,)``; the
        last entry is recorded after the final update (its gradient is the
        full-batch one).

    Raises
    ------
    TypeError
        If ``steps`` or ``batch_size`` is not an integer, or ``rng`` is
        neither a Generator nor an int.
    ValueError
        On a non-positive ``lr``, a negative ``steps``, a ``batch_size``
        outside ``1..m``, ``batch_size`` without ``rng``, or non-finite
        starting ``params``.

    Examples
    --------
    >>> from nablakit.networks import init_mlp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(32, 1)); y = np.sin(2 * X[:, 0])
    >>> p, hist = train_mlp(init_mlp(1, 8, 1, rng=1), X, y, lr=0.2, steps=200)
    >>> bool(hist["loss"][-1] < 0.2 * hist["loss"][0])
    True
    """
    lr = check_positive(lr, "lr")
    steps = check_count(steps, "steps")
    X = as_float_array(X, "X", ndim=2)
    m = X.shape[0]
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size", 1, m)
        if rng is None:
            raise ValueError("rng is needed for mini-batches: pass np.random.default_rng(seed)")
        rng = check_rng(rng)
    y = np.asarray(y, dtype=float)
    current = {k: np.array(v, dtype=float) for k, v in params.items()}
    if not _finite_params(current):
        raise ValueError("params must be finite (and below 1e12 in size)")
    loss = np.full(steps + 1, np.nan)
    grad_norm = np.full(steps + 1, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            value = mlp_loss(current, X, y, activation=activation)  # current is finite: checked below
            if not np.isfinite(value):
                break
            if batch_size is None or t == steps:
                rows = slice(None)
            else:
                rows = rng.choice(m, size=batch_size, replace=False)
            grads = mlp_grads(current, X[rows], y[rows], activation=activation)
            loss[t] = value
            grad_norm[t] = global_norm(list(grads.values()))
            if t == steps:
                break
            candidate = {k: current[k] - lr * grads[k] for k in current}
            if not _finite_params(candidate):
                break
            current = candidate
    return current, {"loss": loss, "grad_norm": grad_norm}


def _finite_params(params):
    # NaN and inf fail the comparison too, so one reduction per array suffices.
    return all(np.abs(v).max(initial=0.0) < 1e12 for v in params.values())


def mlp_loss_stack(thetas, like, X, y, *, activation="tanh"):
    """MSE loss of a one-hidden-layer MLP at many flat parameter vectors at once.

    This is the ``batched=True`` loss that :func:`nablakit.landscape.plane_slice`
    expects: ``thetas`` holds the parameters on its FIRST axis (flattened as
    by :func:`nablakit.networks.flatten_params`), any shape after that.

    Parameters
    ----------
    thetas : array_like of shape (n_params, ...)
        Stacked flat parameter vectors.
    like : dict
        Parameters whose shapes define the layout (``W1``, ``b1``, ``W2``, ``b2``).
    X : array_like of shape (m, n_in)
    y : array_like of shape (m,) or (m, n_out)
    activation : {"tanh", "sigmoid"}, default "tanh"

    Returns
    -------
    ndarray of shape ``thetas.shape[1:]``
        ``mean((Y_hat - y)**2)`` for every parameter vector.

    Raises
    ------
    ValueError
        If the first axis of ``thetas`` does not match ``like`` or shapes disagree.

    Examples
    --------
    >>> from nablakit.networks import init_mlp, flatten_params, mlp_loss
    >>> p = init_mlp(2, 3, 1, rng=0)
    >>> rng = np.random.default_rng(1)
    >>> X, y = rng.normal(size=(5, 2)), rng.normal(size=5)
    >>> theta = flatten_params(p)
    >>> stack = np.stack([theta, 2 * theta], axis=1)          # two parameter vectors
    >>> np.allclose(mlp_loss_stack(stack, p, X, y)[0], mlp_loss(p, X, y))
    True
    """
    check_choice(activation, "activation", ACTIVATIONS)
    n = flatten_params(like).size
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim == 0 or thetas.shape[0] != n:
        raise ValueError(f"thetas must have {n} parameters on its first axis; got shape {thetas.shape}")
    rest = thetas.shape[1:]
    P = thetas.reshape(n, -1)
    k = P.shape[1]
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=(1, 2))
    blocks, start = {}, 0
    for name in PARAM_NAMES:
        shape = np.shape(like[name])
        size = int(np.prod(shape))
        blocks[name] = P[start : start + size].reshape(shape + (k,))
        start += size
    n_out = blocks["b2"].shape[0]
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (X.shape[0], n_out):
        raise ValueError(f"y must have shape ({X.shape[0]}, {n_out}) or ({X.shape[0]},); got {y.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        Z1 = np.einsum("mi,ihk->kmh", X, blocks["W1"]) + blocks["b1"].T[:, None, :]
        H = np.tanh(Z1) if activation == "tanh" else sigmoid(Z1)
        out = np.einsum("kmh,hok->kmo", H, blocks["W2"]) + blocks["b2"].T[:, None, :]
        return np.mean((out - y) ** 2, axis=(1, 2)).reshape(rest)
