"""The data that may cross between a student's kernel and the grader's checker, and its strict codec.

With the checks outside the student's kernel (:mod:`nablakit.grading.checker`)
only *data* crosses between the two processes: ``None``, bools, ints,
floats, complex numbers, strings, NumPy scalars and arrays of a numeric or
bool dtype, and lists, tuples and dicts of these (dict keys: numbers,
strings, bools or tuples of them), and NumPy random ``Generator`` objects
(as their bit generator's state, so a test can hand the student's code a
seeded ``rng``). Functions cross as *descriptors* (a
handle plus facts about their code) and are called back through a proxy.
Anything else is *refused*: the receiving side gets a refusal naming the
type, never the object.

The value tree is JSON (arrays as base64 of their raw bytes with the dtype
and shape); :func:`loads` checks every node, the dtype against a whitelist,
every array's byte count against its shape, the depth and the total size.
Nothing is ever unpickled or evaluated.

This file has no imports beyond the standard library and NumPy on purpose:
its source is also run inside the student's kernel (the bridge,
:mod:`nablakit.grading._bridge_kernel`), so both sides speak one format.

Examples
--------
>>> import numpy as np
>>> text = dumps(encode({"w": np.array([1.5, -2.0]), "n": 3, 0.1: (True, None)}))
>>> value = decode(loads(text))
>>> value["w"], value["n"], value[0.1]
(array([ 1.5, -2. ]), 3, (True, None))
>>> encode(object())["t"]
'refused'
"""

import base64
import json
import re

import numpy as np

LIMIT_BYTES = 64 * 1024**2
MAX_DEPTH = 20
MAX_ITEMS = 1_000_000
ALLOWED = ("numbers, bools, strings, None, NumPy arrays of numbers or bools, "
           "and lists, tuples and dicts of these")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_DTYPE = re.compile(r"[<>|=](b1|[iu](1|2|4|8)|f(2|4|8|16)|c(8|16|32))")


class WireError(ValueError):
    """A message that is not valid data (bad node, dtype, shape, size or depth)."""


class Refusal(Exception):
    """Raised inside :func:`encode` for a value that may not cross; becomes a refusal node."""

    def __init__(self, type_name, why):
        super().__init__(why)
        self.type_name = type_name
        self.why = why


def _type_name(value):
    t = type(value)
    module = getattr(t, "__module__", "") or ""
    return t.__qualname__ if module in ("builtins", "__main__") else f"{module}.{t.__qualname__}"


class _Budget:
    def __init__(self, limit=LIMIT_BYTES):
        self.bytes = 0
        self.items = 0
        self.limit = limit

    def spend(self, size, items=1):
        self.bytes += size
        self.items += items
        if self.bytes > self.limit:
            raise Refusal("data", f"more than {self.limit // 1024**2} MB of data")
        if self.items > MAX_ITEMS:
            raise Refusal("data", f"more than {MAX_ITEMS} items")


def _is_numeric_dtype(dtype):
    return dtype.kind in "biufc" and dtype.fields is None and not dtype.hasobject and dtype.subdtype is None


def _encode(value, depth, budget, on_callable, key=False):
    if depth > MAX_DEPTH:
        raise Refusal(_type_name(value), f"nested deeper than {MAX_DEPTH} levels")
    t = type(value)
    if value is None or t is bool or t is str:
        budget.spend(len(value) if t is str else 1)
        return value
    if t is int:
        if abs(value) >= 1 << 1000:
            raise Refusal("int", "an integer of more than 1000 bits")
        budget.spend(8)
        return value
    if t is float:
        budget.spend(8)
        return value
    if t is complex:
        budget.spend(16)
        return {"t": "c", "v": [value.real, value.imag]}
    if isinstance(value, np.generic) and t.__module__ == "numpy" and _is_numeric_dtype(value.dtype):
        raw = np.asarray(value).tobytes()
        budget.spend(len(raw))
        return {"t": "ns", "d": value.dtype.str, "b": base64.b64encode(raw).decode("ascii")}
    if t is tuple:
        budget.spend(1)
        return {"t": "tuple", "v": [_encode(v, depth + 1, budget, on_callable, key) for v in value]}
    if key:
        raise Refusal(_type_name(value), "a dict key that is not a number, string, bool or tuple of these")
    if t is np.ndarray:
        if not _is_numeric_dtype(value.dtype):
            raise Refusal(f"numpy.ndarray of dtype {value.dtype}", "an array whose dtype is not numeric or bool")
        raw = np.ascontiguousarray(value).tobytes()
        budget.spend(len(raw))
        return {"t": "nd", "d": value.dtype.str, "s": list(value.shape), "b": base64.b64encode(raw).decode("ascii")}
    if t is np.random.Generator:
        name = type(value.bit_generator).__name__
        if type(value.bit_generator).__module__.split(".")[0] != "numpy" or name not in _BIT_GENERATORS:
            raise Refusal(f"numpy.random.Generator of {name}", "a generator of an unknown bit generator")
        return {"t": "rng", "bg": name, "s": _encode(value.bit_generator.state, depth + 1, budget, on_callable)}
    if t is list:
        budget.spend(1, len(value))
        return {"t": "list", "v": [_encode(v, depth + 1, budget, on_callable) for v in value]}
    if t is dict:
        budget.spend(1, len(value))
        keys = [_encode(k, depth + 1, budget, on_callable, key=True) for k in value]
        return {"t": "dict", "k": keys, "v": [_encode(v, depth + 1, budget, on_callable) for v in value.values()]}
    if on_callable is not None:
        node = on_callable(value)
        if node is not None:
            return node
    raise Refusal(_type_name(value), "not plain data")


def encode(value, on_callable=None, limit=LIMIT_BYTES):
    """Turn a value into a JSON-able tree; a value that may not cross becomes a refusal node.

    Parameters
    ----------
    value : object
    on_callable : callable, optional
        Called with any other object; returns a node (a function descriptor
        or a callback handle) or None to refuse it.
    limit : int
        Bytes of data allowed in the whole value.

    Returns
    -------
    JSON-able tree

    Examples
    --------
    >>> encode([1, 2.5, "a"])
    {'t': 'list', 'v': [1, 2.5, 'a']}
    >>> import numpy as np
    >>> encode(np.ma.array([1.0]))["type"]
    'numpy.ma.MaskedArray'
    """
    try:
        return _encode(value, 0, _Budget(limit), on_callable)
    except Refusal as exc:
        return {"t": "refused", "type": exc.type_name, "why": exc.why}
    except RecursionError:
        return {"t": "refused", "type": _type_name(value), "why": f"nested deeper than {MAX_DEPTH} levels"}


def dumps(tree):
    """JSON text of an encoded tree."""
    return json.dumps(tree, separators=(",", ":"))


def loads(text, limit=LIMIT_BYTES):
    """Parse JSON text of an encoded tree (only size-checked here; :func:`decode` checks the nodes).

    Raises
    ------
    WireError
        If the text is not a string, too long, or not JSON.
    """
    if not isinstance(text, str):
        raise WireError("a message that is not text")
    if len(text) > 2 * limit + 65536:
        raise WireError(f"a message of more than {2 * limit // 1024**2} MB")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"a message that is not valid JSON ({str(exc)[:80]})") from None


def _raw(node, budget):
    text = node.get("b")
    if not isinstance(text, str):
        raise WireError("array bytes missing")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeError):
        raise WireError("array bytes are not base64") from None
    budget.bytes += len(raw)
    if budget.bytes > budget.limit:
        raise WireError(f"more than {budget.limit // 1024**2} MB of data")
    return raw


def numeric_dtype(name):
    """The NumPy dtype of a dtype string such as ``"<f8"``, if it is a numeric or bool one.

    Examples
    --------
    >>> numeric_dtype("<i4")
    dtype('int32')
    >>> numeric_dtype("|O")
    Traceback (most recent call last):
    ...
    nablakit.grading.wire.WireError: dtype '|O' is not a numeric or bool dtype
    """
    if not isinstance(name, str) or not _DTYPE.fullmatch(name):
        raise WireError(f"dtype {str(name)[:20]!r} is not a numeric or bool dtype")
    dtype = np.dtype(name)
    if not _is_numeric_dtype(dtype):
        raise WireError(f"dtype {name!r} is not a numeric or bool dtype")
    return dtype


def _decode(node, depth, budget, hooks):
    if depth > MAX_DEPTH:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels")
    t = type(node)
    if node is None or t in (bool, int, float, str):
        return node
    if t is not dict:
        raise WireError(f"an unexpected {t.__name__} node")
    budget.items += 1
    if budget.items > MAX_ITEMS:
        raise WireError(f"more than {MAX_ITEMS} items")
    kind = node.get("t")
    items = node.get("v")
    if kind in ("list", "tuple"):
        if type(items) is not list:
            raise WireError(f"{kind} without items")
        out = [_decode(v, depth + 1, budget, hooks) for v in items]
        return out if kind == "list" else tuple(out)
    if kind == "dict":
        keys = node.get("k")
        if type(keys) is not list or type(items) is not list or len(keys) != len(items):
            raise WireError("dict with unmatched keys and values")
        out = {}
        for k, v in zip(keys, items):
            key = _decode(k, depth + 1, budget, hooks)
            try:
                hash(key)
            except TypeError:
                raise WireError("a dict key that cannot be hashed") from None
            out[key] = _decode(v, depth + 1, budget, hooks)
        return out
    if kind == "c":
        if type(items) is not list or len(items) != 2 or not all(type(x) in (int, float) for x in items):
            raise WireError("bad complex number")
        return complex(items[0], items[1])
    if kind == "ns":
        dtype = numeric_dtype(node.get("d"))
        raw = _raw(node, budget)
        if len(raw) != dtype.itemsize:
            raise WireError("scalar bytes do not match its dtype")
        return np.frombuffer(raw, dtype=dtype)[0]
    if kind == "nd":
        dtype = numeric_dtype(node.get("d"))
        shape = node.get("s")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("bad array shape")
        raw = _raw(node, budget)
        count = 1
        for n in shape:
            count *= n
        if count * dtype.itemsize != len(raw):
            raise WireError("array bytes do not match its shape and dtype")
        return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
    if kind == "rng":
        name = node.get("bg")
        if name not in _BIT_GENERATORS:
            raise WireError("unknown bit generator")
        state = _decode(node.get("s"), depth + 1, budget, hooks)
        generator = getattr(np.random, name)()
        try:
            generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError):
            raise WireError(f"not a valid state of a {name} bit generator") from None
        return np.random.Generator(generator)
    hook = hooks.get(kind)
    if hook is None:
        raise WireError(f"unknown node {str(kind)[:20]!r}")
    return hook(node)


def decode(tree, hooks=None, limit=LIMIT_BYTES):
    """Rebuild a value from a tree made by :func:`encode`; nothing but data is created.

    Parameters
    ----------
    tree : JSON-able tree
    hooks : dict of str to callable, optional
        How to rebuild the other nodes: ``"refused"``, ``"fn"`` (function
        descriptors), ``"cb"`` (callback handles). A node without a hook is
        an error.
    limit : int
        Bytes of array data allowed.

    Raises
    ------
    WireError
        On any node that is not valid data.

    Examples
    --------
    >>> decode({"t": "nd", "d": "|O", "s": [1], "b": ""})
    Traceback (most recent call last):
    ...
    nablakit.grading.wire.WireError: dtype '|O' is not a numeric or bool dtype
    """
    try:
        return _decode(tree, 0, _Budget(limit), hooks or {})
    except RecursionError:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels") from None
