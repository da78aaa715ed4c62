"""Chapter 05 (Level sets): ellipses of quadratic forms and the gradient across them.

For a symmetric positive definite ``A`` the level set ``x^T A x = c`` is an
ellipse with axes along the eigenvectors of ``A`` and semi-axes
``sqrt(c / lambda_i)``. The widgets draw those ellipses from that
parametrisation (no re-contouring in a callback): one slider moves the level
``c``, the other stretches ``x**2 + kappa y**2`` by its condition number.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib
import numpy as np

from nablakit._validate import as_float_array, check_positive
from nablakit.calculus import level_tangent, unit_vector
from nablakit.plotting import PALETTE
from nablakit.calculus import angle_between  # re-exported: the chapter measures angles with it
from nablakit.level_sets import check_spd, quadratic_form, quadratic_level_curve, wavy_f, wavy_grad  # re-exported
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = [
    "EXAMPLE_MATRIX",
    "check_spd",
    "quadratic_form",
    "quadratic_level_curve",
    "angle_between",
    "level_value_explorer",
    "condition_number_explorer",
    "wavy_f",
    "wavy_grad",
    "gradient_contour_figure",
]

#: The chapter's tilted quadratic form ``5x**2 + 4xy + 2y**2`` (eigenvalues 1 and 6).
EXAMPLE_MATRIX = ((5.0, 2.0), (2.0, 2.0))

#: The levels drawn by :func:`condition_number_explorer`.
KAPPA_LEVELS = (0.25, 1.0, 2.25, 4.0)


def level_value_explorer(c=2.0, A=EXAMPLE_MATRIX, *, arrows=8, arrow_scale=0.1):
    """Slider moving the highlighted level curve ``x^T A x = c``, with gradient arrows on it.

    Filled contours of the quadratic form stay in the background; the
    highlighted ellipse and the gradient arrows ``2 A p`` (drawn
    ``arrow_scale`` times their length) at ``arrows`` points on it move with
    the slider. The arrows always cross the curve at right angles.

    Parameters
    ----------
    c : float, default 2.0
        Starting level, in [0.25, 8].
    A : array_like of shape (2, 2), default :data:`EXAMPLE_MATRIX`
        Symmetric positive definite matrix of the form.
    arrows : int, default 8
        Number of gradient arrows on the curve.
    arrow_scale : float, default 0.1
        Drawn arrow = ``arrow_scale`` times the gradient.

    Returns
    -------
    LiveFigure
        Slider ``"c"``; artists ``"curve"`` (Line2D of the ellipse),
        ``"gradients"`` (Quiver: offsets on the curve, components
        ``arrow_scale * 2 A p``) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``A`` is not symmetric positive definite or ``c`` is outside [0.25, 8].

    Examples
    --------
    >>> app = level_value_explorer()
    >>> app.sliders["c"].value = 6.0
    >>> x, y = app.artists["curve"].get_data()
    >>> np.allclose(quadratic_form(EXAMPLE_MATRIX, np.stack([x, y])), 6.0)
    True
    """
    A = check_spd(A)
    c = check_positive(c, "c")
    if not 0.25 <= c <= 8.0:
        raise ValueError(f"c must lie in [0.25, 8]; got {c}")
    arrow_scale = check_positive(arrow_scale, "arrow_scale")
    lam, V = np.linalg.eigh(A)
    span = 1.15 * np.sqrt(8.0 / lam[0])

    fig, ax = new_figure(figsize=(6.2, 5.6), layout="constrained")
    xs = np.linspace(-span, span, 161)
    X, Y = np.meshgrid(xs, xs)
    Z = quadratic_form(A, np.stack([X, Y]))
    filled = ax.contourf(X, Y, Z, levels=np.linspace(0.0, 24.0, 25), cmap="viridis", alpha=0.55, extend="max")
    fig.colorbar(filled, ax=ax, label=r"$f(p) = p^\top A p$")
    for k, colour in zip(range(2), (PALETTE["black"], "0.35")):
        axis = V[:, k] * span
        ax.plot([-axis[0], axis[0]], [-axis[1], axis[1]], ls=":", color=colour, lw=1.2,
                label=rf"eigenvector, $\lambda = {lam[k]:.3g}$")
    (curve,) = ax.plot([], [], color=PALETTE["vermillion"], lw=3, label="level curve $f = c$")
    n_arrows = int(arrows)
    gradients = ax.quiver(np.zeros(n_arrows), np.zeros(n_arrows), np.zeros(n_arrows), np.zeros(n_arrows),
                          angles="xy", scale_units="xy", scale=1, color=PALETTE["blue"], width=0.008,
                          label=rf"$\nabla f = 2Ap$ (drawn ×{arrow_scale:g})")
    label = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", family="monospace",
                    bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.set(xlim=(-span, span), ylim=(-span, span), aspect="equal", xlabel="$x$", ylabel="$y$",
           title=r"Level curves of $5x^2 + 4xy + 2y^2$" if np.allclose(A, EXAMPLE_MATRIX)
           else r"Level curves of $p^\top A p$")
    legend_outside(ax, side="below", ncol=2)

    c_slider = slider(widgets.FloatSlider, "level c", value=c, min=0.25, max=8.0, step=0.25, readout_format=".2f")
    step = max(1, 200 // n_arrows)

    def update(c):
        pts = quadratic_level_curve(A, c, n=201)
        curve.set_data(pts[:, 0], pts[:, 1])
        feet = pts[:-1:step][:n_arrows]
        grads = 2.0 * feet @ A.T
        gradients.set_offsets(feet)
        gradients.set_UVC(arrow_scale * grads[:, 0], arrow_scale * grads[:, 1])
        axes = np.sqrt(c / lam)
        label.set_text(f"c = {c:.2f}\nsemi-axes √(c/λ):\n  {axes[1]:.3f} and {axes[0]:.3f}")

    return live_figure(fig, {"c": c_slider}, {"curve": curve, "gradients": gradients, "label": label}, update)


def condition_number_explorer(kappa=4.0, *, t0=np.pi / 4):
    """Slider stretching the ellipses of ``f = x**2 + kappa y**2`` by the condition number.

    The Hessian is ``diag(2, 2 kappa)``, so its condition number is
    ``kappa`` and each level curve has axis ratio ``sqrt(kappa)``. At the
    point ``p = (2 cos t0, (2 / sqrt(kappa)) sin t0)`` of the level ``f = 4``
    the figure draws the steepest-descent direction ``-grad f`` and the
    direction to the minimum; the angle between them grows with ``kappa``.

    Parameters
    ----------
    kappa : float, default 4.0
        Starting condition number, in [1, 30].
    t0 : float, default pi/4
        Parameter of the marked point on the level ``f = 4``.

    Returns
    -------
    LiveFigure
        Slider ``"kappa"``; artists ``"levels"`` (list of Line2D, one per
        level in :data:`KAPPA_LEVELS`), ``"point"`` (Line2D),
        ``"arrows"`` (Quiver with two unit arrows from the point:
        ``-grad f`` and the way to the minimum) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``kappa`` is outside [1, 30].

    Examples
    --------
    >>> app = condition_number_explorer()
    >>> app.sliders["kappa"].value = 9.0
    >>> x, y = app.artists["levels"][-1].get_data()
    >>> np.allclose(x**2 + 9.0 * y**2, 4.0)
    True
    """
    kappa = float(as_float_array(kappa, "kappa", ndim=0))
    if not 1.0 <= kappa <= 30.0:
        raise ValueError(f"kappa must lie in [1, 30]; got {kappa}")
    t0 = float(as_float_array(t0, "t0", ndim=0))

    fig, ax = new_figure(figsize=(7.5, 4.6), layout="constrained")
    cmap = matplotlib.colormaps["viridis"]
    levels = []
    for i, c in enumerate(KAPPA_LEVELS):
        (line,) = ax.plot([], [], color=cmap(0.1 + 0.75 * i / (len(KAPPA_LEVELS) - 1)), lw=2,
                          label=f"$f = {c:g}$")
        levels.append(line)
    (point,) = ax.plot([], [], "o", color=PALETTE["black"], ms=7, zorder=5)
    ax.plot([0.0], [0.0], "*", color=PALETTE["black"], ms=12, label="minimum")
    arrows = ax.quiver(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), angles="xy", scale_units="xy",
                       scale=1, color=[PALETTE["vermillion"], PALETTE["blue"]], width=0.008, zorder=4)
    ax.plot([], [], color=PALETTE["vermillion"], lw=3, label=r"$-\nabla f$ (unit length)")
    ax.plot([], [], color=PALETTE["blue"], lw=3, label="towards the minimum (unit length)")
    label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", family="monospace",
                    bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.set(xlim=(-3.2, 3.2), ylim=(-2.3, 2.3), aspect="equal", xlabel="$x$", ylabel="$y$",
           title=r"Level curves of $x^2 + \kappa y^2$: condition number $\kappa$")
    legend_outside(ax, side="below", ncol=3)

    kappa_slider = slider(widgets.FloatSlider, "condition number κ", value=kappa, min=1.0, max=30.0, step=0.5,
                          readout_format=".1f")

    def update(kappa):
        A = np.diag([1.0, kappa])
        for line, c in zip(levels, KAPPA_LEVELS):
            pts = quadratic_level_curve(A, c, n=241)
            line.set_data(pts[:, 0], pts[:, 1])
        p = np.array([2.0 * np.cos(t0), 2.0 / np.sqrt(kappa) * np.sin(t0)])
        descent = -unit_vector(2.0 * A @ p)
        home = -unit_vector(p)
        point.set_data([p[0]], [p[1]])
        arrows.set_offsets(np.array([p, p]))
        arrows.set_UVC([descent[0], home[0]], [descent[1], home[1]])
        label.set_text(f"κ = {kappa:4.1f}\naxis ratio √κ = {np.sqrt(kappa):.2f}\n"
                       f"angle(-∇f, to minimum) = {angle_between(descent, home):4.1f}°")

    return live_figure(fig, {"kappa": kappa_slider}, {"levels": levels, "point": point, "arrows": arrows,
                                                "label": label}, update)


def gradient_contour_figure(points=((0.6, 0.9), (-1.0, 2.2), (2.2, -1.4), (-2.2, -0.5))):
    """Static figure: contours of :func:`wavy_f`, its gradient field, and tangents at marked points.

    Parameters
    ----------
    points : array_like of shape (k, 2)
        Where to draw a gradient arrow with the level tangent through it.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = gradient_contour_figure()
    >>> fig.axes[0].get_title()
    '$\\\\nabla f$ crosses the contours of $\\\\sin x + \\\\cos y$ at right angles'
    """
    points = as_float_array(points, "points", shape=(None, 2))
    fig, ax = new_figure(figsize=(6.4, 5.6), layout="constrained")
    xs = np.linspace(-np.pi, np.pi, 161)
    X, Y = np.meshgrid(xs, xs)
    Z = wavy_f(np.stack([X, Y]))
    lines = ax.contour(X, Y, Z, levels=np.linspace(-1.75, 1.75, 15), cmap="viridis", linewidths=1.2)
    fig.colorbar(lines, ax=ax, label=r"$f(x, y) = \sin x + \cos y$")
    coarse = np.linspace(-np.pi, np.pi, 13)
    CX, CY = np.meshgrid(coarse, coarse)
    G = wavy_grad(np.stack([CX, CY]))
    ax.quiver(CX, CY, G[0], G[1], angles="xy", scale_units="xy", scale=2.5, color="0.45", width=0.004)
    for i, p in enumerate(points):
        g = wavy_grad(p)
        t = level_tangent(g)
        ax.quiver([p[0]], [p[1]], [g[0]], [g[1]], angles="xy", scale_units="xy", scale=1,
                  color=PALETTE["vermillion"], width=0.01, zorder=4, label=r"$\nabla f$" if i == 0 else None)
        seg = p + np.outer([-0.7, 0.7], t)
        ax.plot(seg[:, 0], seg[:, 1], color=PALETTE["blue"], lw=2.5, zorder=4,
                label="level tangent" if i == 0 else None)
        ax.plot(*p, "o", color=PALETTE["black"], ms=5, zorder=5)
    ax.set(xlim=(-np.pi, np.pi), ylim=(-np.pi, np.pi), aspect="equal", xlabel="$x$", ylabel="$y$",
           title=r"$\nabla f$ crosses the contours of $\sin x + \cos y$ at right angles")
    ax.legend(loc="lower left", fontsize=8)
    return fig
