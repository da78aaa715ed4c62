"""Chapter 09 (Loss landscapes): its live widgets and its static figures.

Live: :func:`ravine_explorer` (condition number, learning rate, momentum),
:func:`optimizer_race` (optimiser, learning rate and momentum β on Rosenbrock or Beale)
and :func:`depth_explorer` (gradient size against depth). Every trajectory a
slider can show is computed from the package (:mod:`nablakit.depth`,
:mod:`nablakit.optimizers`); the callbacks only hand arrays to existing artists.

Static, one call per figure of the chapter: :func:`critical_points_figure`,
:func:`saddle_escape_figure`, :func:`gradient_flow_figure`,
:func:`gradient_norm_figure` and :func:`loss_slice_figure`. They take the
numbers the notebook computed and only draw them.

Long on purpose: one module per chapter, and *Loss landscapes* has three
live widgets and five figures.
"""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np

from nablakit import optimizers as opt
from nablakit import testfunctions as tfn
from nablakit._validate import as_float_array, check_callable, check_count
from nablakit.depth import depth_curves  # re-exported: the chapter's curves
from nablakit.landscape import RAVINE_BETAS, RAVINE_FRACTIONS, RAVINE_KAPPAS, grid_eval, ravine_runs  # re-exported
from nablakit.plotting import CYCLE, PALETTE, contour_plot
from nablakit.widgets._base import decade_ticks, legend_outside, live_figure, new_figure, slider, static_figure

__all__ = [
    "RAVINE_KAPPAS", "RAVINE_FRACTIONS", "RAVINE_BETAS", "ravine_runs", "ravine_explorer",
    "RACE_OPTIMIZERS", "RACE_LRS", "RACE_BETAS", "RACE_BETA_PARAMS", "RACE_STARTS", "race_runs", "optimizer_race",
    "depth_curves", "depth_explorer",
    "critical_points_figure", "saddle_escape_figure", "gradient_flow_figure",
    "gradient_norm_figure", "loss_slice_figure",
]

def _loss_panel(ax, steps, ylim, ylabel, title):
    """Log-scale loss-per-step axes with a status box in the lower left; returns the box."""
    ax.set_yscale("log")
    decade_ticks(ax)
    ax.set(xlim=(0, steps), ylim=ylim, xlabel="step", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    return ax.text(0.03, 0.04, "", transform=ax.transAxes, fontsize=8.5,
                   bbox={"facecolor": "white", "edgecolor": "0.7"})


# --------------------------------------------------------------------------- ravine

def ravine_explorer(kappa=10, fraction=0.9, beta=0.9, *, steps=200, start=(-2.0, 1.0)):
    """Condition-number, learning-rate and momentum sliders over gradient descent and momentum on a ravine.

    Left: level curves of ``w1^2 + kappa w2^2`` (drawn as ellipses, so a
    slider can reshape them in place) with both paths. Right: the loss per
    step on a log scale. The learning rate is set as a fraction of the
    stability limit ``2 / lambda_max``; both methods use it.

    Parameters
    ----------
    kappa : int, default 10
        One of :data:`RAVINE_KAPPAS`.
    fraction : float, default 0.9
        One of :data:`RAVINE_FRACTIONS`.
    beta : float, default 0.9
        Momentum coefficient, one of :data:`RAVINE_BETAS`.
    steps : int, default 200
        Steps drawn.
    start : array_like of shape (2,)

    Returns
    -------
    LiveFigure
        Sliders ``"kappa"``, ``"fraction"`` and ``"beta"``; artists
        ``"levels"`` (list of Line2D), ``"path_gd"``, ``"path_momentum"``,
        ``"loss_gd"``, ``"loss_momentum"`` (Line2D) and ``"label"`` (Text).
        ``app.runs[(kappa, fraction, beta)]`` holds the :func:`ravine_runs` results.

    Raises
    ------
    ValueError
        If ``kappa``, ``fraction`` or ``beta`` is not among the slider values.

    Examples
    --------
    >>> app = ravine_explorer()
    >>> app.sliders["kappa"].value = 100
    >>> np.allclose(app.artists["path_gd"].get_xydata(), app.runs[(100, 0.9, 0.9)]["paths"]["gradient descent"])
    True
    """
    for value, name, choices in ((kappa, "kappa", RAVINE_KAPPAS), (fraction, "fraction", RAVINE_FRACTIONS),
                                 (beta, "beta", RAVINE_BETAS)):
        if value not in choices:
            raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    start = as_float_array(start, "start", shape=(2,))
    runs = ravine_runs(start=start, steps=steps)
    level_values = np.geomspace(0.02, 8.0, 10)
    t = np.linspace(0, 2 * np.pi, 241)
    colours = {"gradient descent": PALETTE["vermillion"], "momentum": PALETTE["blue"]}

    fig, (ax, ax_loss) = new_figure(1, 2, figsize=(10, 4.2), layout="constrained")
    levels = [ax.plot([], [], color="0.7", lw=0.8)[0] for _ in level_values]
    path_gd, path_mom = (ax.plot([], [], ".-", color=colours[n], lw=1, ms=3, label=n)[0] for n in colours)
    ax.plot(*start, "o", color=PALETTE["black"], ms=6, label="start")
    ax.plot(0, 0, "*", color=PALETTE["black"], ms=12, label="minimum")
    ax.set(xlim=(-2.4, 2.4), ylim=(-1.4, 1.4), xlabel="$w_1$", ylabel="$w_2$",
           title=r"Paths on $w_1^2 + \kappa\, w_2^2$")
    legend_outside(ax, side="below", ncol=2)
    label = _loss_panel(ax_loss, steps, (1e-10, 1e4), "loss", "Loss per step (dotted: $10^{-6}$)")
    loss_gd, loss_mom = (ax_loss.plot([], [], color=colours[n], lw=1.5, label=n)[0] for n in colours)
    ax_loss.axhline(1e-6, color=PALETTE["black"], ls=":", lw=1)
    legend_outside(ax_loss, side="below", ncol=3)

    sliders = {
        "kappa": slider(widgets.SelectionSlider, "condition number κ", options=list(RAVINE_KAPPAS), value=kappa),
        "fraction": slider(widgets.SelectionSlider, "η as a fraction of 2/λ_max", options=list(RAVINE_FRACTIONS),
                           value=fraction),
        "beta": slider(widgets.SelectionSlider, "momentum β", options=list(RAVINE_BETAS), value=beta),
    }

    def describe(n):
        return f"{n} steps" if n is not None else "not within 3000 steps"

    def update(kappa, fraction, beta):
        run = runs[(kappa, fraction, beta)]
        for line, c in zip(levels, level_values):
            line.set_data(np.sqrt(c) * np.cos(t), np.sqrt(c / kappa) * np.sin(t))
        for line, loss_line, name in ((path_gd, loss_gd, "gradient descent"), (path_mom, loss_mom, "momentum")):
            line.set_data(run["paths"][name][:, 0], run["paths"][name][:, 1])
            loss_line.set_data(np.arange(len(run["losses"][name])), run["losses"][name])
        label.set_text(f"κ = {kappa}, η = {run['lr']:.3g} = {fraction} × limit {run['lr'] / fraction:.3g}\n"
                       f"loss stays below 1e-6 after\n"
                       f"  gradient descent: {describe(run['settled']['gradient descent'])}\n"
                       f"  momentum (β = {beta}): {describe(run['settled']['momentum'])}")

    artists = {"levels": levels, "path_gd": path_gd, "path_momentum": path_mom,
               "loss_gd": loss_gd, "loss_momentum": loss_mom, "label": label}
    app = live_figure(fig, sliders, artists, update)
    app.runs = runs
    return app


# --------------------------------------------------------------------------- optimiser race

RACE_OPTIMIZERS = {
    "gradient descent": opt.gradient_descent,
    "momentum": opt.momentum,
    "RMSProp": opt.rmsprop,
    "Adam": opt.adam,
}
RACE_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1)
#: Momentum coefficients offered by the race's β slider (0.9 is every optimiser's default).
RACE_BETAS = (0.0, 0.5, 0.9, 0.99)
#: The optimisers that have a momentum coefficient, and the keyword the β slider sets.
RACE_BETA_PARAMS = {"momentum": "beta", "Adam": "beta1"}
RACE_STARTS = {
    "rosenbrock": ((-1.5, 2.0), (-1.0, -0.5), (1.8, 3.2)),
    "beale": ((1.0, 1.5), (-2.0, 2.0), (2.0, -1.5)),
}


def race_runs(name, *, starts=None, steps=600, lrs=RACE_LRS, optimizers=None, beta=0.9):
    """Every optimiser of :data:`RACE_OPTIMIZERS` at every learning rate from every start.

    Parameters
    ----------
    name : {"rosenbrock", "beale"}
        The test function.
    starts : sequence of (2,) points, optional
        Default :data:`RACE_STARTS` ``[name]``.
    steps : int
        Steps per run.
    lrs : sequence of float
    optimizers : sequence of str, optional
        Keys of :data:`RACE_OPTIMIZERS`; default all of them.
    beta : float, default 0.9
        Momentum coefficient of the optimisers in :data:`RACE_BETA_PARAMS`
        (momentum's ``beta``, Adam's ``beta1``); the others ignore it.

    Returns
    -------
    dict
        ``(optimiser, lr) -> (paths, losses)`` with ``paths`` of shape
        ``(n_starts, steps + 1, 2)`` and ``losses`` ``(n_starts, steps + 1)``
        (NaN after divergence).

    Examples
    --------
    >>> runs = race_runs("rosenbrock", steps=10, lrs=(1e-3,))
    >>> runs[("Adam", 1e-3)][0].shape
    (3, 11, 2)
    """
    tf = tfn.get_test_function(name)
    starts = np.asarray(RACE_STARTS[name] if starts is None else starts, dtype=float)

    def stacked_grad(flat):
        # Several starts as one vector (th1, th2, th1', th2', ...): every
        # optimiser here acts coordinate by coordinate, so these are
        # independent races sharing one loop.
        return tf.grad(flat.reshape(-1, 2).T).T.ravel()

    def all_starts(run, lr):
        paths = np.full((len(starts), steps + 1, 2), np.nan)
        pending = list(range(len(starts)))
        while pending:
            flat = run(stacked_grad, starts[pending].ravel(), lr, steps)
            sub = flat.reshape(steps + 1, len(pending), 2).swapaxes(0, 1)
            nan_rows = np.flatnonzero(np.isnan(flat[:, 0]))
            if nan_rows.size == 0:
                paths[pending] = sub
                break
            # One start diverged and the shared divergence check stopped all of
            # them: run the largest one (the likely culprit) alone, retry the rest.
            before = sub[:, nan_rows[0] - 1]
            culprit = pending[int(np.argmax(np.abs(before).max(axis=1)))]
            paths[culprit] = run(tf.grad, starts[culprit], lr, steps)
            pending.remove(culprit)
        return paths

    out = {}
    for opt_name in RACE_OPTIMIZERS if optimizers is None else optimizers:
        run = RACE_OPTIMIZERS[opt_name]
        if opt_name in RACE_BETA_PARAMS:
            run = functools.partial(run, **{RACE_BETA_PARAMS[opt_name]: beta})
        for lr in lrs:
            paths = all_starts(run, lr)
            out[(opt_name, lr)] = (paths, tf.f(np.moveaxis(paths, -1, 0)))
    return out


class _RunCache(dict):
    # Computing all 24 races up front costs seconds a learner may never use;
    # each is computed on first request and then served from memory.
    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, key):
        self[key] = value = self._compute(key)
        return value


def optimizer_race(name="rosenbrock", optimizer="gradient descent", lr=1e-3, beta=0.9, *, steps=600, starts=None):
    """Optimiser, learning-rate and momentum sliders over trajectories on Rosenbrock or Beale.

    Left: log-spaced contours with the paths from several starts (the star is
    the minimum). Right: the loss per step for each start. The β slider sets
    the momentum coefficient of the optimisers in :data:`RACE_BETA_PARAMS`
    (momentum's β, Adam's β₁); gradient descent and RMSProp have none, and
    the label then echoes β and says it is not used, so moving the slider
    visibly changes nothing else.

    Parameters
    ----------
    name : {"rosenbrock", "beale"}
    optimizer : str
        A key of :data:`RACE_OPTIMIZERS`.
    lr : float
        One of :data:`RACE_LRS`.
    beta : float, default 0.9
        One of :data:`RACE_BETAS`.
    steps : int, default 600
    starts : sequence of (2,) points, optional

    Returns
    -------
    LiveFigure
        Sliders ``"optimizer"``, ``"lr"`` and ``"beta"``; artists ``"paths"``
        and ``"losses"`` (lists of Line2D, one per start) and ``"label"``
        (Text); ``app.runs`` maps ``(optimiser, lr, beta)`` to :func:`race_runs`
        results, each computed the first time a slider asks for it and then
        kept. For an optimiser without β the key's ``beta`` is ``None``, so
        moving β does not recompute its runs.

    Raises
    ------
    ValueError
        If a choice is not among the slider values.

    Examples
    --------
    >>> app = optimizer_race("beale", steps=50)
    >>> app.sliders["optimizer"].value = "Adam"
    >>> app.sliders["beta"].value = 0.5
    >>> paths, _ = app.runs[("Adam", 1e-3, 0.5)]
    >>> np.allclose(app.artists["paths"][0].get_xydata(), paths[0], equal_nan=True)
    True
    >>> app.sliders["optimizer"].value = "RMSProp"
    >>> app.artists["label"].get_text().splitlines()[0]
    'RMSProp, η = 0.001 (β = 0.5 not used by RMSProp)'
    """
    if name not in RACE_STARTS:
        raise ValueError(f"name must be one of {tuple(RACE_STARTS)}; got {name!r}")
    if optimizer not in RACE_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(RACE_OPTIMIZERS)}; got {optimizer!r}")
    if lr not in RACE_LRS:
        raise ValueError(f"lr must be one of {RACE_LRS}; got {lr!r}")
    if beta not in RACE_BETAS:
        raise ValueError(f"beta must be one of {RACE_BETAS}; got {beta!r}")
    tf = tfn.get_test_function(name)
    starts = RACE_STARTS[name] if starts is None else starts
    runs = _RunCache(lambda key: race_runs(name, starts=starts, steps=steps, lrs=(key[1],), optimizers=(key[0],),
                                           beta=0.9 if key[2] is None else key[2])[key[:2]])
    X, Y, Z = grid_eval(tf.f, tf.xlim, tf.ylim, n=161)
    colours = [CYCLE[i % len(CYCLE)] for i in range(len(starts))]

    fig, (ax, ax_loss) = new_figure(1, 2, figsize=(10.5, 4.4), layout="constrained")
    contour_plot(ax, X, Y, Z + 1e-3, levels=18, log=True)
    paths = [ax.plot([], [], ".-", color=c, lw=1, ms=2)[0] for c in colours]
    for s, c in zip(starts, colours):
        ax.plot(*s, "o", color=c, ms=7, mec=PALETTE["black"])
    ax.plot(*tf.minima[0], "*", color=PALETTE["black"], ms=14, label="minimum")
    ax.set(xlim=tf.xlim, ylim=tf.ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
           title=f"{name.capitalize()}: paths from {len(starts)} starts")
    legend_outside(ax, side="below", ncol=2)
    label = _loss_panel(ax_loss, steps, (1e-12, 1e4), r"loss $f(\theta)$", "Loss per step (gaps: diverged)")
    losses = [ax_loss.plot([], [], color=c, lw=1.5, label=f"start {tuple(s)}")[0]
              for s, c in zip(starts, colours)]
    legend_outside(ax_loss, side="below", ncol=3)

    sliders = {
        "optimizer": slider(widgets.SelectionSlider, "optimiser", options=list(RACE_OPTIMIZERS), value=optimizer),
        "lr": slider(widgets.SelectionSlider, "learning rate η", options=list(RACE_LRS), value=lr),
        "beta": slider(widgets.SelectionSlider, "momentum β (Adam's β₁)", options=list(RACE_BETAS), value=beta),
    }

    def update(optimizer, lr, beta):
        used = optimizer in RACE_BETA_PARAMS
        run_paths, run_losses = runs[(optimizer, lr, beta if used else None)]
        finals = []
        for line, loss_line, p, L in zip(paths, losses, run_paths, run_losses):
            line.set_data(p[:, 0], p[:, 1])
            loss_line.set_data(np.arange(L.size), L)
            finals.append("diverged" if np.isnan(L[-1]) else f"{L[-1]:.1e}")
        symbol = {"beta": "β", "beta1": "β₁"}.get(RACE_BETA_PARAMS.get(optimizer))
        beta_text = f", {symbol} = {beta:g}" if used else f" (β = {beta:g} not used by {optimizer})"
        label.set_text(f"{optimizer}, η = {lr:g}{beta_text}\nloss after {steps} steps:\n" + ",  ".join(finals))

    app = live_figure(fig, sliders, {"paths": paths, "losses": losses, "label": label}, update)
    app.runs = runs
    return app


# --------------------------------------------------------------------------- depth


def depth_explorer(depth=20, max_depth=50):
    """A depth slider: how much gradient reaches layer ``k`` of an ``L``-layer chain.

    Curves: a chain of sigmoid layers (weight 1) with its bound
    ``0.25^(L - k)``, and linear recurrences with spectral norm 0.9 and 1.1.

    Parameters
    ----------
    depth : int, default 20
        Starting depth, in ``1..max_depth``.
    max_depth : int, default 50

    Returns
    -------
    LiveFigure
        Slider ``"depth"``; artists ``"sigmoid"``, ``"bound"``, ``"rho_0.9"``,
        ``"rho_1.1"`` (Line2D) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``depth`` is outside ``1..max_depth``.

    Examples
    --------
    >>> app = depth_explorer()
    >>> app.sliders["depth"].value = 2
    >>> np.allclose(app.artists["rho_0.9"].get_ydata(), [0.81, 0.9, 1.0])
    True
    """
    max_depth = check_count(max_depth, "max_depth", 1)
    depth = check_count(depth, "depth", 1, max_depth)
    curves = {L: depth_curves(L) for L in range(1, max_depth + 1)}

    fig, ax = new_figure(figsize=(7.5, 4.4), layout="constrained")
    ax.set_yscale("log")
    decade_ticks(ax)
    ax.set(xlim=(-0.5, max_depth + 0.5), ylim=(1e-32, 1e9))
    (sig,) = ax.plot([], [], "o-", color=PALETTE["vermillion"], ms=3, lw=1.5, label="sigmoid chain")
    (bound,) = ax.plot([], [], ":", color=PALETTE["vermillion"], lw=1.2, label="bound $0.25^{L-k}$")
    (low,) = ax.plot([], [], "s-", color=PALETTE["blue"], ms=3, lw=1.5, label=r"linear, $\|W\|_2 = 0.9$")
    (high,) = ax.plot([], [], "^-", color=PALETTE["orange"], ms=3, lw=1.5, label=r"linear, $\|W\|_2 = 1.1$")
    ax.axhline(1.0, color=PALETTE["black"], lw=0.8)
    ax.set(xlabel="layer (or time step) $k$",
           ylabel=r"gradient size $\|\partial a_L / \partial a_k\|$",
           title="How much gradient reaches layer $k$ of an $L$-layer chain")
    ax.legend(loc="upper right", fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    label = ax.text(0.97, 0.04, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5,
                    family="monospace", bbox={"facecolor": "white", "edgecolor": "0.7"})

    depth_slider = slider(widgets.IntSlider, "depth L", value=depth, min=1, max=max_depth)

    def update(depth):
        c = curves[depth]
        for line, key in ((sig, "sigmoid"), (bound, "bound"), (low, 0.9), (high, 1.1)):
            line.set_data(c["layers"], c[key])
        label.set_text(f"L = {depth}: gradient reaching layer 0\n"
                       f"  sigmoid chain  {c['sigmoid'][0]:.1e}\n"
                       f"  ‖W‖₂ = 0.9     {c[0.9][0]:.1e}\n"
                       f"  ‖W‖₂ = 1.1     {c[1.1][0]:.1e}")

    artists = {"sigmoid": sig, "bound": bound, "rho_0.9": low, "rho_1.1": high, "label": label}
    return live_figure(fig, {"depth": depth_slider}, artists, update)


# --------------------------------------------------------------------------- static figures

_POINT_STYLE = {  # marker, colour, size for each kind of critical point
    "minimum": ("*", PALETTE["black"], 14),
    "maximum": ("^", PALETTE["orange"], 10),
    "saddle": ("X", PALETTE["vermillion"], 11),
    "degenerate": ("s", PALETTE["reddish_purple"], 8),
}


def critical_points_figure(f, points, *, xlim, ylim, levels=16, n=121, title="Critical points and their type"):
    """Static figure: contours of ``f`` with its critical points marked by type.

    Parameters
    ----------
    f : callable
        ``f(theta)`` for ``theta`` of shape ``(2, ...)`` (vectorised, as for
        :func:`nablakit.landscape.grid_eval`).
    points : dict
        ``(theta1, theta2) -> kind``, the kind being one of
        :data:`nablakit.depth.CRITICAL_POINT_TYPES` (as returned by
        :func:`nablakit.depth.classify_critical_point`).
    xlim, ylim : (float, float)
        The window.
    levels : int or array_like, default 16
        Contour levels.
    n : int, default 121
        Grid points per axis.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One Axes (plus a colour bar); the markers are labelled ``"<kind> (x, y)"``.

    Raises
    ------
    ValueError
        If a kind is unknown or a point is not a pair.

    Examples
    --------
    >>> fig = critical_points_figure(lambda th: th[0]**2 - th[1]**2, {(0.0, 0.0): "saddle"},
    ...                              xlim=(-1, 1), ylim=(-1, 1), n=21)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['saddle (0, 0)']
    """
    check_callable(f, "f")
    X, Y, Z = grid_eval(f, xlim, ylim, n=n)
    fig, ax = static_figure(figsize=(6, 4.2))
    cs = contour_plot(ax, X, Y, Z, levels=levels)
    fig.colorbar(cs, ax=ax, label=r"$f(\theta)$")
    for point, kind in points.items():
        if kind not in _POINT_STYLE:
            raise ValueError(f"kind must be one of {tuple(_POINT_STYLE)}; got {kind!r}")
        x, y = as_float_array(point, "point", shape=(2,))
        marker, colour, size = _POINT_STYLE[kind]
        ax.plot(x, y, marker, color=colour, ms=size, ls="none", label=f"{kind} ({x:g}, {y:g})")
    ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def saddle_escape_figure(f, runs, *, lim=1.6, steps=100, threshold=1.0):
    """Static figure: runs near a saddle, on the contours and as ``|theta_2|`` per step.

    Parameters
    ----------
    f : callable
        The loss, vectorised over ``theta`` of shape ``(2, ...)``.
    runs : dict of str to array_like of shape (k, 2)
        Paths by label; at most ``steps + 1`` rows of each are drawn.
    lim : float, default 1.6
        The contour window is ``[-lim, lim]^2``.
    steps : int, default 100
        Steps shown.
    threshold : float, default 1.0
        A dotted line on the right panel: the "escaped" level.

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes: paths (left) and ``|theta_2|`` on a log scale (right),
        where an exact 0 falls below the plotted range.

    Examples
    --------
    >>> path = np.array([[1.0, 1e-3], [0.8, 2e-3], [0.6, 4e-3]])
    >>> fig = saddle_escape_figure(lambda th: th[0]**2 - th[1]**2, {"GD": path}, steps=2)
    >>> np.allclose(fig.axes[1].lines[0].get_ydata(), [1e-3, 2e-3, 4e-3])
    True
    """
    check_callable(f, "f")
    X, Y, Z = grid_eval(f, (-lim, lim), (-lim, lim), n=81)
    fig, (ax, ax2) = static_figure(1, 2, figsize=(10, 4.2))
    contour_plot(ax, X, Y, Z, levels=np.linspace(-lim**2, lim**2, 21))
    for (name, path), colour in zip(runs.items(), CYCLE):
        path = as_float_array(path, f"runs[{name!r}]", ndim=2)[: steps + 1]
        ax.plot(path[:, 0], path[:, 1], ".-", color=colour, ms=3, lw=1, label=name)
        ax2.semilogy(np.abs(path[:, 1]) + 1e-30, color=colour, lw=1.5, label=name)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
           title="Paths near the saddle")
    ax.legend(loc="lower left", fontsize=8)
    decade_ticks(ax2)
    ax2.axhline(threshold, color=PALETTE["black"], ls=":", lw=1)
    ax2.set(xlim=(0, steps), ylim=(1e-8, 10), xlabel="step", ylabel=r"$|\theta_2|$",
            title="Distance from the stable axis")
    ax2.grid(alpha=0.3)
    return fig


def gradient_flow_figure(flow, gd_paths, errors, *, time):
    """Static figure: gradient descent with several step sizes against the exact gradient flow.

    Parameters
    ----------
    flow : array_like of shape (k, 2)
        The flow from time 0 to ``time`` (e.g. :func:`nablakit.depth.quadratic_gradient_flow`).
    gd_paths : dict of float to array_like of shape (steps + 1, 2)
        Gradient-descent paths by learning rate, each stopped at ``time``.
    errors : dict of float to float
        Distance between each path's last point and the flow at ``time``.
    time : float
        The common stopping time, for the titles.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the paths; right: error against learning rate (log-log) with a
        dotted slope-1 line through the smallest learning rate.

    Raises
    ------
    ValueError
        If ``errors`` does not have the learning rates of ``gd_paths``.

    Examples
    --------
    >>> flow = np.array([[1.0, 1.0], [0.5, 0.2]])
    >>> fig = gradient_flow_figure(flow, {0.1: flow, 0.05: flow}, {0.1: 0.02, 0.05: 0.01}, time=1.0)
    >>> fig.axes[1].lines[0].get_ydata().tolist()
    [0.01, 0.02]
    """
    flow = as_float_array(flow, "flow", ndim=2)
    if sorted(errors) != sorted(gd_paths):
        raise ValueError(f"errors must have the learning rates {sorted(gd_paths)}; got {sorted(errors)}")
    etas = sorted(gd_paths)
    errs = np.array([errors[eta] for eta in etas])
    fig, (ax, ax2) = static_figure(1, 2, figsize=(10, 4))
    ax.plot(flow[:, 0], flow[:, 1], color=PALETTE["black"], lw=2.5, label="gradient flow")
    for eta, colour in zip(sorted(etas, reverse=True), CYCLE[1:]):
        path = as_float_array(gd_paths[eta], f"gd_paths[{eta}]", ndim=2)
        ax.plot(path[:, 0], path[:, 1], "o-", color=colour, ms=3, lw=1, label=f"GD, η = {eta:g}")
    ax.set(xlabel="$w_1$", ylabel="$w_2$", title=f"Gradient descent up to time $t = {time:g}$")
    ax.legend(fontsize=8)
    ax2.loglog(etas, errs, "o-", color=PALETTE["blue"], label=f"distance to the flow at $t = {time:g}$")
    ax2.loglog(etas, np.array(etas) * errs[0] / etas[0], ":", color=PALETTE["black"], label="slope 1")
    decade_ticks(ax2, which="xy")
    ax2.set_xticks(etas, labels=[f"{eta:g}" for eta in etas])  # ticks at the learning rates used
    ax2.set(xlabel="learning rate η (time step)", ylabel="error", title="Euler's method is first order")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    return fig


def gradient_norm_figure(histories, *, loss_ylim=(5e-3, 1e3), norm_ylim=(1e-3, 1e3)):
    """Static figure: loss and gradient norm per step of several training runs.

    Parameters
    ----------
    histories : dict of str to dict
        Run label -> history with ``"loss"`` and ``"grad_norm"`` arrays, as
        returned by :func:`nablakit.training.train_mlp` (NaN after divergence).
    loss_ylim, norm_ylim : (float, float)
        Limits of the two log axes.

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes, one line per run in each: loss (left), gradient norm (right).

    Raises
    ------
    ValueError
        If a history entry is not 1-D.

    Examples
    --------
    >>> hist = {"loss": np.array([1.0, 0.5, 0.2]), "grad_norm": np.array([2.0, 1.0, 0.4])}
    >>> fig = gradient_norm_figure({"GD": hist})
    >>> fig.axes[1].lines[0].get_ydata().tolist()
    [2.0, 1.0, 0.4]
    """
    fig, (ax, ax2) = static_figure(1, 2, figsize=(10.5, 4))
    for (name, hist), colour in zip(histories.items(), CYCLE):
        for a, key in ((ax, "loss"), (ax2, "grad_norm")):
            values = np.asarray(hist[key], dtype=float)  # NaN (diverged) leaves a gap
            if values.ndim != 1:
                raise ValueError(f"histories[{name!r}][{key!r}] must be 1-D; got shape {values.shape}")
            a.semilogy(values, color=colour, lw=1.2, label=name)
    ax.set(ylim=loss_ylim, xlabel="step", ylabel="training loss (MSE)", title="Loss")
    ax2.set(ylim=norm_ylim, xlabel="step", ylabel=r"$\|\nabla L\|$ (of the batch used)", title="Gradient norm")
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    decade_ticks(ax, ax2)
    ax.legend(fontsize=8)
    return fig


def loss_slice_figure(alphas, betas, Z, *, levels=25):
    """Static figure: a loss surface on a 2-D plane through a trained point, log-spaced contours.

    Parameters
    ----------
    alphas, betas : array_like of shape (nx,) and (ny,)
        Coordinates along the two directions.
    Z : array_like of shape (ny, nx)
        The loss, e.g. from :func:`nablakit.landscape.plane_slice`; positive.
    levels : int, default 25
        Number of levels, evenly spaced in ``log10(Z)`` from its minimum to its maximum.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes (plus a colour bar) with the trained point marked at (0, 0).

    Raises
    ------
    ValueError
        If the shapes do not fit or a value of ``Z`` is not positive.

    Examples
    --------
    >>> a = np.linspace(-1, 1, 11)
    >>> fig = loss_slice_figure(a, a, 1 + np.add.outer(a**2, a**2))
    >>> fig.axes[0].get_xlabel()
    'α (along $d_1$)'
    """
    alphas = as_float_array(alphas, "alphas", ndim=1)
    betas = as_float_array(betas, "betas", ndim=1)
    Z = as_float_array(Z, "Z", shape=(betas.size, alphas.size))
    if np.any(Z <= 0):
        raise ValueError("Z must be positive (a loss) for log-spaced levels")
    fig, ax = static_figure(figsize=(6, 5))
    # Contours of log10(Z) at even steps: log-spaced levels whose colours also spread evenly.
    logZ = np.log10(Z)
    steps = np.linspace(logZ.min(), logZ.max(), levels) if logZ.max() > logZ.min() else levels
    cs = contour_plot(ax, *np.meshgrid(alphas, betas), logZ, levels=steps)
    fig.colorbar(cs, ax=ax, label=r"$\log_{10}$ of the training loss", format="%.1f")
    ax.plot(0, 0, "*", color=PALETTE["vermillion"], ms=15, label=r"trained point $\theta^*$")
    ax.set(xlabel="α (along $d_1$)", ylabel="β (along $d_2$)", aspect="equal", title="Loss on a random 2-D slice")
    ax.legend(loc="lower left", fontsize=8)
    return fig
