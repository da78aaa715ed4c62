"""What a submission changed that it should not have: test cells and tampering.

Two reports complement nbgrader's own repairs (nbgrader puts deleted test
cells back and overwrites edited ones from its gradebook, but only logs it):

- :func:`compare_to_release` lists grade and locked cells of the released
  notebook that the submitted notebook deleted, edited, re-typed (deleted
  and re-created without nbgrader's metadata) or whose nbgrader metadata it
  changed;
- :func:`tamper_lint` scans the code a student wrote for the usual ways of
  fooling tests: assigning to or ``setattr`` on attributes of NumPy,
  ``numpy.testing``, ``builtins`` or ``nablakit``, ``import builtins``,
  ``__builtins__``, edits of ``sys.modules``, ``os._exit``, ``sys.exit``,
  swapping ``__code__``, frame or garbage-collector introspection, and
  IPython or interpreter hooks that bend later cells
  (:mod:`nablakit.grading.hooklint`).

Both work on notebooks as plain dicts (``nbformat`` nodes) and only read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .hooklint import hook_lint

__all__ = ["Finding", "strip_magics", "bound_names", "used_names", "imported_modules", "compare_to_release", "tamper_lint",
           "lint_notebook"]

_GUARDED_ROOTS = {"numpy", "np", "builtins", "__builtins__", "nablakit", "checks", "math"}
_GUARDED_MODULES = ("numpy", "builtins", "nablakit", "math")
_FLAGGED_CALLS = {
    ("os", "_exit"): "calls os._exit (kills the kernel)",
    ("sys", "exit"): "calls sys.exit",
    ("os", "kill"): "calls os.kill",
    ("os", "abort"): "calls os.abort",
    ("sys", "_getframe"): "inspects the caller's frame (sys._getframe)",
    ("gc", "get_referrers"): "searches objects through the garbage collector",
    ("gc", "get_objects"): "searches objects through the garbage collector",
    ("signal", "signal"): "changes signal handlers",
    ("importlib", "reload"): "reloads a module",
    ("os", "fork"): "forks the kernel process",
    ("os", "setsid"): "detaches a process from the grader",
}
_FLAGGED_IMPORTS = {
    "builtins": "imports builtins",
    "ctypes": "imports ctypes",
    "gc": "imports gc",
    "inspect": "imports inspect",
    "sqlite3": "imports sqlite3 (the gradebook is an SQLite file)",
}
_FLAGGED_NAMES = {"exit": "calls exit()", "quit": "calls quit()"}
_FLAGGED_ATTRS = {
    "__code__": "changes a function's __code__",
    "__globals__": "reaches into a function's globals",
    "__closure__": "reaches into a function's closure",
    "f_locals": "reads a frame's local variables",
    "f_globals": "reads a frame's globals",
    "f_back": "walks the call stack",
}


@dataclass(frozen=True)
class Finding:
    """One observation about a submission.

    Attributes
    ----------
    kind : str
        ``deleted``, ``edited``, ``retyped``, ``metadata`` (test cells) or
        ``tamper`` (lint).
    cell : str
        The grade id of the cell, or ``"cell N"`` for unmarked cells.
    detail : str
        A sentence for the instructor.
    """

    kind: str
    cell: str
    detail: str

    def __str__(self):
        return f"{self.cell}: {self.detail}"


def strip_magics(source):
    """Replace IPython magics and shell escapes by ``pass`` so the code parses.

    Examples
    --------
    >>> strip_magics("%matplotlib widget\\nx = 1")
    'pass\\nx = 1'
    """
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines)


def _parse(source):
    try:
        return ast.parse(strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _top_level_nodes(tree):
    """Walk a module without descending into function or class bodies."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def bound_names(source):
    """Names a cell binds in the notebook's global namespace.

    Examples
    --------
    >>> sorted(bound_names("import numpy as np\\nfrom a import b, c as d\\nx, y = 1, 2\\ndef f(): z = 3"))
    ['b', 'd', 'f', 'np', 'x', 'y']
    """
    tree = _parse(source)
    if tree is None:
        return set()
    names = set()
    for node in _top_level_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def used_names(source):
    """Global names a cell reads (anywhere in it).

    Examples
    --------
    >>> sorted(used_names("assert len(x) == 2"))
    ['len', 'x']
    """
    tree = _parse(source)
    if tree is None:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def imported_modules(source):
    """Full names of the modules a cell imports.

    Examples
    --------
    >>> sorted(imported_modules("import numpy as np\\nfrom nablakit.checks import expect_close"))
    ['nablakit.checks', 'numpy']
    """
    tree = _parse(source)
    if tree is None:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _source(cell):
    """A cell's source as one string (raw notebook JSON may store a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _normalise(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def compare_to_release(submitted, release):
    """Compare the graded and locked cells of a submission with the released notebook.

    Parameters
    ----------
    submitted, release : dict
        Notebooks (nbformat nodes or plain dicts).

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> meta = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "t1", "points": 1}}
    >>> release = new_notebook(cells=[new_code_cell("assert f(1) == 2", metadata=meta)])
    >>> edited = new_notebook(cells=[new_code_cell("assert True", metadata=meta)])
    >>> [f.kind for f in compare_to_release(edited, release)]
    ['edited']
    >>> retyped = new_notebook(cells=[new_code_cell("assert f(1) == 2")])
    >>> [f.kind for f in compare_to_release(retyped, release)]
    ['retyped']
    """
    submitted_cells = {}
    unmarked = []
    for index, cell in enumerate(submitted.get("cells", [])):
        grade_id = _nbgrader_meta(cell).get("grade_id")
        if grade_id:
            submitted_cells.setdefault(grade_id, cell)
        elif cell.get("cell_type") == "code":
            unmarked.append((index, _normalise(_source(cell))))
    findings = []
    for cell in release.get("cells", []):
        meta = _nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not grade_id or not (meta.get("grade") or meta.get("locked")) or meta.get("solution"):
            continue
        if cell.get("cell_type") != "code":
            continue  # locked text: nbgrader restores it, and it cannot change a grade
        kind = "test cell" if meta.get("grade") else "locked cell"
        original = _normalise(_source(cell))
        mine = submitted_cells.get(grade_id)
        if mine is None:
            copies = [i for i, src in unmarked if original and src == original]
            if copies:
                findings.append(Finding("retyped", grade_id,
                                        f"{kind} deleted and re-created without its nbgrader metadata "
                                        f"(as cell {copies[0]}); restored from the source"))
            else:
                findings.append(Finding("deleted", grade_id, f"{kind} deleted; restored from the source"))
            continue
        if _normalise(_source(mine)) != original:
            findings.append(Finding("edited", grade_id, f"{kind} edited; the original was restored from the source"))
        mine_meta = _nbgrader_meta(mine)
        changed = [key for key in ("grade", "solution", "locked", "points", "task")
                   if key in meta and mine_meta.get(key) != meta.get(key)]
        if mine.get("cell_type") != cell.get("cell_type"):
            changed.append("cell_type")
        if changed:
            findings.append(Finding("metadata", grade_id, f"{kind} metadata changed: {', '.join(changed)}"))
    return findings


def _dotted(node):
    """``np.testing.assert_allclose`` -> ['np', 'testing', 'assert_allclose']; None if not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    if isinstance(node, ast.Call):  # e.g. __import__("numpy").allclose
        func = _dotted(node.func)
        if func and func[-1] in {"__import__", "import_module"} and node.args and isinstance(node.args[0], ast.Constant):
            return [str(node.args[0].value)] + parts[::-1]
    return None


def _flatten_targets(targets):
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _flatten_targets(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _flatten_targets([target.value])
        else:
            yield target


def _guarded_target(parts, aliases):
    if not parts or len(parts) < 2:
        return None
    root = aliases.get(parts[0], parts[0])
    if root.split(".")[0] in _GUARDED_ROOTS or root in _GUARDED_ROOTS:
        return ".".join([root] + parts[1:])
    return None


def tamper_lint(source, cell="code"):
    """Flag code that patches what tests rely on or kills the grader's kernel.

    Parameters
    ----------
    source : str
        Code written by the student.
    cell : str
        Label used in the findings.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> [f.detail for f in tamper_lint("import numpy as np\\nnp.allclose = lambda *a, **k: True")]
    ['assigns to numpy.allclose']
    >>> tamper_lint("def f(x):\\n    return 2 * x") == []
    True
    """
    tree = _parse(source)
    if tree is None:
        return []
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    details = []

    def flag(text):
        if text not in details:
            details.append(text)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            verb = "deletes " if isinstance(node, ast.Delete) else "assigns to "
            for target in _flatten_targets(targets):
                if isinstance(target, ast.Attribute):
                    name = _guarded_target(_dotted(target), aliases)
                    if target.attr in _FLAGGED_ATTRS:
                        flag(_FLAGGED_ATTRS[target.attr] + (f" ({name})" if name else ""))
                    elif name:
                        flag(verb + name)
                elif isinstance(target, ast.Subscript):
                    parts = _dotted(target.value)
                    if parts and parts[-1] == "modules" and aliases.get(parts[0], parts[0]) == "sys":
                        flag("edits sys.modules")
                    elif parts and parts[-1] in {"__dict__", "__builtins__"}:
                        flag(f"edits {'.'.join(parts)}")
                    elif isinstance(target.value, ast.Call) and _dotted(target.value.func) in (["globals"], ["vars"]):
                        flag("edits the notebook's globals() dictionary")
                elif isinstance(target, ast.Name) and target.id == "__builtins__":
                    flag("rebinds __builtins__")
        elif isinstance(node, ast.Call):
            parts = _dotted(node.func)
            if not parts:
                continue
            full = aliases.get(parts[0], parts[0]).split(".") + parts[1:]
            if full[-1] in {"setattr", "delattr"} and len(full) <= 2 and node.args:
                victim = _dotted(node.args[0])
                root = aliases.get(victim[0], victim[0]) if victim else ""
                if root in _GUARDED_ROOTS or root.split(".")[0] in _GUARDED_ROOTS:
                    flag(f"calls {full[-1]} on {'.'.join([root] + victim[1:])}")
            if len(full) >= 2 and tuple(full[-2:]) in _FLAGGED_CALLS:
                flag(_FLAGGED_CALLS[tuple(full[-2:])])
            if len(parts) == 1 and parts[0] in _FLAGGED_NAMES and parts[0] not in aliases:
                flag(_FLAGGED_NAMES[parts[0]])
            if full[-1] == "update" and len(full) >= 2 and full[-2] == "modules":
                flag("edits sys.modules")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in _FLAGGED_IMPORTS:
                    flag(_FLAGGED_IMPORTS[name.split(".")[0]])
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"os", "sys"}:
                for alias in node.names:
                    if (node.module.split(".")[0], alias.name) in _FLAGGED_CALLS:
                        flag(_FLAGGED_CALLS[(node.module.split(".")[0], alias.name)])
        elif isinstance(node, ast.Name) and node.id == "__builtins__" and isinstance(node.ctx, ast.Load):
            flag("uses __builtins__")
        elif isinstance(node, ast.Attribute) and node.attr in _FLAGGED_ATTRS and isinstance(node.ctx, ast.Load):
            if node.attr in {"f_locals", "f_globals", "f_back", "__globals__", "__closure__"}:
                flag(_FLAGGED_ATTRS[node.attr])
    for text in hook_lint(tree, aliases):
        flag(text)
    return [Finding("tamper", cell, text) for text in details]


def lint_notebook(nb):
    """Run :func:`tamper_lint` on every cell the student wrote (answer and unmarked code cells).

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> nb = new_notebook(cells=[new_code_cell("import builtins\\nbuiltins.abs = lambda x: 0")])
    >>> [f.detail for f in lint_notebook(nb)]
    ['imports builtins', 'assigns to builtins.abs']
    """
    findings = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = _nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution") or (meta.get("locked") and not meta.get("solution")):
            continue  # instructor cells are restored from the source anyway
        label = meta.get("grade_id") or f"cell {index}"
        findings += tamper_lint(_source(cell), label)
    return findings

