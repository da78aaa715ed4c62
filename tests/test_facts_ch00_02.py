"""Every number and formula stated in chapters 00-02, checked independently.

sympy gives exact values; the tests' own centred differences
(``tests/reference.py``, not the package's) give a second, numerical opinion. Tolerances throughout.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import sympy as sp
from reference import centred_derivative, centred_gradient

from nablakit.gradcheck import relative_error
from nablakit.numdiff import numerical_gradient
from nablakit.selfcheck import QUESTIONS
from nablakit.widgets import partials

x, y, h, t, m = sp.symbols("x y h t m", real=True)


def expected(name):
    return np.asarray(QUESTIONS[name].expected, dtype=float)


def cells(number):
    """Cells of chapter ``number`` (two digits), found by file name."""
    (path,) = (Path(__file__).resolve().parents[1] / "course").glob(f"{number}-*.ipynb")
    return nbformat.read(path, as_version=4).cells


def prose(number):
    return "\n".join(c.source for c in cells(number) if c.cell_type == "markdown")


# ---------------------------------------------------------------- chapter 00

def test_ch00_slope_of_parabola_at_three():
    slope = sp.diff(x**2, x).subs(x, 3)
    assert slope == 6
    assert np.isclose(expected("00.slope"), float(slope))
    assert np.isclose(centred_derivative(lambda s: s**2, 3.0), 6.0, atol=1e-6)


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
    assert np.isclose(centred_derivative(lambda s: f01(s, 1.0), 1.0), 2.0)
    assert np.isclose(centred_derivative(lambda s: f01(1.0, s), 1.0), 1 + np.cos(1.0))


def test_ch01_slice_shapes_described_in_the_caption():
    y0, x0 = sp.symbols("y0 x0", real=True)
    x_slice = F01.subs(y, y0)  # y0 x^2 + sin y0: opens up for y0 > 0, down for y0 < 0, flat for y0 = 0
    assert sp.diff(x_slice, x, 2) == 2 * y0
    assert sp.diff(F01.subs(y, 0), x) == 0
    assert F01.subs(x, 0) == sp.sin(y)  # the y-slice at x0 = 0


def test_ch01_try_it_partial_y_at_2_1():
    exact = sp.diff(F01, y).subs({x: 2, y: 1})
    assert sp.simplify(exact - (4 + sp.cos(1))) == 0
    assert np.isclose(expected("01.partial-y"), float(exact))
    assert round(float(exact), 2) == 4.54
    assert np.isclose(centred_derivative(lambda s: f01(2.0, s), 1.0), float(exact))


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
        return centred_derivative(lambda s: g_num(s, b), a, 1e-7)

    def gy(a, b):
        return centred_derivative(lambda s: g_num(a, s), b, 1e-7)

    x_then_y = centred_derivative(lambda s: gx(0.0, s), 0.0, 1e-2)
    y_then_x = centred_derivative(lambda s: gy(s, 0.0), 0.0, 1e-2)
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


# ---------------------------------------------------------------- chapter 02

def test_ch02_gradient_of_running_example_and_steepest_ascent():
    grad = sp.Matrix([sp.diff(F01, v) for v in (x, y)])
    at = np.array(grad.subs({x: 1, y: 1}), dtype=float).ravel()
    assert np.allclose(at, [2.0, 1 + np.cos(1.0)])
    numeric = [centred_derivative(lambda s: f01(s, 1.0), 1.0), centred_derivative(lambda s: f01(1.0, s), 1.0)]
    assert np.allclose(at, numeric, atol=1e-8)
    norm = np.linalg.norm(at)
    assert round(norm, 2) == 2.52  # "about 2.52"
    assert np.allclose(at / norm, [0.79, 0.61], atol=5e-3)  # "roughly (0.79, 0.61)"
    # no sampled unit direction has a larger slope than the gradient's norm (Cauchy-Schwarz)
    angles = np.linspace(0, 2 * np.pi, 10_000)
    assert (np.cos(angles) * at[0] + np.sin(angles) * at[1]).max() <= norm + 1e-12


TH1, TH2 = sp.symbols("theta1 theta2", real=True)


def regression_loss(features, target):
    return sp.Rational(1, 2) * (TH1 * features[0] + TH2 * features[1] - target) ** 2


def test_ch02_linear_regression_sensitivity_example():
    L = regression_loss((3, 1), 8)
    at = {TH1: 1, TH2: 1}
    assert L.subs(at) == 8
    assert (TH1 * 3 + TH2 * 1 - 8).subs(at) == -4  # residual
    grad = [sp.diff(L, v).subs(at) for v in (TH1, TH2)]
    assert grad == [-12, -4]
    assert grad[0] / grad[1] == 3
    # one gradient-descent step with learning rate 0.05
    new = {TH1: 1 - sp.Rational(5, 100) * grad[0], TH2: 1 - sp.Rational(5, 100) * grad[1]}
    assert (new[TH1], new[TH2]) == (sp.Rational(8, 5), sp.Rational(6, 5))
    assert (3 * new[TH1] + new[TH2]) == 6
    assert L.subs(new) == 2
    lam = sp.lambdify((TH1, TH2), L)
    assert np.allclose([centred_derivative(lambda s: lam(s, 1.0), 1.0), centred_derivative(lambda s: lam(1.0, s), 1.0)], [-12, -4])


def test_ch02_try_it_answers():
    L = regression_loss((2, -1), 3)
    grad = [sp.diff(L, v).subs({TH1: 1, TH2: 1}) for v in (TH1, TH2)]
    assert grad == [-4, 2]
    assert np.allclose(expected("02.regression-gradient"), [-4, 2])
    saddle = x**2 - y**2
    assert [sp.diff(saddle, v).subs({x: 1, y: 2}) for v in (x, y)] == [2, -4]
    assert np.allclose(expected("02.saddle-gradient"), [2, -4])
    bowl = x**2 + y**2
    g = [sp.diff(bowl, v).subs({x: sp.Rational(3, 2), y: 2}) for v in (x, y)]
    assert g == [3, 4]
    unit = np.array(g, dtype=float) / np.linalg.norm(np.array(g, dtype=float))
    assert np.allclose(unit, [0.6, 0.8]) and np.allclose(expected("02.steepest"), unit)


def test_ch02_gradient_fields_of_paraboloid_and_saddle():
    assert [sp.diff(x**2 + y**2, v) for v in (x, y)] == [2 * x, 2 * y]
    assert [sp.diff(x**2 - y**2, v) for v in (x, y)] == [2 * x, -2 * y]


def test_ch02_tangent_plane_error_is_quadratic():
    a, u = np.array([1.0, 1.0]), np.array([0.6, -0.8])
    g = np.array([2.0, 1 + np.cos(1.0)])
    H = np.array([[2.0, 2.0], [2.0, -np.sin(1.0)]])  # Hessian of x^2 y + sin y at (1, 1)
    ratios = []
    for step in (0.1, 0.01, 0.001):
        d = step * u
        gap = f01(*(a + d)) - (f01(*a) + g @ d)
        ratios.append(gap / step**2)
    assert np.isclose(ratios[-1], 0.5 * u @ H @ u, rtol=1e-2)  # settles to a constant
    assert abs(ratios[2] - ratios[1]) < abs(ratios[1] - ratios[0])


N = 3
A_SYM = sp.Matrix(N, N, lambda i, j: sp.Symbol(f"A{i}{j}"))
a_SYM = sp.Matrix(N, 1, lambda i, j: sp.Symbol(f"a{i}"))
b_SYM = sp.Matrix(N, 1, lambda i, j: sp.Symbol(f"b{i}"))
X_SYM = sp.Matrix(N, 1, lambda i, j: sp.Symbol(f"x{i}"))


def sym_grad(expr):
    return sp.Matrix([sp.diff(expr, v) for v in X_SYM])


def test_ch02_standard_gradients_symbolically():
    assert sym_grad((a_SYM.T * X_SYM)[0]) == a_SYM
    quad = (X_SYM.T * A_SYM * X_SYM)[0]
    assert sp.expand(sym_grad(quad) - (A_SYM + A_SYM.T) * X_SYM) == sp.zeros(N, 1)
    r = A_SYM * X_SYM - b_SYM
    lsq = (r.T * r)[0]
    assert sp.expand(sym_grad(lsq) - 2 * A_SYM.T * r) == sp.zeros(N, 1)


def test_ch02_standard_gradients_numerically_and_the_2Ax_mistake():
    rng = np.random.default_rng(0)  # the chapter's draw
    A, a, b, x0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)

    def fd_grad(fun):
        return centred_gradient(fun, x0, 1e-5)

    def rel(p, q):
        return np.linalg.norm(p - q) / (np.linalg.norm(p) + np.linalg.norm(q))

    assert rel(a, fd_grad(lambda v: a @ v)) < 1e-10
    assert rel((A + A.T) @ x0, fd_grad(lambda v: v @ A @ v)) < 1e-10
    assert rel(2 * A.T @ (A @ x0 - b), fd_grad(lambda v: np.sum((A @ v - b) ** 2))) < 1e-10
    wrong = rel(2 * A @ x0, fd_grad(lambda v: v @ A @ v))
    assert 0.15 < wrong < 0.25  # "off by about 20 %"
    S = A + A.T  # for a symmetric matrix 2Sx is right
    assert rel(2 * S @ x0, fd_grad(lambda v: v @ S @ v)) < 1e-10


def test_ch01_round_off_takes_over_long_before_1e_16():
    def quotient(step):
        return (f01(1.0 + step, 1.0) - f01(1.0, 1.0)) / step

    assert quotient(1e-16) == 0.0  # 1 + 1e-16 rounds to 1: the quotient is pure round-off
    assert abs(quotient(1e-12) - 2.0) > abs(quotient(1e-5) - 2.0)  # already worse at 1e-12


def test_ch02_brute_force_search_over_3600_directions():
    grad = np.array([2.0, 1 + np.cos(1.0)])
    angles = np.linspace(0, 2 * np.pi, 3600, endpoint=False)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    slopes = directions @ grad
    best = directions[np.argmax(slopes)]
    assert np.allclose(best, grad / np.linalg.norm(grad), atol=1e-3)  # one tenth of a degree apart
    assert np.allclose(best, [0.79, 0.61], atol=5e-3)
    assert round(slopes.max(), 2) == round(np.linalg.norm(grad), 2) == 2.52


# ---------------------------------------------------------------- issue 21, section 4


def test_ch00_prerequisite_table_names_chapter_03_where_it_is_needed():
    (table,) = [c.source for c in cells("00") if c.source.startswith("| question | if it went wrong")]
    rows = {line.split("|")[1].strip(): line.split("|")[3] for line in table.splitlines()[2:] if line.startswith("| (")}
    for question in ("(a)", "(b)", "(c)"):               # Taylor, matrix-vector product, transpose
        assert " 03 (" in rows[question], question
    ch03 = prose("03")
    assert "g(x + d) \\approx g(x) + J_g(x)\\,d" in ch03     # (a) the linear approximation
    assert "J_{f\\circ g} = J_f J_g" in ch03 and "X^\\top V" in ch03 and "J_g(x)^\\top" in ch03   # (b), (c)


def test_ch01_g_has_eight_lobes():
    r, phi = sp.symbols("r phi", positive=True)
    polar = G.subs({x: r * sp.cos(phi), y: r * sp.sin(phi)})
    assert sp.simplify(sp.expand_trig(polar - r**2 * sp.sin(4 * phi) / 4)) == 0
    angles = np.linspace(0, 2 * np.pi, 4000, endpoint=False) + 1e-3
    signs = np.sign([g_num(np.cos(a), np.sin(a)) for a in angles])
    assert np.count_nonzero(signs != np.roll(signs, 1)) == 8   # eight lobes around the circle
    assert (signs > 0).mean() == pytest.approx(0.5, abs=1e-3)  # four positive, four negative
    text = prose("01")
    assert "four lobes" not in text and "eight lobes, four positive and four\nnegative" in text


def test_ch01_paths_figure_t_is_the_x_coordinate_not_the_distance():
    point = sp.Matrix([t, m * t])
    assert sp.simplify(point.norm() - sp.Abs(t) * sp.sqrt(1 + m**2)) == 0
    text = prose("01")
    assert "distance $t$ to the origin" not in text
    assert "$x$-coordinate $t$" in text and "t \\sqrt{1 + m^2}" in text
    fig = partials.paths_figure(lambda a, b: a, slopes=(0.0, 2.0))   # k = x plots t itself
    ax = fig.axes[1]
    for line in ax.lines:
        assert np.allclose(line.get_ydata(), line.get_xdata())
    assert "distance" not in ax.get_xlabel() and "$x$-coordinate" in ax.get_xlabel()
    assert "the x-coordinate of the point" in partials.paths_figure.__doc__
    plt.close(fig)


def test_ch02_one_threshold_story_with_chapter_08():
    (table,) = [c.source for c in cells("08") if "| relative error | verdict |" in c.source]
    assert "| below $10^{-7}$ |" in table and "| above $10^{-4}$ | a bug |" in table
    rng = np.random.default_rng(0)   # the chapter's cell
    A, a, b, x0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    correct = [relative_error(a, numerical_gradient(lambda v: a @ v, x0)),
               relative_error((A + A.T) @ x0, numerical_gradient(lambda v: v @ A @ v, x0)),
               relative_error(2 * A.T @ (A @ x0 - b), numerical_gradient(lambda v: np.sum((A @ v - b) ** 2), x0))]
    shortcut = relative_error(2 * A @ x0, numerical_gradient(lambda v: v @ A @ v, x0))
    assert max(correct) < 1e-10                           # "here below 1e-10" (round-off: digits vary)
    assert shortcut > 1e3 * 1e-4 and round(shortcut, 1) == 0.2   # "more than three orders of magnitude above"
    text = prose("02")
    assert "few percent" not in text
    assert "above\n$10^{-4}$ a bug" in text or "above $10^{-4}$ a bug" in text
