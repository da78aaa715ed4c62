"""Chapter 08 (Loss landscapes): ravine, optimiser race and depth widgets.

Every trajectory a slider can show is computed once when the widget is
built; the callbacks only hand precomputed arrays to existing artists.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit import depth as dp
from nablakit import optimizers as opt
from nablakit import testfunctions as tfn
from nablakit._validate import as_float_array
from nablakit.landscape import grid_eval
from nablakit.plotting import CYCLE, PALETTE, contour_plot
from nablakit.widgets._base import live_figure, new_figure

__all__ = [
    "RAVINE_KAPPAS", "RAVINE_FRACTIONS", "ravine_runs", "ravine_explorer",
    "RACE_OPTIMIZERS", "RACE_LRS", "RACE_STARTS", "race_runs", "optimizer_race",
    "depth_curves", "depth_explorer",
]


def _first_settled(losses, threshold):
    """First step from which ``losses`` stays below ``threshold`` (None if it never does)."""
    with np.errstate(invalid="ignore"):
        below = losses < threshold
    if not below[-1]:
        return None
    above = np.flatnonzero(~below)
    return int(above[-1] + 1) if above.size else 0


# --------------------------------------------------------------------------- ravine

RAVINE_KAPPAS = (1, 2, 5, 10, 20, 50, 100)
#: Learning rate as a fraction of the stability limit 2 / lambda_max.
RAVINE_FRACTIONS = (0.1, 0.25, 0.5, 0.9, 0.99, 1.05)


def ravine_runs(kappas=RAVINE_KAPPAS, fractions=RAVINE_FRACTIONS, *, start=(-2.0, 1.0), steps=200, beta=0.9,
                horizon=3000, threshold=1e-6):
    """Gradient descent and momentum on ``w1^2 + kappa w2^2`` at ``lr = fraction * 2 / lambda_max``.

    All combinations run at once with :func:`nablakit.depth.diagonal_quadratic_runs`
    (the update rules of :mod:`nablakit.optimizers`, vectorised over runs).

    Parameters
    ----------
    kappas, fractions : sequences of float
        Condition numbers (> 0) and learning rates as fractions of the
        stability limit ``2 / lambda_max`` with ``lambda_max = 2 max(1, kappa)``.
    start : array_like of shape (2,)
    steps : int
        Steps kept in the returned paths and losses.
    beta : float
        Momentum coefficient.
    horizon : int
        Steps run to count how long each method needs.
    threshold : float
        Loss level for the count.

    Returns
    -------
    dict
        ``(kappa, fraction) ->`` dict with ``lr``, ``paths`` (method ->
        (steps + 1, 2)), ``losses`` (method -> (steps + 1,)) and ``settled``
        (method -> first step from which the loss stays below ``threshold``
        within ``horizon`` steps, or None). Methods: ``"gradient descent"``,
        ``"momentum"``.

    Examples
    --------
    >>> run = ravine_runs([100], [0.5])[(100, 0.5)]
    >>> run["lr"]
    0.005
    >>> run["settled"]["gradient descent"] > run["settled"]["momentum"]
    True
    """
    start = as_float_array(start, "start", shape=(2,))
    combos = [(k, r) for k in kappas for r in fractions]
    lam = np.array([[2.0, 2.0 * k] for k, _ in combos])
    lrs = np.array([r * dp.max_stable_lr(np.diag(row)) for row, (_, r) in zip(lam, combos)])
    out = {c: {"lr": float(lr), "paths": {}, "losses": {}, "settled": {}} for c, lr in zip(combos, lrs)}
    for name, b in (("gradient descent", 0.0), ("momentum", beta)):
        paths = dp.diagonal_quadratic_runs(lam, start, lrs, horizon, beta=b)
        losses = 0.5 * np.sum(lam[:, None, :] * paths**2, axis=-1)
        for i, c in enumerate(combos):
            out[c]["paths"][name] = paths[i, : steps + 1]
            out[c]["losses"][name] = losses[i, : steps + 1]
            out[c]["settled"][name] = _first_settled(losses[i], threshold)
    return out


def ravine_explorer(kappa=10, fraction=0.9, *, steps=200, start=(-2.0, 1.0), beta=0.9):
    """Condition-number and learning-rate sliders over gradient descent and momentum on a ravine.

    Left: level curves of ``w1^2 + kappa w2^2`` (drawn as ellipses, so a
    slider can reshape them in place) with both paths. Right: the loss per
    step on a log scale. The learning rate is set as a fraction of the
    stability limit ``2 / lambda_max``.

    Parameters
    ----------
    kappa : int, default 10
        One of :data:`RAVINE_KAPPAS`.
    fraction : float, default 0.9
        One of :data:`RAVINE_FRACTIONS`.
    steps : int, default 200
        Steps drawn.
    start : array_like of shape (2,)
    beta : float, default 0.9
        Momentum coefficient.

    Returns
    -------
    LiveFigure
        Sliders ``"kappa"`` and ``"fraction"``; artists ``"levels"`` (list of
        Line2D), ``"path_gd"``, ``"path_momentum"``, ``"loss_gd"``,
        ``"loss_momentum"`` (Line2D) and ``"label"`` (Text). ``app.runs[(kappa,
        fraction)]`` holds the :func:`ravine_runs` results.

    Raises
    ------
    ValueError
        If ``kappa`` or ``fraction`` is not among the slider values.

    Examples
    --------
    >>> app = ravine_explorer()
    >>> app.sliders["kappa"].value = 100
    >>> np.allclose(app.artists["path_gd"].get_xydata(), app.runs[(100, 0.9)]["paths"]["gradient descent"])
    True
    """
    if kappa not in RAVINE_KAPPAS:
        raise ValueError(f"kappa must be one of {RAVINE_KAPPAS}; got {kappa!r}")
    if fraction not in RAVINE_FRACTIONS:
        raise ValueError(f"fraction must be one of {RAVINE_FRACTIONS}; got {fraction!r}")
    start = as_float_array(start, "start", shape=(2,))
    runs = ravine_runs(RAVINE_KAPPAS, RAVINE_FRACTIONS, start=start, steps=steps, beta=beta)
    level_values = np.geomspace(0.02, 8.0, 10)
    t = np.linspace(0, 2 * np.pi, 241)
    colours = {"gradient descent": PALETTE["vermillion"], "momentum": PALETTE["blue"]}

    fig, (ax, ax_loss) = new_figure(1, 2, figsize=(10, 4.2))
    levels = [ax.plot([], [], color="0.7", lw=0.8)[0] for _ in level_values]
    path_gd, path_mom = (ax.plot([], [], ".-", color=colours[n], lw=1, ms=3, label=n)[0] for n in colours)
    ax.plot(*start, "o", color=PALETTE["black"], ms=6, label="start")
    ax.plot(0, 0, "*", color=PALETTE["black"], ms=12, label="minimum")
    ax.set(xlim=(-2.4, 2.4), ylim=(-1.4, 1.4), xlabel="$w_1$", ylabel="$w_2$",
           title=r"Paths on $w_1^2 + \kappa\, w_2^2$")
    ax.legend(loc="lower right", fontsize=8)
    ax_loss.set_yscale("log")
    ax_loss.set(xlim=(0, steps), ylim=(1e-10, 1e4), xlabel="step", ylabel="loss",
                title="Loss per step (dotted: $10^{-6}$)")
    loss_gd, loss_mom = (ax_loss.plot([], [], color=colours[n], lw=1.5, label=n)[0] for n in colours)
    ax_loss.axhline(1e-6, color=PALETTE["black"], ls=":", lw=1)
    ax_loss.legend(loc="upper right", fontsize=8)
    ax_loss.grid(alpha=0.3)
    label = ax_loss.text(0.03, 0.04, "", transform=ax_loss.transAxes, fontsize=8.5,
                         bbox={"facecolor": "white", "edgecolor": "0.7"})
    fig.tight_layout()

    style = {"description_width": "initial"}
    sliders = {
        "kappa": widgets.SelectionSlider(options=list(RAVINE_KAPPAS), value=kappa,
                                         description="condition number κ", style=style),
        "fraction": widgets.SelectionSlider(options=list(RAVINE_FRACTIONS), value=fraction,
                                            description="η as a fraction of 2/λ_max", style=style),
    }

    def describe(n):
        return f"{n} steps" if n is not None else "not within 3000 steps"

    def update(kappa, fraction):
        run = runs[(kappa, fraction)]
        for line, c in zip(levels, level_values):
            line.set_data(np.sqrt(c) * np.cos(t), np.sqrt(c / kappa) * np.sin(t))
        for line, name in ((path_gd, "gradient descent"), (path_mom, "momentum")):
            line.set_data(run["paths"][name][:, 0], run["paths"][name][:, 1])
        for line, name in ((loss_gd, "gradient descent"), (loss_mom, "momentum")):
            line.set_data(np.arange(len(run["losses"][name])), run["losses"][name])
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
RACE_STARTS = {
    "rosenbrock": ((-1.5, 2.0), (-1.0, -0.5), (1.8, 3.2)),
    "beale": ((1.0, 1.5), (-2.0, 2.0), (2.0, -1.5)),
}


def race_runs(name, *, starts=None, steps=600, lrs=RACE_LRS, optimizers=None):
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


def optimizer_race(name="rosenbrock", optimizer="gradient descent", lr=1e-3, *, steps=600, starts=None):
    """Optimiser and learning-rate sliders over precomputed trajectories on Rosenbrock or Beale.

    Left: log-spaced contours with the paths from several starts (the star is
    the minimum). Right: the loss per step for each start.

    Parameters
    ----------
    name : {"rosenbrock", "beale"}
    optimizer : str
        A key of :data:`RACE_OPTIMIZERS`.
    lr : float
        One of :data:`RACE_LRS`.
    steps : int, default 600
    starts : sequence of (2,) points, optional

    Returns
    -------
    LiveFigure
        Sliders ``"optimizer"`` and ``"lr"``; artists ``"paths"`` and
        ``"losses"`` (lists of Line2D, one per start) and ``"label"`` (Text);
        ``app.runs`` maps ``(optimiser, lr)`` to :func:`race_runs` results,
        each computed the first time a slider asks for it and then kept.

    Raises
    ------
    ValueError
        If a choice is not among the slider values.

    Examples
    --------
    >>> app = optimizer_race("beale", steps=50)
    >>> app.sliders["optimizer"].value = "Adam"
    >>> paths, _ = app.runs[("Adam", 1e-3)]
    >>> np.allclose(app.artists["paths"][0].get_xydata(), paths[0], equal_nan=True)
    True
    """
    if name not in RACE_STARTS:
        raise ValueError(f"name must be one of {tuple(RACE_STARTS)}; got {name!r}")
    if optimizer not in RACE_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(RACE_OPTIMIZERS)}; got {optimizer!r}")
    if lr not in RACE_LRS:
        raise ValueError(f"lr must be one of {RACE_LRS}; got {lr!r}")
    tf = tfn.get_test_function(name)
    starts = RACE_STARTS[name] if starts is None else starts
    runs = _RunCache(lambda key: race_runs(name, starts=starts, steps=steps, lrs=(key[1],), optimizers=(key[0],))[key])
    X, Y, Z = grid_eval(tf.f, tf.xlim, tf.ylim, n=161)
    colours = [CYCLE[i % len(CYCLE)] for i in range(len(starts))]

    fig, (ax, ax_loss) = new_figure(1, 2, figsize=(10.5, 4.4))
    contour_plot(ax, X, Y, Z + 1e-3, levels=18, log=True)
    paths = [ax.plot([], [], ".-", color=c, lw=1, ms=2)[0] for c in colours]
    for s, c in zip(starts, colours):
        ax.plot(*s, "o", color=c, ms=7, mec=PALETTE["black"])
    ax.plot(*tf.minima[0], "*", color=PALETTE["black"], ms=14, label="minimum")
    ax.set(xlim=tf.xlim, ylim=tf.ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
           title=f"{name.capitalize()}: paths from {len(starts)} starts")
    ax.legend(loc="lower right", fontsize=8)
    ax_loss.set_yscale("log")
    ax_loss.set(xlim=(0, steps), ylim=(1e-12, 1e4), xlabel="step", ylabel=r"loss $f(\theta)$",
                title="Loss per step (gaps: diverged)")
    losses = [ax_loss.plot([], [], color=c, lw=1.5, label=f"start {tuple(s)}")[0]
              for s, c in zip(starts, colours)]
    ax_loss.legend(loc="upper right", fontsize=8)
    ax_loss.grid(alpha=0.3)
    label = ax_loss.text(0.03, 0.04, "", transform=ax_loss.transAxes, fontsize=8.5,
                         bbox={"facecolor": "white", "edgecolor": "0.7"})
    fig.tight_layout()

    style = {"description_width": "initial"}
    sliders = {
        "optimizer": widgets.SelectionSlider(options=list(RACE_OPTIMIZERS), value=optimizer,
                                             description="optimiser", style=style),
        "lr": widgets.SelectionSlider(options=list(RACE_LRS), value=lr, description="learning rate η", style=style),
    }

    def update(optimizer, lr):
        run_paths, run_losses = runs[(optimizer, lr)]
        finals = []
        for line, loss_line, p, L in zip(paths, losses, run_paths, run_losses):
            line.set_data(p[:, 0], p[:, 1])
            loss_line.set_data(np.arange(L.size), L)
            finals.append("diverged" if np.isnan(L[-1]) else f"{L[-1]:.1e}")
        label.set_text(f"{optimizer}, η = {lr:g}\nloss after {steps} steps:\n" + ",  ".join(finals))

    app = live_figure(fig, sliders, {"paths": paths, "losses": losses, "label": label}, update)
    app.runs = runs
    return app


# --------------------------------------------------------------------------- depth


def depth_curves(depth, rhos=(0.9, 1.1)):
    """Gradient norms reaching each layer of a sigmoid chain and of linear recurrences.

    Parameters
    ----------
    depth : int
        Number of layers / time steps ``L``.
    rhos : sequence of float
        Spectral norms of the recurrent matrices (:func:`nablakit.depth.scaled_rotation`).

    Returns
    -------
    dict
        ``"layers"`` (0..L), ``"sigmoid"`` (``|d a_L / d a_k|``), ``"bound"``
        (``0.25 ** (L - k)``) and one entry per ``rho`` (``||W^(L-k)||_2``).

    Examples
    --------
    >>> curves = depth_curves(3)
    >>> np.allclose(curves[1.1], [1.331, 1.21, 1.1, 1.0])
    True
    """
    _, grads = dp.sigmoid_chain(depth)
    out = {"layers": np.arange(depth + 1), "sigmoid": np.abs(grads),
           "bound": 0.25 ** (depth - np.arange(depth + 1.0))}
    for rho in rhos:
        out[rho] = dp.recurrence_grad_norms(dp.scaled_rotation(rho), depth)
    return out


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
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth must be a positive integer; got {max_depth!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= max_depth:
        raise ValueError(f"depth must be an integer in 1..{max_depth}; got {depth!r}")
    curves = {L: depth_curves(L) for L in range(1, max_depth + 1)}

    fig, ax = new_figure(figsize=(7.5, 4.4))
    ax.set_yscale("log")
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
    fig.tight_layout()

    slider = widgets.IntSlider(value=depth, min=1, max=max_depth, description="depth L",
                               style={"description_width": "initial"})

    def update(depth):
        c = curves[depth]
        for line, key in ((sig, "sigmoid"), (bound, "bound"), (low, 0.9), (high, 1.1)):
            line.set_data(c["layers"], c[key])
        label.set_text(f"L = {depth}: gradient reaching layer 0\n"
                       f"  sigmoid chain  {c['sigmoid'][0]:.1e}\n"
                       f"  ‖W‖₂ = 0.9     {c[0.9][0]:.1e}\n"
                       f"  ‖W‖₂ = 1.1     {c[1.1][0]:.1e}")

    artists = {"sigmoid": sig, "bound": bound, "rho_0.9": low, "rho_1.1": high, "label": label}
    return live_figure(fig, {"depth": slider}, artists, update)
