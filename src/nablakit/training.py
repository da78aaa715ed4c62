"""Gradients at training time: clipping, accumulation, checkpointing, float16, natural gradient.

Every function here is pure NumPy and returns numbers; chapter 10 and its
widgets only draw them.

- Clipping: :func:`clip_by_global_norm` (direction kept) and
  :func:`clip_by_value` (direction can turn), measured by :func:`angle_between`.
- Accumulation: :func:`accumulated_mse_gradient` weights each micro-batch by
  its size and reproduces the full-batch MSE gradient exactly;
  :func:`equal_weight_mse_gradient` is the common mistake.
- Checkpointing: :func:`checkpoint_table` counts stored activations and layer
  evaluations for three strategies.
- Mixed precision: :func:`float16_roundtrip`, :func:`underflow_fraction`
  and :func:`float16_error_envelope` show gradients vanishing in float16
  and loss scaling bringing them back.
- Natural gradient on a Gaussian N(mu, sigma^2): :func:`gaussian_loglik_grad`,
  :func:`gaussian_fisher`, :func:`gaussian_natural_gradient`,
  :func:`gaussian_average_loglik` (a whole grid at once),
  :func:`gaussian_gd_path`, :func:`gaussian_ngd_path`; :func:`steps_to_settle`
  (and its core :func:`first_settled`) says when a run has arrived for good.
- A small network (chapter 09): :func:`train_mlp` records the loss and the
  gradient norm at every step (the training diagnostic), and
  :func:`mlp_loss_stack` evaluates the loss at many parameter vectors at once
  for loss-surface slices.
"""

from __future__ import annotations

import math

import numpy as np

from nablakit._validate import as_float_array, check_positive

FLOAT16_SMALLEST_SUBNORMAL = float(np.finfo(np.float16).smallest_subnormal)
"""2**-24, about 5.96e-8: the smallest positive float16 number."""
FLOAT16_SMALLEST_NORMAL = float(np.finfo(np.float16).smallest_normal)
"""2**-14, about 6.10e-5: below it float16 loses relative precision."""
FLOAT16_MAX = float(np.finfo(np.float16).max)
"""65504: above it a float16 becomes inf."""


def _check_count(value, name, low=0, high=None):
    # An integer in [low, high]; True/False are not counts.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be an integer {bounds}; got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- clipping


def _as_grad_list(grads):
    if isinstance(grads, np.ndarray) or np.isscalar(grads):
        raise TypeError("grads must be a list of arrays (one per parameter), not a single array; wrap it as [g]")
    try:
        items = list(grads)
    except TypeError:
        raise TypeError(f"grads must be a list of arrays; got {type(grads).__name__}") from None
    if not items:
        raise ValueError("grads must contain at least one array")
    return [as_float_array(g, f"grads[{i}]", allow_empty=True) for i, g in enumerate(items)]


def global_norm(grads):
    """Return the Euclidean norm of all entries of a list of arrays taken together.

    Parameters
    ----------
    grads : list of array_like
        One gradient array per parameter, any shapes.

    Returns
    -------
    float
        ``sqrt(sum over arrays of sum(g**2))``.

    Raises
    ------
    TypeError
        If ``grads`` is a single array rather than a list.
    ValueError
        If the list is empty or holds non-finite values.

    Examples
    --------
    >>> global_norm([[3.0], [[4.0, 0.0]]])
    5.0
    """
    arrays = _as_grad_list(grads)
    return float(math.sqrt(sum(float(np.sum(g * g)) for g in arrays)))


def clip_by_global_norm(grads, max_norm):
    """Rescale a list of gradients so their joint norm is at most ``max_norm``.

    All arrays are multiplied by the same factor ``min(1, max_norm / total)``,
    so the direction of the whole gradient is kept (as in
    ``torch.nn.utils.clip_grad_norm_``).

    Parameters
    ----------
    grads : list of array_like
        One gradient array per parameter.
    max_norm : float
        The largest allowed global norm, > 0.

    Returns
    -------
    clipped : list of ndarray
        New arrays (the inputs are not modified), same shapes as ``grads``.
    total_norm : float
        The global norm *before* clipping.

    Raises
    ------
    TypeError
        If ``grads`` is a single array or ``max_norm`` is not a number.
    ValueError
        If ``max_norm`` is not positive or a gradient is not finite.

    Examples
    --------
    >>> clipped, total = clip_by_global_norm([np.array([3.0, 0.0]), np.array([4.0])], 1.0)
    >>> total
    5.0
    >>> np.allclose(clipped[0], [0.6, 0.0]) and np.allclose(clipped[1], [0.8])
    True
    """
    arrays = _as_grad_list(grads)
    max_norm = check_positive(max_norm, "max_norm")
    total = global_norm(arrays)
    # An all-zero gradient has no direction: leave it alone (no 0/0).
    scale = 1.0 if total <= max_norm else max_norm / total
    return [g * scale for g in arrays], total


def clip_by_value(g, c):
    """Clip every entry of ``g`` to the interval ``[-c, c]``.

    Unlike norm clipping, this acts on each coordinate separately, so large
    entries are cut while small ones are kept and the vector turns.

    Parameters
    ----------
    g : array_like
        A gradient, any shape.
    c : float
        The clip value, > 0.

    Returns
    -------
    ndarray
        A new array of the same shape.

    Raises
    ------
    ValueError
        If ``c`` is not positive or ``g`` is not finite.

    Examples
    --------
    >>> clip_by_value([10.0, 0.1, -3.0], 1.0)
    array([ 1. ,  0.1, -1. ])
    """
    g = as_float_array(g, "g", allow_empty=True)
    c = check_positive(c, "c")
    return np.clip(g, -c, c)


def angle_between(a, b, *, degrees=True):
    """Return the angle between two non-zero vectors.

    Parameters
    ----------
    a, b : array_like
        Vectors of the same shape (flattened), neither all zero.
    degrees : bool, default True
        Degrees if True, radians otherwise.

    Returns
    -------
    float
        The angle in ``[0, 180]`` degrees (or ``[0, pi]``).

    Raises
    ------
    ValueError
        If the shapes differ or a vector is zero.

    Examples
    --------
    >>> round(angle_between([1, 0], [1, 1]), 6)
    45.0
    >>> angle_between([1, 0], [2, 0])
    0.0
    """
    a = as_float_array(a, "a").ravel()
    b = as_float_array(b, "b").ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same number of entries; got {a.size} and {b.size}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("a and b must be non-zero: the zero vector has no direction")
    ua, ub = a / na, b / nb
    # Kahan's form: accurate also for nearly parallel vectors, where acos(cosine) is not.
    angle = 2.0 * math.atan2(float(np.linalg.norm(ua - ub)), float(np.linalg.norm(ua + ub)))
    return math.degrees(angle) if degrees else angle


# --------------------------------------------------------------------------- accumulation


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
    ValueError
        If either number is not a positive integer.

    Examples
    --------
    >>> [(s.start, s.stop) for s in micro_batch_slices(10, 4)]
    [(0, 4), (4, 8), (8, 10)]
    """
    m, micro_batch = _check_count(m, "m", 1), _check_count(micro_batch, "micro_batch", 1)
    return [slice(start, min(start + micro_batch, m)) for start in range(0, m, micro_batch)]


def _mse_problem(X, y, w):
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one entry per row of X ({X.shape[0]}); got {y.shape[0]}")
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w must have one entry per column of X ({X.shape[1]}); got {w.shape[0]}")
    return X, y, w


def _mean_mse_grad(X, y, w):
    return 2.0 / X.shape[0] * X.T @ (X @ w - y)


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
    ValueError
        If the shapes do not fit or ``micro_batch`` is not a positive integer.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)
    >>> full = 2 / 10 * X.T @ (X @ w - y)
    >>> np.allclose(accumulated_mse_gradient(X, y, w, 4), full)
    True
    """
    X, y, w = _mse_problem(X, y, w)
    m = X.shape[0]
    total = np.zeros(X.shape[1])
    for s in micro_batch_slices(m, micro_batch):
        size = s.stop - s.start
        total += size / m * _mean_mse_grad(X[s], y[s], w)
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
    ValueError
        If the shapes do not fit or ``micro_batch`` is not a positive integer.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)
    >>> np.allclose(equal_weight_mse_gradient(X, y, w, 5), accumulated_mse_gradient(X, y, w, 5))
    True
    >>> np.allclose(equal_weight_mse_gradient(X, y, w, 4), accumulated_mse_gradient(X, y, w, 4))
    False
    """
    X, y, w = _mse_problem(X, y, w)
    grads = [_mean_mse_grad(X[s], y[s], w) for s in micro_batch_slices(X.shape[0], micro_batch)]
    return np.mean(grads, axis=0)


# --------------------------------------------------------------------------- checkpointing


def checkpoint_table(n_layers):
    """Memory and compute of backpropagation through ``n_layers`` layers, three ways.

    The model: layer ``i`` maps activation ``a_{i-1}`` to ``a_i``; its backward
    step needs its input ``a_{i-1}``. *Memory* is the largest number of
    layer inputs held at once, each freed as soon as no later step needs it;
    *compute* counts layer evaluations in the forward direction (the backward
    steps, the same in every strategy, are not counted).

    - ``"store all"``: keep every layer input; memory ``n``, compute ``n``.
    - ``"sqrt(n) checkpoints"``: segments of ``s = ceil(sqrt(n))`` layers; keep
      only each segment's input (``k = ceil(n/s)`` checkpoints) and, during the
      backward pass, recompute the inputs of one segment at a time, last
      segment first. Memory at most ``k + s - 1`` (about ``2 sqrt(n)``),
      compute ``n + (n - k)`` (about one extra forward pass).
    - ``"recompute all"``: keep only the network input and recompute each layer
      input from it when needed; memory 2, compute ``n + n(n-1)/2``.

    Parameters
    ----------
    n_layers : int
        Number of layers, >= 1.

    Returns
    -------
    list of dict
        One row per strategy with keys ``strategy``, ``memory``, ``compute``,
        ``memory_ratio`` (memory / n) and ``compute_ratio`` (compute / n).

    Raises
    ------
    ValueError
        If ``n_layers`` is not a positive integer.

    Examples
    --------
    >>> rows = checkpoint_table(16)
    >>> [(r["strategy"], r["memory"], r["compute"]) for r in rows]
    [('store all', 16, 16), ('sqrt(n) checkpoints', 7, 28), ('recompute all', 2, 136)]
    """
    n = _check_count(n_layers, "n_layers", 1)
    s = math.isqrt(n - 1) + 1 if n > 1 else 1  # ceil(sqrt(n))
    k = -(-n // s)  # ceil(n / s)
    lengths = [s] * (k - 1) + [n - s * (k - 1)]
    # Working on segment j (0-based) we hold checkpoints 0..j plus the
    # recomputed inputs of that segment other than its checkpoint.
    sqrt_memory = max(j + length for j, length in enumerate(lengths))
    rows = [
        ("store all", n, n),
        ("sqrt(n) checkpoints", sqrt_memory, n + (n - k)),
        ("recompute all", min(2, n), n + n * (n - 1) // 2),
    ]
    return [
        {"strategy": name, "memory": mem, "compute": comp, "memory_ratio": mem / n, "compute_ratio": comp / n}
        for name, mem, comp in rows
    ]


# --------------------------------------------------------------------------- float16 and loss scaling


def float16_roundtrip(values, scale=1.0):
    """Multiply by ``scale``, store in float16, convert back and divide by ``scale``.

    This is what happens to gradients under mixed precision with loss scaling
    (``scale = 1`` means no scaling). Values below about 3e-8 in float16 become
    0 (underflow); values above 65504 become inf (overflow, reported, not
    warned about).

    Parameters
    ----------
    values : array_like
        Gradients in float64.
    scale : float, default 1.0
        The loss scale, > 0 (a power of two keeps the scaling itself exact).

    Returns
    -------
    ndarray of float64
        Same shape as ``values``.

    Raises
    ------
    ValueError
        If ``scale`` is not positive or ``values`` is not finite.

    Examples
    --------
    >>> float16_roundtrip([1e-8, 1e-3]).tolist()[0]
    0.0
    >>> np.allclose(float16_roundtrip([1e-8], scale=2.0**16), 1e-8, rtol=1e-3)
    True
    """
    values = as_float_array(values, "values", allow_empty=True)
    scale = check_positive(scale, "scale")
    with np.errstate(over="ignore"):
        stored = (values * scale).astype(np.float16)
    return stored.astype(np.float64) / scale


def underflow_fraction(values, scale=1.0):
    """Fraction of the non-zero ``values`` that become exactly 0 in :func:`float16_roundtrip`.

    Parameters
    ----------
    values : array_like
        Gradients in float64, at least one non-zero.
    scale : float, default 1.0
        The loss scale.

    Returns
    -------
    float
        In ``[0, 1]``.

    Raises
    ------
    ValueError
        If no value is non-zero, or as :func:`float16_roundtrip`.

    Examples
    --------
    >>> underflow_fraction([1e-9, 1e-2])
    0.5
    >>> underflow_fraction([1e-9, 1e-2], scale=2.0**16)
    0.0
    """
    values = as_float_array(values, "values")
    nonzero = values != 0
    if not nonzero.any():
        raise ValueError("values must contain at least one non-zero entry")
    back = float16_roundtrip(values, scale)
    return float(np.mean(back[nonzero] == 0))


def overflow_fraction(values, scale=1.0):
    """Fraction of ``values`` that become inf in :func:`float16_roundtrip` (scale too large).

    Parameters
    ----------
    values : array_like
        Gradients in float64.
    scale : float, default 1.0
        The loss scale.

    Returns
    -------
    float
        In ``[0, 1]``.

    Raises
    ------
    ValueError
        As :func:`float16_roundtrip`.

    Examples
    --------
    >>> overflow_fraction([1.0, 0.1], scale=2.0**16)
    0.5
    """
    back = float16_roundtrip(values, scale)
    return float(np.mean(np.isinf(back)))


def float16_error_envelope(values, scale=1.0, per_bin=50):
    """Worst relative error of :func:`float16_roundtrip` in bins of neighbouring values.

    The error jumps around from one value to the next (it depends on where a
    value falls between two float16 numbers); the worst case in each bin of
    ``per_bin`` consecutive values is a smooth envelope that can be plotted.

    Parameters
    ----------
    values : array_like of shape (n,)
        Positive, increasing gradient magnitudes; ``n`` a multiple of ``per_bin``.
    scale : float, default 1.0
        The loss scale.
    per_bin : int, default 50
        Values per bin, >= 1.

    Returns
    -------
    centres : ndarray of shape (n // per_bin,)
        Geometric mean of each bin's first and last value.
    worst : ndarray of shape (n // per_bin,)
        The largest ``|back - value| / value`` in each bin (1 where values became 0).

    Raises
    ------
    ValueError
        If ``values`` is not positive and increasing, or ``per_bin`` does not divide its length.

    Examples
    --------
    >>> centres, worst = float16_error_envelope(np.geomspace(1e-9, 1e-8, 10), per_bin=5)
    >>> worst.tolist()
    [1.0, 1.0]
    >>> bool(float16_error_envelope(np.geomspace(1e-9, 1e-8, 10), scale=2.0**16, per_bin=5)[1].max() < 1e-3)
    True
    """
    values = as_float_array(values, "values", ndim=1)
    per_bin = _check_count(per_bin, "per_bin", 1)
    if np.any(values <= 0) or np.any(np.diff(values) <= 0):
        raise ValueError("values must be positive and increasing")
    if values.size % per_bin:
        raise ValueError(f"per_bin ({per_bin}) must divide the number of values ({values.size})")
    bins = values.reshape(-1, per_bin)
    worst = (np.abs(float16_roundtrip(bins, scale) - bins) / bins).max(axis=1)
    return np.sqrt(bins[:, 0] * bins[:, -1]), worst


# --------------------------------------------------------------------------- natural gradient on a Gaussian


def _gaussian_args(data, mu, sigma):
    data = as_float_array(data, "data", ndim=1)
    mu = float(as_float_array(mu, "mu", ndim=0))
    sigma = check_positive(float(as_float_array(sigma, "sigma", ndim=0)), "sigma")
    return data, mu, sigma


def gaussian_loglik(data, mu, sigma):
    """Log-likelihood ``sum_i log N(x_i; mu, sigma^2)`` of a 1-D sample.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        Standard deviation, > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``sigma`` is not positive or ``data`` is not 1-D and finite.

    Examples
    --------
    >>> np.allclose(gaussian_loglik([0.0], 0.0, 1.0), -0.5 * np.log(2 * np.pi))
    True
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    r = data - mu
    return float(-data.size * (math.log(sigma) + 0.5 * math.log(2 * math.pi)) - np.sum(r * r) / (2 * sigma**2))


def gaussian_average_loglik(data, mu, sigma):
    """Average log-likelihood ``mean_i log N(x_i; mu, sigma^2)``, vectorised over ``mu`` and ``sigma``.

    Uses ``mean((x - mu)^2) = v + (xbar - mu)^2`` (``v`` the biased sample
    variance), so a whole grid of ``(mu, sigma)`` costs one pass over the data.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu, sigma : array_like
        Broadcastable arrays (or floats); every ``sigma`` > 0.

    Returns
    -------
    ndarray
        The broadcast shape of ``mu`` and ``sigma``.

    Raises
    ------
    ValueError
        If a ``sigma`` is not positive.

    Examples
    --------
    >>> data = [0.5, 1.5]
    >>> np.allclose(gaussian_average_loglik(data, 1.0, 2.0), gaussian_loglik(data, 1.0, 2.0) / 2)
    True
    >>> gaussian_average_loglik(data, np.zeros((3, 4)), np.ones((3, 4))).shape
    (3, 4)
    """
    data = as_float_array(data, "data", ndim=1)
    mu = as_float_array(mu, "mu")
    sigma = as_float_array(sigma, "sigma")
    if np.any(sigma <= 0):
        raise ValueError("sigma must be > 0 everywhere")
    xbar, v = data.mean(), data.var()
    return -np.log(sigma) - 0.5 * math.log(2 * math.pi) - (v + (xbar - mu) ** 2) / (2 * sigma**2)


def gaussian_loglik_grad(data, mu, sigma):
    """Gradient of :func:`gaussian_loglik` with respect to ``(mu, sigma)``.

    ``(sum(x - mu) / sigma^2,  -m / sigma + sum((x - mu)^2) / sigma^3)``.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2,)

    Raises
    ------
    ValueError
        If ``sigma`` is not positive or ``data`` is not 1-D and finite.

    Examples
    --------
    >>> gaussian_loglik_grad([1.0, 3.0], 0.0, 1.0)
    array([4., 8.])
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    r = data - mu
    return np.array([np.sum(r) / sigma**2, -data.size / sigma + np.sum(r * r) / sigma**3])


def gaussian_fisher(sigma):
    """Fisher information of one observation of N(mu, sigma^2) in ``(mu, sigma)``.

    ``diag(1/sigma^2, 2/sigma^2)``; it does not depend on ``mu``. The Fisher
    information of ``m`` independent observations is ``m`` times this.

    Parameters
    ----------
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2, 2)

    Raises
    ------
    ValueError
        If ``sigma`` is not positive.

    Examples
    --------
    >>> gaussian_fisher(0.5)
    array([[4., 0.],
           [0., 8.]])
    """
    sigma = check_positive(sigma, "sigma")
    return np.diag([1.0 / sigma**2, 2.0 / sigma**2])


def gaussian_natural_gradient(data, mu, sigma):
    """Natural gradient ``(m F)^{-1} grad`` of the Gaussian log-likelihood.

    Equals ``(mean(x) - mu, (mean((x - mu)^2) - sigma^2) / (2 sigma))``: one
    step of size 1 puts ``mu`` on the sample mean whatever the start.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2,)

    Raises
    ------
    ValueError
        As :func:`gaussian_loglik_grad`.

    Examples
    --------
    >>> gaussian_natural_gradient([1.0, 3.0], 0.0, 1.0)
    array([2., 2.])
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    grad = gaussian_loglik_grad(data, mu, sigma)
    return np.linalg.solve(data.size * gaussian_fisher(sigma), grad)


def _ascent_path(step, data, theta0, lr, steps):
    data = as_float_array(data, "data", ndim=1)
    theta0 = as_float_array(theta0, "theta0", shape=(2,))
    lr = check_positive(lr, "lr")
    steps = _check_count(steps, "steps")
    if theta0[1] <= 0:
        raise ValueError(f"theta0[1] is sigma and must be > 0; got {theta0[1]}")
    path = np.full((steps + 1, 2), np.nan)
    path[0] = theta0
    for t in range(steps):
        mu, sigma = path[t]
        new = path[t] + lr * step(data, mu, sigma)
        if not np.all(np.isfinite(new)) or new[1] <= 0:
            break  # sigma left the model (the step was too large): stop, rest stays NaN
        path[t + 1] = new
    return path


def gaussian_gd_path(data, theta0, lr, steps):
    """Plain gradient ascent on the *average* log-likelihood, in ``(mu, sigma)``.

    ``theta <- theta + lr * grad / m``. If a step would make sigma <= 0 the
    path stops and the remaining rows are NaN.

    Parameters
    ----------
    data : array_like of shape (m,)
    theta0 : array_like of shape (2,)
        Start ``(mu0, sigma0)`` with ``sigma0 > 0``.
    lr : float
        Step size, > 0.
    steps : int
        Number of steps, >= 0.

    Returns
    -------
    ndarray of shape (steps + 1, 2)

    Raises
    ------
    ValueError
        On bad shapes, a non-positive ``lr`` or ``sigma0``.

    Examples
    --------
    >>> path = gaussian_gd_path([1.0, 3.0], [0.0, 1.0], 0.1, 1)
    >>> np.allclose(path[1], [0.2, 1.4])
    True
    """
    return _ascent_path(lambda d, mu, s: gaussian_loglik_grad(d, mu, s) / d.size, data, theta0, lr, steps)


def gaussian_ngd_path(data, theta0, lr, steps):
    """Natural-gradient ascent on the log-likelihood, in ``(mu, sigma)``.

    ``theta <- theta + lr * (m F)^{-1} grad``. With ``lr = 1`` the first step
    sets ``mu`` to the sample mean, and then ``sigma`` follows Heron's
    square-root iteration ``sigma <- (sigma + v / sigma) / 2`` towards the
    biased sample standard deviation.

    Parameters
    ----------
    data : array_like of shape (m,)
    theta0 : array_like of shape (2,)
    lr : float
    steps : int

    Returns
    -------
    ndarray of shape (steps + 1, 2)

    Raises
    ------
    ValueError
        As :func:`gaussian_gd_path`.

    Examples
    --------
    >>> path = gaussian_ngd_path([1.0, 3.0], [0.0, 1.0], 1.0, 1)
    >>> np.allclose(path[1], [2.0, 3.0])
    True
    """
    return _ascent_path(gaussian_natural_gradient, data, theta0, lr, steps)


def steps_to_settle(path, target, tol):
    """First step from which ``path`` stays within ``tol`` of ``target`` to its end.

    A path that only passes through the ball and leaves again (an unstable,
    oscillating run) has not settled.

    Parameters
    ----------
    path : array_like of shape (T + 1, n)
        May contain NaN rows (a run that stopped); such a path never settles.
    target : array_like of shape (n,)
    tol : float
        Euclidean distance, > 0.

    Returns
    -------
    int or None
        None if the last row is not within ``tol``.

    Raises
    ------
    ValueError
        If the shapes do not fit or ``tol`` is not positive.

    Examples
    --------
    >>> steps_to_settle([[0, 0], [0.99, 0], [0.5, 0], [0.99, 0], [1, 0]], [1, 0], 0.05)
    3
    >>> steps_to_settle([[0, 0], [0.99, 0], [0.5, 0]], [1, 0], 0.05) is None
    True
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2:
        raise ValueError(f"path must have shape (T + 1, n); got {path.shape}")
    target = as_float_array(target, "target", shape=(path.shape[1],))
    tol = check_positive(tol, "tol")
    with np.errstate(invalid="ignore"):
        close = np.linalg.norm(path - target, axis=1) <= tol
    return first_settled(close)


def first_settled(ok):
    """First index from which ``ok`` holds up to the end.

    The common core of "when did this run settle": a run that meets a
    criterion, loses it and meets it again has settled only the last time.

    Parameters
    ----------
    ok : array_like of bool, shape (T,)
        Whether the criterion holds at each step (e.g. ``losses < 1e-6``;
        a NaN compared this way gives False).

    Returns
    -------
    int or None
        None if the last entry is False (or ``ok`` is empty).

    Raises
    ------
    ValueError
        If ``ok`` is not 1-D.

    Examples
    --------
    >>> first_settled([False, True, False, True, True])
    3
    >>> first_settled([True, True]), first_settled([True, False]) is None
    (0, True)
    """
    ok = np.asarray(ok, dtype=bool)
    if ok.ndim != 1:
        raise ValueError(f"ok must be 1-D; got shape {ok.shape}")
    if ok.size == 0 or not ok[-1]:
        return None
    failing = np.flatnonzero(~ok)
    return int(failing[-1] + 1) if failing.size else 0


# --------------------------------------------------------------------------- a small network: training record and loss surface


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
    ValueError
        On a non-positive ``lr``, a bad ``steps`` or ``batch_size``,
        ``batch_size`` without ``rng``, or non-finite starting ``params``.

    Examples
    --------
    >>> from nablakit.networks import init_mlp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(32, 1)); y = np.sin(2 * X[:, 0])
    >>> p, hist = train_mlp(init_mlp(1, 8, 1, rng=1), X, y, lr=0.2, steps=200)
    >>> bool(hist["loss"][-1] < 0.2 * hist["loss"][0])
    True
    """
    from nablakit.networks import mlp_grads, mlp_loss

    lr = check_positive(lr, "lr")
    steps = _check_count(steps, "steps")
    X = as_float_array(X, "X", ndim=2)
    m = X.shape[0]
    if batch_size is not None:
        batch_size = _check_count(batch_size, "batch_size", 1, m)
        if rng is None:
            raise ValueError("rng is needed for mini-batches: pass np.random.default_rng(seed)")
        rng = np.random.default_rng(rng) if isinstance(rng, (int, np.integer)) else rng
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
    from nablakit.losses import sigmoid
    from nablakit.networks import PARAM_NAMES, flatten_params

    if activation not in ("tanh", "sigmoid"):
        raise ValueError(f"activation must be 'tanh' or 'sigmoid'; got {activation!r}")
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
