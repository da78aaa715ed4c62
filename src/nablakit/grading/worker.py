"""Grade one submission with real nbgrader, inside limits; and the long-lived worker process.

A *worker* (``python -m nablakit.grading.worker``) imports nbgrader once, then
reads jobs (one JSON object per line) on stdin and answers each with one JSON
line on stdout. For every job it

1. checks the submission cheaply (:func:`preflight`): notebook present (one
   submitted under another file name is graded under the right name and
   flagged), not too large, valid JSON; test cells deleted, edited or
   re-typed (:func:`nablakit.grading.integrity.compare_to_release`); tamper
   lint of the student's code;
2. forks a grading process that starts a session of its own, sets the
   memory limit (its kernel gets the same one), sends its output to a log
   file and runs nbgrader's ``AutogradeApp`` for that one student, exactly
   like ``nbgrader autograde <assignment> --student <id> --force`` but with
   :class:`~nablakit.grading.sandbox.GuardedExecute` and
   :class:`~nablakit.grading.sandbox.TrimTracebacks` in the autograde chain;
3. waits at most ``notebook_timeout`` seconds, then kills every process the
   job left behind (the worker is a child subreaper, so nothing escapes);
   a process still running after the notebook ended (a double fork), and
   every attempt to reach outside the sandbox that the kernel's audit hook
   logged, are reported in the result's ``breach`` list.

With ``job["sandbox"]`` (the default) every kernel runs in a bubblewrap
sandbox (:mod:`nablakit.grading.isolation`): the worker's kernel fork server
runs inside one, and the sandbox's writable folders are emptied before each
submission. If the sandbox cannot start, the submission is not graded
(fail closed).

Long on purpose: the steps above are one submission's life, in the order
they happen (preflight, sandbox, fork, wait, reap, report), and reading them
in one place is how an instructor checks what grading does to a submission.

Forking from a process that already imported nbgrader avoids paying
nbgrader's import time (about two seconds of CPU) for every submission; the
worker's kernel fork server (:mod:`nablakit.grading.kernels`) does the same
for kernels, and :mod:`nablakit.grading.speedups` for nbgrader's per-process
set-up work.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from .integrity import compare_to_release, lint_notebook
from .limits import Limits, apply_memory_limit, become_subreaper, format_size, kill_descendants

__all__ = ["preflight", "run_job", "grade_in_this_process", "serve"]

_RESULT_CAP = 16 * 1024**2
_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def _result(job, status, reason=None, **extra):
    out = {
        "student": job["student"],
        "assignment": job["assignment"],
        "status": status,
        "reason": reason,
        "flags": [],
        "integrity": [],
        "lint": [],
        "events": [],
        "parts": {},
        "messages": {},
        "breach": [],
    }
    out["checks"] = "split" if job.get("split_checks", True) else "in-kernel"
    out.update(extra)
    return out


def _expected_notebooks(job):
    source = Path(job["source_dir"])
    return sorted(p.name for p in source.glob("*.ipynb"))


def preflight(job):
    """Cheap checks before grading: files, size, JSON, test-cell integrity, tamper lint.

    Parameters
    ----------
    job : dict
        From :func:`nablakit.grading.batch.make_job`.

    Returns
    -------
    result : dict
        The result so far; ``result["status"]`` is ``"failed"`` (with a
        ``reason``) when the submission cannot be graded at all (missing,
        corrupt or oversized notebook), else ``"pending"``, with its
        ``flags``, ``integrity`` and ``lint`` findings.
    notebooks : dict
        File name -> parsed notebook (plain dicts).
    """
    limits = Limits.from_dict(job["limits"])
    result = _result(job, "pending")
    folder = Path(job["submitted_dir"])
    expected = _expected_notebooks(job)
    if not expected:
        result.update(status="failed", reason=f"the assignment has no notebook in {job['source_dir']}")
        return result, {}
    if not folder.is_dir():
        result.update(status="failed", reason="no submission folder")
        return result, {}
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    notebooks = {}
    for name in expected:
        path = folder / name
        if not path.exists():
            others = [p for p in present if p not in expected]
            if len(others) == 1 and len(expected) == 1 and job.get("rename", True):
                shutil.copyfile(folder / others[0], path)
                result["flags"].append(f"notebook submitted as {others[0]!r}; graded as {name!r}")
            else:
                found = ", ".join(repr(p) for p in present) or "no notebook at all"
                result.update(status="failed", reason=f"missing notebook {name!r} (found {found})")
                return result, {}
        size = path.stat().st_size
        if size > limits.max_notebook_bytes:
            result.update(status="failed", reason=f"notebook {name!r} is {format_size(size)}, "
                                                  f"more than the {format_size(limits.max_notebook_bytes)} allowed")
            return result, {}
        try:
            nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
                raise ValueError("it has no list of cells")
        except (ValueError, RecursionError) as exc:
            result.update(status="failed", reason=f"notebook {name!r} is not a valid notebook: {str(exc)[:200]}")
            return result, {}
        notebooks[name] = nb
        release = Path(job["release_dir"]) / name
        if release.exists():
            try:
                released = json.loads(release.read_text(encoding="utf-8"))
                result["integrity"] += [str(f) for f in compare_to_release(nb, released)]
            except ValueError:
                pass
        result["lint"] += [str(f) for f in lint_notebook(nb)]
    return result, notebooks


def _grade_summary(job):
    """Per-part scores from the gradebook and failure messages from the autograded notebook."""
    from nbgrader.api import Gradebook

    parts = {}
    with Gradebook(job["db_url"], job["course_id"]) as gb:
        sub = gb.find_submission(job["assignment"], job["student"])
        for nb in sub.notebooks:
            for grade in nb.grades:
                parts[grade.name] = [grade.score, grade.max_score, bool(grade.needs_manual_grade), grade.cell_type]
        totals = {"score": sub.score, "max_score": sub.max_score, "needs_manual": bool(sub.needs_manual_grade)}
    auto = [v for v in parts.values() if v[3] == "code"]
    totals["auto_score"] = float(sum(v[0] or 0 for v in auto))
    totals["auto_max"] = float(sum(v[1] for v in auto))
    messages, events = {}, []
    folder = Path(job["autograded_dir"])
    for path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb.get("cells", [])):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            label = meta.get("grade_id") or f"cell {index}"
            if any(o.get("ename") == "MemoryError" for o in errors):
                events.append({"kind": "memory", "cell": label, "detail": "MemoryError: the cell hit the memory limit"})
            if errors and meta.get("grade") and not meta.get("solution"):
                messages[label] = [f"{o.get('ename')}: {o.get('evalue')}"[:500] for o in errors]
    return parts, totals, messages, events


def grade_in_this_process(job):
    """Run nbgrader's autograde app for one student here; return the result dict.

    Called in the forked grading process (after limits are set), or directly
    for debugging.
    """
    import logging

    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.apps.autogradeapp import AutogradeApp
    from nbgrader.preprocessors import (
        AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades,
    )
    from traitlets.config import Config

    from . import kernels, sandbox

    limits = Limits.from_dict(job["limits"])
    sandbox.EVENTS.clear()
    for key in sandbox.STATS:
        sandbox.STATS[key] = type(sandbox.STATS[key])()
    split = bool(job.get("split_checks", True))
    kernels.ForkProvisioner.memory = limits.memory
    if job.get("db_url"):
        os.environ["NBGRADER_DB_URL"] = job["db_url"]
    os.chdir(job["config_dir"])
    # Each student's kernel draws that student's variant of the exercise (nablakit.variants);
    # kernels inherit this process's environment. NABLAKIT_VARIANTS / NABLAKIT_COURSE_SALT pass through.
    os.environ["NABLAKIT_STUDENT"] = job["student"]

    errors = []

    class Collect(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    app = AutogradeApp()
    app.initialize([job["assignment"], "--student", job["student"], "--force"])
    app.log.addHandler(Collect())
    if job.get("db_url"):
        app.coursedir.db_url = job["db_url"]
    overrides = Config()
    overrides.Execute.timeout = limits.cell_timeout_seconds
    overrides.GuardedExecute.max_output = int(limits.max_output)
    overrides.GuardedExecute.shutdown_kernel = "immediate"
    overrides.GuardedExecute.split_checks = split
    overrides.Autograde.create_student = True
    from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    overrides.RestoreTestCells.release_dir = job["release_dir"]
    overrides.Autograde.sanitize_preprocessors = [
        ClearOutput, DeduplicateIds, OverwriteKernelspec, sandbox.RestoreTestCells, OverwriteCells, CheckCellMetadata,
    ]
    overrides.Autograde.autograde_preprocessors = [
        sandbox.GuardedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        sandbox.TrimTracebacks, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
    ]
    app.update_config(overrides)
    try:
        app.start()
        failed = False
    except SystemExit as exc:
        failed = exc.code not in (0, None)
    result = _result(job, "pending", events=list(sandbox.EVENTS), checks="split" if split else "in-kernel")
    if split:
        result["split_stats"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in sandbox.STATS.items()}
    if failed:
        reason = next((e["detail"] for e in sandbox.EVENTS if e["kind"] == "output"), None)
        if reason:
            reason = f"output limit exceeded: {reason}"
        else:
            detail = [e for e in errors if "Traceback" not in e and "error processing" not in e.lower()]
            trace = [e for e in errors if "Traceback" in e]
            reason = "nbgrader could not grade it: " + (
                (trace[0].strip().splitlines()[-1] if trace else "") or (detail[0] if detail else "unknown error"))
        result.update(status="failed", reason=reason[:1000])
        return result
    result["audit_logs"] = list(kernels.AUDIT_LOGS)
    parts, totals, messages, events = _grade_summary(job)
    result["events"] += events
    result.update(status="graded", parts=parts, messages=messages, **totals)
    return result


def _child(job, write_fd, log_path):
    os.setsid()
    limits = Limits.from_dict(job["limits"])
    os.environ.update(_THREAD_ENV)
    try:
        apply_memory_limit(limits.memory)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        result = grade_in_this_process(job)
    except BaseException as exc:  # noqa: BLE001 - everything is reported, nothing escapes the child
        result = _result(job, "failed", reason=f"grading process error: {type(exc).__name__}: {exc}"[:1000])
        traceback.print_exc()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = round(usage.ru_utime + usage.ru_stime, 3)
    data = json.dumps(result).encode()
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view[:65536])
        view = view[written:]
    os.close(write_fd)
    os._exit(0)


def _read_until(fd, deadline):
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size <= _RESULT_CAP:
            chunks.append(chunk)


def run_job(job):
    """Grade one submission inside its limits; never raises. Returns the result dict.

    Parameters
    ----------
    job : dict
        Built by :func:`nablakit.grading.batch.make_job`.
    """
    start = time.monotonic()
    limits = Limits.from_dict(job["limits"])
    try:
        result, _ = preflight(job)
    except Exception as exc:  # noqa: BLE001
        result = _result(job, "failed", reason=f"could not read the submission: {type(exc).__name__}: {exc}")
    if result["status"] == "failed":
        result["seconds"] = time.monotonic() - start
        return result
    log_dir = Path(job["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{job['assignment']}--{job['student']}.log"
    if job.get("sandbox", True):
        from .isolation import SandboxUnavailable, check_available

        try:
            check_available()
        except SandboxUnavailable as exc:
            result.update(status="failed", reason=f"not graded: the sandbox could not start. {exc}"[:1000])
            result["seconds"] = time.monotonic() - start
            return result
    from . import kernels

    _ensure_fork_server(job)
    _prepare_fork(job)
    scratch = kernels.SCRATCH
    scratch.clear()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked grading process
        os.close(read_fd)
        try:
            _child(job, write_fd, str(log_path))
        finally:
            os._exit(1)
    os.close(write_fd)
    deadline = start + limits.notebook_timeout
    data, timed_out = _read_until(read_fd, deadline)
    os.close(read_fd)
    status = None
    if not timed_out:
        while time.monotonic() < deadline + 5:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            status = None
            time.sleep(0.01)
    server = kernels.SERVER
    spare = server.core if server else ()
    breach = []
    if not timed_out and status is not None:
        stray = _stray_processes(spare)
        if stray:
            breach.append(f"{len(stray)} process(es) of the submission still ran after its notebook ended "
                          "(a background or double-forked process); killed")
    # Kill the grading process if still there, the kernel and anything the submission started.
    kill_descendants(os.getpid(), spare=spare, reap_all=True)
    if timed_out:
        child = _result(job, "failed", reason=f"grading took longer than the {limits.notebook_timeout:g} s limit "
                                              "for one notebook; every process of the submission was killed")
    else:
        try:
            child = json.loads(data.decode())
        except ValueError:
            how = f"signal {os.WTERMSIG(status)}" if status is not None and os.WIFSIGNALED(status) else "no result"
            child = _result(job, "failed", reason=f"the grading process died ({how}); see {log_path}")
    breach += kernels.read_audit(scratch.run, expected=child.pop("audit_logs", ()))
    scratch.clear()
    if child["status"] == "failed":
        _remove_partial(job)
    for key in ("flags", "integrity", "lint"):
        child[key] = result[key] + child.get(key, [])
    child["breach"] = breach + child.get("breach", [])
    child["sandbox"] = bool(job.get("sandbox", True))
    child["log"] = str(log_path)
    child["seconds"] = time.monotonic() - start
    _trim_log(log_path)
    return child


def _stray_processes(spare, grace=0.5):
    """Live processes below this worker, other than the fork server's, once the kernel had time to die."""
    from .limits import descendants

    deadline = time.monotonic() + grace
    while True:
        found = descendants(os.getpid(), spare)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _remove_partial(job):
    """A failed submission keeps no half-written autograded notebook (feedback would show it)."""
    folder = Path(job["autograded_dir"])
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def _trim_log(path, keep=1024**2):
    try:
        if path.stat().st_size > keep:
            with open(path, "r+b") as fh:
                fh.truncate(keep)
                fh.seek(0, os.SEEK_END)
                fh.write(b"\n[log truncated by the grader]\n")
    except OSError:
        pass


_WARMED = set()


def _prepare_fork(job):
    """Compile the assignment's gradebook queries once per worker; no DB connection crosses the fork."""
    from . import speedups

    from . import kernels

    kernels.SANDBOX = bool(job.get("sandbox", True))
    kernels.STUDENT = job["student"]
    kernels.HIDDEN = tuple(h for h in (job.get("course_root"), job.get("config_dir"), *job.get("hidden", [])) if h)
    key = (job["db_url"], job["course_id"], job["assignment"])
    if key not in _WARMED:
        _WARMED.add(key)
        speedups.warm_gradebook(*key)
        if job.get("split_checks", True):
            _import_for_checker(job)
    speedups.before_fork()


def _import_for_checker(job):
    """Import what the assignment's locked and test cells import and parse them, once per worker (for the checker)."""
    import importlib

    from .integrity import imported_modules
    from .sandbox import role_of

    from .checker import cell_names

    modules = set()
    for path in [*Path(job["source_dir"]).glob("*.ipynb"), *Path(job["release_dir"]).glob("*.ipynb")]:
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if isinstance(cell, dict) and role_of(cell) in ("instructor", "test"):
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else str(source)
                modules |= imported_modules(source)
                cell_names(source)  # parsed once here, not in every grading process
    for name in sorted(modules):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - only a speed-up; the checker reports a failing import itself
            pass


def _sandbox_argv(job):
    """The bwrap command line of this worker's sandbox for ``job`` (None when grading unsandboxed)."""
    from . import kernels
    from .isolation import bwrap_argv

    if not job.get("sandbox", True):
        return None
    hidden = [job.get("course_root"), job.get("config_dir"), *job.get("hidden", [])]
    return bwrap_argv(kernels.SCRATCH, hidden=[h for h in hidden if h])


def _ensure_fork_server(job=None):
    """(Re)start this worker's kernel fork server (in the sandbox ``job`` asks for) if it is not running."""
    from . import kernels
    from .isolation import Scratch

    if kernels.SCRATCH is None:
        kernels.SCRATCH = Scratch()
        atexit.register(kernels.SCRATCH.remove)
    job = job or {"sandbox": os.environ.get("NABLAKIT_GRADE_SANDBOX", "1") != "0"}
    if job.get("sandbox", True):
        from .isolation import SandboxUnavailable, check_available

        try:
            check_available()
        except SandboxUnavailable:
            return
    if os.environ.get("NABLAKIT_GRADE_FORK_KERNELS", "1") == "0":
        return
    argv = _sandbox_argv(job)
    server = kernels.SERVER
    if server is not None and server.alive() and getattr(server, "argv", None) == argv:
        return
    if server is not None:
        server.close()
        kernels.SERVER = None
    if argv is not None:
        _share_font_cache(kernels.SCRATCH.tmp / "matplotlib")
    try:
        kernels.SERVER = kernels.ForkServer(env={**os.environ, **_THREAD_ENV}, sandbox=argv)
        kernels.SERVER.argv = argv
    except (OSError, RuntimeError, ValueError):
        kernels.SERVER = None  # kernels are then launched the usual way (each in a sandbox of its own)


def _share_font_cache(folder):
    """Give the sandboxed server matplotlib's font list from the grader's cache (else it runs fc-list again)."""
    try:
        import matplotlib

        cached = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
        if cached:
            folder.mkdir(parents=True, exist_ok=True)
            for path in cached:
                shutil.copyfile(path, folder / path.name)
    except Exception:  # noqa: BLE001 - only a speed-up
        pass


def warm_up():
    """Import what grading needs, before any fork (import time is paid once per worker)."""
    import nbclient  # noqa: F401
    import nbconvert.preprocessors  # noqa: F401
    import nbgrader.api  # noqa: F401
    import nbgrader.apps.autogradeapp  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    os.environ.update(_THREAD_ENV)  # NumPy (imported next, for the checker) then has one BLAS thread: safe to fork
    import IPython.lib.pretty  # noqa: F401
    import jupyter_client.blocking  # noqa: F401

    import nablakit.checks  # noqa: F401
    import nablakit.variants  # noqa: F401

    from . import checker, sandbox, speedups  # noqa: F401

    speedups.install()


def serve(stdin=None, stdout=None):
    """The worker's main loop: one JSON job per input line, one JSON result per output line."""
    become_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops workers by closing stdin
    protocol = os.fdopen(os.dup(1), "w", buffering=1) if stdout is None else stdout
    os.dup2(2, 1)  # stray prints go to stderr, never into the protocol
    sys.stdout = sys.stderr
    warm_up()
    _ensure_fork_server()
    protocol.write(json.dumps({"ready": os.getpid()}) + "\n")
    protocol.flush()
    for line in stdin or sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            job = json.loads(line)
            result = run_job(job)
        except Exception as exc:  # noqa: BLE001 - a worker never dies on one bad job
            result = {"status": "failed", "reason": f"worker error: {type(exc).__name__}: {exc}",
                      "student": "?", "assignment": "?"}
        protocol.write(json.dumps(result) + "\n")
        protocol.flush()
    from . import kernels

    if kernels.SERVER is not None:
        kernels.SERVER.close()
    if kernels.SCRATCH is not None:
        kernels.SCRATCH.remove()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
