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
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

__all__ = ["ForkServer", "ForkingKernelManager", "ForkProvisioner", "serve", "SERVER"]

#: The fork server this grading process uses (set by the worker before it forks a grading process).
SERVER = None

_PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython", "numpy",
            "numpy.linalg", "numpy.testing", "numpy.random")


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

    def __init__(self, env=None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nablakit.grading.kernels"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        line = _read_line(self.proc.stdout.fileno())
        if not line or json.loads(line).get("ready") is None:
            raise RuntimeError("the kernel fork server did not start")
        self._owner = os.getpid()

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        if os.getpid() == self._owner:
            return self.proc.poll() is None
        # in a forked grading process the server is not our child: look it up instead of waiting for it
        return _ForkedProcess(self.pid).poll() is None

    def fork_kernel(self, argv, cwd, env, memory=None, timeout=30):
        """Ask for a kernel; return its pid. Raises OSError if the server is gone."""
        nonce = secrets.token_hex(8)
        request = {"nonce": nonce, "argv": list(argv), "cwd": str(cwd), "env": dict(env), "memory": memory}
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
                return int(answer["pid"])
        raise OSError("no answer from the kernel fork server")

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
            try:
                with open(f"/proc/{self.pid}/stat", "rb") as fh:
                    stat = fh.read()
                if stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] == b"Z":
                    self.returncode = -signal.SIGKILL
            except OSError:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

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
    """Launch ``ipykernel_launcher`` kernels through the fork server; anything else as usual."""

    memory = None

    async def launch_kernel(self, cmd, **kwargs):
        server = SERVER
        if server is None or "ipykernel_launcher" not in cmd or not server.alive():
            return await super().launch_kernel(cmd, **kwargs)
        argv = cmd[cmd.index("ipykernel_launcher") + 1:]
        env = kwargs.get("env") or os.environ
        cwd = kwargs.get("cwd") or os.getcwd()
        try:
            pid = server.fork_kernel(argv, cwd, env, memory=self.memory)
        except (OSError, ValueError):
            return await super().launch_kernel(cmd, **kwargs)
        self.process = _ForkedProcess(pid)
        self.pid = self.pgid = pid
        self.cwd = cwd
        return self.connection_info


class ForkingKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels come from the fork server when there is one."""

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            import uuid

            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def _launch(request):
    """In the forked child: become the kernel (never returns)."""
    os.setsid()
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
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = os.getcwd()  # as `python -m ipykernel_launcher` started in that folder would have it
    sys.argv = [sys.executable, *request["argv"]]
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    from ipykernel import kernelapp

    try:
        kernelapp.launch_new_instance(argv=request["argv"])
    finally:
        os._exit(0)


def _reap():
    """Collect finished kernels (their CPU time then counts as this server's children's)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve():
    """The fork server's loop: one JSON request per line on stdin, one answer per line on stdout."""
    import importlib

    import select

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _PRELOAD:
        importlib.import_module(name)
    out = os.dup(1)
    os.write(out, (json.dumps({"ready": os.getpid()}) + "\n").encode())
    while True:
        _reap()
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


if __name__ == "__main__":
    sys.exit(serve())
