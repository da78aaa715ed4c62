"""``nablakit-grade``: autograde a whole class with real nbgrader, in parallel and safely.

Examples (from the project root, or anywhere with ``--course-root``)::

    nablakit-grade ex01-partial-derivatives              # all students, cores + 1 workers
    nablakit-grade ex01-partial-derivatives ex02-gradient-geometry --workers 8
    nablakit-grade                                       # every exercise with submissions
    nablakit-grade ex05-linear-regression --student alice --student bob
    nablakit-grade ex03-directional-derivatives --scheduler tcp://grader:8786 \\
        --db-url postgresql+psycopg://grader@db/gradebook
    nablakit-grade ex01-partial-derivatives --feedback   # then nbgrader generate_feedback

Every kernel runs in a bubblewrap sandbox (:mod:`nablakit.grading.isolation`);
if it cannot start the command refuses to grade and says how to fix it.
``--no-sandbox`` grades without isolation, with a warning in the summary and
the reports.

Exit status: 0 when every submission got a grade and none reached outside its
sandbox or tampered with grading; 1 when some could not be graded or did
(they are named on stderr and in the summary's FLAGGED list); 2 when the
course is not ready to grade or the sandbox cannot start.
Reports go to ``autograder/reports/`` (CSV and HTML), one grading log per
submission to ``autograder/logs/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import require_grading_packages
from .batch import NO_SANDBOX_WARNING, Course, GradingSetupError, grade_batch
from .isolation import SandboxUnavailable
from .limits import add_limit_options, limits_from_args

__all__ = ["build_parser", "main"]


def build_parser():
    """The argument parser of ``nablakit-grade``.

    Examples
    --------
    >>> args = build_parser().parse_args(["ex01-partial-derivatives", "--workers", "3", "--memory", "1G"])
    >>> args.exercises, args.workers, args.memory
    (['ex01-partial-derivatives'], 3, '1G')
    """
    p = argparse.ArgumentParser(
        prog="nablakit-grade",
        description="Autograde every submission of the given exercises with nbgrader, in parallel, "
                    "with time, memory and output limits and tamper checks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("exercises", nargs="*", help="exercise (assignment) ids; default: all with submissions")
    p.add_argument("--student", action="append", dest="students", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: number of cores + 1; a worker waits on its kernel part of "
                        "the time)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--dask-local", type=int, metavar="N", help="run on a local Dask cluster of N workers")
    p.add_argument("--db-url", help="gradebook URL (default: NBGRADER_DB_URL or the course config)")
    p.add_argument("--course-root", help="course root containing autograder/nbgrader_config.py")
    add_limit_options(p)  # one option per field of Limits, declared in limits.py
    p.add_argument("--reports", metavar="DIR", help="report folder (default: autograder/reports)")
    p.add_argument("--logs", metavar="DIR", help="log folder (default: autograder/logs)")
    p.add_argument("--no-rename", action="store_true",
                   help="do not grade a single notebook submitted under another file name")
    p.add_argument("--feedback", action="store_true", help="run nbgrader generate_feedback afterwards")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code WITHOUT the bubblewrap sandbox (it can then read the answer key and "
                        "write the gradebook); the summary and reports say so")
    p.add_argument("--in-kernel-checks", action="store_true",
                   help="run the test cells inside each student's kernel, as plain nbgrader autograde does (a "
                        "submission's own code can then bend them); by default they run in the grader and only "
                        "data crosses")
    return p


def _executor(args):
    if args.scheduler or args.dask_local:
        from .executors import DaskExecutor

        return DaskExecutor(address=args.scheduler, workers=args.dask_local)
    return None


def main(argv=None):
    """Entry point of ``nablakit-grade``; returns the exit status."""
    args = build_parser().parse_args(argv)
    require_grading_packages()
    try:
        limits = limits_from_args(args)
        course = Course.load(args.course_root, db_url=args.db_url)
        if not args.no_sandbox:
            from .isolation import check_available

            check_available()
        executor = _executor(args)
    except (GradingSetupError, ValueError) as exc:
        print(f"nablakit-grade: {exc}", file=sys.stderr)
        return 2
    except SandboxUnavailable as exc:
        print(f"nablakit-grade: refusing to grade: the sandbox cannot start.\n{exc}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print(f"nablakit-grade: {NO_SANDBOX_WARNING}", file=sys.stderr)
    try:
        batch = grade_batch(course, args.exercises or None, args.students, executor=executor, workers=args.workers,
                            limits=limits, log_dir=args.logs, progress=not args.no_progress,
                            rename=not args.no_rename, sandbox=not args.no_sandbox,
                            split_checks=not args.in_kernel_checks)
    except (GradingSetupError, SandboxUnavailable) as exc:
        print(f"nablakit-grade: {exc}", file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.close()
    print(batch.summary())
    from .reports import write_reports

    folder = Path(args.reports) if args.reports else Path(course.config_dir) / "reports"
    written = write_reports(batch, course, folder)
    print(f"reports: {', '.join(str(p) for p in written)}")
    if args.feedback:
        from .executors import worker_env

        env = worker_env()
        env["NBGRADER_DB_URL"] = course.db_url
        for assignment in sorted({r["assignment"] for r in batch.graded}):
            out = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_feedback", assignment,
                                  "--force"], cwd=course.config_dir, env=env, capture_output=True, text=True)
            state = "ok" if out.returncode == 0 else f"FAILED (exit {out.returncode})"
            print(f"feedback {assignment}: {state}")
    status = 0
    if batch.failed:
        names = ", ".join(f"{r['student']} ({r['assignment']})" for r in batch.failed)
        print(f"nablakit-grade: {len(batch.failed)} submission(s) could not be graded: {names}", file=sys.stderr)
        status = 1
    if batch.breached:
        names = ", ".join(f"{r['student']} ({r['assignment']})" for r in batch.breached)
        print(f"nablakit-grade: {len(batch.breached)} submission(s) reached outside the sandbox or tampered with "
              f"grading (see FLAGGED): {names}", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
