"""The one shape every live figure of the course has, and how it redraws.

A widget factory builds its figure once (:func:`new_figure`), keeps handles
to the artists it will move, and wires sliders (:func:`slider`) to a
callback that only updates those artists. :func:`live_figure` returns a
:class:`LiveFigure`, which displays as the widget box in a notebook and gives
tests direct access to the sliders and artists.

Redrawing only what moves (blitting)
------------------------------------
A full redraw of a figure with contour fills, colour bars or a 3-D surface
costs 40-300 ms of CPU; the moving artists (points, arrows, lines, text)
cost a few. So the moving artists are marked ``animated``: a full draw
skips them, the picture without them (the static background) is kept with
``copy_from_bbox`` on every ``draw_event``, and the moving artists are drawn
on top. A slider step then restores the background, draws only the moving
artists and calls ``canvas.blit``. ipympl's canvas reports
``supports_blit = False``, but its ``blit`` sends the renderer's buffer as a
PNG frame like a full draw does (a *diff* frame, only the changed pixels,
when every pixel is opaque), which is all this needs; :mod:`._frames` makes
those frames safe to lose (the browser drops a frame that the next one
overtakes). Under Agg (tests, headless runs) the same calls update the
canvas buffer.

A step falls back to a full redraw when there is no valid background: before
the first draw, after the canvas was resized or the renderer replaced, when
an axes' limits changed, when a static (not animated) artist changed (the
figure is then *stale*), or when the callback returns ``True`` to say it
changed static content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import NullLocator

from nablakit.widgets._frames import fast_frames

#: Dots per inch of every course figure: a screen resolution, not a print one.
SCREEN_DPI = 90
#: Widest figure in pixels: fits a 1400-px browser window beside JupyterLab's side bar.
MAX_WIDTH_PX = 1180
#: Width of a slider, so that the longest description, the track and the readout fit.
SLIDER_WIDTH = "520px"


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
    blitter : Blitter or None
        What redraws the moving artists (None if nothing moves).
    """

    box: widgets.Widget
    fig: Any
    sliders: dict
    artists: dict
    errors: widgets.Output = field(default_factory=widgets.Output)
    blitter: Any = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


def new_figure(*args, **kwargs):
    """Create a figure for the screen without showing it (it is shown inside the widget box).

    Takes the arguments of :func:`matplotlib.pyplot.subplots`. The figure gets
    :data:`SCREEN_DPI` (less if it would be wider than :data:`MAX_WIDTH_PX`)
    and an opaque white background, so ipympl can send small diff frames.

    Examples
    --------
    >>> fig, ax = new_figure(figsize=(4, 3))
    >>> fig.get_size_inches().tolist(), float(fig.dpi)
    ([4.0, 3.0], 90.0)
    >>> new_figure(figsize=(14, 4))[0].dpi * 14 <= MAX_WIDTH_PX
    True
    """
    width = kwargs.get("figsize", plt.rcParams["figure.figsize"])[0]
    kwargs.setdefault("dpi", min(SCREEN_DPI, MAX_WIDTH_PX / width))
    kwargs.setdefault("facecolor", "white")
    with plt.ioff():
        fig, axes = plt.subplots(*args, **kwargs)
    fig.patch.set_alpha(1.0)
    canvas = fig.canvas
    fast_frames(canvas)
    # ipympl's canvas is a widget with these attributes; Agg's is not.
    for attr, value in (("header_visible", False), ("footer_visible", False), ("toolbar_position", "right")):
        if hasattr(canvas, attr):
            setattr(canvas, attr, value)
    return fig, axes


def decade_ticks(*axes, which="y"):
    """Keep only the decade ticks on the log-scaled ``which`` axis ("x", "y" or "xy") of each Axes.

    Log axes spanning many decades otherwise carry eight unlabelled minor
    ticks per decade, which roughly doubles the time to draw the figure, for
    every redraw of a live figure.

    Parameters
    ----------
    *axes : matplotlib.axes.Axes
        The axes to thin out.
    which : {"x", "y", "xy"}, default "y"
        Which axis of each.

    Returns
    -------
    None

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> ax.set_yscale("log")
    >>> decade_ticks(ax)
    >>> type(ax.yaxis.get_minor_locator()).__name__
    'NullLocator'
    """
    for ax in axes:
        for name in which:
            getattr(ax, f"{name}axis").set_minor_locator(NullLocator())


#: Points between the bottom of an axes and a legend put below it: tick labels and axis label fit in between.
BELOW_AXES_PT = 38.0


def legend_outside(ax, *, side="right", **kwargs):
    """Put the legend of ``ax`` outside the axes, where no moving artist can reach it.

    Moving artists are clipped to their axes, so a legend beside the axes is
    never drawn over, whatever the sliders do; a legend inside could be
    (a tangent line, an optimiser's path). The layout engine of
    :func:`new_figure` makes room for it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    side : {"right", "below"}, default "right"
        "below" puts it under the axis label, in columns (``ncol``).
    **kwargs
        Passed on to ``ax.legend`` (e.g. ``fontsize``, ``ncol``, ``handles``).

    Returns
    -------
    matplotlib.legend.Legend

    Examples
    --------
    >>> fig, ax = new_figure(layout="constrained")
    >>> _ = ax.plot([0, 1], [0, 1], label="a line")
    >>> leg = legend_outside(ax)
    >>> fig.canvas.draw()
    >>> bool(leg.get_window_extent().x0 >= ax.bbox.x1)
    True
    """
    kwargs.setdefault("fontsize", 8)
    if side == "right":
        return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)
    if side == "below":
        # Clear of one row of tick labels and the axis label (about 36 points);
        # borderaxespad counts in units of the legend's font size.
        size = FontProperties(size=kwargs["fontsize"]).get_size_in_points()
        return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=BELOW_AXES_PT / size,
                         **kwargs)
    raise ValueError(f"side must be 'right' or 'below'; got {side!r}")


def static_figure(*args, **kwargs):
    """:func:`new_figure` for a figure that is drawn once, as a picture.

    No layout engine: Jupyter saves such figures with a tight bounding box,
    which fits the outer margins to the labels anyway, while a layout engine
    would run again at every draw (about a quarter of the drawing time). The
    axes are placed with fixed margins; side-by-side panels keep room for
    their axis labels.

    Parameters
    ----------
    *args, **kwargs
        As for :func:`matplotlib.pyplot.subplots` (without ``layout``).

    Returns
    -------
    tuple
        ``(fig, axes)`` as from :func:`matplotlib.pyplot.subplots`, not shown yet.

    Examples
    --------
    >>> fig, axes = static_figure(1, 2)
    >>> fig.get_layout_engine() is None, fig.subplotpars.wspace
    (True, 0.28)
    """
    fig, axes = new_figure(*args, **kwargs)
    fig.subplots_adjust(left=0.08, right=0.96, bottom=0.12, top=0.9, wspace=0.28)
    return fig, axes


def slider(kind, description, **kwargs):
    """An ipywidgets slider whose description is shown in full.

    The description gets its natural width and the slider
    :data:`SLIDER_WIDTH`, so a long label such as "condition number κ" is
    not cut off; ``continuous_update`` is on (the figure follows the hand).

    Parameters
    ----------
    kind : type
        ``widgets.FloatSlider``, ``widgets.IntSlider``, ``widgets.SelectionSlider``, ...
    description : str
        What the slider sets, in words.
    **kwargs
        Passed on; ``style`` and ``layout`` entries are merged with the defaults.

    Examples
    --------
    >>> s = slider(widgets.FloatSlider, "condition number κ", min=1, max=30)
    >>> s.style.description_width, s.layout.width, s.continuous_update
    ('initial', '520px', True)
    """
    style = {"description_width": "initial", **kwargs.pop("style", {})}
    layout = {"width": SLIDER_WIDTH, **kwargs.pop("layout", {})}
    kwargs.setdefault("continuous_update", True)
    return kind(description=description, style=style, layout=layout, **kwargs)


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


def flatten_artists(artists):
    """The Artists in ``artists`` (a dict or list whose values may be lists of Artists).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> a, b = ax.plot([0], [0])[0], ax.plot([1], [1])[0]
    >>> len(flatten_artists({"one": a, "many": [a, b]}))
    2
    """
    values = artists.values() if isinstance(artists, dict) else artists
    found = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, Artist) and item not in found:
                found.append(item)
    return found


class Blitter:
    """Redraw only the moving artists of ``fig`` over a cached static background.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    moving : list of Artist
        Marked ``animated``: full draws skip them, :meth:`draw_moving` draws them.

    Attributes
    ----------
    blits, full_draws : int
        How many updates were blitted and how many asked for a full redraw.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> (line,) = ax.plot([0, 1], [0, 1])
    >>> b = Blitter(fig, [line])
    >>> fig.canvas.draw()    # a full draw keeps the background (and draws the line on it)
    >>> line.set_ydata([1, 0])
    >>> b.refresh()          # blitted: only the line is redrawn
    >>> b.blits, b.full_draws
    (1, 0)
    """

    def __init__(self, fig, moving):
        self.fig = fig
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)
            # A moving label must not shift the axes when its text changes (a layout
            # engine would then move the whole figure under a blitted background).
            artist.set_in_layout(False)
        self.background = None
        self._renderer = None
        self._state = None
        self.blits = 0
        self.full_draws = 0
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        fig.canvas.mpl_connect("resize_event", self.invalidate)

    def _static_state(self):
        """What the background depends on besides the static artists: size, dpi, every axes' place and limits."""
        return (tuple(self.fig.bbox.size), self.fig.dpi,
                tuple((tuple(ax.get_position(original=True).bounds), tuple(ax.viewLim.bounds))
                      for ax in self.fig.axes))

    def invalidate(self, _event=None):
        """Forget the background: the next :meth:`refresh` redraws everything."""
        self.background = None

    def _on_draw(self, event):
        # A full draw has just finished without the animated artists: keep it as
        # the background (if it was drawn on this canvas's own renderer, not for a
        # savefig at another size or format), then draw the moving artists on top.
        canvas = self.fig.canvas
        if event is not None and event.canvas.is_saving():
            # savefig draws animated artists itself, in z-order; its picture is no background
            self.background = None
            return
        own = event is not None and event.canvas is canvas and event.renderer is getattr(canvas, "renderer", None)
        if own and hasattr(canvas, "copy_from_bbox"):
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            self._renderer = event.renderer
            self._state = self._static_state()
        elif own:
            self.background = None
        renderer = event.renderer if event is not None else canvas.get_renderer()
        for artist in self.moving:
            if artist.get_visible() and artist.get_figure(root=True) is self.fig:
                artist.draw(renderer)

    def valid(self):
        """Whether the cached background still matches the figure."""
        canvas = self.fig.canvas
        return (self.background is not None and self._state == self._static_state()
                and getattr(canvas, "renderer", None) is self._renderer)

    def draw_moving(self):
        """Restore the background, draw the moving artists, send the frame (``canvas.blit``)."""
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for artist in self.moving:
            if artist.get_visible() and artist.axes is not None:
                artist.axes.draw_artist(artist)
            elif artist.get_visible():
                self.fig.draw_artist(artist)
        canvas.blit(self.fig.bbox)

    def refresh(self, static_changed=False):
        """Show the current state: blit if the background is valid, else ask for a full redraw.

        The figure is *stale* only if an artist that is not animated changed
        (animated artists do not propagate staleness): then the background is
        out of date too. A stale figure would also be redrawn in full by
        pyplot after every kernel message in interactive mode (ipympl).
        """
        if static_changed or self.fig.stale or not self.valid():
            self.invalidate()
            self.full_draws += 1
            self.fig.canvas.draw_idle()
            return
        self.blits += 1
        self.draw_moving()


def settle_layout(fig, passes=2):
    """Run the figure's layout engine now and keep the result: later draws do not move the axes.

    A layout engine (``layout="constrained"``) runs at every full draw and may
    move the axes by a pixel or two between the first draws (colour-bar ticks
    settle), which would misplace a cached background; it also costs about a
    quarter of every full draw. Afterwards the figure has no layout engine.

    Examples
    --------
    >>> fig, ax = new_figure(layout="constrained")
    >>> settle_layout(fig)
    >>> fig.get_layout_engine().__class__.__name__
    'NoneType'
    """
    engine = fig.get_layout_engine()
    if engine is None or not hasattr(engine, "execute") or type(engine).__name__ == "PlaceHolderLayoutEngine":
        return
    for _ in range(passes):
        engine.execute(fig)
    fig.set_layout_engine(None)


def live_figure(fig, sliders, artists, update: Callable[..., Any], *, layout="vertical", moving=None):
    """Wire ``sliders`` to ``update`` and return the :class:`LiveFigure`.

    ``update`` receives the sliders' current values as keyword arguments and
    must only change artists in place. The moving artists (``moving``, by
    default every Artist in ``artists``, lists included) are then redrawn
    over the cached static background (see :class:`Blitter`); if ``update``
    returns ``True`` it changed static content too (e.g. contour levels) and
    the whole figure is redrawn; a change of any axes' limits is detected
    without it. ``update`` is called once at the start so the figure matches
    the sliders. Exceptions in ``update`` are shown in an ``Output`` below
    the figure rather than lost.

    The latest value wins: a slider change that arrives while an update is
    running (e.g. set by the callback itself) is not queued as another frame;
    the update runs once more with the newest values.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax = new_figure()
    >>> (line,) = ax.plot([0, 1], [0, 0])
    >>> s = widgets.FloatSlider(value=0.0, min=-1, max=1, description="slope")
    >>> app = live_figure(fig, {"slope": s}, {"line": line},
    ...                   lambda slope: line.set_ydata([0, slope]))
    >>> s.value = 0.5
    >>> list(line.get_ydata()), line.get_animated()
    ([0, 0.5], True)
    """
    errors = widgets.Output()
    moving = flatten_artists(artists if moving is None else moving)
    blitter = Blitter(fig, moving) if moving else None
    busy, again = [False], [False]

    def render():
        if errors.outputs:
            errors.clear_output()
        try:
            static_changed = update(**{name: s.value for name, s in sliders.items()}) is True
        except Exception as exc:  # shown to the learner instead of vanishing
            with errors:
                print(f"{type(exc).__name__}: {exc}")
            return
        if blitter is None:
            fig.canvas.draw_idle()
        else:
            blitter.refresh(static_changed)

    def refresh(_change=None):
        if busy[0]:  # a change made while rendering: render once more afterwards, with the newest values
            again[0] = True
            return
        busy[0] = True
        try:
            again[0] = True
            while again[0]:
                again[0] = False
                render()
        finally:
            busy[0] = False

    for s in sliders.values():
        s.observe(refresh, names="value")
    if blitter is not None:
        update(**{name: s.value for name, s in sliders.items()})  # the layout sees the first state
        settle_layout(fig)
    refresh()
    controls = widgets.VBox(list(sliders.values()))
    canvas = canvas_widget(fig)
    if layout == "horizontal":
        box = widgets.HBox([controls, canvas])
    else:
        box = widgets.VBox([controls, canvas])
    box = widgets.VBox([box, errors])
    return LiveFigure(box=box, fig=fig, sliders=dict(sliders), artists=dict(artists), errors=errors,
                      blitter=blitter)
