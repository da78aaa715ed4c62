"""Regenerate the student release ``exercises/`` from ``solutions/`` with nbgrader.

``make exercises`` runs ``python -m nablakit.grading.release``. For every
folder ``solutions/exNN-name/`` it runs the real ``nbgrader
generate_assignment exNN-name --force`` in ``autograder/`` (which also
creates the assignment in the gradebook if it is new), then rewrites each
released notebook in one canonical JSON layout, so that running it twice
gives byte-identical files.

``--student ID`` instead renders the given exercises (default: all) as that
student sees them: the solution notebook executed with ``NABLAKIT_STUDENT=ID``,
so that its cells show the student's variant, numbers and answers. The copies go
to ``autograder/variants/<ID>/`` (never into ``exercises/``).

Run ``python -m nablakit.grading.release --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "ASSIGNMENT_PATTERN",
    "ALL_PATTERN",
    "nbgrader_env",
    "run_nbgrader",
    "find_assignments",
    "normalise_notebook",
    "release_assignment",
    "release_all",
    "render_for_student",
    "main",
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT_PATTERN = re.compile(r"^ex\d\d-[a-z0-9-]+$")
# The same set as a glob, which nbgrader accepts in place of an assignment name.
ALL_PATTERN = "ex[0-9][0-9]-*"
# Keys nbgrader or Jupyter may add that carry no content and can vary between runs.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")
VOLATILE_NOTEBOOK_METADATA = ("widgets", "toc", "celltoolbar")


def nbgrader_env(base=None):
    """Environment for nbgrader subprocesses: this interpreter's ``bin/`` first on ``PATH``.

    Examples
    --------
    >>> env = nbgrader_env({"PATH": "/usr/bin"})
    >>> env["PATH"].endswith("/usr/bin") and env["PATH"] != "/usr/bin"
    True
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_nbgrader(args, course_root=PROJECT_ROOT, *, check=True, extra_env=None):
    """Run ``nbgrader <args>`` in ``<course_root>/autograder``.

    Parameters
    ----------
    args : list of str
        Arguments after ``nbgrader``, e.g. ``["autograde", "ex01-partial-derivatives"]``.
    course_root : path-like
        A course laid out like this project, with ``autograder/nbgrader_config.py``.
    check : bool, default True
        Raise ``RuntimeError`` with nbgrader's output if it fails.
    extra_env : dict, optional
        Variables added to the environment; a value of None removes the variable.

    Returns
    -------
    subprocess.CompletedProcess
    """
    cwd = Path(course_root) / "autograder"
    if not (cwd / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"course_root must contain autograder/nbgrader_config.py; not found under {course_root}")
    env = nbgrader_env()
    for key, value in (extra_env or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(map(str, args))} failed with exit code {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def find_assignments(course_root=PROJECT_ROOT):
    """Names of the exercise folders ``solutions/exNN-name`` that hold a notebook, sorted.

    Examples
    --------
    >>> names = find_assignments()
    >>> all(ASSIGNMENT_PATTERN.match(n) for n in names)
    True
    """
    source = Path(course_root) / "solutions"
    if not source.is_dir():
        return []
    return sorted(
        p.name for p in source.iterdir()
        if p.is_dir() and ASSIGNMENT_PATTERN.match(p.name) and any(p.glob("*.ipynb"))
    )


def normalise_notebook(path):
    """Rewrite a notebook in canonical JSON, without volatile metadata; return True if it changed.

    The layout is nbformat's own (one-space indent, sorted keys, UTF-8, final
    newline), so files look like those Jupyter writes.
    """
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = json.loads(before)
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in VOLATILE_CELL_METADATA:
            meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    after = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


def release_assignment(name, course_root=PROJECT_ROOT):
    """Generate ``exercises/<name>/`` from ``solutions/<name>/``; return the released notebooks."""
    run_nbgrader(["generate_assignment", name, "--force"], course_root)
    released = sorted((Path(course_root) / "exercises" / name).glob("*.ipynb"))
    if not released:
        raise RuntimeError(f"nbgrader generate_assignment {name} produced no notebook in exercises/{name}/")
    for path in released:
        normalise_notebook(path)
    return released


def release_all(course_root=PROJECT_ROOT, names=None, *, log=print):
    """Release every exercise (or the given ``names``); return all released notebooks."""
    course_root = Path(course_root)
    every = find_assignments(course_root)
    names = list(names) if names else every
    if not names:
        raise RuntimeError(f"no exercise folders solutions/exNN-name/ under {course_root}")
    if names == every:
        # One nbgrader process for all exercises (its start-up dominates the run time).
        run_nbgrader(["generate_assignment", ALL_PATTERN, "--force"], course_root)
    else:
        for name in names:
            run_nbgrader(["generate_assignment", name, "--force"], course_root)
    paths = []
    for name in names:
        released = sorted((course_root / "exercises" / name).glob("*.ipynb"))
        if not released:
            raise RuntimeError(f"nbgrader generate_assignment {name} produced no notebook in exercises/{name}/")
        for path in released:
            normalise_notebook(path)
        log(f"released {name}: " + ", ".join(str(p.relative_to(course_root)) for p in released))
        paths.extend(released)
    return paths


def render_for_student(student, course_root=PROJECT_ROOT, names=None, *, out_dir=None, log=print):
    """Execute each exercise's solution notebook as ``student``'s kernel would run it; return the written paths.

    The copies (``autograder/variants/<student>/<name>.ipynb`` by default) show
    the student's variant label, their numbers and the model answers for them.
    """
    import nbclient
    import nbformat

    from .. import variants

    course_root = Path(course_root)
    names = list(names) if names else find_assignments(course_root)
    if not names:
        raise RuntimeError(f"no exercise folders solutions/exNN-name/ under {course_root}")
    out_dir = Path(out_dir) if out_dir else course_root / "autograder" / "variants" / student
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (variants.ENV_STUDENT, variants.ENV_HUB_USER)}
    os.environ[variants.ENV_STUDENT] = student
    os.environ.pop(variants.ENV_HUB_USER, None)
    paths = []
    try:
        for name in names:
            source = course_root / "solutions" / name / f"{name}.ipynb"
            if not source.is_file():
                raise FileNotFoundError(f"no solution notebook {source}")
            nb = nbformat.read(str(source), as_version=4)
            nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True,
                                    resources={"metadata": {"path": str(source.parent)}}).execute()
            path = out_dir / f"{name}.ipynb"
            nbformat.write(nb, str(path))
            label = variants.draw(name, env={variants.ENV_STUDENT: student}).label
            log(f"rendered {name} for {student} ({label}): {path}")
            paths.append(path)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return paths


def main(argv=None):
    """Command line: ``python -m nablakit.grading.release [--root DIR] [--student ID] [NAME ...]``."""
    parser = argparse.ArgumentParser(description="Regenerate exercises/ from solutions/ with nbgrader generate_assignment.")
    parser.add_argument("names", nargs="*", help="exercise folders to release (default: all solutions/exNN-*)")
    parser.add_argument("--root", default=str(PROJECT_ROOT), help="course root (default: this project)")
    parser.add_argument("--student", metavar="ID",
                        help="render the exercises as this student's variant into autograder/variants/ID/ "
                             "(the solutions executed with NABLAKIT_STUDENT=ID) instead of releasing")
    args = parser.parse_args(argv)
    try:
        if args.student:
            render_for_student(args.student, Path(args.root).resolve(), args.names)
        else:
            release_all(Path(args.root).resolve(), args.names)
    except (RuntimeError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
