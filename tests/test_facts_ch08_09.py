"""Every number stated in the text of chapters 08 and 09, recomputed independently where possible."""

import math

import numpy as np
import pytest

from nablakit import training as tr


# =========================================================================== chapter 09

# ---- §1 clipping


def test_ch09_global_norm_example():
    grads = [np.array([[4.0, -2.0], [0.0, 4.0]]), np.array([8.0, 0.0])]
    clipped, total = tr.clip_by_global_norm(grads, max_norm=1.0)
    assert total == pytest.approx(math.sqrt(16 + 4 + 0 + 16 + 64 + 0)) and total == pytest.approx(10.0)
    assert all(np.allclose(c, g / 10) for c, g in zip(clipped, grads))


def test_ch09_value_clipping_angles():
    g = np.array([10.0, 0.1])
    assert tr.angle_between(g, tr.clip_by_value(g, 1.0)) == pytest.approx(5.1, abs=0.05)
    # the second coordinate's share g2/g1 grows tenfold: 0.01 -> 0.1
    v = tr.clip_by_value(g, 1.0)
    assert (v[1] / v[0]) / (g[1] / g[0]) == pytest.approx(10.0)
    (n,), _ = tr.clip_by_global_norm([g], 1.0)
    assert tr.angle_between(g, n) == pytest.approx(0.0, abs=1e-9)


def test_ch09_widget_caption_angles():
    g = np.array([4.0, 1.0])
    for c in (0.3, 0.7, 1.0):
        assert np.allclose(tr.clip_by_value(g, c), [c, c])
        assert tr.angle_between(g, [c, c]) == pytest.approx(31.0, abs=0.05)
    for c in (1.5, 3.0):
        assert np.allclose(tr.clip_by_value(g, c), [c, 1.0])
    for c in (4.0, 5.0):
        assert tr.angle_between(g, tr.clip_by_value(g, c)) == pytest.approx(0.0, abs=1e-9)


def test_ch09_try_it_value_clip_angle():
    g = np.array([3.0, -0.5])
    expected = math.degrees(math.atan(0.5) - math.atan(0.5 / 3))
    assert tr.angle_between(g, tr.clip_by_value(g, 1.0)) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(17.1, abs=0.05)


# ---- §2 accumulation


@pytest.fixture
def regression09():
    rng = np.random.default_rng(0)
    return rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)


def test_ch09_accumulation_numbers(regression09):
    X, y, w = regression09
    sizes = [s.stop - s.start for s in tr.micro_batch_slices(10, 4)]
    assert sizes == [4, 4, 2] and np.allclose(np.array(sizes) / 10, [0.4, 0.4, 0.2])
    full = 2 / 10 * X.T @ (X @ w - y)
    assert np.abs(tr.accumulated_mse_gradient(X, y, w, 4) - full).max() < 1e-14
    rel = np.linalg.norm(tr.equal_weight_mse_gradient(X, y, w, 4) - full) / np.linalg.norm(full)
    assert round(100 * rel) == 19
    assert np.allclose(tr.equal_weight_mse_gradient(X, y, w, 5), full, rtol=1e-12, atol=1e-14)


def test_ch09_try_it_last_weight():
    sizes = [s.stop - s.start for s in tr.micro_batch_slices(10, 3)]
    assert sizes == [3, 3, 3, 1]
    assert sizes[-1] / 10 == pytest.approx(0.1) and 1 / len(sizes) == pytest.approx(0.25)


# ---- §3 checkpointing


def test_ch09_checkpoint_numbers_for_100_layers():
    rows = {r["strategy"]: r for r in tr.checkpoint_table(100)}
    assert (rows["store all"]["memory"], rows["store all"]["compute"]) == (100, 100)
    sq = rows["sqrt(n) checkpoints"]
    assert (sq["memory"], sq["compute"]) == (19, 190)
    assert 100 / sq["memory"] == pytest.approx(5, rel=0.06) and sq["compute"] - 100 == 90
    rc = rows["recompute all"]
    assert (rc["memory"], rc["compute"]) == (2, 100 + 100 * 99 // 2) and rc["compute"] == 5050
    assert rc["compute_ratio"] == pytest.approx(50.5)


def test_ch09_checkpoint_growth_rates():
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


def test_ch09_float16_range():
    info = np.finfo(np.float16)
    assert float(info.smallest_subnormal) == 2.0**-24 == pytest.approx(5.96e-8, rel=1e-3)
    assert float(info.smallest_normal) == 2.0**-14 == pytest.approx(6.1e-5, rel=1e-2)
    assert float(info.max) == 65504.0
    assert 2.0**-25 == pytest.approx(3e-8, rel=0.01)
    assert tr.float16_roundtrip([0.99 * 2.0**-25])[0] == 0.0


def test_ch09_four_small_gradients():
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


def test_ch09_loss_scaling_population():
    g = 10.0 ** np.random.default_rng(1).uniform(-10, -1, size=20_000)
    assert round(100 * tr.underflow_fraction(g, 1.0)) == 28
    assert tr.overflow_fraction(g, 1.0) == 0.0
    assert tr.underflow_fraction(g, 2.0**16) == 0.0 and tr.overflow_fraction(g, 2.0**16) == 0.0
    assert tr.underflow_fraction(g, 2.0**24) == 0.0
    assert round(100 * tr.overflow_fraction(g, 2.0**24)) == 16
    assert 65504 / 2.0**24 == pytest.approx(0.004, rel=0.03)
    # independent count: entries above the overflow threshold (65504 plus half a float16 step)
    assert tr.overflow_fraction(g, 2.0**24) == pytest.approx(np.mean(g * 2.0**24 >= 65520), abs=1e-4)


def test_ch09_float16_figure_statements():
    mags = np.geomspace(1e-10, 0.5, 20_000).reshape(400, 50)
    centres = np.sqrt(mags[:, 0] * mags[:, -1])
    err0 = (np.abs(tr.float16_roundtrip(mags) - mags) / mags).max(axis=1)
    err16 = (np.abs(tr.float16_roundtrip(mags, 2.0**16) - mags) / mags).max(axis=1)
    normal = mags[:, 0] >= 2.0**-14
    assert np.all(err0[normal] <= 2.0**-11 * 1.0001)
    assert np.all(err0[mags[:, -1] < 2.9e-8] == 1.0)
    assert np.all(err16[mags[:, 0] >= 1e-9] < 1e-3)
    assert centres[0] > 1e-10 and centres[-1] < 0.5


def test_ch09_try_it_loss_scale_exponent():
    k = math.ceil(math.log2(2.0**-14 / 2e-9))
    assert k == 15
    assert 2.0**-14 / 2e-9 == pytest.approx(30500, rel=0.01)
    assert 2**14 < 2.0**-14 / 2e-9 < 2**15


# ---- §5 natural gradient


@pytest.fixture(scope="module")
def sample09():
    return np.random.default_rng(0).normal(1.0, 0.5, size=200)


def test_ch09_fisher_monte_carlo():
    sigma = 0.5
    z = np.random.default_rng(2).normal(size=200_000)
    scores = np.stack([z / sigma, (z**2 - 1) / sigma])
    estimate = scores @ scores.T / z.size
    assert np.allclose(tr.gaussian_fisher(0.5), np.diag([4.0, 8.0]))
    assert np.allclose(estimate, np.diag([4.0, 8.0]), rtol=0.02, atol=0.1)


def test_ch09_moments_behind_the_fisher():
    import sympy as sp

    z = sp.Symbol("z", real=True)
    phi = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    E = lambda expr: sp.integrate(expr * phi, (z, -sp.oo, sp.oo))  # noqa: E731
    assert E(z**2) == 1 and E((z**2 - 1) ** 2) == 2 and E(z * (z**2 - 1)) == 0


def test_ch09_mle_and_stable_step(sample09):
    data = sample09
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


def test_ch09_widget_caption_step_counts(sample09):
    data = sample09
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


def test_ch09_natural_gradient_one_step_and_heron(sample09):
    data = sample09
    path = tr.gaussian_ngd_path(data, [-1.0, 2.0], 1.0, 6)
    assert path[1, 0] == pytest.approx(data.mean(), abs=1e-12)
    v = data.var()
    errors = np.abs(path[1:, 1] - math.sqrt(v))
    for t in range(1, 6):
        assert path[t + 1, 1] == pytest.approx(0.5 * (path[t, 1] + v / path[t, 1]), rel=1e-12)
    # quadratic convergence: the error is (roughly) squared each step once it is small
    assert errors[3] <= errors[2] ** 2 / (2 * math.sqrt(v)) * 1.01


def test_ch09_units(sample09):
    data = sample09
    ngd = tr.gaussian_ngd_path(data, [-1.0, 2.0], 0.5, 20)
    assert np.allclose(tr.gaussian_ngd_path(10 * data, [-10.0, 20.0], 0.5, 20), 10 * ngd)
    assert (10 * data).std() ** 2 == pytest.approx(100 * data.std() ** 2)
