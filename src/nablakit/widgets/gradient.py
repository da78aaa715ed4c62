"""Chapter 02 (The gradient vector): gradient fields, arrows and tangent planes.

The surfaces are the course's :mod:`nablakit.testfunctions` (paraboloid and
saddle by default). :func:`tangent_patch` computes the corners of a
patch of :func:`nablakit.calculus.tangent_plane` to draw;
:func:`quiver_fields_figure` and :func:`gradient_explorer` only draw.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import MaxNLocator

from nablakit._validate import as_float_array, check_positive
from nablakit.calculus import tangent_plane  # re-exported: the chapter's formula
from nablakit.landscape import grid_eval
from nablakit.plotting import CMAP, PALETTE, contour_plot, gradient_quiver, label_axes
from nablakit.testfunctions import TestFunction, get_test_function
from nablakit.widgets._base import live_figure, new_figure, slider

__all__ = ["FORMULAS", "tangent_plane", "tangent_patch", "quiver_fields_figure", "gradient_explorer"]

#: How the chapter writes the test surfaces, for titles.
FORMULAS = {
    "paraboloid": "$f = x^2 + y^2$",
    "saddle": "$f = x^2 - y^2$",
    "ravine": "$f = x^2 + \\kappa y^2$",
    "rosenbrock": "Rosenbrock",
    "beale": "Beale",
}


def _surface(function):
    if isinstance(function, TestFunction):
        return function
    if isinstance(function, str):
        return get_test_function(function)
    raise TypeError(f"function must be a test-function name such as 'saddle' or a TestFunction; "
                    f"got {type(function).__name__}")


def _title(tf):
    return f"{tf.name} {FORMULAS.get(tf.name, '')}".strip()


def tangent_patch(value, grad, center, half_width, *, xlim=None, ylim=None):
    """Outline and two axis-parallel tangent lines of a rectangle of tangent plane.

    The rectangle is ``[x0 - w, x0 + w] x [y0 - w, y0 + w]``, cut to ``xlim``
    and ``ylim`` when given (so it stays inside a plot window). The line at
    fixed ``y = y0`` has slope ``df/dx`` and the line at fixed ``x = x0``
    slope ``df/dy``: the two slice tangents of chapter 01 lie in the plane.

    Parameters
    ----------
    value : float
        ``f(x0, y0)``.
    grad : array_like of shape (2,)
        ``(df/dx, df/dy)`` at the point.
    center : array_like of shape (2,)
        ``(x0, y0)``.
    half_width : float
        ``w`` > 0.
    xlim, ylim : pair of float, optional
        Window to cut the rectangle to; it must contain the centre.

    Returns
    -------
    outline : ndarray of shape (5, 3)
        Corners (closed loop) as ``(x, y, z)`` rows.
    line_x, line_y : ndarray of shape (2, 3)
        End points of the tangent lines along x and along y.

    Raises
    ------
    ValueError
        If ``half_width`` is not positive, a shape is wrong, or the centre
        lies outside the window.

    Examples
    --------
    >>> outline, line_x, line_y = tangent_patch(0.0, [2.0, 0.0], [1.0, 0.0], 0.5)
    >>> line_x.tolist()
    [[0.5, 0.0, -1.0], [1.5, 0.0, 1.0]]
    >>> outline.shape, bool((outline[0] == outline[-1]).all())
    ((5, 3), True)
    >>> tangent_patch(0.0, [2.0, 0.0], [1.0, 0.0], 0.5, xlim=(-1, 1.2))[1][:, 0].tolist()
    [0.5, 1.2]
    """
    grad = as_float_array(grad, "grad", shape=(2,))
    center = as_float_array(center, "center", shape=(2,))
    w = check_positive(half_width, "half_width")
    lo, hi = center - w, center + w
    for i, (lim, name) in enumerate(((xlim, "xlim"), (ylim, "ylim"))):
        if lim is None:
            continue
        a, b = as_float_array(lim, name, shape=(2,))
        if not a <= center[i] <= b:
            raise ValueError(f"the centre {center.tolist()} must lie inside {name}={tuple(lim)}")
        lo[i], hi[i] = max(lo[i], a), min(hi[i], b)
    (x0, y0), (x1, y1) = lo, hi
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    along_x = np.array([[x0, center[1]], [x1, center[1]]])
    along_y = np.array([[center[0], y0], [center[0], y1]])

    def lift(xy):
        return np.column_stack([xy, tangent_plane(value, grad, center, xy)])

    return lift(corners), lift(along_x), lift(along_y)


def quiver_fields_figure(functions=("paraboloid", "saddle"), *, arrows=11, n=101):
    """Static figure: contour lines and gradient arrows of each surface.

    Parameters
    ----------
    functions : sequence of str or TestFunction, default ("paraboloid", "saddle")
        One panel per surface.
    arrows : int, default 11
        Arrows per axis (an odd number puts one on the origin).
    n : int, default 101
        Grid points per axis for the contour lines.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per surface; each holds its ``Quiver`` in ``ax.collections``.

    Raises
    ------
    TypeError
        If an entry is neither a name nor a TestFunction.
    ValueError
        If ``functions`` is empty, ``arrows < 2`` or a name is unknown.

    Examples
    --------
    >>> fig = quiver_fields_figure(["saddle"], arrows=3)
    >>> q = fig.axes[0].collections[-1]
    >>> np.allclose(q.U, 2 * q.get_offsets()[:, 0]), np.allclose(q.V, -2 * q.get_offsets()[:, 1])
    (True, True)
    """
    if isinstance(functions, (str, TestFunction)):
        functions = [functions]
    surfaces = [_surface(fn) for fn in functions]
    if not surfaces:
        raise ValueError("functions must name at least one surface")
    if isinstance(arrows, bool) or not isinstance(arrows, (int, np.integer)) or arrows < 2:
        raise ValueError(f"arrows must be an integer >= 2; got {arrows!r}")

    fig, axes = new_figure(1, len(surfaces), figsize=(5.2 * len(surfaces), 4.8), layout="constrained",
                           squeeze=False)
    for ax, tf in zip(axes[0], surfaces):
        X, Y, Z = grid_eval(tf.f, tf.xlim, tf.ylim, n=n)
        contour_plot(ax, X, Y, Z, levels=15)
        gx, gy = np.meshgrid(np.linspace(*tf.xlim, arrows), np.linspace(*tf.ylim, arrows))
        points = np.column_stack([gx.ravel(), gy.ravel()])
        vectors = np.asarray(tf.grad(points.T), dtype=float).T
        spacing = (tf.xlim[1] - tf.xlim[0]) / (arrows - 1)
        longest = float(np.linalg.norm(vectors, axis=1).max()) or 1.0
        gradient_quiver(ax, points, vectors, color=PALETTE["vermillion"], scale=longest / (0.9 * spacing))
        ax.plot(0, 0, "o", color=PALETTE["black"], ms=5)
        ax.set_aspect("equal")
        label_axes(ax, "$x$", "$y$", f"Gradient field of the {_title(tf)}")
    return fig


def gradient_explorer(function="paraboloid", *, x0=1.0, y0=0.5, half_width=0.5, n=41):
    """Move a point; see its gradient arrow on the contour map and its tangent plane.

    Left: contour lines with the arrow ``grad f`` at the point. Right: the
    surface in 3-D with the tangent plane's outline at the point and the two
    slice tangents (along x in orange, along y in blue) lying in that plane.

    Parameters
    ----------
    function : str or TestFunction, default "paraboloid"
        The surface, e.g. ``"paraboloid"`` or ``"saddle"``.
    x0, y0 : float
        Starting point, inside the surface's window.
    half_width : float, default 0.5
        Half the side of the drawn square of tangent plane (cut to the window).
    n : int, default 41
        Grid points per axis of the 3-D surface.

    Returns
    -------
    LiveFigure
        Sliders ``"x0"``, ``"y0"``; artists ``"point"``, ``"arrow"``
        (a Quiver), ``"text"``, ``"point3d"``, ``"plane"``, ``"line_x"``,
        ``"line_y"`` (the last four are 3-D lines).

    Raises
    ------
    TypeError
        If ``function`` is neither a name nor a TestFunction.
    ValueError
        If the point lies outside the window or ``half_width <= 0``.

    Examples
    --------
    >>> app = gradient_explorer("saddle")
    >>> app.sliders["y0"].value = 1.0
    >>> app.artists["arrow"].U.tolist(), app.artists["arrow"].V.tolist()
    ([2.0], [-2.0])
    """
    tf = _surface(function)
    x0, y0 = float(as_float_array(x0, "x0", ndim=0)), float(as_float_array(y0, "y0", ndim=0))
    (x_lo, x_hi), (y_lo, y_hi) = tf.xlim, tf.ylim
    if not (x_lo <= x0 <= x_hi and y_lo <= y0 <= y_hi):
        raise ValueError(f"the point ({x0}, {y0}) must lie in the window {tf.xlim} x {tf.ylim}")
    w = check_positive(half_width, "half_width")

    X, Y, Z = grid_eval(tf.f, tf.xlim, tf.ylim, n=n)
    G = np.asarray(tf.grad(np.stack([X, Y])), dtype=float)
    longest = float(np.linalg.norm(G, axis=0).max()) or 1.0
    reach = w * (np.abs(G[0]) + np.abs(G[1]))  # how far a patch can rise above or sink below f
    z_lo, z_hi = float((Z - reach).min()), float((Z + reach).max())
    arrow_scale = longest / (0.35 * (x_hi - x_lo))  # the longest arrow spans 35% of the map

    fig, (ax, placeholder) = new_figure(1, 2, figsize=(11, 4.8))
    placeholder.remove()  # the right panel needs a 3-D projection
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.12, top=0.9, wspace=0.15)

    contour_plot(ax, X, Y, Z, levels=15)
    arrow = gradient_quiver(ax, [[x0, y0]], [[0.0, 0.0]], color=PALETTE["vermillion"], scale=arrow_scale)
    arrow.set_zorder(3)
    (point,) = ax.plot([x0], [y0], "o", color=PALETTE["black"], ms=7, zorder=4)
    text = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", family="monospace",
                   bbox={"facecolor": "white", "edgecolor": "0.7"}, zorder=5)
    ax.set(xlim=tf.xlim, ylim=tf.ylim, aspect="equal")
    label_axes(ax, "$x$", "$y$", f"Gradient arrow on the {_title(tf)}")

    ax3.plot_surface(X, Y, Z, cmap=CMAP, alpha=0.55, linewidth=0, antialiased=True)
    (plane,) = ax3.plot([], [], [], color=PALETTE["black"], lw=1.5, label="tangent plane (edge)")
    (line_x,) = ax3.plot([], [], [], color=PALETTE["orange"], lw=2.5, label="tangent along x")
    (line_y,) = ax3.plot([], [], [], color=PALETTE["blue"], lw=2.5, label="tangent along y")
    (point3d,) = ax3.plot([], [], [], "o", color=PALETTE["black"], ms=6)
    ax3.set(xlim=tf.xlim, ylim=tf.ylim, zlim=(z_lo, z_hi), xlabel="$x$", ylabel="$y$", zlabel="$f$",
            title="Surface and tangent plane")
    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
        axis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax3.legend(loc="upper left", fontsize="small")

    step_x, step_y = (x_hi - x_lo) / 40, (y_hi - y_lo) / 40
    sliders = {
        "x0": slider(widgets.FloatSlider, "point x₀", value=x0, min=x_lo, max=x_hi, step=step_x,
                     readout_format=".2f"),
        "y0": slider(widgets.FloatSlider, "point y₀", value=y0, min=y_lo, max=y_hi, step=step_y,
                     readout_format=".2f"),
    }

    def update(x0, y0):
        here = np.array([x0, y0])
        value = float(tf.f(here))
        grad = np.asarray(tf.grad(here), dtype=float)
        point.set_data([x0], [y0])
        arrow.set_offsets([[x0, y0]])
        arrow.set_UVC([grad[0]], [grad[1]])
        text.set_text(f"∇f = ({grad[0]:+.2f}, {grad[1]:+.2f})\n|∇f| = {np.linalg.norm(grad):.2f}")
        outline, along_x, along_y = tangent_patch(value, grad, here, w, xlim=tf.xlim, ylim=tf.ylim)
        plane.set_data_3d(*outline.T)
        line_x.set_data_3d(*along_x.T)
        line_y.set_data_3d(*along_y.T)
        point3d.set_data_3d([x0], [y0], [value])

    artists = {"point": point, "arrow": arrow, "text": text, "point3d": point3d, "plane": plane,
               "line_x": line_x, "line_y": line_y}
    return live_figure(fig, sliders, artists, update)
