"""Autograde every submission of one or more exercises in parallel, with real nbgrader.

nbgrader grades one submission at a time. This runner hands disjoint
students to N worker processes (or a Dask cluster), each running nbgrader's
own autograde for one student against the one gradebook, under per-cell and
per-notebook time limits, a memory limit and an output cap
(:mod:`nablakit.grading.limits`, :mod:`nablakit.grading.sandbox`).

Typical use (the ``nablakit-grade`` command wraps it)::

    from nablakit.grading.batch import Course, grade_batch
    course = Course.load("/path/to/course")
    batch = grade_batch(course, ["ex01-partial-derivatives"], workers=4)
    print(batch.summary())

A submission that cannot be graded (missing or corrupt notebook, notebook
time limit, output cap) is recorded as failed with its reason; the batch
goes on and the other students' grades are untouched.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .limits import Limits

__all__ = ["Course", "BatchResult", "GradingSetupError", "make_job", "ensure_students", "grade_batch", "flags_of",
           "breaches_of", "NO_SANDBOX_WARNING"]


class GradingSetupError(RuntimeError):
    """The course is not ready to grade (no config, assignment not released, ...)."""


@dataclass(frozen=True)
class Course:
    """Where an nbgrader course keeps its files and grades.

    Use :meth:`load`, which reads ``autograder/nbgrader_config.py`` with
    nbgrader's own ``CourseDirectory``.
    """

    root: str
    config_dir: str
    db_url: str
    course_id: str
    directories: dict = field(default_factory=dict)

    @classmethod
    def load(cls, root=None, db_url=None):
        """Read the course configuration.

        Parameters
        ----------
        root : path-like, optional
            The course root, containing ``autograder/nbgrader_config.py``
            (default: the current directory if it has one, else its parent's
            ``autograder/``, else this project).
        db_url : str, optional
            Gradebook URL (default: ``NBGRADER_DB_URL`` or the config's).

        Raises
        ------
        GradingSetupError
            If no ``nbgrader_config.py`` is found.
        """
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        config_dir = _find_config_dir(root)
        saved = os.environ.get("NBGRADER_DB_URL")
        if db_url:
            os.environ["NBGRADER_DB_URL"] = db_url
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
        finally:
            if db_url:
                if saved is None:
                    os.environ.pop("NBGRADER_DB_URL", None)
                else:
                    os.environ["NBGRADER_DB_URL"] = saved
        coursedir = CourseDirectory(config=config)
        if db_url:
            coursedir.db_url = db_url
        names = ("source_directory", "release_directory", "submitted_directory", "autograded_directory",
                 "feedback_directory")
        return cls(
            root=str(Path(coursedir.root).resolve()),
            config_dir=str(config_dir),
            db_url=coursedir.db_url,
            course_id=coursedir.course_id,
            directories={n: getattr(coursedir, n) for n in names} | {"structure": coursedir.directory_structure},
        )

    def path(self, step, student, assignment):
        """``<root>/<step directory>/<student>/<assignment>`` as nbgrader lays it out."""
        structure = self.directories["structure"].format(
            nbgrader_step=self.directories[f"{step}_directory"], student_id=student, assignment_id=assignment)
        return Path(self.root) / structure

    def students(self, assignment):
        """Students with a submission folder for ``assignment``, sorted."""
        marker = "\x00"  # cannot occur in a path: everything before it is the folder of all students
        parent = Path(str(self.path("submitted", marker, assignment)).split(marker)[0])
        if not parent.is_dir():
            return []
        return sorted(p.name for p in parent.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and self.path("submitted", p.name, assignment).is_dir())

    def assignments_with_submissions(self):
        """Assignment ids that have at least one submission, sorted."""
        source = Path(self.path("source", ".", ".")).resolve()
        names = sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
        return [n for n in names if self.students(n)]


def _find_config_dir(root):
    candidates = []
    if root is not None:
        root = Path(root)
        candidates += [root / "autograder", root]
    else:
        cwd = Path.cwd()
        candidates += [cwd, cwd / "autograder"]
        candidates.append(Path(__file__).resolve().parents[3] / "autograder")
    for folder in candidates:
        if (folder / "nbgrader_config.py").is_file():
            return folder.resolve()
    raise GradingSetupError(f"no nbgrader_config.py found in {', '.join(map(str, candidates))}")


def make_job(course, assignment, student, limits, log_dir, rename=True, sandbox=True, split_checks=True):
    """Everything a worker needs to grade one submission, as a JSON-friendly dict."""
    return {
        "sandbox": bool(sandbox),
        "split_checks": bool(split_checks),
        "assignment": assignment,
        "student": student,
        "course_root": course.root,
        "config_dir": course.config_dir,
        "db_url": course.db_url,
        "course_id": course.course_id,
        "source_dir": str(course.path("source", ".", assignment).resolve()),
        "release_dir": str(course.path("release", ".", assignment).resolve()),
        "submitted_dir": str(course.path("submitted", student, assignment)),
        "autograded_dir": str(course.path("autograded", student, assignment)),
        "limits": limits.to_dict(),
        "log_dir": str(log_dir),
        "rename": bool(rename),
    }


def ensure_students(course, assignments, students):
    """Check the assignments are in the gradebook and add any missing students.

    Raises
    ------
    GradingSetupError
        If an assignment was never released into this gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        for assignment in assignments:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise GradingSetupError(
                    f"assignment {assignment!r} is not in the gradebook {course.db_url}; release it first "
                    f"(make exercises, or nbgrader generate_assignment {assignment})") from None
        known = {s.id for s in gb.students}
        for student in sorted(set(students) - known):
            gb.add_student(student)


@dataclass
class BatchResult:
    """Results of one batch: one dict per submission, and the wall time."""

    results: list
    seconds: float
    workers: int = 1
    sandbox: bool = True
    split_checks: bool = True
    #: Which bubblewrap ran the kernels (:func:`nablakit.grading.isolation.describe`), when sandboxed.
    sandbox_info: str = ""

    @property
    def failed(self):
        return [r for r in self.results if r["status"] != "graded"]

    @property
    def breached(self):
        """Results with a sign of reaching outside the sandbox or tampering with grading (see :func:`breaches_of`)."""
        return [r for r in self.results if breaches_of(r)]

    @property
    def graded(self):
        return [r for r in self.results if r["status"] == "graded"]

    def by_assignment(self):
        out = {}
        for r in sorted(self.results, key=lambda r: (r["assignment"], r["student"])):
            out.setdefault(r["assignment"], []).append(r)
        return out

    def result(self, assignment, student):
        """The result dict of one submission."""
        for r in self.results:
            if r["assignment"] == assignment and r["student"] == student:
                return r
        raise KeyError((assignment, student))

    def summary(self):
        """A plain-text table per exercise, then failures and flags by student."""
        lines = [] if self.sandbox else [NO_SANDBOX_WARNING, ""]
        lines += [f"{'exercise':<30} {'n':>4} {'graded':>6} {'failed':>6} {'mean':>6} {'median':>6} {'max':>5}"]
        for assignment, rows in self.by_assignment().items():
            scores = [r["auto_score"] for r in rows if r["status"] == "graded"]
            top = max((r.get("auto_max") or 0 for r in rows if r["status"] == "graded"), default=0)
            mean = f"{statistics.fmean(scores):6.2f}" if scores else "     -"
            median = f"{statistics.median(scores):6.2f}" if scores else "     -"
            lines.append(f"{assignment:<30} {len(rows):>4} {len(scores):>6} {len(rows) - len(scores):>6} "
                         f"{mean} {median} {top:>5g}")
        n = len(self.results)
        per = self.seconds / n if n else 0
        lines.append(f"{n} submissions in {self.seconds:.1f} s with {self.workers} workers ({per:.2f} s each)")
        if self.sandbox and self.sandbox_info:
            lines.append(self.sandbox_info)
        lines.append(CHECKS_LINE[self.split_checks])
        if self.failed:
            lines.append("")
            lines.append("NOT GRADED:")
            for r in sorted(self.failed, key=lambda r: (r["assignment"], r["student"])):
                lines.append(f"  {r['student']} ({r['assignment']}): {r['reason']}")
        breached = self.breached
        if breached:
            lines.append("")
            lines.append(f"INTEGRITY: {len(breached)} submission(s) reached outside the sandbox or tampered with "
                         "grading (exit status 1): " + ", ".join(f"{r['student']} ({r['assignment']})"
                                                                 for r in sorted(breached, key=_key)))
        flagged = [r for r in self.results if flags_of(r)]
        if flagged:
            lines.append("")
            lines.append("FLAGGED (graded or not; look at these):")
            for r in sorted(flagged, key=lambda r: (r["assignment"], r["student"])):
                items = flags_of(r)
                lines.append(f"  {r['student']} ({r['assignment']}): " + "; ".join(items[:4])
                             + (f"; +{len(items) - 4} more" if len(items) > 4 else ""))
        return "\n".join(lines)


CHECKS_LINE = {
    True: "checks: outside the students' kernels (only data crossed; test code never ran in a student's process)",
    False: "checks: IN the students' kernels (--in-kernel-checks): a submission's own code could bend them",
}
NO_SANDBOX_WARNING = ("WARNING: graded with --no-sandbox: student code ran with the grader's rights and could "
                      "read the answer key and change the gradebook; these grades are not protected.")
# Tamper-lint findings that are not a sign of tampering on their own (a student may stop a cell this way).
_HARMLESS_LINT = ("calls sys.exit", "calls exit()", "calls quit()")
_BREACH_FINDINGS = (": test cell edited", ": locked cell edited", "metadata changed", "re-created without")


def _key(r):
    return r["assignment"], r["student"]


def breaches_of(result):
    """Signs that a submission reached outside its sandbox or tampered with grading, as sentences.

    Attempts the kernel's audit hook logged, processes left running, patches
    the guard undid or tests it voided, edited test cells and tamper-lint
    findings (other than ``sys.exit``/``exit()``) all count. Deleted test
    cells do not: a student may delete one by accident; they are restored.

    Examples
    --------
    >>> breaches_of({"breach": ["opened /course/solutions/ex01.ipynb (outside its sandbox)"],
    ...              "lint": ["a1: imports sqlite3", "a2: calls sys.exit"],
    ...              "integrity": ["t1: test cell deleted; restored from the source"]})
    ['outside: opened /course/solutions/ex01.ipynb (outside its sandbox)', 'lint a1: imports sqlite3']
    """
    items = [f"outside: {b}" for b in result.get("breach", [])]
    items += [f"lint {f}" for f in result.get("lint", []) if not f.endswith(_HARMLESS_LINT)]
    items += [f"test cell {f}" for f in result.get("integrity", []) if any(b in f for b in _BREACH_FINDINGS)]
    items += [f"{e['kind']} in {e['cell']}: {e['detail']}" for e in result.get("events", [])
              if e.get("kind") in ("tamper", "void")]
    return items


def flags_of(result):
    """Every flag of one result, as short sentences (integrity, tamper lint, runtime events).

    Examples
    --------
    >>> flags_of({"flags": [], "integrity": ["t1: test cell deleted; restored from the source"],
    ...           "lint": ["a1: calls os._exit (kills the kernel)"],
    ...           "events": [{"kind": "timeout", "cell": "a1", "detail": "cell interrupted after 5 s"}]})
    ['test cell t1: test cell deleted; restored from the source', 'lint a1: calls os._exit (kills the kernel)', 'timeout in a1: cell interrupted after 5 s']
    """
    items = [f"outside: {b}" for b in result.get("breach", [])]
    items += list(result.get("flags", []))
    items += [f"test cell {f}" for f in result.get("integrity", [])]
    items += [f"lint {f}" for f in result.get("lint", [])]
    for event in result.get("events", []):
        when = f" {event['when']}" if event.get("when") else ""
        items.append(f"{event['kind']}{when} in {event['cell']}: {event['detail']}")
    return items


def grade_batch(course, assignments=None, students=None, *, executor=None, workers=None, limits=None,
                log_dir=None, progress=True, rename=True, stream=None, sandbox=True, split_checks=True):
    """Autograde all submissions of ``assignments`` in parallel.

    Parameters
    ----------
    course : Course
        From :meth:`Course.load`.
    assignments : list of str, optional
        Exercise ids (default: every exercise with submissions).
    students : list of str, optional
        Only these students (default: all with a submission).
    executor : LocalExecutor or DaskExecutor, optional
        Default: a :class:`~nablakit.grading.executors.LocalExecutor` with
        ``workers`` processes, closed at the end.
    workers : int, optional
        Local worker processes (default: the number of CPUs plus one).
    limits : Limits, optional
        Per-submission limits (default: :class:`Limits()`).
    log_dir : path-like, optional
        Per-submission grading logs (default: ``autograder/logs``).
    progress : bool
        Show a tqdm progress bar (done, failed, ETA).
    rename : bool
        Grade a single notebook submitted under another file name (flagged).
    stream : file, optional
        Where the progress bar goes (default: stderr).
    sandbox : bool
        Run every kernel in a bubblewrap sandbox (:mod:`nablakit.grading.isolation`).
        When it cannot start, :class:`~nablakit.grading.isolation.SandboxUnavailable`
        is raised before anything is graded.
    split_checks : bool
        Run the test cells outside the students' kernels (:mod:`nablakit.grading.checker`);
        False runs them in the kernels, as plain ``nbgrader autograde`` does.

    Returns
    -------
    BatchResult
    """
    from .executors import LocalExecutor

    limits = limits or Limits()
    info = ""
    if sandbox:
        from .isolation import check_available, describe

        info = describe(check_available())
    assignments = list(assignments or course.assignments_with_submissions())
    if not assignments:
        raise GradingSetupError(f"no submissions found under {course.path('submitted', '*', '*')}")
    log_dir = Path(log_dir or Path(course.config_dir) / "logs")
    # One exercise after the other: workers running at the same time then grade different students.
    wanted = set(students or ())
    jobs = [make_job(course, assignment, s, limits, log_dir, rename, sandbox, split_checks)
            for assignment in assignments for s in course.students(assignment) if not wanted or s in wanted]
    ensure_students(course, assignments, {j["student"] for j in jobs})
    if not jobs:
        return BatchResult(results=[], seconds=0.0, workers=0, sandbox=bool(sandbox), split_checks=bool(split_checks),
                       sandbox_info=info)
    own = executor is None
    os.environ["NABLAKIT_GRADE_SANDBOX"] = "1" if sandbox else "0"  # workers start their kernel server so
    executor = executor or LocalExecutor(workers, log_dir=log_dir)
    n_workers = getattr(executor, "workers", None) or _dask_size(executor)
    results = []
    start = time.perf_counter()
    bar = None
    try:
        if hasattr(executor, "start"):
            executor.start(len(jobs))  # local workers are forked before the progress bar starts a thread
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), unit="nb", desc="grading", file=stream or sys.stderr, dynamic_ncols=True)
        failed = 0
        for result in executor.map_unordered(jobs):
            results.append(result)
            failed += result["status"] != "graded"
            if bar is not None:
                bar.set_postfix(done=len(results) - failed, failed=failed, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own:
            executor.close()
    return BatchResult(results=results, seconds=time.perf_counter() - start, workers=n_workers or 1,
                       sandbox=bool(sandbox), split_checks=bool(split_checks),
                       sandbox_info=info)


def _dask_size(executor):
    client = getattr(executor, "client", None)
    try:
        return len(client.scheduler_info()["workers"]) if client else None
    except Exception:  # noqa: BLE001
        return None
