"""nbgrader preprocessors that make autograding safe against hostile submissions.

:class:`GuardedExecute` replaces nbgrader's ``Execute`` in the autograde
chain. It still executes the notebook with nbgrader's own machinery, and adds:

- an **output cap**: output beyond ``max_output`` bytes is dropped as it
  arrives, the kernel is interrupted and the submission fails with the
  reason, so a 50 MB print cannot exhaust the grader's memory;
- **kernel loss** handling: a kernel that dies (``os._exit``, a crash, the
  memory limit) or ignores the interrupt after a cell timeout is killed; the
  cell gets an error and the cells after it are marked as not run, so the
  points earned before it are kept and no later test passes;
- a **guard** (:mod:`nablakit.grading._kernel_guard`) that undoes
  monkeypatches of NumPy, ``nablakit``, ``builtins`` and of the notebook
  names bound by instructor cells before every test cell, and voids a test
  during which the submission patched something;
- **forged partial credit** removal: nbgrader reads a number displayed by a
  test cell as partial credit even when an error follows; a test cell that
  failed keeps no ``execute_result``;
- **split checks** (``split_checks``, the default): test cells never reach
  the student's kernel; they run in a :class:`~nablakit.grading.checker.Checker`
  in this process, which reads the student's answers as data
  (:mod:`nablakit.grading.checker`). With ``split_checks=False`` the tests
  run in the student's kernel, as plain ``nbgrader autograde`` does.

:class:`TrimTracebacks` cuts every traceback down to the frames of the
student's own cells plus the final error line, so feedback never shows test
code (hidden or not) or library internals.

Events (tampering restored, kernel lost, output cap) are collected in
:data:`EVENTS` of the grading process, which reports them.

Long on purpose: the output cap, kernel-loss handling, the guard and the
split checks all act on the one cell loop of :class:`GuardedExecute`, and
an instructor checks what grading does to a cell by reading it in one place.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import signal
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from .checker import CellTimeout, KernelGone
from .integrity import bound_names, imported_modules, used_names
from .limits import format_size

__all__ = ["EVENTS", "GuardedExecute", "TrimTracebacks", "RestoreTestCells", "OutputLimitExceeded", "role_of",
           "trim_traceback", "restore_cells"]

#: Events recorded while grading, read by the grading process afterwards.
EVENTS: list[dict] = []
#: Time spent by the split checks of this process: in the checker, waiting for the kernel; student calls.
STATS = {"checker_seconds": 0.0, "kernel_seconds": 0.0, "calls": 0}

_GUARD_SOURCE = (Path(__file__).with_name("_kernel_guard.py")).read_text()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class OutputLimitExceeded(RuntimeError):
    """A notebook printed more than the output cap allows."""


def role_of(cell):
    """Who wrote a cell: ``"test"``, ``"answer"``, ``"instructor"``, ``"student"`` or ``"text"``.

    ``test``: an autograded test cell (grade, not solution); ``answer``: a
    solution cell; ``instructor``: another locked cell; ``student``: any
    unmarked code cell the student added or edited freely.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell
    >>> role_of(new_code_cell("x = 1"))
    'student'
    >>> role_of(new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "solution": False}}))
    'test'
    """
    if cell.get("cell_type") != "code":
        return "text"
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "instructor"
    return "student"


def _error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _output_size(content):
    size = len(content.get("text", "") or "")
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(str(value))
    for line in content.get("traceback") or []:
        size += len(line)
    return size


class GuardedExecute(Execute):
    """nbgrader's ``Execute`` with an output cap, kernel-loss handling and a tamper guard."""

    max_output = Integer(10 * 1024**2, help="Bytes of output a notebook may produce.").tag(config=True)
    guard = Bool(True, help="Restore monkeypatched modules before test cells.").tag(config=True)
    guard_prefixes = List(["numpy", "nablakit"], help="Packages whose modules the guard protects.").tag(config=True)
    guard_imports = List(
        ["numpy", "numpy.testing", "numpy.linalg", "nablakit.checks"],
        help="Modules imported (silently, without binding names) before the first cell.",
    ).tag(config=True)
    lost_message = Unicode("not run: the kernel was lost in an earlier cell ({reason})").tag(config=True)
    split_checks = Bool(True, help="Run test cells in the grading process (the checker), never in the student's "
                                   "kernel; only data crosses.").tag(config=True)

    def __init__(self, *args, **kwargs):
        from .kernels import ForkingKernelManager

        kwargs.setdefault("kernel_manager_class", ForkingKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._output_bytes = 0
        self._output_exceeded = None
        self._lost = None
        self._guard_name = None
        self._secret = secrets.token_hex(16)
        self._pending_before = None
        self._last_reply = None
        self._checker = None
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            if self._checker is not None:
                STATS["checker_seconds"] += self._checker.seconds
                STATS["kernel_seconds"] += self._checker.link.seconds if self._checker.link else 0.0
                STATS["calls"] += self._checker.link.calls if self._checker.link else 0
                self._checker.close()

    def on_cell_executed(self, **kwargs):
        self._last_reply = kwargs.get("execute_reply")
        return super().on_cell_executed(**kwargs)

    # -- output cap ----------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        self._output_bytes += _output_size(msg.get("content", {}))
        if self._output_bytes > self.max_output:
            if self._output_exceeded is None:
                self._output_exceeded = cell_index
                if self.km is not None:
                    asyncio.ensure_future(ensure_async(self.km.interrupt_kernel()))
            return None
        return super().output(outs, msg, display_id, cell_index)

    # -- cells ---------------------------------------------------------------------
    def _next_test(self, index):
        """The next code cell with source after ``index`` if it is a test cell, else None."""
        for cell in self.nb.cells[index + 1:]:
            if cell.get("cell_type") == "code" and cell.source.strip():
                return cell if role_of(cell) == "test" else None
        return None

    def preprocess_cell(self, cell, resources, index):
        role = role_of(cell)
        if role == "text" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        label = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
        if self._lost is not None:
            cell.outputs = [_error_output("KernelLost", self.lost_message.format(reason=self._lost))]
            return cell, resources
        if self.guard and self._guard_name is None:
            self._install_guard()
        guarded = bool(self._guard_name)
        if role == "test" and guarded:
            findings, self._pending_before = self._pending_before, None
            if findings is None:  # not answered along with the previous cell: ask now
                findings = self._guard_call("before", names=sorted(used_names(cell.source)))
            if findings is None:
                self._void(cell, label, "the grader's integrity guard was removed or disabled by the submission")
                return cell, resources
            for kind, finding in findings:
                EVENTS.append({"kind": kind, "cell": label, "when": "before test (restored)", "detail": finding})
        if role == "test" and self.split_checks:
            return self._check_outside(cell, resources, label, guarded)
        # Guard calls ride along with the cell's own execution (user_expressions, evaluated
        # right after the cell when it succeeds), which saves a round trip to the kernel each.
        expressions, nonces = {}, {}
        if guarded:
            if role == "test":
                nonces["after"] = secrets.token_hex(8)
                expressions["after"] = self._check_expr(nonces["after"], "after", sorted(bound_names(cell.source)))
            elif role == "instructor":
                names = sorted(bound_names(cell.source))
                if names:
                    expressions["trust"] = f"{self._guard_name}.trust({tuple(names)!r})"
            upcoming = self._next_test(index)
            if upcoming is not None:
                nonces["before"] = secrets.token_hex(8)
                expressions["before"] = self._check_expr(nonces["before"], "before",
                                                         sorted(used_names(upcoming.source)))
        self._last_reply = None
        try:
            with self._riding(expressions):
                cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._lose(cell, label, "the kernel died while this cell ran (os._exit, a crash or the memory limit)")
            return cell, resources
        except CellTimeoutError:
            self._kill_kernel()
            self._lose(cell, label, f"the cell ran past {self.timeout} s and ignored the interrupt; the kernel was killed")
            return cell, resources
        if self._output_exceeded is not None:
            limit = format_size(self.max_output)
            EVENTS.append({"kind": "output", "cell": label, "detail": f"more than {limit} of output"})
            raise OutputLimitExceeded(f"the notebook produced more than {limit} of output (in {label})")
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs):
            EVENTS.append({"kind": "timeout", "cell": label, "detail": f"cell interrupted after {self.timeout} s"})
        answers = {}
        if self._last_reply and self._last_reply.get("content", {}).get("status") == "ok":
            answers = self._last_reply["content"].get("user_expressions") or {}
        if "before" in nonces:
            self._pending_before = self._parse_check(answers.get("before"), nonces["before"])
        if role == "test":
            self._after_test(cell, label, answers.get("after"), nonces.get("after"))
        elif role == "instructor" and self.split_checks and self._lost is None:
            checker = self._start_checker()
            if checker is not None:
                try:
                    checker.run_instructor(cell)
                except (KernelGone, CellTimeout) as exc:
                    self._kill_kernel()
                    self._lose(cell, label, str(exc) or f"the cell ran past {self.timeout} s")
        return cell, resources

    # -- split checks ----------------------------------------------------------------
    def _start_checker(self):
        from .checker import Checker

        if self._checker is None:
            self._checker = Checker(self)
            if not self._checker.start():
                EVENTS.append({"kind": "guard", "cell": "setup",
                               "detail": "the checker could not reach the student's kernel"})
        return self._checker if self._checker.ready else None

    def _check_outside(self, cell, resources, label, guarded):
        """Run a test cell in the checker (this process); the student's kernel never sees it."""
        checker = self._start_checker()
        if checker is None:
            cell.outputs = [_error_output("IntegrityError", "the grader could not read the answers from the "
                                                            "student's kernel; no credit for this test")]
            EVENTS.append({"kind": "void", "cell": label, "detail": "the checker could not reach the kernel"})
            return cell, resources
        calls = checker.link.calls
        try:
            outputs = checker.run_test(cell, cap=max(0, self.max_output - self._output_bytes))
        except KernelGone as exc:
            self._lose(cell, label, str(exc))
            return cell, resources
        self._output_bytes += outputs.size
        if outputs.exceeded:
            limit = format_size(self.max_output)
            EVENTS.append({"kind": "output", "cell": label, "detail": f"more than {limit} of output"})
            raise OutputLimitExceeded(f"the notebook produced more than {limit} of output (in {label})")
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs):
            EVENTS.append({"kind": "timeout", "cell": label, "detail": f"cell interrupted after {self.timeout} s"})
        findings = []
        if guarded and checker.link.calls > calls:  # the student's code ran during the test: did it patch?
            findings = self._guard_call("after", names=sorted(bound_names(cell.source)))
        self._after_test(cell, label, findings=findings)
        return cell, resources

    @contextlib.contextmanager
    def _riding(self, expressions):
        if not expressions:
            yield
            return
        client = self.kc
        send = client.execute

        def execute(code, *args, **kwargs):
            kwargs["user_expressions"] = dict(expressions)
            return send(code, *args, **kwargs)

        client.execute = execute
        try:
            yield
        finally:
            del client.execute

    def _after_test(self, cell, label, answer=None, nonce=None, findings=False):
        failed = any(o.get("output_type") == "error" for o in cell.outputs)
        # A failed test earns nothing anyway; whatever it changed is undone before the next test. With split
        # checks the findings come from the student's kernel after the test and are reported either way.
        if self._guard_name and (not failed or findings is not False):
            if findings is False:
                findings = self._parse_check(answer, nonce)
            if findings is None:
                self._void(cell, label, "the grader's integrity guard was removed or disabled by the submission")
            elif findings:
                for kind, finding in findings:
                    EVENTS.append({"kind": kind, "cell": label, "when": "during test (test voided)", "detail": finding})
                self._void(cell, label, "the submission changed what this test relies on while it ran: "
                           + "; ".join(text for _, text in findings[:3]))
        outputs = cell.outputs
        if any(o.get("output_type") == "error" for o in outputs):
            forged = [o for o in outputs if o.get("output_type") == "execute_result"]
            if forged:
                EVENTS.append({"kind": "tamper", "cell": label, "when": "after test",
                               "detail": "a failing test cell displayed a value (forged partial credit removed)"})
                cell.outputs = [o for o in outputs if o.get("output_type") != "execute_result"]

    def _void(self, cell, label, reason):
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
        cell.outputs.append(_error_output("IntegrityError", f"{reason}; no credit for this test"))
        EVENTS.append({"kind": "void", "cell": label, "detail": reason})

    def _lose(self, cell, label, reason):
        self._lost = f"{label}: {reason}"
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
        cell.outputs.append(_error_output("KernelLost", reason))
        EVENTS.append({"kind": "kernel", "cell": label, "detail": reason})

    def _kill_kernel(self):
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
        if pid:
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                    break
                except OSError:
                    continue

    # -- guard ---------------------------------------------------------------------
    def _kernel_eval(self, expression, code="pass"):
        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions={"r": expression}, stop_on_error=False)
        try:
            reply = self.wait_for_reply(msg_id)
        except (DeadKernelError, CellTimeoutError):
            return None
        if not reply or reply["content"].get("status") != "ok":
            return None
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            return None
        try:
            return ast.literal_eval(result["data"]["text/plain"])
        except (KeyError, ValueError, SyntaxError):
            return None

    def _install_guard(self):
        modules = list(self.guard_imports)
        for cell in self.nb.cells:
            if role_of(cell) in ("test", "instructor"):
                modules += [m for m in imported_modules(cell.source) if m.split(".")[0] in self.guard_prefixes]
        name = f"_nbk_guard_{secrets.token_hex(6)}"
        setup = (
            f"{_GUARD_SOURCE}\n"
            "def _nbk_setup(mods):\n"
            "    import importlib\n"
            "    for mod in mods:\n"
            "        try:\n"
            "            importlib.import_module(mod)\n"
            "        except Exception:\n"
            "            pass\n"
            f"_nbk_setup({sorted(set(modules))!r})\n"
            f"{name} = make_guard({self._secret!r}, globals(), {tuple(self.guard_prefixes)!r})\n"
            "del _nbk_setup, make_guard\n"
        )
        if self._kernel_eval(f"{name}.check('setup', 'after')", code=setup) is None:
            EVENTS.append({"kind": "guard", "cell": "setup", "detail": "the integrity guard could not be installed"})
            self._guard_name = ""
            return
        self._guard_name = name

    def _check_expr(self, nonce, phase, names):
        return f"{self._guard_name}.check({nonce!r}, {phase!r}, {tuple(names)!r})"

    def _parse_check(self, answer, nonce):
        """Findings from a guard answer (a user_expressions entry or a plain value); None if not genuine."""
        if nonce is None or answer is None:
            return None
        if isinstance(answer, dict):  # a user_expressions entry
            if answer.get("status") != "ok":
                return None
            try:
                answer = ast.literal_eval(answer["data"]["text/plain"])
            except (KeyError, ValueError, SyntaxError, TypeError):
                return None
        try:
            proof, findings = ast.literal_eval(answer)
            findings = [(str(kind), str(text)) for kind, text in findings]
        except (ValueError, SyntaxError, TypeError):
            return None
        if proof != hashlib.sha256(f"{self._secret}:{nonce}".encode()).hexdigest():
            return None
        return findings

    def _guard_call(self, phase, names=()):
        nonce = secrets.token_hex(8)
        return self._parse_check(self._kernel_eval(self._check_expr(nonce, phase, names)), nonce)


def trim_traceback(traceback, student_counts):
    """Keep the frames of the student's own cells and the final error line.

    Parameters
    ----------
    traceback : list of str
        IPython's traceback entries (one string per frame, ANSI colours allowed).
    student_counts : set of int
        Execution counts of the cells the student wrote.

    Returns
    -------
    list of str

    Examples
    --------
    >>> tb = ["----", "AssertionError  Traceback (most recent call last)",
    ...       "Cell In[7], line 3\\n----> 3 assert secret_check()",
    ...       "Cell In[4], line 2, in grad(x)\\n----> 2 return x / 0",
    ...       "File /lib/checks.py:10, in expect(c)\\n---> 10 raise",
    ...       "AssertionError: grad(p) should have shape (2,)"]
    >>> trim_traceback(tb, {4})
    ['Cell In[4], line 2, in grad(x)\\n----> 2 return x / 0', 'AssertionError: grad(p) should have shape (2,)']
    """
    if not traceback:
        return traceback
    kept = []
    for entry in traceback[:-1]:
        plain = _ANSI.sub("", entry).lstrip()
        match = re.match(r"(?:Cell In|Input In)\s*\[(\d+)\]", plain)
        if match and int(match.group(1)) in student_counts:
            kept.append(entry)
    return kept + [traceback[-1]]


class TrimTracebacks(NbGraderPreprocessor):
    """Trim error tracebacks to the student's own frames plus the error message."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        student_counts = {
            cell.get("execution_count")
            for cell in nb.cells
            if role_of(cell) in ("answer", "student") and cell.get("execution_count") is not None
        }
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = trim_traceback(list(output.get("traceback", [])), student_counts)
        return nb, resources


def restore_cells(nb, release):
    """Put every nbgrader cell of ``release`` that ``nb`` lacks back, in its released order; return their ids.

    nbgrader's ``OverwriteCells.add_missing_grade_cells`` only restores a
    deleted grade cell when the cell before it is still there (two missing
    in a row raise ``KeyError``). Here each missing cell (test, answer stub
    or locked instructor cell) goes right after the nearest earlier cell of
    the release that is present (or restored), so nbgrader then finds every
    cell and overwrites the tests from its gradebook (hidden tests included).

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> def cell(i, **kw):
    ...     return new_code_cell(i, metadata={"nbgrader": {"grade_id": i, "locked": True, **kw}})
    >>> release = new_notebook(cells=[cell("a", solution=True), cell("t1", grade=True), cell("t2", grade=True)])
    >>> submitted = new_notebook(cells=[release.cells[0]])
    >>> restore_cells(submitted, release), [c.source for c in submitted.cells]
    (['t1', 't2'], ['a', 't1', 't2'])
    """
    import copy

    present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    restored = []
    order = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in release.cells]
    for index, cell in enumerate(release.cells):
        grade_id = order[index]
        if not grade_id or grade_id in present:
            continue
        anchor = next((order[j] for j in range(index - 1, -1, -1) if order[j] in present), None)
        position = 0
        if anchor is not None:
            position = next(i for i, c in enumerate(nb.cells)
                            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == anchor) + 1
        new = copy.deepcopy(cell)
        if new.get("cell_type") == "code":
            new["outputs"], new["execution_count"] = [], None
        nb.cells.insert(position, new)
        present.add(grade_id)
        restored.append(grade_id)
    return restored


class RestoreTestCells(NbGraderPreprocessor):
    """Before nbgrader's ``OverwriteCells``: restore deleted cells from the released notebook (see :func:`restore_cells`)."""

    release_dir = Unicode("", help="Folder of the released notebooks of this assignment.").tag(config=True)

    def preprocess(self, nb, resources):
        path = Path(self.release_dir) / f"{resources.get('unique_key')}.ipynb"
        if not self.release_dir or not path.is_file():
            return nb, resources
        import nbformat

        release = nbformat.read(path, as_version=4)
        restored = restore_cells(nb, release)
        if restored:
            tests = [c for c in restored if role_of(next(x for x in nb.cells if x.metadata.get("nbgrader", {})
                                                         .get("grade_id") == c)) == "test"]
            others = [c for c in restored if c not in tests]
            if tests:
                EVENTS.append({"kind": "restored", "cell": ", ".join(tests),
                               "detail": f"test cells restored ({len(tests)} deleted by the submission)"})
            if others:
                EVENTS.append({"kind": "restored", "cell": ", ".join(others),
                               "detail": f"deleted answer or instructor cells restored as released ({len(others)})"})
        return nb, resources
