"""Chapter 03 (The chain rule and backpropagation): a small graph, forwards and backwards.

The graph is a neuron with a skip connection, ``f = tanh(w x + x)``, built
from the operations of :mod:`nablakit.autodiff`::

    x ──►(*)── a = w x ──►(+)── s = a + x ──► f = tanh(s)
    w ──►(*)               ▲
    x ─────────────────────┘   (x is used twice)

An input slider moves ``x``; the figure shows every node's forward value, the
gradient that flows back along every edge, and each node's gradient ``df/d·``
(for ``x`` the sum of its two edges). Beside it, ``f`` as a function of ``x``
with the tangent whose slope is the backpropagated ``df/dx``.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from nablakit._validate import as_float_array
from nablakit.autodiff import EDGES, NODES, neuron_graph  # re-exported: the chapter's graph
from nablakit.plotting import PALETTE
from nablakit.widgets._base import legend_outside, live_figure, new_figure, slider

__all__ = ["NODES", "EDGES", "neuron_graph", "backprop_explorer"]

_POSITION = {"x": (0.0, 0.0), "w": (0.0, 1.0), "a": (1.2, 0.95), "s": (2.0, 0.0), "f": (3.0, 0.0)}
_OPERATION = {"x": "input", "w": "weight", "a": "a = w·x", "s": "s = a + x", "f": "f = tanh(s)"}
X_RANGE = (-2.0, 2.0)


# Where each edge's label sits relative to the edge's midpoint (diagonal edges: beside the arrow).
_LABEL_OFFSET = {("x", "a"): (0.15, -0.3), ("w", "a"): (0.0, 0.0), ("a", "s"): (0.22, -0.05),
                 ("x", "s"): (0.24, 0.0), ("s", "f"): (0.0, 0.0)}


def _edge_label_position(p, c):
    (x0, y0), (x1, y1) = _POSITION[p], _POSITION[c]
    dx, dy = _LABEL_OFFSET[(p, c)]
    return (x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy


def backprop_explorer(x=1.0, w=0.8):
    """Input slider over the graph ``f = tanh(w x + x)``: values forwards, gradients backwards.

    Left: the graph. Each node shows its forward value (black) and its
    gradient ``df/d·`` (blue); each edge shows the gradient flowing back along
    it (vermillion, with an arrow pointing backwards). Right: ``f`` against
    ``x``, the current point, and the tangent of slope ``df/dx``.

    Parameters
    ----------
    x : float, default 1.0
        Starting input, in [-2, 2].
    w : float, default 0.8
        The fixed weight.

    Returns
    -------
    LiveFigure
        Slider ``"x"``; artists ``"value_<node>"`` and ``"grad_<node>"``
        (Text), ``"edge_<operand>_<node>"`` (Text), ``"point"`` and
        ``"tangent"`` (Line2D): everything the slider moves.

    Raises
    ------
    ValueError
        If ``x`` lies outside [-2, 2].

    Examples
    --------
    >>> app = backprop_explorer()
    >>> app.sliders["x"].value = 0.5
    >>> app.artists["value_x"].get_text()
    'x = 0.50'
    """
    x = float(as_float_array(x, "x", ndim=0))
    if not X_RANGE[0] <= x <= X_RANGE[1]:
        raise ValueError(f"x must lie in [{X_RANGE[0]:g}, {X_RANGE[1]:g}]; got {x}")
    fig, (ax, ax_f) = new_figure(1, 2, figsize=(8.6, 3.3), gridspec_kw={"width_ratios": [1.7, 1]})
    artists = {}
    for p, c in EDGES:
        ax.annotate("", xy=_POSITION[c], xytext=_POSITION[p],
                    arrowprops={"arrowstyle": "-|>", "color": "0.55", "lw": 1.2, "shrinkA": 17, "shrinkB": 17})
        ex, ey = _edge_label_position(p, c)
        artists[f"edge_{p}_{c}"] = ax.text(ex, ey + 0.09, "", ha="center", va="bottom", fontsize=8.5,
                                           color=PALETTE["vermillion"])
    for name in NODES:
        nx, ny = _POSITION[name]
        ax.plot([nx], [ny], "o", ms=30, mfc="white", mec=PALETTE["black"], zorder=3)
        ax.text(nx, ny, name, ha="center", va="center", fontsize=12, zorder=4)
        below = -0.27
        artists[f"value_{name}"] = ax.text(nx, ny + below, "", ha="center", va="top", fontsize=8.5)
        artists[f"grad_{name}"] = ax.text(nx, ny + below - 0.16, "", ha="center", va="top", fontsize=8.5,
                                          color=PALETTE["blue"])
        ax.text(nx, ny + 0.25, _OPERATION[name], ha="center", va="bottom", fontsize=8, color="0.35")
    ax.set(xlim=(-0.5, 3.5), ylim=(-0.75, 1.45), title="Forward values, backward gradients",
           xlabel="values in black; gradient on each edge in vermillion (← backwards)",
           ylabel="graph of f = tanh(w·x + x)")
    ax.set_xticks([])
    ax.set_yticks([])

    xs = np.linspace(*X_RANGE, 161)
    ax_f.plot(xs, np.tanh((w + 1.0) * xs), color=PALETTE["black"], lw=1.5, label="f(x)")
    (tangent,) = ax_f.plot(xs, 0 * xs, color=PALETTE["blue"], lw=1.2, ls="--", label="slope df/dx (backprop)")
    (point,) = ax_f.plot([x], [0.0], "o", color=PALETTE["vermillion"], ms=7)
    ax_f.set(xlim=X_RANGE, ylim=(-1.3, 1.3), xlabel="input $x$", ylabel="$f$", title="f against x")
    ax_f.grid(alpha=0.3)
    legend_outside(ax_f, side="below", ncol=2)
    fig.tight_layout()
    artists.update(point=point, tangent=tangent)

    def update(x):
        g = neuron_graph(x, w)
        for name in NODES:
            artists[f"value_{name}"].set_text(f"{name} = {g['value'][name]:.2f}")
            artists[f"grad_{name}"].set_text(f"df/d{name} = {g['grad'][name]:.3f}")
        for p, c in EDGES:
            artists[f"edge_{p}_{c}"].set_text(f"← {g['edge'][(p, c)]:.3f}")
        point.set_data([x], [g["value"]["f"]])
        tangent.set_ydata(g["value"]["f"] + g["grad"]["x"] * (xs - x))

    x_slider = slider(widgets.FloatSlider, "input x", value=x, min=X_RANGE[0], max=X_RANGE[1], step=0.05,
                      readout_format=".2f")
    return live_figure(fig, {"x": x_slider}, artists, update)
