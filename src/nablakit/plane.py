"""Points of the plane for the chapters' two-variable example functions.

The examples take ``p`` whose first axis holds ``(x, y)``: one point of
shape ``(2,)`` or a whole grid of shape ``(2, ...)``, like
:mod:`nablakit.testfunctions`.
"""

from __future__ import annotations

from nablakit._validate import as_float_array


def plane_points(p, name="p", *, finite=True):
    """Return ``p`` as a float array whose first axis has length 2, or raise.

    Examples
    --------
    >>> plane_points([1, 2]).tolist()
    [1.0, 2.0]
    >>> plane_points([1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: p must have length 2 along its first axis; got shape (3,)
    """
    p = as_float_array(p, name, finite=finite)
    if p.shape[:1] != (2,):
        raise ValueError(f"{name} must have length 2 along its first axis; got shape {p.shape}")
    return p


def value_like(value, p):
    """A Python float for a single point ``p`` of shape (2,), the array otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> value_like(np.float64(4.0), np.zeros(2))
    4.0
    """
    return float(value) if p.ndim == 1 else value
