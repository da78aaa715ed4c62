"""nablakit.training against independent references (sympy, finite differences, simulation)."""

import math

import numpy as np
import pytest
import sympy as sp

from nablakit import training as tr


# --------------------------------------------------------------------------- clipping


@pytest.fixture
def grads():
    rng = np.random.default_rng(3)
    return [rng.normal(size=(3, 2)) * 4, rng.normal(size=2) * 4, np.array([[5.0]])]


def test_global_norm_matches_concatenated_vector(grads):
    flat = np.concatenate([g.ravel() for g in grads])
    assert math.isclose(tr.global_norm(grads), np.linalg.norm(flat), rel_tol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 2.0, 1e3])
def test_clip_by_global_norm_keeps_direction_and_bounds_norm(grads, max_norm):
    before = [g.copy() for g in grads]
    clipped, total = tr.clip_by_global_norm(grads, max_norm)
    flat = np.concatenate([g.ravel() for g in grads])
    flat_c = np.concatenate([g.ravel() for g in clipped])
    assert math.isclose(total, np.linalg.norm(flat), rel_tol=1e-12)
    assert np.linalg.norm(flat_c) <= max_norm * (1 + 1e-12) or np.allclose(flat_c, flat)
    assert math.isclose(np.linalg.norm(flat_c), min(total, max_norm), rel_tol=1e-12)
    assert tr.angle_between(flat, flat_c) < 1e-9
    assert [c.shape for c in clipped] == [g.shape for g in grads]
    assert all(np.array_equal(a, b) for a, b in zip(grads, before)), "inputs must not be modified"


def test_clip_below_threshold_is_untouched_and_zero_gives_no_nan():
    clipped, total = tr.clip_by_global_norm([np.array([0.3, 0.4])], 1.0)
    assert total == pytest.approx(0.5) and np.allclose(clipped[0], [0.3, 0.4])
    clipped, total = tr.clip_by_global_norm([np.zeros(3), np.zeros((2, 2))], 1.0)
    assert total == 0.0 and all(np.all(c == 0) for c in clipped)


def test_clip_errors_name_the_argument():
    with pytest.raises(TypeError, match="grads"):
        tr.clip_by_global_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        tr.clip_by_global_norm([np.ones(3)], 0.0)
    with pytest.raises(ValueError, match="c must"):
        tr.clip_by_value([1.0], -1.0)
    with pytest.raises(ValueError, match="non-zero"):
        tr.angle_between([0, 0], [1, 0])


def test_clip_by_value_turns_the_vector():
    # g = (10, 0.1), c = 1 -> (1, 0.1): the angle grows from atan(0.01) to atan(0.1).
    clipped = tr.clip_by_value([10.0, 0.1], 1.0)
    assert np.allclose(clipped, [1.0, 0.1])
    expected = math.degrees(math.atan(0.1) - math.atan(0.01))
    assert tr.angle_between([10.0, 0.1], clipped) == pytest.approx(expected, rel=1e-9)
    assert tr.angle_between([10.0, 0.1], clipped) == pytest.approx(5.14, abs=0.005)


def test_angle_between_against_arctan2():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=2), rng.normal(size=2)
        diff = abs(math.atan2(a[1], a[0]) - math.atan2(b[1], b[0]))
        expected = min(diff, 2 * math.pi - diff)
        assert tr.angle_between(a, b, degrees=False) == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- accumulation


def mse(X, y, w):
    return float(np.mean((X @ w - y) ** 2))


def fd_gradient(f, w, h=1e-6):
    g = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g


@pytest.fixture
def regression():
    rng = np.random.default_rng(7)
    return rng.normal(size=(10, 3)), rng.normal(size=10), rng.normal(size=3)


@pytest.mark.parametrize("micro_batch", [1, 3, 4, 5, 10, 25])
def test_accumulated_gradient_is_full_batch_gradient(regression, micro_batch):
    X, y, w = regression
    reference = fd_gradient(lambda v: mse(X, y, v), w)
    assert np.allclose(tr.accumulated_mse_gradient(X, y, w, micro_batch), reference, rtol=1e-7, atol=1e-9)


def test_equal_weights_go_wrong_only_with_unequal_micro_batches(regression):
    X, y, w = regression
    full = fd_gradient(lambda v: mse(X, y, v), w)
    assert [s.stop - s.start for s in tr.micro_batch_slices(10, 4)] == [4, 4, 2]
    assert np.allclose(tr.equal_weight_mse_gradient(X, y, w, 5), full, rtol=1e-7, atol=1e-9)
    wrong = tr.equal_weight_mse_gradient(X, y, w, 4)
    assert np.linalg.norm(wrong - full) > 1e-2 * np.linalg.norm(full)
    # The mistake in closed form: micro-batch means weighted 1/3 each instead of 4/10, 4/10, 2/10.
    means = [2 / (s.stop - s.start) * X[s].T @ (X[s] @ w - y[s]) for s in tr.micro_batch_slices(10, 4)]
    assert np.allclose(wrong, sum(means) / 3)
    assert np.allclose(full, 0.4 * means[0] + 0.4 * means[1] + 0.2 * means[2])


def test_micro_batch_errors():
    with pytest.raises(ValueError, match="micro_batch"):
        tr.micro_batch_slices(10, 0)
    with pytest.raises(ValueError, match="y must"):
        tr.accumulated_mse_gradient(np.ones((3, 2)), np.ones(4), np.ones(2), 2)


# --------------------------------------------------------------------------- checkpointing


def simulate(n, checkpoints):
    """Run backprop through n layers keeping only the inputs in `checkpoints` (must hold 0).

    Returns (peak number of stored layer inputs, layer evaluations). Segments
    are recomputed from their checkpoint, last segment first; a checkpoint is
    dropped once its segment is done. `checkpoints=None` means recompute every
    input from a_0 (keeping a_0 and one running value).
    """
    evals = n  # the forward pass
    if checkpoints is None:
        peak = min(2, n)
        for i in range(n, 0, -1):  # backward of layer i needs a_{i-1}
            evals += i - 1
        return peak, evals
    starts = sorted(checkpoints)
    stored = set(starts)
    peak = len(stored)
    bounds = starts[1:] + [n]
    for start, stop in reversed(list(zip(starts, bounds))):
        for i in range(start + 1, stop):  # recompute inputs a_{start+1} .. a_{stop-1}
            stored.add(i)
            evals += 1
        peak = max(peak, len(stored))
        for i in range(start, stop):
            stored.discard(i)
    return peak, evals


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 16, 17, 50, 64, 100])
def test_checkpoint_table_matches_simulation(n):
    rows = {r["strategy"]: r for r in tr.checkpoint_table(n)}
    s = math.ceil(math.sqrt(n))
    assert (rows["store all"]["memory"], rows["store all"]["compute"]) == simulate(n, range(n))
    assert (rows["sqrt(n) checkpoints"]["memory"], rows["sqrt(n) checkpoints"]["compute"]) == simulate(n, range(0, n, s))
    assert (rows["recompute all"]["memory"], rows["recompute all"]["compute"]) == simulate(n, None)
    sq = rows["sqrt(n) checkpoints"]
    assert sq["memory"] <= 2 * s and sq["compute"] <= 2 * n
    assert sq["compute_ratio"] == pytest.approx(sq["compute"] / n)


def test_checkpoint_table_numbers_for_100_layers():
    rows = {r["strategy"]: r for r in tr.checkpoint_table(100)}
    assert rows["sqrt(n) checkpoints"]["memory"] == 19 and rows["sqrt(n) checkpoints"]["compute"] == 190
    assert rows["recompute all"]["compute"] == 5050


# --------------------------------------------------------------------------- float16


def test_float16_limits():
    assert tr.FLOAT16_SMALLEST_SUBNORMAL == 2.0**-24
    assert tr.FLOAT16_SMALLEST_SUBNORMAL == pytest.approx(5.96e-8, rel=1e-3)
    assert tr.FLOAT16_SMALLEST_NORMAL == 2.0**-14
    assert tr.FLOAT16_MAX == 65504.0


def test_float16_underflow_threshold_and_loss_scaling():
    tiny = 2.0**-24
    # Round to nearest: half the smallest subnormal is the tie, just below it goes to 0.
    assert tr.float16_roundtrip([0.49 * tiny])[0] == 0.0
    assert tr.float16_roundtrip([0.51 * tiny])[0] == tiny
    assert tr.float16_roundtrip([1e-8])[0] == 0.0
    assert tr.float16_roundtrip([1e-8], scale=2.0**16)[0] == pytest.approx(1e-8, rel=2.0**-11)
    assert tr.underflow_fraction([1e-9, 1e-8, 1e-3]) == pytest.approx(2 / 3)
    assert tr.underflow_fraction([1e-9, 1e-8, 1e-3], scale=2.0**16) == 0.0
    assert tr.overflow_fraction([1e-3, 2.0], scale=2.0**16) == 0.5
    with np.errstate(all="raise"):
        tr.float16_roundtrip([1e6])  # overflow to inf is reported in the result, never raised


def test_float16_relative_precision():
    # Normal float16 numbers carry 11 significant bits: relative error <= 2**-11.
    x = np.geomspace(1e-4, 1e4, 200)
    rel = np.abs(tr.float16_roundtrip(x) - x) / x
    assert rel.max() <= 2.0**-11 * (1 + 1e-9)


# --------------------------------------------------------------------------- natural gradient

mu_s, sigma_s, x_s = sp.symbols("mu sigma x", real=True)
sigma_pos = sp.Symbol("sigma", positive=True)


def test_loglik_and_gradient_against_sympy():
    data = np.array([0.3, -1.2, 2.5, 1.1])
    logpdf = -sp.log(sigma_s) - sp.log(2 * sp.pi) / 2 - (x_s - mu_s) ** 2 / (2 * sigma_s**2)
    total = sum(logpdf.subs(x_s, sp.Float(v)) for v in data)
    point = {mu_s: 0.7, sigma_s: 1.3}
    assert tr.gaussian_loglik(data, 0.7, 1.3) == pytest.approx(float(total.subs(point)), rel=1e-12)
    grad = [float(sp.diff(total, v).subs(point)) for v in (mu_s, sigma_s)]
    assert np.allclose(tr.gaussian_loglik_grad(data, 0.7, 1.3), grad, rtol=1e-12)


def test_fisher_is_expected_outer_product_of_scores():
    z = sp.Symbol("z", real=True)
    mu, sigma = sp.Symbol("mu", real=True), sigma_pos
    x = mu + sigma * z
    logpdf = -sp.log(sigma) - (x_s - mu) ** 2 / (2 * sigma**2)
    scores = [sp.diff(logpdf, v).subs(x_s, x) for v in (mu, sigma)]
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    F = sp.Matrix(2, 2, lambda i, j: sp.simplify(sp.integrate(scores[i] * scores[j] * density, (z, -sp.oo, sp.oo))))
    assert sp.simplify(F - sp.diag(1 / sigma**2, 2 / sigma**2)) == sp.zeros(2, 2)
    for value in (0.5, 1.0, 3.0):
        assert np.allclose(tr.gaussian_fisher(value), np.array(F.subs(sigma, value), dtype=float))


def test_natural_gradient_closed_form_and_one_step():
    rng = np.random.default_rng(11)
    data = rng.normal(2.0, 1.0, size=100)
    for mu, sigma in [(0.0, 2.0), (5.0, 0.3), (-1.0, 1.0)]:
        expected = [data.mean() - mu, (np.mean((data - mu) ** 2) - sigma**2) / (2 * sigma)]
        assert np.allclose(tr.gaussian_natural_gradient(data, mu, sigma), expected, rtol=1e-12)
        path = tr.gaussian_ngd_path(data, [mu, sigma], 1.0, 1)
        assert path[1, 0] == pytest.approx(data.mean(), abs=1e-12)


def test_paths_follow_their_update_rules():
    rng = np.random.default_rng(5)
    data = rng.normal(1.0, 0.5, size=60)
    m = data.size
    gd = tr.gaussian_gd_path(data, [-1.0, 2.0], 0.1, 30)
    ngd = tr.gaussian_ngd_path(data, [-1.0, 2.0], 0.1, 30)
    for t in range(30):
        mu, s = gd[t]
        step = np.array([np.sum(data - mu) / s**2, -m / s + np.sum((data - mu) ** 2) / s**3]) / m
        assert np.allclose(gd[t + 1], gd[t] + 0.1 * step)
        mu, s = ngd[t]
        nat = np.array([data.mean() - mu, (np.mean((data - mu) ** 2) - s**2) / (2 * s)])
        assert np.allclose(ngd[t + 1], ngd[t] + 0.1 * nat)


def test_ngd_with_unit_step_is_heron_and_beats_gd():
    rng = np.random.default_rng(5)
    data = rng.normal(1.0, 0.5, size=60)
    mle = np.array([data.mean(), data.std()])
    path = tr.gaussian_ngd_path(data, [-1.0, 2.0], 1.0, 8)
    v = data.var()
    for t in range(1, 8):
        assert path[t + 1, 1] == pytest.approx((path[t, 1] + v / path[t, 1]) / 2, rel=1e-12)
    assert np.allclose(path[-1], mle, atol=1e-10)
    # Plain GD's best step size on a grid is still slower than natural gradient at step 1.
    n_ngd = tr.steps_to_settle(path, mle, 1e-3)
    n_gd = [tr.steps_to_settle(tr.gaussian_gd_path(data, [-1.0, 2.0], lr, 2000), mle, 1e-3) for lr in (0.05, 0.1, 0.2)]
    assert None not in n_gd and n_ngd is not None and n_ngd < min(n_gd)


def test_gd_path_stops_when_sigma_leaves_the_model():
    data = np.array([0.0, 0.1, -0.1])
    path = tr.gaussian_gd_path(data, [0.0, 1.0], 5.0, 5)
    assert np.all(np.isnan(path[-1])) and np.all(np.isfinite(path[0]))
    assert tr.steps_to_settle(path, [0.0, 0.08], 1e-3) is None
    with pytest.raises(ValueError, match="sigma"):
        tr.gaussian_gd_path(data, [0.0, -1.0], 0.1, 5)
    with pytest.raises(ValueError, match="sigma"):
        tr.gaussian_fisher(0.0)


def test_average_loglik_grid_matches_scalar_loglik():
    data = np.array([0.2, 1.7, -0.4, 0.9, 1.1])
    mus, sigmas = np.meshgrid([-1.0, 0.5, 2.0], [0.3, 1.0, 2.5])
    grid = tr.gaussian_average_loglik(data, mus, sigmas)
    for mu, s, value in zip(mus.ravel(), sigmas.ravel(), grid.ravel()):
        assert value == pytest.approx(tr.gaussian_loglik(data, mu, s) / data.size, rel=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        tr.gaussian_average_loglik(data, 0.0, [1.0, 0.0])


def test_natural_gradient_path_is_equivariant_under_rescaling_but_gd_is_not():
    rng = np.random.default_rng(2)
    data = rng.normal(1.0, 0.5, size=40)
    ngd, ngd10 = (tr.gaussian_ngd_path(d, s, 0.3, 20) for d, s in ((data, [-1.0, 2.0]), (10 * data, [-10.0, 20.0])))
    assert np.allclose(ngd10, 10 * ngd)
    gd, gd10 = (tr.gaussian_gd_path(d, s, 0.1, 20) for d, s in ((data, [-1.0, 2.0]), (10 * data, [-10.0, 20.0])))
    assert not np.allclose(gd10, 10 * gd, rtol=1e-2)


def test_steps_to_settle_requires_staying():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert tr.steps_to_settle(path, [1.0, 0.0], 0.1) == 3
    assert tr.steps_to_settle(path[:3], [1.0, 0.0], 0.1) is None
    assert tr.steps_to_settle(path[1:2], [1.0, 0.0], 0.1) == 0


def test_first_settled_counts_from_the_last_failure():
    assert tr.first_settled([False, False, True]) == 2
    assert tr.first_settled([True, False, True, True]) == 2
    assert tr.first_settled(np.array([0.5, np.nan, 1e-7]) < 1e-6) == 2, "NaN compares False: not settled there"
    assert tr.first_settled([]) is None and tr.first_settled([True, True, False]) is None
    with pytest.raises(ValueError, match="1-D"):
        tr.first_settled([[True]])


@pytest.mark.parametrize("call, name", [
    (lambda: tr.micro_batch_slices(True, 2), "m must be an integer >= 1"),
    (lambda: tr.checkpoint_table(0), "n_layers must be an integer >= 1"),
    (lambda: tr.checkpoint_table(2.0), "n_layers"),
    (lambda: tr.gaussian_gd_path([1.0, 2.0], [0.0, 1.0], 0.1, -1), "steps must be an integer >= 0"),
])
def test_counts_are_validated_with_one_message(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------- small network helpers


def test_mlp_loss_stack_matches_mlp_loss_point_by_point():
    from nablakit.networks import flatten_params, init_mlp, mlp_loss, unflatten_params

    rng = np.random.default_rng(4)
    for n_out, activation in ((1, "tanh"), (2, "sigmoid")):
        p = init_mlp(3, 5, n_out, rng=rng)
        X = rng.normal(size=(7, 3))
        y = rng.normal(size=(7, n_out)) if n_out > 1 else rng.normal(size=7)
        n = flatten_params(p).size
        thetas = rng.normal(size=(n, 3, 4))
        got = tr.mlp_loss_stack(thetas, p, X, y, activation=activation)
        assert got.shape == (3, 4)
        for j in range(3):
            for i in range(4):
                ref = mlp_loss(unflatten_params(thetas[:, j, i], p), X, y, activation=activation)
                assert got[j, i] == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="first axis"):
        tr.mlp_loss_stack(np.zeros((3, 2)), p, X, y)


def test_train_mlp_full_batch_is_plain_gradient_descent():
    from nablakit.networks import init_mlp, mlp_grads, mlp_loss

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.sin(3 * X[:, 0])
    p0 = init_mlp(1, 6, 1, rng=1)
    before = {k: v.copy() for k, v in p0.items()}
    trained, hist = tr.train_mlp(p0, X, y, 0.2, 15)
    p = {k: v.copy() for k, v in p0.items()}
    for t in range(15):
        g = mlp_grads(p, X, y)
        assert hist["loss"][t] == pytest.approx(mlp_loss(p, X, y), rel=1e-12)
        assert hist["grad_norm"][t] == pytest.approx(np.sqrt(sum(np.sum(v**2) for v in g.values())), rel=1e-12)
        p = {k: p[k] - 0.2 * g[k] for k in p}
    assert all(np.allclose(trained[k], p[k], rtol=1e-12) for k in p)
    assert hist["loss"][15] == pytest.approx(mlp_loss(p, X, y), rel=1e-12)
    assert all(np.array_equal(p0[k], before[k]) for k in p0), "start parameters must not change"


def test_train_mlp_minibatches_are_seeded_and_divergence_stops_cleanly():
    from nablakit.networks import init_mlp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(32, 1))
    y = np.sin(3 * X[:, 0])
    p0 = init_mlp(1, 8, 1, rng=1)
    a = tr.train_mlp(p0, X, y, 0.1, 30, batch_size=4, rng=5)[1]
    b = tr.train_mlp(p0, X, y, 0.1, 30, batch_size=4, rng=5)[1]
    assert np.array_equal(a["grad_norm"], b["grad_norm"])
    with np.errstate(all="raise"):
        _, hist = tr.train_mlp(p0, X * 50, y * 50, 5.0, 100)
    stopped = np.flatnonzero(np.isnan(hist["loss"]))
    assert stopped.size and np.all(np.isnan(hist["loss"][stopped[0]:]))
    with pytest.raises(ValueError, match="rng"):
        tr.train_mlp(p0, X, y, 0.1, 3, batch_size=4)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in 1\.\.32"):
        tr.train_mlp(p0, X, y, 0.1, 3, batch_size=33, rng=0)
    with pytest.raises(ValueError, match="params must be finite"):
        tr.train_mlp({**p0, "b2": np.array([np.inf])}, X, y, 0.1, 3)
