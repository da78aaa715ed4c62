"""Live figures in the browser: slider-to-canvas latency and canvas-vs-full-redraw pixels.

Used by ``tests/browser/test_chapters.py`` (no stale pixels, labels not cut
off) and ``benchmarks/bench_widgets.py`` (latency). Works on a
:class:`browser.lab.LabPage` whose current notebook has run.

The canvas of live figure ``k`` of the page (in document order) is matched
with the kernel's ``k``-th :class:`~nablakit.widgets._base.LiveFigure` (in
order of creation): the chapters create their live figures in the order they
show them, and the sizes are checked to agree.
"""

from __future__ import annotations

import base64
import io
import time

import numpy as np

_JS_LIVE_FIGURES = """() => {
  const root = window.__nb.node;
  const outs = Array.from(root.querySelectorAll('.jp-OutputArea-output'));
  const found = [];
  outs.forEach((el, index) => {
    const handles = el.querySelectorAll('.noUi-handle');
    const canvas = el.querySelector('.jupyter-matplotlib-canvas-div canvas:first-child');
    if (!handles.length || !canvas) return;
    found.push({index, ordinal: found.length, sliders: handles.length,
                width: canvas.width, height: canvas.height,
                labels: Array.from(el.querySelectorAll('.widget-slider .widget-label')).map(l => l.textContent)});
  });
  return found; }"""

# Slider descriptions whose text does not fit their box (the browser cuts them off).
_JS_CLIPPED_LABELS = """() => Array.from(window.__nb.node.querySelectorAll('.widget-slider .widget-label'))
  .filter(l => l.textContent.trim() && l.scrollWidth > l.clientWidth + 1)
  .map(l => `${l.textContent} (${l.scrollWidth} px of text in ${l.clientWidth} px)`)"""

_JS_CANVAS_PNG = """([index]) => {
  const el = window.__nb.node.querySelectorAll('.jp-OutputArea-output')[index];
  return el.querySelector('.jupyter-matplotlib-canvas-div canvas:first-child').toDataURL('image/png'); }"""

# Arm a watcher on slider `slider` of output `index`: from its next keydown, time until the canvas pixels change.
_JS_ARM = """([index, slider, timeoutMs]) => {
  const el = window.__nb.node.querySelectorAll('.jp-OutputArea-output')[index];
  const handle = el.querySelectorAll('.noUi-handle')[slider];
  const canvas = el.querySelector('.jupyter-matplotlib-canvas-div canvas:first-child');
  const before = window.__pixels(canvas);
  window.__latency = new Promise((resolve) => {
    let t0 = null;
    handle.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
    const deadline = performance.now() + timeoutMs;
    const tick = () => {
      if (t0 !== null && !window.__samePixels(before, window.__pixels(canvas))) { resolve(performance.now() - t0); return; }
      if (performance.now() > deadline) { resolve(null); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return {value: handle.getAttribute('aria-valuetext'),
          atMax: +handle.getAttribute('aria-valuenow') >= +handle.getAttribute('aria-valuemax'),
          atMin: +handle.getAttribute('aria-valuenow') <= +handle.getAttribute('aria-valuemin')}; }"""

# Kernel side: the k-th live figure of the notebook, in order of creation.
_PY_LIVE_FIGURE = '''
def _nablakit_live_figure(k):
    import gc
    from nablakit.widgets._base import LiveFigure
    apps = sorted((o for o in gc.get_objects() if isinstance(o, LiveFigure)), key=lambda app: app.fig.number)
    return apps[k]
'''

# Kernel side: the k-th live figure redrawn in full into its Agg buffer, as PNG (base64). The
# plain Agg draw sends no frame to the browser, so it cannot repair what the browser shows.
_PY_SETUP = _PY_LIVE_FIGURE + '''
def _nablakit_full_redraw_png(k):
    import base64, io
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image
    fig = _nablakit_live_figure(k).fig
    FigureCanvasAgg.draw(fig.canvas)
    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()
'''

# Kernel side: slider `s` of the k-th live figure set to `n` values in one go, as a fast drag sends
# them: the frames leave the kernel milliseconds apart, faster than the browser decodes them.
_PY_BURST = _PY_LIVE_FIGURE + '''
def _nablakit_burst(k, s, n):
    import numpy as np
    w = list(_nablakit_live_figure(k).sliders.values())[s]
    options = getattr(w, "options", None)
    if options:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        picks = [values[i % len(values)] for i in range(n)]
    else:
        picks = list(np.linspace(w.min, w.max, n))
    for v in picks + [picks[len(picks) // 2]]:
        w.value = v
    return n + 1
'''


def decode_png(data):
    """RGBA array of a PNG given as bytes, base64 text or a data URL."""
    from PIL import Image

    if isinstance(data, str):
        data = base64.b64decode(data.split(",", 1)[-1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def live_figures(lab):
    """Outputs of the current notebook holding sliders and an ipympl canvas."""
    return lab.page.evaluate(_JS_LIVE_FIGURES)


def clipped_labels(lab):
    """Slider descriptions of the current notebook that the browser cuts off."""
    return lab.page.evaluate(_JS_CLIPPED_LABELS)


def canvas_pixels(lab, output_index):
    return decode_png(lab.page.evaluate(_JS_CANVAS_PNG, [output_index]))


def kernel_full_redraw(lab, ordinal):
    return decode_png(lab.kernel_eval(_PY_SETUP, f"_nablakit_full_redraw_png({ordinal})"))


def wait_kernel_idle(lab, settle=0.3, timeout=30):
    """Wait until the kernel is idle, twice ``settle`` seconds apart (a buffered slider message may follow)."""
    from browser.lab import _JS_KERNEL_IDLE

    for _ in range(2):
        lab.page.wait_for_function(_JS_KERNEL_IDLE, timeout=timeout * 1000, polling=50)
        time.sleep(settle)


def kernel_burst(lab, ordinal, slider, n=8):
    """Set slider ``slider`` of live figure ``ordinal`` to ``n + 1`` values from the kernel, back to back."""
    return lab.kernel_eval(_PY_BURST, f"_nablakit_burst({ordinal}, {slider}, {n})")


def press(lab, output_index, slider, key, times=1):
    handle = lab._output(output_index).locator(".noUi-handle").nth(slider)
    for _ in range(times):
        handle.press(key)


def step_latency(lab, output_index, slider, timeout=20):
    """One arrow-key step on a slider: ``(ms until the canvas changed or None, slider value moved)``."""
    state = lab.page.evaluate(_JS_ARM, [output_index, slider, timeout * 1000])
    press(lab, output_index, slider, "ArrowLeft" if state["atMax"] else "ArrowRight")
    ms = lab.page.evaluate("() => window.__latency")
    value = lab.page.evaluate("""([i, s]) => window.__nb.node.querySelectorAll('.jp-OutputArea-output')[i]
        .querySelectorAll('.noUi-handle')[s].getAttribute('aria-valuetext')""", [output_index, slider])
    return ms, value != state["value"]


def compare_with_full_redraw(lab, figure, timeout=10):
    """Fraction of canvas pixels that differ from a full redraw in the kernel, once the frames have arrived.

    The canvas is read until it matches or ``timeout`` seconds pass (frames
    may still be on their way); a stale pixel never heals, so the last
    difference is returned.
    """
    wait_kernel_idle(lab)
    expected = kernel_full_redraw(lab, figure["ordinal"])
    # The canvas element may be a pixel smaller than the figure (sizes in inches times dpi are rounded).
    if abs(expected.shape[0] - figure["height"]) > 1 or abs(expected.shape[1] - figure["width"]) > 1:
        raise AssertionError(f"output {figure['index']}: kernel figure {figure['ordinal']} is "
                             f"{expected.shape[1]}x{expected.shape[0]} px, the canvas {figure['width']}x{figure['height']}")
    deadline = time.monotonic() + timeout
    while True:
        shown = canvas_pixels(lab, figure["index"])
        h, w = min(shown.shape[0], expected.shape[0]), min(shown.shape[1], expected.shape[1])
        shown, expected = shown[:h, :w], expected[:h, :w]
        diff = float((np.abs(shown.astype(int) - expected.astype(int)).max(axis=2) > 2).mean())
        if diff == 0 or time.monotonic() > deadline:
            return diff, shown, expected
        time.sleep(0.2)
