"""Fast kernel start for grading: fork kernels from a process that already imported them.

Starting a Python kernel costs about half a second of CPU, mostly imports
(IPython, ipykernel, zmq, NumPy), and a batch starts one kernel per
submission. A *kernel fork server* (``python -m nablakit.grading.kernels``)
imports all of that once and never runs any code of a submission; for each
kernel it forks a child that starts a new session, applies the memory
limit, moves to the notebook's folder, takes the environment the kernel
would have had and runs ``ipykernel``'s ``IPKernelApp`` exactly as
``python -m ipykernel_launcher`` does. Each kernel is therefore as fresh as
a newly launched one.

:class:`ForkingKernelManager` is the jupyter_client kernel manager that nbclient
(and so nbgrader) uses to start kernels through the server; without a server
it launches kernels the usual way. NumPy is imported with one BLAS thread in
the server (``OPENBLAS_NUM_THREADS=1``), as in every grading kernel, so
forking is safe.

With the sandbox on (the default of ``nablakit-grade``), the fork server
itself runs inside one bubblewrap sandbox per grading worker
(:mod:`nablakit.grading.isolation`), so every kernel forked from it is in
that sandbox too: kernels keep their 20 ms start instead of a fresh
interpreter's half second. The worker empties the sandbox's writable folders
and kills every process left in it (except the server) after each
submission; the server makes itself non-dumpable, so no kernel can ptrace or
read the memory of the server that forks the next student's kernel. Without
a server, each kernel is launched in a sandbox of its own. Either way the
kernel talks to the grader over IPC sockets in the shared ``run`` folder
(there is no network in the sandbox), its environment is
:func:`nablakit.grading.isolation.kernel_env`, and an audit hook installed
before any student code records attempts to reach outside (files outside the
sandbox's own folders, sockets, subprocesses, SQLite files) in an
append-only log the worker reads afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from .limits import is_alive, reap, wait_polled

__all__ = ["ForkServer", "ForkingKernelManager", "ForkProvisioner", "serve", "SERVER", "SCRATCH", "read_audit"]

#: The fork server this grading process uses (set by the worker before it forks a grading process).
SERVER = None
#: The worker's :class:`~nablakit.grading.isolation.Scratch` (sandbox folders, audit logs), or None.
SCRATCH = None
#: Whether kernels run sandboxed; the student whose kernel is started; folders a sandbox must hide.
SANDBOX = False
STUDENT = None
HIDDEN = ()
#: The audit logs of the kernels this grading process started (each must still be there afterwards).
AUDIT_LOGS = []
_AUDIT_HEADER = "nablakit-audit"

# What a kernel imports before it runs a cell (its debugger, psutil, sqlite3 for IPython's history, ...) and what
# the grader's guard imports: about half a second of CPU per kernel when not preloaded. None starts a thread.
_PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython", "numpy",
            "numpy.linalg", "numpy.testing", "numpy.random", "ipykernel.debugger", "IPython.core.debugger",
            "IPython.core.completerlib", "IPython.extensions.storemagic", "sqlite3", "psutil",
            "tornado.platform.asyncio", "tornado.queues", "pdb", "http.server", "xmlrpc.client", "nablakit.checks",
            # the font list (matplotlib runs fc-list to build it, about a second): once per server, not per kernel
            "matplotlib", "matplotlib.font_manager")


def _read_line(fd, limit=1 << 20):
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        chunks.append(chunk)
        if b"\n" in chunk or sum(map(len, chunks)) > limit:
            return b"".join(chunks).split(b"\n", 1)[0]


class ForkServer:
    """Start and talk to a kernel fork server (one per grading worker).

    Requests are JSON lines written on the server's stdin; answers carry the
    request's nonce, so an answer to a request whose grading process was
    killed is never taken for the next one.
    """

    def __init__(self, env=None, sandbox=None):
        self.sandboxed = bool(sandbox)
        self.proc = subprocess.Popen(
            [*(sandbox or ()), sys.executable, "-m", "nablakit.grading.kernels"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        line = _read_line(self.proc.stdout.fileno())
        if not line or json.loads(line).get("ready") is None:
            self.close()
            raise RuntimeError("the kernel fork server did not start")
        self._owner = os.getpid()
        from .limits import descendants

        # bwrap and its namespace's init: they and the server live as long as the worker
        self.core = (self.proc.pid, *descendants(self.proc.pid))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        if os.getpid() == self._owner:
            return self.proc.poll() is None
        # in a forked grading process the server is not our child: look it up instead of waiting for it
        return _ForkedProcess(self.pid).poll() is None

    def fork_kernel(self, argv, cwd, env, memory=None, timeout=30, audit=None, deny=()):
        """Ask for a kernel; return its pid. Raises OSError if the server is gone."""
        nonce = secrets.token_hex(8)
        request = {"nonce": nonce, "argv": list(argv), "cwd": str(cwd), "env": dict(env), "memory": memory,
                   "audit": audit, "deny": list(deny)}
        os.write(self.proc.stdin.fileno(), (json.dumps(request) + "\n").encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = _read_line(self.proc.stdout.fileno())
            if line is None:
                raise OSError("the kernel fork server closed its pipe")
            answer = json.loads(line)
            if answer.get("nonce") == nonce:
                if "pid" not in answer:
                    raise OSError(f"the kernel fork server failed: {answer.get('error')}")
                return self._host_pid(int(answer["pid"])) if self.sandboxed else int(answer["pid"])
        raise OSError("no answer from the kernel fork server")

    def _host_pid(self, inner):
        """The pid (in our PID namespace) of the sandbox's process ``inner``."""
        from .limits import descendants

        for _ in range(100):
            for pid in descendants(self.proc.pid):
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        ns = next(line for line in fh if line.startswith("NSpid:")).split()[1:]
                except (OSError, StopIteration):
                    continue
                if ns and int(ns[-1]) == inner:
                    return pid
            time.sleep(0.005)
        raise OSError(f"the sandboxed kernel {inner} was not found")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            pipe.close()


class _ForkedProcess:
    """A Popen look-alike for a kernel that is the fork server's child, not ours."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            if not is_alive(self.pid):  # gone or a zombie: the fork server reaps it, not us
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout=None):
        return wait_polled(self, timeout)

    def send_signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """Launch ``ipykernel_launcher`` kernels through the fork server, or each in a sandbox of its own."""

    memory = None

    async def launch_kernel(self, cmd, **kwargs):
        from . import isolation

        server = SERVER
        cwd = kwargs.get("cwd") or os.getcwd()
        kwargs["env"] = env = isolation.kernel_env(STUDENT)
        audit = None
        if SCRATCH is not None:
            audit = str(SCRATCH.run / f"audit-{secrets.token_hex(6)}.log")
            AUDIT_LOGS.append(audit)
        if SANDBOX:
            SCRATCH.fill_work(cwd)
            cwd = isolation.WORK_DIR
        if "ipykernel_launcher" not in cmd:
            raise OSError(f"grading kernels must be ipykernel kernels, not {cmd[:3]}")
        argv = cmd[cmd.index("ipykernel_launcher") + 1:]
        if server is not None and server.alive() and server.sandboxed == bool(SANDBOX):
            try:
                pid = server.fork_kernel(argv, cwd, env, memory=self.memory, audit=audit, deny=HIDDEN)
            except (OSError, ValueError):
                pid = None
            if pid is not None:
                self.process = _ForkedProcess(pid)
                self.pid = self.pgid = pid
                self.cwd = cwd
                return self.connection_info
        # No server: a fresh interpreter, in a sandbox of its own when sandboxing.
        launcher = [sys.executable, "-m", "nablakit.grading.kernels", "--kernel",
                    json.dumps({"audit": audit, "memory": self.memory, "deny": list(HIDDEN)}), *argv]
        if SANDBOX:
            launcher = isolation.bwrap_argv(SCRATCH, hidden=HIDDEN, env=env) + launcher
            kwargs["cwd"] = None
        else:
            kwargs["cwd"] = cwd
        return await super().launch_kernel(launcher, **kwargs)


class ForkingKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels come from the fork server when there is one.

    With a worker's scratch folders set, the kernel talks over IPC sockets in
    the ``run`` folder (a sandbox has no network to share with the grader),
    and a kernel in a sandbox of its own is interrupted by message (signals
    sent to ``bwrap`` do not reach it).
    """

    async def _async_pre_start_kernel(self, **kw):
        if SCRATCH is not None:
            name = f"k{secrets.token_hex(4)}"
            self.transport = "ipc"
            self.ip = str(SCRATCH.run / name)
            self.connection_file = str(SCRATCH.run / f"{name}.json")
            if SANDBOX and not (SERVER is not None and SERVER.sandboxed):
                self.kernel_spec.interrupt_mode = "message"
        if self.provisioner is None:
            import uuid

            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def read_audit(folder, expected=()):
    """Attempts to reach outside, from the audit logs of the kernels in ``folder``: a list of sentences.

    A log whose first line is not the one its kernel wrote, or one of
    ``expected`` that is gone (removed or rewritten by the submission), is
    itself reported.
    """
    found = []
    if any(not Path(p).exists() for p in expected):
        found.append("the kernel's audit log was removed")
    for path in sorted(Path(folder).glob("audit-*.log")):
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if not lines or lines[0] != f"{_AUDIT_HEADER} {path.stem}":
            found.append("the kernel's audit log was rewritten or truncated")
            continue
        for line in lines[1:]:
            if line and line not in found:
                found.append(line)
    return found


def _install_audit(path, deny=()):
    """Record, append-only, what a kernel does that reaches outside its sandbox (never raises, never blocks).

    Paths under ``deny`` (the course root: without a sandbox it is really there) always count as outside.
    """
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    os.write(fd, f"{_AUDIT_HEADER} {Path(path).stem}\n".encode())
    import nablakit

    allowed = [os.getcwd(), "/tmp", "/dev", "/proc", "/sys", "/usr", "/etc", "/bin", "/lib", "/lib64",
               os.path.dirname(path), sys.prefix, sys.base_prefix, sys.exec_prefix,
               os.path.dirname(os.path.dirname(nablakit.__file__))]
    allowed += [p for p in sys.path if p]
    allowed = tuple(sorted({os.path.realpath(p).rstrip("/") for p in allowed if p}, key=len))
    denied = tuple(os.path.realpath(p).rstrip("/") for p in deny if p)
    own = os.path.realpath(os.getcwd())
    seen = set()
    # armed by the first cell the kernel runs: the kernel's own start-up (platform probes, history database) is not
    # the submission's doing
    state = {"count": 0, "armed": False}
    join, abspath, normpath, fspath = os.path.join, os.path.abspath, os.path.normpath, os.fspath
    write = os.write

    def inside(target):
        try:
            target = fspath(target)
            if isinstance(target, bytes):
                target = target.decode(errors="replace")
            if not isinstance(target, str) or target in ("", ":memory:"):
                return True
            target = normpath(abspath(target))
        except Exception:  # noqa: BLE001
            return True
        if target != own and not target.startswith(own + "/") and any(
                target == d or target.startswith(d + "/") for d in denied):
            return False
        return any(target == a or target.startswith(a + "/") for a in allowed)

    def record(text):
        if text in seen or state["count"] > 100:
            return
        seen.add(text)
        state["count"] += 1
        try:
            write(fd, (text.replace("\n", " ")[:300] + "\n").encode(errors="replace"))
        except OSError:
            pass

    import sysconfig

    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    getframe = sys._getframe

    def called_from_a_cell():
        """Whether the first caller outside the standard library is the student's code (a cell), not a package."""
        frame = getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if not (name.startswith(stdlib) or name.startswith("<frozen")):
                return "/ipykernel_" in name or name.startswith("<")
            frame = frame.f_back
        return True

    def hook(event, args):
        if not state["armed"]:
            if event == "exec" and args:
                name = getattr(args[0], "co_filename", "")
                state["armed"] = isinstance(name, str) and ("/ipykernel_" in name or name.startswith("<"))
            return
        if event in ("open", "os.listdir", "os.scandir", "sqlite3.connect", "os.chdir"):
            if args and not isinstance(args[0], int) and args[0] is not None and not inside(args[0]):
                what = {"open": "opened", "os.listdir": "listed", "os.scandir": "listed",
                        "sqlite3.connect": "opened an SQLite database at", "os.chdir": "changed directory to"}[event]
                record(f"{what} {fspath(args[0])!s} (outside its sandbox)")
        elif event == "socket.connect":
            record(f"tried to connect to {args[1]!r}")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty"):
            if not called_from_a_cell():  # a library's own helper (matplotlib's fc-list, platform's uname)
                return
            detail = args[1] if event == "subprocess.Popen" and len(args) > 1 else (args[0] if args else "")
            record(f"started a process ({event} {str(detail)[:80]})")

    sys.addaudithook(hook)


def _launch(request):
    """In the forked child: become the kernel (never returns)."""
    os.setsid()
    _become_kernel(request)


def _become_kernel(request):
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    for name in os.listdir("/proc/self/fd"):  # nothing of the server's (its request pipe) stays open
        if int(name) > 2:
            try:
                os.close(int(name))
            except OSError:
                pass
    if request.get("memory"):
        from .limits import apply_memory_limit

        apply_memory_limit(int(request["memory"]))
    if request.get("cwd"):
        os.chdir(request["cwd"])
    if request.get("env") is not None:
        os.environ.clear()
        os.environ.update(request["env"])
    sys.path[0] = os.getcwd()  # as `python -m ipykernel_launcher` started in that folder would have it
    sys.argv = [sys.executable, *request["argv"]]
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    if "matplotlib" in sys.modules:  # preloaded: pick the backend now, as a fresh import would (ipykernel's default)
        sys.modules["matplotlib"].rcParams["backend"] = (os.environ.get("MPLBACKEND")
                                                         or "module://matplotlib_inline.backend_inline")
    from ipykernel import kernelapp

    _install_audit(request.get("audit"), request.get("deny") or ())
    try:
        kernelapp.launch_new_instance(argv=request["argv"])
    finally:
        os._exit(0)


def serve():
    """The fork server's loop: one JSON request per line on stdin, one answer per line on stdout."""
    import importlib

    import select

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _not_dumpable()
    for name in _PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    out = os.dup(1)
    os.write(out, (json.dumps({"ready": os.getpid()}) + "\n").encode())
    while True:
        reap()  # finished kernels: their CPU time then counts as this server's children's
        ready, _, _ = select.select([0], [], [], 1.0)
        if not ready:
            continue
        line = _read_line(0)
        if line is None:
            return 0
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001 - answer, never die
            os.write(out, (json.dumps({"nonce": None, "error": str(exc)}) + "\n").encode())
            continue
        if pid == 0:  # pragma: no cover - becomes the kernel
            try:
                _launch(request)
            finally:
                os._exit(1)
        os.write(out, (json.dumps({"nonce": request.get("nonce"), "pid": pid}) + "\n").encode())


def _not_dumpable():
    """No other process of the same user may ptrace this one or read its memory (prctl PR_SET_DUMPABLE 0)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _launch_alone(argv):
    """``python -m nablakit.grading.kernels --kernel '{"audit": ...}' <ipykernel args>``: one kernel, no server."""
    options = json.loads(argv[0])
    request = {"argv": argv[1:], "cwd": None, "env": None, "memory": options.get("memory"),
               "audit": options.get("audit"), "deny": options.get("deny")}
    try:
        _become_kernel(request)
    finally:
        os._exit(1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--kernel":
        _launch_alone(sys.argv[2:])
    sys.exit(serve())
