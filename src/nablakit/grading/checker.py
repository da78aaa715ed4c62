"""Test cells run outside the student's kernel; only data crosses.

With split checks (the default of ``nablakit-grade``) the grading process
itself is the **checker**: it has never run student code and runs outside
the sandbox. :class:`~nablakit.grading.sandbox.GuardedExecute` sends the
student's kernel every cell but the test cells; a :class:`Checker` runs

- each locked instructor cell a second time, in its own namespace, on the
  student's own variant (the grading job's environment, never the
  kernel's), its output discarded;
- each test cell, at its place in the notebook, with the names it reads
  from the student's cells fetched as data (:mod:`nablakit.grading.wire`):
  a student function becomes a :class:`StudentFunction` proxy whose calls
  run in the student's kernel under the cell time limit and return data;
  a value that may not cross becomes a :class:`Refused` that fails the
  test that touches it, with a message naming the answer.

The test cell's outputs are made as nbformat outputs the way a kernel
would have sent them (streams, the last expression's value, the error with
the student's own frames), so nbgrader grades, trims and gives feedback as
usual. The kernel side is :mod:`nablakit.grading._bridge_kernel`.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import sys
import time
import warnings

from nbformat.notebooknode import NotebookNode

from . import wire
from .integrity import bound_names, strip_magics, used_names
from .proxy import CellTimeout, KernelGone, Link, Refused, StudentFunction, stream_output

__all__ = ["Checker", "STUDENT_KEY", "StudentFunction", "Refused", "CellTimeout", "KernelGone"]

_BUILTINS = frozenset(dir(builtins))
#: The checker namespace's key for its student kernel (read by nablakit.checks.substituted).
STUDENT_KEY = "__nablakit_student__"


class _Outputs:
    """A test cell's outputs in order: the checker's prints and what the student's code sent."""

    def __init__(self, cap):
        self.items = []
        self.size = 0
        self.cap = cap
        self.exceeded = False
        self.out = _Writer(self, "stdout")
        self.err = _Writer(self, "stderr")

    def add(self, output):
        self.size += sum(len(str(v)) for v in (output.get("data") or {}).values()) + len(output.get("text", ""))
        if self.size > self.cap:
            self.exceeded = True
            return
        last = self.items[-1] if self.items else None
        if (output.output_type == "stream" and last is not None and last.output_type == "stream"
                and last.name == output.name):
            last.text += output.text
        else:
            self.items.append(output)


class _Writer(io.TextIOBase):
    def __init__(self, outputs, name):
        self._outputs, self._name = outputs, name

    def writable(self):
        return True

    def write(self, text):
        if text:
            self._outputs.add(stream_output(self._name, str(text)))
        return len(text)


def _split_last_expression(source):
    """(body, last expression or None) of a cell, as IPython would display its value."""
    tree = ast.parse(strip_magics(source))
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    return tree, last


@functools.lru_cache(maxsize=512)
def cell_names(source):
    """``(names read, names bound)`` of a cell, as frozensets (cached: the worker fills it before it forks)."""
    return frozenset(used_names(source)), frozenset(bound_names(source))


class Checker:
    """One notebook's checker: its namespace and the student-kernel link (see the module docstring)."""

    def __init__(self, executor):
        from .. import variants

        variants.forget()  # the checker draws the variant from the grading job's environment
        self.ex = executor
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.trusted = set()  # names bound by instructor and test cells: never fetched
        self.link = None
        self.ready = None
        self.seconds = 0.0

    def start(self):
        if self.ready is None:
            try:
                self.link = Link(self.ex)
                self.ready = self.link.install()
            except Exception:  # noqa: BLE001 - reported as a failed set-up
                self.ready = False
            if self.link is not None:
                self.ns[STUDENT_KEY] = self.link
        return self.ready

    def close(self):
        if self.link is not None:
            with contextlib.suppress(Exception):
                self.link.close()

    def _names_to_fetch(self, source):
        used, bound_here = cell_names(source)
        return sorted(n for n in used
                      if n not in self.trusted and n not in _BUILTINS and n not in bound_here
                      and not n.startswith("__"))

    def _prepare(self, source, deadline, count=False):
        names = self._names_to_fetch(source)
        if not names and not count:
            return None
        count, values, missing = self.link.fetch(names, deadline, count)
        self.ns.update(values)
        for name in missing:
            self.ns.pop(name, None)
        return count

    def run_instructor(self, cell):
        """Run a locked set-up cell in the checker too (its output is discarded)."""
        start = time.monotonic()
        outputs = _Outputs(cap=1 << 20)
        self.link.outputs = None
        try:
            with contextlib.redirect_stdout(outputs.out), contextlib.redirect_stderr(outputs.err):
                self._prepare(cell.source, time.monotonic() + self.ex.timeout)
                self.link.deadline = time.monotonic() + self.ex.timeout
                exec(compile(ast.parse(strip_magics(cell.source)), "<instructor cell>", "exec"), self.ns)
        except (CellTimeout, KernelGone):
            raise
        except Exception:  # noqa: BLE001 - the same cell in the student's kernel shows what went wrong
            pass
        finally:
            self.link.deadline = None
            self.trusted |= cell_names(cell.source)[1]
            self.seconds += time.monotonic() - start

    def run_test(self, cell, cap):
        """Run a test cell here; set its outputs and execution count as a kernel would have."""
        start = time.monotonic()
        deadline = start + self.ex.timeout if self.ex.timeout else None
        outputs = _Outputs(cap=cap)
        self.link.outputs = outputs
        self.link.registry = {}
        self.link.waiting = False
        error = None
        try:
            count = self._prepare(cell.source, deadline or time.monotonic() + 60, count=True)
            cell.execution_count = count
            tree, last = _split_last_expression(cell.source)
            self.link.deadline = deadline
            with contextlib.redirect_stdout(outputs.out), contextlib.redirect_stderr(outputs.err), \
                    warnings.catch_warnings():
                _kernel_warning_filters()
                warnings.showwarning = _show_warning  # on the cell's stderr, as a kernel shows it
                exec(compile(tree, "<test cell>", "exec"), self.ns)
                value = eval(compile(last, "<test cell>", "eval"), self.ns) if last is not None else None
            if value is not None:
                self.ns["_"] = value
                outputs.add(NotebookNode(output_type="execute_result", execution_count=count, metadata={},
                                         data={"text/plain": _pretty(value)}))
        except CellTimeout:
            error = NotebookNode(output_type="error", ename="CellTimeoutError", evalue="",
                                 traceback=[f"\x1b[0;31mCellTimeoutError\x1b[0m: the cell ran past {self.ex.timeout} s"])
        except KernelGone:
            raise
        except wire.WireError as exc:
            error = _error_output(AssertionError(f"the grader could not read the answer from the notebook: {exc}"))
        except Exception as exc:  # noqa: BLE001 - the test failed, as in a kernel
            error = _error_output(exc)
        finally:
            self.link.deadline = None
            self.link.outputs = None
            self.trusted |= cell_names(cell.source)[1]
            self.seconds += time.monotonic() - start
        cell.outputs = outputs.items + ([error] if error is not None else [])
        return outputs


def _kernel_warning_filters():
    """Python's default warning filters, as a fresh kernel has them (nbgrader zeroes a test cell with stderr output)."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # line="": never read the file a student's warning names (it could name the answer key).
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line=""))


def _pretty(value):
    try:
        from IPython.lib.pretty import pretty

        return pretty(value)
    except Exception:  # noqa: BLE001
        return repr(value)


def _error_output(exc):
    ename = type(exc).__name__
    render = getattr(type(exc), "_render_traceback_", None)
    if render is not None:
        try:
            traceback = [str(line) for line in exc._render_traceback_()]
        except Exception:  # noqa: BLE001
            traceback = [f"{ename}: {exc}"]
    else:
        frames = getattr(exc, "_nbk_student_tb", None) or []
        context = exc.__context__ if exc.__cause__ is None and not exc.__suppress_context__ else exc.__cause__
        if not frames and context is not None:
            frames = getattr(context, "_nbk_student_tb", None) or []
        traceback = [*frames, f"\x1b[0;31m{ename}\x1b[0m: {exc}"]
    return NotebookNode(output_type="error", ename=ename, evalue=str(exc), traceback=traceback)
