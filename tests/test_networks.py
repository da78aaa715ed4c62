"""The tiny MLP: shapes, losses and backprop gradients against centred differences."""

import numpy as np
import pytest
from reference import centred_gradient

from nablakit import networks as nw


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(6, 3))
    return {
        "X": X,
        "y_reg": rng.normal(size=(6, 2)),
        "y_lab": np.array([0, 2, 1, 1, 0, 2]),
        "params2": nw.init_mlp(3, 5, 2, rng),
        "params3": nw.init_mlp(3, 5, 3, rng),
    }


def test_init_shapes_and_seeding():
    p = nw.init_mlp(4, 3, 2, rng=11)
    assert {k: v.shape for k, v in p.items()} == {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    q = nw.init_mlp(4, 3, 2, rng=np.random.default_rng(11))
    assert all(np.array_equal(p[k], q[k]) for k in p), "an int seed and a Generator with that seed must agree"
    assert np.all(p["b1"] == 0) and np.all(p["b2"] == 0)


def test_forward_matches_formula(data):
    p, X = data["params2"], data["X"]
    expected = np.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    assert np.allclose(nw.mlp_forward(p, X), expected)
    sig = 1 / (1 + np.exp(-(X @ p["W1"] + p["b1"])))
    assert np.allclose(nw.mlp_forward(p, X, activation="sigmoid"), sig @ p["W2"] + p["b2"])


def test_losses_match_definitions(data):
    p, X = data["params3"], data["X"]
    out = nw.mlp_forward(p, X)
    logp = out - np.log(np.exp(out).sum(axis=1, keepdims=True))
    ce = -np.mean(logp[np.arange(6), data["y_lab"]])
    assert np.isclose(nw.mlp_loss(p, X, data["y_lab"], loss="cross_entropy"), ce)
    onehot = np.eye(3)[data["y_lab"]]
    assert np.isclose(nw.mlp_loss(p, X, onehot, loss="cross_entropy"), ce)
    p2 = data["params2"]
    assert np.isclose(nw.mlp_loss(p2, X, data["y_reg"]), np.mean((nw.mlp_forward(p2, X) - data["y_reg"]) ** 2))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_backprop_matches_centred_differences(data, activation, loss):
    X = data["X"]
    p, y = (data["params2"], data["y_reg"]) if loss == "mse" else (data["params3"], data["y_lab"])
    theta = nw.flatten_params(p)

    def f(t):
        return nw.mlp_loss(nw.unflatten_params(t, p), X, y, activation=activation, loss=loss)

    numeric = centred_gradient(f, theta)
    analytic = nw.flatten_params(nw.mlp_grads(p, X, y, activation=activation, loss=loss))
    rel = np.linalg.norm(numeric - analytic) / (np.linalg.norm(numeric) + np.linalg.norm(analytic))
    assert rel < 1e-7, f"backprop disagrees with centred differences: relative error {rel:.2e}"


def test_grads_have_param_shapes_and_descend(data):
    p, X, y = data["params2"], data["X"], data["y_reg"]
    g = nw.mlp_grads(p, X, y)
    assert {k: v.shape for k, v in g.items()} == {k: v.shape for k, v in p.items()}
    step = {k: p[k] - 1e-3 * g[k] for k in p}
    assert nw.mlp_loss(step, X, y) < nw.mlp_loss(p, X, y), "a small step against the gradient must lower the loss"


def test_single_output_accepts_flat_targets():
    rng = np.random.default_rng(3)
    p = nw.init_mlp(2, 4, 1, rng)
    X, y = rng.normal(size=(5, 2)), rng.normal(size=5)
    assert np.isclose(nw.mlp_loss(p, X, y), nw.mlp_loss(p, X, y[:, None]))
    g1, g2 = nw.mlp_grads(p, X, y), nw.mlp_grads(p, X, y[:, None])
    assert all(np.allclose(g1[k], g2[k]) for k in p)


def test_flatten_roundtrip_and_independence(data):
    p = data["params2"]
    theta = nw.flatten_params(p)
    assert theta.shape == (nw.n_params(p),) == (3 * 5 + 5 + 5 * 2 + 2,)
    q = nw.unflatten_params(theta, p)
    theta[0] += 1.0
    assert all(np.array_equal(p[k], q[k]) for k in p), "flatten/unflatten must copy, not alias"
    assert np.array_equal(nw.flatten_params(q), nw.flatten_params(p))


def test_sigmoid_is_stable_for_large_inputs():
    p = {"W1": np.array([[1000.0, -1000.0]]), "b1": np.zeros(2), "W2": np.ones((2, 1)), "b2": np.zeros(1)}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = nw.mlp_forward(p, [[1.0]], activation="sigmoid")
    assert np.allclose(out, 1.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p, X: nw.mlp_forward(p, X[:, :2]), "X must have 3 columns"),
        (lambda p, X: nw.mlp_forward(p, X, activation="relu"), "activation must be one of"),
        (lambda p, X: nw.mlp_loss(p, X, np.zeros(6), loss="hinge"), "loss must be one of"),
        (lambda p, X: nw.mlp_loss(p, X, np.zeros(6)), r"y of shape \(m,\) needs n_out == 1"),
        (lambda p, X: nw.mlp_loss(p, X, np.array([0, 1, 2, 0, 1, 5]), loss="cross_entropy"), "labels must lie"),
        (lambda p, X: nw.mlp_grads({"W1": p["W1"]}, X, np.zeros((6, 2))), "missing key"),
        (lambda p, X: nw.unflatten_params(np.zeros(3), p), "theta must have 32 entries"),
        (lambda p, X: nw.init_mlp(0, 2, 1, rng=0), "n_in must be a positive integer"),
    ],
)
def test_bad_input_is_reported(data, call, match):
    with pytest.raises(ValueError, match=match):
        call(data["params2"], data["X"])


def test_bad_rng_type():
    with pytest.raises(TypeError, match="rng must be"):
        nw.init_mlp(2, 2, 1, rng="seed")


def test_check_table_passes_for_backprop_and_localises_a_layer_bug(data):
    p, X, y = data["params3"], data["X"], data["y_lab"]
    rows = nw.gradient_check_table(p, X, y, loss="cross_entropy")
    assert [(r["name"], r["shape"]) for r in rows] == [("W1", (3, 5)), ("b1", (5,)), ("W2", (5, 3)), ("b2", (3,))]
    assert all(r["relative_error"] < 1e-7 for r in rows)

    def buggy(params, X_, y_):
        # recompute the hidden gradient without act'(Z1): only W1 and b1 can be wrong
        g = nw.mlp_grads(params, X_, y_, loss="cross_entropy")
        H = np.tanh(X_ @ params["W1"] + params["b1"])
        logits = H @ params["W2"] + params["b2"]
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        d_out = (P - np.eye(3)[y_]) / len(y_)
        d_H = d_out @ params["W2"].T
        return {"W1": X_.T @ d_H, "b1": d_H.sum(axis=0), "W2": g["W2"], "b2": g["b2"]}

    errs = {r["name"]: r["relative_error"] for r in nw.gradient_check_table(p, X, y, grads=buggy, loss="cross_entropy")}
    assert errs["W1"] > 1e-3 and errs["b1"] > 1e-3
    assert errs["W2"] < 1e-7 and errs["b2"] < 1e-7


def test_check_table_rejects_bad_grads(data):
    p, X, y = data["params2"], data["X"], data["y_reg"]
    with pytest.raises(ValueError, match="key 'b2'"):
        nw.gradient_check_table(p, X, y, grads=lambda *a: {k: v for k, v in nw.mlp_grads(*a).items() if k != "b2"})
    with pytest.raises(ValueError, match=r"grads\(\)\['W1'\] must have shape"):
        nw.gradient_check_table(p, X, y, grads=lambda *a: {**nw.mlp_grads(*a), "W1": np.zeros(3)})


def test_format_check_table_lists_every_block(data):
    rows = nw.gradient_check_table(data["params2"], data["X"], data["y_reg"])
    lines = nw.format_check_table(rows).splitlines()
    assert lines[0].split() == ["parameter", "shape", "relative", "error"]
    assert [line.split()[0] for line in lines[1:]] == ["W1", "b1", "W2", "b2"]
    assert all(float(line.split()[-1]) == pytest.approx(r["relative_error"], rel=0.06) for line, r in zip(lines[1:], rows))
