"""Scalar reverse mode: every operation's gradient against centred differences and sympy."""

import math

import numpy as np
import pytest
import sympy as sp

from nablakit.autodiff import EDGES, Value, exp, log, neuron_graph, relu, sigmoid, tanh, topological_order, value_and_grad
from nablakit.numdiff import numerical_gradient

UNARY = {
    "exp": (exp, lambda t: math.exp(t)),
    "log": (log, lambda t: 1.0 / t),
    "tanh": (tanh, lambda t: 1.0 - math.tanh(t) ** 2),
    "relu": (relu, lambda t: float(t > 0)),
    "sigmoid": (sigmoid, lambda t: (1 / (1 + math.exp(-t))) * (1 - 1 / (1 + math.exp(-t)))),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("at", [0.3, 1.7, -0.8])
def test_unary_operations_value_and_local_derivative(name, at):
    function, derivative = UNARY[name]
    if name == "log" and at <= 0:
        at = -at
    x = Value(at)
    y = function(x)
    y.backward()
    assert y.data == pytest.approx(float(function(at)), rel=1e-12, abs=1e-15)
    assert x.grad == pytest.approx(derivative(at), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "expr",
    [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: a - b,
        lambda a, b: a / b,
        lambda a, b: a**3 - 2.0 * b,
        lambda a, b: 2.0 - a / 3.0 + 1.0 / b,
        lambda a, b: b ** 0.5 * a ** -2,
    ],
)
def test_binary_operations_against_sympy(expr):
    a, b = sp.symbols("a b", positive=True)
    exact = expr(a, b)
    at = {a: 1.3, b: 0.7}
    va, vb = Value(1.3), Value(0.7)
    out = expr(va, vb)
    out.backward()
    assert out.data == pytest.approx(float(exact.subs(at)), rel=1e-12)
    assert va.grad == pytest.approx(float(sp.diff(exact, a).subs(at)), rel=1e-12)
    assert vb.grad == pytest.approx(float(sp.diff(exact, b).subs(at)), rel=1e-12)


def random_expression(rng, n_inputs, depth):
    """A random formula as a function of a list ``v``: works on Values and on floats."""
    ops = ["+", "-", "*", "/", "pow", "exp", "log", "tanh", "sigmoid", "relu"]

    def build(d):
        if d == 0:
            i = int(rng.integers(n_inputs))
            return lambda v, i=i: v[i]
        op = ops[int(rng.integers(len(ops)))]
        left = build(d - 1)
        if op in ("+", "-", "*", "/"):
            right = build(d - 1)
            if op == "+":
                return lambda v: left(v) + right(v)
            if op == "-":
                return lambda v: left(v) - right(v)
            if op == "*":
                return lambda v: left(v) * right(v)
            return lambda v: left(v) / (2.5 + tanh(right(v)))  # denominator in [1.5, 3.5]
        if op == "pow":
            return lambda v: (1.0 + sigmoid(left(v))) ** 1.5
        if op == "exp":
            return lambda v: exp(0.3 * tanh(left(v)))
        if op == "log":
            return lambda v: log(1.0 + sigmoid(left(v)))
        if op == "tanh":
            return lambda v: tanh(left(v))
        if op == "sigmoid":
            return lambda v: sigmoid(left(v))
        return lambda v: relu(left(v) + 0.5)

    return build(depth)


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_numerical_gradient(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    f = random_expression(rng, n, depth=int(rng.integers(2, 6)))
    x = rng.uniform(-1.5, 1.5, size=n)
    value, grad = value_and_grad(f, x)
    assert value == pytest.approx(float(f(x)), rel=1e-12, abs=1e-12)
    numeric = numerical_gradient(lambda v: float(f(v)), x, h=1e-6)
    # relu kinks: skip a draw whose relu argument sits within h of 0 (none do for these seeds).
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-7), (grad, numeric)


def test_shared_weight_receives_the_sum_of_its_uses():
    w, x1, x2 = Value(0.5), Value(2.0), Value(-3.0)
    f = tanh(w * x1) + (w * x2) ** 2
    f.backward()
    first = (1 - math.tanh(1.0) ** 2) * 2.0
    second = 2 * (0.5 * -3.0) * -3.0
    assert w.grad == pytest.approx(first + second, rel=1e-12)
    # The same weight as two separate copies: each copy gets one term, and they add up.
    w1, w2 = Value(0.5), Value(0.5)
    g = tanh(w1 * 2.0) + (w2 * -3.0) ** 2
    g.backward()
    assert (w1.grad, w2.grad) == (pytest.approx(first), pytest.approx(second))


def test_backward_visits_each_node_once_and_clears_old_gradients():
    x = Value(1.5)
    y = x * x * x
    y.backward()
    y.backward()
    assert x.grad == pytest.approx(3 * 1.5**2)
    order = topological_order(y)
    assert len(order) == len({id(v) for v in order}) == 3
    assert order[0] is x and order[-1] is y


def test_deep_graph_needs_no_recursion():
    x = Value(0.1)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_numpy_scalars_defer_to_value():
    x = Value(2.0)
    y = np.float64(3.0) * x + np.float64(1.0)
    assert isinstance(y, Value) and y.data == 7.0


def test_value_and_grad_shapes_and_constants():
    value, grad = value_and_grad(lambda m: m[0][0] * m[1][1] - m[0][1], np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert value == 2.0 and grad.tolist() == [[4.0, -1.0], [0.0, 1.0]]
    value, grad = value_and_grad(lambda v: 5.0, [1.0, 2.0])
    assert value == 5.0 and grad.tolist() == [0.0, 0.0]
    value, grad = value_and_grad(lambda s: s * s, 3.0)
    assert value == 9.0 and grad.shape == () and float(grad) == 6.0


def test_sigmoid_is_stable_for_large_inputs():
    for z in (-800.0, 800.0):
        v = Value(z)
        s = v.sigmoid()
        s.backward()
        assert 0.0 <= s.data <= 1.0 and v.grad == 0.0


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Value("1.0"), TypeError, "real number"),
        (lambda: Value(True), TypeError, "real number"),
        (lambda: Value(None), TypeError, "real number"),
        (lambda: Value(float("nan")), ValueError, "finite"),
        (lambda: Value(Value(1.0)), TypeError, "not a Value"),
        (lambda: Value(-1.0).log(), ValueError, "positive"),
        (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, "0"),
        (lambda: Value(2.0) ** Value(2.0), TypeError, "constant"),
        (lambda: Value(-2.0) ** 0.5, ValueError, "integer exponent"),
        (lambda: Value(0.0) ** -1, ValueError, "finite derivative"),
        (lambda: Value(1.0) + "a", TypeError, "real number"),
        (lambda: topological_order(1.0), TypeError, "Value"),
        (lambda: value_and_grad(3, [1.0]), TypeError, "callable"),
        (lambda: value_and_grad(lambda v: "x", [1.0]), TypeError, "number"),
        (lambda: tanh("x"), TypeError, "number"),
    ],
)
def test_bad_input_raises_a_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_repr_names_data_and_grad():
    v = Value(2.0, "w")
    assert repr(v) == "Value(w: data=2, grad=0)"


@pytest.mark.parametrize("x", [-2.0, -0.3, 0.0, 1.0, 1.8])
def test_neuron_graph_is_the_chain_rule_on_tanh_of_w_x_plus_x(x):
    w = 0.8
    g = neuron_graph(x, w)
    s = w * x + x
    slope = 1.0 - np.tanh(s) ** 2  # d tanh(s) / ds
    assert g["value"]["f"] == pytest.approx(np.tanh(s), abs=1e-15)
    assert g["grad"]["x"] == pytest.approx(slope * (w + 1.0), rel=1e-12, abs=1e-15)
    assert g["grad"]["w"] == pytest.approx(slope * x, rel=1e-12, abs=1e-15)
    assert set(g["edge"]) == set(EDGES)
    # x feeds two nodes: its gradient is the sum of what flows back along both edges
    assert g["edge"][("x", "a")] + g["edge"][("x", "s")] == pytest.approx(g["grad"]["x"], rel=1e-12, abs=1e-15)
    with pytest.raises(TypeError):
        neuron_graph("one")
