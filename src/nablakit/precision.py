"""Mixed precision: gradients in float16, underflow, and loss scaling.

:func:`float16_roundtrip` stores gradients in float16 (optionally scaled);
:func:`underflow_fraction`, :func:`overflow_fraction` and
:func:`float16_error_envelope` measure what is lost, and how loss scaling
brings small gradients back. :func:`bfloat16_roundtrip` emulates bfloat16
(float32's 8 exponent bits, 7 fraction bits) exactly, which NumPy lacks;
:data:`BFLOAT16` holds its key numbers.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_count, check_positive

FLOAT16_SMALLEST_SUBNORMAL = float(np.finfo(np.float16).smallest_subnormal)
"""2**-24, about 5.96e-8: the smallest positive float16 number."""
FLOAT16_SMALLEST_NORMAL = float(np.finfo(np.float16).smallest_normal)
"""2**-14, about 6.10e-5: below it float16 loses relative precision."""
FLOAT16_MAX = float(np.finfo(np.float16).max)
"""65504: above it a float16 becomes inf."""

#: Largest finite value, smallest normal value and spacing at 1 of bfloat16.
BFLOAT16 = {
    "max": float((2 - 2.0**-7) * 2.0**127),
    "smallest_normal": float(2.0**-126),
    "smallest_subnormal": float(2.0**-133),
    "eps": float(2.0**-7),
}


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
    TypeError
        If ``per_bin`` is not an integer.
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
    per_bin = check_count(per_bin, "per_bin", 1)
    if np.any(values <= 0) or np.any(np.diff(values) <= 0):
        raise ValueError("values must be positive and increasing")
    if values.size % per_bin:
        raise ValueError(f"per_bin ({per_bin}) must divide the number of values ({values.size})")
    bins = values.reshape(-1, per_bin)
    worst = (np.abs(float16_roundtrip(bins, scale) - bins) / bins).max(axis=1)
    return np.sqrt(bins[:, 0] * bins[:, -1]), worst


def bfloat16_roundtrip(values):
    """Round values to the nearest bfloat16 (ties to even) and return them as float64.

    A bfloat16 is the upper half of a float32: same sign and 8-bit exponent,
    fraction cut from 23 to 7 bits. So it has float32's range (up to about
    3.4e38, normal numbers down to about 1.2e-38) with only about 2-3
    significant digits: the spacing of numbers near 1 is ``2**-7``.

    Parameters
    ----------
    values : array_like
        Finite numbers whose size fits float32 (below about 3.4e38).

    Returns
    -------
    ndarray of float64
        Same shape as ``values``: each entry after the trip through bfloat16.

    Raises
    ------
    ValueError
        If a value is not finite or too large for float32.

    Notes
    -----
    The float64 value is first rounded to float32 and then to bfloat16; this
    double rounding can differ from a direct rounding in rare ties, by one
    bfloat16 unit in the last place.

    Examples
    --------
    >>> bfloat16_roundtrip([1.0, 1.001, 1 + 2**-7, 60000.0]).tolist()
    [1.0, 1.0, 1.0078125, 59904.0]
    >>> bool(bfloat16_roundtrip([1e-30])[0] > 0)   # float32's range: no underflow here
    True
    """
    x = as_float_array(values, "values", allow_empty=True)
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite")
    if np.any(np.abs(x) > float(np.finfo(np.float32).max)):
        raise ValueError("values must fit into float32 (|x| <= 3.4e38)")
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    # round to nearest, ties to even, on the 16 bits that are dropped
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    out = rounded.astype(np.uint32).view(np.float32).astype(np.float64)
    return out.reshape(x.shape)
