"""Finite-difference derivatives: slopes, gradients, Jacobians and Hessians.

Forward and backward differences have an error of order ``h``; the centred
difference cancels the second-order Taylor term and has an error of order
``h**2``. Too small an ``h`` lets round-off (about ``1e-16 / h``) dominate,
hence the default steps.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float, as_float_array, check_callable, check_choice, check_positive

METHODS = ("central", "forward", "backward")


def _value(f, x, where):
    """Call ``f(x)`` and insist on one finite real number."""
    arr = np.asarray(f(x), dtype=float)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar; got shape {arr.shape} {where}")
    out = float(arr.reshape(()))
    if not np.isfinite(out):
        raise ValueError(f"f returned a non-finite value ({out}) {where}")
    return out


def _difference(f, x, h, kind):
    check_callable(f, "f")
    x, h = as_float(x, "x"), check_positive(h, "h")
    up = _value(f, x + h, f"at x + h = {x + h}") if kind != "backward" else None
    down = _value(f, x - h, f"at x - h = {x - h}") if kind != "forward" else None
    if kind == "central":
        return (up - down) / (2 * h)
    mid = _value(f, x, f"at x = {x}")
    return (up - mid) / h if kind == "forward" else (mid - down) / h


def forward_difference(f, x, h=1e-6):
    """Forward difference ``(f(x + h) - f(x)) / h``; error of order ``h``.

    Parameters
    ----------
    f : callable
        Function of one real variable returning a real number.
    x : float
        Point where the slope ``f'(x)`` is wanted.
    h : float, default 1e-6
        Step size, > 0.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not a number.
    ValueError
        If ``h <= 0`` or ``x`` or ``f(x)`` is not finite.

    Examples
    --------
    >>> abs(forward_difference(lambda t: t**2, 3.0) - 6.0) < 1e-5
    True
    """
    return _difference(f, x, h, "forward")


def backward_difference(f, x, h=1e-6):
    """Backward difference ``(f(x) - f(x - h)) / h``; error of order ``h``.

    Parameters
    ----------
    f : callable
        Function of one real variable returning a real number.
    x : float
        Point where the slope ``f'(x)`` is wanted.
    h : float, default 1e-6
        Step size, > 0.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not a number.
    ValueError
        If ``h <= 0`` or ``x`` or ``f(x)`` is not finite.

    Examples
    --------
    >>> abs(backward_difference(lambda t: t**2, 3.0) - 6.0) < 1e-5
    True
    """
    return _difference(f, x, h, "backward")


def central_difference(f, x, h=1e-5):
    """Centred difference ``(f(x + h) - f(x - h)) / (2h)``; error of order ``h**2``.

    Parameters
    ----------
    f : callable
        Function of one real variable returning a real number.
    x : float
        Point where the slope ``f'(x)`` is wanted.
    h : float, default 1e-5
        Step size, > 0.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not a number.
    ValueError
        If ``h <= 0`` or ``x`` or ``f(x)`` is not finite.

    Examples
    --------
    >>> abs(central_difference(lambda t: t**3, 2.0) - 12.0) < 1e-8
    True
    """
    return _difference(f, x, h, "central")


def _shifted(x, steps):
    # A fresh copy per call, so f may keep or even modify what it receives.
    xp = x.copy()
    for i, s in steps:
        xp.flat[i] += s
    return xp


def difference_quotient(f, x, h, method="central"):
    """One difference quotient of ``f`` at ``x``, by the formula ``method`` names.

    The three formulas of :func:`forward_difference`,
    :func:`backward_difference` and :func:`central_difference` behind one
    name, for code that compares them (the error curves of *Finite
    differences*, the secant of *Partial derivatives*).

    Parameters
    ----------
    f : callable
        Function of one real variable returning a real number.
    x : float
        Where to differentiate.
    h : float
        Step, > 0.
    method : {"central", "forward", "backward"}, default "central"

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not a number.
    ValueError
        If ``method`` is unknown, ``h <= 0`` or a value is not finite.

    Examples
    --------
    >>> difference_quotient(lambda t: t**2, 1.0, 0.5, "forward")   # (1.5**2 - 1) / 0.5
    2.5
    >>> difference_quotient(lambda t: t**2, 1.0, 0.5, "central")
    2.0
    """
    return _difference(f, x, h, check_choice(method, "method", METHODS))


def numerical_gradient(f, x, h=1e-5, method="central"):
    """Gradient of a scalar function by finite differences, one coordinate at a time.

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x`` and returns a real number.
    x : array_like of any shape
        Point where the gradient is wanted. Never modified: ``f`` gets a
        fresh perturbed copy at every call.
    h : float, default 1e-5
        Step size, > 0.
    method : {"central", "forward", "backward"}, default "central"
        Difference formula; "central" is second-order accurate.

    Returns
    -------
    ndarray of the same shape as ``x``
        ``g[i] ~ df/dx[i]``, from ``2 * x.size`` calls of ``f`` (``x.size + 1`` one-sided).

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not numeric.
    ValueError
        If ``x`` is empty or not finite, ``h <= 0``, ``method`` is unknown,
        or ``f`` returns a non-scalar or non-finite value.

    Examples
    --------
    >>> import numpy as np
    >>> g = numerical_gradient(lambda v: v[0] ** 2 + 3 * v[0] * v[1], [1.0, 2.0])
    >>> np.allclose(g, [2 * 1 + 3 * 2, 3 * 1])
    True
    """
    check_callable(f, "f")
    x = as_float_array(x, "x")
    h = check_positive(h, "h")
    check_choice(method, "method", METHODS)
    f0 = None if method == "central" else _value(f, x.copy(), "at x")
    grad = np.empty_like(x)
    for i in range(x.size):
        where = f"when x.flat[{i}] is shifted"
        up = _value(f, _shifted(x, [(i, h)]), where) if method != "backward" else f0
        down = _value(f, _shifted(x, [(i, -h)]), where) if method != "forward" else f0
        grad.flat[i] = (up - down) / (2 * h if method == "central" else h)
    return grad


def numerical_jacobian(f, x, h=1e-5):
    """Jacobian ``J[i, j] = d f_i / d x_j`` of a vector function by centred differences.

    Parameters
    ----------
    f : callable
        Takes ``x`` of shape ``(n,)``, returns shape ``(m,)`` (a scalar counts as ``m = 1``).
    x : array_like of shape (n,)
        Point where the Jacobian is wanted; never modified.
    h : float, default 1e-5
        Step size, > 0.

    Returns
    -------
    ndarray of shape (m, n)

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not numeric.
    ValueError
        If ``x`` is not a finite non-empty 1-D array, ``h <= 0``, or ``f``
        returns non-finite values or more than one dimension.

    Examples
    --------
    >>> import numpy as np
    >>> J = numerical_jacobian(lambda v: np.array([v[0] * v[1], v[0] + v[1]]), [2.0, 3.0])
    >>> np.allclose(J, [[3.0, 2.0], [1.0, 1.0]])
    True
    """
    check_callable(f, "f")
    x = as_float_array(x, "x", ndim=1)
    h = check_positive(h, "h")

    def f_at(j, step):
        out = np.asarray(f(_shifted(x, [(j, step)])), dtype=float)
        if out.ndim > 1:
            raise ValueError(f"f must return a scalar or a 1-D array; got shape {out.shape}")
        if not np.all(np.isfinite(out)):
            raise ValueError(f"f returned a non-finite value when x[{j}] is shifted by {step:g}")
        return out.reshape(-1)

    return np.stack([(f_at(j, h) - f_at(j, -h)) / (2 * h) for j in range(x.size)], axis=1)


def numerical_hessian(f, x, h=1e-4):
    """Hessian of a scalar function by centred second differences.

    ``H[i, j] ~ [f(x+h e_i+h e_j) - f(x+h e_i-h e_j) - f(x-h e_i+h e_j)
    + f(x-h e_i-h e_j)] / (4 h**2)``, error of order ``h**2``; symmetric by
    construction (only ``i <= j`` is evaluated).

    Parameters
    ----------
    f : callable
        Takes ``x`` of shape ``(n,)`` and returns a real number.
    x : array_like of shape (n,)
        Point where the Hessian is wanted; never modified.
    h : float, default 1e-4
        Step size, > 0; larger than for gradients since round-off grows like ``1e-16 / h**2``.

    Returns
    -------
    ndarray of shape (n, n)

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not numeric.
    ValueError
        If ``x`` is not a finite non-empty 1-D array, ``h <= 0``, or ``f``
        returns a non-scalar or non-finite value.

    Examples
    --------
    >>> import numpy as np
    >>> H = numerical_hessian(lambda v: v[0] ** 2 * v[1], [1.0, 2.0])
    >>> np.allclose(H, [[4.0, 2.0], [2.0, 0.0]], atol=1e-6)
    True
    """
    check_callable(f, "f")
    x = as_float_array(x, "x", ndim=1)
    h = check_positive(h, "h")
    H = np.empty((x.size, x.size))
    for i in range(x.size):
        for j in range(i, x.size):
            corners = [_value(f, _shifted(x, [(i, si * h), (j, sj * h)]), f"near x = {x}")
                       for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            H[i, j] = H[j, i] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * h * h)
    return H
