"""Chapter 04 (Directional derivatives): a direction turning around a point.

The chapter's running example is the bowl ``f(x, y) = x**2 + 2 y**2`` at the
point ``a = (1.5, 1)``, where ``grad f(a) = (3, 4)`` has length 5. Turning a
unit direction ``u = (cos theta, sin theta)`` around ``a`` traces the slope
``D_u f(a) = 5 cos(theta - phi)``, a cosine whose peak sits at the gradient's
own angle ``phi``.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit._validate import as_float_array
from nablakit.calculus import direction_from_angle, directional_profile, level_tangent  # profile re-exported
from nablakit.plotting import PALETTE
from nablakit.testfunctions import ravine
from nablakit.widgets._base import live_figure, new_figure, slider

__all__ = [
    "EXAMPLE_POINT",
    "EXAMPLE_FUNCTION",
    "example_f",
    "example_grad",
    "directional_profile",
    "direction_explorer",
    "subgradient_figure",
]

#: The point of the chapter's running example.
EXAMPLE_POINT = (1.5, 1.0)


#: The chapter's bowl ``f(x, y) = x**2 + 2 y**2``: the course's ravine with kappa = 2.
EXAMPLE_FUNCTION = ravine(kappa=2)
#: Its value, ``example_f([1.5, 1.0]) == 4.25``; points of shape (2, ...) as in :mod:`nablakit.testfunctions`.
example_f = EXAMPLE_FUNCTION.f
#: Its gradient ``(2x, 4y)``.
example_grad = EXAMPLE_FUNCTION.grad


def _arrow(ax, color, label):
    # Arrows in data units, so a unit vector is drawn exactly one unit long.
    return ax.quiver([0.0], [0.0], [0.0], [0.0], angles="xy", scale_units="xy", scale=1,
                     color=color, width=0.012, zorder=4, label=label)


def direction_explorer(theta_deg=0.0, point=EXAMPLE_POINT):
    """Angle slider turning a unit direction around a point of ``x**2 + 2 y**2``.

    Left: contours of :func:`example_f`, the point, the unit gradient
    direction (fixed), the level-curve tangent (dashed) and the direction
    ``u`` (moves). Right: the curve ``theta -> D_u f`` for a full turn, its
    maximum and minimum marked, and a marker at the slider's angle.

    Parameters
    ----------
    theta_deg : float, default 0.0
        Starting angle of ``u`` in degrees, in [0, 360].
    point : array_like of shape (2,), default (1.5, 1.0)
        Where the derivatives are taken; the gradient there must not vanish.

    Returns
    -------
    LiveFigure
        Slider ``"theta"`` (degrees); artists ``"direction"`` (Quiver from the
        point, components ``u``), ``"shadow"`` (Line2D: the unit gradient's
        projection onto ``u``), ``"marker"`` (Line2D at ``(theta, D_u f)``)
        and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``theta_deg`` is outside [0, 360] or the gradient vanishes at ``point``.

    Examples
    --------
    >>> app = direction_explorer()
    >>> app.sliders["theta"].value = 90.0
    >>> x, y = app.artists["marker"].get_data()
    >>> bool(np.isclose(x[0], 90.0) and np.isclose(y[0], 4.0))
    True
    """
    theta_deg = float(as_float_array(theta_deg, "theta_deg", ndim=0))
    if not 0.0 <= theta_deg <= 360.0:
        raise ValueError(f"theta_deg must lie in [0, 360]; got {theta_deg}")
    a = as_float_array(point, "point", shape=(2,))
    g = example_grad(a)
    tangent = level_tangent(g)
    if tangent is None:
        raise ValueError(f"the gradient vanishes at point {a.tolist()}; no direction is special there")
    norm = float(np.linalg.norm(g))
    phi = float(np.degrees(np.arctan2(g[1], g[0]))) % 360.0

    fig, (ax_map, ax_curve) = new_figure(1, 2, figsize=(10.5, 4.4), layout="constrained")

    xs = np.linspace(a[0] - 2.0, a[0] + 2.0, 161)
    ys = np.linspace(a[1] - 2.0, a[1] + 2.0, 161)
    X, Y = np.meshgrid(xs, ys)
    Z = example_f(np.stack([X, Y]))
    ax_map.contour(X, Y, Z, levels=12, cmap="viridis", linewidths=1)
    ax_map.contour(X, Y, Z, levels=[example_f(a)], colors=[PALETTE["black"]], linewidths=1.5)
    ends = a + np.outer([-1.6, 1.6], tangent)
    ax_map.plot(ends[:, 0], ends[:, 1], ls="--", color=PALETTE["bluish_green"], lw=1.5,
                label="level direction ($D_u f = 0$)")
    ax_map.quiver([a[0]], [a[1]], [g[0] / norm], [g[1] / norm], angles="xy", scale_units="xy", scale=1,
                  color=PALETTE["blue"], width=0.012, zorder=3, label=r"$\nabla f / \|\nabla f\|$")
    direction = _arrow(ax_map, PALETTE["vermillion"], "direction $u$")
    direction.set_offsets(np.array([a]))
    (drop,) = ax_map.plot([], [], ls=":", color=PALETTE["black"], lw=1.2)
    (shadow,) = ax_map.plot([], [], color=PALETTE["orange"], lw=3.5, solid_capstyle="butt", zorder=6,
                            label=r"shadow of $\nabla f / \|\nabla f\|$ on the line of $u$")
    ax_map.plot(*a, "o", color=PALETTE["black"], ms=6, zorder=5)
    ax_map.set(xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), aspect="equal", xlabel="$x$", ylabel="$y$",
               title=r"Contours of $f = x^2 + 2y^2$ and a direction $u$")
    ax_map.legend(loc="lower left", fontsize=8)

    degrees = np.linspace(0.0, 360.0, 361)
    ax_curve.plot(degrees, directional_profile(g, np.radians(degrees)), color=PALETTE["blue"], lw=2,
                  label=r"$D_u f = \nabla f \cdot u$")
    ax_curve.axhline(0.0, color="0.6", lw=1)
    low = (phi + 180.0) % 360.0
    ax_curve.plot([phi], [norm], "^", color=PALETTE["bluish_green"], ms=10,
                  label=rf"max $+\|\nabla f\| = {norm:.3g}$ at {phi:.1f}°")
    ax_curve.plot([low], [-norm], "v", color=PALETTE["reddish_purple"], ms=10,
                  label=rf"min $-\|\nabla f\| = {-norm:.3g}$ at {low:.1f}°")
    (marker,) = ax_curve.plot([], [], "o", color=PALETTE["vermillion"], ms=9, zorder=5, label="current $u$")
    label = ax_curve.text(0.02, 0.04, "", transform=ax_curve.transAxes, va="bottom", family="monospace",
                          bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax_curve.set(xlim=(0, 360), ylim=(-1.35 * norm, 1.35 * norm), xticks=range(0, 361, 45),
                 xlabel=r"angle $\theta$ of $u$ (degrees)", ylabel=r"$D_u f(a)$",
                 title=r"Slope along $u = (\cos\theta, \sin\theta)$")
    ax_curve.grid(alpha=0.3)
    ax_curve.legend(loc="upper right", fontsize=8)

    angle = slider(widgets.FloatSlider, "angle θ (°)", value=theta_deg, min=0.0, max=360.0, step=1.0,
                   readout_format=".0f")

    def update(theta):
        u = direction_from_angle(np.radians(theta))
        slope = float(g @ u)
        direction.set_UVC([u[0]], [u[1]])
        foot = a + (slope / norm) * u
        tip = a + g / norm
        shadow.set_data([a[0], foot[0]], [a[1], foot[1]])
        drop.set_data([tip[0], foot[0]], [tip[1], foot[1]])
        marker.set_data([theta], [slope])
        label.set_text(f"θ = {theta:5.1f}°\nu = ({u[0]:+.3f}, {u[1]:+.3f})\nD_u f = {slope:+.3f}")

    return live_figure(fig, {"theta": angle},
                       {"direction": direction, "shadow": shadow, "drop": drop, "marker": marker,
                        "label": label}, update)


def subgradient_figure():
    """Static figure: supporting lines of ``|x|`` and ``ReLU(x)`` at the kink.

    Each dashed line through the origin with a slope ``g`` from the
    subdifferential (``[-1, 1]`` for ``|x|``, ``[0, 1]`` for ReLU) stays on or
    below the graph everywhere, which is what makes ``g`` a subgradient.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: ``|x|`` and ``ReLU``.

    Examples
    --------
    >>> fig = subgradient_figure()
    >>> [ax.get_title() for ax in fig.axes]
    ['$|x|$: any slope in $[-1, 1]$ supports the kink', 'ReLU: any slope in $[0, 1]$ supports the kink']
    """
    xs = np.linspace(-2.0, 2.0, 201)
    colours = [PALETTE[c] for c in ("blue", "bluish_green", "orange", "reddish_purple", "sky_blue")]
    fig, axes = new_figure(1, 2, figsize=(10, 3.8), layout="constrained")
    panels = [
        (axes[0], np.abs(xs), (-1.0, -0.5, 0.0, 0.5, 1.0), "$|x|$", "$|x|$: any slope in $[-1, 1]$ supports the kink"),
        (axes[1], np.maximum(xs, 0.0), (0.0, 0.25, 0.5, 0.75, 1.0), r"$\mathrm{ReLU}(x)$",
         "ReLU: any slope in $[0, 1]$ supports the kink"),
    ]
    for ax, values, slopes, name, title in panels:
        ax.plot(xs, values, color=PALETTE["black"], lw=2.5, label=name)
        for g, colour in zip(slopes, colours):
            ax.plot(xs, g * xs, ls="--", lw=1.3, color=colour, label=f"slope $g = {g:g}$")
        ax.plot([0.0], [0.0], "o", color=PALETTE["vermillion"], ms=7, zorder=5)
        ax.set(xlim=(-2, 2), ylim=(-1.2, 2.2), xlabel="$x$", ylabel="value", title=title)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", fontsize=8, ncol=2)
    return fig
