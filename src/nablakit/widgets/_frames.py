"""The PNG frames a live figure sends to the browser, made safe to lose.

ipympl's browser side keeps one ``Image`` per figure: each frame that
arrives replaces the image's source, so a frame that arrives while the
previous one is still decoding cancels it, and the earlier frame is never
drawn. matplotlib's own *diff* frames (only the pixels that changed since the
previous frame) then leave stale pixels: the ghost of a curve that the lost
frame had erased stays on the canvas until a full redraw. A fast drag sends
frames a few milliseconds apart, so this is what a student would see.

So the frames here keep track of what the browser may be showing:

- Each frame is matplotlib's cheap diff against the previous frame (the
  first frame, and the first after a resize or a page reload, is full).
- The pixels changed since the last frame known to be on the screen (the
  *base*) accumulate: a complete frame (full or repair) that no other frame
  followed for :data:`SETTLE_SECONDS` has been drawn.
- :data:`SETTLE_SECONDS` after the last frame of a drag (no frame since), a
  *repair* frame carries every accumulated pixel (all of them if no base is
  known yet), so whatever frames were lost the canvas ends up right.
- An opaque figure always uses ipympl's ``"diff"`` image mode, full frames
  included (an opaque full frame drawn over the old one replaces it). The
  browser reads the mode when an image finishes loading, so switching
  modes between frames could clear the canvas under a diff frame.

Frames are written with :data:`FRAME_COMPRESS_LEVEL`.
"""

from __future__ import annotations

import asyncio
import io
import time
import types

import numpy as np
from PIL import Image

#: zlib level of the PNG frames. PIL's default (6) spends about as long
#: encoding a slider step's frame as drawing it; level 1 encodes several
#: times faster for frames about a third larger (mostly zeros in a diff frame).
FRAME_COMPRESS_LEVEL = 1
#: A frame that no other frame followed for this long has been drawn by the browser.
SETTLE_SECONDS = 0.5


class FrameStream:
    """What the browser may be showing: the settled base frame and the pixels changed since.

    Parameters
    ----------
    clock : callable, default time.monotonic
        Seconds; tests pass their own.

    Examples
    --------
    >>> stream = FrameStream(clock=iter([0.0, 1.0, 1.1, 1.2]).__next__)
    >>> a = np.full((2, 3), 0xFF000000, dtype=np.uint32)
    >>> b = a.copy(); b[0, 0] = 0xFFFFFFFF
    >>> c = a.copy(); c[1, 2] = 0xFFFFFFFF
    >>> stream.next_frame(a)[0]                    # the first frame is full
    'full'
    >>> mode, diff = stream.next_frame(b)          # a settled: it is the base; b is a diff
    >>> mode, int((diff != 0).sum()), stream.needs_repair
    ('diff', 1, True)
    >>> mode, diff = stream.next_frame(c)          # a diff against the previous frame: b -> c
    >>> int((diff != 0).sum())
    2
    >>> mode, repair = stream.repair_frame()       # every pixel changed since a: b's and c's
    >>> mode, int((repair != 0).sum()), stream.needs_repair
    ('diff', 2, False)
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.repair_timer = None  # the kernel's scheduled repair, if any
        self.reset()

    def reset(self):
        """Forget what the browser shows (it may show nothing): the next frame is full."""
        self.base = self.changed = self.last = self.sent_at = None
        self.last_complete = False
        self.needs_repair = False

    def next_frame(self, pixels):
        """The frame to send for ``pixels`` (opaque RGBA as uint32): ``("full" | "diff", uint32 array)``.

        A ``"full"`` frame is ``pixels``; a ``"diff"`` frame is ``pixels``
        where they differ from the previous frame and 0 (transparent: the
        canvas keeps its pixel) elsewhere.
        """
        now = self.clock()
        same_shape = self.last is not None and self.last.shape == pixels.shape
        if same_shape and self.last_complete and now - self.sent_at >= SETTLE_SECONDS:
            self.base = self.last  # a complete frame that nothing overtook: on the screen
            self.changed = np.zeros(pixels.shape, dtype=bool)
        previous, self.last, self.sent_at = self.last, pixels.copy(), now
        if not same_shape:
            self.base = self.changed = None
            self.last_complete, self.needs_repair = True, False
            return "full", pixels
        if self.base is not None:
            self.changed |= pixels != self.base
        self.last_complete, self.needs_repair = False, True
        return "diff", np.where(pixels != previous, pixels, np.uint32(0))

    def repair_frame(self):
        """The frame that makes the canvas equal the last frame, whichever frames were lost.

        Every pixel changed since the base, at its latest value (a full frame
        if there is no base yet). Call it when no frame has been sent for
        :data:`SETTLE_SECONDS`.
        """
        self.needs_repair = False
        self.last_complete = True
        self.sent_at = self.clock()
        if self.base is None:
            return "full", self.last
        return "diff", np.where(self.changed, self.last, np.uint32(0))


def _encode(canvas, output, mode):
    canvas.set_image_mode(mode)
    canvas._force_full = False
    canvas._png_is_old = False
    data = output.view(dtype=np.uint8).reshape((*output.shape, 4))
    with io.BytesIO() as png:
        Image.fromarray(data).save(png, format="png", compress_level=FRAME_COMPRESS_LEVEL)
        return png.getvalue()


def _send_repair(canvas):
    stream = canvas._nablakit_frames
    stream.repair_timer = None
    if not stream.needs_repair:
        return
    _, output = stream.repair_frame()
    frame = _encode(canvas, output, "diff")
    for socket in getattr(canvas.manager, "web_sockets", ()):
        socket.send_binary(frame)


def _schedule_repair(canvas):
    # On the kernel's running event loop; without one (a script, a test) nothing is scheduled.
    stream = canvas._nablakit_frames
    if stream.repair_timer is not None:
        stream.repair_timer.cancel()
        stream.repair_timer = None
    if not stream.needs_repair:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    stream.repair_timer = loop.call_later(SETTLE_SECONDS, _send_repair, canvas)


def _frame_png(canvas):
    # Replaces FigureCanvasWebAggCore.get_diff_image (matplotlib 3.8-3.11): same
    # attributes, frames from FrameStream.
    if not canvas._png_is_old:
        return None
    rgba = np.asarray(canvas.get_renderer().buffer_rgba())
    pixels = rgba.view(np.uint32).squeeze(2)
    stream = canvas._nablakit_frames
    if canvas._force_full:  # a new view or a page reload: the browser shows nothing yet
        stream.reset()
    if (rgba[:, :, 3] != 255).any():
        stream.reset()  # a transparent pixel cannot be drawn over the old frame
        output, mode = pixels, "full"
    else:
        _, output = stream.next_frame(pixels)
        mode = "diff"
    canvas._last_buff = stream.last if stream.last is not None else pixels.copy()
    _schedule_repair(canvas)
    return _encode(canvas, output, mode)


def fast_frames(canvas):
    """Let a web canvas (ipympl's) send frames that are quick to encode and safe to lose; return whether it did.

    Only a canvas that uses matplotlib's own ``get_diff_image`` is changed
    (see the module docstring). Other canvases (Agg) are left alone.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fast_frames(Figure().canvas)  # not a web canvas: nothing to change
    False
    """
    from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore

    if getattr(type(canvas), "get_diff_image", None) is not FigureCanvasWebAggCore.get_diff_image:
        return False
    canvas._nablakit_frames = FrameStream()
    canvas.get_diff_image = types.MethodType(_frame_png, canvas)
    return True
