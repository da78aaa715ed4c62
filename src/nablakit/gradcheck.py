"""Gradient checking: compare an analytic gradient with centred differences.

The relative error ``||a - b|| / (||a|| + ||b||)`` is scale-free: about
``1e-7`` or less means a correct gradient in double precision, between
``1e-7`` and ``1e-4`` deserves a closer look (kinks, a step too large), and
above ``1e-4`` is almost always a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nablakit._validate import as_float_array, check_callable, check_positive
from nablakit.numdiff import numerical_gradient


def relative_error(a, b, tiny=1e-12):
    """Relative error ``||a - b|| / max(||a|| + ||b||, tiny)`` of two arrays.

    Parameters
    ----------
    a, b : array_like of the same shape
        Arrays to compare (norms are taken over all entries).
    tiny : float, default 1e-12
        Floor of the denominator, > 0, so that two zero arrays give 0, not NaN.

    Returns
    -------
    float
        A number in ``[0, 1]`` (up to the ``tiny`` floor).

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not numeric.
    ValueError
        If the shapes differ, an array is empty or not finite, or ``tiny <= 0``.

    Examples
    --------
    >>> relative_error([1.0, 2.0], [1.0, 2.0])
    0.0
    >>> relative_error([0.0, 0.0], [0.0, 0.0])
    0.0
    >>> abs(relative_error([1.0, 0.0], [0.0, 1.0]) - 0.5**0.5) < 1e-12
    True
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a {a.shape} and b {b.shape}")
    tiny = check_positive(tiny, "tiny")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), tiny))


@dataclass(frozen=True)
class GradientCheck:
    """Result of :func:`check_gradient`.

    Attributes
    ----------
    relative_error : float
        Relative error between ``numeric`` and ``analytic``.
    passed : bool
        ``relative_error <= threshold``.
    worst_index : tuple of int
        Index into ``x``'s shape of the coordinate with the largest ``|numeric - analytic|``.
    numeric, analytic : ndarray
        The two gradients, shaped like ``x``.
    """

    relative_error: float
    passed: bool
    worst_index: tuple
    numeric: np.ndarray
    analytic: np.ndarray

    def __str__(self):
        verdict = "passed" if self.passed else "FAILED"
        i = self.worst_index
        return (f"gradient check {verdict}: relative error {self.relative_error:.2e}; worst coordinate {i}: "
                f"numeric {self.numeric[i]:.6g}, analytic {self.analytic[i]:.6g}")


def check_gradient(f, grad, x, h=1e-5, threshold=1e-6):
    """Check ``grad`` against centred differences of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    grad : callable
        Claimed gradient of ``f``; must return an array shaped like ``x``.
    x : array_like of any shape
        Point of the check; never modified (both callables get copies).
    h : float, default 1e-5
        Step of the centred differences, > 0.
    threshold : float, default 1e-6
        Largest relative error that still passes, > 0.

    Returns
    -------
    GradientCheck
        Relative error, verdict, worst coordinate and both gradients.

    Raises
    ------
    TypeError
        If ``f`` or ``grad`` is not callable or ``x`` is not numeric.
    ValueError
        If ``x`` is empty or not finite, ``h`` or ``threshold`` is not > 0, or
        ``grad(x)`` has the wrong shape or non-finite entries.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda v: np.sum(v ** 2)
    >>> check_gradient(f, lambda v: 2 * v, [1.0, -2.0]).passed
    True
    >>> bad = check_gradient(f, lambda v: np.array([2 * v[0], v[1]]), [1.0, -2.0])
    >>> bad.passed, bad.worst_index
    (False, (1,))
    """
    check_callable(f, "f")
    check_callable(grad, "grad")
    x = as_float_array(x, "x")
    h = check_positive(h, "h")
    threshold = check_positive(threshold, "threshold")
    analytic = as_float_array(grad(x.copy()), "grad(x)", allow_empty=True)
    if analytic.shape != x.shape:
        raise ValueError(f"grad(x) must have the shape of x, {x.shape}; got {analytic.shape}")
    numeric = numerical_gradient(f, x, h=h)
    err = relative_error(numeric, analytic)
    worst = np.unravel_index(int(np.argmax(np.abs(numeric - analytic))), x.shape)
    return GradientCheck(err, bool(err <= threshold), tuple(int(i) for i in worst), numeric, analytic)
