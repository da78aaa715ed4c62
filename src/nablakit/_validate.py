"""Input validation shared by the package: clear errors for bad input."""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name, *, ndim=None, shape=None, allow_empty=False):
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
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must contain only finite values; got {arr[idx]} at index {idx}")
    return arr


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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


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
