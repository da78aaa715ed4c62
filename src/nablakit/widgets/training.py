"""Chapter 10 (Gradients at training time): its live widgets and static figures.

Live: :func:`clipping_explorer` (max-norm slider) and
:func:`natural_gradient_paths` (step-size slider). Static:
:func:`checkpoint_growth_figure` and :func:`float16_error_figure`. The
numbers come from :mod:`nablakit.training`; these factories only draw.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit import training as tr
from nablakit._validate import as_float_array, check_positive
from nablakit.plotting import PALETTE
from nablakit.widgets._base import decade_ticks, legend_outside, live_figure, new_figure, slider, static_figure

__all__ = ["clipping_explorer", "natural_gradient_paths", "NATURAL_LRS", "checkpoint_growth_figure",
           "float16_error_figure"]


def _clipped_pair(g, c):
    norm_clipped = tr.clip_by_global_norm([g], c)[0][0]
    value_clipped = tr.clip_by_value(g, c)
    return norm_clipped, value_clipped


def clipping_explorer(g=(4.0, 1.0), c=1.5, c_max=5.0):
    """A threshold slider clipping one 2-D gradient by norm and by value.

    Left: the gradient ``g``, its norm-clipped version (on the circle of radius
    ``c``, same direction) and its value-clipped version (in the square
    ``[-c, c]^2``, turned). Right: the angle between ``g`` and each clipped
    vector as a function of ``c``, with the current ``c`` marked.

    Parameters
    ----------
    g : array_like of shape (2,), default (4, 1)
        The gradient; not zero.
    c : float, default 1.5
        Starting threshold, in ``(0, c_max]``.
    c_max : float, default 5.0
        Largest threshold on the slider.

    Returns
    -------
    LiveFigure
        Slider ``"c"``; artists ``"arrows"`` (Quiver with three arrows: g,
        norm-clipped, value-clipped), ``"circle"``, ``"square"``,
        ``"marker_value"``, ``"marker_norm"`` (Line2D) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``g`` is zero or not of shape (2,), or ``c`` is outside ``(0, c_max]``.

    Examples
    --------
    >>> app = clipping_explorer()
    >>> app.sliders["c"].value = 1.0
    >>> np.allclose(app.artists["arrows"].U, [4.0, 4 / 17**0.5, 1.0])
    True
    """
    g = as_float_array(g, "g", shape=(2,))
    if not np.any(g):
        raise ValueError("g must not be the zero vector")
    c_max = check_positive(c_max, "c_max")
    c = check_positive(c, "c")
    if c > c_max:
        raise ValueError(f"c must lie in (0, {c_max}]; got {c}")
    step = 0.05
    cs = np.round(np.arange(step, c_max + step / 2, step), 10)
    value_angles = np.array([tr.angle_between(g, tr.clip_by_value(g, ci)) for ci in cs])
    theta = np.linspace(0, 2 * np.pi, 181)
    colours = [PALETTE["black"], PALETTE["blue"], PALETTE["vermillion"]]

    fig, (ax, ax_angle) = new_figure(1, 2, figsize=(9.5, 4.2), layout="constrained")
    lim = 1.15 * max(np.abs(g).max(), c_max)
    arrows = ax.quiver(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), color=colours,
                       angles="xy", scale_units="xy", scale=1, width=0.012)
    (circle,) = ax.plot([], [], color=PALETTE["blue"], ls="--", lw=1.2)
    (square,) = ax.plot([], [], color=PALETTE["vermillion"], ls=":", lw=1.5)
    for colour, name in zip(colours, ["gradient $g$", "clipped by norm", "clipped by value"]):
        ax.plot([], [], color=colour, lw=3, label=name)
    label = ax.text(0.03, 0.97, "", transform=ax.transAxes, va="top", fontsize=9,
                    bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.set(xlim=(-0.3, lim), ylim=(-0.3, lim), aspect="equal", xlabel="$g_1$", ylabel="$g_2$",
           title="Norm clipping shrinks, value clipping turns")
    legend_outside(ax, side="below", ncol=2)
    ax.grid(alpha=0.3)

    ax_angle.plot(cs, value_angles, color=PALETTE["vermillion"], lw=2, label="clipped by value")
    ax_angle.plot(cs, np.zeros_like(cs), color=PALETTE["blue"], lw=2, ls="--", label="clipped by norm")
    (marker_value,) = ax_angle.plot([], [], "o", color=PALETTE["vermillion"], ms=8)
    (marker_norm,) = ax_angle.plot([], [], "s", color=PALETTE["blue"], ms=7)
    ax_angle.set(xlabel="threshold $c$", ylabel="angle to $g$ (degrees)", xlim=(0, c_max),
                 ylim=(-2, max(50.0, 1.1 * value_angles.max())), title="How far the direction turns")
    legend_outside(ax_angle, side="below", ncol=2)
    ax_angle.grid(alpha=0.3)

    c_slider = slider(widgets.FloatSlider, "threshold c", value=c, min=step, max=float(cs[-1]), step=step,
                      readout_format=".2f")

    def update(c):
        by_norm, by_value = _clipped_pair(g, c)
        vectors = np.array([g, by_norm, by_value])
        arrows.set_UVC(vectors[:, 0], vectors[:, 1])
        circle.set_data(c * np.cos(theta), c * np.sin(theta))
        square.set_data([-c, c, c, -c, -c], [-c, -c, c, c, -c])
        angle = tr.angle_between(g, by_value)
        marker_value.set_data([c], [angle])
        marker_norm.set_data([c], [tr.angle_between(g, by_norm)])
        label.set_text(f"c = {c:.2f},  |g| = {np.linalg.norm(g):.2f}\n"
                       f"by norm:  length {np.linalg.norm(by_norm):.2f}, turned 0.0°\n"
                       f"by value: length {np.linalg.norm(by_value):.2f}, turned {angle:.1f}°")

    artists = {"arrows": arrows, "circle": circle, "square": square, "marker_value": marker_value,
               "marker_norm": marker_norm, "label": label}
    return live_figure(fig, {"c": c_slider}, artists, update)


#: The step sizes offered by :func:`natural_gradient_paths`.
NATURAL_LRS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def natural_gradient_paths(data, theta0=(-1.0, 2.0), lr=0.1, steps=300, shown=80, tol=1e-3):
    """A step-size slider over plain and natural gradient ascent paths in the ``(mu, sigma)`` plane.

    All paths are computed once, for every step size in :data:`NATURAL_LRS`;
    the slider only swaps the drawn data. The contours are the average
    log-likelihood; the star is the maximum-likelihood estimate.

    Parameters
    ----------
    data : array_like of shape (m,)
        The sample.
    theta0 : array_like of shape (2,), default (-1, 2)
        Start ``(mu0, sigma0)``.
    lr : float, default 0.1
        Starting step size; one of :data:`NATURAL_LRS`.
    steps : int, default 300
        Steps computed per path (used for the "steps to reach" count).
    shown : int, default 80
        Steps drawn per path.
    tol : float, default 1e-3
        Distance to the MLE that counts as "reached".

    Returns
    -------
    LiveFigure
        Slider ``"lr"``; artists ``"gd"``, ``"ngd"`` (Line2D) and ``"label"``
        (Text). ``app.paths[lr]`` holds ``(gd_path, ngd_path)``.

    Raises
    ------
    ValueError
        If ``lr`` is not one of :data:`NATURAL_LRS`, or as
        :func:`nablakit.training.gaussian_gd_path`.

    Examples
    --------
    >>> data = np.random.default_rng(0).normal(1.0, 0.5, size=50)
    >>> app = natural_gradient_paths(data)
    >>> app.sliders["lr"].value = 1.0
    >>> np.allclose(app.artists["ngd"].get_xydata()[1, 0], data.mean())
    True
    """
    data = as_float_array(data, "data", ndim=1)
    theta0 = as_float_array(theta0, "theta0", shape=(2,))
    if lr not in NATURAL_LRS:
        raise ValueError(f"lr must be one of {NATURAL_LRS}; got {lr!r}")
    mle = np.array([data.mean(), data.std()])
    paths = {a: (tr.gaussian_gd_path(data, theta0, a, steps), tr.gaussian_ngd_path(data, theta0, a, steps))
             for a in NATURAL_LRS}
    reached = {a: tuple(tr.steps_to_settle(p, mle, tol) for p in paths[a]) for a in NATURAL_LRS}

    lo_mu, hi_mu = min(theta0[0], mle[0]) - 0.7, max(theta0[0], mle[0]) + 0.7
    hi_sigma = max(theta0[1], mle[1]) * 1.35
    MU, SIGMA = np.meshgrid(np.linspace(lo_mu, hi_mu, 121), np.linspace(0.05, hi_sigma, 121))
    Z = tr.gaussian_average_loglik(data, MU, SIGMA)

    fig, ax = new_figure(figsize=(7, 4.8), layout="constrained")
    levels = np.quantile(Z, np.linspace(0.35, 0.995, 14))
    ax.contour(MU, SIGMA, Z, levels=levels, cmap="viridis", linewidths=0.8)
    (gd,) = ax.plot([], [], ".-", color=PALETTE["vermillion"], lw=1.2, ms=3, label="plain gradient ascent")
    (ngd,) = ax.plot([], [], ".-", color=PALETTE["blue"], lw=1.2, ms=3, label="natural gradient ascent")
    ax.plot(*theta0, "o", color=PALETTE["black"], ms=7, label="start")
    ax.plot(*mle, "*", color=PALETTE["black"], ms=14, label="maximum likelihood")
    label = ax.text(0.02, 0.03, "", transform=ax.transAxes, fontsize=9,
                    bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.set(xlim=(lo_mu, hi_mu), ylim=(0, hi_sigma), xlabel=r"mean $\mu$", ylabel=r"standard deviation $\sigma$",
           title="Plain vs natural gradient on a Gaussian")
    legend_outside(ax, side="below", ncol=2)

    lr_slider = slider(widgets.SelectionSlider, "step size η", options=list(NATURAL_LRS), value=lr)

    def describe(n):
        return f"{n} steps" if n is not None else f"never (in {steps} steps)"

    def update(lr):
        path_gd, path_ngd = paths[lr]
        gd.set_data(path_gd[: shown + 1, 0], path_gd[: shown + 1, 1])
        ngd.set_data(path_ngd[: shown + 1, 0], path_ngd[: shown + 1, 1])
        n_gd, n_ngd = reached[lr]
        label.set_text(f"η = {lr}: settled within {tol:g} of the MLE after\n"
                       f"plain:   {describe(n_gd)}\nnatural: {describe(n_ngd)}")

    app = live_figure(fig, {"lr": lr_slider}, {"gd": gd, "ngd": ngd, "label": label}, update)
    app.paths = paths
    app.reached = reached
    return app


def checkpoint_growth_figure(ns):
    """Static figure: memory and forward compute of the three checkpointing strategies against depth.

    Parameters
    ----------
    ns : array_like of int, shape (k,)
        Numbers of layers, increasing, each >= 1.

    Returns
    -------
    matplotlib.figure.Figure
        Two log-log Axes (memory, compute), one line per strategy of
        :func:`nablakit.training.checkpoint_table`, in its order.

    Raises
    ------
    ValueError
        If a number of layers is not a positive integer.

    Examples
    --------
    >>> fig = checkpoint_growth_figure([4, 16])
    >>> [line.get_ydata().tolist() for line in fig.axes[0].lines]
    [[4, 16], [3, 7], [2, 2]]
    """
    ns = np.asarray(ns).tolist()  # Python ints, as checkpoint_table wants
    tables = [tr.checkpoint_table(n) for n in ns]
    names = ["store all", r"$\sqrt{n}$ checkpoints", "recompute all"]  # the table's row order
    colours = [PALETTE["black"], PALETTE["blue"], PALETTE["vermillion"]]
    fig, (ax_mem, ax_cmp) = static_figure(1, 2, figsize=(9, 3.6))
    for j, (name, colour) in enumerate(zip(names, colours)):
        ax_mem.loglog(ns, [t[j]["memory"] for t in tables], color=colour, lw=2, label=name)
        ax_cmp.loglog(ns, [t[j]["compute"] for t in tables], color=colour, lw=2, label=name)
    ax_mem.set(xlabel="number of layers $n$", ylabel="layer inputs held (peak)", title="Memory")
    ax_cmp.set(xlabel="number of layers $n$", ylabel="layer evaluations", title="Forward compute")
    ax_mem.legend()
    for ax in (ax_mem, ax_cmp):
        ax.grid(alpha=0.3)
    decade_ticks(ax_mem, ax_cmp, which="xy")
    return fig


def float16_error_figure(envelopes):
    """Static figure: worst relative float16 round-trip error against gradient size, per loss scale.

    Parameters
    ----------
    envelopes : dict of int to (centres, worst)
        Loss-scale exponent ``k`` (scale ``2**k``) -> the output of
        :func:`nablakit.training.float16_error_envelope`.

    Returns
    -------
    matplotlib.figure.Figure
        One log-log Axes: one line per scale, and vertical lines at the
        smallest subnormal (dotted) and smallest normal (dashed) float16.

    Examples
    --------
    >>> from nablakit.training import float16_error_envelope
    >>> env = float16_error_envelope(np.geomspace(1e-9, 1e-2, 100), per_bin=10)
    >>> fig = float16_error_figure({0: env})
    >>> np.allclose(fig.axes[0].lines[0].get_ydata(), env[1])
    True
    """
    colours = [PALETTE["vermillion"], PALETTE["blue"], PALETTE["bluish_green"], PALETTE["orange"]]
    fig, ax = static_figure(figsize=(7.5, 4))
    for (k, (centres, worst)), colour in zip(envelopes.items(), colours):
        ax.loglog(as_float_array(centres, "centres", ndim=1), as_float_array(worst, "worst", ndim=1),
                  color=colour, lw=2, label=f"loss scale $2^{{{k}}}$")
    ax.axvline(tr.FLOAT16_SMALLEST_SUBNORMAL, color=PALETTE["black"], ls=":", label="smallest subnormal $2^{-24}$")
    ax.axvline(tr.FLOAT16_SMALLEST_NORMAL, color=PALETTE["black"], ls="--", label="smallest normal $2^{-14}$")
    ax.set(xlabel="gradient entry $|g|$", ylabel="worst relative error after float16", ylim=(1e-6, 3),
           title="What float16 does to a gradient entry, with and without loss scaling")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    decade_ticks(ax, which="xy")
    return fig
