"""Input validation shared by the package: clear errors for bad input.

Every public function of :mod:`nablakit` checks its arguments with these
helpers, so the same mistake gives the same exception everywhere. The rule:

- ``TypeError``: the argument is the wrong *kind* of thing: not a number,
  not an array of numbers, not an integer where a count is needed (``2.5``,
  ``True``), not callable, not a random generator.
- ``ValueError``: the kind is right but the *value* is not: out of range
  (``steps=-1``, ``h=0``, ``beta=1``), wrong shape, empty, NaN or inf, or a
  string that is not one of the choices.

Each message names the argument and what was received. The helpers:

- :func:`as_float_array`: numeric arrays (dimensions, shape, finite values);
  :func:`as_float`: one finite real number;
- :func:`check_positive` (> 0: steps, rates, tolerances),
  :func:`check_nonnegative` (>= 0: noise, penalties),
  :func:`check_fraction` (in ``[0, 1)``: momentum, decay);
- :func:`check_count`: an integer in a range (steps, sizes, seeds);
- :func:`check_interval`: a pair ``(low, high)`` with ``low < high``;
- :func:`check_choice`: one of a few strings (``method``, ``activation``);
- :func:`check_design`: a data set ``X, y`` (and weights ``w``) that fit;
- :func:`check_callable`, :func:`check_unit`, :func:`check_rng`: a
  function, a unit vector, a NumPy ``Generator`` or an int seed.

The module name starts with an underscore because it is not part of the
course's vocabulary; its functions are public to the package, and modules
import them from here (never private ``_helpers`` from each other).
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name, *, ndim=None, shape=None, allow_empty=False, finite=True):
    """Return ``x`` as a float ndarray, or raise a helpful error.

    Parameters
    ----------
    x : array_like
        The value to convert (lists and tuples are fine).
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length.
    allow_empty : bool, default False
        Whether an array with no elements is accepted.
    finite : bool, default True
        Whether NaN and inf are refused (False where a diverging run may
        legitimately pass them on, as in the test functions).

    Returns
    -------
    ndarray of float

    Raises
    ------
    TypeError
        If ``x`` is not numeric.
    ValueError
        If the shape is wrong, the array is empty, or a value is not finite.

    Examples
    --------
    >>> as_float_array([1, 2], "x")
    array([1., 2.])
    >>> as_float_array([1, float("nan")], "x")
    Traceback (most recent call last):
    ...
    ValueError: x must contain only finite values; got nan at index (1,)
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from None
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s); got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {want}; got {arr.shape}")
    if finite and not np.isfinite(arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must contain only finite values; got {arr[idx]} at index {idx}")
    return arr


def _check_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")


def as_float(value, name):
    """Return ``value`` as a Python float, raising unless it is one finite real number.

    NumPy scalars and 0-d arrays are accepted.

    Examples
    --------
    >>> as_float(np.float32(0.5), "x0")
    0.5
    >>> as_float([1.0, 2.0], "x0")
    Traceback (most recent call last):
    ...
    ValueError: x0 must have 0 dimension(s); got shape (2,)
    """
    return float(as_float_array(value, name, ndim=0))


def check_design(X, y, w=None):
    """Return ``X`` (m, n), ``y`` (m,) and ``w`` (n,) as float arrays that fit together.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Design matrix, one example per row.
    y : array_like of shape (m,)
        Targets.
    w : array_like of shape (n,), optional
        Weights; not checked (and not returned) if None.

    Returns
    -------
    tuple of ndarray
        ``(X, y)``, or ``(X, y, w)`` when ``w`` is given.

    Examples
    --------
    >>> X, y = check_design([[1, 2], [3, 4]], [1, 0])
    >>> X.shape, y.shape
    ((2, 2), (2,))
    >>> check_design([[1, 2], [3, 4]], [1, 0], [1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: w must have shape (2,), one entry per column of X; got (3,)
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), one entry per row of X; got {y.shape}")
    if w is None:
        return X, y
    w = as_float_array(w, "w", ndim=1)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w must have shape ({X.shape[1]},), one entry per column of X; got {w.shape}")
    return X, y, w


def check_positive(value, name):
    """Return ``value`` as a float, raising if it is not a finite number > 0.

    Examples
    --------
    >>> check_positive(1e-5, "h")
    1e-05
    >>> check_positive(0, "h")
    Traceback (most recent call last):
    ...
    ValueError: h must be a finite number > 0; got 0
    """
    _check_real(value, name)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def check_nonnegative(value, name):
    """Return ``value`` as a float, raising if it is not a finite number >= 0.

    Examples
    --------
    >>> check_nonnegative(0, "noise_std")
    0.0
    >>> check_nonnegative(-0.1, "lam")
    Traceback (most recent call last):
    ...
    ValueError: lam must be a finite number >= 0; got -0.1
    """
    _check_real(value, name)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def check_fraction(value, name):
    """Return ``value`` as a float, raising unless ``0 <= value < 1`` (a decay rate).

    Examples
    --------
    >>> check_fraction(0.9, "beta")
    0.9
    >>> check_fraction(1.0, "beta")
    Traceback (most recent call last):
    ...
    ValueError: beta must satisfy 0 <= beta < 1; got 1.0
    """
    _check_real(value, name)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1; got {value!r}")
    return float(value)


def check_count(value, name, low=0, high=None):
    """Return ``value`` as an int, raising unless it is an integer in ``[low, high]``.

    A float such as ``2.0`` or ``2.5`` and the booleans are not counts
    (``TypeError``); an integer outside the range is a ``ValueError``.

    Parameters
    ----------
    value : int
        The count (Python or NumPy integer).
    name : str
        The argument's name, used in error messages.
    low : int, default 0
        Smallest allowed value.
    high : int, optional
        Largest allowed value; no upper bound if None.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If it is outside ``[low, high]``.

    Examples
    --------
    >>> check_count(np.int64(3), "steps")
    3
    >>> check_count(2.5, "steps")
    Traceback (most recent call last):
    ...
    TypeError: steps must be an integer; got float 2.5
    >>> check_count(0, "batch_size", 1, 32)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an integer in 1..32; got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        if high is not None:
            bounds = f"an integer in {low}..{high}"
        else:
            bounds = {0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
        raise ValueError(f"{name} must be {bounds}; got {value}")
    return int(value)


def check_interval(lim, name):
    """Return ``lim`` as a float array ``[low, high]``, raising unless ``low < high``.

    Examples
    --------
    >>> check_interval((-2, 2), "xlim")
    array([-2.,  2.])
    >>> check_interval((1, 0), "xlim")
    Traceback (most recent call last):
    ...
    ValueError: xlim must be (low, high) with low < high; got (1.0, 0.0)
    """
    lim = as_float_array(lim, name, shape=(2,))
    if not lim[0] < lim[1]:
        raise ValueError(f"{name} must be (low, high) with low < high; got {tuple(lim.tolist())}")
    return lim


def check_choice(value, name, choices):
    """Return ``value``, raising ``ValueError`` unless it is one of ``choices``.

    Examples
    --------
    >>> check_choice("central", "method", ("forward", "central"))
    'central'
    >>> check_choice("fwd", "method", ("forward", "central"))
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'forward', 'central'; got 'fwd'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(map(repr, choices))}; got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_callable(f, name):
    """Raise ``TypeError`` unless ``f`` is callable.

    Examples
    --------
    >>> check_callable(abs, "f")
    """
    if not callable(f):
        raise TypeError(f"{name} must be callable; got {type(f).__name__}")


def check_unit(u, name, *, atol=1e-8):
    """Return ``u`` as a 1-D float array, raising unless its norm is 1.

    Examples
    --------
    >>> check_unit([0.6, 0.8], "u")
    array([0.6, 0.8])
    >>> check_unit([3, 4], "u")
    Traceback (most recent call last):
    ...
    ValueError: u must be a unit vector (norm 1); got norm 5 - divide it by its norm first
    """
    arr = as_float_array(u, name, ndim=1)
    norm = float(np.linalg.norm(arr))
    if abs(norm - 1.0) > atol:
        raise ValueError(f"{name} must be a unit vector (norm 1); got norm {norm:.6g} - divide it by its norm first")
    return arr


def check_rng(rng):
    """Return a NumPy ``Generator``: ``rng`` itself, or one seeded by an int.

    Examples
    --------
    >>> bool(check_rng(0).integers(10) == np.random.default_rng(0).integers(10))
    True
    >>> check_rng(None)
    Traceback (most recent call last):
    ...
    TypeError: rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; got NoneType
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; got {type(rng).__name__}"
    )
