"""Directions and the gradient: unit vectors, directional derivatives, tangents.

:func:`directional_profile` gives the slope along every direction of a turning
angle (chapter 04) and :func:`tangent_plane` the first-order model
``f(a) + grad . (p - a)`` in any dimension (the tangent line of chapter 00,
the tangent plane of chapter 02).

The slope of ``f`` along a unit vector ``u`` is ``D_u f = grad f . u``. It is
largest along ``grad f / ||grad f||`` (value ``||grad f||``) and zero along
the level set, i.e. perpendicular to the gradient.
"""

from __future__ import annotations

import math

import numpy as np

from nablakit._validate import as_float, as_float_array, check_callable, check_choice, check_positive, check_unit
from nablakit.numdiff import difference_quotient


def unit_vector(v):
    """Return ``v / ||v||``.

    Parameters
    ----------
    v : array_like of shape (n,)
        A non-zero vector.

    Returns
    -------
    ndarray of shape (n,)
        The vector of norm 1 pointing the same way as ``v``.

    Raises
    ------
    TypeError
        If ``v`` is not numeric.
    ValueError
        If ``v`` is not a finite non-empty 1-D array or is the zero vector.

    Examples
    --------
    >>> unit_vector([3.0, 4.0])
    array([0.6, 0.8])
    """
    v = as_float_array(v, "v", ndim=1)
    norm = np.linalg.norm(v)
    if norm == 0:
        raise ValueError("v must be non-zero; the zero vector has no direction")
    return v / norm


def direction_from_angle(theta):
    """Unit vector ``(cos theta, sin theta)`` at angle ``theta`` (radians) from the x-axis.

    Parameters
    ----------
    theta : float or array_like
        Angle(s) in radians, counter-clockwise from the positive x-axis.

    Returns
    -------
    ndarray of shape (2,) or (2, *theta.shape)
        The direction(s); the first axis holds (cos, sin).

    Raises
    ------
    TypeError
        If ``theta`` is not numeric.
    ValueError
        If ``theta`` is empty or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(direction_from_angle(np.pi / 2), [0.0, 1.0])
    True
    >>> direction_from_angle([0.0, np.pi]).shape
    (2, 2)
    """
    theta = as_float_array(theta, "theta")
    return np.stack([np.cos(theta), np.sin(theta)])


def directional_derivative(grad, u):
    """Directional derivative ``D_u f = grad . u`` along a unit vector ``u``.

    Parameters
    ----------
    grad : array_like of shape (n,)
        Gradient of ``f`` at the point.
    u : array_like of shape (n,)
        Direction; must have norm 1 (use :func:`unit_vector` first).

    Returns
    -------
    float
        Rate of change of ``f`` per unit distance moved along ``u``.

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If ``u`` is not a unit vector, the lengths differ, or a value is not finite.

    Examples
    --------
    >>> directional_derivative([2.0, 3.0], [0.6, 0.8])
    3.6
    """
    grad = as_float_array(grad, "grad", ndim=1)
    u = check_unit(u, "u")
    if u.shape != grad.shape:
        raise ValueError(f"u must have the length of grad, {grad.size}; got {u.size}")
    return float(grad @ u)


def steepest_ascent(grad, atol=1e-12):
    """Unit direction of steepest ascent, ``grad / ||grad||``, or None at a critical point.

    Parameters
    ----------
    grad : array_like of shape (n,)
        Gradient of ``f`` at the point.
    atol : float, default 1e-12
        Gradients with ``||grad|| <= atol`` count as zero, > 0.

    Returns
    -------
    ndarray of shape (n,) or None
        None when the gradient vanishes: no direction is steepest there.
        The steepest descent direction is minus the result.

    Raises
    ------
    TypeError
        If ``grad`` is not numeric.
    ValueError
        If ``grad`` is not a finite non-empty 1-D array or ``atol <= 0``.

    Examples
    --------
    >>> steepest_ascent([0.0, -2.0])
    array([ 0., -1.])
    >>> steepest_ascent([0.0, 0.0]) is None
    True
    """
    grad = as_float_array(grad, "grad", ndim=1)
    atol = check_positive(atol, "atol")
    norm = np.linalg.norm(grad)
    return None if norm <= atol else grad / norm


def level_tangent(grad, atol=1e-12):
    """Unit tangent of the level curve in 2-D: ``grad`` rotated by +90 degrees, normalised.

    Moving along it leaves ``f`` unchanged to first order, since it is
    perpendicular to the gradient.

    Parameters
    ----------
    grad : array_like of shape (2,)
        Gradient of ``f(x, y)`` at the point.
    atol : float, default 1e-12
        Gradients with ``||grad|| <= atol`` count as zero, > 0.

    Returns
    -------
    ndarray of shape (2,) or None
        ``(-g_y, g_x) / ||grad||``; None when the gradient vanishes (no
        well-defined level curve direction). Minus the result is the other tangent.

    Raises
    ------
    TypeError
        If ``grad`` is not numeric.
    ValueError
        If ``grad`` does not have shape (2,), is not finite, or ``atol <= 0``.

    Examples
    --------
    >>> level_tangent([3.0, 4.0])
    array([-0.8,  0.6])
    >>> level_tangent([0.0, 0.0]) is None
    True
    """
    grad = as_float_array(grad, "grad", shape=(2,))
    ascent = steepest_ascent(grad, atol=atol)
    return None if ascent is None else np.array([-ascent[1], ascent[0]])


def partial_difference_quotient(f, x0, y0, h, axis="x"):
    """Difference quotient of ``f(x, y)`` in one coordinate, the other held fixed.

    Only the chosen coordinate moves by ``h``: the limit definition of a
    partial derivative before the limit (the secant of *Partial derivatives*).

    Parameters
    ----------
    f : callable
        ``f(x, y)`` returning a real number.
    x0, y0 : float
        The point.
    h : float
        Step, nonzero; a negative step approaches from the other side.
    axis : {"x", "y"}, default "x"
        The coordinate that moves.

    Returns
    -------
    float
        ``(f(x0 + h, y0) - f(x0, y0)) / h`` for ``axis="x"``, likewise in y.

    Raises
    ------
    TypeError
        If ``f`` is not callable or a coordinate is not a number.
    ValueError
        If ``h`` is zero or not finite, or ``axis`` is not "x" or "y".

    Examples
    --------
    >>> f = lambda x, y: x**2 * y
    >>> round(partial_difference_quotient(f, 1.0, 1.0, 0.1), 12)  # (1.1**2 - 1) / 0.1 = 2 + 0.1
    2.1
    >>> partial_difference_quotient(f, 1.0, 3.0, 0.5, axis="y")
    1.0
    """
    check_callable(f, "f")
    check_choice(axis, "axis", ("x", "y"))
    x0, y0, h = as_float(x0, "x0"), as_float(y0, "y0"), as_float(h, "h")
    if h == 0:
        raise ValueError("h must be nonzero; got 0")
    along, start = ((lambda t: f(t, y0)), x0) if axis == "x" else ((lambda t: f(x0, t)), y0)
    # (f(s + h) - f(s)) / h with h < 0 is exactly the backward quotient with step |h|.
    return difference_quotient(along, start, abs(h), "forward" if h > 0 else "backward")


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


def directional_profile(grad, angles):
    """Directional derivatives ``grad . (cos t, sin t)`` for each angle ``t`` (radians).

    Parameters
    ----------
    grad : array_like of shape (2,)
        The gradient at the point.
    angles : float or array_like
        Angles of the unit directions, counter-clockwise from the x-axis.

    Returns
    -------
    float or ndarray shaped like ``angles``
        Equal to ``||grad|| cos(t - phi)`` with ``phi`` the gradient's angle.

    Examples
    --------
    >>> np.allclose(directional_profile([3.0, 4.0], [0.0, np.pi / 2, np.pi]), [3.0, 4.0, -3.0])
    True
    """
    grad = as_float_array(grad, "grad", shape=(2,))
    values = grad @ direction_from_angle(angles)
    return float(values) if np.ndim(values) == 0 else values


def tangent_plane(value, grad, center, points):
    """Heights of the tangent plane ``z = f(a) + grad . (p - a)`` at ``points``.

    Parameters
    ----------
    value : float
        ``f(a)``, the height of the surface at the point of contact.
    grad : array_like of shape (n,)
        The gradient of ``f`` at ``a``.
    center : array_like of shape (n,)
        The point of contact ``a``.
    points : array_like of shape (..., n)
        Where to evaluate the plane, one point per last-axis row.

    Returns
    -------
    ndarray of shape (...)

    Raises
    ------
    ValueError
        If the shapes do not match or a value is not finite.

    Examples
    --------
    >>> tangent_plane(2.0, [1.0, -1.0], [1.0, 1.0], [[1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])
    array([2., 3., 0.])
    """
    value = float(as_float_array(value, "value", ndim=0))
    grad = as_float_array(grad, "grad", ndim=1)
    center = as_float_array(center, "center", shape=grad.shape)
    points = as_float_array(points, "points")
    if points.shape[-1:] != grad.shape:
        raise ValueError(f"points must have last axis of length {grad.size}; got shape {points.shape}")
    return value + (points - center) @ grad
