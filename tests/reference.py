"""The tests' one independent numerical reference: centred differences written out plainly.

Deliberately not :mod:`nablakit.numdiff` (the code under test): a loop over
coordinates, each shifted by ``+h`` and ``-h``, so a bug in the package cannot
hide in its own reference. The error is O(h**2) plus round-off ~ eps / h;
with the default ``h = 1e-6`` compare with ``rtol``/``atol`` around 1e-7.
"""

import numpy as np


def centred_derivative(f, x, h=1e-6):
    """``(f(x + h) - f(x - h)) / (2h)`` for a function of one real variable."""
    return (f(x + h) - f(x - h)) / (2 * h)


def centred_gradient(f, x, h=1e-6):
    """Gradient of a scalar function of an array, one coordinate at a time (any shape of ``x``)."""
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = centred_derivative(lambda s: f(x + s / h * e), 0.0, h)
    return g
