"""Where grading jobs run: local worker processes, or a Dask distributed cluster.

An executor takes job dicts (see :func:`nablakit.grading.batch.make_job`) and
yields result dicts as they complete, in any order. Both executors run every
job in a long-lived worker process (:mod:`nablakit.grading.worker`) that
forks one limited grading process per submission.

- :class:`LocalExecutor` starts N workers on this machine.
- :class:`DaskExecutor` sends jobs to a Dask cluster (``tcp://host:8786`` or
  a :class:`distributed.LocalCluster`); each Dask worker thread keeps its own
  grading worker. The course folder must be at the same path on every Dask
  host (a shared file system), and the gradebook reachable from them
  (PostgreSQL via ``--db-url``).
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from .limits import wait_polled

__all__ = ["default_workers", "WorkerProcess", "LocalExecutor", "DaskExecutor", "grade_on_dask_worker", "worker_env"]


def worker_env(base=None):
    """Environment for worker processes: this interpreter's ``bin/`` first on PATH (nbgrader runs ``alembic``).

    Examples
    --------
    >>> worker_env({"PATH": "/usr/bin"})["PATH"].endswith("/usr/bin")
    True
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def default_workers():
    """One grading worker per CPU, plus one.

    A grading process spends part of each submission waiting (kernel start,
    messages to and from the kernel, gradebook writes), so with exactly one
    worker per core the cores sit idle about a third of the time; on two
    cores a third worker grades a class about 20 % faster (see
    ``benchmarks/bench_grading.py``).

    Examples
    --------
    >>> import os
    >>> default_workers() == (os.cpu_count() or 1) + 1
    True
    """
    return (os.cpu_count() or 1) + 1


def _failed(job, reason):
    return {"student": job.get("student", "?"), "assignment": job.get("assignment", "?"), "status": "failed",
            "reason": reason, "flags": [], "integrity": [], "lint": [], "events": [], "parts": {}, "messages": {}}


def _close_inherited_event_loops():
    # A forked worker inherits the parent's asyncio loops (jupyter_core keeps one
    # per thread once anything ran a kernel client in this process). Their
    # selectors use descriptors the worker is about to close, and a closed number
    # may be reused by the worker's own files: close the loops first, while their
    # descriptors are still theirs, so that asyncio and jupyter_core make new ones.
    import asyncio
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_closed():
            try:
                obj.close()
            except Exception:  # a running loop cannot be closed; it is abandoned with the fork
                pass
    asyncio.set_event_loop(None)


class _ForkedWorker:
    """A worker forked from this process (which has imported nbgrader already): a Popen look-alike."""

    def __init__(self, stderr_path):
        from . import speedups, worker

        worker.warm_up()
        speedups.before_fork()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker
            code = 1
            try:
                os.setsid()
                _close_inherited_event_loops()
                keep = {to_child_r, from_child_w}
                for name in os.listdir("/proc/self/fd"):
                    fd = int(name)
                    if fd > 2 and fd not in keep:
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                target = str(stderr_path) if stderr_path else os.devnull
                if stderr_path:
                    Path(stderr_path).parent.mkdir(parents=True, exist_ok=True)
                err = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(err, 1)
                os.dup2(err, 2)
                sys.stdout = sys.stderr = open(2, "w", buffering=1, closefd=False)
                os.environ.update(worker_env())
                code = worker.serve(stdin=os.fdopen(to_child_r, "r"), stdout=os.fdopen(from_child_w, "w", buffering=1))
            finally:
                os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        self.pid = pid
        self.stdin = os.fdopen(to_child_w, "w", buffering=1)
        self.stdout = os.fdopen(from_child_r, "r")
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        return wait_polled(self, timeout)

    def kill(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass


class WorkerProcess:
    """One grading worker (:mod:`nablakit.grading.worker`), talking JSON lines.

    Parameters
    ----------
    stderr_path : path-like, optional
        File for the worker's own diagnostics (default: discarded).
    fork : bool, default False
        Fork the worker from this process instead of starting ``python -m
        nablakit.grading.worker``: it then inherits nbgrader already imported
        (about 2 s of CPU saved per worker). Only safe from a process without
        other threads, so the executor forks all workers before it starts any.
    wait : bool, default True
        Wait until the worker is ready (else call :meth:`wait_ready`).
    """

    def __init__(self, stderr_path=None, fork=False, wait=True):
        self._stderr_path = stderr_path
        self._fork = fork
        self._proc = None
        self._start(wait)

    def _start(self, wait=True):
        if self._fork:
            self._proc = _ForkedWorker(self._stderr_path)
        else:
            if self._stderr_path:
                Path(self._stderr_path).parent.mkdir(parents=True, exist_ok=True)
                err = open(self._stderr_path, "ab")
            else:
                err = subprocess.DEVNULL
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "nablakit.grading.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=worker_env(),
                text=True, bufsize=1, start_new_session=True,
            )
            if err is not subprocess.DEVNULL:
                err.close()
        if wait:
            self.wait_ready()

    def wait_ready(self):
        ready = self._proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"grading worker failed to start (see {self._stderr_path or 'its stderr'})")

    @property
    def pid(self):
        return self._proc.pid

    def run(self, job):
        """Grade one job; a worker that died is restarted and the job reported as failed."""
        try:
            self._proc.stdin.write(json.dumps(job) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if line:
            return json.loads(line)
        code = self._proc.poll()
        self.close()
        self._fork = False  # never fork from a process that now runs threads
        self._start()
        return _failed(job, f"the grading worker died (exit status {code}); the submission was not graded")

    def close(self, timeout=10):
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            from .limits import kill_descendants

            kill_descendants(proc.pid)  # its grading process and kernel first, then the worker
            proc.kill()
            proc.wait()
        proc.stdout.close()


class LocalExecutor:
    """Run jobs on ``workers`` local worker processes.

    Parameters
    ----------
    workers : int, optional
        Number of workers (default: :func:`default_workers`, one more than
        the number of CPUs).
    log_dir : path-like, optional
        Where each worker writes its diagnostics (``worker-N.log``).
    fork : bool, default True
        Fork the workers from this process (see :class:`WorkerProcess`);
        they are forked by :meth:`start`, before any thread is started.
    """

    def __init__(self, workers=None, log_dir=None, fork=True):
        self.workers = int(workers or default_workers())
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.log_dir = log_dir
        self.fork = fork and threading.active_count() == 1
        self._procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, count=None):
        """Start the workers now (forked from the main thread); idempotent."""
        count = min(self.workers, count or self.workers)
        fork = self.fork and threading.active_count() == 1
        new = []
        for index in range(len(self._procs), count):
            path = Path(self.log_dir) / f"worker-{index}.log" if self.log_dir else None
            new.append(WorkerProcess(path, fork=fork, wait=False))
        for proc in new:
            proc.wait_ready()
        self._procs += new

    def map_unordered(self, jobs):
        """Yield one result per job, as soon as each is done."""
        jobs = list(jobs)
        if not jobs:
            return
        self.start(len(jobs))
        todo, done = queue.Queue(), queue.Queue()
        for job in jobs:
            todo.put(job)

        def loop(proc):
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put(proc.run(job))
                except Exception as exc:  # noqa: BLE001 - one job, never the batch
                    done.put(_failed(job, f"grading worker error: {type(exc).__name__}: {exc}"))

        threads = [threading.Thread(target=loop, args=(proc,), daemon=True) for proc in self._procs[: len(jobs)]]
        for thread in threads:
            thread.start()
        for _ in jobs:
            yield done.get()
        for thread in threads:
            thread.join()

    def close(self):
        for proc in self._procs:
            proc.close()
        self._procs = []


# -- Dask -------------------------------------------------------------------------------
_DASK_WORKERS = {}
_DASK_LOCK = threading.Lock()


def _close_dask_workers():
    for proc in list(_DASK_WORKERS.values()):
        proc.close(timeout=5)
    _DASK_WORKERS.clear()


def grade_on_dask_worker(job):
    """Task run by a Dask worker: grade ``job`` in this thread's own grading worker."""
    key = (os.getpid(), threading.get_ident())
    with _DASK_LOCK:
        proc = _DASK_WORKERS.get(key)
        if proc is None:
            if not _DASK_WORKERS:
                atexit.register(_close_dask_workers)
            log_dir = job.get("log_dir")
            path = Path(log_dir) / f"dask-worker-{os.getpid()}-{threading.get_ident()}.log" if log_dir else None
            proc = _DASK_WORKERS[key] = WorkerProcess(path)
    return proc.run(job)


class DaskExecutor:
    """Run jobs on a Dask distributed cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address, e.g. ``"tcp://grader:8786"``.
    client : distributed.Client, optional
        An existing client (wins over ``address``).
    workers : int, optional
        Without ``address`` or ``client``: size of a new local cluster
        (one single-threaded worker process per CPU by default).
    """

    def __init__(self, address=None, client=None, workers=None):
        from distributed import Client, LocalCluster

        self._own = []
        if client is not None:
            self.client = client
        elif address:
            self.client = Client(address)
            self._own.append(self.client)
        else:
            cluster = LocalCluster(n_workers=int(workers or os.cpu_count() or 1), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            self.client = Client(cluster)
            self._own += [self.client, cluster]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def map_unordered(self, jobs):
        """Yield one result per job as the cluster completes them."""
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        batch = uuid.uuid4().hex[:8]
        keys = [f"grade-{job['assignment']}-{job['student']}-{batch}" for job in jobs]
        futures = self.client.map(grade_on_dask_worker, jobs, key=keys, pure=False, retries=0)
        by_key = dict(zip(keys, jobs))
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - a lost Dask worker fails its job, not the batch
                yield _failed(by_key[future.key], f"the Dask task failed: {type(exc).__name__}: {exc}")

    def close(self):
        for thing in self._own:
            thing.close()
        self._own = []
