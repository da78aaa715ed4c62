"""Resource limits for grading one submission, and clean-up of its processes.

A grading process gets an address-space limit (``RLIMIT_AS``) that the
kernel it starts inherits, a wall-clock deadline enforced from outside, and
a cap on the output it may produce. When the deadline passes, every process
descended from the grading worker is killed, including the kernel (which
jupyter_client starts in a session of its own) and anything the student's
code spawned: the worker is a *child subreaper*, so orphans are re-parented
to it instead of escaping to init.

Linux only (``/proc`` and ``prctl``); the course's graders run on Linux.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields

__all__ = ["Limits", "add_limit_options", "limits_from_args", "limits_table", "format_default",
           "parse_size", "format_size", "apply_memory_limit", "become_subreaper",
           "descendants", "kill_descendants", "is_alive", "reap", "wait_polled"]

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2, "G": 1024**3, "GB": 1024**3}
_PR_SET_CHILD_SUBREAPER = 36


def _limit(default, *, option, unit, help, when_exceeded, none_allowed=False):
    """Declare one grading limit: its default and everything the CLI and the README table say about it."""
    return field(default=default, metadata={"option": option, "unit": unit, "help": help,
                                            "when_exceeded": when_exceeded, "none_allowed": none_allowed})


@dataclass(frozen=True)
class Limits:
    """Per-submission limits.

    Each field is declared once, with its ``--option``, unit, help and what
    happens when it is exceeded; ``nablakit-grade``'s options
    (:func:`add_limit_options`, :func:`limits_from_args`) and the README's
    limits table (:func:`limits_table`) are generated from these declarations.

    Parameters
    ----------
    cell_timeout : float
        Seconds one cell may run before it is interrupted (nbgrader's
        ``Execute.timeout``); the cell then fails, the notebook goes on.
    notebook_timeout : float
        Seconds the whole grading of one submission may take; beyond it
        every process of that submission is killed and it is recorded as
        failed.
    memory : int or None
        Address-space limit in bytes for the grading process and its kernel
        (``None``: no limit).
    max_output : int
        Bytes of output a notebook may produce; beyond it execution stops and
        the submission is recorded as failed.
    max_notebook_bytes : int
        Largest submitted notebook file that is read at all.

    Examples
    --------
    >>> Limits(cell_timeout=5).cell_timeout
    5
    >>> Limits.from_dict(Limits(memory=2**30).to_dict()).memory
    1073741824
    """

    cell_timeout: float = _limit(
        30, option="--cell-timeout", unit="seconds", help="seconds per cell",
        when_exceeded="that cell is interrupted and fails (zero for a test cell); the rest of the notebook runs")
    notebook_timeout: float = _limit(
        300, option="--notebook-timeout", unit="seconds",
        help="seconds per submission (everything is killed beyond)",
        when_exceeded="every process of the submission is killed (kernel, anything it started); **not graded**")
    memory: int | None = _limit(
        2 * 1024**3, option="--memory", unit="bytes", none_allowed=True,
        help="address-space limit of a grading process and its kernel (none: no limit)",
        when_exceeded="the address space of the grading process and its kernel; the allocation fails with "
                      "`MemoryError` in that cell; flagged")
    max_output: int = _limit(
        10 * 1024**2, option="--max-output", unit="bytes", help="output a notebook may produce",
        when_exceeded="output beyond it is dropped as it arrives and execution stops; **not graded**")
    max_notebook_bytes: int = _limit(
        64 * 1024**2, option="--max-notebook-size", unit="bytes", help="largest submitted notebook file that is read",
        when_exceeded="the notebook is not read; **not graded**")

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata["none_allowed"]:
                continue
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")
        if self.memory is not None and (not isinstance(self.memory, int) or self.memory < 64 * 1024**2):
            raise ValueError(f"Limits.memory must be None or at least 64 MB in bytes, got {self.memory!r}")

    @property
    def cell_timeout_seconds(self):
        """The cell timeout as the whole seconds nbgrader's ``Execute.timeout`` takes (at least 1).

        Examples
        --------
        >>> Limits(cell_timeout=0.2).cell_timeout_seconds
        1
        """
        return int(max(1, round(self.cell_timeout)))

    def to_dict(self):
        """The limits as a plain dict (for sending to a worker)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Rebuild limits from :meth:`to_dict` output."""
        return cls(**data)


def _dest(f):
    return f.metadata["option"].lstrip("-").replace("-", "_")


def format_default(f):
    """A limit's default as the CLI and the README show it: ``30 s``, ``2 GB``.

    Examples
    --------
    >>> format_default(fields(Limits)[0])
    '30 s'
    """
    if f.default is None:
        return "none"
    return f"{f.default:g} s" if f.metadata["unit"] == "seconds" else format_size(f.default)


def add_limit_options(parser):
    """Add one ``--option`` per field of :class:`Limits` to an ``argparse`` parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_limit_options(parser)
    >>> limits_from_args(parser.parse_args(["--memory", "1.5GB", "--cell-timeout", "5"]))
    Limits(cell_timeout=5.0, notebook_timeout=300, memory=1610612736, max_output=10485760, max_notebook_bytes=67108864)
    """
    for f in fields(Limits):
        if f.metadata["unit"] == "seconds":
            parser.add_argument(f.metadata["option"], dest=_dest(f), type=float, default=f.default,
                                help=f.metadata["help"])
        else:
            parser.add_argument(f.metadata["option"], dest=_dest(f), default=format_size(f.default).replace(" ", ""),
                                help=f.metadata["help"])


def limits_from_args(args):
    """Build :class:`Limits` from arguments parsed with :func:`add_limit_options`.

    Sizes are read with :func:`parse_size`; ``none`` lifts a limit that may be
    lifted and gives the default for one that may not.

    Raises
    ------
    ValueError
        If a value is not a size or not allowed for its limit.
    """
    values = {}
    for f in fields(Limits):
        value = getattr(args, _dest(f))
        if f.metadata["unit"] == "bytes":
            value = parse_size(value)
            if value is None and not f.metadata["none_allowed"]:
                value = f.default
        values[f.name] = value
    return Limits(**values)


def limits_table():
    """The README's limits table (Markdown), generated from the field declarations.

    Examples
    --------
    >>> print(limits_table().splitlines()[2])
    | `--cell-timeout` | 30 s | that cell is interrupted and fails (zero for a test cell); the rest of the notebook runs |
    """
    rows = ["| option | default | when exceeded |", "|---|---|---|"]
    rows += [f"| `{f.metadata['option']}` | {format_default(f)} | {f.metadata['when_exceeded']} |"
             for f in fields(Limits)]
    return "\n".join(rows)


def parse_size(text):
    """Read a size such as ``"1.5G"``, ``"512M"``, ``"10MB"`` or ``"4096"`` as bytes.

    Parameters
    ----------
    text : str or int
        The size; a bare number is bytes. ``"none"`` or ``"0"`` mean no limit.

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        If the text is not a size.

    Examples
    --------
    >>> parse_size("1.5G")
    1610612736
    >>> parse_size("10MB")
    10485760
    >>> parse_size("none") is None
    True
    """
    if isinstance(text, int):
        return text if text > 0 else None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    if str(text).strip().lower() in {"none", "unlimited", "0"}:
        return None
    if not match or match.group(2).upper() not in _UNITS:
        raise ValueError(f"size must look like 512M, 1.5G or a number of bytes, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_size(nbytes):
    """Format bytes for people: ``format_size(1610612736) == '1.5 GB'``.

    Examples
    --------
    >>> format_size(1610612736)
    '1.5 GB'
    >>> format_size(2048)
    '2 kB'
    """
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if nbytes >= factor:
            return f"{nbytes / factor:.3g} {unit}"
    return f"{nbytes} B"


def apply_memory_limit(nbytes):
    """Limit this process's address space (inherited by every child it starts).

    Parameters
    ----------
    nbytes : int or None
        The limit in bytes; ``None`` leaves the limit unchanged.

    Examples
    --------
    >>> apply_memory_limit(None)
    """
    if nbytes is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        nbytes = min(nbytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (nbytes, hard))


def become_subreaper():
    """Make orphaned descendants of this process re-parent to it (Linux ``prctl``).

    Returns
    -------
    bool
        Whether the call succeeded.

    Examples
    --------
    >>> isinstance(become_subreaper(), bool)
    True
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields[0] != b"Z":  # zombies are dead already; only their parent can reap them
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid, spare=()):
    """All live descendants of process ``pid``, found through ``/proc``.

    Processes in ``spare`` are left out (their own descendants are not).

    Examples
    --------
    >>> import os, subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    >>> child.pid in descendants(os.getpid())
    True
    >>> child.kill(); _ = child.wait()
    """
    children = _children_map()
    found, stack = [], list(children.get(pid, []))
    while stack:
        p = stack.pop()
        if p not in spare:
            found.append(p)
        stack.extend(children.get(p, []))
    return found


def kill_descendants(pid, *, spare=(), reap_all=False, rounds=20):
    """SIGKILL every descendant of process ``pid`` except those in ``spare``.

    Processes are stopped first so none can fork a replacement while the tree
    is being killed; the search repeats until no descendant is left. Dead
    children of this process among them are reaped; with ``reap_all`` every
    dead child is (for a subreaper that inherits unknown orphans).

    Returns
    -------
    int
        How many processes were signalled.

    Examples
    --------
    >>> import subprocess, sys, time
    >>> code = "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"
    >>> parent = subprocess.Popen([sys.executable, "-c", code])
    >>> while not descendants(parent.pid): time.sleep(0.02)
    >>> kill_descendants(parent.pid)
    1
    >>> parent.kill(); _ = parent.wait()
    """
    me = os.getpid()
    killed = 0
    for _ in range(rounds):
        found = descendants(pid, spare)
        if not found:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in found:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
        killed += len(found)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and any(is_alive(p) for p in found):
            reap(found if not reap_all else None)
            time.sleep(0.005)
    reap(None if reap_all else [])
    return killed


def is_alive(pid):
    """Whether process ``pid`` exists and is not a zombie (read from ``/proc``).

    Examples
    --------
    >>> import os
    >>> is_alive(os.getpid())
    True
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] != b"Z"


def reap(pids=None):
    """Collect exit statuses of dead children: those in ``pids``, or any when ``pids`` is None.

    Never blocks; children still running are left alone.

    Examples
    --------
    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "pass"])
    >>> while is_alive(child.pid): pass
    >>> reap([child.pid])
    >>> is_alive(child.pid)
    False
    """
    if pids is None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
    for p in pids:
        try:
            os.waitpid(p, os.WNOHANG)
        except ChildProcessError:
            pass


def wait_polled(process, timeout=None, interval=0.02):
    """``Popen.wait`` for a Popen look-alike that only knows ``poll()``: poll until it has a return code.

    Parameters
    ----------
    process
        Has ``poll()`` (the return code or None), ``pid`` and ``returncode``.
    timeout : float or None
        Seconds to wait at most; ``None`` waits for ever.

    Raises
    ------
    subprocess.TimeoutExpired
        If it is still running after ``timeout`` seconds.

    Examples
    --------
    >>> import subprocess, sys
    >>> wait_polled(subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]), timeout=30)
    3
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while process.poll() is None:
        if deadline is not None and time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(str(process.pid), timeout)
        time.sleep(interval)
    return process.returncode
