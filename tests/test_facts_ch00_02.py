"""Every number and formula stated in chapters 00-02, checked independently.

sympy gives exact values; finite differences written here (not the
package's) give a second, numerical opinion. Tolerances throughout.
"""

import numpy as np
import pytest
import sympy as sp

from nablakit.selfcheck import QUESTIONS

x, y, h, t, m = sp.symbols("x y h t m", real=True)


def central(fun, at, step=1e-6):
    return (fun(at + step) - fun(at - step)) / (2 * step)


def expected(name):
    return np.asarray(QUESTIONS[name].expected, dtype=float)


# ---------------------------------------------------------------- chapter 00

def test_ch00_slope_of_parabola_at_three():
    slope = sp.diff(x**2, x).subs(x, 3)
    assert slope == 6
    assert np.isclose(expected("00.slope"), float(slope))
    assert np.isclose(central(lambda s: s**2, 3.0), 6.0, atol=1e-6)
