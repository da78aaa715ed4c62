"""Grid evaluation, filter-normalised directions and 2-D loss slices."""

import numpy as np
import pytest

from nablakit.landscape import eval_xy, filter_normalized_direction, grid_eval, grid_eval_loop, plane_slice
from nablakit.testfunctions import TEST_FUNCTIONS, beale, rosenbrock


class CountingFunction:
    """Wrap f and count how often it is called."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, theta):
        self.calls += 1
        return self.f(theta)


def test_grid_eval_calls_f_exactly_once_on_the_stacked_grid():
    tf = rosenbrock()
    counted = CountingFunction(tf.f)
    X, Y, Z = grid_eval(counted, tf.xlim, tf.ylim, n=31)
    assert counted.calls == 1
    assert X.shape == Y.shape == Z.shape == (31, 31)
    assert np.allclose(X[0], np.linspace(*tf.xlim, 31)) and np.allclose(X[:, 0], tf.xlim[0])
    assert np.allclose(Y[:, 0], np.linspace(*tf.ylim, 31)) and np.allclose(Y[0], tf.ylim[0])


@pytest.mark.parametrize("name", sorted(TEST_FUNCTIONS))
def test_grid_eval_loop_gives_the_same_grid(name):
    tf = TEST_FUNCTIONS[name]()
    vec = grid_eval(tf.f, tf.xlim, tf.ylim, n=23)
    loop = grid_eval_loop(tf.f, tf.xlim, tf.ylim, n=23)
    for a, b in zip(vec, loop):
        assert np.allclose(a, b, rtol=1e-12, atol=0)


def test_grid_layout_rows_follow_y():
    X, Y, Z = grid_eval(lambda th: 10 * th[0] + th[1], (0, 2), (0, 1), n=3)
    # Z[j, i] = f(x_i, y_j): moving right adds 10 per unit x, moving down the rows adds y.
    assert np.allclose(Z, [[0, 10, 20], [0.5, 10.5, 20.5], [1, 11, 21]])


def test_grid_eval_loop_passes_single_points():
    shapes = set()

    def f(theta):
        shapes.add(theta.shape)
        return theta[0] * theta[1]

    grid_eval_loop(f, (0, 1), (0, 1), n=4)
    assert shapes == {(2,)}


def test_grid_eval_rejects_non_vectorised_f():
    with pytest.raises(ValueError, match="vectorised"):
        grid_eval(lambda th: 1.0, (0, 1), (0, 1), n=4)
    with pytest.raises(ValueError, match="single number"):
        grid_eval_loop(lambda th: np.ones(3), (0, 1), (0, 1), n=4)


@pytest.mark.parametrize("fn", [grid_eval, grid_eval_loop])
def test_grid_input_validation(fn):
    f = beale().f
    with pytest.raises(TypeError, match="f"):
        fn("beale", (0, 1), (0, 1))
    with pytest.raises(ValueError, match="xlim"):
        fn(f, (1, 0), (0, 1))
    with pytest.raises(ValueError, match="xlim"):
        fn(f, (0, 1, 2), (0, 1))
    with pytest.raises(ValueError, match="ylim"):
        fn(f, (0, 1), (0, np.inf))
    with pytest.raises(ValueError, match="n"):
        fn(f, (0, 1), (0, 1), n=1)
    with pytest.raises(TypeError, match="n"):
        fn(f, (0, 1), (0, 1), n=10.0)


def test_filter_normalized_direction_norms_per_row_and_per_array():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3)) * np.array([[0.1], [1.0], [10.0], [3.0]])
    b = rng.standard_normal(5) * 7
    s = np.array(2.5)
    dW, db, ds = filter_normalized_direction([W, b, s], np.random.default_rng(1))
    assert dW.shape == W.shape and db.shape == b.shape and ds.shape == s.shape
    assert np.allclose(np.linalg.norm(dW, axis=1), np.linalg.norm(W, axis=1))
    assert np.isclose(np.linalg.norm(db), np.linalg.norm(b))
    assert np.isclose(abs(ds), 2.5)
    # Random direction, not the parameters themselves.
    assert not np.allclose(np.abs(dW), np.abs(W))


def test_filter_normalisation_of_higher_dimensional_filters():
    conv = np.random.default_rng(2).standard_normal((6, 3, 2, 2))
    (d,) = filter_normalized_direction([conv], 5)
    assert np.allclose(np.linalg.norm(d.reshape(6, -1), axis=1), np.linalg.norm(conv.reshape(6, -1), axis=1))


def test_filter_normalized_direction_zero_rows_and_seeding():
    W = np.array([[0.0, 0.0], [1.0, 2.0]])
    a = filter_normalized_direction([W], np.random.default_rng(3))[0]
    b = filter_normalized_direction([W], 3)[0]
    c = filter_normalized_direction([W], 4)[0]
    assert np.allclose(a[0], 0.0)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_filter_normalized_direction_accepts_a_dict():
    params = {"W1": np.ones((2, 3)), "b1": np.arange(1.0, 4.0)}
    d = filter_normalized_direction(params, 0)
    assert list(d) == ["W1", "b1"]
    assert np.allclose(np.linalg.norm(d["W1"], axis=1), np.sqrt(3))
    assert np.isclose(np.linalg.norm(d["b1"]), np.linalg.norm([1.0, 2.0, 3.0]))


def test_filter_normalized_direction_errors():
    with pytest.raises(TypeError, match="params"):
        filter_normalized_direction(np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match="params"):
        filter_normalized_direction([], 0)
    with pytest.raises(ValueError, match=r"params\[1\]"):
        filter_normalized_direction([np.ones(2), np.array([1.0, np.nan])], 0)
    with pytest.raises(TypeError, match="rng"):
        filter_normalized_direction([np.ones(2)], None)


def test_plane_slice_batched_matches_loop_and_formula():
    tf = rosenbrock()
    center, d1, d2 = np.array([1.0, 1.0]), np.array([1.0, 0.5]), np.array([-0.3, 1.0])
    alphas, betas = np.linspace(-1, 1, 9), np.linspace(-0.5, 0.5, 4)
    counted = CountingFunction(tf.f)
    Z = plane_slice(counted, center, d1, d2, alphas, betas, batched=True)
    assert counted.calls == 1
    assert Z.shape == (4, 9)
    Z_loop = plane_slice(tf.f, center, d1, d2, alphas, betas)
    assert np.allclose(Z, Z_loop)
    j, i = 3, 2
    assert np.isclose(Z[j, i], tf.f(center + alphas[i] * d1 + betas[j] * d2))
    # The centre of the slice (alpha = beta = 0) is the minimum, f = 0.
    Zc = plane_slice(tf.f, center, d1, d2, [0.0], [0.0], batched=True)
    assert np.allclose(Zc, 0.0)


def test_plane_slice_with_axis_directions_reproduces_grid_eval():
    tf = beale()
    x = np.linspace(-1, 1, 11)
    Z = plane_slice(tf.f, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], x, x, batched=True)
    assert np.allclose(Z, grid_eval(tf.f, (-1, 1), (-1, 1), n=11)[2])


def test_plane_slice_of_a_small_network():
    networks = pytest.importorskip("nablakit.networks")
    rng = np.random.default_rng(0)
    params = networks.init_mlp(2, 4, 1, rng)
    X, y = rng.standard_normal((16, 2)), rng.standard_normal(16)
    center = networks.flatten_params(params)
    d1 = networks.flatten_params(filter_normalized_direction(params, rng))
    d2 = networks.flatten_params(filter_normalized_direction(params, rng))

    def loss(w):
        return networks.mlp_loss(networks.unflatten_params(w, params), X, y)

    Z = plane_slice(loss, center, d1, d2, np.linspace(-1, 1, 5), np.linspace(-1, 1, 3))
    assert Z.shape == (3, 5) and np.all(np.isfinite(Z))
    assert np.isclose(Z[1, 2], networks.mlp_loss(params, X, y))


def test_plane_slice_errors():
    f = lambda w: np.sum(w**2, axis=0)  # noqa: E731
    c, e1, e2, a = [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]
    with pytest.raises(TypeError, match="loss"):
        plane_slice(None, c, e1, e2, a, a)
    with pytest.raises(ValueError, match="d1"):
        plane_slice(f, c, [1.0, 0.0, 0.0], e2, a, a)
    with pytest.raises(ValueError, match="d2"):
        plane_slice(f, c, e1, [np.nan, 0.0], a, a)
    with pytest.raises(ValueError, match="center"):
        plane_slice(f, [[0.0, 0.0]], e1, e2, a, a)
    with pytest.raises(ValueError, match="alphas"):
        plane_slice(f, c, e1, e2, [[0.0]], a)
    with pytest.raises(ValueError, match="betas"):
        plane_slice(f, c, e1, e2, a, [])
    with pytest.raises(ValueError, match="batched=True"):
        plane_slice(lambda w: 0.0, c, e1, e2, a, a, batched=True)
    with pytest.raises(ValueError, match="single number"):
        plane_slice(lambda w: w, c, e1, e2, a, a)
    with pytest.raises(TypeError, match="batched"):
        plane_slice(f, c, e1, e2, a, a, batched="yes")


def test_eval_xy_vectorised_and_scalar_only_functions_agree():
    x, y = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-2, 2, 5))
    calls = []

    def scalar_only(a, b):  # `if` on an array raises: eval_xy must fall back to one call per point
        calls.append(1)
        return a * b if a > 0 else a - b

    got = eval_xy(scalar_only, x, y)
    want = np.where(x > 0, x * y, x - y)
    assert got.shape == x.shape and np.array_equal(got, want)
    assert len(calls) == 1 + x.size
    calls.clear()
    assert np.array_equal(eval_xy(lambda a, b: (calls.append(1), np.where(a > 0, a * b, a - b))[1], x, y), want)
    assert len(calls) == 1  # vectorised: one call
    assert eval_xy(lambda a, b: a + b, np.arange(3.0), 1.0).tolist() == [1.0, 2.0, 3.0]  # broadcast
    with pytest.raises(TypeError, match="f"):
        eval_xy("not a function", 1.0, 2.0)



# ---- ravine_runs (chapter 09's ravine explorer draws these)


def test_ravine_runs_learning_rate_is_the_fraction_of_the_stability_limit():
    from nablakit.landscape import ravine_runs

    runs = ravine_runs([1, 100], [0.5, 0.99], [0.9], steps=20, horizon=200)
    assert set(runs) == {(k, r, 0.9) for k in (1, 100) for r in (0.5, 0.99)}
    for (kappa, fraction, _), run in runs.items():
        assert run["lr"] == pytest.approx(fraction * 2 / (2 * max(1, kappa)))
        for method in ("gradient descent", "momentum"):
            assert run["paths"][method].shape == (21, 2)
            assert np.allclose(run["paths"][method][0], [-2.0, 1.0])
            w = run["paths"][method]
            assert np.allclose(run["losses"][method], w[:, 0] ** 2 + kappa * w[:, 1] ** 2)


def test_ravine_runs_settled_means_below_threshold_from_then_on_and_none_on_divergence():
    from nablakit.landscape import ravine_runs

    run = ravine_runs([100], [0.5], [0.9])[(100, 0.5, 0.9)]
    assert run["settled"]["gradient descent"] > run["settled"]["momentum"]
    full = ravine_runs([100], [0.5], [0.9], steps=3000)[(100, 0.5, 0.9)]
    for method, step in full["settled"].items():
        losses = full["losses"][method]
        assert np.all(losses[step:] < 1e-6) and losses[step - 1] >= 1e-6
    diverged = ravine_runs([10], [1.05], [0.5], horizon=3000)[(10, 1.05, 0.5)]
    assert diverged["settled"]["gradient descent"] is None


def test_widgets_re_export_ravine_runs():
    from nablakit import landscape
    from nablakit.widgets import landscapes

    assert landscapes.ravine_runs is landscape.ravine_runs
    assert landscapes.RAVINE_KAPPAS is landscape.RAVINE_KAPPAS
