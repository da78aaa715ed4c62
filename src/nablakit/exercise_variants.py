"""The course's variant generators: the numbers each graded exercise draws.

Each exercise registers its *reference* parameters (the numbers of its
exercise card) and a generator ``gen(rng) -> dict`` with the same keys. A
generator is constrained so that every variant is a good exercise: it
redraws until the instance is well conditioned and non-degenerate (the
constraints are stated beside each generator and checked by
``tests/test_variants.py`` over all variants).

Examples
--------
>>> from nablakit import variants
>>> sorted(variants.params_for("ex03", 0))
['a']
"""

from __future__ import annotations

import numpy as np

from .variants import register

__all__ = ["GENERATORS", "REFERENCES"]

GENERATORS = {}
REFERENCES = {}


def _add(name, reference):
    def wrap(gen):
        def constrained(rng):
            for _ in range(1000):
                params = gen(rng)
                if params is not None:
                    return params
            raise RuntimeError(f"the generator of {name} found no admissible variant in 1000 tries")  # pragma: no cover

        GENERATORS[name], REFERENCES[name] = constrained, reference
        register(name, reference, constrained)
        return constrained

    return wrap


def _round(x, step):
    return float(round(float(np.round(x / step) * step), 6))


# ex01: f = a x^3 y^2 - exp(b x z) + ln(y^2 + z^2); L = (w1^2 - w2)^2 + (w2 - c)^2.
# grad f(1, 1, 0) = (3a, 2a + 2, -b); critical points of L: (±sqrt(c), c) minima, (0, c/2) a saddle
# (its Hessian there is diag(-2c, 4): a real saddle for every c > 0). a, b, c differ from the reference's.
@_add("ex01", {"a": 1.0, "b": 1.0, "c": 1.0})
def _ex01(rng):
    a = _round(rng.uniform(0.5, 4.0), 0.25)
    b = _round(rng.uniform(0.5, 3.0), 0.25) * rng.choice([-1.0, 1.0])
    c = _round(rng.uniform(0.5, 4.0), 0.01)
    if a == 1.0 or b == 1.0 or abs(c - 1.0) < 0.05:  # never the reference numbers
        return None
    return {"a": a, "b": float(b), "c": c}


# ex02: f = alpha x^2 + beta xy + gamma y^2, positive definite with distinct eigenvalues,
# condition number in [1.5, 8], a real cross term (|beta| >= 0.5); the tangent at (1, -1) is
# turned at least 0.1 rad from the reference's (1, 1)/sqrt(2).
@_add("ex02", {"alpha": 1.0, "beta": 1.0, "gamma": 1.0})
def _ex02(rng):
    alpha, gamma = (_round(v, 0.5) for v in rng.uniform(0.5, 3.0, size=2))
    beta = _round(rng.uniform(-2.5, 2.5), 0.5)
    Q = np.array([[alpha, beta / 2], [beta / 2, gamma]])
    lam = np.linalg.eigvalsh(Q)
    g = np.array([2 * alpha - beta, beta - 2 * gamma])  # the gradient at (1, -1)
    if np.linalg.norm(g) < 0.5:
        return None
    turned = abs(g @ np.array([1.0, -1.0])) / (np.linalg.norm(g) * np.sqrt(2))
    if abs(beta) < 0.5 or lam[0] <= 0.2 or not 1.5 <= lam[1] / lam[0] <= 8 or turned > np.cos(0.1):
        return None
    return {"alpha": alpha, "beta": beta, "gamma": gamma}


# ex03: f = sin(xy) + cos(x) at a point a with |grad f(a)| in [0.5, 3], and slopes along
# (3, 4) and (1, 1) at least 0.1 in size (so that "not normalised" is recognisable); the gradient
# turned at least 0.1 rad from the reference's (-1, 0) and its length not within 2 % of 1.
@_add("ex03", {"a": [float(np.pi / 2), 1.0]})
def _ex03(rng):
    x, y = _round(rng.uniform(-2.0, 2.0), 0.05), _round(rng.uniform(-2.0, 2.0), 0.05)
    g = np.array([y * np.cos(x * y) - np.sin(x), x * np.cos(x * y)])
    slopes = [g @ np.array([0.6, 0.8]), g @ np.array([1.0, 1.0]) / np.sqrt(2)]
    norm = np.linalg.norm(g)
    if not 0.5 <= norm <= 3 or min(abs(s) for s in slopes) < 0.1:
        return None
    if abs(g[1]) < np.sin(0.1) * norm or abs(norm - 1) < 0.02:  # not the reference's direction (-1, 0) or length 1
        return None
    return {"a": [x, y]}


# ex04: the matrices and data of the visible checks. A2, A3 clearly non-symmetric;
# the least-squares A has full column rank (condition number <= 10); X has an intercept
# column and distinct inputs (condition number of X <= 20).
@_add("ex04", {
    "a_vec": [1.5, -2.0, 0.5],
    "A2_sym": [[2.0, 1.0], [1.0, 3.0]],
    "A2": [[2.0, 1.0], [-3.0, 4.0]],
    "A3": [[0.0, 1.0, 2.0], [0.0, 1.0, 0.0], [-1.0, 0.5, 1.0]],
    "A_ls": [[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]],
    "b_ls": [1.0, 0.5, -2.0],
    "X_reg": [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]],
    "y_reg": [1.0, 2.5, 2.9, 4.2],
})
def _ex04(rng):
    def ints(shape, lo=-4, hi=4):
        return rng.integers(lo, hi + 1, size=shape).astype(float)

    a_vec = ints(3)
    S = ints((2, 2), -3, 3)
    A2_sym = S + S.T + np.diag([4.0, 4.0])
    A2, A3 = ints((2, 2)), ints((3, 3))
    A_ls, b_ls = ints((3, 2)), ints(3) / 2
    xs = np.sort(rng.choice(np.arange(-3, 6), size=4, replace=False)).astype(float)
    X_reg = np.column_stack([np.ones(4), xs])
    y_reg = np.round(rng.uniform(-1, 1) + rng.uniform(-1.5, 1.5) * xs + rng.normal(scale=0.3, size=4), 1)
    if (np.count_nonzero(a_vec) < 2 or any(np.array_equal(a_vec, x) for x in ([1, 2, 3], [-0.4, 0, 2.5])) or np.abs(A2 - A2.T).max() < 1 or np.abs(A3 - A3.T).max() < 1
            or np.linalg.cond(A_ls) > 10 or np.linalg.cond(X_reg) > 20):
        return None
    return {"a_vec": a_vec.tolist(), "A2_sym": A2_sym.tolist(), "A2": A2.tolist(), "A3": A3.tolist(),
            "A_ls": A_ls.tolist(), "b_ls": b_ls.tolist(), "X_reg": X_reg.tolist(), "y_reg": y_reg.tolist()}


def ex05_data(params):
    """X (100 x 3) and y of exercise 5 for the given variant parameters."""
    rng = np.random.default_rng(params["data_seed"])
    X = rng.normal(size=(100, 3)) * np.asarray(params["scales"])
    y = X @ np.asarray(params["w_true"]) + rng.normal(scale=np.sqrt(0.1), size=100)
    return X, y


# ex05: the data set (seed, feature scales, true weights). The Hessian (2/m) X^T X has
# lambda_min >= 1.4 (1000 steps at 0.01 converge) and lambda_max < 150; the stability
# limit 2/lambda_max stays 15 % away from each of the rates 0.001, 0.01, 0.1, 1.0.
@_add("ex05", {"data_seed": 0, "scales": [1.0, 1.0, 1.0], "w_true": [2.0, -1.0, 0.5]})
def _ex05(rng):
    params = {
        "data_seed": int(rng.integers(1, 10**6)),
        "scales": [_round(s, 0.25) for s in rng.uniform(1.0, 3.5, size=3)],
        "w_true": [_round(w, 0.5) for w in rng.uniform(-3, 3, size=3)],
    }
    X, _ = ex05_data(params)
    lam = np.linalg.eigvalsh(2 / len(X) * X.T @ X)
    limit = 2 / lam[-1]
    if lam[0] < 1.4 or lam[-1] > 150 or min(abs(limit / r - 1) for r in (0.001, 0.01, 0.1, 1.0)) < 0.15:
        return None
    if np.count_nonzero(params["w_true"]) < 3:
        return None
    return params


def _ex06_curve(w):
    """Relative errors of centred differences of ex06's wavy function at w for h = 1e-12..1e-1."""
    def wavy(v):
        return float(np.sum(np.sin(3 * v)) + np.exp(v[0] * v[1]))

    exact = 3 * np.cos(3 * w)
    exact[0] += w[1] * np.exp(w[0] * w[1])
    exact[1] += w[0] * np.exp(w[0] * w[1])
    hs = np.logspace(-12, -1, 12)
    errs = []
    for h in hs:
        g = np.array([(wavy(w + h * e) - wavy(w - h * e)) / (2 * h) for e in np.eye(3)])
        errs.append(np.linalg.norm(g - exact) / (np.linalg.norm(g) + np.linalg.norm(exact)))
    return hs, np.array(errs)


# ex06: the data of (b) and (d) (seeds) and the point of (c). The error curve at w_wavy has
# its minimum between 1e-8 and 1e-3 with both ends 30 times worse (a clear V), and the
# gradient there is not small (norm >= 1); the logistic data have both labels.
@_add("ex06", {"seed_ls": 6, "seed_lr": 66, "w_wavy": [0.5, -0.3, 0.8]})
def _ex06(rng):
    w = np.round(rng.uniform(-1.2, 1.2, size=3), 2)
    hs, errs = _ex06_curve(w)
    best = int(np.argmin(errs))
    g = 3 * np.cos(3 * w)
    if not (1e-8 <= hs[best] <= 1e-3 and errs[0] > 30 * errs[best] and errs[-1] > 30 * errs[best]) or np.linalg.norm(g) < 1:
        return None
    seed_lr = int(rng.integers(100, 10**6))
    labels = np.random.default_rng(seed_lr)
    labels.normal(size=(30, 3))
    y = labels.uniform(size=30) < 0.5
    if not 5 <= y.sum() <= 25:
        return None
    return {"seed_ls": int(rng.integers(100, 10**6)), "seed_lr": seed_lr, "w_wavy": w.tolist()}


# ex07: the logits of (c) and (d). Every confident logit is 6..11 above the others, so the
# confidently-right norm is 1e-5..5e-3 and the confidently-wrong one close to sqrt(2); the
# true class of (c) is any of the five.
@_add("ex07", {"z_check": [0.3, -1.2, 2.1, 0.0, -0.4], "label_check": 3,
               "z_confident_correct": [12.0, 0.0, -3.0], "z_confident_wrong": [0.0, 12.0, -3.0]})
def _ex07(rng):
    z_check = np.round(rng.uniform(-2.5, 2.5, size=5), 1)
    label = int(rng.integers(0, 5))
    big_c, big_w = (_round(v, 0.5) for v in rng.uniform(8.0, 13.0, size=2))
    rest_c, rest_w = (np.round(rng.uniform(-3.0, 2.0, size=2), 1) for _ in range(2))
    if abs(big_c - 12.0) < 0.25 or abs(big_w - 12.0) < 0.25 or np.ptp(z_check) < 1:
        return None
    return {"z_check": z_check.tolist(), "label_check": label,
            "z_confident_correct": [big_c, *rest_c.tolist()],
            "z_confident_wrong": [float(rest_w[0]), big_w, float(rest_w[1])]}


def _ex08_arrivals(data, theta0, lr, T):
    """Steps after which plain and natural gradient ascent first come within 1e-3 of the MLE (T + 1: never)."""
    mle = np.array([data.mean(), data.std()])
    out = []
    for natural in (False, True):
        theta = np.array(theta0, dtype=float)
        arrival = T + 1
        for t in range(T + 1):
            if np.linalg.norm(theta - mle) < 1e-3:
                arrival = t
                break
            mu, sigma = theta
            if not np.isfinite(sigma) or sigma <= 0:
                break
            r = data - mu
            if natural:
                step = np.array([r.mean(), (np.mean(r**2) - sigma**2) / (2 * sigma)])
            else:
                step = np.array([r.mean() / sigma**2, -1 / sigma + np.mean(r**2) / sigma**3])
            theta = theta + lr * step
        out.append(arrival)
    return out


# ex08: the sample of (d) (seed, true mean and standard deviation) and the start. Both
# ascents reach the MLE within T = 200 steps of lr = 0.1, and the natural gradient arrives
# at least 10 steps before the plain one.
@_add("ex08", {"seed_d": 8, "mu_true": 2.0, "sigma_true": 1.0, "theta0": [0.0, 2.0]})
def _ex08(rng):
    params = {"seed_d": int(rng.integers(100, 10**6)), "mu_true": _round(rng.uniform(-3, 3), 0.5),
              "sigma_true": _round(rng.uniform(0.7, 1.3), 0.1),
              "theta0": [_round(rng.uniform(-2, 2), 0.5), _round(rng.uniform(1.2, 2.5), 0.1)]}
    data = np.random.default_rng(params["seed_d"]).normal(params["mu_true"], params["sigma_true"], size=100)
    plain, natural = _ex08_arrivals(data, params["theta0"], 0.1, 200)
    if plain > 200 or natural > 200 or natural + 10 > plain or abs(params["mu_true"] - params["theta0"][0]) < 1:
        return None
    return params


def _ex09_runs(w0, lr):
    w = np.float64(w0)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(20):
            w = w - lr * 4 * w**3
    unclipped = w
    w = float(w0)
    for _ in range(200):
        g = 4 * w**3
        w -= lr * g * min(1.0, 1.0 / abs(g))
    return unclipped, w


# ex09: the vector and threshold of (b) (value clipping turns it by at least 2 degrees), the
# data of (c), and start and rate of (d): without clipping |w| > 1e6 (or inf) within 20
# steps, with clipping 0 < |w| < 0.2 after 200 steps.
@_add("ex09", {"g_b": [10.0, 0.1], "c_b": 1.0, "seed_c": 9, "w0_d": 3.0, "lr_d": 0.1})
def _ex09(rng):
    g_b = [_round(rng.uniform(4, 12), 0.5) * rng.choice([-1, 1]), _round(rng.uniform(0.05, 0.5), 0.05)]
    c_b = _round(rng.uniform(0.5, 2.0), 0.25)
    clipped = np.clip(g_b, -c_b, c_b)
    cosine = np.dot(g_b, clipped) / (np.linalg.norm(g_b) * np.linalg.norm(clipped))
    w0, lr = _round(rng.uniform(2.0, 4.0), 0.25), _round(rng.uniform(0.05, 0.15), 0.01)
    unclipped, clipped_w = _ex09_runs(w0, lr)
    if cosine > np.cos(np.radians(2)) or (w0, lr) == (3.0, 0.1):
        return None
    if (np.isfinite(unclipped) and abs(unclipped) <= 1e6) or not 0 < abs(clipped_w) < 0.2:
        return None
    return {"g_b": [float(g) for g in g_b], "c_b": c_b, "seed_c": int(rng.integers(100, 10**6)),
            "w0_d": w0, "lr_d": lr}


# ex10: the ravine's coefficient kappa in w1^2 + kappa w2^2 (20..400, so that 0.98 of the
# stable limit converges within the check's 3000 steps); the loss of (a) is Exercise 1(d)'s
# with the student's own c from ex01.
@_add("ex10", {"kappa": 100.0})
def _ex10(rng):
    kappa = float(rng.integers(20, 401))
    if kappa in (100.0, 200.0):  # the reference, and the one where 1/200 (the 1/lambda_max slip at 100) is right
        return None
    return {"kappa": kappa}


def ex11_params(d, k, rng):
    """The network of exercise 11's ``make_params(d, k, rng)`` (the same draws in the same order)."""
    return {"W1": rng.normal(size=(d, k)), "b1": rng.normal(size=k), "W2": rng.normal(size=k), "b2": float(rng.normal())}


# ex11: the seeds of the demo, backward and gradient-check networks and batches. At the
# gradient-check network every hidden pre-activation is at least 0.01 from the ReLU's kink
# (a centred difference with h = 1e-5 never straddles it), both labels occur in each batch,
# and in the backward batch the dead unit 0 (bias -8) gets a positive X W1 on some row.
@_add("ex11", {"seed_demo": 11, "seed_bp": 111, "seed_check": 1111})
def _ex11(rng):
    seeds = {key: int(rng.integers(2000, 10**6)) for key in ("seed_demo", "seed_bp", "seed_check")}
    r = np.random.default_rng(seeds["seed_check"])
    p = ex11_params(4, 5, r)
    X = r.normal(size=(8, 4))
    y = r.uniform(size=8) < 0.5
    if np.abs(X @ p["W1"] + p["b1"]).min() < 0.01 or not 0 < y.sum() < 8:
        return None
    r = np.random.default_rng(seeds["seed_bp"])
    ex11_params(3, 4, r)
    X = r.normal(size=(6, 3))
    y = r.uniform(size=6) < 0.5
    if not (X @ np.array([1.5, -1.0, 0.8]) > 0).any() or not 0 < y.sum() < 6:
        return None
    r = np.random.default_rng(seeds["seed_demo"])
    ex11_params(3, 4, r)
    r.normal(size=(6, 3))
    if not 0 < (r.uniform(size=6) < 0.5).sum() < 6:
        return None
    return seeds
