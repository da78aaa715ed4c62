"""Reverse-mode automatic differentiation on scalars, small enough to read in one sitting.

A :class:`Value` holds a number (``data``), the derivative of the final
output with respect to it (``grad``) and a ``_backward`` closure written
*beside* the operation that created it: the closure knows the operation's
local derivatives and passes the upstream gradient on to the operands. Calling
:meth:`Value.backward` on the output visits the graph in reverse topological
order, so every node has received the gradient from all of its users before it
passes its own gradient on. A value used twice therefore receives the **sum**
of the two contributions (``+=`` in every closure).

The functions :func:`exp`, :func:`log`, :func:`tanh`, :func:`relu` and
:func:`sigmoid` work on a :class:`Value` and on plain floats or NumPy arrays
alike, so one Python function can be differentiated by this module and by
:func:`nablakit.numdiff.numerical_gradient` for comparison; :func:`value_and_grad`
does the first. :func:`neuron_graph` is chapter 03's worked example, the
graph of ``tanh(w x + x)`` with the gradient on each node and edge.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from nablakit._validate import as_float_array, check_callable

__all__ = ["Value", "topological_order", "edge_gradients", "value_and_grad", "exp", "log", "tanh", "relu", "sigmoid",
           "NODES", "EDGES", "neuron_graph"]


def _as_value(other):
    if isinstance(other, Value):
        return other
    return Value(other)


def _stable_sigmoid(z):
    # 1 / (1 + e^-z) overflows for z << 0; this form never exponentiates a positive number.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Value:
    """A scalar that remembers how it was computed, for reverse-mode differentiation.

    Parameters
    ----------
    data : real number
        The value (a Python or NumPy real number; bools are refused).
    label : str, optional
        A name shown by ``repr`` and in figures.

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        d(output)/d(this value) after ``output.backward()``; 0 before.
    op : str
        The operation that produced this value ("" for an input).
    parents : tuple of Value
        The operands of that operation.

    Raises
    ------
    TypeError
        If ``data`` is not a real number.
    ValueError
        If ``data`` is not finite.

    Examples
    --------
    >>> x, y = Value(2.0, "x"), Value(-3.0, "y")
    >>> f = x * y + x            # x is used twice
    >>> f.backward()
    >>> f.data, x.grad, y.grad   # df/dx = y + 1, df/dy = x
    (-4.0, -2.0, 2.0)
    """

    # NumPy scalars and arrays defer to Value's own operators (np.float64(2) * v is a Value).
    __array_ufunc__ = None

    def __init__(self, data, label="", *, _parents=(), _op=""):
        if isinstance(data, Value):
            raise TypeError("data must be a number, not a Value; use the Value itself")
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"data must be a real number; got {type(data).__name__}")
        data = float(data)
        if not math.isfinite(data):
            raise ValueError(f"data must be finite; got {data}")
        self.data = data
        self.grad = 0.0
        self.label = str(label)
        self.op = _op
        self.parents = tuple(_parents)
        self._backward = lambda: None

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # Each operation: the forward result, then the local derivatives in _backward.

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, _parents=(self, other), _op="+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, _parents=(self, other), _op="*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"the exponent must be a constant real number; got {type(exponent).__name__}")
        exponent = float(exponent)
        if self.data == 0.0 and exponent < 1.0:
            raise ValueError(f"0 ** {exponent:g} has no finite derivative")
        if self.data < 0.0 and not exponent.is_integer():
            raise ValueError(f"a negative base ({self.data:g}) needs an integer exponent; got {exponent:g}")
        out = Value(self.data**exponent, _parents=(self,), _op=f"**{exponent:g}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1.0) * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError("division by a Value whose data is 0")
        return self * other**-1

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_as_value(other))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def exp(self):
        """``e ** self``; local derivative ``e ** self``."""
        out = Value(math.exp(self.data), _parents=(self,), _op="exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        """Natural logarithm; local derivative ``1 / self``. Needs ``data > 0``."""
        if self.data <= 0.0:
            raise ValueError(f"log needs a positive number; got {self.data:g}")
        out = Value(math.log(self.data), _parents=(self,), _op="log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        """Hyperbolic tangent; local derivative ``1 - tanh**2``."""
        out = Value(math.tanh(self.data), _parents=(self,), _op="tanh")

        def _backward():
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        """``max(self, 0)``; local derivative 1 where ``data > 0``, else 0 (also at 0)."""
        out = Value(max(self.data, 0.0), _parents=(self,), _op="relu")

        def _backward():
            self.grad += (1.0 if self.data > 0.0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        """Logistic sigmoid ``1 / (1 + e**-self)``; local derivative ``s (1 - s)``."""
        out = Value(_stable_sigmoid(self.data), _parents=(self,), _op="sigmoid")

        def _backward():
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Fill ``grad`` of every value this one depends on with d(self)/d(value).

        The gradients of an earlier call are cleared first (PyTorch instead
        adds them up until ``zero_grad``). ``self.grad`` is set to 1, then
        each node's ``_backward`` runs once, outputs before their operands.

        Examples
        --------
        >>> a = Value(3.0)
        >>> b = a * a          # one value, two uses: the grads add up
        >>> b.backward()
        >>> a.grad
        6.0
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root):
    """Every value ``root`` depends on, each after all of its operands.

    Iterative (no recursion limit), so graphs with many thousands of nodes work.

    Parameters
    ----------
    root : Value
        The output.

    Returns
    -------
    list of Value
        Inputs first, ``root`` last; each value once.

    Raises
    ------
    TypeError
        If ``root`` is not a :class:`Value`.

    Examples
    --------
    >>> x = Value(1.0, "x")
    >>> y = (x * 2.0).tanh()
    >>> [v.op or v.label for v in topological_order(y)]
    ['x', '', '*', 'tanh']
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value; got {type(root).__name__}")
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def edge_gradients(root):
    """Run ``root.backward()`` and report what flowed back along each edge of the graph.

    Along the edge from an operand ``a`` to a node ``c`` flows
    ``c.grad * dc/da``, the upstream gradient times the local derivative;
    ``a.grad`` ends up as the sum over all of ``a``'s outgoing edges.

    Parameters
    ----------
    root : Value
        The output.

    Returns
    -------
    dict of (Value, Value) to float
        ``(operand, node) -> gradient`` on that edge (an operand used twice
        by the same node, as in ``x * x``, gets one entry with the sum).

    Examples
    --------
    >>> x, y = Value(2.0, "x"), Value(-3.0, "y")
    >>> q = x * y
    >>> f = q + x
    >>> flows = edge_gradients(f)
    >>> flows[(x, q)], flows[(x, f)], x.grad
    (-3.0, 1.0, -2.0)
    """
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    flows = {}
    for node in reversed(order):
        before = {id(p): p.grad for p in node.parents}
        node._backward()
        for parent in dict.fromkeys(node.parents):
            flows[(parent, node)] = parent.grad - before[id(parent)]
    return flows


def value_and_grad(f, x):
    """Evaluate ``f`` at ``x`` with :class:`Value` inputs; return the value and the gradient.

    Parameters
    ----------
    f : callable
        Takes a list of numbers (one per entry of ``x``, in ``x.flat`` order,
        arranged as a nested list of ``x``'s shape) and returns one number.
        Written with ``+ - * / **`` and this module's :func:`exp`, :func:`log`,
        :func:`tanh`, :func:`relu` and :func:`sigmoid`, it works both here and
        on plain floats.
    x : array_like
        The point, any shape.

    Returns
    -------
    value : float
    grad : ndarray of the shape of ``x``
        ``d f / d x`` from one reverse pass.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` not numeric, or ``f`` does not return a number.

    Examples
    --------
    >>> value, grad = value_and_grad(lambda v: v[0] * v[1] + tanh(v[0]), [0.0, 2.0])
    >>> value, grad.tolist()
    (0.0, [3.0, 0.0])
    """
    check_callable(f, "f")
    x = as_float_array(x, "x")
    leaves = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        leaves[idx] = Value(x[idx])
    out = f(leaves.tolist() if x.ndim else leaves.item())
    if not isinstance(out, Value):
        if isinstance(out, numbers.Real) and not isinstance(out, bool):
            return float(out), np.zeros_like(x)  # f does not depend on x
        raise TypeError(f"f must return a number; got {type(out).__name__}")
    out.backward()
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        grad[idx] = leaves[idx].grad
    return out.data, grad


def _elementwise(name, numpy_function):
    def function(x):
        if isinstance(x, Value):
            return getattr(x, name)()
        if isinstance(x, (str, bytes)) or x is None:
            raise TypeError(f"{name} needs a number, an array or a Value; got {type(x).__name__}")
        return numpy_function(x)

    function.__name__ = name
    return function


def _numpy_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


exp = _elementwise("exp", np.exp)
exp.__doc__ = """``e ** x`` for a Value (recorded for backward) or a number/array.

Examples
--------
>>> exp(Value(0.0)).data, float(exp(0.0))
(1.0, 1.0)
"""
log = _elementwise("log", np.log)
log.__doc__ = """Natural logarithm of a Value (needs data > 0) or a number/array.

Examples
--------
>>> log(Value(1.0)).data
0.0
"""
tanh = _elementwise("tanh", np.tanh)
tanh.__doc__ = """Hyperbolic tangent of a Value or a number/array.

Examples
--------
>>> tanh(Value(0.0)).data
0.0
"""
relu = _elementwise("relu", lambda x: np.maximum(x, 0.0))
relu.__doc__ = """``max(x, 0)`` of a Value (derivative 0 at 0) or a number/array.

Examples
--------
>>> relu(Value(-2.0)).data, float(relu(3.0))
(0.0, 3.0)
"""
sigmoid = _elementwise("sigmoid", _numpy_sigmoid)
sigmoid.__doc__ = """Logistic sigmoid of a Value or a number/array, without overflow.

Examples
--------
>>> sigmoid(Value(0.0)).data, float(sigmoid(0.0))
(0.5, 0.5)
"""


#: The nodes in forward order.
NODES = ("x", "w", "a", "s", "f")
#: The edges (operand, node) along which the gradient flows back.
EDGES = (("x", "a"), ("w", "a"), ("a", "s"), ("x", "s"), ("s", "f"))


def neuron_graph(x, w=0.8):
    """Forward values, node gradients and edge gradients of ``f = tanh(w x + x)``.

    Parameters
    ----------
    x : float
        The input.
    w : float, default 0.8
        The weight.

    Returns
    -------
    dict
        ``"value"`` and ``"grad"``: node name -> float (``grad`` is ``df/d``
        node); ``"edge"``: (operand, node) -> the gradient flowing back along
        that edge, with the names of :data:`EDGES`.

    Examples
    --------
    >>> g = neuron_graph(1.0, w=0.8)
    >>> round(g["value"]["s"], 6), round(g["grad"]["x"], 6)
    (1.8, 0.186405)
    >>> g["edge"][("x", "a")] + g["edge"][("x", "s")] == g["grad"]["x"]
    True
    """
    x = float(as_float_array(x, "x", ndim=0))
    w = float(as_float_array(w, "w", ndim=0))
    nodes = {"x": Value(x, "x"), "w": Value(w, "w")}
    nodes["a"] = nodes["w"] * nodes["x"]
    nodes["s"] = nodes["a"] + nodes["x"]
    nodes["f"] = tanh(nodes["s"])
    flows = edge_gradients(nodes["f"])
    return {
        "value": {k: v.data for k, v in nodes.items()},
        "grad": {k: v.grad for k, v in nodes.items()},
        "edge": {(p, c): flows[(nodes[p], nodes[c])] for p, c in EDGES},
    }
