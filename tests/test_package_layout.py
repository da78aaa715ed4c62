"""The package's layout rules, read from the source with ast (nothing is imported).

- No module imports a private name (``_helper``) of another module, neither
  ``from nablakit.x import _helper`` nor ``x._helper`` through a module
  alias: shared helpers get public names (validation in ``_validate``).
  Modules whose own name starts with ``_`` (``_validate``, ``widgets._base``)
  are package-internal; their public names may be imported.
- The computing modules never import drawing or grading code.
- A widget module imports no other widget module except the private shared
  ones, ``widgets._base`` (the figure mechanism and helpers) and
  ``widgets._frames`` (the frames sent to the browser): chapters do not
  borrow from each other's modules.
- No import cycles at module level; every module sits on a "floor" one above
  its highest module-level nablakit import (printed by ``python
  tests/test_package_layout.py``). An import inside a function (a registry
  loading its plugins on first use) is not a floor, but it obeys the other
  rules.
- A module over 500 lines says why at its top ("Long on purpose: ...").
- The README's contributor map names every module.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "nablakit"
FILES = sorted(p for p in PACKAGE.rglob("*.py") if "egg-info" not in str(p))
MAX_LINES = 500
DRAWING = ("nablakit.widgets", "nablakit.plotting", "nablakit.grading", "matplotlib", "ipywidgets")


def module_name(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in FILES}


def is_private(name):
    return name.startswith("_") and not name.startswith("__")


def module_level_nodes(tree):
    """Every node that is not inside a function body."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def imports(name, module_level=False):
    """(imported module, imported names or None, line) for every nablakit import of ``name``, plus aliases."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, aliases = [], {}
    for node in (module_level_nodes(tree) if module_level else ast.walk(tree)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:  # `from nablakit import depth as dp`
                    found.append((full, None, node.lineno))
                    aliases[alias.asname or alias.name] = full
                else:
                    found.append((base, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, None, node.lineno))
                if alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):  # `dp._square_symmetric(...)`
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            target = aliases[node.value.id]
            if target.startswith("nablakit") and target != name:
                found.append((target, node.attr, node.lineno))
    return [(m, n, line) for m, n, line in found if m.startswith("nablakit") or m.split(".")[0] in
            ("matplotlib", "ipywidgets")]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_name_crosses_a_module_boundary(name):
    crossing = [f"line {line}: {mod}.{attr}" for mod, attr, line in imports(name)
                if attr and is_private(attr) and mod != name]
    assert not crossing, f"{name} uses private names of other modules (give them public names): {crossing}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith(("nablakit.widgets", "nablakit.grading"))
                                        and n not in ("nablakit.plotting",)))
def test_computing_modules_do_not_import_drawing_or_grading(name):
    bad = sorted({mod for mod, _, _ in imports(name) if mod.startswith(DRAWING)})
    assert not bad, f"{name} computes; it must not import {bad}"


WIDGETS = sorted(n for n in MODULES if n == "nablakit.widgets" or n.startswith("nablakit.widgets."))


@pytest.mark.parametrize("name", WIDGETS)
def test_widget_modules_import_only_the_base_among_widgets(name):
    sideways = sorted({f"line {line}: {mod}" + (f".{attr}" if attr else "") for mod, attr, line in imports(name)
                       if mod.startswith("nablakit.widgets")
                       and mod not in ("nablakit.widgets._base", "nablakit.widgets._frames", name)})
    assert not sideways, (f"{name} imports another widget module {sideways}: move what is shared "
                          "into widgets/_base.py (drawing) or a computing module (maths)")


def floors():
    """Floor of each module: 0 with no nablakit imports, else 1 + the highest floor it imports."""
    deps = {}
    for name in MODULES:
        targets = set()
        for mod, attr, _ in imports(name, module_level=True):
            if mod in MODULES and mod != name:
                targets.add(mod)
            elif attr and f"{mod}.{attr}" in MODULES:
                targets.add(f"{mod}.{attr}")
        deps[name] = {t for t in targets if not name.startswith(t + ".") and t != "nablakit"}
    result, visiting = {}, set()

    def floor(name):
        if name in result:
            return result[name]
        assert name not in visiting, f"import cycle through {name}"
        visiting.add(name)
        result[name] = 1 + max((floor(d) for d in deps[name]), default=-1)
        visiting.discard(name)
        return result[name]

    for name in MODULES:
        floor(name)
    return result, deps


def test_no_import_cycles_and_validation_is_the_ground_floor():
    result, _ = floors()
    assert result["nablakit._validate"] == 0


@pytest.mark.parametrize("path", FILES, ids=[module_name(p) for p in FILES])
def test_long_modules_say_why(path):
    lines = path.read_text().count("\n")
    if lines > MAX_LINES:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "Long on purpose:" in doc, (
            f"{module_name(path)} has {lines} lines (> {MAX_LINES}): split it by topic, "
            "or say at its top why not ('Long on purpose: ...')")


def test_readme_contributor_map_names_every_module():
    readme = (SRC.parent / "README.md").read_text()
    section = readme[readme.index("## For contributors"):]
    rows = dict(re.findall(r"^\| `([\w/]+)` \| (.+) \|$", section, flags=re.M))
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") + ["widgets/", "grading/"]
    assert sorted(rows) == sorted(top), "the README's module table and src/nablakit/ disagree"
    grading = [p.stem for p in (PACKAGE / "grading").glob("*.py") if not p.stem.startswith("_")]
    missing = [m for m in grading if f"`{m}`" not in rows["grading/"]]
    assert not missing, f"the README's grading/ row leaves out {missing}"


if __name__ == "__main__":  # print the floors: python tests/test_package_layout.py
    result, deps = floors()
    for level in range(max(result.values()) + 1):
        names = sorted(n.removeprefix("nablakit.") for n, f in result.items() if f == level)
        print(f"floor {level}: {', '.join(names)}")
    sys.exit(0)
