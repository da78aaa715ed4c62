"""A grader killed mid-batch loses nothing (issue 19, item 8).

``nablakit-grade`` runs on a batch of exercise 1 under a watcher process
that is a child subreaper, so every process the grader started (workers,
grading processes, kernel fork servers, bubblewrap sandboxes, kernels, a
checker) stays the watcher's descendant even once its parent is gone. As
soon as the first student's autograded notebook is written (before the last
one's), the grader gets SIGKILL. Then: within a bounded time no descendant
is left, and grading the same course again gives every student exactly the
grade of an uninterrupted run of the same submissions (graded meanwhile in a
copy of the course).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exercise_cases import CASES
from grading_support import gradebook_parts, make_course, released, solution, sqlite_url
from nablakit.grading.isolation import bwrap_path
from nablakit.grading.submission import build_submission, solution_answers

pytestmark = [
    pytest.mark.xdist_group("grading-interrupted"),
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed (apt-get install -y bubblewrap)"),
]

EX1 = "ex01-partial-derivatives"
GRADE_CMD = str(Path(sys.executable).parent / "nablakit-grade")

# Starts the grader (its output to the file named first), then answers each line on stdin with the grader's exit
# status (None while it runs) and the processes still below the watcher (JSON [pid, command line]).
WATCHER = r"""
import json, os, subprocess, sys
from nablakit.grading.limits import become_subreaper, descendants, reap
assert become_subreaper(), "prctl(PR_SET_CHILD_SUBREAPER) failed"
with open(sys.argv[1], "wb") as log:
    grader = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
print(grader.pid, flush=True)
for _ in sys.stdin:
    status = grader.poll()
    reap()
    left = []
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                left.append([pid, fh.read().replace(b"\0", b" ").decode(errors="replace")[:160]])
        except OSError:
            pass
    print(json.dumps([status, left]), flush=True)
"""


def class_of_six():
    right = solution_answers(solution(EX1))
    wrong = [{**right, **case["answers"]} for case in CASES[EX1]["wrong"]]
    return {"k0-full": right, "k1-wrong": wrong[0], "k2-blank": {}, "k3-wrong": wrong[1 % len(wrong)],
            "k4-full": right, "k5-wrong": wrong[2 % len(wrong)]}


def command(root):
    return [GRADE_CMD, EX1, "--course-root", str(root), "--workers", "2", "--no-progress",
            "--reports", str(root / "reports")]


def autograded(root):
    return sorted(p.parts[-3] for p in (root / "autograder" / "autograded").glob(f"*/{EX1}/{EX1}.ipynb"))


def test_a_grader_killed_mid_batch_leaves_nothing_behind_and_loses_no_grade(tmp_path):
    root = tmp_path / "course"
    make_course(root, [EX1])
    students = class_of_six()
    for student, answers in students.items():
        build_submission(released(root, EX1), root, student, answers)
    reference = tmp_path / "uninterrupted"
    shutil.copytree(root, reference)
    uninterrupted = subprocess.Popen(command(reference), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    try:
        log = tmp_path / "killed-grader.log"
        watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(log), *command(root)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        try:
            grader = int(watcher.stdout.readline())
            deadline = time.monotonic() + 300
            while not autograded(root) and time.monotonic() < deadline:
                time.sleep(0.05)
            done = autograded(root)
            os.kill(grader, signal.SIGKILL)
            killed = time.monotonic()
            assert 1 <= len(done) < len(students), done

            left, first = None, None
            while time.monotonic() < killed + 120:
                watcher.stdin.write("\n")
                watcher.stdin.flush()
                status, left = json.loads(watcher.stdout.readline())
                if first is None and status is not None:
                    first = left
                    assert status == -signal.SIGKILL, f"the grader ended before the kill (exit {status}): " \
                                                      + log.read_text(errors="replace")[-3000:]
                if status is not None and not left:
                    break
                time.sleep(0.02 if status is None else 0.2)
            settled = time.monotonic() - killed
            assert left == [], f"processes of the killed grader still running after {settled:.0f} s: {left}"
        finally:
            watcher.stdin.close()
            watcher.wait(timeout=30)
        part_way = autograded(root)
        assert len(part_way) < len(students), "the kill came too late to interrupt the batch"
        print(f"\nkilled with {len(done)} of {len(students)} graded; {len(part_way)} once its workers ended; "
              f"{len(first or [])} processes right after the kill, none {settled:.1f} s later")

        again = subprocess.run(command(root), capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        out, err = uninterrupted.communicate(timeout=600)
        assert uninterrupted.returncode == 0, out[-3000:] + err[-3000:]
        for student in students:
            assert gradebook_parts(sqlite_url(root), EX1, student) == gradebook_parts(sqlite_url(reference), EX1,
                                                                                      student), student
        assert autograded(root) == sorted(students)
    finally:
        if uninterrupted.poll() is None:  # the test failed before it waited for the reference
            uninterrupted.kill()
            uninterrupted.wait()
