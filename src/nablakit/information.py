"""How far apart two distributions are: the KL divergence, numerically and for Gaussians.

:func:`kl_divergence` integrates ``p log(p / q)`` over a grid (any two
densities); :func:`gaussian_kl` is the closed form for two normal
distributions. Chapter 10 uses them to show that the Fisher information is the
curvature of the KL divergence: ``KL(p_theta || p_theta+delta) ~ 1/2 delta^T F delta``.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_positive

__all__ = ["gaussian_pdf", "kl_divergence", "gaussian_kl"]


def gaussian_pdf(x, mu, sigma):
    """Density of the normal distribution N(mu, sigma**2) at ``x``.

    Parameters
    ----------
    x : array_like
        Points.
    mu : float
        Mean.
    sigma : float
        Standard deviation, > 0.

    Returns
    -------
    ndarray of float64
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``sigma <= 0`` or a number is not finite.

    Examples
    --------
    >>> round(float(gaussian_pdf(0.0, 0.0, 1.0)), 6)     # 1 / sqrt(2 pi)
    0.398942
    """
    x = as_float_array(x, "x", allow_empty=True)
    mu = float(as_float_array(mu, "mu", ndim=0))
    sigma = check_positive(sigma, "sigma")
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def kl_divergence(p, q, x):
    """KL(p || q) = integral of p log(p / q), by the trapezoidal rule on a grid.

    Parameters
    ----------
    p, q : array_like of shape (n,)
        The two densities at the grid points ``x``. Where ``p == 0`` the
        integrand is 0; ``q`` must be positive wherever ``p`` is.
    x : array_like of shape (n,)
        Increasing grid points covering (practically) all of the mass of ``p``.

    Returns
    -------
    float
        The divergence, >= 0 up to the integration error.

    Raises
    ------
    ValueError
        If the shapes differ, ``x`` is not increasing, a density is negative,
        or ``q`` is 0 where ``p`` is not.

    Examples
    --------
    >>> x = np.linspace(-10, 10, 4001)
    >>> p, q = gaussian_pdf(x, 0.0, 1.0), gaussian_pdf(x, 1.0, 1.0)
    >>> round(kl_divergence(p, q, x), 6)                # closed form: (1 - 0)**2 / 2
    0.5
    """
    x = as_float_array(x, "x", ndim=1)
    p = as_float_array(p, "p", shape=x.shape)
    q = as_float_array(q, "q", shape=x.shape)
    if x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("x must be an increasing grid of at least two points")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("densities cannot be negative")
    if np.any((p > 0) & (q == 0)):
        raise ValueError("q is 0 where p is positive: the divergence is infinite")
    integrand = np.zeros_like(p)
    pos = p > 0
    integrand[pos] = p[pos] * np.log(p[pos] / q[pos])
    return float(np.sum((integrand[1:] + integrand[:-1]) * np.diff(x)) / 2)


def gaussian_kl(mu_p, sigma_p, mu_q, sigma_q):
    """KL(N(mu_p, sigma_p**2) || N(mu_q, sigma_q**2)) in closed form.

    ``log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q)**2) / (2 sigma_q**2) - 1/2``.

    Parameters
    ----------
    mu_p, mu_q : float
        Means.
    sigma_p, sigma_q : float
        Standard deviations, > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a standard deviation is not positive or a mean is not finite.

    Examples
    --------
    >>> gaussian_kl(0.0, 1.0, 1.0, 1.0)
    0.5
    >>> gaussian_kl(1.0, 2.0, 1.0, 2.0)
    0.0
    """
    mu_p = float(as_float_array(mu_p, "mu_p", ndim=0))
    mu_q = float(as_float_array(mu_q, "mu_q", ndim=0))
    sigma_p, sigma_q = check_positive(sigma_p, "sigma_p"), check_positive(sigma_q, "sigma_q")
    return float(np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5)
