"""The data codec of the split checks, the refusal object and the checks' view of a student function proxy.

No kernel here: :mod:`nablakit.grading.wire` round trips and refusals, the
strict decoder on forged messages, :class:`~nablakit.grading.checker.Refused`
and the code checks of :mod:`nablakit.checks` on a
:class:`~nablakit.grading.checker.StudentFunction` built from a descriptor.
The kernel side (callbacks, in-place changes, exceptions) is tested with a
real kernel in ``test_grading_bridge.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nablakit import checks
from nablakit.grading import wire
from nablakit.grading.checker import Refused, StudentFunction


def cross(value, **kw):
    return wire.decode(wire.loads(wire.dumps(wire.encode(value, **kw))))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**80, 1.5, float("inf"), -0.0, 2 + 3j, "text", "",
    [1, [2.0, "a"]], (1, (2,)), {"a": 1, 0.5: [True], (1, "b"): None},
    np.float64(0.25), np.int32(-3), np.bool_(True), np.complex128(1 - 1j),
])
def test_plain_values_round_trip_with_their_types(value):
    back = cross(value)
    assert type(back) is type(value) and back == value


@pytest.mark.parametrize("array", [
    np.arange(6.0).reshape(2, 3), np.array([True, False]), np.zeros((0, 4), dtype=np.int16),
    np.array(3.5), np.arange(12, dtype=np.uint8)[::3], np.asfortranarray(np.ones((2, 3))),
    np.array([1 + 2j], dtype=np.complex64),
])
def test_arrays_round_trip_writeable(array):
    back = cross(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array) and back.flags.writeable


def test_nan_and_a_seeded_generator_cross():
    assert np.isnan(cross(float("nan"))) and np.isnan(cross(np.array([np.nan]))[0])
    rng = np.random.default_rng(7)
    rng.normal()
    copy = cross(rng)
    assert copy.normal() == rng.normal()


class Lying:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(2)

    def __float__(self):
        return 0.0

    def __eq__(self, other):
        return True


class Subclassed(np.ndarray):
    pass


def _gen():
    yield 1


@pytest.mark.parametrize("value, name", [
    (Lying(), "Lying"),
    (np.zeros(3).view(Subclassed), "Subclassed"),
    (np.ma.array([1.0]), "numpy.ma.MaskedArray"),
    (np.array([1, "a"], dtype=object), "dtype object"),
    (np.zeros(2, dtype=[("a", "f8")]), "dtype"),
    (_gen(), "generator"),
    (json, "module"),
    (type("F", (float,), {})(1.0), "F"),
    ({1, 2}, "set"),
    ([1, Lying()], "Lying"),
    ({Lying(): 1} if False else {frozenset(): 1}, "frozenset"),
    (b"bytes", "bytes"),
])
def test_anything_else_is_refused_by_type(value, name):
    tree = wire.encode(value)
    assert tree["t"] == "refused" and name in tree["type"], tree


def test_sizes_and_depth_are_limited():
    assert wire.encode(np.zeros(1000), limit=4000)["t"] == "refused"
    assert wire.encode(np.zeros(100), limit=4000)["t"] == "nd"
    deep = []
    for _ in range(30):
        deep = [deep]
    assert "deeper" in wire.encode(deep)["why"]
    loop = []
    loop.append(loop)
    assert wire.encode(loop)["t"] == "refused"


@pytest.mark.parametrize("node, message", [
    ({"t": "nd", "d": "|O8", "s": [1], "b": ""}, "dtype"),
    ({"t": "nd", "d": "<f8", "s": [3], "b": "AAAAAAAAAAA="}, "do not match"),
    ({"t": "nd", "d": "<f8", "s": [-1], "b": ""}, "shape"),
    ({"t": "nd", "d": "<f8", "s": [1], "b": "not base64!"}, "base64"),
    ({"t": "ns", "d": "<V8", "b": "AAAAAAAAAAA="}, "dtype"),
    ({"t": "pickle", "v": "gASVAAAAAAAAAAB9lC4="}, "unknown node"),
    ({"t": "dict", "k": [{"t": "list", "v": []}], "v": [1]}, "hashed"),
    ({"t": "rng", "bg": "Evil", "s": {}}, "bit generator"),
    ({"t": "c", "v": ["1", 2]}, "complex"),
    ([1, 2], "unexpected list"),
])
def test_the_decoder_accepts_only_data(node, message):
    with pytest.raises(wire.WireError, match=message):
        wire.decode(node)


def test_decoder_limits_depth_and_text():
    text = "[" * 5000 + "]" * 5000
    with pytest.raises(wire.WireError):
        wire.decode(wire.loads(text))
    with pytest.raises(wire.WireError, match="MB"):
        wire.loads("x" * (2 * 1024 + 70000), limit=1024)
    node = {"t": "nd", "d": "<f8", "s": [200], "b": wire.encode(np.zeros(200))["b"]}
    with pytest.raises(wire.WireError, match="MB"):
        wire.decode(node, limit=1000)


def test_functions_become_descriptors_through_the_hook():
    tree = wire.encode({"f": len, "g": [abs]}, on_callable=lambda f: {"t": "fn", "name": f.__name__})
    assert tree["v"][0] == {"t": "fn", "name": "len"}
    assert wire.encode(len)["t"] == "refused"


def test_a_refused_answer_fails_every_use_with_a_message_naming_it():
    answer = Refused("grad_f_at_a", "Vector", "not plain data")
    for use in (lambda: checks.expect_close(answer, [1.0, 2.0], "grad_f_at_a"), lambda: float(answer),
                lambda: answer == 1, lambda: np.asarray(answer), lambda: answer + 1, lambda: len(answer),
                lambda: answer.shape, lambda: bool(answer), lambda: checks.reject_package_answer(answer, "f")):
        with pytest.raises(AssertionError, match="grad_f_at_a is a Vector .* arrays of numbers or bools"):
            use()
    assert "Vector" in repr(answer)


def _proxy(**facts):
    node = {"id": 1, "name": "solve", "qualname": "solve", "module": "__main__", "package": False, "names": [],
            "refs": [], "source": None, **facts}
    return StudentFunction(link=None, node=node)


def test_code_checks_read_a_proxys_facts():
    own = _proxy(names=["np", "linalg", "inv"], refs=[])
    assert checks.code_names(own) == {"np", "linalg", "inv"}
    with pytest.raises(AssertionError, match="solve uses inv"):
        checks.expect_no_call(own, ("inv",), "solve", mistake="explicit inverse")
    checks.reject_package_answer(own, "solve")
    imported = _proxy(name="numerical_gradient", module="nablakit.numdiff", package=True)
    with pytest.raises(AssertionError, match=r"comes from the nablakit package \(nablakit.numdiff\)"):
        checks.reject_package_answer(imported, "numerical_gradient")
    wrapper = _proxy(names=["numdiff", "numerical_gradient"],
                     refs=[["numdiff", "nablakit.numdiff", True, ""]])
    with pytest.raises(AssertionError, match="calls the nablakit package's nablakit.numdiff.numerical_gradient"):
        checks.reject_package_answer(wrapper, "numerical_gradient")
    helper = _proxy(names=["sigmoid"], refs=[["sigmoid", "sigmoid", False, "nablakit.losses"]])
    with pytest.raises(AssertionError, match="calls the nablakit package's sigmoid"):
        checks.reject_package_answer(helper, "logistic_grad", also=("sigmoid",))
    checks.reject_package_answer(helper, "logistic_grad")


def test_a_look_alike_proxy_class_gets_no_trust():
    class StudentFunction:  # same name, not the grader's class
        facts = {"package": False, "names": frozenset(), "refs": []}

        def __call__(self):
            return None

    assert checks._proxy_facts(StudentFunction()) is None


def test_the_command_line_runs_the_checks_outside_unless_asked():
    from nablakit.grading.batch import make_job
    from nablakit.grading.cli import build_parser

    assert build_parser().parse_args(["ex01-partial-derivatives"]).in_kernel_checks is False
    assert build_parser().parse_args(["ex01-partial-derivatives", "--in-kernel-checks"]).in_kernel_checks is True
    assert "split_checks" in make_job.__code__.co_varnames
