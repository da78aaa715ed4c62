"""Benchmark: the parallel batch grader vs plain sequential ``nbgrader autograde``.

Builds 40 submissions, four for each of the ten exercises (the solution, two
answers with a named mistake from ``tests/exercise_cases.py`` and a blank
release, filled in with the submission builder) in a temporary
course, copies that course twice (same submissions, same fresh gradebook),
then grades one copy with ``nablakit-grade`` (its default number of workers,
cores + 1; the whole command timed: start-up, grading, reports) and the other
with one plain
``nbgrader autograde "ex[0-9][0-9]-*" --force`` (one process for all ten
exercises, the fastest way to run nbgrader sequentially). Prints both wall
times, the cost per submission and their ratio, all from this one run, and
exits with status 1 if any grade differs between the two gradebooks.

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
GOAL = 1.8


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
        for name in EXERCISES:
            released = course / "exercises" / name / f"{name}.ipynb"
            for student, answers in class_of(name, SUBMISSIONS // len(EXERCISES)).items():
                build_submission(released, course, student, answers)
                n += 1
        runner, sequential = base / "runner", base / "sequential"
        shutil.copytree(course, runner)
        shutil.copytree(course, sequential)
        from nablakit.grading.executors import default_workers

        workers = default_workers()
        cores = os.cpu_count() or 1
        load = os.getloadavg()[0]

        start = time.perf_counter()
        ours = subprocess.run([str(Path(sys.executable).parent / "nablakit-grade"), *EXERCISES,
                               "--course-root", str(runner), "--db-url", env_for(runner)["NBGRADER_DB_URL"],
                               "--no-progress"],
                              env=env_for(runner), capture_output=True, text=True)
        t_ours = time.perf_counter() - start

        start = time.perf_counter()
        plain = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", ALL_PATTERN, "--force"],
                               cwd=sequential / "autograder", env=env_for(sequential), capture_output=True, text=True)
        t_plain = time.perf_counter() - start

        if ours.returncode != 0 or plain.returncode != 0:
            print(f"grading batch: FAIL, nablakit-grade exit {ours.returncode}, nbgrader exit {plain.returncode}\n"
                  f"{ours.stdout[-1500:]}{ours.stderr[-1500:]}{plain.stderr[-1500:]}")
            return 1
        a, b = grades(runner), grades(sequential)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if len(a) != n or differ:
            print(f"grading batch: FAIL, {len(a)} of {n} graded, grades differ for {differ[:5]}")
            return 1
        ratio = t_plain / t_ours
        verdict = "" if ratio >= GOAL else "  BELOW GOAL"
        print(f"grading batch: {n} submissions ({len(EXERCISES)} exercises), {cores} cores, {workers} workers, "
              f"load {load:.1f} before: "
              f"nablakit-grade {t_ours:.1f} s ({t_ours / n:.2f} s each), sequential nbgrader autograde "
              f"{t_plain:.1f} s ({t_plain / n:.2f} s each), ratio {ratio:.2f}x (goal >= {GOAL}x){verdict}; "
              "grades identical")
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
