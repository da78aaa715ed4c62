"""Optimisers: update rules, convergence, divergence and input checks."""

import numpy as np
import pytest

from nablakit.optimizers import (
    DIVERGENCE_LIMIT,
    OPTIMIZERS,
    adam,
    gradient_descent,
    momentum,
    nesterov,
    noisy_gd,
    rmsprop,
)
from nablakit.testfunctions import paraboloid, ravine, rosenbrock, saddle

# The optimisers that share the call opt(grad, theta0, lr, steps).
PLAIN = {name: fn for name, fn in OPTIMIZERS.items() if name != "noisy_gd"}


def steps_to_tolerance(path, target, tol):
    """First step at which the iterate is within ``tol`` of ``target`` (None if never)."""
    dist = np.linalg.norm(path - np.asarray(target), axis=1)
    hits = np.flatnonzero(dist < tol)
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trajectory_shape_and_start(name):
    kwargs = {"noise_std": 0.1, "rng": 1} if name == "noisy_gd" else {}
    theta0 = [0.3, -0.7, 1.1]
    path = OPTIMIZERS[name](lambda th: 2 * th, theta0, 0.05, 7, **kwargs)
    assert path.shape == (8, 3)
    assert np.array_equal(path[0], theta0)
    assert np.all(np.isfinite(path))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_zero_steps_returns_only_the_start(name):
    kwargs = {"noise_std": 0.1, "rng": 1} if name == "noisy_gd" else {}
    path = OPTIMIZERS[name](lambda th: 2 * th, [1.0, 2.0], 0.1, 0, **kwargs)
    assert path.shape == (1, 2) and np.array_equal(path[0], [1.0, 2.0])


def test_theta0_is_not_modified_and_grad_gets_copies():
    theta0 = np.array([1.0, 1.0])
    seen = []

    def grad(th):
        seen.append(th)
        th += 100.0  # a careless grad that writes into its argument
        return 2 * (th - 100.0)

    path = gradient_descent(grad, theta0, 0.1, 3)
    assert np.array_equal(theta0, [1.0, 1.0])
    assert np.allclose(path[1], [0.8, 0.8])


def test_gradient_descent_update_rule():
    g = lambda th: np.array([2 * th[0] + th[1], th[0] + 4 * th[1]])  # noqa: E731
    path = gradient_descent(g, [1.0, -1.0], 0.1, 5)
    theta = np.array([1.0, -1.0])
    for t in range(1, 6):
        theta = theta - 0.1 * g(theta)
        assert np.allclose(path[t], theta)


def test_gd_converges_on_paraboloid():
    tf = paraboloid()
    path = gradient_descent(tf.grad, [1.5, -2.0], lr=0.1, steps=100)
    assert np.linalg.norm(path[-1]) < 1e-8
    # Each step multiplies theta by (1 - 2 lr) = 0.8.
    assert np.allclose(path[10], 0.8**10 * np.array([1.5, -2.0]))
    assert np.all(np.diff(paraboloid().f(path.T)) < 0)


def test_momentum_and_nesterov_update_rules():
    g = lambda th: np.array([2 * th[0], 20 * th[1]])  # noqa: E731
    lr, beta = 0.02, 0.8
    th_m = th_n = np.array([1.0, 1.0])
    v_m = v_n = np.zeros(2)
    pm = momentum(g, [1.0, 1.0], lr, 6, beta=beta)
    pn = nesterov(g, [1.0, 1.0], lr, 6, beta=beta)
    for t in range(1, 7):
        v_m = beta * v_m + g(th_m)
        th_m = th_m - lr * v_m
        v_n = beta * v_n + g(th_n - lr * beta * v_n)
        th_n = th_n - lr * v_n
        assert np.allclose(pm[t], th_m) and np.allclose(pn[t], th_n)


@pytest.mark.parametrize("fn", [momentum, nesterov])
def test_beta_zero_is_plain_gradient_descent(fn):
    tf = rosenbrock()
    assert np.allclose(fn(tf.grad, [-1.0, 1.0], 1e-3, 50, beta=0.0), gradient_descent(tf.grad, [-1.0, 1.0], 1e-3, 50))


def test_rmsprop_update_rule():
    g = lambda th: np.array([4 * th[0], 0.1 * th[1]])  # noqa: E731
    lr, rho, eps = 0.01, 0.9, 1e-8
    path = rmsprop(g, [1.0, 1.0], lr, 5, rho=rho, eps=eps)
    th, s = np.array([1.0, 1.0]), np.zeros(2)
    for t in range(1, 6):
        gt = g(th)
        s = rho * s + (1 - rho) * gt**2
        th = th - lr * gt / (np.sqrt(s) + eps)
        assert np.allclose(path[t], th)


def test_adam_update_rule_and_bias_correction():
    g = lambda th: np.array([4 * th[0], 0.1 * th[1]])  # noqa: E731
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    path = adam(g, [1.0, 1.0], lr, 5)
    th, m, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 6):
        gt = g(th)
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt**2
        th = th - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        assert np.allclose(path[t], th)
    # Thanks to bias correction the first step is ~lr in every coordinate.
    assert np.allclose(path[1] - path[0], [-lr, -lr], rtol=1e-6)


def test_momentum_beats_gd_on_ravine_kappa_100():
    tf = ravine(kappa=100)
    lam_max = np.linalg.eigvalsh(tf.hessian([0.0, 0.0])).max()
    lr = 0.9 * 2 / lam_max  # the same, stable learning rate for both
    start = [1.0, 1.0]
    gd_steps = steps_to_tolerance(gradient_descent(tf.grad, start, lr, 3000), [0, 0], 1e-6)
    mom_steps = steps_to_tolerance(momentum(tf.grad, start, lr, 3000, beta=0.9), [0, 0], 1e-6)
    assert gd_steps is not None and mom_steps is not None
    assert mom_steps < gd_steps / 2, f"momentum took {mom_steps} steps, GD {gd_steps}"


@pytest.mark.parametrize(
    "name, lr",
    [("adam", 0.02), ("rmsprop", 0.003), ("nesterov", 5e-4), ("momentum", 2e-4), ("gradient_descent", 1e-3)],
)
def test_progress_on_rosenbrock_from_standard_start(name, lr):
    tf = rosenbrock()
    start = np.array([-1.5, 2.0])
    path = OPTIMIZERS[name](tf.grad, start, lr, 2000)
    assert np.all(np.isfinite(path)), f"{name} diverged at lr={lr}"
    f0, f_end = tf.f(start), tf.f(path[-1])
    assert f_end < 0.05 * f0, f"{name}: f went from {f0} to {f_end}"
    assert np.linalg.norm(path[-1] - tf.minima[0]) < 0.5 * np.linalg.norm(start - tf.minima[0])


def test_adaptive_methods_reach_rosenbrock_minimum():
    tf = rosenbrock()
    for path in (adam(tf.grad, [-1.5, 2.0], 0.02, 2000), nesterov(tf.grad, [-1.5, 2.0], 5e-4, 2000)):
        assert np.linalg.norm(path[-1] - [1.0, 1.0]) < 0.05


def test_noisy_gd_without_noise_equals_gradient_descent():
    tf = rosenbrock()
    a = noisy_gd(tf.grad, [-1.0, 1.5], 1e-3, 100, noise_std=0.0, rng=np.random.default_rng(3))
    b = gradient_descent(tf.grad, [-1.0, 1.5], 1e-3, 100)
    assert np.allclose(a, b, rtol=0, atol=1e-14)


def test_noisy_gd_escapes_the_saddle():
    tf = saddle()
    plain = gradient_descent(tf.grad, [1.0, 0.0], 0.1, 200)
    assert np.allclose(plain[-1], [0.0, 0.0], atol=1e-12), "plain GD should settle on the saddle"
    noisy = noisy_gd(tf.grad, [1.0, 0.0], 0.1, 200, noise_std=0.01, rng=np.random.default_rng(0))
    escaped = np.abs(noisy[:, 1]) > 1
    assert escaped.any(), "noisy GD should leave the saddle along th2 within 200 steps"
    assert tf.f(noisy[np.argmax(escaped)]) < tf.f(plain[-1])


def test_noisy_gd_is_reproducible_with_a_seed():
    tf = paraboloid()
    a = noisy_gd(tf.grad, [1.0, 1.0], 0.1, 20, 0.5, np.random.default_rng(7))
    b = noisy_gd(tf.grad, [1.0, 1.0], 0.1, 20, 0.5, 7)
    c = noisy_gd(tf.grad, [1.0, 1.0], 0.1, 20, 0.5, 8)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_divergent_rows_become_nan():
    tf = paraboloid()  # lambda = 2, so lr = 1.5 > 2 / 2 multiplies theta by -2 per step
    path = gradient_descent(tf.grad, [1.0, 1.0], 1.5, 100)
    finite = np.all(np.isfinite(path), axis=1)
    first_bad = int(np.argmin(finite))
    assert finite[0] and not finite[-1]
    assert np.all(finite[:first_bad]) and np.all(np.isnan(path[first_bad:]))
    assert np.abs(path[first_bad - 1]).max() <= DIVERGENCE_LIMIT < 2 * np.abs(path[first_bad - 1]).max()


def test_no_runtime_warning_when_overflowing():
    # grad overflows to inf before the 1e12 limit would catch theta.
    with np.errstate(all="raise"):
        path = gradient_descent(lambda th: np.exp(th) * 1e300, [1.0], 1.0, 5)
    assert np.isnan(path[1:]).all()


def test_grad_not_called_after_divergence():
    calls = []

    def grad(th):
        calls.append(th)
        return -10 * th

    gradient_descent(grad, [1.0], 1.0, 1000)
    assert len(calls) < 20


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_gd_stability_threshold_two_over_lambda_max(kappa):
    tf = ravine(kappa=kappa)
    lam_max = np.linalg.eigvalsh(tf.hessian([0.0, 0.0])).max()
    threshold = 2 / lam_max
    start = [1.0, 1.0]
    below = gradient_descent(tf.grad, start, 0.95 * threshold, 400)
    above = gradient_descent(tf.grad, start, 1.05 * threshold, 400)
    assert np.linalg.norm(below[-1]) < 1e-3, "below 2/lambda_max GD should converge"
    assert np.isnan(above[-1]).all(), "above 2/lambda_max GD should diverge"
    finite = above[np.all(np.isfinite(above), axis=1)]
    assert np.linalg.norm(finite[-1]) > 1e6


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_bad_input_raises_clear_errors(name):
    fn = PLAIN[name]
    g = lambda th: 2 * th  # noqa: E731
    with pytest.raises(ValueError, match="lr"):
        fn(g, [1.0, 1.0], 0.0, 5)
    with pytest.raises(ValueError, match="lr"):
        fn(g, [1.0, 1.0], -0.1, 5)
    with pytest.raises(TypeError, match="lr"):
        fn(g, [1.0, 1.0], "0.1", 5)
    with pytest.raises(ValueError, match="steps"):
        fn(g, [1.0, 1.0], 0.1, -1)
    with pytest.raises(TypeError, match="steps"):
        fn(g, [1.0, 1.0], 0.1, 2.5)
    with pytest.raises(ValueError, match="theta0"):
        fn(g, [1.0, np.nan], 0.1, 5)
    with pytest.raises(ValueError, match="theta0"):
        fn(g, [1.0, np.inf], 0.1, 5)
    with pytest.raises(ValueError, match="theta0"):
        fn(g, [[1.0, 1.0]], 0.1, 5)
    with pytest.raises(TypeError, match="theta0"):
        fn(g, "ab", 0.1, 5)
    with pytest.raises(TypeError, match="grad"):
        fn("not a function", [1.0, 1.0], 0.1, 5)
    with pytest.raises(ValueError, match="grad"):
        fn(lambda th: np.zeros(3), [1.0, 1.0], 0.1, 5)


def test_hyperparameters_are_checked():
    g = lambda th: 2 * th  # noqa: E731
    with pytest.raises(ValueError, match="beta"):
        momentum(g, [1.0], 0.1, 5, beta=1.0)
    with pytest.raises(ValueError, match="beta"):
        nesterov(g, [1.0], 0.1, 5, beta=-0.1)
    with pytest.raises(ValueError, match="rho"):
        rmsprop(g, [1.0], 0.1, 5, rho=1.5)
    with pytest.raises(ValueError, match="eps"):
        rmsprop(g, [1.0], 0.1, 5, eps=0.0)
    with pytest.raises(ValueError, match="beta1"):
        adam(g, [1.0], 0.1, 5, beta1=1.0)
    with pytest.raises(ValueError, match="beta2"):
        adam(g, [1.0], 0.1, 5, beta2=2.0)
    with pytest.raises(TypeError, match="beta2"):
        adam(g, [1.0], 0.1, 5, beta2=None)
    with pytest.raises(ValueError, match="noise_std"):
        noisy_gd(g, [1.0], 0.1, 5, noise_std=-1.0, rng=0)
    with pytest.raises(TypeError, match="rng"):
        noisy_gd(g, [1.0], 0.1, 5, noise_std=0.1, rng=None)
