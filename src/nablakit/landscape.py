"""Evaluate loss surfaces on grids and on 2-D slices through parameter space.

Two conventions run through the package and this module:

* A function of a point in the plane takes ``theta`` whose FIRST axis has
  length 2, like :mod:`nablakit.testfunctions`; a whole grid is evaluated
  in one call as ``f(np.stack([X, Y]))``.
* A grid has shape ``(len(y), len(x))``: rows follow the vertical axis,
  which is what :func:`matplotlib.pyplot.contour` expects for ``Z``.

:func:`filter_normalized_direction` and :func:`plane_slice` draw the
"filter-normalised" random slices of Li et al. (2018, *Visualizing the Loss
Landscape of Neural Nets*) through a network's parameter vector.

Chapter 01 writes its functions the blackboard way, ``f(x, y)``;
:func:`eval_xy` evaluates such a function at arrays of points.

:func:`ravine_runs` runs gradient descent and momentum on the ravine
``w1^2 + kappa w2^2`` for every slider setting of chapter 09's ravine
explorer (the widget only draws them).
"""

from __future__ import annotations

import numpy as np

from nablakit import depth as dp
from nablakit._validate import as_float_array, check_callable, check_count, check_interval, check_rng
from nablakit.convergence import first_settled


def _grid(xlim, ylim, n):
    xlim, ylim, n = check_interval(xlim, "xlim"), check_interval(ylim, "ylim"), check_count(n, "n", 2)
    return np.meshgrid(np.linspace(xlim[0], xlim[1], n), np.linspace(ylim[0], ylim[1], n))


def eval_xy(f, x, y):
    """Evaluate a two-argument function ``f(x, y)`` at arrays of points, element by element.

    One vectorised call when ``f`` handles arrays; a function written for
    single numbers (one with an ``if``, say) is called point by point instead.

    Parameters
    ----------
    f : callable
        ``f(x, y)`` returning a real number (or an array shaped like its inputs).
    x, y : array_like
        Coordinates, broadcast against each other.

    Returns
    -------
    ndarray of float
        ``f`` at each point, of the broadcast shape of ``x`` and ``y``.

    Raises
    ------
    TypeError
        If ``f`` is not callable or a coordinate is not numeric.

    Examples
    --------
    >>> eval_xy(lambda x, y: x * y, [1.0, 2.0], 3.0)
    array([3., 6.])
    >>> eval_xy(lambda x, y: 0.0 if x == y else 1.0, [1.0, 2.0], [1.0, 1.0])  # a scalar-only f
    array([0., 1.])
    """
    check_callable(f, "f")
    x, y = np.broadcast_arrays(as_float_array(x, "x"), as_float_array(y, "y"))
    try:
        values = np.asarray(f(x, y), dtype=float)
    except (TypeError, ValueError):  # e.g. `if x > 0` on an array
        values = None
    if values is None or values.shape != x.shape:
        values = np.array([float(f(a, b)) for a, b in zip(x.ravel(), y.ravel())]).reshape(x.shape)
    return values


def grid_eval(f, xlim, ylim, n=101):
    """Evaluate ``f`` on an ``n x n`` grid with ONE vectorised call.

    Parameters
    ----------
    f : callable
        Takes ``theta`` of shape ``(2, n, n)`` (the stacked coordinate
        grids) and returns an array of shape ``(n, n)``, like the ``f`` of a
        :class:`~nablakit.testfunctions.TestFunction`.
    xlim, ylim : pair of float
        ``(low, high)`` of the horizontal and vertical axis, ``low < high``.
    n : int, default 101
        Grid points per axis, ``>= 2`` (endpoints included).

    Returns
    -------
    X, Y, Z : ndarray of shape (n, n)
        ``X[j, i] = x_i``, ``Y[j, i] = y_j`` and ``Z[j, i] = f((x_i, y_j))``.
        ``Z`` may hold inf/NaN where ``f`` does.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``n`` is not an integer.
    ValueError
        If a limit pair is malformed, ``n < 2``, or ``f`` does not return
        shape ``(n, n)`` (it is not vectorised: use :func:`grid_eval_loop`).

    Examples
    --------
    >>> import numpy as np
    >>> X, Y, Z = grid_eval(lambda th: th[0] ** 2 + th[1] ** 2, (-1, 1), (-2, 2), n=5)
    >>> Z.shape, float(Z[2, 2]), float(Z[0, 4])  # centre (0, 0) and corner (1, -2)
    ((5, 5), 0.0, 5.0)
    """
    check_callable(f, "f")
    X, Y = _grid(xlim, ylim, n)
    Z = np.asarray(f(np.stack([X, Y])), dtype=float)
    if Z.shape != X.shape:
        raise ValueError(
            f"f must be vectorised: called with shape {(2,) + X.shape} it must return shape {X.shape}, "
            f"got {Z.shape}; use grid_eval_loop for a function of a single point"
        )
    return X, Y, Z


def grid_eval_loop(f, xlim, ylim, n=101):
    """Evaluate ``f`` point by point on the same grid as :func:`grid_eval`.

    The slow baseline: one Python-level call ``f(np.array([x, y]))`` per grid
    point. It accepts functions that only handle a single point and shows
    how much vectorisation saves.

    Parameters
    ----------
    f : callable
        Takes ``theta`` of shape ``(2,)`` and returns a real number.
    xlim, ylim : pair of float
        ``(low, high)`` of the horizontal and vertical axis, ``low < high``.
    n : int, default 101
        Grid points per axis, ``>= 2``.

    Returns
    -------
    X, Y, Z : ndarray of shape (n, n)
        Same layout as :func:`grid_eval`.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``n`` is not an integer.
    ValueError
        If a limit pair is malformed, ``n < 2``, or ``f`` returns more than
        one number.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda th: th[0] ** 2 + th[1] ** 2
    >>> np.allclose(grid_eval_loop(f, (-1, 1), (-2, 2), 5)[2], grid_eval(f, (-1, 1), (-2, 2), 5)[2])
    True
    """
    check_callable(f, "f")
    X, Y = _grid(xlim, ylim, n)
    Z = np.empty_like(X)
    for j in range(X.shape[0]):
        for i in range(X.shape[1]):
            value = np.asarray(f(np.array([X[j, i], Y[j, i]])), dtype=float)
            if value.size != 1:
                raise ValueError(f"f must return a single number for one point; got shape {value.shape}")
            Z[j, i] = value.reshape(())
    return X, Y, Z


def filter_normalized_direction(params, rng):
    """A random direction in parameter space, scaled filter by filter like ``params``.

    Draw a Gaussian direction with the same shapes as ``params`` and rescale
    its pieces so their norms match the parameters they will perturb:

    * an array with 2 or more dimensions (a weight matrix) is normalised per
      ROW, i.e. per slice ``d[i]`` along its first axis (a "filter"):
      ``d[i] <- d[i] * ||p[i]|| / ||d[i]||``;
    * a 1-D array (a bias vector) or a scalar is normalised as a whole:
      ``d <- d * ||p|| / ||d||``.

    Without this, a random step would barely move large-norm weights and
    swamp small ones, and slices of networks with different weight scales
    could not be compared. For :mod:`nablakit.networks`, where ``W1`` has
    shape ``(n_in, n_hidden)``, a row holds one input's outgoing weights;
    pass ``W.T`` if you want per-unit (column) filters instead. A row of
    zeros in ``p`` gives a row of zeros in ``d``.

    Parameters
    ----------
    params : list of array_like, or dict of str to array_like
        The parameter arrays (finite, non-empty). A dict gives a dict with
        the same keys, e.g. the ``params`` of :mod:`nablakit.networks`.
    rng : numpy.random.Generator or int
        Source of randomness, e.g. ``np.random.default_rng(0)``; an int is
        used as a seed.

    Returns
    -------
    list of ndarray (or dict)
        One direction array per parameter array, with the same shapes.

    Raises
    ------
    TypeError
        If ``params`` is not a list, tuple or dict of numeric arrays, or
        ``rng`` is neither a Generator nor an int.
    ValueError
        If ``params`` is empty or an array is empty or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> W, b = np.array([[3.0, 4.0], [0.0, 1.0]]), np.array([1.0, 2.0, 2.0])
    >>> dW, db = filter_normalized_direction([W, b], np.random.default_rng(0))
    >>> np.allclose(np.linalg.norm(dW, axis=1), [5.0, 1.0])  # row norms of W
    True
    >>> np.allclose(np.linalg.norm(db), 3.0)  # norm of b
    True
    """
    rng = check_rng(rng)
    if isinstance(params, dict):
        keys = list(params)
        directions = filter_normalized_direction([params[k] for k in keys], rng) if keys else []
        return dict(zip(keys, directions))
    if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)):
        raise TypeError(f"params must be a list (or dict) of arrays, one per layer; got {type(params).__name__}")
    if len(params) == 0:
        raise ValueError("params must contain at least one array")
    directions = []
    for k, p in enumerate(params):
        p = as_float_array(p, f"params[{k}]")
        d = rng.standard_normal(p.shape)
        if p.ndim >= 2:
            axes = tuple(range(1, p.ndim))
            p_norm = np.sqrt(np.sum(p**2, axis=axes, keepdims=True))
            d_norm = np.sqrt(np.sum(d**2, axis=axes, keepdims=True))
        else:
            p_norm, d_norm = np.linalg.norm(p), np.linalg.norm(d)
        directions.append(d * (p_norm / d_norm))
    return directions


def plane_slice(loss, center, d1, d2, alphas, betas, *, batched=False):
    """Loss on the plane ``center + alpha * d1 + beta * d2`` through parameter space.

    ``Z[j, i] = loss(center + alphas[i] * d1 + betas[j] * d2)``, laid out like
    :func:`grid_eval` (rows follow ``betas``), ready for
    ``contour(alphas, betas, Z)``.

    Parameters
    ----------
    loss : callable
        The loss as a function of the flat parameter vector. Its contract
        depends on ``batched``:

        * ``batched=False`` (default, works for any loss): called once per
          grid point with a vector of shape ``(n,)``; returns a number.
        * ``batched=True`` (fast): called ONCE with an array of shape
          ``(n, len(betas), len(alphas))`` whose FIRST axis indexes the
          parameters, the convention of :mod:`nablakit.testfunctions`; it
          returns shape ``(len(betas), len(alphas))``.
    center : array_like of shape (n,)
        The parameter vector the slice passes through (e.g. trained weights,
        flattened with :func:`nablakit.networks.flatten_params`).
    d1, d2 : array_like of shape (n,)
        The two directions, flattened the same way as ``center`` (e.g. from
        :func:`filter_normalized_direction` followed by concatenation).
    alphas, betas : array_like of shape (na,) and (nb,)
        Step sizes along ``d1`` and ``d2``.
    batched : bool, default False
        Whether ``loss`` accepts the whole stack of parameter vectors.

    Returns
    -------
    ndarray of shape (len(betas), len(alphas))
        The loss values; ``Z`` may hold inf/NaN where ``loss`` does.

    Raises
    ------
    TypeError
        If ``loss`` is not callable or an array is not numeric.
    ValueError
        If shapes do not match, values are not finite, or ``loss`` returns
        the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> loss = lambda w: np.sum(w**2, axis=0)  # works for (n,) and (n, nb, na)
    >>> alphas, betas = np.linspace(-1, 1, 3), np.linspace(-2, 2, 5)
    >>> Z = plane_slice(loss, [0.0, 0.0, 1.0], [1.0, 0, 0], [0, 1.0, 0], alphas, betas, batched=True)
    >>> Z.shape, float(Z[2, 1]), float(Z[4, 2])  # (alpha, beta) = (0, 0) and (1, 2)
    ((5, 3), 1.0, 6.0)
    >>> np.allclose(Z, plane_slice(loss, [0.0, 0.0, 1.0], [1.0, 0, 0], [0, 1.0, 0], alphas, betas))
    True
    """
    check_callable(loss, "loss")
    center = as_float_array(center, "center", ndim=1)
    n = center.size
    d1 = as_float_array(d1, "d1", shape=(n,))
    d2 = as_float_array(d2, "d2", shape=(n,))
    alphas = as_float_array(alphas, "alphas", ndim=1)
    betas = as_float_array(betas, "betas", ndim=1)
    if not isinstance(batched, (bool, np.bool_)):
        raise TypeError(f"batched must be True or False; got {batched!r}")
    A, B = np.meshgrid(alphas, betas)
    if batched:
        thetas = center[:, None, None] + d1[:, None, None] * A + d2[:, None, None] * B
        Z = np.asarray(loss(thetas), dtype=float)
        if Z.shape != A.shape:
            raise ValueError(
                f"with batched=True, loss gets shape {thetas.shape} (parameters on the first axis) and must "
                f"return shape {A.shape}; got {Z.shape}. Use batched=False for a loss of one vector"
            )
        return Z
    Z = np.empty(A.shape)
    for j in range(A.shape[0]):
        for i in range(A.shape[1]):
            value = np.asarray(loss(center + A[j, i] * d1 + B[j, i] * d2), dtype=float)
            if value.size != 1:
                raise ValueError(f"loss must return a single number for one parameter vector; got shape {value.shape}")
            Z[j, i] = value.reshape(())
    return Z


# --------------------------------------------------------------------------- ravines

#: Condition numbers of the chapter 09 ravine explorer (:func:`nablakit.widgets.landscapes.ravine_explorer`).
RAVINE_KAPPAS = (1, 2, 5, 10, 20, 50, 100)
#: Learning rate as a fraction of the stability limit 2 / lambda_max.
RAVINE_FRACTIONS = (0.1, 0.25, 0.5, 0.9, 0.99, 1.05)
#: Momentum coefficients offered by the explorer.
RAVINE_BETAS = (0.5, 0.8, 0.9, 0.95, 0.99)


def ravine_runs(kappas=RAVINE_KAPPAS, fractions=RAVINE_FRACTIONS, betas=RAVINE_BETAS, *, start=(-2.0, 1.0),
                steps=200, horizon=3000, threshold=1e-6):
    """Gradient descent and momentum on ``w1^2 + kappa w2^2`` at ``lr = fraction * 2 / lambda_max``.

    Every combination runs in one call of
    :func:`nablakit.depth.diagonal_quadratic_runs` (the update rules of
    :mod:`nablakit.optimizers`, vectorised over runs; gradient descent is
    momentum with ``beta = 0``).

    Parameters
    ----------
    kappas, fractions : sequences of float
        Condition numbers (> 0) and learning rates as fractions of the
        stability limit ``2 / lambda_max`` with ``lambda_max = 2 max(1, kappa)``.
    betas : sequence of float
        Momentum coefficients in ``[0, 1)``.
    start : array_like of shape (2,)
    steps : int
        Steps kept in the returned paths and losses.
    horizon : int
        Steps run to count how long each method needs.
    threshold : float
        Loss level for the count.

    Returns
    -------
    dict
        ``(kappa, fraction, beta) ->`` dict with ``lr``, ``paths`` (method ->
        (steps + 1, 2)), ``losses`` (method -> (steps + 1,)) and ``settled``
        (method -> first step from which the loss stays below ``threshold``
        within ``horizon`` steps, or None). Methods: ``"gradient descent"``,
        ``"momentum"``.

    Examples
    --------
    >>> run = ravine_runs([100], [0.5], [0.9])[(100, 0.5, 0.9)]
    >>> run["lr"]
    0.005
    >>> run["settled"]["gradient descent"] > run["settled"]["momentum"]
    True
    """
    start = as_float_array(start, "start", shape=(2,))
    combos = [(k, r) for k in kappas for r in fractions]
    betas = tuple(betas)
    lam = np.array([[2.0, 2.0 * k] for k, _ in combos])
    lrs = np.array([r * dp.max_stable_lr(np.diag(row)) for row, (_, r) in zip(lam, combos)])
    # Axis 1: gradient descent (beta = 0), then one momentum run per beta.
    run_betas = np.array([0.0, *betas])
    shape = (len(combos), run_betas.size)
    paths = dp.diagonal_quadratic_runs(np.broadcast_to(lam[:, None, :], shape + (2,)), start,
                                       np.broadcast_to(lrs[:, None], shape), horizon,
                                       beta=np.broadcast_to(run_betas, shape))
    losses = 0.5 * np.sum(lam[:, None, None, :] * paths**2, axis=-1)
    with np.errstate(invalid="ignore"):  # a diverged run's NaN loss counts as not below
        below = losses < threshold
    out = {}
    for i, (k, r) in enumerate(combos):
        for j, beta in enumerate(betas, start=1):
            runs = {"gradient descent": 0, "momentum": j}
            out[(k, r, beta)] = {
                "lr": float(lrs[i]),
                "paths": {m: paths[i, c, : steps + 1] for m, c in runs.items()},
                "losses": {m: losses[i, c, : steps + 1] for m, c in runs.items()},
                "settled": {m: first_settled(below[i, c]) for m, c in runs.items()},
            }
    return out
