"""The natural gradient of a Gaussian N(mu, sigma^2), next to plain gradient ascent.

- :func:`gaussian_loglik`, :func:`gaussian_average_loglik` (a whole grid at
  once) and :func:`gaussian_loglik_grad`: the likelihood and its gradient in
  ``(mu, sigma)``;
- :func:`gaussian_fisher` and :func:`gaussian_natural_gradient`;
- :func:`gaussian_gd_path` and :func:`gaussian_ngd_path`: ascent paths
  (:func:`nablakit.convergence.steps_to_settle` says when one has arrived).
"""

from __future__ import annotations

import math

import numpy as np

from nablakit._validate import as_float, as_float_array, check_count, check_positive


def _gaussian_args(data, mu, sigma):
    data = as_float_array(data, "data", ndim=1)
    mu = as_float(mu, "mu")
    sigma = check_positive(as_float(sigma, "sigma"), "sigma")
    return data, mu, sigma


def gaussian_loglik(data, mu, sigma):
    """Log-likelihood ``sum_i log N(x_i; mu, sigma^2)`` of a 1-D sample.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        Standard deviation, > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``sigma`` is not positive or ``data`` is not 1-D and finite.

    Examples
    --------
    >>> np.allclose(gaussian_loglik([0.0], 0.0, 1.0), -0.5 * np.log(2 * np.pi))
    True
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    r = data - mu
    return float(-data.size * (math.log(sigma) + 0.5 * math.log(2 * math.pi)) - np.sum(r * r) / (2 * sigma**2))


def gaussian_average_loglik(data, mu, sigma):
    """Average log-likelihood ``mean_i log N(x_i; mu, sigma^2)``, vectorised over ``mu`` and ``sigma``.

    Uses ``mean((x - mu)^2) = v + (xbar - mu)^2`` (``v`` the biased sample
    variance), so a whole grid of ``(mu, sigma)`` costs one pass over the data.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu, sigma : array_like
        Broadcastable arrays (or floats); every ``sigma`` > 0.

    Returns
    -------
    ndarray
        The broadcast shape of ``mu`` and ``sigma``.

    Raises
    ------
    ValueError
        If a ``sigma`` is not positive.

    Examples
    --------
    >>> data = [0.5, 1.5]
    >>> np.allclose(gaussian_average_loglik(data, 1.0, 2.0), gaussian_loglik(data, 1.0, 2.0) / 2)
    True
    >>> gaussian_average_loglik(data, np.zeros((3, 4)), np.ones((3, 4))).shape
    (3, 4)
    """
    data = as_float_array(data, "data", ndim=1)
    mu = as_float_array(mu, "mu")
    sigma = as_float_array(sigma, "sigma")
    if np.any(sigma <= 0):
        raise ValueError("sigma must be > 0 everywhere")
    xbar, v = data.mean(), data.var()
    return -np.log(sigma) - 0.5 * math.log(2 * math.pi) - (v + (xbar - mu) ** 2) / (2 * sigma**2)


def gaussian_loglik_grad(data, mu, sigma):
    """Gradient of :func:`gaussian_loglik` with respect to ``(mu, sigma)``.

    ``(sum(x - mu) / sigma^2,  -m / sigma + sum((x - mu)^2) / sigma^3)``.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2,)

    Raises
    ------
    ValueError
        If ``sigma`` is not positive or ``data`` is not 1-D and finite.

    Examples
    --------
    >>> gaussian_loglik_grad([1.0, 3.0], 0.0, 1.0)
    array([4., 8.])
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    r = data - mu
    return np.array([np.sum(r) / sigma**2, -data.size / sigma + np.sum(r * r) / sigma**3])


def gaussian_fisher(sigma):
    """Fisher information of one observation of N(mu, sigma^2) in ``(mu, sigma)``.

    ``diag(1/sigma^2, 2/sigma^2)``; it does not depend on ``mu``. The Fisher
    information of ``m`` independent observations is ``m`` times this.

    Parameters
    ----------
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2, 2)

    Raises
    ------
    ValueError
        If ``sigma`` is not positive.

    Examples
    --------
    >>> gaussian_fisher(0.5)
    array([[4., 0.],
           [0., 8.]])
    """
    sigma = check_positive(sigma, "sigma")
    return np.diag([1.0 / sigma**2, 2.0 / sigma**2])


def gaussian_natural_gradient(data, mu, sigma):
    """Natural gradient ``(m F)^{-1} grad`` of the Gaussian log-likelihood.

    Equals ``(mean(x) - mu, (mean((x - mu)^2) - sigma^2) / (2 sigma))``: one
    step of size 1 puts ``mu`` on the sample mean whatever the start.

    Parameters
    ----------
    data : array_like of shape (m,)
    mu : float
    sigma : float
        > 0.

    Returns
    -------
    ndarray of shape (2,)

    Raises
    ------
    ValueError
        As :func:`gaussian_loglik_grad`.

    Examples
    --------
    >>> gaussian_natural_gradient([1.0, 3.0], 0.0, 1.0)
    array([2., 2.])
    """
    data, mu, sigma = _gaussian_args(data, mu, sigma)
    grad = gaussian_loglik_grad(data, mu, sigma)
    return np.linalg.solve(data.size * gaussian_fisher(sigma), grad)


def _ascent_path(step, data, theta0, lr, steps):
    data = as_float_array(data, "data", ndim=1)
    theta0 = as_float_array(theta0, "theta0", shape=(2,))
    lr = check_positive(lr, "lr")
    steps = check_count(steps, "steps")
    if theta0[1] <= 0:
        raise ValueError(f"theta0[1] is sigma and must be > 0; got {theta0[1]}")
    path = np.full((steps + 1, 2), np.nan)
    path[0] = theta0
    for t in range(steps):
        mu, sigma = path[t]
        new = path[t] + lr * step(data, mu, sigma)
        if not np.all(np.isfinite(new)) or new[1] <= 0:
            break  # sigma left the model (the step was too large): stop, rest stays NaN
        path[t + 1] = new
    return path


def gaussian_gd_path(data, theta0, lr, steps):
    """Plain gradient ascent on the *average* log-likelihood, in ``(mu, sigma)``.

    ``theta <- theta + lr * grad / m``. If a step would make sigma <= 0 the
    path stops and the remaining rows are NaN.

    Parameters
    ----------
    data : array_like of shape (m,)
    theta0 : array_like of shape (2,)
        Start ``(mu0, sigma0)`` with ``sigma0 > 0``.
    lr : float
        Step size, > 0.
    steps : int
        Number of steps, >= 0.

    Returns
    -------
    ndarray of shape (steps + 1, 2)

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        On bad shapes, a non-positive ``lr`` or ``sigma0``, or a negative ``steps``.

    Examples
    --------
    >>> path = gaussian_gd_path([1.0, 3.0], [0.0, 1.0], 0.1, 1)
    >>> np.allclose(path[1], [0.2, 1.4])
    True
    """
    return _ascent_path(lambda d, mu, s: gaussian_loglik_grad(d, mu, s) / d.size, data, theta0, lr, steps)


def gaussian_ngd_path(data, theta0, lr, steps):
    """Natural-gradient ascent on the log-likelihood, in ``(mu, sigma)``.

    ``theta <- theta + lr * (m F)^{-1} grad``. With ``lr = 1`` the first step
    sets ``mu`` to the sample mean, and then ``sigma`` follows Heron's
    square-root iteration ``sigma <- (sigma + v / sigma) / 2`` towards the
    biased sample standard deviation.

    Parameters
    ----------
    data : array_like of shape (m,)
    theta0 : array_like of shape (2,)
    lr : float
    steps : int

    Returns
    -------
    ndarray of shape (steps + 1, 2)

    Raises
    ------
    ValueError
        As :func:`gaussian_gd_path`.

    Examples
    --------
    >>> path = gaussian_ngd_path([1.0, 3.0], [0.0, 1.0], 1.0, 1)
    >>> np.allclose(path[1], [2.0, 3.0])
    True
    """
    return _ascent_path(gaussian_natural_gradient, data, theta0, lr, steps)
