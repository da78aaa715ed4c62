"""Figures of chapters 07-08: finite-difference error curves and gradient-check bars.

Everything here only draws; the numbers come from :mod:`nablakit.fd_error`
and :mod:`nablakit.networks`. The ``draw_*`` functions draw on a given Axes;
the ``*_figure`` factories build the chapters' complete static figures
(title, labelled axes, legend). :func:`fd_error_explorer` is the chapter 07
live figure: an ``h`` slider moves a marker along precomputed error curves.

Long on purpose: one module for the figures of *Finite differences* and
*Gradient checking*, which
share the error-curve drawing.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit import fd_error
from nablakit._validate import as_float_array, check_callable, check_positive
from nablakit.plotting import PALETTE
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = [
    "LABELS",
    "method_style",
    "draw_error_curves",
    "draw_error_budget",
    "draw_check_bars",
    "error_curves_figure",
    "error_budget_figure",
    "gradient_cost_figure",
    "check_bars_figure",
    "fd_error_explorer",
    "check_step_explorer",
]

LABELS = {"forward": "forward", "backward": "backward", "central": "centred"}


def method_style(method):
    """Colour and line style of a difference method, the same in every figure.

    Parameters
    ----------
    method : {"forward", "backward", "central"}

    Returns
    -------
    dict
        ``color`` (an Okabe-Ito colour) and ``ls`` keyword arguments for ``plot``.

    Raises
    ------
    ValueError
        If ``method`` is unknown.

    Examples
    --------
    >>> sorted(method_style("central"))
    ['color', 'ls']
    """
    if method not in LABELS:
        raise ValueError(f"method must be one of {', '.join(map(repr, LABELS))}; got {method!r}")
    return {
        "forward": {"color": PALETTE["vermillion"], "ls": "-"},
        "backward": {"color": PALETTE["orange"], "ls": "--"},
        "central": {"color": PALETTE["blue"], "ls": "-"},
    }[method]


def draw_error_curves(ax, hs, curves, slopes=None):
    """Draw error-vs-step curves on log-log axes, one line per method.

    Parameters
    ----------
    ax : matplotlib Axes
    hs : array_like of shape (k,)
        Steps.
    curves : dict of str to array_like of shape (k,)
        Absolute errors by method (from :func:`nablakit.fd_error.error_curves`).
    slopes : dict of str to float, optional
        Fitted log-log slopes, shown in the legend.

    Returns
    -------
    dict of str to Line2D

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> lines = draw_error_curves(ax, [1e-3, 1e-2], {"central": [1e-7, 1e-5]}, {"central": 2.0})
    >>> lines["central"].get_label()
    'centred (fitted slope 2.00)'
    """
    hs = as_float_array(hs, "hs", ndim=1)
    lines = {}
    for method, errors in curves.items():
        label = LABELS[method]
        if slopes is not None and method in slopes:
            label += f" (fitted slope {slopes[method]:.2f})"
        (lines[method],) = ax.loglog(hs, np.asarray(errors, dtype=float), lw=1.8, label=label, **method_style(method))
    ax.set_xlabel("step $h$")
    ax.set_ylabel("absolute error of the estimate")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def draw_error_budget(ax, hs, errors, method, *, f_scale=1.0, derivative_scale=1.0):
    """Draw a measured error curve with the truncation and round-off model and both best steps.

    Parameters
    ----------
    ax : matplotlib Axes
    hs, errors : array_like of shape (k,)
        Steps and measured absolute errors of one method.
    method : {"forward", "backward", "central"}
    f_scale, derivative_scale : float
        Passed to :func:`nablakit.fd_error.error_model` and
        :func:`nablakit.fd_error.optimal_step`.

    Returns
    -------
    dict of str to Artist
        ``measured``, ``truncation``, ``roundoff``, ``best`` (marker at the
        measured minimum) and ``theory`` (vertical line at the model's best step).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> hs = np.logspace(-12, -1, 12)
    >>> art = draw_error_budget(ax, hs, hs**2 + 1e-16 / hs, "central")
    >>> sorted(art)
    ['best', 'measured', 'roundoff', 'theory', 'truncation']
    """
    hs = as_float_array(hs, "hs", ndim=1)
    errors = as_float_array(errors, "errors", shape=hs.shape)
    trunc, rnd = fd_error.error_model(hs, method, f_scale=f_scale, derivative_scale=derivative_scale)
    h_best, e_best = fd_error.best_step(hs, errors)
    h_theory = fd_error.optimal_step(method, f_scale=f_scale, derivative_scale=derivative_scale)
    style = method_style(method)
    art = {}
    (art["measured"],) = ax.loglog(hs, errors, color=style["color"], lw=1.8, label=f"{LABELS[method]}: measured")
    (art["truncation"],) = ax.loglog(hs, trunc, color=PALETTE["black"], ls="--", lw=1.2, label="truncation model")
    (art["roundoff"],) = ax.loglog(hs, rnd, color=PALETTE["black"], ls=":", lw=1.5, label="round-off model")
    (art["best"],) = ax.plot([h_best], [e_best], "o", color=style["color"], ms=8, mec=PALETTE["black"],
                             label=f"measured best $h$ = {h_best:.1e}")
    art["theory"] = ax.axvline(h_theory, color=PALETTE["black"], lw=1, alpha=0.6,
                               label=f"model's best $h$ = {h_theory:.1e}")
    lo = max(float(np.min(errors[errors > 0])) / 10, 1e-18) if np.any(errors > 0) else 1e-18
    ax.set_ylim(lo, float(np.max(errors)) * 10)
    ax.set_xlabel("step $h$")
    ax.set_ylabel("absolute error")
    ax.grid(True, which="major", alpha=0.3)
    return art


#: Smallest relative error drawn on a log axis (an exact 0 is shown here).
ERROR_FLOOR = 1e-16


def _verdict_bands(ax, thresholds, top=10.0):
    """Shade the "great", "look closer" and "bug" bands of a log-scaled relative-error axis."""
    low, high = thresholds
    ax.axhspan(ERROR_FLOOR, low, color=PALETTE["blue"], alpha=0.08)
    ax.axhspan(low, high, color=PALETTE["orange"], alpha=0.12)
    ax.axhspan(high, top, color=PALETTE["vermillion"], alpha=0.08)
    for y in thresholds:
        ax.axhline(y, color=PALETTE["black"], lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_ylim(ERROR_FLOOR, top)


def draw_check_bars(ax, tables, *, thresholds=(1e-7, 1e-4)):
    """Bar chart of per-parameter relative errors with the verdict bands shaded.

    Parameters
    ----------
    ax : matplotlib Axes
    tables : dict of str to list of dict
        For each label (e.g. "backprop", "bug"), rows with keys ``name`` and
        ``relative_error`` (from :func:`nablakit.networks.gradient_check_table`).
    thresholds : (float, float)
        Borders between "great", "look closer" and "bug".

    Returns
    -------
    dict of str to BarContainer

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> rows = [{"name": "W1", "relative_error": 1e-10}, {"name": "b1", "relative_error": 0.3}]
    >>> bars = draw_check_bars(ax, {"mine": rows})
    >>> len(bars["mine"])
    2
    """
    colours = [PALETTE["blue"], PALETTE["vermillion"], PALETTE["orange"], PALETTE["black"]]
    names = [r["name"] for r in next(iter(tables.values()))]
    width = 0.8 / len(tables)
    bars = {}
    floor = ERROR_FLOOR
    _verdict_bands(ax, thresholds)
    for k, (label, rows) in enumerate(tables.items()):
        values = [max(r["relative_error"], floor) for r in rows]
        xs = np.arange(len(rows)) + (k - (len(tables) - 1) / 2) * width
        bars[label] = ax.bar(xs, values, width=width, color=colours[k % len(colours)], label=label, bottom=floor)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_xlabel("parameter block")
    ax.set_ylabel("relative error")
    return bars


def error_curves_figure(hs, curves, slopes=None, *, name="exp", x=1.0):
    """Static figure: error against step for each method, log-log, fitted slopes in the legend.

    Parameters
    ----------
    hs : array_like of shape (k,)
        Steps.
    curves : dict of str to array_like of shape (k,)
        Absolute errors by method (from :func:`nablakit.fd_error.error_curves`).
    slopes : dict of str to float, optional
        Fitted log-log slopes, shown in the legend.
    name : str, default "exp"
        How the title names the function.
    x : float, default 1.0
        The point of differentiation, for the title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = error_curves_figure([1e-3, 1e-2], {"central": [1e-7, 1e-5]}, {"central": 2.0})
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_title().startswith("Error of")
    ('log', True)
    """
    fig, ax = new_figure(figsize=(7.5, 4.5), layout="constrained")
    draw_error_curves(ax, hs, curves, slopes)
    ax.set_title(f"Error of $f'({x:g})$ estimates for $f$ = {name}: order = slope of the right arm")
    ax.legend(loc="upper right", fontsize=9)
    return fig


def error_budget_figure(hs, curves, *, methods=("forward", "central"), f_scale=1.0, derivative_scale=1.0):
    """Static figure: one panel per method with the measured error and its two error models.

    Parameters
    ----------
    hs : array_like of shape (k,)
        Steps.
    curves : dict of str to array_like of shape (k,)
        Measured absolute errors by method; must contain every entry of ``methods``.
    methods : sequence of str, default ("forward", "central")
        One panel each, side by side.
    f_scale, derivative_scale : float
        Sizes of ``|f|`` and of the derivative in the truncation term, for
        :func:`draw_error_budget`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a method is unknown or has no curve.

    Examples
    --------
    >>> hs = np.logspace(-12, -1, 12)
    >>> fig = error_budget_figure(hs, {"forward": hs + 1e-16 / hs, "central": hs**2 + 1e-16 / hs})
    >>> [ax.get_title().split(":")[0] for ax in fig.axes]
    ['Forward difference', 'Centred difference']
    """
    missing = [m for m in methods if m not in curves]
    if missing:
        raise ValueError(f"curves has no entry for {missing}; got {sorted(curves)}")
    fig, axes = new_figure(1, len(methods), figsize=(5 * len(methods), 4.2), sharey=True, squeeze=False,
                           layout="constrained")
    for ax, method in zip(axes[0], methods):
        method_style(method)  # validates the name
        draw_error_budget(ax, hs, curves[method], method, f_scale=f_scale, derivative_scale=derivative_scale)
        ax.set_title(f"{LABELS[method].capitalize()} difference: truncation vs round-off")
        ax.legend(fontsize=8, loc="lower left")
    return fig


def gradient_cost_figure(rows):
    """Static figure: time of one gradient by finite differences and by backprop, log-log.

    Parameters
    ----------
    rows : list of dict
        From :func:`nablakit.fd_error.gradient_cost_table` (keys ``n_params``,
        ``fd_seconds``, ``backprop_seconds``).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with the lines ``"centred differences ..."`` and ``"backprop ..."``.

    Raises
    ------
    ValueError
        If ``rows`` is empty.

    Examples
    --------
    >>> rows = [{"n_params": 21, "fd_seconds": 1e-3, "backprop_seconds": 1e-5},
    ...         {"n_params": 81, "fd_seconds": 5e-3, "backprop_seconds": 1e-5}]
    >>> [line.get_ydata().tolist() for line in gradient_cost_figure(rows).axes[0].lines]
    [[0.001, 0.005], [1e-05, 1e-05]]
    """
    if not rows:
        raise ValueError("rows must hold at least one row of gradient_cost_table")
    n = [r["n_params"] for r in rows]
    fig, ax = new_figure(figsize=(6.5, 4), layout="constrained")
    ax.loglog(n, [r["fd_seconds"] for r in rows], "o-", color=PALETTE["vermillion"],
              label="centred differences (2n losses)")
    ax.loglog(n, [r["backprop_seconds"] for r in rows], "s-", color=PALETTE["blue"],
              label="backprop (1 forward + 1 backward)")
    ax.set(xlabel="number of parameters $n$", ylabel="time for one gradient [s]",
           title="Cost of one gradient of a tiny network (measured)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def check_bars_figure(tables, *, thresholds=(1e-7, 1e-4)):
    """Static figure: per-block relative errors of one or more gradient checks, with verdict bands.

    Parameters
    ----------
    tables : dict of str to list of dict
        As for :func:`draw_check_bars`.
    thresholds : (float, float)
        Borders between "great", "look closer" and "bug".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [{"name": "W1", "relative_error": 1e-10}, {"name": "b1", "relative_error": 0.3}]
    >>> check_bars_figure({"mine": rows}).axes[0].get_yscale()
    'log'
    """
    fig, ax = new_figure(figsize=(7, 4), layout="constrained")
    draw_check_bars(ax, tables, thresholds=thresholds)
    ax.set_title("Gradient check per parameter block of the network")
    ax.legend(loc="upper right", fontsize=9)
    return fig


def fd_error_explorer(f=np.exp, df=np.exp, x=1.0, *, name="exp", hs=None, h0=1e-5, methods=("forward", "central")):
    """Live figure: an ``h`` slider moves markers along precomputed error curves.

    The curves are computed once with :func:`nablakit.fd_error.error_curves`;
    the callback only looks up the nearest precomputed step and moves the
    markers, a vertical line and a text label.

    Parameters
    ----------
    f, df : callable
        Function of one variable and its exact derivative.
    x : float
        Where to differentiate.
    name : str
        How the title names ``f``.
    hs : array_like, optional
        Steps; default ``fd_error.default_steps(-15, -1)`` (10 per decade).
    h0 : float
        Initial slider value.
    methods : sequence of str
        Methods to draw.

    Returns
    -------
    LiveFigure
        Sliders ``{"h"}``; artists ``marker_<method>``, ``h_line``, ``label``
        and ``curve_<method>``.

    Raises
    ------
    TypeError
        If ``f`` or ``df`` is not callable.
    ValueError
        If a step is not positive or a method is unknown.

    Examples
    --------
    >>> app = fd_error_explorer()
    >>> app.sliders["h"].value = 1e-8
    >>> bool(np.isclose(app.artists["marker_forward"].get_xdata()[0], 1e-8))
    True
    """
    check_callable(f, "f")
    check_callable(df, "df")
    h0 = check_positive(h0, "h0")
    hs = fd_error.default_steps(-15, -1) if hs is None else as_float_array(hs, "hs", ndim=1)
    curves = fd_error.error_curves(f, df, x, hs, methods)
    slopes = {m: fd_error.fit_loglog_slope(hs, curves[m], fd_error.TRUNCATION_RANGES[m]) for m in methods}

    fig, ax = new_figure(figsize=(7.5, 4.5), layout="constrained")
    lines = draw_error_curves(ax, hs, curves, slopes)
    artists = {f"curve_{m}": line for m, line in lines.items()}
    for m in methods:
        (artists[f"marker_{m}"],) = ax.plot([], [], "o", ms=10, color=method_style(m)["color"],
                                            mec=PALETTE["black"], zorder=5)
    artists["h_line"] = ax.axvline(h0, color=PALETTE["black"], lw=1, alpha=0.5)
    artists["label"] = ax.text(0.02, 0.03, "", transform=ax.transAxes, family="monospace", fontsize=9,
                               va="bottom", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    ax.set_title(f"Error of finite-difference estimates of $f'({x:g})$ for $f$ = {name}")
    legend_outside(ax, side="below", ncol=2, fontsize=9)
    log_hs = np.log10(hs)
    h_slider = slider(widgets.FloatLogSlider, "step h", value=h0, base=10, min=float(log_hs[0]),
                      max=float(log_hs[-1]), step=float(np.min(np.diff(log_hs))), readout_format=".1e")

    def update(h):
        i = fd_error.nearest_step_index(hs, h)
        parts = [f"h = {hs[i]:.1e}"]
        for m in methods:
            artists[f"marker_{m}"].set_data([hs[i]], [curves[m][i]])
            parts.append(f"{LABELS[m]} error = {curves[m][i]:.1e}")
        artists["h_line"].set_xdata([hs[i], hs[i]])
        artists["label"].set_text("\n".join(parts))

    moving = [a for name, a in artists.items() if not name.startswith("curve_")]  # the curves stay put
    return live_figure(fig, {"h": h_slider}, artists, update, moving=moving)


def check_step_explorer(f, grad, x, *, hs=None, h0=1e-5, thresholds=(1e-7, 1e-4), reference=None,
                        reference_label="reference step"):
    """Live figure: the relative error of a gradient check as its step ``h`` slides.

    :func:`nablakit.gradcheck.check_gradient` is run once for every step in
    ``hs`` when the figure is built; the slider only moves a marker along
    that curve and reports the verdict and the worst coordinate.

    Parameters
    ----------
    f, grad : callable
        The function and its claimed gradient, as for ``check_gradient``.
    x : array_like
        Point of the check.
    hs : array_like, optional
        Steps; default ``fd_error.default_steps(-10, -2)`` (10 per decade).
    h0 : float, default 1e-5
        Initial slider value.
    thresholds : (float, float), default (1e-7, 1e-4)
        Borders of the shaded verdict bands.
    reference : float, optional
        A step to mark with a dashed vertical line (e.g. the distance to a kink).
    reference_label : str
        Legend label of that line.

    Returns
    -------
    LiveFigure
        Slider ``"h"``; artists ``"curve"`` (Line2D of all checks),
        ``"marker"`` (Line2D at ``(h, relative error)``), ``"h_line"`` and
        ``"label"`` (Text with the verdict).

    Raises
    ------
    TypeError
        If ``f`` or ``grad`` is not callable.
    ValueError
        If a step is not positive (or as ``check_gradient`` for bad ``x``).

    Examples
    --------
    >>> app = check_step_explorer(lambda v: np.sum(np.abs(v)), np.sign, [1.0, 3e-6])
    >>> app.sliders["h"].value = 1e-7
    >>> bool(app.artists["marker"].get_ydata()[0] < 1e-7)
    True
    """
    from nablakit.gradcheck import check_gradient

    check_callable(f, "f")
    check_callable(grad, "grad")
    h0 = check_positive(h0, "h0")
    hs = fd_error.default_steps(-10, -2) if hs is None else as_float_array(hs, "hs", ndim=1)
    if np.any(hs <= 0):
        raise ValueError(f"hs must contain only steps > 0; got min {hs.min()}")
    checks = [check_gradient(f, grad, x, h=float(h)) for h in hs]
    errors = np.maximum([c.relative_error for c in checks], ERROR_FLOOR)

    fig, ax = new_figure(figsize=(7.5, 4.3), layout="constrained")
    _verdict_bands(ax, thresholds)
    ax.set_xscale("log")
    (curve,) = ax.plot(hs, errors, color=PALETTE["blue"], lw=1.8, label="relative error of the check")
    if reference is not None:
        ax.axvline(check_positive(reference, "reference"), color=PALETTE["vermillion"], ls="--", lw=1.5,
                   label=reference_label)
    (marker,) = ax.plot([], [], "o", ms=10, color=PALETTE["blue"], mec=PALETTE["black"], zorder=5)
    h_line = ax.axvline(h0, color=PALETTE["black"], lw=1, alpha=0.5)
    label = ax.text(0.02, 0.97, "", transform=ax.transAxes, family="monospace", fontsize=9, va="top",
                    bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    ax.set(xlim=(hs.min(), hs.max()), xlabel="step $h$ of the centred differences",
           ylabel="relative error (log scale)", title="Gradient check against the step $h$")
    ax.grid(True, which="major", alpha=0.3)
    legend_outside(ax, side="below", ncol=3)
    log_hs = np.log10(hs)
    h_slider = slider(widgets.FloatLogSlider, "step h", value=h0, base=10, min=float(log_hs.min()),
                      max=float(log_hs.max()), step=float(np.min(np.diff(log_hs))), readout_format=".1e")

    def update(h):
        i = fd_error.nearest_step_index(hs, h)
        c = checks[i]
        worst = c.worst_index
        marker.set_data([hs[i]], [errors[i]])
        h_line.set_xdata([hs[i], hs[i]])
        verdict = "great" if c.relative_error < thresholds[0] else (
            "look closer" if c.relative_error < thresholds[1] else "a bug")
        label.set_text(f"h = {hs[i]:.1e}: relative error {c.relative_error:.1e} ({verdict})\n"
                       f"worst coordinate {worst}: numeric {c.numeric[worst]:+.3f}, "
                       f"analytic {c.analytic[worst]:+.3f}")

    return live_figure(fig, {"h": h_slider}, {"curve": curve, "marker": marker, "h_line": h_line, "label": label},
                       update, moving=[marker, h_line, label])
