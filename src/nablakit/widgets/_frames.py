"""The PNG frames a live figure sends to the browser, made safe to lose.

ipympl's browser side keeps one ``Image`` per figure: each frame that
arrives replaces the image's source, so a frame that arrives while the
previous one is still decoding cancels it, and the earlier frame is never
drawn. matplotlib's own *diff* frames (only the pixels that changed since the
previous frame) then leave stale pixels: the ghost of a curve that the lost
frame had erased stays on the canvas until a full redraw. A fast drag sends
frames a few milliseconds apart, so this is what a student would see.

So the frames here never depend on a frame that may have been lost:

- A diff frame carries every pixel that differs from the last frame known
  to be on the screen (the *base*): the last frame that no other frame
  followed for :data:`SETTLE_SECONDS`. The changed pixels of a burst of
  frames accumulate, so the newest frame repairs whatever the lost ones
  would have drawn; it is never larger than a full frame.
- Until a base is known (first frames, after a resize or a page reload),
  every frame is full.
- An opaque figure always uses ipympl's ``"diff"`` image mode, full frames
  included (an opaque full frame drawn over the old one replaces it). The
  browser reads the mode when an image finishes loading, so switching
  modes between frames could clear the canvas under a diff frame.

Frames are written with :data:`FRAME_COMPRESS_LEVEL`.
"""

from __future__ import annotations

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
    >>> stream = FrameStream(clock=iter([0.0, 0.1, 1.0]).__next__)
    >>> a = np.full((2, 3), 0xFF000000, dtype=np.uint32)
    >>> b = a.copy(); b[0, 0] = 0xFFFFFFFF
    >>> [stream.next_frame(a)[0], stream.next_frame(b)[0]]   # no base yet: both full
    ['full', 'full']
    >>> mode, pixels = stream.next_frame(a)                  # b settled: a diff against it
    >>> mode, int((pixels != 0).sum())
    ('diff', 1)
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.base = None
        self.changed = None
        self.last = None
        self.sent_at = None

    def reset(self):
        """Forget what the browser shows (it may show nothing): the next frames are full."""
        self.base = self.changed = self.last = None

    def next_frame(self, pixels):
        """The frame to send for ``pixels`` (opaque RGBA as uint32): ``("full" | "diff", uint32 array)``.

        A ``"full"`` frame is ``pixels``; a ``"diff"`` frame is ``pixels``
        where they or an earlier frame since the base differ from the base,
        and 0 (transparent, leaves the canvas as it is) elsewhere.
        """
        now = self.clock()
        if self.last is not None and self.last.shape == pixels.shape and now - self.sent_at >= SETTLE_SECONDS:
            self.base = self.last
            self.changed = np.zeros(pixels.shape, dtype=bool)
        self.last = pixels.copy()
        self.sent_at = now
        if self.base is None or self.base.shape != pixels.shape:
            return "full", pixels
        self.changed |= pixels != self.base
        return "diff", np.where(self.changed, pixels, 0).astype(np.uint32)


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
        output = pixels
        canvas.set_image_mode("full")
    else:
        _, output = stream.next_frame(pixels)
        canvas.set_image_mode("diff")
    canvas._last_buff = pixels.copy()
    canvas._force_full = False
    canvas._png_is_old = False
    data = output.view(dtype=np.uint8).reshape((*output.shape, 4))
    with io.BytesIO() as png:
        Image.fromarray(data).save(png, format="png", compress_level=FRAME_COMPRESS_LEVEL)
        return png.getvalue()


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
