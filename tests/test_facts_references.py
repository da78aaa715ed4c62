"""Numbers of the material added from the best references (issue 14, section 3), recomputed."""

import numpy as np
import pytest

from nablakit import depth as dp
from nablakit import optimizers as opt
from nablakit.selfcheck import QUESTIONS
from nablakit.testfunctions import ravine


# ---- loss landscapes §3: one step seen to second order, and one Newton step


def test_second_order_view_numbers():
    L10, theta = ravine(kappa=10), np.array([-2.0, 1.0])
    g, H = L10.grad(theta), L10.hessian(theta)
    assert L10.f(theta) == 14.0 and np.allclose(g, [-4.0, 20.0])
    assert g @ g == 416.0 and g @ H @ g == 8032.0
    eps = dp.best_step_size(g, H)
    assert eps == pytest.approx(416 / 8032) and round(eps, 4) == 0.0518 and round(2 * eps, 4) == 0.1036
    assert 1 / np.linalg.eigvalsh(H).max() == 0.05 and eps > 0.05
    printed = {0.5: 5.92, 1.0: 3.23, 2.0: 14.0}
    for factor, value in printed.items():
        step = factor * eps
        model = L10.f(theta) - step * g @ g + 0.5 * step**2 * g @ H @ g
        assert L10.f(theta - step * g) == pytest.approx(model, abs=1e-12)   # exact on a quadratic
        assert round(float(L10.f(theta - step * g)), 2) == value
    new = theta - dp.newton_step(g, H)
    assert np.allclose(new, 0.0) and float(L10.f(new)) == pytest.approx(0.0, abs=1e-24)


def test_newton_cost_numbers():
    n = 10**6
    assert n**2 == 10**12 and n**2 * 8 == 8 * 10**12   # 8 terabytes of float64


def test_gd_needs_40_steps_at_kappa_10_where_newton_needs_one():
    L = ravine(kappa=10)
    H = L.hessian(np.zeros(2))
    path = opt.gradient_descent(L.grad, [-2.0, 1.0], 0.9 * dp.max_stable_lr(H), 200)
    losses = np.array([L.f(p) for p in path])
    below = losses < 1e-6
    first = int(np.flatnonzero(below)[0])
    assert below[first:].all() and first == 40


# ---- loss landscapes §4: the update equations and Adam's first step


def test_update_equations_match_the_package():
    grad = ravine(kappa=10).grad
    theta0, eta = np.array([-2.0, 1.0]), 0.01
    paths = {"momentum": opt.momentum(grad, theta0, eta, 3, beta=0.9),
             "rmsprop": opt.rmsprop(grad, theta0, eta, 3, rho=0.9),
             "adam": opt.adam(grad, theta0, eta, 3)}
    th, v = theta0.copy(), 0.0
    for t in range(1, 4):
        v = 0.9 * v + grad(th)
        th = th - eta * v
        assert np.allclose(paths["momentum"][t], th)
    th, s = theta0.copy(), 0.0
    for t in range(1, 4):
        g = grad(th)
        s = 0.9 * s + 0.1 * g**2
        th = th - eta * g / (np.sqrt(s) + 1e-8)
        assert np.allclose(paths["rmsprop"][t], th)
    th, m, v = theta0.copy(), 0.0, 0.0
    for t in range(1, 4):
        g = grad(th)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        th = th - eta * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert np.allclose(paths["adam"][t], th)


def test_adam_first_step_is_about_eta_per_coordinate():
    rng = np.random.default_rng(0)
    for _ in range(20):
        g0 = rng.normal(size=5) * 10.0 ** rng.uniform(-4, 4, size=5)
        step = opt.adam(lambda th: g0, np.zeros(5), 0.1, 1)[1]
        assert np.allclose(step, -0.1 * np.sign(g0), rtol=1e-3)
    first = opt.adam(ravine(kappa=10).grad, [-2.0, 1.0], 0.1, 1)[1]
    assert np.allclose(first, [-1.9, 0.9], rtol=1e-9)
    assert QUESTIONS["09.adam-first-step"].expected == pytest.approx(tuple(first), rel=1e-9)
    # the note: gradient descent would have moved w2 five times further than w1
    assert abs(20.0) / abs(-4.0) == 5.0


# ---- loss landscapes §7: the gradient norm rises while the loss falls (blue run)


def test_gradient_norm_rises_while_loss_falls():
    from nablakit import training as tr
    from nablakit.networks import init_mlp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(64, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=64)
    _, history = tr.train_mlp(init_mlp(1, 16, 1, rng=1), X, y, 0.1, 600, batch_size=None, rng=2)
    loss, norm = np.array(history["loss"]), np.array(history["grad_norm"])
    assert np.all(np.diff(loss[15:147]) < 0)
    assert loss[[15, 146]] == pytest.approx([0.149, 0.092], abs=5e-4)   # stated to three decimals
    assert norm[[15, 146]] == pytest.approx([0.055, 0.073], abs=5e-4)
    assert norm[146] / norm[15] == pytest.approx(4 / 3, abs=0.03)   # "rises by a third"


# ---- training time §4: bfloat16 against float16 (range versus precision)


def test_bfloat16_against_float16_numbers():
    from nablakit import training as tr
    from nablakit.precision import BFLOAT16, bfloat16_roundtrip

    f16 = np.finfo(np.float16)
    assert float(f16.eps) == 2.0**-10 and f16.nmant == 10 and f16.nexp == 5
    assert round(float(f16.eps), 3) == 0.001 and float(f16.max) == 65504.0
    assert float(f16.smallest_normal) == pytest.approx(6.1e-5, rel=0.01)
    assert BFLOAT16["eps"] == 2.0**-7 and round(BFLOAT16["eps"], 3) == 0.008
    assert BFLOAT16["max"] == pytest.approx(3.4e38, rel=0.01)
    assert BFLOAT16["smallest_normal"] == pytest.approx(1.2e-38, rel=0.02)
    f32 = np.finfo(np.float32)
    assert BFLOAT16["smallest_normal"] == float(f32.smallest_normal) and f32.nexp == 8   # float32's exponent
    # the emulation against the format's own numbers
    assert bfloat16_roundtrip([1 + 2.0**-7])[0] == 1 + 2.0**-7 and bfloat16_roundtrip([1 + 2.0**-9])[0] == 1.0
    assert bfloat16_roundtrip([BFLOAT16["max"]])[0] == BFLOAT16["max"]
    assert bfloat16_roundtrip([BFLOAT16["smallest_normal"]])[0] == BFLOAT16["smallest_normal"]
    values = np.array([2e-8, 1e-3, 1.001, 60000.0])
    half, brain = tr.float16_roundtrip(values), bfloat16_roundtrip(values)
    assert half[0] == 0.0 and abs(half[2] - 1.001) < 3e-5 and round(half[2], 5) == 1.00098
    assert round(brain[0] / 1e-8, 3) == 2.002 and brain[2] == 1.0 and brain[3] == 59904.0
    assert half[3] == 60000.0


def test_bfloat16_emulation_is_round_to_nearest_even():
    from nablakit.precision import bfloat16_roundtrip

    rng = np.random.default_rng(5)
    x = rng.normal(size=2000) * 10.0 ** rng.uniform(-30, 30, size=2000)
    out = bfloat16_roundtrip(x)
    x32 = x.astype(np.float32).astype(np.float64)
    # a bfloat16 number has at most 8 significant bits
    m, _ = np.frexp(out)
    assert np.all((m * 2**8) == np.round(m * 2**8))
    # and it is the nearest one to the float32 value: error at most half a spacing 2**(e - 8)
    _, e = np.frexp(x32)
    assert np.all(np.abs(out - x32) <= 2.0 ** (e - 8) / 2 * (1 + 1e-12))
    assert bfloat16_roundtrip([1 + 2.0**-8])[0] == 1.0                       # a tie goes to the even neighbour
    assert bfloat16_roundtrip([1 + 3 * 2.0**-8])[0] == 1 + 2 * 2.0**-7
    with pytest.raises(ValueError, match="finite"):
        bfloat16_roundtrip([np.inf])
    with pytest.raises(ValueError, match="float32"):
        bfloat16_roundtrip([1e39])


# ---- training time §5: KL(p_theta || p_theta+delta) ~ 1/2 delta^T F delta


def test_kl_is_half_the_fisher_quadratic_form():
    from nablakit import training as tr
    from nablakit.information import gaussian_kl, gaussian_pdf, kl_divergence

    x = np.linspace(-5, 7, 24_001)
    F = tr.gaussian_fisher(0.5)
    assert np.allclose(F, np.diag([4.0, 8.0]))
    ratios = []
    for size in (0.1, 0.01, 0.001):
        d = size * np.array([1.0, -0.5])
        kl = kl_divergence(gaussian_pdf(x, 1.0, 0.5), gaussian_pdf(x, 1.0 + d[0], 0.5 + d[1]), x)
        assert kl == pytest.approx(gaussian_kl(1.0, 0.5, 1.0 + d[0], 0.5 + d[1]), rel=1e-8)
        ratios.append(kl / (0.5 * d @ F @ d))
    assert [round(r, 4) for r in ratios] == [1.2205, 1.0192, 1.0019]
    assert [round(ratios[0], 2), round(ratios[1], 3), round(ratios[2], 4)] == [1.22, 1.019, 1.0019]
    gaps = np.array(ratios) - 1
    assert np.all((gaps[:-1] / gaps[1:] > 8) & (gaps[:-1] / gaps[1:] < 12))   # "shrinks tenfold"


def test_kl_symbolic_hessian_is_the_fisher():
    import sympy as sp

    mu, s, dm, ds = sp.symbols("mu sigma dmu dsigma", positive=True)
    sq = s + ds
    kl = sp.log(sq / s) + (s**2 + dm**2) / (2 * sq**2) - sp.Rational(1, 2)
    H = sp.hessian(kl, (dm, ds)).subs({dm: 0, ds: 0})
    assert sp.simplify(H - sp.diag(1 / s**2, 2 / s**2)) == sp.zeros(2, 2)


def test_information_errors():
    from nablakit.information import gaussian_kl, gaussian_pdf, kl_divergence

    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="increasing"):
        kl_divergence(np.ones(5), np.ones(5), x[::-1])
    with pytest.raises(ValueError, match="infinite"):
        kl_divergence(np.ones(5), np.zeros(5), x)
    with pytest.raises(ValueError, match="negative"):
        kl_divergence(-np.ones(5), np.ones(5), x)
    with pytest.raises(ValueError):
        gaussian_kl(0.0, -1.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        gaussian_pdf(0.0, 0.0, 0.0)


# ---- welcome: the prerequisite self-test


def test_prerequisite_self_test_answers():
    import sympy as sp

    x, h = sp.symbols("x h")
    f = x**3
    estimate = (f + h * sp.diff(f, x)).subs({x: 2, h: sp.Rational(1, 100)})
    assert estimate == sp.Rational(812, 100) and QUESTIONS["00.taylor"].expected == pytest.approx(8.12)
    true = f.subs(x, sp.Rational(201, 100))
    assert float(true) == pytest.approx(8.120601) and float(true - estimate) == pytest.approx(3 * 2 * 0.01**2, rel=0.02)
    A, v = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    assert tuple(A @ v) == QUESTIONS["00.matvec"].expected == (-1.0, -1.0)
    assert tuple(A.T @ v) == QUESTIONS["00.transpose"].expected == (-2.0, -2.0)
    for key in ("00.taylor", "00.matvec", "00.transpose"):
        assert "To revise" in QUESTIONS[key].hint


# ---- gradient checking: regularisation off first (a data-loss bug hidden by the penalty)


def test_penalty_hides_a_data_loss_bug():
    from pathlib import Path

    import nbformat

    from nablakit import gradcheck, networks, numdiff

    path = next((Path(__file__).resolve().parents[1] / "course").glob("*-gradient-checking.ipynb"))
    nb = nbformat.read(path, as_version=4)
    ns = {"np": np, "gradcheck": gradcheck, "networks": networks, "numdiff": numdiff}
    for cell in nb.cells:
        if cell.cell_type == "code" and "facts" in cell.metadata.get("tags", []):
            exec(compile(cell.source, str(path.name), "exec"), ns)
    errors = ns["penalty_errors"]
    assert errors[0.0] == pytest.approx(1.0, abs=1e-9)                 # a sign flip scores exactly 1
    assert errors[0.0] > errors[0.1] > errors[10.0] > errors[1000.0]
    assert errors[10.0] * 10 == pytest.approx(errors[1000.0] * 1000, rel=0.05)   # roughly like 1/lambda
    assert errors[1000.0] == pytest.approx(4e-4, rel=0.1) and errors[1000.0] > 1e-4   # "about 4e-4", near the border


def test_rmsprop_first_step_is_about_3_eta():
    rng = np.random.default_rng(1)
    for _ in range(10):
        g0 = rng.normal(size=4) * 10.0 ** rng.uniform(-3, 3, size=4)
        step = opt.rmsprop(lambda th: g0, np.zeros(4), 0.1, 1, rho=0.9)[1]
        assert np.allclose(np.abs(step), 0.1 / np.sqrt(1 - 0.9), rtol=1e-4)
    assert round(1 / np.sqrt(0.1), 1) == 3.2
