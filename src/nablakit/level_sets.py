"""Level sets of the course's examples: ellipses of quadratic forms, and a wavy function.

For a symmetric positive definite ``A`` the level set ``x^T A x = c`` is an
ellipse with axes along the eigenvectors of ``A`` and semi-axes
``sqrt(c / lambda_i)`` (:func:`quadratic_level_curve`).
``f(x, y) = sin x + cos y`` (:func:`wavy_f`, :func:`wavy_grad`) is the
non-quadratic example whose gradient crosses its level curves at right
angles. :mod:`nablakit.widgets.level_sets` draws them.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_count, check_positive
from nablakit.plane import plane_points, value_like


def check_spd(A, name="A"):
    """Return ``A`` as a symmetric positive definite 2x2 float array, or raise.

    Examples
    --------
    >>> check_spd([[2, 0], [0, 1]])
    array([[2., 0.],
           [0., 1.]])
    """
    A = as_float_array(A, name, shape=(2, 2))
    if not np.allclose(A, A.T):
        raise ValueError(f"{name} must be symmetric; got {A.tolist()}")
    if np.linalg.eigvalsh(A)[0] <= 0:
        raise ValueError(f"{name} must be positive definite (both eigenvalues > 0); got {A.tolist()}")
    return A


def quadratic_form(A, p):
    """``p^T A p`` for a point or a stack of points.

    Parameters
    ----------
    A : array_like of shape (2, 2)
        The matrix.
    p : array_like of shape (2,) or (2, ...)
        Point(s); the first axis holds ``(x, y)``.

    Returns
    -------
    float or ndarray of shape ``p.shape[1:]``

    Examples
    --------
    >>> quadratic_form([[5, 2], [2, 2]], [0.0, 1.0])
    2.0
    """
    A = as_float_array(A, "A", shape=(2, 2))
    p = plane_points(p)
    value = np.einsum("i...,ij,j...->...", p, A, p)
    return value_like(value, p)


def quadratic_level_curve(A, c, n=200):
    """Points of the ellipse ``x^T A x = c`` for a symmetric positive definite ``A``.

    With ``A = V diag(lambda) V^T`` the curve is
    ``x(t) = sqrt(c) V diag(lambda**-0.5) (cos t, sin t)``, ``t`` in
    ``[0, 2 pi]``: an ellipse with semi-axes ``sqrt(c / lambda_i)`` along the
    eigenvectors.

    Parameters
    ----------
    A : array_like of shape (2, 2)
        Symmetric positive definite matrix.
    c : float
        The level, > 0.
    n : int, default 200
        Number of points (the first and last coincide, closing the curve).

    Returns
    -------
    ndarray of shape (n, 2)

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``A`` is not symmetric positive definite, ``c <= 0`` or ``n < 3``.

    Examples
    --------
    >>> pts = quadratic_level_curve([[5, 2], [2, 2]], 3.0, n=50)
    >>> pts.shape
    (50, 2)
    >>> np.allclose(quadratic_form([[5, 2], [2, 2]], pts.T), 3.0)
    True
    """
    A = check_spd(A)
    c = check_positive(c, "c")
    n = check_count(n, "n", 3)
    lam, V = np.linalg.eigh(A)
    t = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    return (np.sqrt(c) * V @ (circle / np.sqrt(lam)[:, None])).T


def wavy_f(p):
    """The non-quadratic example ``f(x, y) = sin(x) + cos(y)``.

    Examples
    --------
    >>> wavy_f([0.0, 0.0])
    1.0
    """
    p = plane_points(p)
    value = np.sin(p[0]) + np.cos(p[1])
    return value_like(value, p)


def wavy_grad(p):
    """Gradient ``(cos x, -sin y)`` of :func:`wavy_f`.

    Examples
    --------
    >>> np.allclose(wavy_grad([0.0, np.pi / 2]), [1.0, -1.0])
    True
    """
    p = plane_points(p)
    return np.stack([np.cos(p[0]), -np.sin(p[1])])
