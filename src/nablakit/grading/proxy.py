"""The checker's side of the split checks: its link to the student's kernel and the proxies of student objects.

:class:`Link` is the checker's own connection to the student's kernel (shell,
stdin and iopub sockets; nbclient keeps its own). It installs the bridge
(:mod:`nablakit.grading._bridge_kernel`) and then only exchanges data
(:mod:`nablakit.grading.wire`):

- ``fetch`` reads notebook names as values; a student function arrives as
  a :class:`StudentFunction`, an object that may not cross as a
  :class:`Refused`;
- calling a :class:`StudentFunction` sends its arguments as data (the
  checker's callables as handles), serves the kernel's callbacks on the
  stdin channel (``input_request``), writes the student's in-place changes
  back into the checker's arguments, re-emits the student's warnings and
  re-raises the student's exception (a Python builtin as itself);
- a call runs under the test cell's deadline: past it the kernel is
  interrupted (:class:`CellTimeout`), killed if it does not answer (:class:`KernelGone`).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import secrets
import time
import warnings
from pathlib import Path

import numpy as np
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode

from . import wire

__all__ = ["Link", "StudentFunction", "Refused", "StudentError", "CellTimeout", "KernelGone", "stream_output"]

_BRIDGE_SOURCE = (Path(__file__).with_name("wire.py").read_text()
                  + "\n" + Path(__file__).with_name("_bridge_kernel.py").read_text())

class CellTimeout(BaseException):
    """The test cell ran past the cell time limit (a BaseException: test code's ``except Exception`` lets it through)."""


class KernelGone(BaseException):
    """The student's kernel died or ignored the interrupt; the reason is the message."""


class StudentError(Exception):
    """Base of the exceptions a student's function raised that are not Python's own."""


_STUDENT_ERRORS = {}


def _student_exception(kind, message, builtin):
    """The exception to raise in the checker for one the student's code raised (never a BaseException-only one)."""
    if builtin:
        found = getattr(builtins, kind, None)
        if isinstance(found, type) and issubclass(found, Exception):
            try:
                return found(message)
            except Exception:  # noqa: BLE001 - a builtin with other constructor arguments
                pass
    if not kind.isidentifier():
        kind = "StudentError"
    if kind not in _STUDENT_ERRORS:
        _STUDENT_ERRORS[kind] = type(kind, (StudentError,), {"__module__": "student"})
    return _STUDENT_ERRORS[kind](message)


class Refused:
    """An answer that may not cross from the student's kernel: using it fails the test with a clear message."""

    __slots__ = ("_what", "_type", "_why")

    def __init__(self, what, type_name, why):
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_why", why)

    def _fail(self, *args, **kwargs):
        what, kind, why = (object.__getattribute__(self, n) for n in ("_what", "_type", "_why"))
        raise AssertionError(f"{what} is a {kind} ({why}), which the grader does not accept: an answer must be "
                             f"{wire.ALLOWED}, or a function")

    def __repr__(self):
        return f"<refused {object.__getattribute__(self, '_type')}>"

    def __getattr__(self, name):
        self._fail()

    __setattr__ = __array__ = __float__ = __int__ = __index__ = __complex__ = __bool__ = __len__ = __iter__ = _fail
    __getitem__ = __setitem__ = __contains__ = __call__ = __hash__ = __eq__ = __ne__ = __lt__ = __le__ = _fail
    __gt__ = __ge__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _fail
    __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __mod__ = _fail


class StudentFunction:
    """A function of the student's notebook: calling it runs it in the student's kernel, on data.

    ``facts`` holds what the code checks of :mod:`nablakit.checks` read:
    ``package`` (the function is nablakit's own), ``names`` (global and
    attribute names its code refers to, nested code included) and ``refs``
    (``[name, object name, is a module, module]`` of the names bound to
    nablakit objects in its globals), and its ``source`` when known.
    """

    def __init__(self, link, node):
        self._link = link
        self._id = node.get("id")
        self.__name__ = str(node.get("name") or "function")
        self.__qualname__ = str(node.get("qualname") or self.__name__)
        self.__module__ = str(node.get("module") or "")
        self.__doc__ = None
        refs = [(str(a), str(b), bool(c), str(d)) for a, b, c, d in
                (r for r in node.get("refs") or [] if isinstance(r, list) and len(r) == 4)]
        names = frozenset(n for n in node.get("names") or [] if isinstance(n, str))
        source = node.get("source") if isinstance(node.get("source"), str) else None
        self.facts = {"package": bool(node.get("package")), "names": names, "refs": refs, "source": source}

    def __call__(self, *args, **kwargs):
        return self._link.call(self, args, kwargs)

    def __repr__(self):
        return f"<function {self.__qualname__}>"


def stream_output(name, text):
    """An nbformat ``stream`` output."""
    return NotebookNode(output_type="stream", name=name, text=text)


class Link:
    """The checker's own connection to the student's kernel (shell, stdin and iopub sockets)."""

    poll = 0.2

    def __init__(self, executor):
        from jupyter_client import BlockingKernelClient

        self.ex = executor
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(executor.km.get_connection_info(session=False))
        self.kc.start_channels(shell=True, iopub=True, stdin=True, hb=False, control=False)
        self.name = None
        self.prefix = ""
        self.handles = {}
        self.frames = []  # the checker-side arguments of the calls in progress
        self.waiting = False  # the kernel waits in raw_input for the reply to a callback
        self.deadline = None
        self.outputs = None
        self.calls = 0
        self.seconds = 0.0
        self.errors = {}
        self.registry = {}  # warnings shown once per test cell
        self.top = None  # the outermost request in progress (its reply ends a call, or an interrupted one)

    def close(self):
        self.kc.stop_channels()

    # -- set-up and plain requests ---------------------------------------------------------
    def install(self):
        """Run the bridge in the kernel; False if it could not be installed."""
        secret = secrets.token_hex(16)
        self.name = f"_nbk_bridge_{secrets.token_hex(6)}"
        self.prefix = f"nbk:{secret}:"
        code = (f"def _nbk_make():\n    ns = {{'__name__': 'nablakit_bridge'}}\n"
                f"    exec(compile({_BRIDGE_SOURCE!r}, '<nablakit-bridge>', 'exec'), ns)\n"
                f"    return ns['make_bridge']({secret!r}, globals())\n"
                f"{self.name} = _nbk_make()\ndel _nbk_make\n")
        reply = self._request(code, {"r": f"type({self.name}).__name__"}, deadline=time.monotonic() + 30)
        answer = reply.get("user_expressions", {}).get("r", {})
        return answer.get("status") == "ok" and answer.get("data", {}).get("text/plain") == "'Bridge'"

    def fetch(self, names, deadline, count=False):
        """``(execution count, {name: value}, missing names)`` from the kernel (``count``: a test cell's)."""
        reply = self._request("pass", {"r": f"{self.name}.fetch({tuple(names)!r}, {bool(count)!r})"}, deadline)
        text = self._expression(reply, "r")
        tree = wire.loads(text)
        if not isinstance(tree, dict) or not isinstance(tree.get("v"), dict):
            raise wire.WireError("a malformed answer to a fetch")
        values = {}
        for name, node in tree["v"].items():
            if name in names:
                values[name] = self.decode(node, what=name)
        missing = [str(n) for n in tree.get("m") or [] if n in names]
        count = tree.get("n")
        return (count if type(count) is int else None), values, missing

    def _expression(self, reply, key):
        import ast as _ast
        answer = (reply.get("user_expressions") or {}).get(key) or {}
        if answer.get("status") != "ok":
            raise wire.WireError(f"the kernel could not answer ({str(answer.get('ename', 'no reply'))[:100]})")
        raw = (answer.get("data") or {}).get("text/plain")
        if not isinstance(raw, str) or len(raw) > 3 * wire.LIMIT_BYTES:
            raise wire.WireError("the kernel's answer is not a string of data")
        try:
            text = _ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise wire.WireError("the kernel's answer is not a string") from None
        if not isinstance(text, str):
            raise wire.WireError("the kernel's answer is not a string")
        return text

    # -- decoding and encoding -------------------------------------------------------------
    def decode(self, node, what):
        def refused(n):
            return Refused(what, str(n.get("type"))[:200], str(n.get("why"))[:200])

        def back(n):
            handle = self.handles.get(n.get("id"))
            if handle is None:
                raise wire.WireError("unknown callback handle")
            return handle

        return wire.decode(node, {"fn": lambda n: StudentFunction(self, n), "refused": refused, "back": back})

    def encode(self, value, scope=None):
        def handle(obj):
            if isinstance(obj, StudentFunction):
                if obj._link is not self:
                    raise TypeError("a function of another notebook")
                return {"t": "own", "id": obj._id}
            if isinstance(obj, Refused):
                obj._fail()
            if callable(obj):
                hid = secrets.token_hex(8)
                self.handles[hid] = obj
                if scope is not None:
                    scope.append(hid)
                return {"t": "cb", "id": hid, "name": str(getattr(obj, "__name__", "f"))[:100]}
            return None

        tree = wire.encode(value, handle)
        if isinstance(tree, dict) and tree.get("t") == "refused":
            raise TypeError(f"the checker cannot pass a {tree['type']} to the student's code ({tree['why']})")
        return tree

    # -- calls -----------------------------------------------------------------------------
    def call(self, func, args, kwargs):
        """Call a student function with data; returns decoded data or raises what the student's code raised."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CellTimeout()
        scope = []
        try:
            cmd = {"op": "call", "f": func._id, "a": self.encode(list(args), scope=scope),
                   "k": self.encode(dict(kwargs), scope=scope),
                   "np": {k: v for k, v in np.geterr().items()}}
            self.frames.append(list(args) + list(kwargs.values()))
            self.calls += 1
            try:
                reply = self.command(cmd)
            finally:
                self.frames.pop()
        finally:
            for hid in scope:
                self.handles.pop(hid, None)
        what = f"{func.__name__}(...)"
        for i, node in enumerate(reply.get("a") or []):
            if node is not None and i < len(args):
                _write_back(args[i], self.decode(node, what))
        for key, node in (reply.get("k") or {}).items():
            if key in kwargs:
                _write_back(kwargs[key], self.decode(node, what))
        registry = self.registry
        for category, message, filename, lineno in (reply.get("w") or [])[:100]:
            kind = getattr(builtins, str(category), None)
            if not (isinstance(kind, type) and issubclass(kind, Warning)):
                kind = UserWarning
            warnings.warn_explicit(str(message), kind, str(filename), int(lineno or 0), registry=registry)
        error = reply.get("e")
        if error:
            token = error.get("token")
            if token in self.errors:
                raise self.errors[token]
            exc = _student_exception(str(error.get("type")), str(error.get("msg")), bool(error.get("builtin")))
            exc._nbk_student_tb = [str(t) for t in error.get("tb") or []][:30]
            raise exc
        return self.decode(reply.get("v"), what)

    @contextlib.contextmanager
    def substituted(self, replacements):
        """Bind ``replacements`` in the student's namespace too (callables stay here, as handles)."""
        scope = []
        token = None
        try:
            names = {name: self.encode(value, scope=scope) for name, value in replacements.items()}
            token = self.decode(self.command({"op": "sub", "names": names}).get("v"), "substitution")
            yield
        finally:
            try:
                if token is not None:
                    self.command({"op": "unsub", "token": token})
            finally:
                for hid in scope:
                    self.handles.pop(hid, None)

    def command(self, cmd):
        """Run one bridge command; a nested one (while the kernel waits for a callback's value) goes by stdin."""
        start = time.monotonic()
        try:
            if self.waiting:
                self.waiting = False
                self.kc.input(wire.dumps(cmd))
                return self._pump(None)
            msg_id = self.kc.execute(f"{self.name}.serve({wire.dumps(cmd)!r})", silent=True, store_history=False,
                                     user_expressions={"r": f"{self.name}.take()"}, allow_stdin=True,
                                     stop_on_error=False)
            self.top = msg_id
            try:
                return self._pump(msg_id)
            finally:
                self.top = None
        finally:
            self.seconds += time.monotonic() - start

    def _request(self, code, expressions, deadline):
        msg_id = self.kc.execute(code, silent=True, store_history=False, user_expressions=expressions,
                                 allow_stdin=False, stop_on_error=False)
        saved, self.deadline, self.top = self.deadline, deadline, msg_id
        try:
            kind, msg = self._next(msg_id)
            self._drain(msg_id)
        finally:
            self.deadline, self.top = saved, None
        return msg["content"]

    def _pump(self, msg_id):
        """Serve the kernel's callbacks until the command's result arrives."""
        while True:
            kind, msg = self._next(msg_id)
            if kind == "reply":
                self._drain(msg_id)
                tree = wire.loads(self._expression(msg["content"], "r"))
                return self._result(tree)
            text = msg["content"].get("prompt", "")
            if not text.startswith(self.prefix):
                self.kc.input("")  # the student's own input(): the grader has no keyboard
                continue
            request = wire.loads(text[len(self.prefix):])
            if not isinstance(request, dict):
                raise wire.WireError("a malformed request from the kernel")
            if request.get("op") != "cb":
                if msg_id is not None:  # only a nested call answers by stdin
                    self.kc.input("")
                    continue
                self.waiting = True
                return self._result(request)
            self._serve_callback(request)

    def _result(self, tree):
        if not isinstance(tree, dict) or tree.get("op") not in ("ret", "fail"):
            raise wire.WireError("a malformed result from the kernel")
        if tree["op"] == "fail":
            raise wire.WireError(f"the kernel's bridge failed: {str(tree.get('why'))[:300]}")
        return tree

    def _serve_callback(self, request):
        func = self.handles.get(request.get("id"))
        try:
            if func is None:
                raise RuntimeError("a callback that is no longer valid")
            args = [self._callback_argument(a) for a in request.get("a") or []]
            kwargs = {str(k): self._callback_argument(v) for k, v in (request.get("k") or {}).items()}
            self.waiting = True  # a call of the student's code made by ``func`` goes by stdin
            value = func(*args, **kwargs)
            reply = {"op": "value", "v": self.encode(value)}
        except (CellTimeout, KernelGone):
            raise
        except Exception as exc:  # noqa: BLE001 - the checker's exception goes back through the student's code
            token = secrets.token_hex(8)
            self.errors[token] = exc
            reply = {"op": "raise", "msg": f"{type(exc).__name__}: {exc}"[:2000], "token": token}
        self.waiting = False
        self.kc.input(wire.dumps(reply))

    def _callback_argument(self, node):
        if not isinstance(node, dict):
            raise wire.WireError("a malformed callback argument")
        value = self.decode(node.get("v"), "an argument")
        index = node.get("alias")
        frame = self.frames[-1] if self.frames else []
        if type(index) is int and 0 <= index < len(frame) and type(frame[index]) is np.ndarray:
            given = frame[index]
            current = self.decode(node.get("given"), "an argument")
            if type(current) is np.ndarray and current.shape == given.shape and given.flags.writeable:
                given[...] = current
                view = node.get("view")
                if (value.shape == given.shape and value.dtype == given.dtype and isinstance(view, list)
                        and view[0] == 0 and list(view[2]) == list(given.strides)):
                    return given
                with contextlib.suppress(Exception):
                    offset, shape, strides, dtype = view
                    if given.flags.c_contiguous:
                        return np.ndarray(tuple(shape), wire.numeric_dtype(dtype), buffer=given,
                                          offset=int(offset), strides=tuple(strides))
        return value

    def _next(self, msg_id):
        """The next stdin request, or the shell reply to ``msg_id``; enforces the deadline and notices a dead kernel."""
        import zmq

        poller = zmq.Poller()
        shell, stdin = self.kc.shell_channel.socket, self.kc.stdin_channel.socket
        poller.register(shell, zmq.POLLIN)
        poller.register(stdin, zmq.POLLIN)
        interrupted = None
        quiet = 0.0
        while True:
            now = time.monotonic()
            if self.deadline is not None and now > self.deadline and interrupted is None:
                interrupted = now
                self._interrupt()
            if interrupted is not None and now - interrupted > 3:
                self.ex._kill_kernel()
                raise KernelGone(f"the cell ran past {self.ex.timeout} s and ignored the interrupt; "
                                 "the kernel was killed")
            ready = dict(poller.poll(int(self.poll * 1000)))
            if stdin in ready:
                msg = _read(stdin)
                if msg["msg_type"] == "input_request":
                    if interrupted is not None:
                        self.kc.input("")  # unwinds the student's code that waits for a callback
                        continue
                    return "stdin", msg
            if shell in ready:
                msg = _read(shell)
                parent = msg["parent_header"].get("msg_id")
                if interrupted is not None and parent == self.top:
                    self.waiting = False
                    self._drain(parent)
                    raise CellTimeout()
                if msg_id is not None and parent == msg_id:
                    return "reply", msg
            if not ready:
                quiet += self.poll
                if quiet >= 1.0:
                    quiet = 0.0
                    if not self._alive():
                        raise KernelGone("the kernel died while this cell ran (os._exit, a crash or the memory limit)")

    def _drain(self, msg_id, limit=2.0):
        """Read the kernel's outputs for ``msg_id`` (until it is idle) into the current cell's outputs."""
        end = time.monotonic() + limit
        iopub = self.kc.iopub_channel.socket
        while time.monotonic() < end:
            if not iopub.poll(max(1, int(1000 * (end - time.monotonic())))):
                return
            msg = _read(iopub)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                return
            if self.outputs is None:
                continue
            if kind == "stream":
                self.outputs.add(stream_output(content.get("name", "stdout"), str(content.get("text", ""))))
            elif kind in ("display_data", "execute_result"):
                out = NotebookNode(output_type=kind, data=content.get("data", {}), metadata=content.get("metadata", {}))
                if kind == "execute_result":
                    out.execution_count = content.get("execution_count")
                self.outputs.add(out)

    def _interrupt(self):
        with contextlib.suppress(Exception):
            run_sync(self.ex.km.interrupt_kernel)()

    def _alive(self):
        with contextlib.suppress(Exception):
            return bool(run_sync(self.ex.km.is_alive)())
        return False


def _read(socket):
    """A ready Jupyter message, parsed without jupyter_client's date handling (or signature: the kernel sends it)."""
    raw = socket.recv_multipart()
    start = raw.index(b"<IDS|MSG>") + 2
    header, parent, _, content = (json.loads(part) for part in raw[start:start + 4])
    return {"msg_type": header.get("msg_type"), "header": header, "parent_header": parent, "content": content}


def _write_back(target, value):
    """Put the student's in-place changes into the checker's own argument."""
    if type(target) is np.ndarray and type(value) is np.ndarray:
        if target.shape == value.shape and target.flags.writeable:
            with contextlib.suppress(TypeError, ValueError):
                target[...] = value
    elif type(target) is list and type(value) is list:
        target[:] = value
    elif type(target) is dict and type(value) is dict:
        target.clear()
        target.update(value)
    elif type(target) is np.random.Generator and type(value) is np.random.Generator:
        with contextlib.suppress(TypeError, ValueError):
            target.bit_generator.state = value.bit_generator.state
