"""Every number the prose of chapters 07 and 08 states, recomputed.

Chapter 07 uses f = exp at x = 1 throughout, so its facts are recomputed here
from the package. Chapter 08's numbers come from code cells of the notebook
tagged "facts"; they are executed here in order (they are plain Python), so
the tests check exactly the code the learner runs.
"""

import inspect
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp

from nablakit import fd_error, gradcheck, networks, numdiff
from nablakit.plotting import PALETTE
from nablakit.selfcheck import QUESTIONS
from nablakit.widgets import finite_diff as fdw

ROOT = Path(__file__).resolve().parents[1]
E = np.e
STEP = 10 ** 0.1  # one point of the 10-per-decade grid of steps


# ----------------------------------------------------------------- chapter 07


@pytest.fixture(scope="module")
def curves():
    hs = fd_error.default_steps(-15, -1, per_decade=10)
    return hs, fd_error.error_curves(np.exp, E, 1.0, hs)


def test_07_first_estimates_at_h_1e_3():
    h = 1e-3
    fwd = numdiff.forward_difference(np.exp, 1.0, h) - E
    bwd = numdiff.backward_difference(np.exp, 1.0, h) - E
    cen = numdiff.central_difference(np.exp, 1.0, h) - E
    assert np.isclose(E, 2.718, atol=5e-4)
    assert fwd > 0 and np.isclose(fwd, 1.4e-3, rtol=0.05)          # "too large by about 1.4e-3"
    assert bwd < 0 and np.isclose(-bwd, fwd, rtol=0.01)             # "too small by about the same"
    assert np.isclose(cen, 4.5e-7, rtol=0.02)                       # "about 4.5e-7"
    assert 2500 < fwd / cen < 3500                                  # "some three thousand times less"
    assert np.isclose(cen, (fwd + bwd) / 2, atol=1e-12)             # centred = average of the two


@pytest.mark.parametrize("g", [sp.exp, sp.sin])
def test_07_taylor_error_terms(g):
    x, h = sp.symbols("x h", real=True)
    f = g(x)
    shift = lambda s: f.subs(x, x + s)  # noqa: E731
    forward = sp.series((shift(h) - f) / h - sp.diff(f, x), h, 0, 2).removeO()
    backward = sp.series((f - shift(-h)) / h - sp.diff(f, x), h, 0, 2).removeO()
    central = sp.series((shift(h) - shift(-h)) / (2 * h) - sp.diff(f, x), h, 0, 4).removeO()
    assert sp.simplify(forward - h / 2 * sp.diff(f, x, 2)) == 0
    assert sp.simplify(backward + h / 2 * sp.diff(f, x, 2)) == 0
    assert sp.simplify(central - h**2 / 6 * sp.diff(f, x, 3)) == 0   # no h**1 or h**3 term


def test_07_error_models_and_tenfold_rule():
    errs = {}
    for h in [1e-1, 1e-2, 1e-3]:
        fwd = numdiff.forward_difference(np.exp, 1.0, h) - E
        cen = numdiff.central_difference(np.exp, 1.0, h) - E
        assert np.isclose(fwd, h / 2 * E, rtol=0.04)                 # "already good at h = 0.1"
        assert np.isclose(cen, h**2 / 6 * E, rtol=1e-3)
        errs[h] = (fwd, cen)
    for big, small in [(1e-1, 1e-2), (1e-2, 1e-3)]:
        assert 9 < errs[big][0] / errs[small][0] < 11                # forward: / 10
        assert 90 < errs[big][1] / errs[small][1] < 110              # centred: / 100


def test_07_try_it_model_matches_to_four_digits():
    measured = numdiff.central_difference(np.exp, 1.0, 1e-2) - E
    assert abs(measured / (1e-4 / 6 * E) - 1) < 1e-3


def test_07_steps_and_slopes(curves):
    hs, c = curves
    assert hs.size == 141 and np.isclose(hs[0], 1e-15) and np.isclose(hs[-1], 1e-1)
    assert fd_error.TRUNCATION_RANGES == {"forward": (1e-6, 1e-2), "backward": (1e-6, 1e-2), "central": (1e-3, 1e-1)}
    for m, p in [("forward", 1), ("backward", 1), ("central", 2)]:
        s = fd_error.fit_loglog_slope(hs, c[m], fd_error.TRUNCATION_RANGES[m])
        assert abs(s - p) < 0.005, f"{m}: slope {s:.4f}, text says {p}.00"
        # caption: the round-off arm has slope about -1
        assert abs(fd_error.fit_loglog_slope(hs, c[m], (1e-15, 1e-10)) + 1) < 0.15


def test_07_best_steps_and_their_errors(curves):
    hs, c = curves
    assert np.isclose(fd_error.EPS, 2.2e-16, rtol=0.01)
    assert np.isclose(fd_error.rule_of_thumb_step("forward"), 1.5e-8, rtol=0.02)
    assert np.isclose(fd_error.rule_of_thumb_step("central"), 6.1e-6, rtol=0.02)
    assert np.isclose(fd_error.optimal_step("forward", f_scale=E, derivative_scale=E), 3.0e-8, rtol=0.02)
    assert np.isclose(fd_error.optimal_step("central", f_scale=E, derivative_scale=E), 8.7e-6, rtol=0.02)
    h_fwd, e_fwd = fd_error.best_step(hs, c["forward"])
    h_cen, e_cen = fd_error.best_step(hs, c["central"])
    # The measured bottoms depend on the machine's rounding (7.9e-6 on one x86-64 machine, 5.0e-6 on
    # another), so they are compared with the range theory gives, never with one machine's number:
    # between a fifth (forward) or a third (centred) of the model's step and the model's step,
    # give or take one grid point (10 per decade).
    for m, h_best, low in [("forward", h_fwd, 1 / 5), ("central", h_cen, 1 / 3)]:
        model = fd_error.optimal_step(m, f_scale=E, derivative_scale=E)
        assert low * model / STEP <= h_best <= model * STEP, f"{m}: {h_best:.2g} vs model {model:.2g}"
    assert round(3.0e-8 / 5, 9) == 6e-9 and round(8.7e-6 / 3, 6) == 3e-6           # the stated ranges
    assert 1e-9 < e_fwd < 5e-8                  # "around 1e-8, only about eight correct digits"
    assert e_cen < 5e-11                        # "1e-11 or less"
    # the centred V bottoms out at a larger h and a far smaller error (figure caption)
    assert h_cen > h_fwd and e_cen < e_fwd / 100


def test_07_default_step_comparison(curves):
    hs, c = curves
    i = fd_error.nearest_step_index(hs, 1e-5)
    assert 3e-6 < c["forward"][i] < 3e-5        # "about 1e-5"
    assert c["central"][i] < 1e-10              # "below 1e-10"
    assert 1e4 < c["forward"][i] / c["central"][i] < 1e6   # "roughly five orders of magnitude"
    j, k = fd_error.nearest_step_index(hs, 1e-12), fd_error.nearest_step_index(hs, 1e-2)
    # "of the order of 1e-4" at h = 1e-12: one rounding error, so a band of the model's size eps*e/h,
    # not one machine's value; "worse than 4.5e-5" holds for the round-off arm around that step
    model = fd_error.EPS * E / 1e-12
    assert np.isclose(model, 6e-4, rtol=0.02) and c["central"][j] < 2 * model
    around = (hs > 1e-12 / 3) & (hs < 3e-12)
    assert np.isclose(c["central"][k], 4.5e-5, rtol=0.02) and np.median(c["central"][around]) > c["central"][k]
    assert inspect.signature(numdiff.central_difference).parameters["h"].default == 1e-5
    assert inspect.signature(gradcheck.check_gradient).parameters["h"].default == 1e-5


def test_07_single_precision_numbers():
    eps32 = float(np.finfo(np.float32).eps)
    assert np.isclose(eps32, 1.2e-7, rtol=0.01)
    assert np.isclose(fd_error.rule_of_thumb_step("central", eps=eps32), 4.9e-3, rtol=0.02)


def test_07_explorer_turning_points_and_try_it(curves):
    hs, c = curves
    # caption: moving left from 1e-3 the centred dot turns first (3e-6 to 9e-6), the forward one near 1e-8
    h_cen, h_fwd = fd_error.best_step(hs, c["central"])[0], fd_error.best_step(hs, c["forward"])[0]
    assert 3e-6 / STEP <= h_cen <= 9e-6 * STEP and h_fwd < h_cen / 100
    assert abs(np.log10(h_fwd) + 8) < 0.7
    # the try-it accepts every exponent in the stated range, wherever this machine's bottom lies
    q = QUESTIONS["07.best-exponent"]
    for h in (3e-6 / STEP, 9e-6 * STEP, h_cen):
        assert abs(np.log10(h) - q.expected) <= q.atol
    assert fdw.method_style("forward")["color"] == PALETTE["vermillion"]
    assert fdw.method_style("central")["color"] == PALETTE["blue"]


def test_07_evaluation_counts():
    for n in [10, 1_000, 1_000_000, 1_000_000_000]:
        assert fd_error.fd_evaluation_count(n, "central") == 2 * n
        assert fd_error.fd_evaluation_count(n, "forward") == n + 1
    assert fd_error.fd_evaluation_count(25_000) == 50_000


def test_07_cost_table_counts():
    rows = fd_error.gradient_cost_table([2, 8, 32, 128], n_in=8, n_samples=32, repeats=1)
    assert [r["n_params"] for r in rows] == [21, 81, 321, 1281]
    assert [r["fd_evaluations"] for r in rows] == [42, 162, 642, 2562]
    assert all(r["max_abs_difference"] < 1e-9 for r in rows)   # "agree to about ten decimal places"


# ----------------------------------------------------------------- chapter 08


@pytest.fixture(scope="module")
def ch08():
    nb = nbformat.read(ROOT / "course" / "08-gradient-checking.ipynb", as_version=4)
    ns = {"np": np, "gradcheck": gradcheck, "networks": networks, "numdiff": numdiff}
    tagged = [c for c in nb.cells if c.cell_type == "code" and "facts" in c.metadata.get("tags", [])]
    assert len(tagged) >= 10, "the chapter's fact cells are missing their 'facts' tag"
    for cell in tagged:
        exec(compile(cell.source, "<chapter 08 cell>", "exec"), ns)
    return ns


def test_08_relative_error_properties(ch08):
    assert inspect.signature(gradcheck.relative_error).parameters["tiny"].default == 1e-12
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    a, b = ch08["a"], ch08["b"]
    for scale in [1.0, 1e3, 1e-3]:
        assert np.isclose(gradcheck.relative_error(scale * a, scale * b), 1e-7, rtol=1e-6)
        assert np.isclose(np.linalg.norm(scale * (a - b)), scale * 1e-6, rtol=1e-6)
    g = ch08["g"]
    assert gradcheck.relative_error(g, -g) == pytest.approx(1.0)
    assert gradcheck.relative_error(g, g / 2) == pytest.approx(1 / 3)
    assert gradcheck.relative_error(g, 3 * g) == pytest.approx(0.5)          # try-it
    rng = np.random.default_rng(0)
    for c in [0.1, 0.5, 2.0, 7.0]:
        v = rng.normal(size=5)
        assert gradcheck.relative_error(v, c * v) == pytest.approx(abs(1 - c) / (1 + c))


def test_08_thresholds():
    assert inspect.signature(fdw.draw_check_bars).parameters["thresholds"].default == (1e-7, 1e-4)
    assert inspect.signature(gradcheck.check_gradient).parameters["threshold"].default == 1e-6
    assert 1e-7 < 1e-6 < 1e-4                                                # default sits in the middle band


def test_08_kink_false_alarm(ch08):
    l1, l1_grad, x = ch08["l1"], ch08["l1_grad"], ch08["x_kink"]
    assert x[2] == 3e-6
    r = gradcheck.check_gradient(l1, l1_grad, x, h=1e-5)
    assert not r.passed and r.relative_error == pytest.approx(0.22, abs=0.005) and r.worst_index == (2,)
    assert r.numeric[2] == pytest.approx(0.3) and r.numeric[2] == pytest.approx(x[2] / 1e-5)
    r_small = gradcheck.check_gradient(l1, l1_grad, x, h=1e-7)
    assert r_small.passed and r_small.relative_error < 1e-9


def test_08_bug_hunt(ch08):
    results = ch08["results"]
    for name, r in results.items():
        assert not r.passed and 0.01 < r.relative_error < 0.3, f"suspect {name}: {r.relative_error:.3g}"
        assert r.relative_error > 100 * 1e-4
    b = results["B"]
    assert b.worst_index == (3,)
    ratios = b.numeric / b.analytic
    assert np.allclose(ratios[:3], 1.0, rtol=1e-6) and ratios[3] == pytest.approx(2.0, rel=1e-6)
    sym = gradcheck.check_gradient(*ch08["make_quadratic"](ch08["A_sym"]), ch08["x_a"])
    assert sym.passed and sym.relative_error < 1e-9
    c = results["C"]
    assert c.worst_index == (int(np.argmax(np.abs(ch08["w_c"]))),)
    assert np.allclose(c.numeric - c.analytic, 2 * ch08["lam"] * ch08["w_c"], atol=1e-8)
    assert ch08["lam"] == 0.1
    w_try = np.array([0.1, -0.2, 0.9, 0.3, -0.5])                           # try-it
    assert gradcheck.check_gradient(ch08["reg_logistic"], ch08["reg_logistic_grad"], w_try).worst_index == (2,)


def test_08_fixed_gradients_pass(ch08):
    for name, (f, _, x) in ch08["suspects"].items():
        err = gradcheck.check_gradient(f, ch08["fixed"][name], x).relative_error
        assert err < 1e-9, f"suspect {name} fixed: {err:.2e}"


def test_08_network_check(ch08):
    params, X, y = ch08["params"], ch08["X_net"], ch08["y_net"]
    assert X.shape == (10, 4) and params["W1"].shape == (4, 6) and params["W2"].shape == (6, 3)
    assert networks.n_params(params) == 51 and fd_error.fd_evaluation_count(51) == 102
    counter = fd_error.CallCounter(ch08["loss_flat"])
    r = gradcheck.check_gradient(counter, ch08["grad_flat"], ch08["theta"])
    assert r.passed and counter.calls == 102
    ok = {row["name"]: row["relative_error"] for row in ch08["table_ok"]}
    assert all(e < 1e-9 for e in ok.values())                                 # "around 1e-10 or below"
    draft = {row["name"]: row["relative_error"] for row in ch08["table_draft"]}
    assert draft["W2"] < 1e-10 and draft["b2"] < 1e-10                          # "about 1e-11"
    assert draft["W1"] == pytest.approx(0.4, abs=0.05) and draft["b1"] == pytest.approx(0.3, abs=0.05)


def test_08_draft_fixed_by_the_missing_factor(ch08):
    def repaired(params, X, y):
        g = ch08["backprop_draft"](params, X, y)
        H = np.tanh(X @ params["W1"] + params["b1"])
        logits = H @ params["W2"] + params["b2"]
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        d_logits = (P - np.eye(P.shape[1])[y]) / len(y)
        d_Z1 = (d_logits @ params["W2"].T) * (1 - H**2)
        return {**g, "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0)}

    rows = networks.gradient_check_table(ch08["params"], ch08["X_net"], ch08["y_net"], grads=repaired,
                                         loss="cross_entropy")
    assert all(r["relative_error"] < 1e-9 for r in rows)


def test_08_directional_check(ch08):
    fd, u = ch08["directional_fd"], ch08["u"]
    assert np.isclose(np.linalg.norm(u), 1.0)
    assert fd == pytest.approx(ch08["grad_flat"](ch08["theta"]) @ u, rel=1e-7)
    assert abs(ch08["grad_draft"] @ u - fd) > 1e-3 * max(abs(fd), 1e-12) + 1e-4


def test_08_bug_hunt_error_range(ch08):
    errors = sorted(r.relative_error for r in ch08["results"].values())
    assert errors[0] == pytest.approx(0.02, abs=0.005) and errors[-1] == pytest.approx(0.25, abs=0.01)


# ------------------------------------------------- "Try it" answers in selfcheck


def test_07_08_stored_try_it_answers(curves, ch08):
    hs, c = curves

    def stored(name):
        return QUESTIONS[name].expected

    measured = numdiff.central_difference(np.exp, 1.0, 1e-2) - E
    assert stored("07.centred-error") == pytest.approx(measured, rel=1e-3)
    q = QUESTIONS["07.best-exponent"]
    # stored: the model's step (machine independent, eps is IEEE's), not one machine's measured bottom
    model = fd_error.optimal_step("central", f_scale=E, derivative_scale=E)
    assert q.expected == pytest.approx(np.log10(model), abs=1e-12)
    assert q.atol == 0.6 and q.rtol == 0.0  # "-5" is accepted, as the prompt's example suggests
    assert abs(-5 - q.expected) <= q.atol
    assert stored("07.evaluations") == fd_error.fd_evaluation_count(25_000, "central")
    g = ch08["g"]
    assert stored("08.relative-error") == pytest.approx(gradcheck.relative_error(g, 3 * g))
    w_try = np.array([0.1, -0.2, 0.9, 0.3, -0.5])
    flagged = gradcheck.check_gradient(ch08["reg_logistic"], ch08["reg_logistic_grad"], w_try).worst_index
    assert (stored("08.worst-index"),) == flagged


def test_08_kink_explorer_caption(ch08):
    l1, l1_grad, x = ch08["l1"], ch08["l1_grad"], ch08["x_kink"]
    hs = fd_error.default_steps(-10, -2)
    assert hs.size == 81 and np.isclose(hs[0], 1e-10) and np.isclose(hs[-1], 1e-2)
    checks = [gradcheck.check_gradient(l1, l1_grad, x, h=h) for h in hs]
    errors = np.array([c.relative_error for c in checks])
    left, right = hs < abs(x[2]), hs > abs(x[2])
    assert errors[right].min() > 1e-2                                       # "jumps past 1e-2 at once"
    assert errors[-1] == pytest.approx(1 / (np.sqrt(3) + np.sqrt(2)), rel=1e-3)
    assert round(1 / (np.sqrt(3) + np.sqrt(2)), 2) == 0.32
    assert all(c.worst_index == (2,) for c, r in zip(checks, right) if r)
    assert errors[left & (hs >= 1e-9)].max() < 1e-7                         # great down to about 1e-9
    assert 1e-7 < errors[hs < 1e-9].max() < 1e-6                             # look closer, yet passes


# ----------------------------------------------------------------- issue 21, section 4


def prose(number):
    """The markdown of chapter ``number`` (two digits), found by file name."""
    (path,) = (ROOT / "course").glob(f"{number}-*.ipynb")
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_07_08_each_chapter_names_the_parts_of_exercise_6_it_prepares():
    (path,) = (ROOT / "solutions").glob("ex06-*/ex06-*.ipynb")
    intro = nbformat.read(path, as_version=4).cells[0].source
    rows = {line.split("|")[1].strip(): line for line in intro.splitlines() if line.startswith("| (")}
    assert "numerical_gradient" in rows["(a)"] and "best_h" in rows["(c)"]           # chapter 07's tools
    assert "relative_error" in rows["(b)"] and "logistic" in rows["(d)"]             # chapter 08's tools
    ch07_text, ch08_text = prose("07"), prose("08")
    assert "prepares the last\ntwo parts" not in ch07_text
    assert "This chapter prepares parts (a) and (c)" in ch07_text and "prepares (b) and (d)" in ch07_text
    assert "(parts (b) and\n  (d) are this chapter's tools)" in ch08_text
    assert "V for a least-squares loss" not in ch07_text                             # (c) uses `wavy`


def test_07_round_off_is_smaller_by_the_factor_the_range_implies():
    # a fifth of the forward step and a third of the centred one: c = 5**2 and 3**3
    assert 5.0 ** 2 == 25 and 3.0 ** 3 == 27
    forward = fd_error.optimal_step("forward", f_scale=E, derivative_scale=E)
    central = fd_error.optimal_step("central", f_scale=E, derivative_scale=E)
    assert fd_error.optimal_step("forward", f_scale=E / 25, derivative_scale=E) == pytest.approx(forward / 5)
    assert fd_error.optimal_step("central", f_scale=E / 27, derivative_scale=E) == pytest.approx(central / 3)
    text = prose("07")
    assert "several times smaller" not in text and "up to 25 to 27" in text


def test_08_fixed_quadratics_have_round_off_only(ch08):
    eps = np.finfo(float).eps
    for name in ("A", "B"):                      # quadratics: exact at any h, so no truncation error
        f, _, x = ch08["suspects"][name]
        g = ch08["fixed"][name](x)
        assert gradcheck.relative_error(g, numdiff.numerical_gradient(f, x, h=0.1)) < 1e-13
        model = eps * abs(f(x)) / (1e-5 * np.linalg.norm(g))              # chapter 07's round-off model
        assert 2e-11 <= model < 3.5e-11                                    # "2 to 3 x 10^-11"
        assert gradcheck.check_gradient(f, ch08["fixed"][name], x).relative_error < 3 * model   # size, not value
    f, _, x = ch08["suspects"]["C"]                 # not a quadratic: truncation ~ h^2, 4e-12 at h = 1e-5
    g = ch08["fixed"]["C"](x)
    at_1e_2 = gradcheck.relative_error(g, numdiff.numerical_gradient(f, x, h=1e-2))
    assert at_1e_2 > 1e-6 and f"{at_1e_2 * 1e-6:.0e}" == "4e-12"
    text = prose("08")
    assert "at the level the\ntruncation error of centred differences predicts" not in text
    assert "round-off alone" in text and "$4 \\times 10^{-12}$" in text
