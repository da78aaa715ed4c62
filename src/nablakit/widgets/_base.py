"""The one shape every live figure of the course has.

A widget factory builds its figure once, keeps handles to the artists it will
move, and wires sliders to a callback that only updates those artists and
calls ``fig.canvas.draw_idle()``. It returns a :class:`LiveFigure`, which
displays as the widget box in a notebook and gives tests direct access to the
sliders and artists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt


@dataclass
class LiveFigure:
    """A figure, its sliders and the artists the sliders move.

    Attributes
    ----------
    box : ipywidgets.Widget
        What the notebook displays: sliders above the canvas.
    fig : matplotlib.figure.Figure
        The figure, built once.
    sliders : dict of str to ipywidgets.Widget
        The controls, by name.
    artists : dict of str to Artist
        The artists the callbacks update in place, by name.
    errors : ipywidgets.Output
        Where exceptions raised in callbacks are shown to the learner.
    """

    box: widgets.Widget
    fig: Any
    sliders: dict
    artists: dict
    errors: widgets.Output = field(default_factory=widgets.Output)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


def new_figure(*args, **kwargs):
    """Create a figure without showing it (it is shown inside the widget box).

    Takes the arguments of :func:`matplotlib.pyplot.subplots`.

    Examples
    --------
    >>> fig, ax = new_figure(figsize=(4, 3))
    >>> fig.get_size_inches().tolist()
    [4.0, 3.0]
    """
    with plt.ioff():
        fig, axes = plt.subplots(*args, **kwargs)
    canvas = fig.canvas
    # ipympl's canvas is a widget with these attributes; Agg's is not.
    for attr, value in (("header_visible", False), ("footer_visible", False), ("toolbar_position", "right")):
        if hasattr(canvas, attr):
            setattr(canvas, attr, value)
    return fig, axes


def canvas_widget(fig):
    """Return a widget that shows ``fig``: the ipympl canvas itself if it is one.

    Under a non-interactive backend (tests, static export) the figure is drawn
    into an ``Output`` widget instead, so a factory works everywhere.
    """
    if isinstance(fig.canvas, widgets.DOMWidget):
        return fig.canvas
    from IPython import get_ipython
    from IPython.display import display

    out = widgets.Output()
    if get_ipython() is not None:  # outside IPython there is nowhere to draw
        with out:
            display(fig)
    return out


def live_figure(fig, sliders, artists, update: Callable[..., None], *, layout="vertical"):
    """Wire ``sliders`` to ``update`` and return the :class:`LiveFigure`.

    ``update`` receives the sliders' current values as keyword arguments and
    must only change artists in place; this function calls ``draw_idle``
    afterwards. It is called once at the start so the figure matches the
    sliders. Exceptions in ``update`` are shown in an ``Output`` below the
    figure rather than lost.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax = new_figure()
    >>> (line,) = ax.plot([0, 1], [0, 0])
    >>> s = widgets.FloatSlider(value=0.0, min=-1, max=1, description="slope")
    >>> app = live_figure(fig, {"slope": s}, {"line": line},
    ...                   lambda slope: line.set_ydata([0, slope]))
    >>> s.value = 0.5
    >>> list(line.get_ydata())
    [0, 0.5]
    """
    errors = widgets.Output()

    def refresh(_change=None):
        if errors.outputs:
            errors.clear_output()
        try:
            update(**{name: s.value for name, s in sliders.items()})
        except Exception as exc:  # shown to the learner instead of vanishing
            with errors:
                print(f"{type(exc).__name__}: {exc}")
            return
        fig.canvas.draw_idle()

    for s in sliders.values():
        s.observe(refresh, names="value")
    refresh()
    controls = widgets.VBox(list(sliders.values()))
    canvas = canvas_widget(fig)
    if layout == "horizontal":
        box = widgets.HBox([controls, canvas])
    else:
        box = widgets.VBox([controls, canvas])
    box = widgets.VBox([box, errors])
    return LiveFigure(box=box, fig=fig, sliders=dict(sliders), artists=dict(artists), errors=errors)
