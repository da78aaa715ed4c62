"""Checks added for exercises 6-10: calls that must run without warnings."""

import warnings

import numpy as np
import pytest

from nablakit import checks


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
