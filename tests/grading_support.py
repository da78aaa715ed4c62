"""Shared set-up of the batch-grading tests: temporary courses, a throw-away PostgreSQL.

A test course is a temporary folder laid out like the project
(``autograder/nbgrader_config.py``, ``solutions/<exercise>``), released with
real ``nbgrader generate_assignment`` into its own gradebook. Nothing here
touches the project's ``autograder/`` folder or an instructor's database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nablakit.grading.batch import Course
from nablakit.grading.limits import Limits
from nablakit.grading.release import ALL_PATTERN, nbgrader_env, run_nbgrader

ROOT = Path(__file__).resolve().parents[1]
# Short limits keep the hostile cases fast.
TEST_LIMITS = Limits(cell_timeout=5, notebook_timeout=20, memory=int(1.5 * 1024**3), max_output=5 * 1024**2)


def isolated_env(db_url):
    """Environment overrides: this course's gradebook only, no shared exchange."""
    return {"NBGRADER_DB_URL": db_url, "NBGRADER_EXCHANGE": None, "NBGRADER_COURSE_ID": None}


def sqlite_url(root):
    return f"sqlite:///{Path(root) / 'autograder' / 'gradebook.db'}"


def make_course(root, exercises, db_url=None):
    """Copy the config and ``solutions/<exercise>`` into ``root`` and release them with nbgrader.

    Returns
    -------
    Course
    """
    root = Path(root)
    (root / "autograder").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", root / "autograder")
    for name in exercises:
        shutil.copytree(ROOT / "solutions" / name, root / "solutions" / name)
    db_url = db_url or sqlite_url(root)
    run_nbgrader(["generate_assignment", ALL_PATTERN, "--force"], root, extra_env=isolated_env(db_url))
    return Course.load(root, db_url=db_url)


def released(root, name):
    return Path(root) / "exercises" / name / f"{name}.ipynb"


def solution(name):
    return ROOT / "solutions" / name / f"{name}.ipynb"


def autograde_sequentially(root, db_url=None, wait=True):
    """Plain ``nbgrader autograde`` of every exercise and student, one process (the reference).

    With ``wait=False`` returns the running ``subprocess.Popen`` (text pipes).
    """
    if wait:
        return run_nbgrader(["autograde", ALL_PATTERN, "--force"], root,
                            extra_env=isolated_env(db_url or sqlite_url(root)))
    env = nbgrader_env()
    for key, value in isolated_env(db_url or sqlite_url(root)).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.Popen([str(Path(sys.executable).parent / "nbgrader"), "autograde", ALL_PATTERN, "--force"],
                            cwd=Path(root) / "autograder", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def gradebook_parts(db_url, assignment, student):
    """grade_id -> [score, max_score, needs_manual_grade, cell_type], read with nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, "gradients") as gb:
        sub = gb.find_submission(assignment, student)
        return {g.name: [g.score, g.max_score, bool(g.needs_manual_grade), g.cell_type]
                for nb in sub.notebooks for g in nb.grades}


def processes_under(path):
    """PIDs of live processes whose working directory is inside ``path`` (leftover kernels)."""
    path = str(Path(path).resolve())
    found = []
    for entry in glob.glob("/proc/[0-9]*"):
        try:
            cwd = os.readlink(f"{entry}/cwd")
        except OSError:
            continue
        if cwd == path or cwd.startswith(path + os.sep):
            found.append(int(entry.rsplit("/", 1)[1]))
    return found


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def postgres_available():
    return _pg_bin() is not None


@contextlib.contextmanager
def postgres_server():
    """A throw-away PostgreSQL server on a unix socket; yields the SQLAlchemy URL of database ``gradebook``.

    Runs as the ``postgres`` user when started by root (PostgreSQL refuses
    to run as root), as the current user otherwise.
    """
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (`make system-deps` installs it)")
    base = Path(tempfile.mkdtemp(prefix="nablakit-pg-"))
    os.chmod(base, 0o777)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    os.chmod(sock, 0o777)
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(*args):
        out = subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True, cwd=base)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stdout}\n{out.stderr}")
        return out

    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        run(bindir / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "60", "start",
            "-o", f"-k {sock} -c listen_addresses='' -F")
        run(bindir / "createdb", "-h", sock, "-U", "postgres", "gradebook")
        yield f"postgresql+psycopg://postgres@/gradebook?host={sock}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=base)
        time.sleep(0.1)
        shutil.rmtree(base, ignore_errors=True)
