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


# ---------------------------------------------------------------- chapter 01

F01 = x**2 * y + sp.sin(y)


def f01(a, b):
    return a**2 * b + np.sin(b)


def test_ch01_partials_of_running_example():
    assert sp.simplify(sp.diff(F01, x) - 2 * x * y) == 0
    assert sp.simplify(sp.diff(F01, y) - (x**2 + sp.cos(y))) == 0
    assert sp.diff(F01, x).subs({x: 1, y: 1}) == 2
    fy11 = float(sp.diff(F01, y).subs({x: 1, y: 1}))
    assert round(fy11, 3) == 1.540  # "1 + cos 1 ~ 1.540"
    assert np.isclose(central(lambda s: f01(s, 1.0), 1.0), 2.0)
    assert np.isclose(central(lambda s: f01(1.0, s), 1.0), 1 + np.cos(1.0))


def test_ch01_try_it_partial_y_at_2_1():
    exact = sp.diff(F01, y).subs({x: 2, y: 1})
    assert sp.simplify(exact - (4 + sp.cos(1))) == 0
    assert np.isclose(expected("01.partial-y"), float(exact))
    assert round(float(exact), 2) == 4.54
    assert np.isclose(central(lambda s: f01(2.0, s), 1.0), float(exact))


def test_ch01_x_quotient_is_two_plus_h_and_limits():
    quotient_x = (F01.subs({x: 1 + h, y: 1}) - F01.subs({x: 1, y: 1})) / h
    assert sp.simplify(quotient_x - (2 + h)) == 0
    assert np.isclose(expected("01.quotient"), 2.1)
    assert np.isclose((f01(1.1, 1.0) - f01(1.0, 1.0)) / 0.1, 2.1)
    quotient_y = (F01.subs({x: 1, y: 1 + h}) - F01.subs({x: 1, y: 1})) / h
    assert sp.simplify(sp.limit(quotient_y, h, 0) - (1 + sp.cos(1))) == 0


def test_ch01_second_and_mixed_partials():
    assert sp.diff(F01, x, x) == 2 * y
    assert sp.diff(F01, y, y) == -sp.sin(y)
    assert sp.diff(F01, x, y) == 2 * x == sp.diff(F01, y, x)


def test_ch01_try_it_mixed_partial_of_x3y2():
    p = x**3 * y**2
    assert sp.diff(p, x) == 3 * x**2 * y**2
    assert sp.diff(p, x, y) == sp.diff(p, y, x) == 6 * x**2 * y
    assert sp.diff(p, x, y).subs({x: 1, y: 2}) == 12
    assert np.isclose(expected("01.mixed"), 12.0)


G = x * y * (x**2 - y**2) / (x**2 + y**2)


def g_num(a, b):
    return 0.0 if a == 0 and b == 0 else a * b * (a**2 - b**2) / (a**2 + b**2)


def test_ch01_clairaut_counterexample_by_limits():
    y_nonzero = sp.symbols("y_nz", real=True, nonzero=True)
    x_nonzero = sp.symbols("x_nz", real=True, nonzero=True)
    # g_x(0, y) = lim g(h, y) / h = -y ; g_y(x, 0) = lim g(x, h) / h = x   (g(0, y) = g(x, 0) = 0)
    assert sp.limit(G.subs({x: h, y: y_nonzero}) / h, h, 0) == -y_nonzero
    assert sp.limit(G.subs({x: x_nonzero, y: h}) / h, h, 0) == x_nonzero
    # at the origin itself the quotients are g(h, 0)/h = 0 and g(0, h)/h = 0, matching -0 and +0
    assert sp.simplify(G.subs({x: h, y: 0})) == 0 and sp.simplify(G.subs({x: 0, y: h})) == 0
    # so the mixed partials at 0 are d(-y)/dy = -1 (x first) and d(x)/dx = +1 (y first)
    assert sp.diff(-y, y) == -1 and sp.diff(x, x) == 1
    # the chapter's sympy route gives the same
    assert sp.simplify(sp.diff(G, x).subs(x, 0)) == -y
    assert sp.simplify(sp.diff(G, y).subs(y, 0)) == x


def test_ch01_clairaut_counterexample_numerically():
    def gx(a, b):
        return central(lambda s: g_num(s, b), a, 1e-7)

    def gy(a, b):
        return central(lambda s: g_num(a, s), b, 1e-7)

    x_then_y = central(lambda s: gx(0.0, s), 0.0, 1e-2)
    y_then_x = central(lambda s: gy(s, 0.0), 0.0, 1e-2)
    assert np.isclose(x_then_y, -1.0, atol=1e-5)
    assert np.isclose(y_then_x, 1.0, atol=1e-5)


def test_ch01_mixed_partial_of_g_has_no_limit_at_origin():
    g_xy = sp.simplify(sp.diff(G, x, y))
    assert sp.simplify(g_xy.subs(y, 0)) == 1
    assert sp.simplify(g_xy.subs(x, 0)) == -1
    assert sp.simplify(sp.diff(G, x, y) - sp.diff(G, y, x)) == 0  # equal away from 0


K = x * y / (x**2 + y**2)


def test_ch01_partials_exist_but_not_continuous():
    assert sp.limit(K.subs({x: h, y: 0}) / h, h, 0) == 0
    assert sp.limit(K.subs({x: 0, y: h}) / h, h, 0) == 0
    along = sp.simplify(K.subs(y, m * x))
    assert sp.simplify(along - m / (1 + m**2)) == 0
    values = [along.subs(m, s) for s in (0, sp.Rational(1, 2), 1, -1)]
    assert values == [0, sp.Rational(2, 5), sp.Rational(1, 2), -sp.Rational(1, 2)]

    def k_num(a, b):
        return 0.0 if a == 0 and b == 0 else a * b / (a**2 + b**2)

    for step in (0.1, 0.01, 0.001):  # the chapter's table
        assert k_num(step, 0.0) == 0.0 and k_num(0.0, step) == 0.0
        assert np.isclose(k_num(step, step), 0.5)
