"""First-order optimisers that return their whole trajectory.

Every optimiser has the form ``opt(grad, theta0, lr, steps, ...)``: it calls
``grad(theta)`` (``theta`` of shape ``(n,)``, result of shape ``(n,)``) once
per step (Nesterov: at the look-ahead point) and returns an array of shape
``(steps + 1, n)`` whose row ``t`` is the parameter vector after ``t`` steps;
row 0 is ``theta0``.

Divergence is not an error but an outcome the course wants to show: once an
iterate is non-finite or has a coordinate with ``|theta| > 1e12`` (see
:data:`DIVERGENCE_LIMIT`), that row and all later rows are NaN and ``grad``
is not called again. Matplotlib leaves NaN rows out of a plotted line.

Update rules (``g`` is the gradient, state vectors start at zero)::

    gradient_descent  theta <- theta - lr g
    momentum          v <- beta v + g;                theta <- theta - lr v
    nesterov          g at theta - lr beta v; v <- beta v + g; theta <- theta - lr v
    rmsprop           s <- rho s + (1 - rho) g**2;    theta <- theta - lr g / (sqrt(s) + eps)
    adam              m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g**2
                      theta <- theta - lr m_hat / (sqrt(v_hat) + eps),
                      m_hat = m / (1 - b1**t),  v_hat = v / (1 - b2**t)
    noisy_gd          theta <- theta - lr (g + noise_std xi),  xi ~ N(0, I)
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import (
    as_float_array,
    check_callable,
    check_count,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_rng,
)

DIVERGENCE_LIMIT = 1e12


def _run(grad, theta0, lr, steps, make_step):
    """Shared loop: validate, iterate ``make_step``, turn divergence into NaN rows.

    ``make_step(theta, gradient_at, t)`` returns the next iterate; it gets
    ``gradient_at(point)``, which calls ``grad`` and checks the shape.
    """
    check_callable(grad, "grad")
    theta = as_float_array(theta0, "theta0", ndim=1)
    lr = check_positive(lr, "lr")
    steps = check_count(steps, "steps")
    n = theta.size

    def gradient_at(point):
        g = np.asarray(grad(point.copy()), dtype=float)
        if g.shape != (n,):
            raise ValueError(f"grad must return an array of shape ({n},) like theta0; got shape {g.shape}")
        return g

    path = np.full((steps + 1, n), np.nan)
    path[0] = theta
    # Overflow on the way to divergence is expected; it is reported as NaN rows.
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            theta = make_step(theta, gradient_at, t, lr)
            if not np.all(np.isfinite(theta)) or np.abs(theta).max() > DIVERGENCE_LIMIT:
                break
            path[t] = theta
    return path


def gradient_descent(grad, theta0, lr, steps):
    """Plain gradient descent ``theta <- theta - lr * grad(theta)``.

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate (step size) ``> 0``. On a quadratic with largest
        Hessian eigenvalue ``lambda_max`` the iteration converges only for
        ``lr < 2 / lambda_max``.
    steps : int
        Number of updates, ``>= 0``.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError
        If ``grad`` is not callable, ``theta0`` is not numeric or ``steps``
        is not an integer.
    ValueError
        If ``theta0`` is not a finite 1-D array, ``lr <= 0``, ``steps < 0``,
        or ``grad`` returns the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> path = gradient_descent(lambda th: 2 * th, [1.0, -2.0], lr=0.25, steps=3)
    >>> path.shape
    (4, 2)
    >>> np.allclose(path[1], [0.5, -1.0])  # each step halves theta
    True
    """
    return _run(grad, theta0, lr, steps, lambda th, g, t, lr: th - lr * g(th))


def momentum(grad, theta0, lr, steps, beta=0.9):
    """Gradient descent with heavy-ball momentum (Polyak).

    ``v <- beta * v + grad(theta)``, then ``theta <- theta - lr * v``, with
    ``v = 0`` at the start: the velocity is a decaying sum of past
    gradients, which adds up along a consistent direction (the floor of a
    ravine) and cancels across it.

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate ``> 0``.
    steps : int
        Number of updates, ``>= 0``.
    beta : float, default 0.9
        Momentum coefficient, ``0 <= beta < 1``; ``beta = 0`` is plain
        gradient descent.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_descent`, and if ``beta`` is outside ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> path = momentum(lambda th: np.ones_like(th), [0.0], lr=1.0, steps=2, beta=0.5)
    >>> path[:, 0].tolist()  # steps of 1, then 1 + 0.5
    [0.0, -1.0, -2.5]
    """
    beta = check_fraction(beta, "beta")
    v = None

    def step(th, g, t, lr):
        nonlocal v
        gt = g(th)
        v = gt if v is None else beta * v + gt
        return th - lr * v

    return _run(grad, theta0, lr, steps, step)


def nesterov(grad, theta0, lr, steps, beta=0.9):
    """Nesterov's accelerated gradient: momentum with a look-ahead gradient.

    The gradient is taken where momentum is about to carry the iterate,
    ``g = grad(theta - lr * beta * v)``; then ``v <- beta * v + g`` and
    ``theta <- theta - lr * v``. Looking ahead lets the velocity brake
    before it overshoots.

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate ``> 0``.
    steps : int
        Number of updates, ``>= 0``.
    beta : float, default 0.9
        Momentum coefficient, ``0 <= beta < 1``.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_descent`, and if ``beta`` is outside ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> path = nesterov(lambda th: 2 * th, [1.0, 1.0], lr=0.1, steps=50)
    >>> bool(np.linalg.norm(path[-1]) < 1e-3)
    True
    """
    beta = check_fraction(beta, "beta")
    v = None

    def step(th, g, t, lr):
        nonlocal v
        if v is None:
            v = np.zeros_like(th)
        v = beta * v + g(th - lr * beta * v)
        return th - lr * v

    return _run(grad, theta0, lr, steps, step)


def rmsprop(grad, theta0, lr, steps, rho=0.9, eps=1e-8):
    """RMSProp: divide each coordinate's step by a running RMS of its gradient.

    ``s <- rho * s + (1 - rho) * g**2`` (``s = 0`` at the start), then
    ``theta <- theta - lr * g / (sqrt(s) + eps)``. Coordinates with large
    gradients get small steps and vice versa, which evens out a ravine.

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate ``> 0``; roughly the size of one step per coordinate.
    steps : int
        Number of updates, ``>= 0``.
    rho : float, default 0.9
        Decay of the squared-gradient average, ``0 <= rho < 1``.
    eps : float, default 1e-8
        Added to the denominator to avoid division by zero, ``> 0``.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_descent`, and if ``rho`` is outside ``[0, 1)`` or
        ``eps <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> path = rmsprop(lambda th: np.array([1.0, 100.0]), [0.0, 0.0], lr=0.1, steps=1, rho=0.0)
    >>> np.allclose(path[1], [-0.1, -0.1])  # the same step size in both coordinates
    True
    """
    rho = check_fraction(rho, "rho")
    eps = check_positive(eps, "eps")
    s = 0.0

    def step(th, g, t, lr):
        nonlocal s
        gt = g(th)
        s = rho * s + (1 - rho) * gt**2
        return th - lr * gt / (np.sqrt(s) + eps)

    return _run(grad, theta0, lr, steps, step)


def adam(grad, theta0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam: momentum on the gradient and RMSProp scaling, both bias-corrected.

    With ``m = v = 0`` at the start and ``t = 1, 2, ...``::

        m <- beta1 m + (1 - beta1) g          (first moment)
        v <- beta2 v + (1 - beta2) g**2       (second moment)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    where ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``
    undo the pull towards the zero start. The very first step therefore
    moves each coordinate by ``lr * |g| / (|g| + eps)``: about ``lr`` unless
    ``|g|`` is as small as ``eps`` (``lr / 2`` at ``|g| = eps``, 0 where
    ``g = 0``).

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate ``> 0``.
    steps : int
        Number of updates, ``>= 0``.
    beta1 : float, default 0.9
        Decay of the first moment, ``0 <= beta1 < 1``.
    beta2 : float, default 0.999
        Decay of the second moment, ``0 <= beta2 < 1``.
    eps : float, default 1e-8
        Added to the denominator, ``> 0``.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_descent`, and if ``beta1``/``beta2`` are outside
        ``[0, 1)`` or ``eps <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> path = adam(lambda th: np.array([3.0, -1e-3]), [0.0, 0.0], lr=0.01, steps=1)
    >>> np.allclose(path[1], [-0.01, 0.01])  # step ~ lr whatever the gradient's size
    True
    """
    beta1 = check_fraction(beta1, "beta1")
    beta2 = check_fraction(beta2, "beta2")
    eps = check_positive(eps, "eps")
    m = v = 0.0

    def step(th, g, t, lr):
        nonlocal m, v
        gt = g(th)
        m = beta1 * m + (1 - beta1) * gt
        v = beta2 * v + (1 - beta2) * gt**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return th - lr * m_hat / (np.sqrt(v_hat) + eps)

    return _run(grad, theta0, lr, steps, step)


def noisy_gd(grad, theta0, lr, steps, noise_std, rng):
    """Gradient descent on a noisy gradient, a model of SGD's mini-batch noise.

    ``theta <- theta - lr * (grad(theta) + noise_std * xi)`` with a fresh
    ``xi ~ N(0, I)`` at every step. With ``noise_std = 0`` this is exactly
    :func:`gradient_descent`. At a saddle point the true gradient vanishes
    but the noisy one does not, which pushes the iterate off the saddle.

    Parameters
    ----------
    grad : callable
        ``grad(theta)`` for ``theta`` of shape ``(n,)``, returning shape ``(n,)``.
    theta0 : array_like of shape (n,)
        Starting point (finite).
    lr : float
        Learning rate ``> 0``.
    steps : int
        Number of updates, ``>= 0``.
    noise_std : float
        Standard deviation of the noise added to each gradient component, ``>= 0``.
    rng : numpy.random.Generator or int
        Source of the noise, e.g. ``np.random.default_rng(0)``; an int is
        used as the seed of a new generator.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row ``t`` is the iterate after ``t`` steps; rows after divergence are NaN.

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_descent`, and if ``noise_std < 0`` or ``rng`` is
        neither a Generator nor an int.

    Examples
    --------
    >>> import numpy as np
    >>> saddle_grad = lambda th: np.array([2 * th[0], -2 * th[1]])
    >>> plain = noisy_gd(saddle_grad, [1.0, 0.0], 0.1, 60, noise_std=0.0, rng=0)
    >>> noisy = noisy_gd(saddle_grad, [1.0, 0.0], 0.1, 60, noise_std=0.01, rng=0)
    >>> np.allclose(plain[-1], [0.0, 0.0], atol=1e-4)  # stuck at the saddle
    True
    >>> bool(abs(noisy[-1, 1]) > 1)  # pushed off it along th2
    True
    """
    noise_std = check_nonnegative(noise_std, "noise_std")
    rng = check_rng(rng)

    def step(th, g, t, lr):
        return th - lr * (g(th) + noise_std * rng.standard_normal(th.shape))

    return _run(grad, theta0, lr, steps, step)


OPTIMIZERS = {
    "gradient_descent": gradient_descent,
    "momentum": momentum,
    "nesterov": nesterov,
    "rmsprop": rmsprop,
    "adam": adam,
    "noisy_gd": noisy_gd,
}
"""Optimisers by name; all but ``noisy_gd`` share the call ``opt(grad, theta0, lr, steps)``."""
