"""Chapter 01 (Partial derivatives): slices, secants and two warning examples.

The maths is :func:`nablakit.calculus.partial_difference_quotient` and
:func:`nablakit.numdiff.numerical_gradient`; the factories only draw. Every factory takes the learner's own function
``f(x, y)``, so a notebook defines ``f`` once and can change it.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib import patheffects

from nablakit._validate import as_float, as_float_array, check_callable, check_choice, check_interval, check_positive
from nablakit.calculus import partial_difference_quotient
from nablakit.landscape import eval_xy
from nablakit.numdiff import central_difference, numerical_gradient
from nablakit.plotting import CMAP, PALETTE
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = [
    "slice_explorer",
    "secant_explorer",
    "mixed_partials_figure",
    "paths_figure",
]

_AXES = ("x", "y")
_HALO = [patheffects.withStroke(linewidth=4, foreground="white")]  # keeps lines visible on dark colours


def _grid_values(f, xs, ys):
    """``f`` on the grid ``xs x ys``: ``X, Y, Z`` as :func:`matplotlib.pyplot.contour` takes them."""
    X, Y = np.meshgrid(xs, ys)
    return X, Y, eval_xy(f, X, Y)


def slice_explorer(f, *, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), x0=1.0, y0=1.0, n=81):
    """Contour map of ``f`` beside its two slices through a movable point.

    The left panel shows ``f(x, y)`` from above with the lines ``y = y0`` and
    ``x = x0``; the middle panel is the slice ``x -> f(x, y0)`` and the right
    one ``y -> f(x0, y)``, each with its tangent line at the point. The
    tangents' slopes are the two partial derivatives.

    Parameters
    ----------
    f : callable
        ``f(x, y)``; vectorised over NumPy arrays is faster, scalar works.
    xlim, ylim : tuple of float
        The plotted rectangle, also the sliders' ranges.
    x0, y0 : float
        Starting point.
    n : int, default 81
        Grid points per axis.

    Returns
    -------
    LiveFigure
        Sliders ``"x0"``, ``"y0"``; artists ``"hline"``, ``"vline"``,
        ``"point"``, ``"slice_x"``, ``"slice_y"``, ``"dot_x"``, ``"dot_y"``,
        ``"tangent_x"``, ``"tangent_y"``, ``"text_x"``, ``"text_y"``.

    Raises
    ------
    TypeError
        If ``f`` is not callable.
    ValueError
        If a range is empty or the point lies outside it.

    Examples
    --------
    >>> app = slice_explorer(lambda x, y: x * y)
    >>> app.sliders["y0"].value = 2.0
    >>> np.allclose(app.artists["slice_x"].get_ydata(), 2.0 * app.artists["slice_x"].get_xdata())
    True
    """
    check_callable(f, "f")
    (x_lo, x_hi), (y_lo, y_hi) = check_interval(xlim, "xlim"), check_interval(ylim, "ylim")
    x0, y0 = as_float(x0, "x0"), as_float(y0, "y0")
    if not (x_lo <= x0 <= x_hi and y_lo <= y0 <= y_hi):
        raise ValueError(f"the point ({x0}, {y0}) must lie inside xlim={xlim} and ylim={ylim}")
    xs, ys = np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n)
    X, Y, Z = _grid_values(f, xs, ys)
    pad = 0.08 * (Z.max() - Z.min() + 1e-12)
    zlim = (Z.min() - pad, Z.max() + pad)
    cx, cy = PALETTE["orange"], PALETTE["blue"]

    fig, (ax_map, ax_x, ax_y) = new_figure(1, 3, figsize=(12, 3.8), layout="constrained")
    filled = ax_map.contourf(X, Y, Z, levels=20, cmap=CMAP)
    fig.colorbar(filled, ax=ax_map, label="$f(x, y)$")
    hline = ax_map.axhline(y0, color=cx, lw=2, path_effects=_HALO)
    vline = ax_map.axvline(x0, color=cy, lw=2, path_effects=_HALO)
    (point,) = ax_map.plot([x0], [y0], "o", color=PALETTE["black"], ms=7, mec="white")
    ax_map.set(xlabel="$x$", ylabel="$y$", title="$f(x, y)$ seen from above")

    def slice_panel(ax, grid, color, label, var):
        (curve,) = ax.plot(grid, np.zeros_like(grid), color=color, lw=2, label=label)
        (tangent,) = ax.plot(grid, np.zeros_like(grid), color=PALETTE["black"], lw=1.2, ls="--",
                             label="tangent line")
        (dot,) = ax.plot([0.0], [0.0], "o", color=PALETTE["black"], ms=7)
        text = ax.text(0.03, 0.96, "", transform=ax.transAxes, va="top",
                       bbox={"facecolor": "white", "edgecolor": "0.7"})
        ax.set(xlim=(grid[0], grid[-1]), ylim=zlim, xlabel=f"${var}$", ylabel="$f$")
        ax.grid(alpha=0.3)
        legend_outside(ax, side="below", ncol=2, fontsize="small")
        return curve, tangent, dot, text

    slice_x, tangent_x, dot_x, text_x = slice_panel(ax_x, xs, cx, "$x \\mapsto f(x, y_0)$", "x")
    slice_y, tangent_y, dot_y, text_y = slice_panel(ax_y, ys, cy, "$y \\mapsto f(x_0, y)$", "y")
    ax_x.set_title("slice at fixed $y = y_0$")
    ax_y.set_title("slice at fixed $x = x_0$")

    step_x, step_y = (x_hi - x_lo) / 40, (y_hi - y_lo) / 40
    sliders = {
        "x0": slider(widgets.FloatSlider, "fixed x = x₀", value=x0, min=x_lo, max=x_hi, step=step_x,
                     readout_format=".2f"),
        "y0": slider(widgets.FloatSlider, "fixed y = y₀", value=y0, min=y_lo, max=y_hi, step=step_y,
                     readout_format=".2f"),
    }

    def update(x0, y0):
        z0 = float(f(x0, y0))
        fx, fy = numerical_gradient(lambda p: f(p[0], p[1]), [x0, y0])
        hline.set_ydata([y0, y0])
        vline.set_xdata([x0, x0])
        point.set_data([x0], [y0])
        slice_x.set_ydata(eval_xy(f, xs, y0))
        slice_y.set_ydata(eval_xy(f, x0, ys))
        tangent_x.set_ydata(z0 + fx * (xs - x0))
        tangent_y.set_ydata(z0 + fy * (ys - y0))
        dot_x.set_data([x0], [z0])
        dot_y.set_data([y0], [z0])
        text_x.set_text(f"$y_0$ = {y0:.2f}\n∂f/∂x = {fx:.3f}")
        text_y.set_text(f"$x_0$ = {x0:.2f}\n∂f/∂y = {fy:.3f}")

    artists = {
        "hline": hline, "vline": vline, "point": point, "slice_x": slice_x, "slice_y": slice_y,
        "dot_x": dot_x, "dot_y": dot_y, "tangent_x": tangent_x, "tangent_y": tangent_y,
        "text_x": text_x, "text_y": text_y,
    }
    return live_figure(fig, sliders, artists, update)


def secant_explorer(f, *, x0=1.0, y0=1.0, axis="x", h=1.0, h_min=1e-3, h_max=1.0, half_width=1.5):
    """Secant of a slice of ``f`` through the point and the point moved by ``h``.

    As the slider shrinks ``h``, the secant turns into the tangent and the
    difference quotient (its slope) approaches the partial derivative.

    Parameters
    ----------
    f : callable
        ``f(x, y)`` returning a real number.
    x0, y0 : float
        The point where the partial derivative is taken.
    axis : {"x", "y"}, default "x"
        Which partial derivative: the slice in x (y fixed) or in y.
    h : float, default 1.0
        Starting step, within ``[h_min, h_max]``.
    h_min, h_max : float
        Range of the logarithmic h slider, ``0 < h_min < h_max``.
    half_width : float, default 1.5
        The slice is drawn on ``[c - half_width, c + half_width]``.

    Returns
    -------
    LiveFigure
        Slider ``"h"``; artists ``"moved"`` (the point at distance h),
        ``"secant"``, ``"tangent"``, ``"text"``.

    Raises
    ------
    ValueError
        For a bad axis or an h range that is not ``0 < h_min <= h <= h_max``.
    TypeError
        If ``f`` is not callable.

    Examples
    --------
    >>> app = secant_explorer(lambda x, y: x**2 * y)
    >>> app.sliders["h"].value = 0.5
    >>> round(float(np.diff(app.artists["secant"].get_ydata()[:2])[0] /
    ...             np.diff(app.artists["secant"].get_xdata()[:2])[0]), 6)
    2.5
    """
    check_callable(f, "f")
    check_choice(axis, "axis", _AXES)
    x0, y0 = as_float(x0, "x0"), as_float(y0, "y0")
    h_min, h_max, h = check_positive(h_min, "h_min"), check_positive(h_max, "h_max"), check_positive(h, "h")
    if not h_min <= h <= h_max:
        raise ValueError(f"h must lie in [h_min, h_max] = [{h_min}, {h_max}]; got {h}")
    half_width = check_positive(half_width, "half_width")

    centre = x0 if axis == "x" else y0
    g = (lambda t: float(f(t, y0))) if axis == "x" else (lambda t: float(f(x0, t)))
    ts = np.linspace(centre - half_width, centre + half_width, 201)
    gs = eval_xy(f, ts, y0) if axis == "x" else eval_xy(f, x0, ts)
    g0 = g(centre)
    slope = numerical_gradient(lambda p: f(p[0], p[1]), [x0, y0])[_AXES.index(axis)]
    fixed = f"y = {y0:g}" if axis == "x" else f"x = {x0:g}"

    fig, ax = new_figure(figsize=(7, 4.2), layout="constrained")
    ax.plot(ts, gs, color=PALETTE["blue"], lw=2, label=f"slice of $f$ at {fixed}")
    (tangent,) = ax.plot(ts, g0 + slope * (ts - centre), color=PALETTE["black"], lw=1.2, ls="--",
                         label=f"tangent, slope ∂f/∂{axis} = {slope:.4f}")
    (secant,) = ax.plot(ts, np.zeros_like(ts), color=PALETTE["orange"], lw=2, label="secant")
    ax.plot([centre], [g0], "o", color=PALETTE["black"], ms=7)
    (moved,) = ax.plot([centre], [g0], "o", color=PALETTE["orange"], ms=7)
    text = ax.text(0.03, 0.96, "", transform=ax.transAxes, va="top", family="monospace",
                   bbox={"facecolor": "white", "edgecolor": "0.7"})
    span = gs.max() - gs.min() + 1e-12
    ax.set(xlim=(ts[0], ts[-1]), ylim=(gs.min() - 0.1 * span, gs.max() + 0.1 * span),
           xlabel=f"${axis}$", ylabel="$f$", title=f"Secant → tangent: ∂f/∂{axis} at ({x0:g}, {y0:g})")
    ax.grid(alpha=0.3)
    legend_outside(ax, side="below", ncol=2, fontsize="small")

    h_slider = slider(widgets.FloatLogSlider, "step h", value=h, base=10, min=np.log10(h_min), max=np.log10(h_max),
                      step=0.05, readout_format=".4f")

    def update(h):
        quotient = partial_difference_quotient(f, x0, y0, h, axis=axis)
        moved.set_data([centre + h], [g(centre + h)])
        secant.set_ydata(g0 + quotient * (ts - centre))
        text.set_text(f"h = {h:.4f}\nquotient = {quotient:.5f}\nlimit    = {slope:.5f}")

    return live_figure(fig, {"h": h_slider}, {"moved": moved, "secant": secant, "tangent": tangent, "text": text},
                       update, moving=[moved, secant, text])


def mixed_partials_figure(g, *, half_width=1.0, n=81, h=1e-6):
    """Static figure of Clairaut's counterexample and its two mixed partials.

    Left: contour map of ``g``. Right: the numerical first partials along the
    axes, ``y -> dg/dx(0, y)`` and ``x -> dg/dy(x, 0)``; their slopes at 0 are
    the two mixed second partials.

    Parameters
    ----------
    g : callable
        ``g(x, y)`` (scalar or vectorised), defined at the origin too.
    half_width : float, default 1.0
        The map shows ``[-half_width, half_width]**2``.
    n : int, default 81
        Grid points per axis.
    h : float, default 1e-6
        Step of the centred differences for the first partials.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If ``g`` is not callable.

    Examples
    --------
    >>> fig = mixed_partials_figure(lambda x, y: x * y)
    >>> len(fig.axes) >= 2
    True
    """
    check_callable(g, "g")
    half_width, h = check_positive(half_width, "half_width"), check_positive(h, "h")
    xs = np.linspace(-half_width, half_width, n)
    X, Y, Z = _grid_values(g, xs, xs)
    gx_on_y_axis = np.array([central_difference(lambda t: float(g(t, s)), 0.0, h=h) for s in xs])
    gy_on_x_axis = np.array([central_difference(lambda t: float(g(s, t)), 0.0, h=h) for s in xs])

    fig, (ax_map, ax_lines) = new_figure(1, 2, figsize=(10, 4), layout="constrained")
    filled = ax_map.contourf(X, Y, Z, levels=21, cmap="cividis")
    fig.colorbar(filled, ax=ax_map, label="$g(x, y)$")
    ax_map.axhline(0, color=PALETTE["blue"], lw=2, path_effects=_HALO)
    ax_map.axvline(0, color=PALETTE["orange"], lw=2, path_effects=_HALO)
    ax_map.set(xlabel="$x$", ylabel="$y$", title="$g(x, y)$ seen from above", aspect="equal")
    ax_lines.plot(xs, gx_on_y_axis, color=PALETTE["orange"], lw=2,
                  label="$t \\mapsto \\partial g/\\partial x\\,(0, t)$")
    ax_lines.plot(xs, gy_on_x_axis, color=PALETTE["blue"], lw=2, ls="--",
                  label="$t \\mapsto \\partial g/\\partial y\\,(t, 0)$")
    ax_lines.set(xlabel="$t$ (position along the axis)", ylabel="first partial derivative",
                 title="Slopes at $t = 0$ are the mixed partials")
    ax_lines.grid(alpha=0.3)
    ax_lines.legend(loc="upper center")
    return fig


def paths_figure(k, *, slopes=(0.0, 0.5, 1.0, -1.0), half_width=1.0, n=81):
    """Static figure: ``k`` near the origin and its values along straight paths.

    Left: contour map of ``k`` with the paths ``y = m x`` drawn in. Right:
    ``t -> k(t, m t)`` for each slope ``m``, as ``t`` runs towards 0 (``t`` is
    the x-coordinate of the point; its distance to the origin is
    ``t * sqrt(1 + m**2)``). Flat lines at different heights mean the limit
    at the origin depends on the path, so ``k`` is not continuous there.

    Parameters
    ----------
    k : callable
        ``k(x, y)`` (scalar or vectorised), defined at the origin too.
    slopes : sequence of float
        The paths' slopes ``m``.
    half_width : float, default 1.0
        The map shows ``[-half_width, half_width]**2``.
    n : int, default 81
        Grid points per axis (odd, so the origin is a grid point).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If ``k`` is not callable.
    ValueError
        If ``slopes`` is empty or not finite.

    Examples
    --------
    >>> fig = paths_figure(lambda x, y: x + y, slopes=[0.0, 1.0])
    >>> len(fig.axes[1].lines)
    2
    """
    check_callable(k, "k")
    slopes = as_float_array(slopes, "slopes", ndim=1)
    half_width = check_positive(half_width, "half_width")
    xs = np.linspace(-half_width, half_width, n)
    X, Y, Z = _grid_values(k, xs, xs)
    colors = [PALETTE[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue")]
    ts = np.geomspace(1e-4, half_width, 60)

    fig, (ax_map, ax_paths) = new_figure(1, 2, figsize=(10, 4), layout="constrained")
    filled = ax_map.contourf(X, Y, Z, levels=21, cmap="cividis")
    fig.colorbar(filled, ax=ax_map, label="$k(x, y)$")
    for i, m in enumerate(slopes):
        color = colors[i % len(colors)]
        ax_map.plot(xs, m * xs, color=color, lw=1.5, path_effects=_HALO)
        values = [float(k(t, m * t)) for t in ts]
        ax_paths.plot(ts, values, color=color, lw=2, label=f"path $y = m x$, $m = {m:g}$")
    ax_map.set(xlim=(-half_width, half_width), ylim=(-half_width, half_width), xlabel="$x$", ylabel="$y$",
               title="$k(x, y)$ with straight paths into the origin", aspect="equal")
    ax_paths.set(xscale="log", xlabel="$t$, the $x$-coordinate of $(t, m t)$ (log scale)", ylabel="$k(t, m t)$",
                 title="Values along each path as $t \\to 0$")
    ax_paths.invert_xaxis()
    ax_paths.grid(alpha=0.3)
    ax_paths.legend(loc="center left", fontsize="small")
    return fig
