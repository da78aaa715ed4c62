"""environment.yml (Binder, conda) and pyproject.toml describe the same environment."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_NAME = {"psycopg": "psycopg"}


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
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


def test_same_package_set():
    pip_names = {CONDA_NAME.get(n, n) for n in pyproject_requirements()}
    conda_names = set(conda_requirements()) - {"python", "pip"}
    assert pip_names == conda_names, (
        f"only in pyproject: {sorted(pip_names - conda_names)}; only in environment.yml: {sorted(conda_names - pip_names)}"
    )


def test_same_lower_bounds():
    conda = conda_requirements()
    for name, req in pyproject_requirements().items():
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
    for name, req in pyproject_requirements().items():
        key = name.replace("_", "-")
        assert key in pins, f"{name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[key], prereleases=True), f"{name}=={pins[key]} violates {req.specifier}"


def test_postbuild_installs_package():
    post = ROOT / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    text = post.read_text()
    assert "set -euo pipefail" in text and "pip install --no-deps -e ." in text
    assert not (ROOT / "binder").exists(), "a binder/ folder hides the root environment.yml"
