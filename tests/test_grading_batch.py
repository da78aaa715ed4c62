"""Pieces of the batch grader that need no kernel: limits, process clean-up, the tamper guard,
the integrity report and lint, traceback trimming, pre-flight checks, reports and the CLI.

The end-to-end behaviour (real nbgrader, real kernels, hostile notebooks) is
tested in ``test_grading_adversarial.py``; PostgreSQL and Dask in their own files.
"""

from __future__ import annotations

import builtins
import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from exercise_cases import CASES
from nablakit import checks
from nablakit.grading import _kernel_guard
from nablakit.grading.batch import BatchResult, Course, flags_of, make_job
from nablakit.grading.cli import build_parser
from nablakit.grading.integrity import (
    bound_names,
    compare_to_release,
    imported_modules,
    lint_notebook,
    tamper_lint,
    used_names,
)
from nablakit.grading.limits import Limits, format_size, parse_size
from nablakit.grading.release import find_assignments
from nablakit.grading.reports import (
    failure_counts,
    misconception_counts,
    part_pass_rates,
    write_class_csv,
    write_grades_csv,
    write_html,
)
from nablakit.grading.sandbox import GuardedExecute, TrimTracebacks, role_of, trim_traceback
from nablakit.grading.submission import fill_answers, solution_answers
from nablakit.grading.worker import preflight

ROOT = Path(__file__).resolve().parents[1]
EX1 = "ex01-partial-derivatives"


# -- limits -----------------------------------------------------------------------------
def test_sizes_and_limits():
    assert parse_size("1.5G") == int(1.5 * 1024**3) and parse_size("512M") == 512 * 1024**2
    assert parse_size("none") is None and parse_size(4096) == 4096
    assert format_size(parse_size("10MB")) == "10 MB"
    with pytest.raises(ValueError, match="size"):
        parse_size("lots")
    with pytest.raises(ValueError, match="cell_timeout"):
        Limits(cell_timeout=0)
    with pytest.raises(ValueError, match="memory"):
        Limits(memory=1000)
    assert Limits.from_dict(Limits(cell_timeout=3).to_dict()) == Limits(cell_timeout=3)


def test_kill_descendants_reaches_orphans_of_a_subreaper():
    """A detached grandchild (setsid, parent gone) is still found and killed by the subreaper."""
    script = textwrap.dedent("""
        import os, subprocess, sys, time
        from nablakit.grading.limits import become_subreaper, descendants, kill_descendants
        assert become_subreaper()
        subprocess.run(["sh", "-c", "setsid sleep 60 & exit 0"])
        deadline = time.time() + 5
        while not descendants(os.getpid()) and time.time() < deadline:
            time.sleep(0.02)
        found = descendants(os.getpid())
        killed = kill_descendants(os.getpid(), reap_all=True)
        print(len(found), killed, len(descendants(os.getpid())))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    found, killed, left = map(int, out.stdout.split())
    assert found == 1 and killed >= 1 and left == 0


def test_forked_kernels_are_like_launched_ones(tmp_path, monkeypatch):
    """A kernel from the fork server runs in the notebook's folder, with the allow-listed environment and the limit."""
    import os

    from nbclient import NotebookClient

    from nablakit.grading import kernels

    monkeypatch.setenv("NBGRADER_DB_URL", "sqlite:///secret/gradebook.db")
    server = kernels.ForkServer(env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    monkeypatch.setattr(kernels, "SERVER", server)
    monkeypatch.setattr(kernels, "STUDENT", "alice")
    monkeypatch.setattr(kernels.ForkProvisioner, "memory", 3 * 1024**3)
    try:
        nb = new_notebook(cells=[new_code_cell(
            "import os, sys, resource\n"
            "print(os.getcwd(), sys.path[0], os.getppid(), os.environ['NABLAKIT_STUDENT'], 'NBGRADER_DB_URL' in os.environ,"
            " resource.getrlimit(resource.RLIMIT_AS)[0], os.getsid(0) == os.getpid())")])
        NotebookClient(nb, kernel_manager_class=kernels.ForkingKernelManager, timeout=60,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        fields = nb.cells[0].outputs[0].text.split()
    finally:
        server.close()
    assert fields == [str(tmp_path), str(tmp_path), str(server.pid), "alice", "False", str(3 * 1024**3), "True"]


# -- integrity: lint ---------------------------------------------------------------------
@pytest.mark.parametrize("code, expected", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "assigns to numpy.allclose"),
    ("import numpy\nnumpy.testing.assert_allclose = print", "assigns to numpy.testing.assert_allclose"),
    ("from numpy import testing\ntesting.assert_allclose = print", "assigns to numpy.testing.assert_allclose"),
    ("setattr(np, 'isclose', lambda *a: True)", "calls setattr on np"),
    ("from nablakit import checks\nchecks.expect_close = lambda *a, **k: None", "nablakit.checks.expect_close"),
    ("import nablakit.checks as c\nc.expect = print", "assigns to nablakit.checks.expect"),
    ("checks.expect_close.__code__ = f.__code__", "changes a function's __code__"),
    ("import builtins\nbuiltins.abs = lambda x: 0", "assigns to builtins.abs"),
    ("import builtins", "imports builtins"),
    ("__builtins__.len = lambda x: 2", "__builtins__"),
    ("__builtins__ = {}", "rebinds __builtins__"),
    ("import sys\nsys.modules['nablakit.checks'] = fake", "edits sys.modules"),
    ("import sys\nsys.modules.update({'numpy': None})", "edits sys.modules"),
    ("import os\nos._exit(0)", "calls os._exit"),
    ("from os import _exit\n_exit(0)", "calls os._exit"),
    ("import sys\nsys.exit()", "calls sys.exit"),
    ("exit()", "calls exit()"),
    ("import sys\nsys.displayhook = print", "replaces the display hook"),
    ("globals()['expect_close'] = print", "globals() dictionary"),
    ("import gc\ngc.get_referrers(x)", "garbage collector"),
    ("def f():\n    import inspect\n    return inspect.currentframe().f_back.f_locals", "walks the call stack"),
    ("get_ipython().run_cell = None", "replaces IPython's cell runner"),
])
def test_tamper_lint_flags_each_trick(code, expected):
    details = [f.detail for f in tamper_lint(code, "c")]
    assert any(expected in d for d in details), details


def test_tamper_lint_is_quiet_on_honest_answers():
    """No instructor solution and no wrong-answer case of the exercise tests is flagged."""
    for name in find_assignments(ROOT):
        answers = solution_answers(ROOT / "solutions" / name / f"{name}.ipynb")
        for case in CASES.get(name, {}).get("wrong", []):
            answers = {**answers, **{f"{k}#wrong": v for k, v in case["answers"].items()}}
        for grade_id, source in answers.items():
            assert tamper_lint(textwrap.dedent(source), grade_id) == [], (name, grade_id)


def test_tamper_lint_survives_magics_and_syntax_errors():
    assert tamper_lint("%matplotlib widget\nimport numpy as np") == []
    assert tamper_lint("def f(:\n  pass") == []


def test_names_read_bound_and_imported():
    src = "%matplotlib widget\nimport numpy as np\nfrom nablakit import checks\nx = f(1)\nfor i in range(3): y = i"
    assert bound_names(src) == {"np", "checks", "x", "i", "y"}
    assert {"f", "range", "i"} <= used_names(src)
    assert imported_modules(src) == {"numpy", "nablakit"}


# -- integrity: test cells ---------------------------------------------------------------
def _release(name=EX1):
    return nbformat.read(ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)


def _first_test_id(nb):
    return next(c.metadata.nbgrader.grade_id for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")


def test_compare_to_release_finds_deleted_edited_retyped_and_metadata_changes():
    release = _release()
    test_id = _first_test_id(release)
    assert compare_to_release(fill_answers(release), release) == []
    deleted = fill_answers(release, delete=[test_id])
    assert [(f.kind, f.cell) for f in compare_to_release(deleted, release)] == [("deleted", test_id)]
    edited = fill_answers(release, replace={test_id: "pass"})
    assert [(f.kind, f.cell) for f in compare_to_release(edited, release)] == [("edited", test_id)]
    retyped = fill_answers(release)
    index = next(i for i, c in enumerate(retyped.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == test_id)
    retyped.cells[index] = new_code_cell(retyped.cells[index].source)
    assert [f.kind for f in compare_to_release(retyped, release)] == ["retyped"]
    tampered = fill_answers(release)
    tampered.cells[index].metadata.nbgrader["solution"] = True
    tampered.cells[index].metadata.nbgrader["points"] = 99
    finding = compare_to_release(tampered, release)
    assert [f.kind for f in finding] == ["metadata"] and "solution" in finding[0].detail


def test_lint_notebook_reads_only_student_cells():
    release = _release()
    test_id = _first_test_id(release)
    nb = fill_answers(release, replace={test_id: "import builtins"})  # restored by nbgrader anyway
    assert lint_notebook(nb) == []
    nb.cells.append(new_code_cell("import numpy as np\nnp.allclose = lambda *a, **k: True"))
    assert [f.detail for f in lint_notebook(nb)] == ["assigns to numpy.allclose"]


# -- the guard (run in-process here; in grading it runs inside the kernel) ---------------
@pytest.fixture()
def guard_ns():
    import numpy.testing  # noqa: F401 - the grader imports it before the snapshot too

    ns = {"__builtins__": builtins, "np": np, "checks": checks}
    guard = _kernel_guard.make_guard("secret", ns)
    guard.trust(["np", "checks"])
    originals = (np.allclose, np.testing.assert_allclose, checks.expect_close, checks.expect_close.__code__,
                 builtins.float, sys.modules["nablakit.checks"])
    yield guard, ns
    # never leave this test process patched, whatever the guard did
    np.allclose, np.testing.assert_allclose, checks.expect_close = originals[:3]
    checks.expect_close.__code__, builtins.float = originals[3:5]
    sys.modules["nablakit.checks"] = originals[5]


def _check(guard, phase="before", names=()):
    proof, findings = eval(guard.check("n0", phase, names))
    assert proof == __import__("hashlib").sha256(b"secret:n0").hexdigest()
    return findings


def test_guard_restores_and_reports_each_patch(guard_ns):
    guard, ns = guard_ns
    real = (np.allclose, np.testing.assert_allclose, checks.expect_close, checks.expect_close.__code__, float)
    np.allclose = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    checks.expect_close.__code__ = (lambda *a, **k: None).__code__
    builtins.float = lambda *a: 0.0
    sys.modules["nablakit.checks"] = object()
    ns["np"] = None
    ns["len"] = lambda x: 2  # a student name hiding a builtin the test reads
    findings = _check(guard, names=("len",))
    texts = [text for _, text in findings]
    for expected in ("numpy.allclose was replaced", "numpy.testing.assert_allclose was replaced",
                     "nablakit.checks.expect_close had its code or defaults changed", "builtins.float was replaced",
                     "sys.modules['nablakit.checks'] was replaced",
                     "notebook name 'np' (set by an instructor cell) was rebound",
                     "notebook name 'len' hides the builtin the test uses"):
        assert expected in texts, texts
    assert (np.allclose, np.testing.assert_allclose, checks.expect_close, checks.expect_close.__code__,
            builtins.float) == real
    assert sys.modules["nablakit.checks"] is checks and ns["np"] is np and "len" not in ns
    assert [k for k, _ in findings].count("tamper") == 5
    assert _check(guard, "after") == [] and ns["len"](None) == 2  # the student's name comes back afterwards


def test_guard_sees_patches_made_during_a_test_and_ignores_names_the_test_binds(guard_ns):
    guard, ns = guard_ns
    assert _check(guard) == []
    checks.expect_close = lambda *a, **k: None  # e.g. from inside the student's function
    ns["np"] = "rebound by the test itself"
    findings = _check(guard, "after", names=("np",))
    assert findings == [("tamper", "nablakit.checks.expect_close was replaced")]
    assert ns["np"] == "rebound by the test itself"  # the test's own binding stands


def test_guard_ignores_honest_changes(guard_ns):
    guard, ns = guard_ns
    ns["result"] = np.sum([1, 2])
    previous = np.seterr(all="warn")
    try:
        import numpy.polynomial  # noqa: F401 - a new submodule is an addition, not a patch

        assert _check(guard) == [] and _check(guard, "after") == []
    finally:
        np.seterr(**previous)  # the rest of the session keeps NumPy's defaults


def test_guard_source_runs_on_its_own():
    """The kernel receives the module's source text: it must not need the package."""
    namespace = {}
    exec(compile(Path(_kernel_guard.__file__).read_text(), "<guard>", "exec"), namespace)
    guard = namespace["make_guard"]("s", {}, prefixes=(), extra_modules=("math",))
    assert eval(guard.check("x", "before"))[1] == []


# -- tracebacks and outputs --------------------------------------------------------------
def _cell(source, execution_count, outputs=(), **meta):
    cell = new_code_cell(source, metadata={"nbgrader": meta} if meta else {})
    cell.execution_count = execution_count
    cell.outputs = list(outputs)
    return cell


def test_trim_tracebacks_keeps_student_frames_and_the_message():
    error = new_output("error", ename="AssertionError", evalue="g is wrong", traceback=[
        "\x1b[0;31m----\x1b[0m", "AssertionError  Traceback (most recent call last)",
        "Cell In[3], line 9\n----> 9 assert secret_hidden_line()",
        "\x1b[0;32mCell In[2], line 2\x1b[0m, in grad(x)\n----> 2 return x / 0",
        "File .../nablakit/checks.py:10, in expect(c)", "AssertionError: g is wrong"])
    nb = new_notebook(cells=[
        _cell("def grad(x): ...", 2, grade_id="a", solution=True),
        _cell("assert grad(1)", 3, [error], grade_id="t", grade=True, solution=False, locked=True),
        new_markdown_cell("text"),
    ])
    nb, _ = TrimTracebacks().preprocess(nb, {})
    kept = nb.cells[1].outputs[0].traceback
    assert len(kept) == 2 and "Cell In[2]" in kept[0] and kept[1] == "AssertionError: g is wrong"
    assert trim_traceback([], {1}) == []
    assert [role_of(c) for c in nb.cells] == ["answer", "test", "text"]


def test_failing_test_cells_lose_forged_partial_credit():
    executor = GuardedExecute()
    executor._guard_name = None
    forged = [new_output("execute_result", data={"text/plain": "1"}, execution_count=4),
              new_output("error", ename="AssertionError", evalue="wrong", traceback=["AssertionError: wrong"])]
    cell = _cell("check(f(1))", 4, forged, grade_id="t", grade=True, solution=False)
    executor._after_test(cell, "t")
    assert [o.output_type for o in cell.outputs] == ["error"]
    honest = _cell("0.5", 5, [new_output("execute_result", data={"text/plain": "0.5"}, execution_count=5)])
    executor._after_test(honest, "p")
    assert [o.output_type for o in honest.outputs] == ["execute_result"]  # nbgrader's partial credit stays


# -- course layout and pre-flight -------------------------------------------------------
@pytest.fixture()
def course(tmp_path):
    (tmp_path / "autograder").mkdir()
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", tmp_path / "autograder")
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / EX1, tmp_path / folder / EX1)
    return Course.load(tmp_path, db_url=f"sqlite:///{tmp_path / 'gb.db'}")


def _job(course, student, **limits):
    return make_job(course, EX1, student, Limits(**limits), course.root + "/autograder/logs")


def _submit(course, student, name=f"{EX1}.ipynb", text=None):
    folder = Path(course.path("submitted", student, EX1))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if text is None:
        nbformat.write(fill_answers(Path(course.path("release", ".", EX1)) / f"{EX1}.ipynb"), path)
    else:
        path.write_text(text)
    return path


def test_course_layout_follows_the_nbgrader_config(course):
    assert course.db_url.endswith("gb.db") and course.course_id == "gradients"
    assert course.path("submitted", "ann", EX1) == Path(course.root) / "autograder" / "submitted" / "ann" / EX1
    _submit(course, "ann")
    _submit(course, "bob")
    assert course.students(EX1) == ["ann", "bob"] and course.assignments_with_submissions() == [EX1]
    job = _job(course, "ann")
    assert json.loads(json.dumps(job)) == job and job["source_dir"].endswith(f"solutions/{EX1}")


def test_preflight_accepts_a_good_notebook_and_reports_integrity(course):
    release = Path(course.path("release", ".", EX1)) / f"{EX1}.ipynb"
    nb = fill_answers(release, delete=[_first_test_id(_release())])
    nb.cells.append(new_code_cell("import numpy as np\nnp.allclose = lambda *a, **k: True"))
    path = _submit(course, "ann")
    nbformat.write(nb, path)
    result, notebooks = preflight(_job(course, "ann"))
    assert result["status"] == "pending" and list(notebooks) == [f"{EX1}.ipynb"]
    assert any("test cell deleted" in f for f in result["integrity"])
    assert any("numpy.allclose" in f for f in result["lint"])


@pytest.mark.parametrize("case, reason", [
    ("corrupt", "not a valid notebook"),
    ("not-a-notebook", "not a valid notebook"),
    ("missing", "missing notebook"),
    ("two-others", "missing notebook"),
    ("too-big", "more than the"),
])
def test_preflight_refuses_what_cannot_be_graded(course, case, reason):
    if case == "corrupt":
        _submit(course, "x", text='{"cells": [')
    elif case == "not-a-notebook":
        _submit(course, "x", text='[1, 2, 3]')
    elif case == "missing":
        Path(course.path("submitted", "x", EX1)).mkdir(parents=True)
    elif case == "two-others":
        _submit(course, "x", name="a.ipynb")
        _submit(course, "x", name="b.ipynb")
    elif case == "too-big":
        _submit(course, "x")
    limits = {"max_notebook_bytes": 1000} if case == "too-big" else {}
    result, _ = preflight(_job(course, "x", **limits))
    assert result["status"] == "failed" and reason in result["reason"]


def test_preflight_grades_a_single_notebook_under_another_name(course):
    _submit(course, "x", name="Untitled.ipynb")
    result, notebooks = preflight(_job(course, "x"))
    assert result["status"] == "pending" and "Untitled.ipynb" in result["flags"][0]
    assert (Path(course.path("submitted", "x", EX1)) / f"{EX1}.ipynb").exists()
    assert (Path(course.path("submitted", "x", EX1)) / "Untitled.ipynb").exists()


# -- reports --------------------------------------------------------------------------------
def _results():
    def row(student, a, b, messages=None, status="graded", reason=None, **extra):
        parts = {"p-a": [a, 2.0, False, "code"], "p-b": [b, 1.0, False, "code"], "p-w": [None, 1.0, True, "markdown"]}
        return {"student": student, "assignment": "exA", "status": status, "reason": reason,
                "parts": parts if status == "graded" else {}, "messages": messages or {},
                "auto_score": a + b if status == "graded" else None, "auto_max": 3.0, "score": a + b,
                "needs_manual": True, "flags": [], "integrity": [], "lint": [], "events": [], **extra}

    mistake = "AssertionError: g(1.5) does not match the reference; received float 3. Recognised mistake: sign flipped."
    return [row("ann", 2.0, 1.0), row("bob", 0.0, 1.0, {"p-a": [mistake]}),
            row("cat", 0.0, 0.0, {"p-a": [mistake.replace("1.5", "2")], "p-b": ["NameError: name 'h' is not defined"]},
                lint=["p-b: imports builtins"]),
            row("dan", 0, 0, status="failed", reason="missing notebook 'exA.ipynb'")]


def test_report_tables():
    results = _results()
    assert part_pass_rates(results, ["p-a", "p-b"]) == {"p-a": (1, 3, 2.0), "p-b": (2, 3, 1.0)}
    assert misconception_counts(results)[("p-a", "sign flipped")] == 2
    assert failure_counts(results)[("p-a", "AssertionError: g(#) does not match the reference")] == 2


def test_report_files(tmp_path):
    results = _results()
    path = write_grades_csv(results, tmp_path / "exA-grades.csv", ["p-a", "p-b", "p-w"])
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert [r["student"] for r in rows] == ["ann", "bob", "cat", "dan"]
    assert rows[0]["p-a"] == "2" and rows[0]["auto_score"] == "3" and rows[0]["needs_manual_grade"] == "true"
    assert rows[3]["status"] == "failed" and rows[3]["p-a"] == "" and "missing" in rows[3]["reason"]
    assert "imports builtins" in rows[2]["flags"]
    page = write_html(results, "exA", tmp_path / "exA.html", ["p-a", "p-b"]).read_text()
    assert "data:image/png;base64," in page and "sign flipped" in page and "33%" in page
    assert "dan" in page and "missing notebook" in page and "<script" not in page
    write_class_csv(results + [{**results[0], "assignment": "exB", "auto_score": 5.0}], tmp_path / "class.csv")
    table = list(csv.reader(open(tmp_path / "class.csv", encoding="utf-8")))
    assert table[0] == ["student", "exA", "exB", "total"] and table[1] == ["ann", "3", "5", "8"]


def test_summary_names_failures_and_flags():
    batch = BatchResult(results=_results(), seconds=12.0, workers=2)
    text = batch.summary()
    assert "NOT GRADED" in text and "dan (exA): missing notebook" in text
    assert "cat (exA): lint p-b: imports builtins" in text
    assert "4 submissions in 12.0 s with 2 workers" in text
    assert flags_of(batch.result("exA", "ann")) == []


# -- command line ---------------------------------------------------------------------------
def test_cli_options_and_console_script():
    args = build_parser().parse_args(["ex01", "ex02", "--student", "a", "--student", "b", "--scheduler",
                                      "tcp://h:8786", "--cell-timeout", "5", "--memory", "1.5G"])
    assert args.exercises == ["ex01", "ex02"] and args.students == ["a", "b"]
    assert args.scheduler == "tcp://h:8786" and args.cell_timeout == 5 and parse_size(args.memory) > 10**9
    script = Path(sys.executable).parent / "nablakit-grade"
    assert script.exists(), "reinstall the project: the console script nablakit-grade is missing"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--notebook-timeout" in out.stdout
    bad = subprocess.run([str(script), "--course-root", "/nonexistent"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "nbgrader_config.py" in bad.stderr


def test_a_forked_worker_gets_fresh_event_loops():
    """A worker forked from a process that ran a kernel client (which leaves an asyncio
    loop behind) can still run coroutines after closing the inherited descriptors.
    Run in a fresh interpreter, so the test runner's own loops play no part."""
    script = textwrap.dedent('''
        import asyncio, os
        from jupyter_core.utils import ensure_event_loop, run_sync
        from nablakit.grading.executors import _close_inherited_event_loops

        ensure_event_loop()  # what nbclient/jupyter_client leave behind
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _close_inherited_event_loops()
                for name in os.listdir("/proc/self/fd"):
                    if int(name) > 2 and int(name) != write_fd:
                        try:
                            os.close(int(name))
                        except OSError:
                            pass
                os.open(os.devnull, os.O_RDONLY)  # reuses a closed number, as the worker's log file does

                async def answer():
                    await asyncio.sleep(0)
                    return b"ok"

                os.write(write_fd, run_sync(answer)())
                code = 0
            except BaseException as exc:
                os.write(write_fd, repr(exc).encode())
            finally:
                os._exit(code)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            print(pipe.read().decode())
        os.waitpid(pid, 0)
    ''')
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
