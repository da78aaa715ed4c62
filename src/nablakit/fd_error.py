"""How accurate and how expensive finite differences are.

Three questions, each answered by a small pure function:

- *Order*: the error of a difference quotient as a function of the step
  ``h`` (:func:`error_curves`), and the slope of that curve on a log-log plot
  (:func:`fit_loglog_slope`): about 1 for forward/backward differences, about
  2 for centred ones.
- *Best step*: truncation error shrinks with ``h`` while round-off error
  ``~ eps / h`` grows, so the total error is V-shaped. :func:`best_step`
  reads the bottom of a measured curve; :func:`error_model` and
  :func:`optimal_step` give the textbook model and its minimiser
  (``~ sqrt(eps)`` forward, ``~ eps**(1/3)`` centred,
  :func:`rule_of_thumb_step`).
- *Cost*: a centred-difference gradient needs ``2 n`` evaluations of ``f``
  (:func:`fd_evaluation_count`), reverse mode needs one forward and one
  backward pass; :func:`gradient_cost_table` counts and times both on the
  tiny network of :mod:`nablakit.networks`.
"""

from __future__ import annotations

import time

import numpy as np

from nablakit import networks, numdiff
from nablakit._validate import as_float_array, check_callable, check_choice, check_count, check_positive, check_rng

EPS = float(np.finfo(float).eps)
#: :data:`nablakit.numdiff.METHODS` in the order the tables and figures list them.
METHODS = ("forward", "backward", "central")
ORDER = {"forward": 1, "backward": 1, "central": 2}
#: Steps where truncation dominates for a smooth f of moderate size (used to fit slopes).
TRUNCATION_RANGES = {"forward": (1e-6, 1e-2), "backward": (1e-6, 1e-2), "central": (1e-3, 1e-1)}


def _check_steps(hs):
    hs = as_float_array(hs, "hs", ndim=1)
    if np.any(hs <= 0):
        raise ValueError(f"hs must contain only steps > 0; got {hs[hs <= 0][0]!r}")
    return hs


def default_steps(lo=-15.0, hi=-1.0, per_decade=10):
    """Steps ``h`` evenly spaced in ``log10``, from ``10**lo`` to ``10**hi``.

    Parameters
    ----------
    lo, hi : float
        Exponents of the smallest and largest step (``lo < hi``).
    per_decade : int, default 10
        Points per factor of ten.

    Returns
    -------
    ndarray
        ``(hi - lo) * per_decade + 1`` increasing steps.

    Raises
    ------
    TypeError
        If ``per_decade`` is not an integer.
    ValueError
        If ``lo >= hi`` or ``per_decade`` is less than 1.

    Examples
    --------
    >>> hs = default_steps(-3, -1, per_decade=1)
    >>> np.allclose(hs, [1e-3, 1e-2, 1e-1])
    True
    """
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi; got lo={lo!r}, hi={hi!r}")
    per_decade = check_count(per_decade, "per_decade", 1)
    count = int(round((hi - lo) * per_decade)) + 1
    return np.logspace(lo, hi, count)


def error_curves(f, df, x, hs, methods=METHODS):
    """Absolute error ``|D_h f(x) - f'(x)|`` of each method at every step in ``hs``.

    Parameters
    ----------
    f : callable
        Scalar function of one scalar.
    df : callable or float
        The exact derivative (a function, or its value at ``x``).
    x : float
        Where to differentiate.
    hs : array_like of shape (k,)
        Steps, all > 0.
    methods : sequence of str, default ("forward", "backward", "central")

    Returns
    -------
    dict of str to ndarray of shape (k,)
        One error curve per method.

    Raises
    ------
    ValueError
        If a step is not positive or a method is unknown.
    TypeError
        If ``f`` is not callable.

    Examples
    --------
    >>> errs = error_curves(np.exp, np.exp, 1.0, [1e-2, 1e-3])
    >>> bool(errs["central"][0] < errs["forward"][0])
    True
    """
    check_callable(f, "f")
    hs = _check_steps(hs)
    x = float(as_float_array(x, "x", ndim=0))
    exact = float(df(x)) if callable(df) else float(df)
    for m in methods:
        check_choice(m, "method", METHODS)
    return {m: np.array([abs(numdiff.difference_quotient(f, x, h, m) - exact) for h in hs]) for m in methods}


def fit_loglog_slope(hs, errors, h_range=None):
    """Least-squares slope of ``log10(error)`` against ``log10(h)``.

    On the truncation-dominated side of the curve this slope is the order of
    the method: error ``~ C h**p`` is a straight line of slope ``p``. Zero
    errors (an exact hit by luck) are left out, since their logarithm is not
    finite.

    Parameters
    ----------
    hs, errors : array_like of shape (k,)
        Steps (> 0) and the matching absolute errors (>= 0).
    h_range : (float, float), optional
        Use only steps with ``lo <= h <= hi``; default: all.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If shapes differ, or fewer than two usable points remain.

    Examples
    --------
    >>> hs = np.array([1e-3, 1e-2, 1e-1])
    >>> round(fit_loglog_slope(hs, 5 * hs**2), 6)
    2.0
    """
    hs = _check_steps(hs)
    errors = as_float_array(errors, "errors", shape=hs.shape)
    keep = errors > 0
    if h_range is not None:
        lo, hi = h_range
        keep &= (hs >= lo) & (hs <= hi)
    if keep.sum() < 2:
        raise ValueError(f"need at least two steps with error > 0 inside h_range={h_range!r}; got {int(keep.sum())}")
    slope, _ = np.polyfit(np.log10(hs[keep]), np.log10(errors[keep]), 1)
    return float(slope)


def nearest_step_index(hs, h):
    """Index of the step in ``hs`` closest to ``h`` on a logarithmic scale.

    Parameters
    ----------
    hs : array_like of shape (k,)
        Steps, > 0.
    h : float
        A step, > 0 (for example a slider's value).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If a step or ``h`` is not positive.

    Examples
    --------
    >>> nearest_step_index([1e-3, 1e-2, 1e-1], 2e-2)
    1
    """
    hs = _check_steps(hs)
    h = check_positive(h, "h")
    return int(np.argmin(np.abs(np.log10(hs) - np.log10(h))))


def best_step(hs, errors):
    """The step with the smallest error on a measured curve: the bottom of the V.

    Parameters
    ----------
    hs, errors : array_like of shape (k,)
        Steps (> 0) and the matching absolute errors.

    Returns
    -------
    (float, float)
        ``(h, error)`` at the minimum.

    Examples
    --------
    >>> best_step([1e-3, 1e-2, 1e-1], [0.5, 0.1, 0.3])
    (0.01, 0.1)
    """
    hs = _check_steps(hs)
    errors = as_float_array(errors, "errors", shape=hs.shape)
    i = int(np.argmin(errors))
    return float(hs[i]), float(errors[i])


def rule_of_thumb_step(method, eps=EPS):
    """The textbook best step, constants dropped: ``eps**(1/2)`` or ``eps**(1/3)``.

    Parameters
    ----------
    method : {"forward", "backward", "central"}
    eps : float, default machine epsilon of float64 (about 2.2e-16)

    Returns
    -------
    float
        ``eps ** (1 / (p + 1))`` for a method of order ``p``.

    Examples
    --------
    >>> f"{rule_of_thumb_step('forward'):.1e}", f"{rule_of_thumb_step('central'):.1e}"
    ('1.5e-08', '6.1e-06')
    """
    check_choice(method, "method", METHODS)
    eps = check_positive(eps, "eps")
    return eps ** (1.0 / (ORDER[method] + 1))


def error_model(hs, method, *, f_scale=1.0, derivative_scale=1.0, eps=EPS):
    """Textbook bounds for the two parts of a difference quotient's error.

    Truncation (from Taylor's theorem) and round-off (each evaluation of
    ``f`` is off by about ``eps * |f|``, and the difference is divided by the
    step):

    ========  ============================  ======================
    method    truncation                    round-off
    ========  ============================  ======================
    forward   ``derivative_scale * h / 2``  ``2 eps f_scale / h``
    backward  ``derivative_scale * h / 2``  ``2 eps f_scale / h``
    central   ``derivative_scale * h**2/6`` ``eps f_scale / h``
    ========  ============================  ======================

    Here ``derivative_scale`` is ``|f''|`` for forward/backward and ``|f'''|``
    for central differences, near ``x``; ``f_scale`` is ``|f(x)|``.

    Parameters
    ----------
    hs : array_like of shape (k,)
        Steps, > 0.
    method : {"forward", "backward", "central"}
    f_scale, derivative_scale : float, default 1
        Sizes of ``|f|`` and of the relevant higher derivative near ``x``.
    eps : float, default float64 machine epsilon

    Returns
    -------
    (ndarray, ndarray)
        Truncation and round-off bounds at each step.

    Examples
    --------
    >>> trunc, rnd = error_model([1e-4], "central")
    >>> bool(np.allclose(trunc, 1e-8 / 6)), bool(np.allclose(rnd, EPS / 1e-4))
    (True, True)
    """
    check_choice(method, "method", METHODS)
    hs = _check_steps(hs)
    f_scale = check_positive(f_scale, "f_scale")
    derivative_scale = check_positive(derivative_scale, "derivative_scale")
    eps = check_positive(eps, "eps")
    if method == "central":
        return derivative_scale * hs**2 / 6.0, eps * f_scale / hs
    return derivative_scale * hs / 2.0, 2.0 * eps * f_scale / hs


def optimal_step(method, *, f_scale=1.0, derivative_scale=1.0, eps=EPS):
    """The step that minimises the sum of the two bounds of :func:`error_model`.

    Setting the derivative of the sum to zero gives
    ``h* = 2 sqrt(eps |f| / |f''|)`` for forward/backward and
    ``h* = (3 eps |f| / |f'''|) ** (1/3)`` for central differences.

    Parameters
    ----------
    method : {"forward", "backward", "central"}
    f_scale, derivative_scale, eps : float
        As for :func:`error_model`.

    Returns
    -------
    float

    Examples
    --------
    >>> f"{optimal_step('forward'):.1e}", f"{optimal_step('central'):.1e}"
    ('3.0e-08', '8.7e-06')
    """
    check_choice(method, "method", METHODS)
    f_scale = check_positive(f_scale, "f_scale")
    derivative_scale = check_positive(derivative_scale, "derivative_scale")
    eps = check_positive(eps, "eps")
    if method == "central":
        return (3.0 * eps * f_scale / derivative_scale) ** (1.0 / 3.0)
    return 2.0 * np.sqrt(eps * f_scale / derivative_scale)


def fd_evaluation_count(n, method="central"):
    """Calls of ``f`` a finite-difference gradient in ``n`` dimensions needs.

    Centred differences need ``f(x + h e_i)`` and ``f(x - h e_i)`` for each
    coordinate: ``2 n``. A one-sided rule shares ``f(x)``: ``n + 1``.

    Parameters
    ----------
    n : int
        Number of coordinates, >= 1.
    method : {"forward", "backward", "central"}, default "central"

    Returns
    -------
    int

    Examples
    --------
    >>> fd_evaluation_count(1_000_000)
    2000000
    >>> fd_evaluation_count(10, "forward")
    11
    """
    check_choice(method, "method", METHODS)
    n = check_count(n, "n", 1)
    return 2 * n if method == "central" else n + 1


class CallCounter:
    """Wrap ``f`` and count how often it is called (``.calls``).

    Parameters
    ----------
    f : callable
        The function to wrap; calls are passed through unchanged.

    Raises
    ------
    TypeError
        If ``f`` is not callable.

    Examples
    --------
    >>> g = CallCounter(abs)
    >>> g(-2), g(3), g.calls
    (2, 3, 2)
    """

    def __init__(self, f):
        check_callable(f, "f")
        self.f = f
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.f(*args, **kwargs)


def _best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def gradient_cost_table(hidden_sizes, *, n_in=8, n_samples=32, seed=0, h=1e-5, repeats=3):
    """Count and time a centred-difference gradient against backprop on a tiny MLP.

    For each hidden size a network ``n_in -> hidden -> 1`` (tanh, MSE) is
    built with :func:`nablakit.networks.init_mlp`. The full gradient is
    computed twice: by :func:`nablakit.numdiff.numerical_gradient` on the
    flattened parameters (its calls of the loss are counted), and by
    :func:`nablakit.networks.mlp_grads` (one forward and one backward pass).
    Times are the best of ``repeats`` runs and depend on the machine; the
    counts do not.

    Parameters
    ----------
    hidden_sizes : sequence of int
        Hidden-layer widths, each >= 1.
    n_in, n_samples : int
        Input features and batch size.
    seed : int
        Seed for the data and the weights.
    h : float
        Finite-difference step.
    repeats : int
        Timing repetitions (the minimum is kept).

    Returns
    -------
    list of dict
        One row per size with keys ``n_params``, ``fd_evaluations``,
        ``fd_seconds``, ``backprop_seconds``, ``max_abs_difference`` (between
        the two gradients).

    Raises
    ------
    TypeError
        If ``repeats`` is not an integer.
    ValueError
        If ``repeats`` is less than 1.

    Examples
    --------
    >>> rows = gradient_cost_table([2], repeats=1)
    >>> rows[0]["n_params"], rows[0]["fd_evaluations"]
    (21, 42)
    """
    repeats = check_count(repeats, "repeats", 1)
    rng = check_rng(seed)
    X = rng.normal(size=(n_samples, n_in))
    y = np.sin(X.sum(axis=1))
    rows = []
    for width in hidden_sizes:
        params = networks.init_mlp(n_in, width, 1, rng)
        theta = networks.flatten_params(params)

        def loss(t, params=params):
            return networks.mlp_loss(networks.unflatten_params(t, params), X, y)

        counter = CallCounter(loss)
        start = time.perf_counter()
        numeric = numdiff.numerical_gradient(counter, theta, h=h)
        fd_seconds = time.perf_counter() - start  # the counted run is the first timing run
        if repeats > 1:
            fd_seconds = min(fd_seconds, _best_time(lambda: numdiff.numerical_gradient(loss, theta, h=h), repeats - 1))
        analytic = networks.flatten_params(networks.mlp_grads(params, X, y))
        rows.append(
            {
                "n_params": int(theta.size),
                "fd_evaluations": counter.calls,
                "fd_seconds": fd_seconds,
                "backprop_seconds": _best_time(lambda: networks.mlp_grads(params, X, y), repeats),
                "max_abs_difference": float(np.max(np.abs(numeric - analytic))),
            }
        )
    return rows


def format_cost_table(rows):
    """Lay out the rows of :func:`gradient_cost_table` as a small text table.

    Times are shown in milliseconds; ``ratio`` is finite-difference time
    divided by backprop time.

    Parameters
    ----------
    rows : list of dict
        Rows with keys ``n_params``, ``fd_evaluations``, ``fd_seconds``,
        ``backprop_seconds`` and ``max_abs_difference``.

    Returns
    -------
    str
        A header line and one line per row; ready for ``print``.

    Examples
    --------
    >>> row = {"n_params": 21, "fd_evaluations": 42, "fd_seconds": 2e-3, "backprop_seconds": 1e-4,
    ...        "max_abs_difference": 3e-11}
    >>> print(format_cost_table([row]))
     n params  FD evals  FD time [ms]  backprop [ms]    ratio  max |diff|
           21        42          2.00          0.100       20     3.0e-11
    """
    lines = [f"{'n params':>9} {'FD evals':>9} {'FD time [ms]':>13} {'backprop [ms]':>14} {'ratio':>8} {'max |diff|':>11}"]
    for r in rows:
        lines.append(
            f"{r['n_params']:>9} {r['fd_evaluations']:>9} {1e3 * r['fd_seconds']:>13.2f} "
            f"{1e3 * r['backprop_seconds']:>14.3f} {r['fd_seconds'] / r['backprop_seconds']:>8.0f} "
            f"{r['max_abs_difference']:>11.1e}"
        )
    return "\n".join(lines)
