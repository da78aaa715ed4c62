"""Accessibility basics: captions, colour-blind-safe colour maps, labelled sliders and axes.

* Every code cell of a chapter that shows a figure is followed by a markdown
  caption starting with "**Figure:**" (found statically: a call of a widget
  factory shown as the cell's result, or a figure made with plt.subplots).
* No rainbow-type colour maps ('jet', 'rainbow', 'hsv', ...) in the
  chapters or the package.
* Every figure factory in ``nablakit.widgets`` builds (Agg; with its
  docstring example if it needs arguments) a figure whose axes have titles
  and x/y (3-D: also z) labels, whose colour maps are colour-blind-safe, and
  whose sliders have descriptive labels.

The browser suite runs the same figure checks in the kernel of every executed chapter.
"""

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_map import chapter_files  # noqa: E402

import nablakit.widgets  # noqa: E402
from nablakit.widgets import LiveFigure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapter_files()
CAPTION = "**Figure:**"
# Rainbow-like maps mislead and are unreadable with colour-vision deficiencies.
UNSAFE_CMAPS = ("jet", "rainbow", "hsv", "gist_rainbow", "nipy_spectral", "gist_ncar", "turbo", "Spectral")
SAFE_CMAPS = {"viridis", "cividis", "magma", "inferno", "plasma", "Greys", "gray", "grey", "binary", "PuOr", "BrBG"}
_UNSAFE_RE = re.compile(r"""(["'])(%s)(_r)?\1|\bcm\.(%s)\b""" % ("|".join(UNSAFE_CMAPS), "|".join(UNSAFE_CMAPS)))


def widget_modules():
    return [importlib.import_module(f"nablakit.widgets.{m.name}")
            for m in pkgutil.iter_modules(nablakit.widgets.__path__) if not m.name.startswith("_")
            and m.name != "conftest"]


def returns_type(func):
    """The type line of a numpydoc Returns section ('' if none)."""
    doc = inspect.getdoc(func) or ""
    match = re.search(r"^Returns\n-+\n(.+)$", doc, re.M)
    return match.group(1).strip() if match else ""


def factories():
    """Public functions of the widget modules that return a LiveFigure or a Figure, by qualified name."""
    found = {}
    for module in widget_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and re.match(r"(LiveFigure|(matplotlib\.figure\.)?Figure)\b", returns_type(obj)):
                found[f"{module.__name__.rsplit('.', 1)[1]}.{name}"] = obj
    return found


FACTORIES = factories()


# --- captions -----------------------------------------------------------------------------------

def _code(source):
    """Cell source without IPython magics and shell escapes, for ast."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _called_name(node):
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def figure_cells(nb):
    """Indices of code cells that show a figure."""
    names = {name.rsplit(".", 1)[1] for name in FACTORIES}
    bound = set()  # variables holding a factory's result
    shown = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_code(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _called_name(node.value) in names:
                bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        last = tree.body[-1] if tree.body else None
        shows = False
        if isinstance(last, ast.Expr):
            value = last.value
            if _called_name(value) == "display" and value.args:
                value = value.args[0]
            shows = _called_name(value) in names or (isinstance(value, ast.Name) and value.id in bound)
        if re.search(r"\bplt\.(subplots|figure)\(", cell.source):
            shows = True
        if shows:
            shown.append(index)
    return shown


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_figure_has_a_caption(path):
    nb = nbformat.read(path, as_version=4)
    missing = []
    for index in figure_cells(nb):
        after = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        if after is None or after.cell_type != "markdown" or not after.source.lstrip().startswith(CAPTION):
            missing.append(f"cell {index} ({nb.cells[index].source.strip().splitlines()[-1][:60]!r})")
    assert not missing, (f"{path.name}: a figure must be followed by a markdown cell starting with "
                         f"'{CAPTION}'; missing after: " + "; ".join(missing))


def test_caption_finder_sees_figures():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("app = tangent_teaser()"), nbformat.v4.new_code_cell("app"),
                nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("fig, ax = plt.subplots()"),
                nbformat.v4.new_code_cell("%matplotlib widget\nslice_explorer(f)")]
    assert figure_cells(nb) == [1, 3, 4]


# --- colour maps --------------------------------------------------------------------------------

def _sources():
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                yield f"{path.name} cell {index}", cell.source
    for path in sorted((ROOT / "src" / "nablakit").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text()


def test_no_rainbow_colour_maps():
    found = [f"{where}: {m.group(0)}" for where, text in _sources() for m in _UNSAFE_RE.finditer(text)]
    assert not found, "use 'viridis' or 'cividis' (nablakit.plotting.CMAP) instead of:\n" + "\n".join(found)


# --- the factories' figures ---------------------------------------------------------------------

def _needs_arguments(func):
    return any(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in inspect.signature(func).parameters.values())


def build(name):
    """(Figure, sliders) made by factory ``name``.

    A factory with defaults for all its arguments is called without any;
    one that needs arguments is built by running its docstring example (the
    package's doctested example), and the figure that example made is used.
    """
    factory = FACTORIES[name]
    if not _needs_arguments(factory):
        made = factory()
        if isinstance(made, LiveFigure):
            return made.fig, made.sliders
        assert isinstance(made, Figure), f"{name} returned {type(made).__name__}, not a LiveFigure or Figure"
        return made, {}
    examples = doctest.DocTestParser().get_examples(inspect.getdoc(factory) or "")
    if not examples:
        pytest.skip(f"{name} needs arguments and has no docstring example to build it from")
    namespace = dict(vars(inspect.getmodule(factory)))
    before = set(plt.get_fignums())
    for example in examples:
        exec(compile(example.source, f"<{name} docstring>", "exec"), namespace)
    new = sorted(set(plt.get_fignums()) - before)
    assert new, f"the docstring example of {name} made no figure"
    fig = plt.figure(new[-1])
    sliders = next((v.sliders for v in namespace.values() if isinstance(v, LiveFigure) and v.fig is fig), {})
    for num in new[:-1]:
        plt.close(num)
    return fig, sliders


def _is_colorbar(ax):
    return hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"


def _has_label(ax, axis):
    """The axes, or an axes sharing that axis with it (shared axes label only the outer ones), is labelled."""
    group = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    siblings = group.get_siblings(ax) if hasattr(group, "get_siblings") else [ax]
    return any(getattr(a, f"get_{axis}label")().strip() for a in siblings)


def axes_problems(fig):
    problems = []
    axes = [ax for ax in fig.axes if not _is_colorbar(ax)]
    for number, ax in enumerate(axes):
        where = f"axes {number}"
        twins = ax._twinned_axes.get_siblings(ax) if hasattr(ax, "_twinned_axes") else [ax]
        titled = any(a.get_title().strip() or a.get_title(loc="left").strip() for a in twins)
        if not titled and not (len(axes) == 1 and fig._suptitle is not None):
            problems.append(f"{where} has no title")
        if not ax.axison:  # an image or a table drawn without axes needs only its title
            continue
        for axis in ("x", "y"):
            if not _has_label(ax, axis):
                problems.append(f"{where} ({ax.get_title()!r}) has no {axis} label")
        if ax.name == "3d" and not ax.get_zlabel().strip():
            problems.append(f"{where} ({ax.get_title()!r}) has no z label")
    return problems


def cmap_problems(fig):
    problems = []
    for ax in fig.axes:
        for artist in [*ax.collections, *ax.images]:
            if getattr(artist, "colors", None) is not None:  # contours in fixed colours map nothing
                continue
            cmap = artist.get_cmap() if hasattr(artist, "get_cmap") else None
            # artists drawn in fixed colours keep the default map, which is viridis
            if cmap is not None and cmap.name.removesuffix("_r") not in SAFE_CMAPS:
                problems.append(f"{type(artist).__name__} in {ax.get_title()!r} uses the colour map {cmap.name!r}")
    return problems


def slider_problems(sliders):
    problems = []
    for key, slider in sliders.items():
        text = (getattr(slider, "description", "") or "").strip()
        # at least one word of two letters: "step h", "angle θ (°)", not a bare "h"
        if not re.search(r"[^\W\d_]{2,}", text):
            problems.append(f"slider {key!r} has the label {text!r}: name the quantity (and its unit or symbol)")
        if hasattr(slider, "readout") and not slider.readout:
            problems.append(f"slider {key!r} hides its value (readout=False)")
    return problems


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_figure_is_accessible(name):
    """Titles and axis labels on every axes, safe colour maps, descriptive slider labels."""
    fig, sliders = build(name)
    try:
        problems = axes_problems(fig) + cmap_problems(fig) + slider_problems(sliders)
        if returns_type(FACTORIES[name]).startswith("LiveFigure"):
            assert sliders, f"{name} returns a LiveFigure without sliders"
    finally:
        plt.close(fig)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_factories_found():
    assert len(FACTORIES) >= 5, f"expected the widget factories of several chapters; found {sorted(FACTORIES)}"


def test_the_checks_catch_missing_labels_and_bad_maps():
    import ipywidgets as widgets

    fig, (ax, ax3) = plt.subplots(1, 2)
    ax.set_title("ok")
    ax.imshow(np.eye(3), cmap="jet")
    try:
        problems = axes_problems(fig) + cmap_problems(fig)
    finally:
        plt.close(fig)
    assert any("no x label" in p for p in problems) and any("axes 1 has no title" in p for p in problems)
    assert any("'jet'" in p for p in problems)
    assert slider_problems({"h": widgets.FloatSlider(description="h")})
    assert not slider_problems({"h": widgets.FloatSlider(description="step h")})
