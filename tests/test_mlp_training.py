"""nablakit.mlp_training: the training record is plain gradient descent; the stacked loss is the loss."""

import numpy as np
import pytest

from nablakit import mlp_training

def test_mlp_loss_stack_matches_mlp_loss_point_by_point():
    from nablakit.networks import flatten_params, init_mlp, mlp_loss, unflatten_params

    rng = np.random.default_rng(4)
    for n_out, activation in ((1, "tanh"), (2, "sigmoid")):
        p = init_mlp(3, 5, n_out, rng=rng)
        X = rng.normal(size=(7, 3))
        y = rng.normal(size=(7, n_out)) if n_out > 1 else rng.normal(size=7)
        n = flatten_params(p).size
        thetas = rng.normal(size=(n, 3, 4))
        got = mlp_training.mlp_loss_stack(thetas, p, X, y, activation=activation)
        assert got.shape == (3, 4)
        for j in range(3):
            for i in range(4):
                ref = mlp_loss(unflatten_params(thetas[:, j, i], p), X, y, activation=activation)
                assert got[j, i] == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="first axis"):
        mlp_training.mlp_loss_stack(np.zeros((3, 2)), p, X, y)


def test_train_mlp_full_batch_is_plain_gradient_descent():
    from nablakit.networks import init_mlp, mlp_grads, mlp_loss

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.sin(3 * X[:, 0])
    p0 = init_mlp(1, 6, 1, rng=1)
    before = {k: v.copy() for k, v in p0.items()}
    trained, hist = mlp_training.train_mlp(p0, X, y, 0.2, 15)
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
    a = mlp_training.train_mlp(p0, X, y, 0.1, 30, batch_size=4, rng=5)[1]
    b = mlp_training.train_mlp(p0, X, y, 0.1, 30, batch_size=4, rng=5)[1]
    assert np.array_equal(a["grad_norm"], b["grad_norm"])
    with np.errstate(all="raise"):
        _, hist = mlp_training.train_mlp(p0, X * 50, y * 50, 5.0, 100)
    stopped = np.flatnonzero(np.isnan(hist["loss"]))
    assert stopped.size and np.all(np.isnan(hist["loss"][stopped[0]:]))
    with pytest.raises(ValueError, match="rng"):
        mlp_training.train_mlp(p0, X, y, 0.1, 3, batch_size=4)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in 1\.\.32"):
        mlp_training.train_mlp(p0, X, y, 0.1, 3, batch_size=33, rng=0)
    with pytest.raises(ValueError, match="params must be finite"):
        mlp_training.train_mlp({**p0, "b2": np.array([np.inf])}, X, y, 0.1, 3)
