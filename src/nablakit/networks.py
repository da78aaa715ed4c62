"""A tiny one-hidden-layer network in NumPy, with hand-written backprop.

The network maps a batch ``X`` of shape ``(m, n_in)`` (one example per row) to
``(m, n_out)`` outputs::

    Z1 = X @ W1 + b1        (m, n_hidden)   pre-activations
    H  = act(Z1)            (m, n_hidden)   act = tanh (default) or sigmoid
    Y_hat = H @ W2 + b2     (m, n_out)      outputs (logits for cross-entropy)

Two losses are supported, chosen with ``loss=``:

``"mse"`` (default)
    ``mean((Y_hat - y) ** 2)``, the mean over all ``m * n_out`` entries, like
    :func:`nablakit.losses.mse`. ``y`` has shape ``(m, n_out)``, or ``(m,)``
    when ``n_out == 1``.
``"cross_entropy"``
    softmax cross-entropy averaged over the ``m`` examples; ``y`` holds class
    labels ``0 .. n_out-1`` of shape ``(m,)`` or one-hot rows ``(m, n_out)``.

Parameters live in a dict with the keys of :data:`PARAM_NAMES`;
:func:`flatten_params` and :func:`unflatten_params` convert to and from one
flat vector (in that key order), which is what finite differences and loss
surface slices need.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_choice, check_count, check_rng

PARAM_NAMES = ("W1", "b1", "W2", "b2")
ACTIVATIONS = ("tanh", "sigmoid")
LOSSES = ("mse", "cross_entropy")


def _check_params(params):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}; got {type(params).__name__}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing key(s) {missing}; expected {PARAM_NAMES}")
    W1 = as_float_array(params["W1"], "params['W1']", ndim=2)
    n_in, n_hidden = W1.shape
    b1 = as_float_array(params["b1"], "params['b1']", shape=(n_hidden,))
    W2 = as_float_array(params["W2"], "params['W2']", ndim=2)
    if W2.shape[0] != n_hidden:
        raise ValueError(f"params['W2'] must have {n_hidden} rows to match W1's {n_hidden} columns; got shape {W2.shape}")
    b2 = as_float_array(params["b2"], "params['b2']", shape=(W2.shape[1],))
    return W1, b1, W2, b2


def _activation(z, activation):
    if activation == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    # sigmoid, written so that exp never overflows
    ez = np.exp(-np.abs(z))
    a = np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))
    return a, a * (1.0 - a)


def _targets(y, m, n_out, loss):
    if loss == "mse":
        y = as_float_array(y, "y", ndim=(1, 2))
        if y.ndim == 1:
            if n_out != 1:
                raise ValueError(f"y of shape (m,) needs n_out == 1; the network has n_out = {n_out}")
            y = y[:, None]
        if y.shape != (m, n_out):
            raise ValueError(f"y must have shape ({m}, {n_out}) to match X and the network; got {y.shape}")
        return y
    arr = np.asarray(y)
    if arr.ndim == 1:
        if arr.shape[0] != m:
            raise ValueError(f"y must have {m} labels to match X; got {arr.shape[0]}")
        if not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
            raise ValueError("y must hold integer class labels for cross_entropy")
        labels = arr.astype(int)
        if labels.min() < 0 or labels.max() >= n_out:
            raise ValueError(f"y labels must lie in 0..{n_out - 1}; got range {labels.min()}..{labels.max()}")
        return np.eye(n_out)[labels]
    onehot = as_float_array(y, "y", shape=(m, n_out))
    return onehot


def _forward(params, X, activation):
    W1, b1, W2, b2 = _check_params(params)
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != W1.shape[0]:
        raise ValueError(f"X must have {W1.shape[0]} columns (n_in of W1); got shape {X.shape}")
    check_choice(activation, "activation", ACTIVATIONS)
    H, dH_dZ1 = _activation(X @ W1 + b1, activation)
    return X, H, dH_dZ1, H @ W2 + b2


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def init_mlp(n_in, n_hidden, n_out, rng):
    """Random parameters of a one-hidden-layer network.

    Weights are drawn from a normal distribution with standard deviation
    ``1 / sqrt(fan_in)`` (so pre-activations start at a moderate scale);
    biases start at zero.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input features, hidden units and outputs, each at least 1.
    rng : numpy.random.Generator or int
        Source of randomness; an int is used as the seed of
        ``np.random.default_rng``.

    Returns
    -------
    dict
        ``W1`` (n_in, n_hidden), ``b1`` (n_hidden,), ``W2`` (n_hidden, n_out),
        ``b2`` (n_out,).

    Raises
    ------
    TypeError
        If a size is not an integer, or ``rng`` is neither a Generator nor an int.
    ValueError
        If a size is less than 1.

    Examples
    --------
    >>> p = init_mlp(3, 4, 2, rng=0)
    >>> {k: v.shape for k, v in p.items()}
    {'W1': (3, 4), 'b1': (4,), 'W2': (4, 2), 'b2': (2,)}
    """
    n_in, n_hidden, n_out = (check_count(n, name, 1) for n, name in
                             ((n_in, "n_in"), (n_hidden, "n_hidden"), (n_out, "n_out")))
    rng = check_rng(rng)
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), size=(n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }


def mlp_forward(params, X, *, activation="tanh"):
    """Outputs of the network for a batch ``X``.

    Parameters
    ----------
    params : dict
        ``W1``, ``b1``, ``W2``, ``b2`` as made by :func:`init_mlp`.
    X : array_like of shape (m, n_in)
        One example per row.
    activation : {"tanh", "sigmoid"}, default "tanh"
        The hidden layer's nonlinearity.

    Returns
    -------
    ndarray of shape (m, n_out)
        ``act(X @ W1 + b1) @ W2 + b2`` (logits when used with cross-entropy).

    Raises
    ------
    ValueError
        If shapes do not fit together or ``activation`` is unknown.

    Examples
    --------
    >>> p = init_mlp(2, 3, 1, rng=0)
    >>> mlp_forward(p, [[0.0, 0.0]])   # zero input, zero biases -> zero output
    array([[0.]])
    """
    return _forward(params, X, activation)[3]


def mlp_loss(params, X, y, *, activation="tanh", loss="mse"):
    """Loss of the network on ``(X, y)``.

    Parameters
    ----------
    params : dict
        The network's parameters (see :func:`init_mlp`).
    X : array_like of shape (m, n_in)
        Inputs, one per row.
    y : array_like
        Targets: shape (m, n_out) or (m,) for ``"mse"``; integer labels (m,)
        or one-hot rows (m, n_out) for ``"cross_entropy"``.
    activation : {"tanh", "sigmoid"}, default "tanh"
    loss : {"mse", "cross_entropy"}, default "mse"

    Returns
    -------
    float
        ``mean((Y_hat - y)**2)`` over all entries, or the mean softmax
        cross-entropy over the examples.

    Raises
    ------
    ValueError
        If shapes disagree or an option is unknown.

    Examples
    --------
    >>> p = init_mlp(2, 3, 1, rng=0)
    >>> X = [[0.0, 0.0], [0.0, 0.0]]
    >>> float(mlp_loss(p, X, [1.0, -1.0]))      # outputs are 0
    1.0
    >>> p2 = init_mlp(2, 3, 4, rng=0)
    >>> bool(np.isclose(mlp_loss(p2, X, [0, 3], loss="cross_entropy"), np.log(4)))
    True
    """
    check_choice(loss, "loss", LOSSES)
    X, _, _, out = _forward(params, X, activation)
    Y = _targets(y, X.shape[0], out.shape[1], loss)
    if loss == "mse":
        return float(np.mean((out - Y) ** 2))
    return float(-np.mean(np.sum(Y * _log_softmax(out), axis=1)))


def mlp_grads(params, X, y, *, activation="tanh", loss="mse"):
    """Gradient of :func:`mlp_loss` with respect to every parameter (backprop).

    One forward pass stores the hidden activations; one backward pass applies
    the chain rule from the loss back to ``W1``:

    - ``dY_hat = 2 (Y_hat - y) / (m n_out)`` for MSE, ``(softmax(Y_hat) - y) / m``
      for cross-entropy;
    - ``dW2 = H.T @ dY_hat``, ``db2 = sum of dY_hat over rows``;
    - ``dZ1 = (dY_hat @ W2.T) * act'(Z1)``;
    - ``dW1 = X.T @ dZ1``, ``db1 = sum of dZ1 over rows``.

    Parameters
    ----------
    params, X, y, activation, loss
        As for :func:`mlp_loss`.

    Returns
    -------
    dict
        Same keys and shapes as ``params``.

    Raises
    ------
    ValueError
        If shapes disagree or an option is unknown.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> p = init_mlp(3, 4, 2, rng)
    >>> X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    >>> g = mlp_grads(p, X, y)
    >>> h = 1e-6
    >>> p_plus = {k: v.copy() for k, v in p.items()}; p_plus["W1"][0, 0] += h
    >>> p_minus = {k: v.copy() for k, v in p.items()}; p_minus["W1"][0, 0] -= h
    >>> fd = (mlp_loss(p_plus, X, y) - mlp_loss(p_minus, X, y)) / (2 * h)
    >>> bool(np.isclose(g["W1"][0, 0], fd, atol=1e-8))
    True
    """
    check_choice(loss, "loss", LOSSES)
    X, H, dH_dZ1, out = _forward(params, X, activation)
    m, n_out = out.shape
    Y = _targets(y, m, n_out, loss)
    if loss == "mse":
        d_out = 2.0 * (out - Y) / (m * n_out)
    else:
        d_out = (np.exp(_log_softmax(out)) - Y) / m
    W2 = np.asarray(params["W2"], dtype=float)
    d_Z1 = (d_out @ W2.T) * dH_dZ1
    return {
        "W1": X.T @ d_Z1,
        "b1": d_Z1.sum(axis=0),
        "W2": H.T @ d_out,
        "b2": d_out.sum(axis=0),
    }


def flatten_params(params):
    """Concatenate the parameters into one vector, in the order of :data:`PARAM_NAMES`.

    Parameters
    ----------
    params : dict
        ``W1``, ``b1``, ``W2``, ``b2`` (any extra keys are ignored).

    Returns
    -------
    ndarray of shape (n_params,)
        A new array; changing it does not change ``params``.

    Raises
    ------
    ValueError
        If a key is missing or shapes disagree.

    Examples
    --------
    >>> p = init_mlp(3, 4, 2, rng=0)
    >>> flatten_params(p).shape            # 3*4 + 4 + 4*2 + 2
    (26,)
    """
    return np.concatenate([a.ravel() for a in _check_params(params)])


def unflatten_params(theta, like):
    """Inverse of :func:`flatten_params`: split ``theta`` into arrays shaped like ``like``.

    Parameters
    ----------
    theta : array_like of shape (n_params,)
        A flat parameter vector.
    like : dict
        Parameters whose shapes to copy (their values are not used).

    Returns
    -------
    dict
        New arrays ``W1``, ``b1``, ``W2``, ``b2``.

    Raises
    ------
    ValueError
        If ``theta`` has the wrong length.

    Examples
    --------
    >>> p = init_mlp(3, 4, 2, rng=0)
    >>> q = unflatten_params(flatten_params(p), like=p)
    >>> all(np.array_equal(p[k], q[k]) for k in p)
    True
    """
    shapes = [a.shape for a in _check_params(like)]
    theta = as_float_array(theta, "theta", ndim=1)
    total = sum(int(np.prod(s)) for s in shapes)
    if theta.size != total:
        raise ValueError(f"theta must have {total} entries for these shapes {shapes}; got {theta.size}")
    out, start = {}, 0
    for name, shape in zip(PARAM_NAMES, shapes):
        size = int(np.prod(shape))
        out[name] = theta[start : start + size].reshape(shape).copy()
        start += size
    return out


def n_params(params):
    """Number of scalar parameters in ``params``.

    Parameters
    ----------
    params : dict
        ``W1``, ``b1``, ``W2``, ``b2``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If a key is missing or shapes disagree.

    Examples
    --------
    >>> n_params(init_mlp(3, 4, 2, rng=0))
    26
    """
    return sum(a.size for a in _check_params(params))


def gradient_check_table(params, X, y, *, grads=None, h=1e-5, activation="tanh", loss="mse"):
    """Check a gradient of :func:`mlp_loss` block by block against centred differences.

    The loss is differentiated numerically with respect to the flattened
    parameters (:func:`nablakit.numdiff.numerical_gradient`), the result is
    split back into ``W1``, ``b1``, ``W2``, ``b2``, and each block is compared
    with the claimed gradient by :func:`nablakit.gradcheck.relative_error`.
    A bug in one layer then shows up in that layer's rows only.

    Parameters
    ----------
    params, X, y, activation, loss
        As for :func:`mlp_loss`.
    grads : callable, optional
        ``grads(params, X, y)`` returning a dict like :func:`mlp_grads` (the
        default). Pass your own backprop to check it.
    h : float, default 1e-5
        Step of the centred differences.

    Returns
    -------
    list of dict
        One row per parameter with keys ``name``, ``shape`` and
        ``relative_error``, in the order of :data:`PARAM_NAMES`.

    Raises
    ------
    ValueError
        If ``grads`` returns a missing key or a wrongly shaped block.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = init_mlp(3, 4, 2, rng)
    >>> rows = gradient_check_table(p, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> [r["name"] for r in rows], all(r["relative_error"] < 1e-7 for r in rows)
    (['W1', 'b1', 'W2', 'b2'], True)
    """
    from nablakit.gradcheck import relative_error
    from nablakit.numdiff import numerical_gradient

    if grads is None:

        def grads(p, X_, y_):
            return mlp_grads(p, X_, y_, activation=activation, loss=loss)

    theta = flatten_params(params)

    def f(t):
        return mlp_loss(unflatten_params(t, params), X, y, activation=activation, loss=loss)

    numeric = unflatten_params(numerical_gradient(f, theta, h=h), params)
    claimed = grads({k: np.array(v, dtype=float) for k, v in params.items()}, X, y)
    rows = []
    for name in PARAM_NAMES:
        if name not in claimed:
            raise ValueError(f"grads must return a dict with key {name!r}; got keys {sorted(claimed)}")
        block = np.asarray(claimed[name], dtype=float)
        if block.shape != numeric[name].shape:
            raise ValueError(f"grads()[{name!r}] must have shape {numeric[name].shape}; got {block.shape}")
        rows.append({"name": name, "shape": block.shape, "relative_error": relative_error(numeric[name], block)})
    return rows


def format_check_table(rows):
    """Lay out the rows of :func:`gradient_check_table` as a small text table.

    Parameters
    ----------
    rows : list of dict
        Rows with keys ``name``, ``shape`` and ``relative_error``.

    Returns
    -------
    str
        A header line and one line per row; ready for ``print``.

    Examples
    --------
    >>> print(format_check_table([{"name": "W1", "shape": (4, 6), "relative_error": 2.5e-11}]))
    parameter  shape     relative error
    W1         (4, 6)           2.5e-11
    """
    lines = [f"{'parameter':<10} {'shape':<8} {'relative error':>15}"]
    for row in rows:
        lines.append(f"{row['name']:<10} {str(row['shape']):<8} {row['relative_error']:>15.1e}")
    return "\n".join(lines)
