"""Blitting (widgets/_base.py) under Agg: a slider step redraws only what moves, and the picture stays right.

For every live figure of every chapter and each of its sliders: after a
sequence of slider moves, the canvas buffer (built by blitting the moving
artists over the cached background) must equal a fresh full redraw at the
same values; no ghost of an earlier position, no missing artist. Resizing,
changed axes limits and updates that change static content must fall back
to a full redraw.
"""

import io

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backend_bases import ResizeEvent  # noqa: E402

from nablakit.widgets._base import SCREEN_DPI, MAX_WIDTH_PX, live_figure, new_figure  # noqa: E402
from widget_checks import LIVE_WIDGETS, slider_sequence  # noqa: E402

# Agg draws the same artists with the same renderer identically: only exact equality is right,
# but allow a handful of pixels for round-off at other machines' anti-aliasing.
TOLERANCE = 1e-4

pytestmark = pytest.mark.usefixtures("close_figures")


def pixels(fig):
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def changed_fraction(a, b):
    assert a.shape == b.shape, f"canvas size changed: {a.shape} vs {b.shape}"
    return float((a != b).any(axis=2).mean())


def full_redraw(fig):
    fig.canvas.draw()
    return pixels(fig)


@pytest.mark.parametrize("chapter, name, sliders, build", LIVE_WIDGETS, ids=[f"{c[0]}-{c[1]}" for c in LIVE_WIDGETS])
def test_blitted_steps_equal_a_full_redraw(chapter, name, sliders, build):
    """Each slider in turn through a zig-zag of values; then the canvas must equal a full redraw."""
    app = build()
    assert sorted(app.sliders) == sorted(sliders), f"{name}: update LIVE_WIDGETS in tests/widget_checks.py"
    assert app.blitter is not None and app.blitter.moving, f"{name}: no moving artists declared"
    for slider in sliders:
        s = app.sliders[slider]
        assert s.continuous_update, f"{name}.{slider}: the figure must follow the hand (continuous_update)"
        start, before, values = pixels(app.fig), app.blitter.blits, slider_sequence(s)
        for value in values:
            s.value = value
            assert not app.errors.outputs, f"{name}: callback failed at {slider}={value}: {app.errors.outputs}"
        assert app.blitter.blits - before == len(values), f"{name}.{slider}: steps were not blitted"
        blitted = pixels(app.fig)
        assert changed_fraction(blitted, start) > 0, f"{name}.{slider}: the slider moved nothing on the canvas"
        fresh = full_redraw(app.fig)
        diff = changed_fraction(blitted, fresh)
        assert diff <= TOLERANCE, f"{name}.{slider}: blitted canvas differs from a full redraw in {diff:.2%} of pixels"
        assert (fresh[..., 3] == 255).all(), f"{name}: some pixels are not opaque; ipympl would send full frames"


@pytest.mark.parametrize("chapter, name, sliders, build", LIVE_WIDGETS, ids=[f"{c[0]}-{c[1]}" for c in LIVE_WIDGETS])
def test_figures_are_sized_for_the_screen(chapter, name, sliders, build):
    app = build()
    width, height = app.fig.get_size_inches() * app.fig.dpi
    assert app.fig.dpi <= SCREEN_DPI and width <= MAX_WIDTH_PX, f"{name}: {width:.0f} px wide at {app.fig.dpi} dpi"
    assert app.fig.get_facecolor()[3] == 1.0
    for s in app.sliders.values():
        assert s.style.description_width == "initial", f"{name}: slider {s.description!r} may be cut off"


def _line_app():
    fig, ax = new_figure(figsize=(4, 3), layout="constrained")
    ax.contourf(*np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20)), np.random.default_rng(0).random((20, 20)))
    ax.set(xlim=(0, 1), ylim=(0, 1), title="t", xlabel="x", ylabel="y")
    (line,) = ax.plot([0, 1], [0, 0], lw=3)
    s = widgets.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="height")
    return live_figure(fig, {"h": s}, {"line": line}, lambda h: line.set_ydata([h, h])), line, ax


def test_resize_invalidates_the_background():
    app, line, ax = _line_app()
    app.sliders["h"].value = 0.3
    app.fig.set_size_inches(5, 4)  # as ipympl does when the browser resizes the canvas
    app.fig.canvas.callbacks.process("resize_event", ResizeEvent("resize_event", app.fig.canvas))
    assert app.blitter.background is None
    full_draws = app.blitter.full_draws
    app.sliders["h"].value = 0.7
    assert app.blitter.full_draws == full_draws + 1, "a step after a resize must redraw everything"
    shown = pixels(app.fig)
    assert shown.shape[:2] == (round(4 * app.fig.dpi), round(5 * app.fig.dpi))
    app.sliders["h"].value = 0.2  # and then blitting resumes, right
    assert changed_fraction(pixels(app.fig), full_redraw(app.fig)) <= TOLERANCE


def test_changed_axes_limits_redraw_everything():
    app, line, ax = _line_app()
    app.sliders["h"].value = 0.3
    ax.set_ylim(-1, 2)  # e.g. a zoom; the cached background has the old tick labels
    app.sliders["h"].value = 0.5
    assert changed_fraction(pixels(app.fig), full_redraw(app.fig)) <= TOLERANCE
    app.sliders["h"].value = 0.8
    assert changed_fraction(pixels(app.fig), full_redraw(app.fig)) <= TOLERANCE


def test_update_reporting_static_change_redraws_everything():
    fig, ax = new_figure(figsize=(4, 3))
    ax.set(xlim=(0, 1), ylim=(0, 1))
    (line,) = ax.plot([0, 1], [0, 0])
    title = ax.set_title("level 0")  # static: not declared as moving

    def update(h):
        line.set_ydata([h, h])
        title.set_text(f"level {h:.1f}")
        return True

    s = widgets.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="height")
    app = live_figure(fig, {"h": s}, {"line": line}, update)
    s.value = 0.4
    assert app.blitter.blits == 0 and app.blitter.full_draws >= 2
    assert changed_fraction(pixels(fig), full_redraw(fig)) <= TOLERANCE


def test_latest_value_wins_when_a_change_arrives_during_an_update():
    fig, ax = new_figure(figsize=(4, 3))
    (line,) = ax.plot([0, 1], [0, 0])
    a = widgets.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="first")
    b = widgets.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="second")
    seen = []

    def update(a_value, b_value):
        seen.append((a_value, b_value))
        if a_value > 0.5 and b_value != a_value:
            b.value = a_value  # a change while rendering: no nested render, one more pass
        line.set_ydata([a_value, b_value])

    app = live_figure(fig, {"a_value": a, "b_value": b}, {"line": line}, update)
    seen.clear()
    a.value = 0.8
    assert seen == [(0.8, 0.0), (0.8, 0.8)], seen
    assert list(line.get_ydata()) == [0.8, 0.8]
    assert not app.errors.outputs


def test_savefig_includes_the_moving_artists():
    app, line, ax = _line_app()
    app.sliders["h"].value = 0.6
    shown = pixels(app.fig)
    import io

    from PIL import Image

    buf = io.BytesIO()
    app.fig.savefig(buf, format="png", dpi=app.fig.dpi)
    saved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGBA"))
    assert changed_fraction(saved, shown) <= TOLERANCE, "an exported figure lost its moving artists"
    buf = io.BytesIO()
    app.fig.savefig(buf, format="png", dpi=2 * app.fig.dpi)  # another renderer: the cache must not be reused
    app.sliders["h"].value = 0.1
    assert changed_fraction(pixels(app.fig), full_redraw(app.fig)) <= TOLERANCE


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def ipympl_stream(build, fast, clock=None):
    """A live figure on ipympl's canvas (no browser attached): ``(app, canvas, frames)``.

    ``frames`` collects ``(image mode, decoded RGBA pixels, bytes)`` of every
    frame sent; ``fast`` installs :func:`fast_frames` (else matplotlib's own frames).
    """
    from ipympl.backend_nbagg import Canvas, FigureManager
    from PIL import Image

    from nablakit.widgets._frames import fast_frames

    app = build()
    canvas = Canvas(app.fig)  # the figure's event callbacks (the Blitter's) stay with the figure
    FigureManager(canvas, 998)
    assert fast_frames(canvas) is True if fast else "get_diff_image" not in vars(canvas)
    if fast and clock is not None:
        canvas._nablakit_frames.clock = clock
    canvas.syncing_data_url = False  # as once the browser has shown the canvas
    frames = []
    canvas.send_binary = lambda data: frames.append(
        (canvas._current_image_mode, np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")), len(data)))
    return app, canvas, frames


def shown_after(frames, applied):
    """What ipympl's browser shows after drawing only the frames numbered ``applied`` (the others were lost)."""
    shown = None
    for k in applied:
        mode, image, _ = frames[k]
        if shown is None or mode == "full":
            shown = np.zeros_like(image)
        shown = np.where(image[:, :, 3:] == 255, image, shown)  # a transparent pixel leaves the canvas as it is
    return shown


@pytest.mark.parametrize("chapter, name, sliders, build", [LIVE_WIDGETS[1], LIVE_WIDGETS[-2]],
                         ids=[f"{c[0]}-{c[1]}" for c in (LIVE_WIDGETS[1], LIVE_WIDGETS[-2])])
def test_ipympl_sends_small_diff_frames_for_a_step(chapter, name, sliders, build):
    """Slider steps a second apart: after the first (full) frame, each step is one PNG *diff* frame, much smaller."""
    clock = FakeClock()
    app, canvas, frames = ipympl_stream(build, fast=True, clock=clock)
    canvas.draw()
    s = app.sliders[sliders[0]]
    for value in slider_sequence(s, 2):
        clock.now += 1.0
        s.value = value
    assert len(frames) == 3, [m for m, _, _ in frames]
    assert {m for m, _, _ in frames} == {"diff"}, "an opaque figure never switches ipympl's image mode"
    full, step = frames[0][2], max(size for _, _, size in frames[1:])
    assert (frames[0][1][:, :, 3] == 255).all(), "the first frame must be complete"
    assert step < full / 2, f"{name}: a step frame has {step} bytes, a full frame {full}"


@pytest.mark.parametrize("chapter, name, sliders, build", [LIVE_WIDGETS[1], LIVE_WIDGETS[-2]],
                         ids=[f"{c[0]}-{c[1]}" for c in (LIVE_WIDGETS[1], LIVE_WIDGETS[-2])])
def test_frames_lost_in_a_fast_drag_leave_no_stale_pixels(chapter, name, sliders, build):
    """ipympl's browser drops a frame that the next one overtakes: whichever frames of a drag are lost, the repair heals all.

    The first frame settles (no frame for a second); then a burst of steps
    10 ms apart, and, once the burst has settled, the repair frame the
    kernel sends. For every choice of lost frames in the burst, the
    browser's canvas must then equal the figure's pixels. With matplotlib's
    own frames a lost frame leaves stale pixels for good (the test shows
    it), which is why :mod:`nablakit.widgets._frames` exists.
    """
    import itertools

    from nablakit.widgets._frames import _send_repair

    stale = {}
    for fast in (False, True):
        clock = FakeClock()
        app, canvas, frames = ipympl_stream(build, fast=fast, clock=clock)
        canvas.draw()
        clock.now += 1.0
        s = app.sliders[sliders[0]]
        for value in slider_sequence(s, 4):
            clock.now += 0.01
            s.value = value
        assert len(frames) == 5, f"{name}: expected one frame per step, got {len(frames)}"
        if fast:
            assert canvas._nablakit_frames.needs_repair
            clock.now += 1.0
            _send_repair(canvas)
            assert len(frames) == 6 and not canvas._nablakit_frames.needs_repair
        final = np.asarray(canvas.get_renderer().buffer_rgba())
        last = len(frames) - 1
        worst = 0.0
        for kept in itertools.product((False, True), repeat=last - 1):
            applied = [0] + [k for k, keep in zip(range(1, last), kept) if keep] + [last]
            worst = max(worst, changed_fraction(shown_after(frames, applied), final))
        stale[fast] = worst
    assert stale[True] == 0.0, f"{name}: after lost frames and the repair {stale[True]:.2%} of the canvas is stale"
    assert stale[False] > 0.0, "matplotlib's own frames no longer go stale when one is lost: is _frames still needed?"


def test_frames_right_after_the_first_are_small_and_the_repair_makes_the_picture_exact():
    """A burst right after the first (full) frame: small diffs, then a full repair; later, a small repair."""
    from nablakit.widgets._frames import _send_repair

    chapter, name, sliders, build = LIVE_WIDGETS[1]
    clock = FakeClock()
    app, canvas, frames = ipympl_stream(build, fast=True, clock=clock)
    canvas.draw()
    s = app.sliders[sliders[0]]
    values = slider_sequence(s, 4)
    for value in values[:3]:
        clock.now += 0.01  # the first frame has not settled: it may still be lost
        s.value = value
    opaque = [float((image[:, :, 3] == 255).mean()) for _, image, _ in frames]
    assert opaque[0] == 1.0 and max(opaque[1:]) < 0.5, f"first frame full, steps small diffs: {opaque}"
    clock.now += 1.0
    _send_repair(canvas)  # no frame known to be on screen yet: the repair is full
    assert (frames[-1][1][:, :, 3] == 255).all()
    clock.now += 1.0
    s.value = values[3]
    clock.now += 1.0
    _send_repair(canvas)  # the full repair settled: this repair carries only the changed pixels
    assert (frames[-1][1][:, :, 3] == 0).mean() > 0.5
    final = np.asarray(canvas.get_renderer().buffer_rgba())
    np.testing.assert_array_equal(shown_after(frames, range(len(frames))), final)
    np.testing.assert_array_equal(shown_after(frames, [1, 2, 3, 4, 5, 6]), final)  # even the first frame lost
