"""The shared exercise checks: helpful messages, named mistakes, no answer leaked."""

import functools
import sys
import types
import warnings

import numpy as np
import pytest

from nablakit import checks


def test_as_array_accepts_lists_tuples_and_numbers():
    assert np.allclose(checks.as_array((1, 2), "v"), [1.0, 2.0])
    assert checks.as_array(3, "s").shape == ()


@pytest.mark.parametrize("bad", [None, NotImplemented, "abc", {"a": 1}, [1, "x"], print])
def test_as_array_rejects_with_a_message_naming_the_object(bad):
    with pytest.raises(AssertionError, match="grad_f"):
        checks.as_array(bad, "grad_f")


def test_expect_close_passes_within_tolerance_and_returns_array():
    out = checks.expect_close([1.0, 2.0 + 1e-9], np.array([1.0, 2.0]), "g")
    assert isinstance(out, np.ndarray) and out.shape == (2,)


def test_expect_close_message_shows_received_not_expected():
    secret = np.array([0.123456, 9.87654])
    with pytest.raises(AssertionError) as info:
        checks.expect_close([5.5, 6.5], secret, "grad_f(p)")
    msg = str(info.value)
    assert "grad_f(p)" in msg and "5.5" in msg and "6.5" in msg
    assert "0.123" not in msg and "9.87" not in msg


def test_expect_close_names_the_misconception():
    ref = np.array([2.0, -4.0])
    wrong = checks.scaled_variants(ref, {"sign flipped": -1, "missing 1/m": 100})
    with pytest.raises(AssertionError, match="Recognised mistake: missing 1/m"):
        checks.expect_close(ref * 100, ref, "mse_grad", misconceptions=wrong)
    with pytest.raises(AssertionError) as info:
        checks.expect_close([7.0, 7.0], ref, "mse_grad", misconceptions=wrong)
    assert "Recognised" not in str(info.value)


def test_expect_close_shape_and_finiteness():
    with pytest.raises(AssertionError, match=r"shape \(3,\)"):
        checks.expect_close([1.0, 2.0], np.zeros(3), "g")
    with pytest.raises(AssertionError, match="finite"):
        checks.expect_close([np.nan, 1.0], np.zeros(2), "g")


def test_expect_unit_and_shape():
    assert np.allclose(checks.expect_unit([0.0, -1.0], "u"), [0.0, -1.0])
    with pytest.raises(AssertionError, match="norm 5"):
        checks.expect_unit([3.0, 4.0], "u")
    with pytest.raises(AssertionError, match=r"\(n, 2\)"):
        checks.expect_shape(np.zeros((4, 3)), (None, 2), "pts")


def test_expect_same_points_any_order_and_named_mistake():
    ref = [(1, 1), (-1, 1), (0, 0.5)]
    checks.expect_same_points([(0, 0.5), (1, 1), (-1, 1)], ref, "crit")
    with pytest.raises(AssertionError, match="missing the saddle"):
        checks.expect_same_points([(1, 1), (-1, 1)], ref, "crit",
                                  misconceptions={"missing the saddle": [(1, 1), (-1, 1)]})
    with pytest.raises(AssertionError, match="right points"):
        checks.expect_same_points([(1, 1), (-1, 1), (0, 0)], ref, "crit")


def test_expect_raises_and_unmodified():
    def strict(u):
        raise ValueError("u must be a unit vector")

    assert "unit" in checks.expect_raises(ValueError, strict, [3, 4], what="d(g, u)")
    with pytest.raises(AssertionError, match="should raise ValueError"):
        checks.expect_raises(ValueError, lambda u: 1.0, [3, 4], what="d(g, u)")

    def copy_ok(x):
        y = x.copy()
        y += 1
        return y

    x = np.zeros(3)
    assert np.allclose(checks.expect_unmodified(copy_ok, x, what="f"), 1.0)


def test_reference_derivatives_are_accurate_and_leave_x_alone():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    x = rng.normal(size=3)
    x_before = x.copy()
    g = checks.reference_gradient(lambda v: v @ A @ v + np.sin(v[0]), x)
    assert np.allclose(g, (A + A.T) @ x + np.array([np.cos(x[0]), 0, 0]), atol=1e-7)
    assert np.array_equal(x, x_before)
    W = rng.normal(size=(2, 4))
    g2 = checks.reference_gradient(lambda M: np.sum(M**3), W)
    assert g2.shape == W.shape and np.allclose(g2, 3 * W**2, atol=1e-6)
    J = checks.reference_jacobian(lambda v: np.tanh(A @ v), x)
    assert np.allclose(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A, atol=1e-7)


def test_reference_gradient_ignores_a_patched_numdiff(monkeypatch):
    fake = types.ModuleType("nablakit.numdiff")
    fake.numerical_gradient = lambda f, x, h=1e-5: np.zeros_like(np.asarray(x, float))
    monkeypatch.setitem(sys.modules, "nablakit.numdiff", fake)
    assert np.allclose(checks.reference_gradient(lambda v: v @ v, [1.0, 2.0]), [2.0, 4.0])


@pytest.fixture
def fake_package(monkeypatch):
    """A stand-in nablakit module holding an 'answer' function."""
    mod = types.ModuleType("nablakit.fakeanswers")

    def directional_derivative(grad, u):
        return float(np.dot(grad, u))

    directional_derivative.__module__ = "nablakit.fakeanswers"
    mod.directional_derivative = directional_derivative
    monkeypatch.setitem(sys.modules, "nablakit.fakeanswers", mod)
    return mod


def test_reject_package_answer_imported_function(fake_package):
    with pytest.raises(AssertionError, match="nablakit package"):
        checks.reject_package_answer(fake_package.directional_derivative, "directional_derivative")
    with pytest.raises(AssertionError, match="nablakit package"):
        checks.reject_package_answer(functools.partial(fake_package.directional_derivative, [1, 0]), "dd")


def test_reject_package_answer_wrapper_and_module_attribute(fake_package):
    glob = {"dd_pkg": fake_package.directional_derivative, "pkg": fake_package, "np": np}
    exec("def directional_derivative(grad, u):\n    return dd_pkg(grad, u)", glob)
    exec("def via_module(grad, u):\n    return pkg.directional_derivative(grad, u)", glob)
    exec("def own(grad, u):\n    return float(np.dot(grad, u))", glob)
    with pytest.raises(AssertionError, match="calls the nablakit"):
        checks.reject_package_answer(glob["directional_derivative"], "directional_derivative")
    with pytest.raises(AssertionError, match="calls the nablakit"):
        checks.reject_package_answer(glob["via_module"], "directional_derivative")
    checks.reject_package_answer(glob["own"], "directional_derivative")


def test_reject_package_answer_real_package_function():
    with pytest.raises(AssertionError, match="nablakit"):
        checks.reject_package_answer(checks.reference_gradient, "reference_gradient")
    with pytest.raises(AssertionError, match="missing"):
        checks.reject_package_answer(None, "grad_f")


def test_reference_hessian_and_directional():
    H = checks.reference_hessian(lambda v: np.exp(v[0] * v[1]), [0.5, -0.4])
    e = np.exp(-0.2)
    exact = np.array([[0.16 * e, (1 - 0.2) * e], [(1 - 0.2) * e, 0.25 * e]])
    assert np.allclose(H, exact, atol=1e-6)
    d = checks.reference_directional(lambda v: np.sin(v[0]) + v[1] ** 2, [0.3, 1.0], [0.0, 1.0])
    assert np.isclose(d, 2.0, atol=1e-8)


def test_hidden_tests_hide_the_code_but_keep_the_message():
    with pytest.raises(checks.HiddenTestFailure) as info:
        with checks.hidden_tests():
            checks.expect_close([1.0], [2.0], "g at a hidden point")
    assert isinstance(info.value, AssertionError)
    assert info.value._render_traceback_() == [f"HiddenTestFailure: {info.value}"]
    assert "g at a hidden point" in str(info.value) and "hidden check" in str(info.value)
    with pytest.raises(checks.HiddenTestFailure, match="ZeroDivisionError"):
        with checks.hidden_tests():
            1 / 0


def test_expect_raises_names_the_mistake():
    with pytest.raises(AssertionError, match="Recognised mistake: accepting a non-unit u"):
        checks.expect_raises(ValueError, lambda u: 0.0, [3, 4], what="d", mistake="accepting a non-unit u")


def test_shape_mismatch_can_still_name_a_mistake():
    with pytest.raises(AssertionError, match=r"shape \(\).*Recognised mistake: returned the gradient"):
        checks.expect_close([1.0, 2.0], 0.5, "D_max", misconceptions={"returned the gradient": [1.0, 2.0]})


def test_bool_misconception_is_a_recognition_made_by_the_caller():
    with pytest.raises(AssertionError, match="Recognised mistake: circle"):
        checks.expect_close([2.0], [1.0], "f on the curve", misconceptions={"ellipse": False, "circle": True})


def test_reference_gradient_handles_huge_coordinates():
    x = np.array([1e20, -3e20])
    assert np.allclose(checks.reference_gradient(lambda v: v @ v, x), 2 * x, rtol=1e-6)


def test_expect_no_call_and_substituted():
    def solve(A, b):
        return np.linalg.solve(A, b)

    checks.expect_no_call(solve, ("inv", "pinv"), "solve", mistake="explicit inverse")
    ns = {"mse_grad": "student"}
    with pytest.raises(ZeroDivisionError):
        with checks.substituted(ns, mse_grad="reference", extra=1):
            assert ns["mse_grad"] == "reference"
            1 / 0
    assert ns == {"mse_grad": "student"}


def test_short_tracebacks_sets_plain_mode_inside_ipython(monkeypatch):
    import IPython

    assert checks.short_tracebacks() is False

    class FakeTB:
        mode = None

        def set_mode(self, mode):
            self.mode = mode

    shell = types.SimpleNamespace(InteractiveTB=FakeTB())
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert checks.short_tracebacks() is True and shell.InteractiveTB.mode == "Plain"


# --------------------------------------------------------------------------- calls that must run without warnings
def test_expect_quiet_returns_the_result_of_a_quiet_call():
    assert checks.expect_quiet(np.add, 1.0, 2.0, what="add") == 3.0


@pytest.mark.parametrize(
    "func, args",
    [(np.exp, (1000.0,)), (np.divide, (1.0, 0.0)), (np.log, (-1.0,))],
)
def test_expect_quiet_fails_on_numpy_floating_point_warnings(func, args):
    with pytest.raises(AssertionError, match="emitted a warning"):
        checks.expect_quiet(func, *args, what="call")


def test_expect_quiet_sees_warnings_even_under_an_ignoring_errstate_and_filter():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError, match="overflow"):
            checks.expect_quiet(np.exp, np.array([1e3]), what="exp")


def test_expect_quiet_names_the_mistake_and_catches_python_warnings():
    def noisy():
        warnings.warn("deprecated thing", UserWarning)
        return 1

    with pytest.raises(AssertionError, match="Recognised mistake: naive formula"):
        checks.expect_quiet(noisy, what="noisy()", mistake="naive formula")


def test_expect_quiet_ignores_underflow():
    assert checks.expect_quiet(np.exp, -1e4, what="exp(-1e4)") == 0.0
