"""Benchmark: the parallel batch grader vs plain sequential ``nbgrader autograde``.

Builds 40 submissions, three or four for each exercise (the solution, two
answers with a named mistake from ``tests/exercise_cases.py`` and a blank
release, filled in with the submission builder) in a temporary
course, copies that course once per run (same submissions, same fresh gradebook),
then grades one copy with ``nablakit-grade`` (its default: number of workers
cores + 1, every kernel in its bubblewrap sandbox, the test cells in a checker
outside the student's kernel; the whole command timed: start-up, grading,
reports) and another with one plain ``nbgrader autograde "ex[0-9][0-9]-*"
--force`` (one process for all the exercises, the fastest way to run nbgrader
sequentially). A third copy is graded with ``nablakit-grade
--in-kernel-checks`` (the test cells in the student's kernel, as nbgrader
runs them): the difference is the cost of the split per submission. A fourth
is graded with ``--no-sandbox``: the difference is the sandbox's own cost.
With ``NABLAKIT_BENCH_PER_KERNEL=1`` a fifth copy is graded with the sandbox
but without the kernel fork server (a fresh sandboxed interpreter per
kernel), the alternative design. Prints the wall
times, the cost per submission and the ratio, all from this one run, and
exits with status 1 if any grade differs from sequential nbgrader's. Both
graders run with ``NABLAKIT_VARIANTS=off`` (everyone on the reference
variant), since plain nbgrader cannot grade per-student variants.

Run with ``make bench`` or ``python benchmarks/bench_grading.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the trial answers of the exercise tests

from exercise_cases import CASES  # noqa: E402

from nablakit.grading.release import ALL_PATTERN, find_assignments, nbgrader_env, run_nbgrader  # noqa: E402
from nablakit.grading.submission import build_submission, solution_answers  # noqa: E402

EXERCISES = find_assignments(ROOT)
SUBMISSIONS = 40
GOAL = 2.5


def class_of(name, size):
    """``size`` students of one exercise: the solution, answers with named mistakes, a blank release."""
    right = solution_answers(ROOT / "solutions" / name / f"{name}.ipynb")
    wrong = [{**right, **case["answers"]} for case in CASES.get(name, {}).get("wrong", [])]
    students = [right] + wrong[: max(0, size - 2)] + [{}]
    while len(students) < size:
        students.insert(1, right)
    return {f"s{i:02d}-{name[:4]}": answers for i, answers in enumerate(students[:size])}


def env_for(root):
    env = nbgrader_env()
    env["NBGRADER_DB_URL"] = f"sqlite:///{Path(root) / 'autograder' / 'gradebook.db'}"
    # Plain nbgrader knows no students' variants: both graders use the reference one, so grades can match.
    env["NABLAKIT_VARIANTS"] = "off"
    env.pop("NBGRADER_EXCHANGE", None)
    return env


def grades(root):
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(env_for(root)["NBGRADER_DB_URL"], "gradients") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                out[(assignment.name, sub.student.id)] = {
                    g.name: g.score for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"}
    return out


def _has_split():
    """Whether this nablakit-grade can run the checks in the student's kernel (so its default runs them outside)."""
    out = subprocess.run([str(Path(sys.executable).parent / "nablakit-grade"), "--help"], capture_output=True,
                         text=True)
    return "--in-kernel-checks" in out.stdout


def kernel_cost(rounds=8):
    """Median seconds to start a kernel, run one cell and stop it: sandboxed fork server vs unsandboxed one.

    The two kinds alternate, so a change in the machine's load hits both.
    """
    import statistics

    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from nablakit.grading import isolation, kernels

    folder = Path(tempfile.mkdtemp(prefix="nablakit-kernel-"))
    scratch = isolation.Scratch()
    kernels.SCRATCH, kernels.STUDENT = scratch, "bench"
    servers = {True: kernels.ForkServer(sandbox=isolation.bwrap_argv(scratch)), False: kernels.ForkServer()}
    times = {True: [], False: []}
    try:
        for _ in range(rounds):
            for sandboxed, server in servers.items():
                kernels.SERVER, kernels.SANDBOX = server, sandboxed
                scratch.clear()
                nb = new_notebook(cells=[new_code_cell("import numpy as np\nx = np.ones(3).sum()")])
                start = time.perf_counter()
                NotebookClient(nb, kernel_manager_class=kernels.ForkingKernelManager, timeout=60,
                               resources={"metadata": {"path": str(folder)}}).execute()
                times[sandboxed].append(time.perf_counter() - start)
    finally:
        for server in servers.values():
            server.close()
        kernels.SERVER, kernels.SCRATCH, kernels.SANDBOX = None, None, False
        scratch.remove()
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times[True]), statistics.median(times[False])


def main():
    base = Path(tempfile.mkdtemp(prefix="nablakit-bench-"))
    try:
        course = base / "course"
        (course / "autograder").mkdir(parents=True)
        shutil.copy(ROOT / "autograder" / "nbgrader_config.py", course / "autograder")
        for name in EXERCISES:
            shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        run_nbgrader(["generate_assignment", ALL_PATTERN, "--force"], course,
                     extra_env={"NBGRADER_DB_URL": env_for(course)["NBGRADER_DB_URL"], "NBGRADER_EXCHANGE": None})
        n = 0
        for i, name in enumerate(EXERCISES):
            released = course / "exercises" / name / f"{name}.ipynb"
            size = SUBMISSIONS // len(EXERCISES) + (i < SUBMISSIONS % len(EXERCISES))
            for student, answers in class_of(name, size).items():
                build_submission(released, course, student, answers)
                n += 1
        split = _has_split()
        modes = {"split" if split else "sandbox": ([], {})}
        if split:
            modes["in-kernel checks"] = (["--in-kernel-checks"], {})
        modes["no-sandbox"] = (["--no-sandbox"], {})
        if os.environ.get("NABLAKIT_BENCH_PER_KERNEL") == "1":
            modes["sandbox, no fork server"] = ([], {"NABLAKIT_GRADE_FORK_KERNELS": "0"})
        for name in [*modes, "sequential"]:
            shutil.copytree(course, base / name)
        from nablakit.grading.executors import default_workers

        workers = default_workers()
        cores = os.cpu_count() or 1
        load = os.getloadavg()[0]
        times, outputs = {}, {}
        for name, (flags, extra) in modes.items():
            root = base / name
            start = time.perf_counter()
            outputs[name] = subprocess.run(
                [str(Path(sys.executable).parent / "nablakit-grade"), *EXERCISES, "--course-root", str(root),
                 "--db-url", env_for(root)["NBGRADER_DB_URL"], "--no-progress", *flags],
                env={**env_for(root), **extra}, capture_output=True, text=True)
            times[name] = time.perf_counter() - start

        start = time.perf_counter()
        plain = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", ALL_PATTERN, "--force"],
                               cwd=base / "sequential" / "autograder", env=env_for(base / "sequential"),
                               capture_output=True, text=True)
        t_plain = time.perf_counter() - start
        if plain.returncode != 0:
            print(f"grading batch: FAIL, nbgrader exit {plain.returncode}\n{plain.stderr[-1500:]}")
            return 1
        reference = grades(base / "sequential")
        for name, out in outputs.items():
            if out.returncode != 0:
                print(f"grading batch: FAIL, nablakit-grade ({name}) exit {out.returncode}\n"
                      f"{out.stdout[-1500:]}{out.stderr[-1500:]}")
                return 1
            mine = grades(base / name)
            differ = sorted(k for k in set(mine) | set(reference) if mine.get(k) != reference.get(k))
            if len(mine) != n or differ:
                first = differ[0] if differ else None
                detail = f": {mine.get(first)} against nbgrader's {reference.get(first)}" if first else ""
                print(f"grading batch: FAIL ({name}, {times[name]:.1f} s), {len(mine)} of {n} graded, grades differ "
                      f"for {differ[:5]}{detail}")
                return 1
        primary = next(iter(modes))
        t_ours = times[primary]
        ratio = t_plain / t_ours
        verdict = "" if ratio >= GOAL else "  BELOW GOAL"
        others = "; ".join(f"{name}: {t:.1f} s ({t / n:.2f} s each, ratio {t_plain / t:.2f}x)"
                           for name, t in times.items() if name != primary)
        cost = (t_ours - times["no-sandbox"]) / n
        if split:
            split_cost = (f"split cost {(t_ours - times['in-kernel checks']) / n * 1000:+.0f} ms of wall time per "
                          "submission (against --in-kernel-checks, batch against batch); ")
        else:
            split_cost = "(this nablakit-grade has no --in-kernel-checks: the checks ran in the student's kernel); "
        with_box, without = kernel_cost()
        print(f"grading batch: {n} submissions ({len(EXERCISES)} exercises), {cores} cores, {workers} workers, "
              f"load {load:.1f} before: "
              f"nablakit-grade ({primary}, sandboxed) {t_ours:.1f} s ({t_ours / n:.2f} s each), sequential nbgrader "
              f"autograde {t_plain:.1f} s ({t_plain / n:.2f} s each), ratio {ratio:.2f}x (goal >= {GOAL}x){verdict}; "
              f"{others}; {split_cost}sandbox cost {cost * 1000:+.0f} ms of wall time per submission "
              "(batch against batch); "
              f"one kernel started, run and stopped: {with_box * 1000:.0f} ms sandboxed vs {without * 1000:.0f} ms "
              f"({(with_box - without) * 1000:+.0f} ms, median of 8 alternating); grades identical")
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
