"""Chapter 00 (Welcome): the environment report and a first live slider."""

from __future__ import annotations

import platform
from importlib import metadata

import ipywidgets as widgets
import numpy as np

from nablakit._validate import as_float_array
from nablakit.calculus import tangent_plane
from nablakit.plotting import PALETTE
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = ["PACKAGES", "environment_versions", "missing_packages", "parabola_tangent", "tangent_teaser"]

#: The distributions the course needs in the kernel, in the order reported.
PACKAGES = ("numpy", "matplotlib", "ipywidgets", "ipympl", "sympy", "nablakit")


def environment_versions(packages=PACKAGES):
    """Return the Python version and the installed version of each package.

    Parameters
    ----------
    packages : sequence of str, optional
        Distribution names to look up.

    Returns
    -------
    dict of str to str
        ``"python"`` first, then each package; a missing one maps to
        ``"not installed"``.

    Examples
    --------
    >>> versions = environment_versions(["numpy", "surely-not-a-package"])
    >>> list(versions)
    ['python', 'numpy', 'surely-not-a-package']
    >>> versions["surely-not-a-package"]
    'not installed'
    """
    if isinstance(packages, str):
        raise TypeError("packages must be a sequence of names, not a single string")
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def missing_packages(versions):
    """Return the names in ``versions`` that are not installed.

    Examples
    --------
    >>> missing_packages({"python": "3.12.1", "ipympl": "not installed"})
    ['ipympl']
    """
    return [name for name, version in versions.items() if version == "not installed"]


def parabola_tangent(x0, x):
    """Tangent line of ``y = x**2`` at ``x0``, evaluated at ``x``.

    Parameters
    ----------
    x0 : float
        Where the line touches the parabola.
    x : array_like
        Where to evaluate the line.

    Returns
    -------
    ndarray
        ``x0**2 + 2 * x0 * (x - x0)``, the same shape as ``x``.

    Examples
    --------
    >>> parabola_tangent(3.0, [3.0, 4.0])
    array([ 9., 15.])
    """
    x0 = float(as_float_array(x0, "x0", ndim=0))
    x = as_float_array(x, "x")
    return tangent_plane(x0**2, [2.0 * x0], [x0], x[..., None])


def tangent_teaser(x0=1.0):
    """A slider moving a point along ``y = x**2``, with its tangent and slope.

    It proves that widgets are live: dragging the slider must move the point,
    turn the tangent line and update the slope printed in the title box.

    Parameters
    ----------
    x0 : float, default 1.0
        Starting position of the point, in [-2, 2].

    Returns
    -------
    LiveFigure
        Slider ``"x0"``; artists ``"point"``, ``"tangent"``, ``"label"``.

    Raises
    ------
    ValueError
        If ``x0`` lies outside [-2, 2].

    Examples
    --------
    >>> app = tangent_teaser()
    >>> app.sliders["x0"].value = 2.0
    >>> app.artists["point"].get_data()
    ([2.0], [4.0])
    """
    x0 = float(as_float_array(x0, "x0", ndim=0))
    if not -2.0 <= x0 <= 2.0:
        raise ValueError(f"x0 must lie in [-2, 2]; got {x0}")
    xs = np.linspace(-2.5, 2.5, 201)
    fig, ax = new_figure(figsize=(6, 4), layout="constrained")
    ax.plot(xs, xs**2, color=PALETTE["blue"], lw=2, label="$y = x^2$")
    (tangent,) = ax.plot(xs, parabola_tangent(x0, xs), color=PALETTE["vermillion"], lw=1.5, ls="--",
                         label="tangent line")
    (point,) = ax.plot([x0], [x0**2], "o", color=PALETTE["black"], ms=8)
    label = ax.text(0.03, 0.95, "", transform=ax.transAxes, va="top",
                    bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.set(xlim=(-2.5, 2.5), ylim=(-2, 6.5), xlabel="$x$", ylabel="$y$",
           title="A live slider: the tangent to $y = x^2$")
    ax.grid(alpha=0.3)
    legend_outside(ax, side="below", ncol=2, fontsize=9)

    x_slider = slider(widgets.FloatSlider, "point x₀", value=x0, min=-2.0, max=2.0, step=0.1,
                      readout_format=".1f")

    def update(x0):
        point.set_data([x0], [x0**2])
        tangent.set_ydata(parabola_tangent(x0, xs))
        label.set_text(f"x₀ = {x0:.1f}\nslope 2x₀ = {2 * x0:.1f}")

    return live_figure(fig, {"x0": x_slider}, {"point": point, "tangent": tangent, "label": label}, update)
