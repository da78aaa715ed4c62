"""Finite-difference error study: orders, the V-shaped error, best steps and cost."""

import numpy as np
import pytest
import sympy as sp

from nablakit import fd_error as fe
from nablakit import numdiff


@pytest.fixture(scope="module")
def exp_curves():
    hs = fe.default_steps(-15, -1, per_decade=10)
    return hs, fe.error_curves(np.exp, np.exp, 1.0, hs)


def test_default_steps_are_log_spaced():
    hs = fe.default_steps(-15, -1, per_decade=10)
    assert hs.size == 141
    assert np.allclose(np.diff(np.log10(hs)), 0.1)
    assert np.isclose(hs[0], 1e-15) and np.isclose(hs[-1], 1e-1)


@pytest.mark.parametrize("f, df, x", [(np.exp, np.exp, 1.0), (np.sin, np.cos, 1.0), (np.log, lambda t: 1 / t, 2.0)])
def test_fitted_slopes_are_the_orders(f, df, x):
    hs = fe.default_steps(-6, -1, per_decade=10)
    curves = fe.error_curves(f, df, x, hs)
    assert abs(fe.fit_loglog_slope(hs, curves["forward"], (1e-6, 1e-2)) - 1) < 0.05
    assert abs(fe.fit_loglog_slope(hs, curves["backward"], (1e-6, 1e-2)) - 1) < 0.05
    assert abs(fe.fit_loglog_slope(hs, curves["central"], (1e-3, 1e-1)) - 2) < 0.05


def test_slope_of_exact_power_law_and_zero_errors_skipped():
    hs = np.logspace(-4, -1, 7)
    errors = 3 * hs**1.5
    errors[2] = 0.0
    assert np.isclose(fe.fit_loglog_slope(hs, errors), 1.5)
    with pytest.raises(ValueError, match="at least two steps"):
        fe.fit_loglog_slope(hs, errors, h_range=(1e-10, 1e-9))


def test_best_step_is_near_theory(exp_curves):
    hs, curves = exp_curves
    for method in ("forward", "central"):
        h_best, _ = fe.best_step(hs, curves[method])
        theory = fe.rule_of_thumb_step(method)
        assert abs(np.log10(h_best / theory)) < 1.5, f"{method}: best h {h_best:.1e} vs theory {theory:.1e}"
        # with the constants of the error model (|f| = |f''| = |f'''| = e at x = 1) it is much closer
        refined = fe.optimal_step(method, f_scale=np.e, derivative_scale=np.e)
        assert abs(np.log10(h_best / refined)) < 0.75


def test_error_is_v_shaped(exp_curves):
    hs, curves = exp_curves
    for method, e in curves.items():
        i = int(np.argmin(e))
        assert 0 < i < hs.size - 1, f"{method}: the minimum must be inside the range"
        assert e[0] > 100 * e[i] and e[-1] > 100 * e[i], f"{method}: both arms of the V must rise"


def test_error_model_matches_sympy_minimiser():
    h, eps, F, M = sp.symbols("h epsilon F M", positive=True)
    forward_total = M * h / 2 + 2 * eps * F / h
    central_total = M * h**2 / 6 + eps * F / h
    h_fwd = sp.solve(sp.diff(forward_total, h), h)[0]
    h_cen = sp.solve(sp.diff(central_total, h), h)[0]
    values = {eps: fe.EPS, F: 2.0, M: 0.5}
    assert np.isclose(fe.optimal_step("forward", f_scale=2.0, derivative_scale=0.5), float(h_fwd.subs(values)))
    assert np.isclose(fe.optimal_step("central", f_scale=2.0, derivative_scale=0.5), float(h_cen.subs(values)))
    hs = np.array([1e-6])
    trunc, rnd = fe.error_model(hs, "forward", f_scale=2.0, derivative_scale=0.5)
    assert np.isclose(trunc[0] + rnd[0], float(forward_total.subs(values | {h: 1e-6})))


def test_model_bounds_the_measured_error(exp_curves):
    hs, curves = exp_curves
    for method in ("forward", "central"):
        trunc, rnd = fe.error_model(hs, method, f_scale=np.e, derivative_scale=np.e)
        # a generous factor: round-off of real evaluations can be a few eps
        assert np.all(curves[method] <= 4 * (trunc * 1.1 + rnd) + 1e-300)


def test_rule_of_thumb_numbers():
    assert np.isclose(fe.rule_of_thumb_step("forward"), 1.49e-8, rtol=1e-2)
    assert np.isclose(fe.rule_of_thumb_step("central"), 6.06e-6, rtol=1e-2)
    assert np.isclose(fe.rule_of_thumb_step("central", eps=np.finfo(np.float32).eps), 4.9e-3, rtol=1e-2)


@pytest.mark.parametrize("n", [1, 7, 50])
def test_evaluation_counts_match_numdiff(n):
    x = np.linspace(0.1, 1.0, n)
    for method in ("central", "forward", "backward"):
        counter = fe.CallCounter(lambda v: float(np.sum(v**2)))
        numdiff.numerical_gradient(counter, x, method=method)
        assert counter.calls == fe.fd_evaluation_count(n, method)


def test_cost_table_counts_and_agreement():
    rows = fe.gradient_cost_table([2, 5], n_in=3, n_samples=4, repeats=1)
    assert [r["n_params"] for r in rows] == [3 * 2 + 2 + 2 + 1, 3 * 5 + 5 + 5 + 1]
    assert [r["fd_evaluations"] for r in rows] == [2 * 11, 2 * 26]
    for r in rows:
        assert r["fd_seconds"] > 0 and r["backprop_seconds"] > 0
        assert r["max_abs_difference"] < 1e-7


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: fe.error_curves(np.exp, np.exp, 1.0, [1e-3, 0.0]), ValueError, "hs must contain only steps > 0"),
        (lambda: fe.error_curves(np.exp, np.exp, 1.0, [1e-3], methods=("sideways",)), ValueError, "method"),
        (lambda: fe.error_curves("exp", np.exp, 1.0, [1e-3]), TypeError, "f must be callable"),
        (lambda: fe.rule_of_thumb_step("fwd"), ValueError, "method must be one of"),
        (lambda: fe.fd_evaluation_count(0), ValueError, "n must be a positive integer"),
        (lambda: fe.default_steps(-1, -3), ValueError, "lo must be smaller"),
        (lambda: fe.optimal_step("central", eps=-1.0), ValueError, "eps must be"),
        (lambda: fe.gradient_cost_table([2], repeats=0), ValueError, "repeats"),
    ],
)
def test_bad_input_is_reported(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_nearest_step_index_on_log_scale():
    hs = fe.default_steps(-15, -1, per_decade=10)
    assert fe.nearest_step_index(hs, 1e-5) == 100
    assert fe.nearest_step_index(hs, 1.1e-5) == 100  # closer to 1e-5 than to 1.26e-5 in log10
    assert fe.nearest_step_index(hs, 1e-20) == 0 and fe.nearest_step_index(hs, 10.0) == 140


def test_format_cost_table_one_line_per_row():
    rows = fe.gradient_cost_table([2, 5], n_in=3, n_samples=4, repeats=1)
    lines = fe.format_cost_table(rows).splitlines()
    assert len(lines) == 3 and lines[0].split()[:2] == ["n", "params"]
    for line, row in zip(lines[1:], rows):
        fields = line.split()
        assert int(fields[0]) == row["n_params"] and int(fields[1]) == row["fd_evaluations"]
        assert float(fields[2]) == pytest.approx(1e3 * row["fd_seconds"], abs=0.006)


def test_methods_are_numdiffs_in_display_order():
    assert sorted(fe.METHODS) == sorted(numdiff.METHODS) and fe.METHODS[-1] == "central"
