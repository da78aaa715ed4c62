"""Chapter 06 (Gradients in machine learning): learning rate, batch size, saliency.

All runs use the seeded line-fitting problem of :mod:`nablakit.regression`.
Each factory computes its runs once, for every value its slider can take,
and the callback only picks the precomputed curve and moves artists.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit._validate import as_float_array, check_positive
from nablakit.landscape import grid_eval
from nablakit.losses import mse, sigmoid
from nablakit.plotting import PALETTE, contour_plot, label_axes, plot_trajectory
from nablakit.regression import (
    gd_run,
    hessian_eigenvalues,
    least_squares,
    logistic_input_gradient,
    logistic_loss_input_gradient,
    make_regression,
    minibatch_gradients,
    sgd_run,
    sign_gradient_step,
    stable_learning_rate,
)
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = [
    "LR_GRID",
    "BATCH_SIZES",
    "SALIENCY_MODEL",
    "learning_rate_explorer",
    "batch_size_explorer",
    "saliency_figure",
]

#: Learning rates of the slider (0.02, 0.03, ..., 0.50); 2/lambda_max of the data is about 0.4497.
LR_GRID = np.round(np.arange(0.02, 0.5001, 0.01), 2)

#: Batch sizes of the SGD slider; 40 is the whole data set.
BATCH_SIZES = (1, 2, 4, 8, 16, 40)

#: The small logistic model of the saliency section: weights, bias, an input and the step size.
SALIENCY_MODEL = {
    "w": (1.2, -2.0, 0.4, 0.8),
    "b": -0.2,
    "x": (0.9, -0.3, 0.5, 0.2),
    "eps": 0.5,
}

_BOX = {"facecolor": "white", "edgecolor": "0.7"}


def learning_rate_explorer(lr=0.2, *, steps=100):
    """Learning-rate slider for gradient descent on the chapter's regression.

    Left: the path of the weights ``(w0, w1)`` over the MSE's contours.
    Middle: the excess loss ``L(w_t) - L(w*)`` against the step, on a log
    scale (a straight line down is convergence, up is divergence). Right:
    the excess loss after ``steps`` steps for every learning rate of the
    slider, with the threshold ``2 / lambda_max`` dashed and a marker at the
    current rate.

    Parameters
    ----------
    lr : float, default 0.2
        Starting learning rate, in [0.02, 0.5].
    steps : int, default 100
        Steps of every run.

    Returns
    -------
    LiveFigure
        Slider ``"lr"``; artists ``"path"`` (Line2D in weight space),
        ``"curve"`` (Line2D: step, excess loss), ``"marker"`` (Line2D at
        ``(lr, final excess loss)``) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``lr`` is outside [0.02, 0.5].

    Examples
    --------
    >>> app = learning_rate_explorer()
    >>> app.sliders["lr"].value = 0.46
    >>> bool(app.artists["curve"].get_ydata()[-1] > app.artists["curve"].get_ydata()[0])
    True
    """
    lr = check_positive(lr, "lr")
    if not LR_GRID[0] <= lr <= LR_GRID[-1]:
        raise ValueError(f"lr must lie in [{LR_GRID[0]}, {LR_GRID[-1]}]; got {lr}")
    X, y = make_regression()
    w_star = least_squares(X, y)
    critical = stable_learning_rate(X)
    lam = hessian_eigenvalues(X)
    runs = {float(r): gd_run(X, y, float(r), steps) for r in LR_GRID}
    finals = np.array([runs[float(r)].excess[-1] for r in LR_GRID])

    def run_for(rate):
        key = round(float(rate), 2)
        return runs[key] if np.isclose(key, rate, rtol=0, atol=1e-9) and key in runs else gd_run(X, y, rate, steps)

    fig, (ax_path, ax_curve, ax_final) = new_figure(1, 3, figsize=(14, 4.3), layout="constrained")

    W0, W1, Z = grid_eval(lambda w: np.mean((np.tensordot(X, w, axes=1) - y[:, None, None]) ** 2, axis=0),
                          (-1.5, 4.5), (-1.0, 5.0), n=121)
    # Contours of log10(L - L*), so that the colours spread evenly over many orders of magnitude.
    gap = np.log10(np.maximum(Z - mse(X, y, w_star), 1e-12))
    contour_plot(ax_path, W0, W1, gap, levels=np.linspace(-1.5, 1.8, 12))
    ax_path.plot(*w_star, "*", color=PALETTE["black"], ms=13, zorder=5, label="minimum $w^*$")
    path = plot_trajectory(ax_path, runs[float(LR_GRID[0])].path, label="gradient descent",
                           color=PALETTE["vermillion"], markersize=3)
    ax_path.set(xlim=(-1.5, 4.5), ylim=(-1.0, 5.0), aspect="equal")
    label_axes(ax_path, "intercept $w_0$", "slope $w_1$", "Path of the weights on the MSE contours")
    legend_outside(ax_path, side="below", ncol=2)

    step_axis = np.arange(steps + 1)
    (curve,) = ax_curve.semilogy(step_axis, runs[float(LR_GRID[0])].excess, color=PALETTE["vermillion"], lw=2)
    ax_curve.set(xlim=(0, steps), ylim=(1e-22, 1e20))
    ax_curve.grid(alpha=0.3, which="major")
    label_axes(ax_curve, "step $t$", r"excess loss $L(w_t) - L(w^*)$", "Loss curve at this learning rate")
    label = ax_curve.text(0.03, 0.97, "", transform=ax_curve.transAxes, va="top", family="monospace",
                          fontsize=9, bbox=_BOX)

    ax_final.semilogy(LR_GRID, finals, "o-", color=PALETTE["blue"], ms=3, lw=1.5, label=f"after {steps} steps")
    ax_final.axvline(critical, ls="--", color=PALETTE["black"], lw=1.5,
                     label=rf"$2/\lambda_{{max}} = {critical:.4f}$")
    (marker,) = ax_final.plot([], [], "o", color=PALETTE["vermillion"], ms=10, zorder=5, label="current η")
    ax_final.set(xlim=(0, 0.52), ylim=(1e-22, 1e20))
    ax_final.grid(alpha=0.3, which="major")
    label_axes(ax_final, r"learning rate $\eta$", "final excess loss", "Every learning rate of the slider")
    legend_outside(ax_final, side="below", ncol=2)

    lr_slider = slider(widgets.FloatSlider, "learning rate η", value=lr, min=float(LR_GRID[0]),
                       max=float(LR_GRID[-1]), step=0.01, readout_format=".2f")

    def update(lr):
        run = run_for(lr)
        path.set_data(run.path[:, 0], run.path[:, 1])
        curve.set_ydata(run.excess)
        marker.set_data([lr], [run.excess[-1]])
        verdict = "converges" if lr < critical else "diverges"
        slow, fast = np.abs(1.0 - lr * lam)
        label.set_text(f"η = {lr:.2f}  (2/λ_max = {critical:.4f}): {verdict}\n"
                       f"|1 - ηλ_min| = {slow:.3f}   |1 - ηλ_max| = {fast:.3f}\n"
                       f"excess loss at t = {steps}: {run.excess[-1]:.2e}")

    return live_figure(fig, {"lr": lr_slider}, {"path": path, "curve": curve, "marker": marker, "label": label},
                       update)


def batch_size_explorer(batch_size=1, *, lr=0.1, steps=150, draws=300, seed=0):
    """Batch-size slider for mini-batch SGD on the chapter's regression.

    Left: ``draws`` mini-batch gradients at the minimum ``w*``, where the
    full gradient is exactly zero; the cloud's spread is the noise SGD keeps
    feeling there. Right: SGD's excess loss against the step (log scale)
    beside full-batch gradient descent.

    Parameters
    ----------
    batch_size : int, default 1
        Starting batch size, one of :data:`BATCH_SIZES`.
    lr : float, default 0.1
        Learning rate of every run.
    steps : int, default 150
        Updates of every run.
    draws : int, default 300
        Mini-batch gradients in the cloud.
    seed : int, default 0
        Seed of the batch sampling.

    Returns
    -------
    LiveFigure
        Slider ``"batch_size"`` (a SelectionSlider over :data:`BATCH_SIZES`);
        artists ``"cloud"`` (PathCollection of the gradients), ``"curve"``
        (Line2D: step, SGD excess loss) and ``"label"`` (Text).

    Raises
    ------
    ValueError
        If ``batch_size`` is not in :data:`BATCH_SIZES`.

    Examples
    --------
    >>> app = batch_size_explorer()
    >>> app.sliders["batch_size"].value = 40
    >>> np.allclose(app.artists["cloud"].get_offsets(), 0.0)
    True
    """
    if batch_size not in BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {BATCH_SIZES}; got {batch_size!r}")
    lr = check_positive(lr, "lr")
    X, y = make_regression()
    w_star = least_squares(X, y)
    clouds = {b: minibatch_gradients(X, y, w_star, b, draws=draws, seed=seed) for b in BATCH_SIZES}
    runs = {b: sgd_run(X, y, lr, steps, b, seed=seed) for b in BATCH_SIZES}
    full = gd_run(X, y, lr, steps)
    tail = steps // 3

    fig, (ax_cloud, ax_curve) = new_figure(1, 2, figsize=(11.5, 4.4), layout="constrained")
    cloud = ax_cloud.scatter(clouds[batch_size][:, 0], clouds[batch_size][:, 1], s=9, alpha=0.5,
                             color=PALETTE["blue"], label="mini-batch gradients")
    ax_cloud.plot([0.0], [0.0], "*", color=PALETTE["vermillion"], ms=14, zorder=5,
                  label=r"full gradient $\nabla L(w^*) = 0$")
    reach = 1.1 * np.abs(clouds[BATCH_SIZES[0]]).max()
    ax_cloud.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal")
    ax_cloud.grid(alpha=0.3)
    label_axes(ax_cloud, r"$\partial L_B / \partial w_0$", r"$\partial L_B / \partial w_1$",
               "Mini-batch gradients at the minimum")
    legend_outside(ax_cloud, side="below", ncol=2)

    step_axis = np.arange(steps + 1)
    ax_curve.semilogy(step_axis, full.excess, ls="--", color=PALETTE["black"], lw=1.5,
                      label="full-batch gradient descent")
    (curve,) = ax_curve.semilogy(step_axis, runs[batch_size].excess, color=PALETTE["blue"], lw=1.5,
                                 label="mini-batch SGD")
    ax_curve.set(xlim=(0, steps), ylim=(1e-10, 1e2))
    ax_curve.grid(alpha=0.3)
    label_axes(ax_curve, "step $t$", r"excess loss $L(w_t) - L(w^*)$ on all data", f"SGD with η = {lr:g}")
    legend_outside(ax_curve, side="below", ncol=2)
    label = ax_curve.text(0.97, 0.97, "", transform=ax_curve.transAxes, va="top", ha="right",
                          family="monospace", fontsize=9, bbox=_BOX)

    b_slider = slider(widgets.SelectionSlider, "batch size b", options=list(BATCH_SIZES), value=batch_size)

    def update(batch_size):
        g = clouds[batch_size]
        cloud.set_offsets(g)
        curve.set_ydata(runs[batch_size].excess)
        spread = float(np.sqrt(np.mean(np.sum(g**2, axis=1))))
        plateau = float(np.mean(runs[batch_size].excess[-tail:]))
        label.set_text(f"b = {batch_size:2d}\nRMS gradient noise at w*: {spread:.3f}\n"
                       f"mean excess loss, last {tail} steps: {plateau:.1e}")

    return live_figure(fig, {"batch_size": b_slider}, {"cloud": cloud, "curve": curve, "label": label}, update)


def saliency_figure(model=None):
    """Static figure: the input gradient of a small logistic model and a sign-step that flips it.

    Left: ``dp/dx_j`` for each input feature (its absolute value is the
    saliency). Right: the predicted probability before and after the step
    ``x' = x + eps * sign(grad_x loss)`` for the predicted label, with the
    decision threshold 0.5.

    Parameters
    ----------
    model : dict, optional
        Keys ``w``, ``b``, ``x``, ``eps``; :data:`SALIENCY_MODEL` by default.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = saliency_figure()
    >>> [ax.get_title() for ax in fig.axes]
    ['Saliency: how the probability reacts to each input', 'One sign-of-gradient step flips the class']
    """
    model = dict(SALIENCY_MODEL if model is None else model)
    w = as_float_array(model["w"], "w", ndim=1)
    x = as_float_array(model["x"], "x", shape=w.shape)
    b = float(model["b"])
    eps = check_positive(model["eps"], "eps")
    p = float(sigmoid(w @ x + b))
    label = int(p >= 0.5)
    x_new = sign_gradient_step(x, logistic_loss_input_gradient(w, b, x, label), eps)
    p_new = float(sigmoid(w @ x_new + b))
    grad = logistic_input_gradient(w, b, x)

    fig, (ax_sal, ax_prob) = new_figure(1, 2, figsize=(10, 3.8), layout="constrained")
    names = [f"$x_{j}$" for j in range(w.size)]  # counted from 0, as in the chapter
    colours = [PALETTE["blue"] if v >= 0 else PALETTE["vermillion"] for v in grad]
    ax_sal.bar(names, grad, color=colours)
    ax_sal.axhline(0.0, color="0.4", lw=1)
    ax_sal.grid(alpha=0.3, axis="y")
    label_axes(ax_sal, "input feature", r"$\partial p / \partial x_j$",
               "Saliency: how the probability reacts to each input")
    bars = ax_prob.bar(["before", f"after the step\n(ε = {eps:g})"], [p, p_new],
                       color=[PALETTE["bluish_green"], PALETTE["orange"]])
    for bar, value in zip(bars, (p, p_new)):
        ax_prob.text(bar.get_x() + bar.get_width() / 2, value + 0.02, f"{value:.3f}", ha="center")
    ax_prob.axhline(0.5, ls="--", color=PALETTE["black"], lw=1.2, label="decision threshold 0.5")
    ax_prob.set_ylim(0, 1.05)
    ax_prob.legend(loc="upper right", fontsize=8)
    label_axes(ax_prob, "input", r"predicted $p = \sigma(w^\top x + b)$", "One sign-of-gradient step flips the class")
    return fig
