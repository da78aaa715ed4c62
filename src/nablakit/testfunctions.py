"""Classic two-variable test functions with their gradients and Hessians.

Each factory returns a :class:`TestFunction` that bundles the value ``f``,
the gradient ``grad`` and the Hessian ``hessian`` of one surface, its known
minima and a plotting window.

All three callables take ``theta`` whose FIRST axis has length 2, so one
point is ``theta = [th1, th2]`` and a whole grid is
``theta = np.stack([X, Y])``; the remaining axes are carried through:

=============  ==============  =================
callable       ``theta``       result
=============  ==============  =================
``f``          ``(2, ...)``    ``(...)``
``grad``       ``(2, ...)``    ``(2, ...)``
``hessian``    ``(2, ...)``    ``(2, 2, ...)``
=============  ==============  =================

Non-finite entries are allowed and simply propagate (NaN in, NaN out), so
the loss along a diverged optimiser trajectory can still be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nablakit._validate import as_float_array, check_positive
from nablakit.plane import plane_points


@dataclass(frozen=True)
class TestFunction:
    """A test surface ``f(th1, th2)`` with its derivatives and known minima.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"rosenbrock"``.
    f : callable
        ``f(theta)``: value, ``theta`` of shape ``(2, ...)`` -> shape ``(...)``.
    grad : callable
        ``grad(theta)``: gradient, shape ``(2, ...)`` -> ``(2, ...)``.
    hessian : callable
        ``hessian(theta)``: Hessian, shape ``(2, ...)`` -> ``(2, 2, ...)``.
    minima : ndarray of shape (k, 2)
        Known global minimisers, one per row (``k = 0`` when there is none).
    xlim, ylim : tuple of float
        A window that shows the interesting part of the surface.

    Examples
    --------
    >>> tf = rosenbrock()
    >>> float(tf.f(tf.minima[0]))
    0.0
    >>> float(tf([0.0, 0.0]))  # calling the object evaluates f
    1.0
    """

    __test__ = False  # not a pytest test class despite its name

    name: str
    f: Callable
    grad: Callable
    hessian: Callable
    minima: np.ndarray
    xlim: tuple
    ylim: tuple

    def __call__(self, theta):
        return self.f(theta)


def _vectorised(rule):
    """Wrap a formula of ``(t1, t2)`` into a function of ``theta``; silence overflow."""

    def wrapped(theta):
        t1, t2 = plane_points(theta, "theta", finite=False)  # a diverging run may pass inf
        with np.errstate(over="ignore", invalid="ignore"):
            return rule(t1, t2)

    wrapped.__name__ = rule.__name__
    wrapped.__doc__ = rule.__doc__
    return wrapped


def _matrix(h11, h12, h22, like):
    """Stack Hessian entries (scalars or arrays) into shape ``(2, 2) + like.shape``."""
    h11, h12, h22 = (np.broadcast_to(np.asarray(v, dtype=float), like.shape) for v in (h11, h12, h22))
    return np.array([[h11, h12], [h12, h22]])


def _limits(lo, hi):
    return (float(lo), float(hi))


def paraboloid():
    """The round bowl ``f = th1**2 + th2**2``; minimum 0 at the origin.

    Gradient ``(2 th1, 2 th2)`` points straight away from the origin;
    Hessian ``2 I``.

    Returns
    -------
    TestFunction

    Examples
    --------
    >>> import numpy as np
    >>> tf = paraboloid()
    >>> np.allclose(tf.grad([1.0, -2.0]), [2.0, -4.0])
    True
    >>> tf.f(np.zeros((2, 3, 4))).shape  # a stack of 3 x 4 points
    (3, 4)
    """

    def f(t1, t2):
        return t1**2 + t2**2

    def grad(t1, t2):
        return np.array([2 * t1, 2 * t2])

    def hessian(t1, t2):
        return _matrix(2.0, 0.0, 2.0, np.asarray(t1))

    return TestFunction(
        "paraboloid", _vectorised(f), _vectorised(grad), _vectorised(hessian),
        np.array([[0.0, 0.0]]), _limits(-2, 2), _limits(-2, 2),
    )


def saddle():
    """The saddle ``f = th1**2 - th2**2``: a critical point at 0 that is no minimum.

    The surface curves up along ``th1`` and down along ``th2``; the Hessian
    ``diag(2, -2)`` has eigenvalues of both signs. ``f`` is unbounded below,
    so ``minima`` is empty (shape ``(0, 2)``).

    Returns
    -------
    TestFunction

    Examples
    --------
    >>> import numpy as np
    >>> tf = saddle()
    >>> np.allclose(tf.grad([0.0, 0.0]), 0.0), tf.minima.shape
    (True, (0, 2))
    >>> np.linalg.eigvalsh(tf.hessian([0.0, 0.0])).tolist()
    [-2.0, 2.0]
    """

    def f(t1, t2):
        return t1**2 - t2**2

    def grad(t1, t2):
        return np.array([2 * t1, -2 * t2])

    def hessian(t1, t2):
        return _matrix(2.0, 0.0, -2.0, np.asarray(t1))

    return TestFunction(
        "saddle", _vectorised(f), _vectorised(grad), _vectorised(hessian),
        np.zeros((0, 2)), _limits(-2, 2), _limits(-2, 2),
    )


def ravine(kappa=10):
    """The stretched bowl ``f = w1**2 + kappa * w2**2`` with condition number ``kappa``.

    The Hessian is ``diag(2, 2 kappa)``, so gradient descent is stable only
    for learning rates below ``2 / lambda_max = 1 / kappa`` (when
    ``kappa >= 1``) and crawls along the flat ``w1`` direction.

    Parameters
    ----------
    kappa : float, default 10
        Ratio of the curvatures along ``w2`` and ``w1``; > 0.

    Returns
    -------
    TestFunction

    Raises
    ------
    TypeError, ValueError
        If ``kappa`` is not a finite number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> tf = ravine(kappa=100)
    >>> float(tf.f([1.0, 1.0]))
    101.0
    >>> np.allclose(np.linalg.eigvalsh(tf.hessian([0.0, 0.0])), [2.0, 200.0])
    True
    """
    kappa = check_positive(kappa, "kappa")

    def f(t1, t2):
        return t1**2 + kappa * t2**2

    def grad(t1, t2):
        return np.array([2 * t1, 2 * kappa * t2])

    def hessian(t1, t2):
        return _matrix(2.0, 0.0, 2 * kappa, np.asarray(t1))

    half_height = max(2.0 / np.sqrt(kappa), 0.5)
    return TestFunction(
        "ravine", _vectorised(f), _vectorised(grad), _vectorised(hessian),
        np.array([[0.0, 0.0]]), _limits(-2, 2), _limits(-half_height, half_height),
    )


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's banana valley ``f = (a - x)**2 + b (y - x**2)**2``.

    The minimum ``f = 0`` sits at ``(a, a**2)`` at the end of a long, curved,
    nearly flat valley. Partial derivatives::

        df/dx = -2 (a - x) - 4 b x (y - x**2)
        df/dy = 2 b (y - x**2)

    Parameters
    ----------
    a : float, default 1.0
        Position of the minimum along ``x``; any finite number.
    b : float, default 100.0
        Steepness of the valley walls; > 0.

    Returns
    -------
    TestFunction

    Raises
    ------
    TypeError, ValueError
        If ``a`` is not a finite number or ``b`` is not a finite number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> tf = rosenbrock()
    >>> tf.minima.tolist(), np.allclose(tf.grad([1.0, 1.0]), 0.0)
    ([[1.0, 1.0]], True)
    >>> float(tf.f([-1.5, 2.0]))
    12.5
    """
    a = float(as_float_array(a, "a", ndim=0))
    b = check_positive(b, "b")

    def f(x, y):
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(x, y):
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    def hessian(x, y):
        return _matrix(2 - 4 * b * y + 12 * b * x**2, -4 * b * x, 2 * b, np.asarray(x))

    return TestFunction(
        "rosenbrock", _vectorised(f), _vectorised(grad), _vectorised(hessian),
        np.array([[a, a**2]]), _limits(a - 3, a + 1.5), _limits(a**2 - 2, a**2 + 2.5),
    )


_BEALE_C = (1.5, 2.25, 2.625)


def beale():
    """Beale's function, a sum of three squared residuals; minimum 0 at (3, 0.5).

    ``f = sum_i r_i**2`` with ``r_i = c_i - x + x y**i`` for ``i = 1, 2, 3``
    and ``c = (1.5, 2.25, 2.625)``. Each residual has the partials
    ``dr_i/dx = y**i - 1`` and ``dr_i/dy = i x y**(i-1)``, so
    ``grad f = sum_i 2 r_i grad r_i``. Flat plateaus and steep walls make it
    a hard test for plain gradient descent.

    Returns
    -------
    TestFunction

    Examples
    --------
    >>> import numpy as np
    >>> tf = beale()
    >>> np.allclose(tf.f([3.0, 0.5]), 0.0), np.allclose(tf.grad([3.0, 0.5]), 0.0)
    (True, True)
    """

    def f(x, y):
        return sum((c - x + x * y**i) ** 2 for i, c in enumerate(_BEALE_C, start=1))

    def grad(x, y):
        gx = gy = 0.0
        for i, c in enumerate(_BEALE_C, start=1):
            r = c - x + x * y**i
            gx = gx + 2 * r * (y**i - 1)
            gy = gy + 2 * r * i * x * y ** (i - 1)
        return np.array([gx, gy])

    def hessian(x, y):
        # d2f = sum 2 (grad r grad r^T + r d2r), with d2r/dx2 = 0,
        # d2r/dxdy = i y**(i-1), d2r/dy2 = i (i-1) x y**(i-2).
        hxx = hxy = hyy = 0.0
        for i, c in enumerate(_BEALE_C, start=1):
            r = c - x + x * y**i
            rx, ry = y**i - 1, i * x * y ** (i - 1)
            ryy = i * (i - 1) * x * y ** (i - 2) if i >= 2 else 0.0
            hxx = hxx + 2 * rx * rx
            hxy = hxy + 2 * (rx * ry + r * i * y ** (i - 1))
            hyy = hyy + 2 * (ry * ry + r * ryy)
        return _matrix(hxx, hxy, hyy, np.asarray(x))

    return TestFunction(
        "beale", _vectorised(f), _vectorised(grad), _vectorised(hessian),
        np.array([[3.0, 0.5]]), _limits(-4.5, 4.5), _limits(-4.5, 4.5),
    )


TEST_FUNCTIONS = {
    "paraboloid": paraboloid,
    "saddle": saddle,
    "ravine": ravine,
    "rosenbrock": rosenbrock,
    "beale": beale,
}


def get_test_function(name, **params):
    """Build a test function by name.

    Parameters
    ----------
    name : {"paraboloid", "saddle", "ravine", "rosenbrock", "beale"}
        Which surface.
    **params
        Passed to the factory, e.g. ``kappa=`` for ``"ravine"``, ``a=``/``b=``
        for ``"rosenbrock"``.

    Returns
    -------
    TestFunction

    Raises
    ------
    TypeError
        If ``name`` is not a string or a parameter is not accepted.
    ValueError
        If ``name`` is unknown.

    Examples
    --------
    >>> get_test_function("ravine", kappa=100).name
    'ravine'
    >>> get_test_function("himmelblau")
    Traceback (most recent call last):
    ...
    ValueError: name must be one of 'paraboloid', 'saddle', 'ravine', 'rosenbrock', 'beale'; got 'himmelblau'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string; got {type(name).__name__}")
    key = name.strip().lower()
    if key not in TEST_FUNCTIONS:
        raise ValueError(f"name must be one of {', '.join(map(repr, TEST_FUNCTIONS))}; got {name!r}")
    try:
        return TEST_FUNCTIONS[key](**params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"{key} does not accept parameter(s) {sorted(params)}") from None
        raise
