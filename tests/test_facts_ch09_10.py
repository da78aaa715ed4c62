"""Every number stated in the text of chapters 09 and 10, recomputed independently where possible."""

import math
from pathlib import Path

import numpy as np
import pytest

from nablakit import training as tr


# =========================================================================== chapter 10

# ---- §1 clipping


def test_ch10_global_norm_example():
    grads = [np.array([[4.0, -2.0], [0.0, 4.0]]), np.array([8.0, 0.0])]
    clipped, total = tr.clip_by_global_norm(grads, max_norm=1.0)
    assert total == pytest.approx(math.sqrt(16 + 4 + 0 + 16 + 64 + 0)) and total == pytest.approx(10.0)
    assert all(np.allclose(c, g / 10) for c, g in zip(clipped, grads))


def test_ch10_value_clipping_angles():
    g = np.array([10.0, 0.1])
    assert tr.angle_between(g, tr.clip_by_value(g, 1.0)) == pytest.approx(5.1, abs=0.05)
    # the second coordinate's share g2/g1 grows tenfold: 0.01 -> 0.1
    v = tr.clip_by_value(g, 1.0)
    assert (v[1] / v[0]) / (g[1] / g[0]) == pytest.approx(10.0)
    (n,), _ = tr.clip_by_global_norm([g], 1.0)
    assert tr.angle_between(g, n) == pytest.approx(0.0, abs=1e-9)


def test_ch10_widget_caption_angles():
    g = np.array([4.0, 1.0])
    for c in (0.3, 0.7, 1.0):
        assert np.allclose(tr.clip_by_value(g, c), [c, c])
        assert tr.angle_between(g, [c, c]) == pytest.approx(31.0, abs=0.05)
    for c in (1.5, 3.0):
        assert np.allclose(tr.clip_by_value(g, c), [c, 1.0])
    for c in (4.0, 5.0):
        assert tr.angle_between(g, tr.clip_by_value(g, c)) == pytest.approx(0.0, abs=1e-9)


def test_ch10_try_it_value_clip_angle():
    g = np.array([3.0, -0.5])
    expected = math.degrees(math.atan(0.5) - math.atan(0.5 / 3))
    assert tr.angle_between(g, tr.clip_by_value(g, 1.0)) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(17.1, abs=0.05)


# ---- §2 accumulation


@pytest.fixture
def regression10():
    rng = np.random.default_rng(0)
    return rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)


def test_ch10_accumulation_numbers(regression10):
    X, y, w = regression10
    sizes = [s.stop - s.start for s in tr.micro_batch_slices(10, 4)]
    assert sizes == [4, 4, 2] and np.allclose(np.array(sizes) / 10, [0.4, 0.4, 0.2])
    full = 2 / 10 * X.T @ (X @ w - y)
    # "a few times 1e-16 at most, or exactly 0": the summation order of the BLAS differs between machines
    assert np.abs(tr.accumulated_mse_gradient(X, y, w, 4) - full).max() < 1e-15
    rel = np.linalg.norm(tr.equal_weight_mse_gradient(X, y, w, 4) - full) / np.linalg.norm(full)
    assert round(100 * rel) == 19
    assert np.allclose(tr.equal_weight_mse_gradient(X, y, w, 5), full, rtol=1e-12, atol=1e-14)


def test_ch10_try_it_last_weight():
    sizes = [s.stop - s.start for s in tr.micro_batch_slices(10, 3)]
    assert sizes == [3, 3, 3, 1]
    assert sizes[-1] / 10 == pytest.approx(0.1) and 1 / len(sizes) == pytest.approx(0.25)


# ---- §3 checkpointing


def test_ch10_checkpoint_numbers_for_100_layers():
    rows = {r["strategy"]: r for r in tr.checkpoint_table(100)}
    assert (rows["store all"]["memory"], rows["store all"]["compute"]) == (100, 100)
    sq = rows["sqrt(n) checkpoints"]
    assert (sq["memory"], sq["compute"]) == (19, 190)
    assert 100 / sq["memory"] == pytest.approx(5, rel=0.06) and sq["compute"] - 100 == 90
    rc = rows["recompute all"]
    assert (rc["memory"], rc["compute"]) == (2, 100 + 100 * 99 // 2) and rc["compute"] == 5050
    assert rc["compute_ratio"] == pytest.approx(50.5)


def test_ch10_checkpoint_growth_rates():
    ns = np.unique(np.geomspace(1, 1000, 60).astype(int))
    for n in ns:
        rows = {r["strategy"]: r for r in tr.checkpoint_table(int(n))}
        sq = rows["sqrt(n) checkpoints"]
        assert sq["compute"] <= 2 * n, "sqrt(n) compute never more than twice the baseline"
        assert sq["memory"] <= 2 * math.ceil(math.sqrt(n)), "about 2 sqrt(n) memory"
    big = np.array([200, 400, 600, 800, 1000])
    tables = [{r["strategy"]: r for r in tr.checkpoint_table(int(n))} for n in big]

    def slope(key, field):
        vals = np.array([t[key][field] for t in tables], dtype=float)
        return np.polyfit(np.log(big), np.log(vals), 1)[0]

    assert slope("store all", "memory") == pytest.approx(1.0, abs=0.01)
    assert slope("sqrt(n) checkpoints", "memory") == pytest.approx(0.5, abs=0.05)
    assert slope("recompute all", "memory") == pytest.approx(0.0, abs=1e-9)
    assert slope("sqrt(n) checkpoints", "compute") == pytest.approx(1.0, abs=0.02)
    assert slope("recompute all", "compute") == pytest.approx(2.0, abs=0.02)


# ---- §4 float16


def test_ch10_float16_format_and_exact_scaling():
    info = np.finfo(np.float16)
    assert (info.nexp, info.nmant) == (5, 10), "5 exponent bits, 10 fraction bits"
    assert tr.float16_roundtrip([65519.0])[0] == 65504.0 and np.isinf(tr.float16_roundtrip([65520.0])[0])
    x = np.random.default_rng(3).normal(size=1000) * 1e-6
    assert np.array_equal((x * 2.0**16) / 2.0**16, x), "scaling by a power of two is exact"


def test_ch10_float16_range():
    info = np.finfo(np.float16)
    assert float(info.smallest_subnormal) == 2.0**-24 == pytest.approx(5.96e-8, rel=1e-3)
    assert float(info.smallest_normal) == 2.0**-14 == pytest.approx(6.1e-5, rel=1e-2)
    assert float(info.max) == 65504.0
    assert 2.0**-25 == pytest.approx(3e-8, rel=0.01)
    assert tr.float16_roundtrip([0.99 * 2.0**-25])[0] == 0.0


def test_ch10_four_small_gradients():
    small = np.array([1e-3, 1e-6, 1e-7, 1e-8])
    back = tr.float16_roundtrip(small)
    rel = np.abs(back - small) / small
    assert rel[0] <= 2.0**-11
    assert rel[1] == pytest.approx(0.01, abs=0.005)
    assert back[2] == pytest.approx(1.19e-7, rel=5e-3) and back[2] == 2 * 2.0**-24 and rel[2] == pytest.approx(0.19, abs=0.005)
    assert back[3] == 0.0
    scaled = tr.float16_roundtrip(small, scale=2.0**16)
    assert np.all(np.abs(scaled - small) / small <= 2.0**-11)
    assert 2.0**-11 == pytest.approx(5e-4, rel=0.03)


def test_ch10_loss_scaling_population():
    g = 10.0 ** np.random.default_rng(1).uniform(-10, -1, size=20_000)
    assert round(100 * tr.underflow_fraction(g, 1.0)) == 28
    assert tr.overflow_fraction(g, 1.0) == 0.0
    assert tr.underflow_fraction(g, 2.0**16) == 0.0 and tr.overflow_fraction(g, 2.0**16) == 0.0
    assert tr.underflow_fraction(g, 2.0**24) == 0.0
    assert round(100 * tr.overflow_fraction(g, 2.0**24)) == 16
    assert 65504 / 2.0**24 == pytest.approx(0.004, rel=0.03)
    # independent count: entries above the overflow threshold (65504 plus half a float16 step)
    assert tr.overflow_fraction(g, 2.0**24) == pytest.approx(np.mean(g * 2.0**24 >= 65520), abs=1e-4)


def test_ch10_float16_figure_statements():
    mags = np.geomspace(1e-10, 0.5, 20_000).reshape(400, 50)
    centres = np.sqrt(mags[:, 0] * mags[:, -1])
    err0 = (np.abs(tr.float16_roundtrip(mags) - mags) / mags).max(axis=1)
    err16 = (np.abs(tr.float16_roundtrip(mags, 2.0**16) - mags) / mags).max(axis=1)
    normal = mags[:, 0] >= 2.0**-14
    assert np.all(err0[normal] <= 2.0**-11 * 1.0001)
    assert np.all(err0[mags[:, -1] < 2.9e-8] == 1.0)
    assert np.all(err16[mags[:, 0] >= 1e-9] < 1e-3)
    assert centres[0] > 1e-10 and centres[-1] < 0.5
    assert np.array_equal(err0[normal], err16[normal]), "in the normal range the two curves are the same"
    c, worst = tr.float16_error_envelope(mags.ravel(), 2.0**16, per_bin=50)
    assert np.allclose(c, centres) and np.array_equal(worst, err16), "the helper the notebook uses"


def test_ch10_try_it_loss_scale_exponent():
    k = math.ceil(math.log2(2.0**-14 / 2e-9))
    assert k == 15
    assert 2.0**-14 / 2e-9 == pytest.approx(30500, rel=0.01)
    assert 2**14 < 2.0**-14 / 2e-9 < 2**15


# ---- §5 natural gradient


@pytest.fixture(scope="module")
def sample10():
    return np.random.default_rng(0).normal(1.0, 0.5, size=200)


def test_ch10_fisher_monte_carlo():
    sigma = 0.5
    z = np.random.default_rng(2).normal(size=200_000)
    scores = np.stack([z / sigma, (z**2 - 1) / sigma])
    estimate = scores @ scores.T / z.size
    assert np.allclose(tr.gaussian_fisher(0.5), np.diag([4.0, 8.0]))
    assert np.allclose(estimate, np.diag([4.0, 8.0]), rtol=0.02, atol=0.1)


def test_ch10_moments_behind_the_fisher():
    import sympy as sp

    z = sp.Symbol("z", real=True)
    phi = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    E = lambda expr: sp.integrate(expr * phi, (z, -sp.oo, sp.oo))  # noqa: E731
    assert E(z**2) == 1 and E((z**2 - 1) ** 2) == 2 and E(z * (z**2 - 1)) == 0


def test_ch10_mle_and_stable_step(sample10):
    data = sample10
    mle = np.array([data.mean(), data.std()])
    assert np.allclose(mle, [1.008, 0.481], atol=5e-4)
    assert round(mle[1] ** 2, 2) == 0.23
    # curvature of the average log-likelihood at the MLE is -diag(1/s^2, 2/s^2), by finite differences
    f = lambda t: tr.gaussian_loglik(data, t[0], t[1]) / data.size  # noqa: E731
    h = 1e-4
    H = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            H[i, j] = (f(mle + ei + ej) - f(mle + ei - ej) - f(mle - ei + ej) + f(mle - ei - ej)) / (4 * h * h)
    assert np.allclose(H, -tr.gaussian_fisher(mle[1]), rtol=1e-4, atol=1e-4)
    assert 2 / np.linalg.eigvalsh(-H).max() == pytest.approx(mle[1] ** 2, rel=1e-4)


def test_ch10_widget_caption_step_counts(sample10):
    data = sample10
    mle = np.array([data.mean(), data.std()])

    def settle(path):
        return tr.steps_to_settle(path, mle, 1e-3)

    gd = {lr: tr.gaussian_gd_path(data, [-1.0, 2.0], lr, 300) for lr in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)}
    ngd = {lr: tr.gaussian_ngd_path(data, [-1.0, 2.0], lr, 300) for lr in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)}
    assert (settle(gd[0.1]), settle(ngd[0.1])) == (55, 87)
    assert settle(gd[0.2]) == 30
    for lr in (0.25, 0.5, 1.0):
        assert settle(gd[lr]) is None
    # at 0.25 it bounces around the maximum: close in mu, oscillating in sigma
    tail = gd[0.25][-20:]
    assert np.allclose(tail[:, 0], mle[0], atol=1e-6) and np.ptp(tail[:, 1]) > 0.01
    assert np.nanmax(np.abs(gd[1.0][:81])) > 10, "at eta = 1 plain ascent flies off"
    assert all(settle(ngd[lr]) is not None for lr in ngd)
    assert settle(ngd[1.0]) == 5
    # natural gradient: stable below 2, not above
    assert settle(tr.gaussian_ngd_path(data, [-1.0, 2.0], 1.9, 300)) is not None
    assert settle(tr.gaussian_ngd_path(data, [-1.0, 2.0], 2.1, 300)) is None


def test_ch10_natural_gradient_one_step_and_heron(sample10):
    data = sample10
    path = tr.gaussian_ngd_path(data, [-1.0, 2.0], 1.0, 6)
    assert path[1, 0] == pytest.approx(data.mean(), abs=1e-12)
    v = data.var()
    errors = np.abs(path[1:, 1] - math.sqrt(v))
    for t in range(1, 6):
        assert path[t + 1, 1] == pytest.approx(0.5 * (path[t, 1] + v / path[t, 1]), rel=1e-12)
    # quadratic convergence: the error is (roughly) squared each step once it is small
    assert errors[3] <= errors[2] ** 2 / (2 * math.sqrt(v)) * 1.01


def test_ch10_units(sample10):
    data = sample10
    ngd = tr.gaussian_ngd_path(data, [-1.0, 2.0], 0.5, 20)
    assert np.allclose(tr.gaussian_ngd_path(10 * data, [-10.0, 20.0], 0.5, 20), 10 * ngd)
    assert (10 * data).std() ** 2 == pytest.approx(100 * data.std() ** 2)


# =========================================================================== chapter 09

from nablakit import depth as dp  # noqa: E402
from nablakit import optimizers as opt  # noqa: E402
from nablakit import testfunctions as tfn  # noqa: E402


# ---- §1 critical points


def test_ch09_critical_points_of_the_cubic():
    import sympy as sp

    t1, t2 = sp.symbols("theta1 theta2", real=True)
    f = t1**3 - 3 * t1 + t2**2
    points = sp.solve([sp.diff(f, t1), sp.diff(f, t2)], [t1, t2], dict=True)
    assert sorted((p[t1], p[t2]) for p in points) == [(-1, 0), (1, 0)]
    H = sp.hessian(f, (t1, t2))
    assert H == sp.Matrix([[6 * t1, 0], [0, 2]])
    at_min = np.array(H.subs({t1: 1, t2: 0}), dtype=float)
    at_saddle = np.array(H.subs({t1: -1, t2: 0}), dtype=float)
    assert np.allclose(np.linalg.eigvalsh(at_min), [2, 6]) and dp.classify_critical_point(at_min) == "minimum"
    assert np.allclose(np.linalg.eigvalsh(at_saddle), [-6, 2]) and dp.classify_critical_point(at_saddle) == "saddle"
    assert sp.limit(f.subs(t2, 0), t1, -sp.oo) == -sp.oo  # keeps dropping to the left


def test_ch09_numerical_hessians_match_the_exact_ones():
    from nablakit.numdiff import numerical_gradient, numerical_hessian

    def f(theta):
        return theta[0] ** 3 - 3 * theta[0] + theta[1] ** 2

    for point, eigenvalues, kind in (((1.0, 0.0), [2, 6], "minimum"), ((-1.0, 0.0), [-6, 2], "saddle")):
        H = numerical_hessian(f, np.array(point))
        assert np.allclose(H, np.diag([6 * point[0], 2.0]), atol=1e-6), "diag(6 theta1, 2)"
        assert np.allclose(np.linalg.eigvalsh(H).round(6), eigenvalues)
        assert np.allclose(numerical_gradient(f, np.array(point)).round(8), 0.0)
        assert dp.classify_critical_point(H) == kind
    grid = np.random.default_rng(0).normal(size=(2, 3, 4))
    assert f(grid).shape == (3, 4), "f takes a whole grid at once"


def test_ch09_degenerate_examples_share_a_hessian():
    import sympy as sp

    x, y = sp.symbols("x y")
    for f in (x**2 + y**4, x**2 - y**4):
        assert sp.hessian(f, (x, y)).subs({x: 0, y: 0}) == sp.diag(2, 0)
    assert dp.classify_critical_point(np.diag([2.0, 0.0])) == "degenerate"
    assert dp.classify_critical_point(np.diag([2.0, -2.0])) == "saddle"


# ---- §2 saddle


def test_ch09_saddle_numbers():
    L = tfn.saddle()
    plain = opt.gradient_descent(L.grad, [1.0, 0.0], 0.1, 200)
    assert plain[-1, 1] == 0.0 and plain[-1, 0] == pytest.approx(0.8**200) and 0.8**200 == pytest.approx(4e-20, rel=0.05)
    assert np.log(1e6) / np.log(1.2) == pytest.approx(75.8, abs=0.05)
    nudged = opt.gradient_descent(L.grad, [1.0, 1e-6], 0.1, 100)
    noisy = opt.noisy_gd(L.grad, [1.0, 0.0], 0.1, 100, noise_std=0.01, rng=0)
    first = lambda p: int(np.flatnonzero(np.abs(p[:, 1]) > 1)[0])  # noqa: E731
    assert first(nudged) == 76 and first(noisy) == 45
    assert np.allclose(nudged[1:10, 1] / nudged[:9, 1], 1.2)
    assert 0.1 * 0.01 == pytest.approx(1e-3)


# ---- §3 ravine


def test_ch09_ravine_factors_and_limits():
    expected = {1: (1.0, [0.8, 0.8]), 10: (0.1, [0.82, 0.8]), 100: (0.01, [0.982, 0.8])}
    for kappa, (limit, factors) in expected.items():
        H = tfn.ravine(kappa=kappa).hessian(np.zeros(2))
        assert dp.max_stable_lr(H) == pytest.approx(limit)
        assert np.allclose(dp.gd_contraction(H, 0.9 * limit)[1], factors)
    # best flat-direction factor 1 - 2 eta at eta just below 1/kappa: about 1 - 2/kappa
    assert 1 - 2 * (1 / 100) == pytest.approx(0.98)
    assert dp.max_stable_lr(tfn.ravine(kappa=25).hessian(np.zeros(2))) == pytest.approx(0.04)


def test_ch09_ravine_step_counts():
    def settle(path, tf):
        losses = tf.f(path.T)
        bad = np.flatnonzero(~(losses < 1e-6))
        return None if bad.size and bad[-1] == len(losses) - 1 else (int(bad[-1]) + 1 if bad.size else 0)

    for kappa, (n_gd, n_mom) in {1: (35, 147), 10: (40, 160), 100: (419, 176)}.items():
        tf = tfn.ravine(kappa=kappa)
        lr = 0.9 / kappa
        assert settle(opt.gradient_descent(tf.grad, [-2.0, 1.0], lr, 3000), tf) == n_gd
        assert settle(opt.momentum(tf.grad, [-2.0, 1.0], lr, 3000, beta=0.9), tf) == n_mom
    tf = tfn.ravine(kappa=100)
    assert settle(opt.gradient_descent(tf.grad, [-2.0, 1.0], 1.05 / 100, 3000), tf) is None
    assert settle(opt.momentum(tf.grad, [-2.0, 1.0], 1.05 / 100, 3000, beta=0.9), tf) is not None


# ---- §4 race (individual optimiser runs, independent of the widget's stacking)

RUNNERS = {"gradient descent": opt.gradient_descent, "momentum": opt.momentum, "RMSProp": opt.rmsprop, "Adam": opt.adam}
STARTS = {"rosenbrock": [(-1.5, 2.0), (-1.0, -0.5), (1.8, 3.2)], "beale": [(1.0, 1.5), (-2.0, 2.0), (2.0, -1.5)]}


def final_losses(name, optimizer, lr, steps, **kwargs):
    tf = tfn.get_test_function(name)
    out = []
    for s in STARTS[name]:
        last = RUNNERS[optimizer](tf.grad, s, lr, steps, **kwargs)[-1]
        out.append(float(tf.f(last)) if np.all(np.isfinite(last)) else np.nan)
    return np.array(out)


def test_ch09_rosenbrock_race_statements():
    gd = final_losses("rosenbrock", "gradient descent", 1e-3, 1500)
    assert np.all((gd > 0.06) & (gd < 0.7))
    assert np.isnan(final_losses("rosenbrock", "gradient descent", 3e-3, 1500)).sum() == 2
    assert np.all(final_losses("rosenbrock", "momentum", 1e-3, 1500) < 1e-4)
    assert np.all(final_losses("rosenbrock", "Adam", 0.1, 1500) < 1e-3)
    rms = final_losses("rosenbrock", "RMSProp", 0.1, 1500)
    assert np.all((rms > 0.5) & (rms < 2.0))


def test_ch09_rosenbrock_race_beta_statements():
    tf = tfn.rosenbrock()
    for s in STARTS["rosenbrock"]:  # beta = 0: momentum is gradient descent, step for step
        assert np.array_equal(opt.momentum(tf.grad, s, 1e-3, 1500, beta=0.0),
                              opt.gradient_descent(tf.grad, s, 1e-3, 1500))
    assert np.all(final_losses("rosenbrock", "momentum", 1e-3, 1500, beta=0.5) > 1e-3)
    high = final_losses("rosenbrock", "momentum", 1e-3, 1500, beta=0.99)
    assert np.isnan(high[1]) and STARTS["rosenbrock"][1] == (-1.0, -0.5)
    assert np.all(high[[0, 2]] < 1e-5)
    # the widget (which stacks the starts) shows the same
    from nablakit.widgets import landscapes as wl

    assert wl.RACE_BETAS == (0.0, 0.5, 0.9, 0.99)
    runs = wl.race_runs("rosenbrock", steps=1500, lrs=(1e-3,), optimizers=("momentum",), beta=0.99)
    _, losses = runs[("momentum", 1e-3)]
    assert np.isnan(losses[1, -1]) and np.all(losses[[0, 2], -1] < 1e-5)


def test_ch09_beale_race_statements():
    tf = tfn.beale()
    middle = STARTS["beale"][1]
    # the flat valley: almost every run from (-2, 2) ends far left of the minimum with loss near 1
    far = finite = 0
    for o in RUNNERS:
        for lr in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1):  # the widget's learning rates
            last = RUNNERS[o](tf.grad, middle, lr, 600)[-1]
            if np.all(np.isfinite(last)):
                finite += 1
                far += int(last[0] < 0)
    assert far >= 16 and finite - far == 2, "all but the two momentum runs end in the left valley"
    for lr in (3e-4, 1e-3):
        last = opt.momentum(tf.grad, middle, lr, 600)[-1]
        assert last[0] > 2.5 and tf.f(last) < 0.05
    adam = final_losses("beale", "Adam", 0.1, 600)
    assert adam[0] < 1e-3 and adam[2] < 1e-3


def test_ch09_beale_valley_floor():
    # along theta2 = 1 + s / |theta1|, theta1 -> -inf the residuals tend to c_i - i s; best s gives ~0.45
    c = np.array([1.5, 2.25, 2.625])
    i = np.arange(1, 4)
    s = (i @ c) / (i @ i)
    floor = float(np.sum((c - i * s) ** 2))
    assert floor == pytest.approx(0.45, abs=0.005)
    tf = tfn.beale()
    x = -1e4
    assert float(tf.f([x, 1 - s / x])) == pytest.approx(floor, abs=1e-3)


# ---- §5 gradient flow


def test_ch09_gradient_flow_numbers():
    tf = tfn.ravine(kappa=5)
    A = tf.hessian(np.zeros(2))
    start = np.array([-2.0, 1.0])
    for t in (0.1, 0.8):
        assert np.allclose(dp.quadratic_gradient_flow(A, start, [t])[0], [-2 * np.exp(-2 * t), np.exp(-10 * t)])
    exact = dp.quadratic_gradient_flow(A, start, [0.8])[0]
    etas = [0.16, 0.08, 0.04, 0.01]
    errors = [np.linalg.norm(opt.gradient_descent(tf.grad, start, eta, round(0.8 / eta))[-1] - exact) for eta in etas]
    assert errors[-1] < 0.01
    assert errors[2] / errors[3] == pytest.approx(4, rel=0.1), "error proportional to eta"
    assert 1 - 10 * 0.16 == pytest.approx(-0.6)
    assert dp.max_stable_lr(A) == pytest.approx(0.2)


# ---- §6 depth


def test_ch09_depth_numbers():
    a, g = dp.sigmoid_chain(20)
    assert 0.25**20 == pytest.approx(9e-13, rel=0.02)
    assert g[0] == pytest.approx(1.3e-13, rel=0.03)
    fixed = a[-1]
    assert fixed == pytest.approx(0.659, abs=5e-4) and 1 / (1 + np.exp(-fixed)) == pytest.approx(fixed, abs=1e-9)
    assert fixed * (1 - fixed) == pytest.approx(0.225, abs=5e-4)
    assert dp.sigmoid_chain(50)[1][0] == pytest.approx(4.5e-33, rel=0.02)
    assert 0.9**50 == pytest.approx(0.00515, rel=1e-3) and round(1.1**50) == 117
    assert dp.recurrence_grad_norms(dp.scaled_rotation(1.1), 30)[0] == pytest.approx(17.4, abs=0.05)


# ---- §7 diagnostic and §8 slice


@pytest.fixture(scope="module")
def network_runs():
    from nablakit import training as tr
    from nablakit.networks import init_mlp, n_params

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(64, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=64)
    p0 = init_mlp(1, 16, 1, rng=1)
    assert n_params(p0) == 49
    runs = {key: tr.train_mlp(p0, X, y, lr, 600, batch_size=bs, rng=2)
            for key, (lr, bs) in {"0.1": (0.1, None), "0.5": (0.5, None), "1.0": (1.0, None), "sgd": (0.1, 8)}.items()}
    return X, y, runs


def test_ch09_gradient_norm_diagnostic(network_runs):
    _, _, runs = network_runs
    G = runs["0.1"][1]["grad_norm"]
    assert G[0] == pytest.approx(3.3, abs=0.05) and G[10] < 0.08
    assert np.all((G[10:250] > 0.04) & (G[10:250] < 0.08))
    assert G[-1] == pytest.approx(0.007, abs=0.0005)
    G5 = runs["0.5"][1]["grad_norm"]
    assert any(G5[t] > 10 * G5[t - 5] for t in range(90, 111))
    L5 = runs["0.5"][1]["loss"]
    jumps = [t for t in range(5, 601) if L5[t] > 2 * L5[t - 5] and not L5[t - 1] > 2 * L5[t - 6]]
    assert len(jumps) >= 3, "recurring spikes"
    L1 = runs["1.0"][1]["loss"]
    assert np.flatnonzero(np.isnan(L1))[0] <= 10 and np.nanmax(L1) > 1e3
    Gs = runs["sgd"][1]["grad_norm"][100:]
    assert np.mean((Gs > 0.1) & (Gs < 0.7)) > 0.85
    assert runs["sgd"][1]["loss"][-1] == pytest.approx(runs["0.1"][1]["loss"][-1], rel=0.1)


def test_ch09_slice_statements(network_runs):
    from nablakit import training as tr
    from nablakit.landscape import filter_normalized_direction, plane_slice
    from nablakit.networks import flatten_params, mlp_loss

    X, y, runs = network_runs
    trained = runs["0.1"][0]

    def direction(seed):
        dW1, db1, dW2, db2 = filter_normalized_direction(
            [trained["W1"].T, trained["b1"], trained["W2"].T, trained["b2"]], seed)
        return flatten_params({"W1": dW1.T, "b1": db1, "W2": dW2.T, "b2": db2})

    ab = np.linspace(-1, 1, 41)
    center, d1, d2 = flatten_params(trained), direction(3), direction(4)
    Z = plane_slice(lambda th: tr.mlp_loss_stack(th, trained, X, y), center, d1, d2, ab, ab, batched=True)
    assert Z.shape == (41, 41) and Z.size == 1681
    assert Z[20, 20] == pytest.approx(mlp_loss(trained, X, y), rel=1e-12)
    assert Z.argmin() == 20 * 41 + 20, "the trained point is the lowest grid point"
    # filter normalisation: each unit's incoming-weight block of d has the norm of the weights
    W1_part = d1[:16].reshape(1, 16)
    assert np.allclose(np.linalg.norm(W1_part, axis=0), np.linalg.norm(trained["W1"], axis=0))
    # a discrete saddle near (0.65, 0): max along alpha, min along beta
    saddles = [(ab[i], ab[j]) for j in range(1, 40) for i in range(1, 40)
               if Z[j, i] < min(Z[j - 1, i], Z[j + 1, i]) and Z[j, i] > max(Z[j, i - 1], Z[j, i + 1])]
    assert any(abs(a - 0.65) <= 0.1 and abs(b) <= 0.1 for a, b in saddles)
    # a second valley on the left whose floor is almost as low
    left = Z[:, ab < -0.7]
    assert left.min() < 1.6 * Z[20, 20]


# ---- §3 ravine: momentum's coefficient, and the race's set-up


def ravine_settle(kappa, lr, beta, steps=3000):
    tf = tfn.ravine(kappa=kappa)
    path = opt.momentum(tf.grad, [-2.0, 1.0], lr, steps, beta=beta) if beta else \
        opt.gradient_descent(tf.grad, [-2.0, 1.0], lr, steps)
    return tr.first_settled(tf.f(path.T) < 1e-6)


def test_ch09_momentum_sums_to_one_over_one_minus_beta():
    g, v = 2.0, 0.0
    for _ in range(500):
        v = 0.9 * v + g
    assert v == pytest.approx(g / (1 - 0.9))


def test_ch09_momentum_coefficient_statements():
    assert ravine_settle(1, 0.9, 0.5) == 23 and ravine_settle(100, 0.9 / 100, 0.5) == 201
    assert all(ravine_settle(k, 0.9 / max(1, k), 0.99) > 1500 for k in (1, 2, 5, 10, 20, 50, 100))
    for kappa in (1, 2, 5, 10, 20, 50, 100):  # the fraction 1.05, at beta = 0.9
        lr = 1.05 / max(1, kappa)
        assert ravine_settle(kappa, lr, 0.0) is None, "gradient descent diverges"
        assert ravine_settle(kappa, lr, 0.9) is not None, "momentum still converges"


def test_ch09_widget_set_up_matches_the_text():
    import inspect

    from nablakit.widgets import landscapes as wl

    assert inspect.signature(wl.ravine_explorer).parameters["steps"].default == 200
    assert inspect.signature(wl.optimizer_race).parameters["steps"].default == 600  # Beale; Rosenbrock passes 1500
    assert all(len(starts) == 3 for starts in wl.RACE_STARTS.values())
    assert tuple(wl.RACE_OPTIMIZERS) == ("gradient descent", "momentum", "RMSProp", "Adam")


def test_ch09_beale_best_rates_from_the_other_starts():
    tf = tfn.beale()
    best = {"gradient descent": 1e-2, "momentum": 1e-3, "RMSProp": 1e-2, "Adam": 1e-1}
    for start in (STARTS["beale"][0], STARTS["beale"][2]):
        for name, lr in best.items():
            last = RUNNERS[name](tf.grad, start, lr, 600)[-1]
            assert tf.f(last) < 1e-3, (start, name)
        assert not np.all(np.isfinite(RUNNERS["gradient descent"](tf.grad, start, 0.1, 600)[-1]))
        for lr in (1e-2, 1e-1):
            assert not np.all(np.isfinite(RUNNERS["momentum"](tf.grad, start, lr, 600)[-1]))
        for name in RUNNERS:  # the smallest rate stalls on a plateau
            assert tf.f(RUNNERS[name](tf.grad, start, 1e-4, 600)[-1]) > 0.1


def test_ch09_flow_error_halves_with_the_step():
    tf = tfn.ravine(kappa=5)
    start = np.array([-2.0, 1.0])
    exact = dp.quadratic_gradient_flow(tf.hessian(np.zeros(2)), start, [0.8])[0]
    err = {eta: np.linalg.norm(opt.gradient_descent(tf.grad, start, eta, round(0.8 / eta))[-1] - exact)
           for eta in (0.08, 0.04, 0.02)}
    assert err[0.08] / err[0.04] == pytest.approx(2, rel=0.05) and err[0.04] / err[0.02] == pytest.approx(2, rel=0.05)


# ---- "Try it" answers stored in nablakit.selfcheck, recomputed independently


def test_ch09_10_stored_try_it_answers():
    import sympy as sp

    from nablakit.selfcheck import QUESTIONS

    def stored(name):
        return np.asarray(QUESTIONS[name].expected, dtype=float)

    t1, t2 = sp.symbols("t1 t2")
    g = t1**3 - 3 * t1 - t2**2
    assert sorted(sp.solve([sp.diff(g, t1), sp.diff(g, t2)], [t1, t2])) == [(-1, 0), (1, 0)]
    H = sp.hessian(g, (t1, t2))
    at = {p: sorted(float(e) for e in H.subs({t1: p[0], t2: p[1]}).eigenvals()) for p in ((-1, 0), (1, 0))}
    assert np.allclose(stored("09.hessian-eigenvalues"), at[(-1, 0)])
    assert dp.classify_critical_point(np.diag(at[(-1, 0)])) == "maximum"
    assert dp.classify_critical_point(np.diag(at[(1, 0)])) == "saddle"

    lam_max = max(sp.hessian(t1**2 + 25 * t2**2, (t1, t2)).eigenvals())
    assert stored("09.stable-lr") == pytest.approx(float(2 / lam_max))
    assert 1 - 0.04 * 50 == -1, "at the limit itself the steep direction flips sign forever"

    W = dp.scaled_rotation(1.1)
    assert stored("09.recurrence-factor") == pytest.approx(np.linalg.norm(np.linalg.matrix_power(W, 30), 2))
    assert stored("09.recurrence-factor") == pytest.approx(17.4, abs=0.05)

    g_try = np.array([3.0, -0.5])
    clipped = np.clip(g_try, -1.0, 1.0)
    cosine = g_try @ clipped / (np.linalg.norm(g_try) * np.linalg.norm(clipped))
    assert stored("10.value-clip-angle") == pytest.approx(np.degrees(np.arccos(cosine)), rel=1e-6)

    sizes = [len(range(10)[i:i + 3]) for i in range(0, 10, 3)]
    assert stored("10.last-weight") == pytest.approx(sizes[-1] / 10)

    k = next(k for k in range(64) if 2.0**k * 2e-9 >= 2.0**-14)
    assert stored("10.loss-scale-exponent") == k
    assert np.float16(2.0**k * 2e-9) >= np.finfo(np.float16).smallest_normal
    assert QUESTIONS["10.loss-scale-exponent"].close_rtol == 0.0, "an integer: 14 is wrong, not 'very close'"


def test_ch10_widget_set_up_matches_the_text():
    import inspect

    from nablakit.widgets import training as wt

    params = inspect.signature(wt.natural_gradient_paths).parameters
    assert params["shown"].default == 80 and params["tol"].default == 1e-3  # "first 80 steps", "within 1e-3"
    assert params["theta0"].default == (-1.0, 2.0)
    assert 0.1 in wt.NATURAL_LRS and 0.25 in wt.NATURAL_LRS and max(wt.NATURAL_LRS) == 1.0
    assert inspect.signature(wt.clipping_explorer).parameters["g"].default == (4.0, 1.0)


# =========================================================================== issue 21, section 4


def prose(number):
    """The markdown of chapter ``number`` (two digits), found by file name."""
    import nbformat

    (path,) = (Path(__file__).resolve().parents[1] / "course").glob(f"{number}-*.ipynb")
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_ch09_gradient_descent_diverges_from_two_starts_then_from_all_three():
    diverged = {lr: int(np.isnan(final_losses("rosenbrock", "gradient descent", lr, 1500)).sum())
                for lr in (1e-3, 3e-3, 1e-2, 1e-1)}
    assert diverged == {1e-3: 0, 3e-3: 2, 1e-2: 3, 1e-1: 3}
    text = prose("09")
    assert "on it diverges from two of the starts" not in text
    assert "it diverges from two of the starts, and from $\\eta = 10^{-2}$ on from all\n  three" in text


def test_ch09_best_step_bounds_need_a_positive_definite_hessian():
    g = np.array([1.0, 1.0])
    indefinite = np.diag([2.0, -1.0])                 # g^T H g = 1 > 0, but lambda_min < 0
    best = (g @ g) / (g @ indefinite @ g)
    lam = np.linalg.eigvalsh(indefinite)
    assert best >= 1 / lam.max()                      # the lower bound holds while g^T H g > 0 ...
    assert not best <= 1 / lam.min()                  # ... the upper one fails: 2 > -1
    rng = np.random.default_rng(0)
    for _ in range(200):                              # positive definite: both bounds hold
        B = rng.normal(size=(3, 3))
        H, v = B @ B.T + 0.1 * np.eye(3), rng.normal(size=3)
        lam = np.linalg.eigvalsh(H)
        best = (v @ v) / (v @ H @ v)
        assert 1 / lam.max() <= best * (1 + 1e-12) and best <= (1 / lam.min()) * (1 + 1e-12)
    text = prose("09")
    assert "when $H$ is positive definite ($\\lambda_{\\min} > 0$" in text


def test_ch09_adam_first_step_shrinks_for_gradients_near_epsilon():
    eta, eps = 0.1, 1e-8
    first = {}
    for g0 in (1e3, 1.0, 1e-5, 1e-8, 0.0):
        step = opt.adam(lambda th, g0=g0: np.array([g0]), np.zeros(1), eta, 1, eps=eps)[1]
        assert abs(step[0]) == pytest.approx(eta * abs(g0) / (abs(g0) + eps), rel=1e-12, abs=1e-300)
        first[g0] = abs(step[0])
    assert first[1e3] == pytest.approx(eta) and first[1.0] == pytest.approx(eta)   # about eta for large |g|
    assert first[1e-5] == pytest.approx(eta, rel=1e-3)                              # still, well above eps
    assert first[1e-8] == pytest.approx(eta / 2) and first[0.0] == 0.0              # not "however small"
    text = prose("09")
    assert "however large or small the\ngradient is" not in text and "up to $\\epsilon$" not in text
    assert "$|g| = \\epsilon = 10^{-8}$ the step is $\\eta/2$" in text
    assert "``lr / 2`` at ``|g| = eps``" in opt.adam.__doc__


@pytest.mark.parametrize("module", ["information", "depth", "regression"])
def test_helper_modules_name_the_chapter_that_imports_them(module):
    import importlib
    import re

    doc = importlib.import_module(f"nablakit.{module}").__doc__
    named = set(re.findall(r"[Cc]hapter (\d\d)", doc))
    course = Path(__file__).resolve().parents[1] / "course"
    users = {p.name[:2] for p in course.glob("[0-9][0-9]-*.ipynb")
             if re.search(rf"nablakit\.{module}\b|from nablakit import [^\n]*\b{module}\b", p.read_text())}
    assert named and named <= users, (module, named, users)
