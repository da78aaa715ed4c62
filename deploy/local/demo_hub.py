"""Start a local JupyterHub for the course: ``make hub`` runs this file.

One instructor, one teaching assistant and two students log in with one
password printed at start; each has a home folder under a temporary state
folder (never in the project). Students get nbgrader's Assignments tab and
the shared exchange; the graders get the formgrader, the course (a copy of
``solutions/`` and ``exercises/`` with the gradebook) and ``nablakit-grade``.
Ctrl-C stops the hub, every user's server and kernel, and the proxy.

Usage::

    python deploy/local/demo_hub.py [--port 8000] [--state DIR] [--password TEXT]

``NBGRADER_DB_URL`` in the environment gives the graders a shared gradebook
(e.g. PostgreSQL) instead of the course copy's SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent
#: configurable-http-proxy from npm, installed into the virtual environment when not on PATH.
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
PROXY_PREFIX = ROOT / ".venv" / "hub-proxy"
COURSE_ID = "gradients"
GRADERS = ("instructor", "ta")
STUDENTS = ("alice", "bob")
GROUPS = {f"formgrade-{COURSE_ID}": list(GRADERS), f"nbgrader-{COURSE_ID}": list(STUDENTS)}


class HubUnavailable(RuntimeError):
    """The demo hub cannot start here (no node, no proxy, no jupyterhub); the message says why."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local_proxy():
    return PROXY_PREFIX / "node_modules" / ".bin" / "configurable-http-proxy"


def hub_missing():
    """Why the demo hub cannot start here (one line), or None if it can (the proxy may still need npm).

    Examples
    --------
    >>> hub_missing() is None or "install" in hub_missing() or "needed" in hub_missing()
    True
    """
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed (`pip install -c constraints.txt -e '.[hub]'`; `make hub` does it)"
    if shutil.which("configurable-http-proxy") or _local_proxy().exists():
        return None if shutil.which("node") else "node is not installed (configurable-http-proxy needs Node.js)"
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are needed for JupyterHub's proxy (`apt-get install -y nodejs npm`)"
    return None


def ensure_proxy():
    """Path of ``configurable-http-proxy``; installs it from npm into ``.venv/hub-proxy`` when missing."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    local = _local_proxy()
    if not local.exists():
        if not shutil.which("npm"):
            raise HubUnavailable("configurable-http-proxy is missing and npm is not installed to fetch it")
        print(f"installing {PROXY_PACKAGE} into {PROXY_PREFIX} (npm) ...", flush=True)
        PROXY_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(PROXY_PREFIX), "--no-audit", "--no-fund", "--silent",
                        PROXY_PACKAGE], check=True)
    return str(local)


def prepare_state(state):
    """Lay out the hub's state folder: homes, the course copy and the exchange.

    Each role's Jupyter configuration is ``deploy/jupyter-config/<role>/``, the same on a real hub.

    Parameters
    ----------
    state : path
        The folder (created if missing); an existing layout is kept (``--state`` to resume).

    Returns
    -------
    pathlib.Path
        ``state``.

    Examples
    --------
    >>> import tempfile
    >>> state = prepare_state(tempfile.mkdtemp())
    >>> sorted(p.name for p in (state / "home").iterdir())
    ['alice', 'bob', 'instructor', 'ta']
    >>> (state / "home" / "ta" / "gradients" / "solutions").is_dir()   # the TA shares the course
    True
    """
    state = Path(state)
    exchange = state / "exchange"
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o777)  # every user's server writes into it (nbgrader's shared exchange)
    # The course, as the graders' shared course volume: source, release and the nbgrader config.
    course = state / "home" / "instructor" / COURSE_ID
    if not course.exists():
        skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
        for folder in ("solutions", "exercises"):
            shutil.copytree(ROOT / folder, course / folder, ignore=skip)
        (course / "autograder").mkdir()
        shutil.copy2(ROOT / "autograder" / "nbgrader_config.py", course / "autograder")
    for grader in GRADERS:
        home = state / "home" / grader
        home.mkdir(parents=True, exist_ok=True)
        if grader != "instructor" and not (home / COURSE_ID).exists():
            (home / COURSE_ID).symlink_to(course)
    for student in STUDENTS:
        (state / "home" / student).mkdir(parents=True, exist_ok=True)
    return state


class DemoHub:
    """The demo hub as a child process; :meth:`stop` ends it and everything it started.

    Parameters
    ----------
    state : path or None
        Folder for homes, exchange, course copy and the hub's database
        (default: a new temporary folder, removed by :meth:`stop`).
    port : int or None
        Public port on 127.0.0.1 (default: a free one).
    password : str or None
        The users' shared password (default: a random one).
    expose_app : bool
        Expose ``window.jupyterapp`` in the users' pages (browser tests).
    """

    def __init__(self, state=None, port=None, password=None, expose_app=False):
        self.own_state = state is None
        self.state = Path(state or tempfile.mkdtemp(prefix="nablakit-hub-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = password or secrets.token_urlsafe(9)
        self.expose_app = expose_app
        self.proc = None
        self.log_path = self.state / "jupyterhub.log"

    def start(self, timeout=90):
        proxy = ensure_proxy()
        prepare_state(self.state)
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(VENV_BIN), str(Path(proxy).parent), env.get("PATH", "")])
        env.update({
            "NABLAKIT_HUB_STATE": str(self.state),
            "NABLAKIT_HUB_PORT": str(self.port),
            "NABLAKIT_HUB_API_PORT": str(free_port()),
            "NABLAKIT_HUB_PROXY_API_PORT": str(free_port()),
            "NABLAKIT_HUB_PROXY": proxy,
            "NABLAKIT_HUB_PASSWORD": self.password,
            "NABLAKIT_HUB_GROUPS": json.dumps(GROUPS),
        })
        if self.expose_app:
            env["NABLAKIT_HUB_EXPOSE_APP"] = "1"
        self._log = open(self.log_path, "a")
        # Its own session: Ctrl-C reaches only this launcher, which then stops the hub in order.
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
                                     cwd=self.state, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2).read()
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"JupyterHub did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars=4000):
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self, timeout=30):
        """Stop the hub (it stops the users' servers and the proxy), then anything it left running."""
        if self.proc is None:
            return
        import psutil

        try:
            started = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for proc in started:
            try:
                proc.terminate()
            except psutil.NoSuchProcess:
                pass
        gone, alive = psutil.wait_procs(started, timeout=5)
        for proc in alive:
            proc.kill()
        self._log.close()
        self.proc = None
        if self.own_state:
            shutil.rmtree(self.state, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="public port on 127.0.0.1 (default: a free port)")
    parser.add_argument("--state", help="state folder (default: a temporary folder, removed at the end)")
    parser.add_argument("--password", default=os.environ.get("NABLAKIT_HUB_PASSWORD"),
                        help="the users' password (default: a random one, printed)")
    args = parser.parse_args(argv)
    missing = hub_missing()
    if missing:
        print(f"make hub: {missing}", file=sys.stderr)
        return 2
    hub = DemoHub(args.state, args.port, args.password)
    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        hub.start()
    except Exception as err:
        print(f"make hub: {err}", file=sys.stderr)
        hub.stop()
        return 1
    print(f"""
The course's JupyterHub is running at {hub.url}
  instructor, ta : formgrader (Nbgrader menu), the course in ~/{COURSE_ID}, nablakit-grade in a terminal
  alice, bob     : students (Assignments tab)
  password       : {hub.password}
  state folder   : {hub.state}{' (removed at the end)' if hub.own_state else ''}
  grading        : in the instructor's terminal, cd {COURSE_ID} && nablakit-grade ex01-partial-derivatives --feedback
Press Ctrl-C to stop the hub and every server it started.""", flush=True)
    status = 0
    while not stopping:
        if hub.proc.poll() is not None:
            print(f"JupyterHub stopped by itself ({hub.proc.returncode}):\n{hub.log_tail()}", file=sys.stderr)
            status = 1
            break
        time.sleep(0.2)
    print("stopping the hub ...", flush=True)
    hub.stop()
    print("stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
