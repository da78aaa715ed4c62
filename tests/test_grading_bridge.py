"""The checker's link to a real student kernel: fetches, proxied calls, callbacks, in-place changes, errors.

One plain kernel for the module, the bridge installed in it as the grader
does (:class:`nablakit.grading.checker.Link`); "student" code is run in the
kernel directly, the "test" code here, in the checker's process.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from nablakit import checks
from nablakit.grading.checker import STUDENT_KEY, CellTimeout, Link, Refused, StudentFunction

STUDENT = '''
import numpy as np

x = np.arange(3.0)
answer = {"w": np.ones(2), "n": 3, 0.5: (True, None)}
lying = type("Lying", (), {"__float__": lambda self: 1.0})()
gen = (i for i in range(3))

def twice(v):
    return 2 * np.asarray(v)

def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad

def in_place_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad

def bump(v):
    v += 1
    return None

def check_norm(u):
    if abs(np.linalg.norm(u) - 1) > 1e-9:
        raise ValueError("u must have norm 1")
    return 1.0

class Oops(Exception):
    pass

def oops():
    raise Oops("student trouble")

def calls_back(f):
    return f(1.0) + 1

def outer(v):
    return inner(v) + 1

def inner(v):
    return 0

def overflow(z):
    return np.exp(z)

def spin():
    while True:
        pass

def ask():
    return input("your name? ")
'''


@pytest.fixture(scope="module")
def link():
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    km = AsyncKernelManager()
    run_sync(km.start_kernel)()
    executor = SimpleNamespace(km=km, timeout=5, _kill_kernel=lambda: run_sync(km.shutdown_kernel)(now=True))
    link = Link(executor)
    try:
        assert link.install()
        link._request(STUDENT, {}, deadline=time.monotonic() + 30)
        yield link
    finally:
        link.close()
        run_sync(km.shutdown_kernel)(now=True)


def fetch(link, *names):
    _, values, missing = link.fetch(names, time.monotonic() + 10)
    return values, missing


def test_fetch_gives_data_proxies_and_refusals(link):
    values, missing = fetch(link, "x", "answer", "twice", "lying", "gen", "nothing")
    assert np.array_equal(values["x"], [0.0, 1.0, 2.0]) and values["answer"][0.5] == (True, None)
    assert isinstance(values["twice"], StudentFunction) and values["twice"].__name__ == "twice"
    assert "np" in values["twice"].facts["names"] and "2 * np.asarray(v)" in values["twice"].facts["source"]
    assert isinstance(values["lying"], Refused) and isinstance(values["gen"], Refused)
    with pytest.raises(AssertionError, match="lying is a Lying"):
        float(values["lying"])
    assert missing == ["nothing"]
    assert np.array_equal(values["twice"]([1, 2]), [2, 4])


def test_checker_callables_are_called_back_and_stay_here(link):
    values, _ = fetch(link, "numerical_gradient")
    seen = []

    def cube(v):
        seen.append(v.copy())
        return float(np.sum(v ** 3))

    grad = values["numerical_gradient"](cube, np.array([1.0, -2.0]), h=1e-3)
    assert np.allclose(grad, [3.0, 12.0], atol=1e-5) and len(seen) == 4


def test_in_place_changes_are_seen_by_the_checker(link):
    values, _ = fetch(link, "numerical_gradient", "in_place_gradient", "bump")
    for name, expect_shifted in (("numerical_gradient", False), ("in_place_gradient", True)):
        x = np.array([0.4, -0.7, 1.5])
        original = x.copy()
        saw_shifted = []

        def spy(v, x=x, original=original, saw_shifted=saw_shifted):
            saw_shifted.append(np.shares_memory(v, x) and not np.array_equal(x, original))
            return float(np.sum(v ** 2))

        values[name](spy, x)
        assert any(saw_shifted) is expect_shifted, name
        assert np.array_equal(x, original)
    with pytest.raises(AssertionError, match="changed its argument 1 in place"):
        checks.expect_unmodified(values["bump"], np.zeros(2), what="bump(x)")
    items = np.zeros(2)
    values["bump"](items)
    assert np.array_equal(items, [1.0, 1.0])


def test_exceptions_cross_as_their_kind(link):
    values, _ = fetch(link, "check_norm", "oops", "calls_back")
    message = checks.expect_raises(ValueError, values["check_norm"], np.array([3.0, 4.0]), what="check_norm")
    assert message == "u must have norm 1"
    with pytest.raises(Exception) as info:
        values["oops"]()
    assert type(info.value).__name__ == "Oops" and not isinstance(info.value, ValueError)
    assert any("oops" in frame for frame in info.value._nbk_student_tb)
    mine = AssertionError("the checker's own failure")

    def fails(_):
        raise mine

    with pytest.raises(AssertionError) as info:
        values["calls_back"](fails)
    assert info.value is mine


def test_substituted_reaches_the_students_functions_and_nested_calls_work(link):
    values, _ = fetch(link, "outer", "twice")
    ns = {STUDENT_KEY: link, "inner": values["outer"]}
    assert values["outer"](1.0) == 1
    with checks.substituted(ns, inner=lambda v: float(values["twice"](v)) * 50):
        assert values["outer"](1.0) == 101
    assert values["outer"](1.0) == 1 and ns["inner"] is values["outer"]


def test_warnings_and_input_behave_as_in_the_kernel(link):
    values, _ = fetch(link, "overflow", "ask")
    with pytest.raises(AssertionError, match="emitted a warning .*overflow"):
        checks.expect_quiet(values["overflow"], 1000.0, what="overflow(1000)")
    assert values["ask"]() == ""


def test_the_cell_time_limit_interrupts_a_student_call(link):
    values, _ = fetch(link, "spin", "twice")
    link.deadline = time.monotonic() + 1
    start = time.monotonic()
    with pytest.raises(CellTimeout):
        values["spin"]()
    link.deadline = None
    assert time.monotonic() - start < 4
    assert np.array_equal(values["twice"](1), 2), "the kernel should still answer after the interrupt"


def test_a_warning_never_shows_a_line_of_the_file_it_names(tmp_path, capsys):
    import warnings

    from nablakit.grading.checker import _show_warning

    secret = tmp_path / "answers.py"
    secret.write_text("ANSWER = 42  # the key\n")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _show_warning
        warnings.warn_explicit("look", UserWarning, str(secret), 1)
    err = capsys.readouterr().err
    assert "UserWarning: look" in err and "ANSWER" not in err
