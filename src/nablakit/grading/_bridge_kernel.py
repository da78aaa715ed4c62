"""The student-kernel side of the checks run outside the kernel (see :mod:`nablakit.grading.checker`).

Not imported by the grader: its source, after the source of
:mod:`nablakit.grading.wire`, is run once inside the student's kernel in a
private namespace, and :func:`make_bridge` binds one :class:`Bridge` to a
name with a random suffix. The checker then only sends data and handles:

- ``fetch(names)``: the values of notebook names as encoded data; a
  function becomes a descriptor (a handle and facts about its code), any
  other object a refusal naming its type;
- ``serve(command)``: call a described function with decoded arguments and
  keep the encoded result, the arguments after the call (so the checker
  sees in-place changes), the warnings and the exception (type, message,
  the student's own frames as IPython formats them), for ``take()``;
  substitute or restore notebook names;
- a checker callable passed as an argument arrives as a stub that asks the
  checker through the kernel's stdin channel (``input_request``); the
  checker may answer with a nested call before it answers with the value.

Everything here runs in the process the student controls, so nothing here
is trusted by the checker: it only ever receives data it decodes strictly.
"""

# The wire codec (encode, decode, dumps, loads, Refusal, WireError) is prepended to this source.
import functools as _functools
import itertools as _itertools
import linecache as _linecache
import re as _re
import sys as _sys
import types as _types
import warnings as _warnings

if "encode" not in globals():  # imported as a module (doctest collection), not run after the wire codec
    from nablakit.grading import wire as _wire

    globals().update({k: v for k, v in vars(_wire).items() if not k.startswith("__")})

_FUNCTION_TYPES = (_types.FunctionType, _types.BuiltinFunctionType, _types.MethodType, _types.BuiltinMethodType,
                   np.ufunc)
_ANSI = _re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = _re.compile(r"^\s*(?:Cell In|Input In)\s*\[")


def _package_objects():
    for modname, module in list(_sys.modules.items()):
        if (modname == "nablakit" or modname.startswith("nablakit.")) and module is not None:
            yield from list(vars(module).values())


def _is_package(obj, known=None):
    """The rule of nablakit.checks._is_package_function, in the student's process (``known``: ids of its objects)."""
    if isinstance(obj, _types.ModuleType):
        return obj.__name__ == "nablakit" or obj.__name__.startswith("nablakit.")
    if not callable(obj):
        return False
    module = getattr(obj, "__module__", None) or ""
    if not isinstance(module, str):
        return False
    if module == "nablakit" or module.startswith("nablakit."):
        return True
    if known is not None:
        return id(obj) in known
    return any(obj is other for other in _package_objects())


def _code_objects(func):
    code = getattr(func, "__code__", None)
    stack = [code] if isinstance(code, _types.CodeType) else []
    while stack:
        co = stack.pop()
        yield co
        stack.extend(c for c in co.co_consts if isinstance(c, _types.CodeType))


def _text(value, limit=4000):
    try:
        return str(value)[:limit]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise
        return "<unprintable>"


class _CheckerError(Exception):
    """An exception a checker callable raised, re-raised in the student's function."""


class Bridge:
    def __init__(self, secret, user_ns):
        self._prefix = f"nbk:{secret}:"
        self._ns = user_ns
        self._functions = {}
        self._ids = _itertools.count(1)
        self._frames = []  # arrays of the calls in progress (innermost last), for callback aliasing
        self._saved = {}
        self._out = ""

    # -- describing ------------------------------------------------------------------
    def _describe(self, obj):
        if getattr(obj, "_nbk_stub", None) is self:  # one of the checker's own callables, handed back
            return {"t": "back", "id": obj._nbk_handle}
        target = obj
        while type(target) is _functools.partial:
            target = target.func
        if isinstance(obj, type) or not isinstance(target, _FUNCTION_TYPES):
            return None
        fid = next(self._ids)
        self._functions[fid] = obj
        glob = getattr(target, "__globals__", None) or {}
        names, refs = set(), []
        known = {id(other) for other in _package_objects()}
        for co in _code_objects(target):
            names.update(co.co_names)
            for name in co.co_names:
                value = glob.get(name)
                if value is not None and _is_package(value, known):
                    is_module = isinstance(value, _types.ModuleType)
                    refs.append([name, _text(getattr(value, "__name__", name), 200), is_module,
                                 _text(getattr(value, "__module__", "") or "", 200)])
        source = None
        code = getattr(target, "__code__", None)
        if isinstance(code, _types.CodeType) and code.co_filename in _linecache.cache:
            lines = _linecache.getlines(code.co_filename)
            start = code.co_firstlineno - 1
            source = "".join(lines[start:start + 400])[:100_000]
        module = getattr(target, "__module__", None)
        return {"t": "fn", "id": fid, "name": _text(getattr(target, "__name__", "function"), 200),
                "qualname": _text(getattr(target, "__qualname__", "function"), 200),
                "module": _text(module, 200) if isinstance(module, str) else "",
                "package": bool(_is_package(target, known)), "names": sorted(names)[:10_000], "refs": refs[:1000],
                "source": source}

    def _encode(self, value):
        return encode(value, self._describe)

    # -- receiving -------------------------------------------------------------------
    def _hooks(self):
        return {"cb": self._stub, "own": self._own}

    def _own(self, node):
        fid = node.get("id")
        if fid not in self._functions:
            raise WireError("unknown function handle")
        return self._functions[fid]

    def _stub(self, node):
        bridge, handle = self, node.get("id")

        def callback(*args, **kwargs):
            return bridge._callback(handle, args, kwargs)

        name = node.get("name")
        callback.__name__ = callback.__qualname__ = name if isinstance(name, str) and name.isidentifier() else "f"
        callback._nbk_stub = self
        callback._nbk_handle = handle
        return callback

    def _ask(self, message):
        from IPython import get_ipython

        reply = get_ipython().kernel.raw_input(self._prefix + dumps(message))
        return loads(reply)

    def _argument(self, value):
        """An argument of a callback, marked when it is (a view of) an array the checker passed in."""
        if type(value) is np.ndarray and self._frames:
            arrays, touched = self._frames[-1]
            for index, given in enumerate(arrays):
                if type(given) is np.ndarray and np.shares_memory(value, given):
                    touched.add(index)  # the checker's copy now holds this content: send the final one too
                    offset = value.__array_interface__["data"][0] - given.__array_interface__["data"][0]
                    return {"alias": index, "given": self._encode(given),
                            "view": [offset, list(value.shape), list(value.strides), value.dtype.str],
                            "v": self._encode(value)}
        return {"v": self._encode(value)}

    def _callback(self, handle, args, kwargs):
        reply = self._ask({"op": "cb", "id": handle, "a": [self._argument(a) for a in args],
                           "k": {str(k): self._argument(v) for k, v in kwargs.items()}})
        while reply.get("op") == "call":  # the checker calls the student's code while its callable runs
            reply = self._ask(self._run(reply))
        if reply.get("op") == "raise":
            exc = _CheckerError(_text(reply.get("msg")))
            exc._nbk_token = reply.get("token")
            raise exc
        return decode(reply.get("v"), self._hooks())

    # -- commands --------------------------------------------------------------------
    def fetch(self, names, count=False):
        """Encoded values of ``names`` (absent ones listed); with ``count``, a cell is counted for the test."""
        from IPython import get_ipython

        shell = get_ipython()
        number = shell.execution_count
        if count:
            shell.execution_count += 1
        values = {}
        missing = []
        for name in names:
            if name in self._ns:
                values[name] = self._encode(self._ns[name])
            else:
                missing.append(name)
        return dumps({"n": number, "v": values, "m": missing})

    def serve(self, text):
        try:
            result = self._run(loads(text))
        except BaseException as exc:  # noqa: BLE001 - reported to the checker
            result = {"op": "fail", "why": f"{type(exc).__name__}: {_text(exc, 500)}"}
        self._out = dumps(result)

    def take(self):
        out, self._out = self._out, ""
        return out

    def _run(self, cmd):
        op = cmd.get("op")
        if op == "call":
            return self._call(cmd)
        if op == "sub":
            token = next(self._ids)
            saved = {}
            for name, node in cmd.get("names", {}).items():
                saved[name] = (name in self._ns, self._ns.get(name))
                self._ns[name] = decode(node, self._hooks())
            self._saved[token] = saved
            return {"op": "ret", "v": token}
        if op == "unsub":
            for name, (present, value) in self._saved.pop(cmd.get("token"), {}).items():
                if present:
                    self._ns[name] = value
                else:
                    self._ns.pop(name, None)
            return {"op": "ret", "v": None}
        raise WireError(f"unknown command {str(op)[:20]!r}")

    def _call(self, cmd):
        func = self._own({"id": cmd.get("f")})
        hooks = self._hooks()
        args = decode(cmd.get("a"), hooks)
        kwargs = decode(cmd.get("k"), hooks)
        errstate = {k: v for k, v in (cmd.get("np") or {}).items()
                    if k in ("divide", "over", "under", "invalid") and v in ("ignore", "warn", "raise", "print", "log")}
        mutable = (np.ndarray, list, dict, np.random.Generator)
        before = [dumps(self._encode(a)) if type(a) in mutable else None for a in args]
        before_kw = {k: dumps(self._encode(v)) for k, v in kwargs.items() if type(v) in mutable}
        touched = set()
        self._frames.append((list(args) + list(kwargs.values()), touched))
        error = value = None
        try:
            with _warnings.catch_warnings(record=True) as caught, np.errstate(**errstate):
                _warnings.simplefilter("always")
                try:
                    value = func(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - reported to the checker
                    error = self._error(exc)
        finally:
            self._frames.pop()
        warned = [[_text(getattr(w.category, "__name__", "Warning"), 100), _text(w.message, 1000),
                   _text(w.filename, 300), int(w.lineno or 0)] for w in caught[:100]]
        after = []
        for index, (arg, snapshot) in enumerate(zip(args, before)):
            node = self._encode(arg) if snapshot is not None else None
            changed = node is not None and (index in touched or dumps(node) != snapshot)
            after.append(node if changed else None)
        after_kw = {}
        for index, (key, snapshot) in enumerate(before_kw.items()):
            node = self._encode(kwargs[key])
            if len(args) + list(kwargs).index(key) in touched or dumps(node) != snapshot:
                after_kw[key] = node
        return {"op": "ret", "v": None if error else self._encode(value), "e": error, "w": warned,
                "a": after, "k": after_kw}

    def _error(self, exc):
        frames = []
        try:
            from IPython import get_ipython

            tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
            formatted = get_ipython().InteractiveTB.structured_traceback(type(exc), exc, tb)
            frames = [_text(f, 4000) for f in formatted[:-1] if _CELL_FRAME.match(_ANSI.sub("", str(f)))][-30:]
        except Exception:  # noqa: BLE001 - a traceback is a courtesy
            frames = []
        kind = type(exc)
        return {"type": _text(getattr(kind, "__name__", "Exception"), 100),
                "builtin": getattr(kind, "__module__", None) == "builtins", "msg": _text(exc),
                "tb": frames, "token": getattr(exc, "_nbk_token", None) if isinstance(exc, _CheckerError) else None}


def make_bridge(secret, user_ns):
    return Bridge(secret, user_ns)
