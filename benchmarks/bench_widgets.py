"""Benchmark: how fast the live figures answer a slider.

1. Under Agg, for the main widget of each chapter: one slider update through
   the factory's in-place callback (artists updated with ``set_data`` and
   friends) against a naive callback that clears the figure and plots it
   again. The naive callback is written here, generically: it runs
   ``fig.clf()`` and then the factory's own plotting code again into the same
   figure at the new slider value, which is what a callback that "clears and
   re-plots" does (set-up computation included). Both are followed by one
   forced ``fig.canvas.draw()``; the median CPU time (``time.process_time``,
   which other processes' load does not inflate) of several updates is
   printed with the ratio (goal: in-place <= 1/5 of naive).
2. In a real browser (JupyterLab + Chromium, as in ``tests/browser``): the
   time from an arrow key on a slider to changed pixels on its ipympl canvas,
   for the first live figure of each chapter. Skipped with a message when
   Chromium is missing.

Run with ``make bench`` or ``python benchmarks/bench_widgets.py [--no-browser]``.
Exits non-zero only if the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import statistics
import sys
import time
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOAL = 5.0
REPEATS = 7
LATENCY_PRESSES = 6


def chapter01_f(x, y):
    return x**2 * y + np.sin(y)


# (chapter, module, factory, positional args, {slider name: factory keyword}, slider values to step through)
WIDGETS = [
    ("00", "welcome", "tangent_teaser", (), {"x0": "x0"}, [-1.5, 0.5, 1.8, -0.2]),
    ("01", "partials", "slice_explorer", (chapter01_f,), {"x0": "x0"}, [-1.0, 0.5, 1.5, 0.0]),
    ("02", "gradient", "gradient_explorer", ("saddle",), {"x0": "x0"}, [-1.0, 0.5, 1.5, 0.0]),
    ("03", "backprop", "backprop_explorer", (), {"x": "x"}, [-1.5, 0.5, 1.8, -0.2]),
    ("04", "directional", "direction_explorer", (), {"theta": "theta_deg"}, [30.0, 120.0, 250.0, 330.0]),
    ("05", "level_sets", "condition_number_explorer", (), {"kappa": "kappa"}, [2.0, 10.0, 25.0, 5.0]),
    ("06", "ml", "learning_rate_explorer", (), {"lr": "lr"}, [0.05, 0.3, 0.46, 0.1]),
    ("07", "finite_diff", "fd_error_explorer", (), {"h": "h0"}, [1e-3, 1e-8, 1e-11, 1e-5]),
    ("09", "landscapes", "ravine_explorer", (), {"kappa": "kappa"}, None),
    ("10", "training", "clipping_explorer", (), {"c": "c"}, [0.5, 2.0, 4.5, 1.0]),
]


@contextlib.contextmanager
def reusing(module, fig):
    """Make ``module``'s factory plot into ``fig`` (cleared) instead of a new figure, without widgets wiring."""
    original_new, original_live = module.new_figure, module.live_figure
    fig_keys = {"figsize", "dpi", "layout", "constrained_layout", "tight_layout", "facecolor"}

    def new_figure(*args, **kwargs):
        fig.clf()
        if kwargs.get("layout"):
            fig.set_layout_engine(kwargs["layout"])
        axes = fig.subplots(*args, **{k: v for k, v in kwargs.items() if k not in fig_keys})
        return fig, axes

    def live_figure(fig_, sliders, artists, update, **_):
        update(**{name: s.value for name, s in sliders.items()})
        return types.SimpleNamespace(fig=fig_, sliders=sliders, artists=artists)

    module.new_figure, module.live_figure = new_figure, live_figure
    try:
        yield
    finally:
        module.new_figure, module.live_figure = original_new, original_live


def slider_values(slider, values):
    if values is not None:
        return values
    options = list(getattr(slider, "options", []))  # SelectionSlider: step through its options
    labels = [o[1] if isinstance(o, tuple) else o for o in options]
    return [labels[i] for i in np.linspace(0, len(labels) - 1, 4).astype(int)[::-1]]


def blit_times(app, slider, values):
    """What-if: the same callback, then only the moved artists redrawn over a cached background (blitting).

    Not what the course's widgets do; it shows how much of the in-place time
    is the full redraw. Returns CPU seconds per update, or None if the
    figure's artists cannot be blitted.
    """
    fig = app.fig
    moving = [a for a in app.artists.values() if getattr(a, "axes", None) is not None]
    if not moving:
        return None
    try:
        for artist in moving:
            artist.set_animated(True)
        fig.canvas.draw()  # the background, without the moving artists
        background = fig.canvas.copy_from_bbox(fig.bbox)
        times = []
        for i in range(REPEATS):
            start = time.process_time()
            slider.value = values[(i + 1) % len(values)]
            fig.canvas.restore_region(background)
            for artist in moving:
                artist.axes.draw_artist(artist)
            fig.canvas.blit(fig.bbox)
            times.append(time.process_time() - start)
    except Exception:
        return None
    finally:
        for artist in moving:
            artist.set_animated(False)
    return times


def time_widget(module_name, factory_name, args, mapping, values):
    """Median seconds of one in-place update and one naive clear-and-replot, each with a forced draw."""
    module = importlib.import_module(f"nablakit.widgets.{module_name}")
    factory = getattr(module, factory_name)
    app = factory(*args)
    fig = app.fig
    fig.canvas.draw()
    fig.canvas.draw_idle = lambda *a, **k: None  # both paths draw exactly once, below
    slider_name, keyword = next(iter(mapping.items()))
    slider = app.sliders[slider_name]
    values = slider_values(slider, values)
    n_figs = len(plt.get_fignums())

    draw_only = []
    for _ in range(REPEATS):
        start = time.process_time()
        fig.canvas.draw()
        draw_only.append(time.process_time() - start)

    in_place, in_place_callback = [], []
    for i in range(REPEATS):
        value = values[i % len(values)]
        start = time.process_time()
        slider.value = value
        middle = time.process_time()
        fig.canvas.draw()
        in_place.append(time.process_time() - start)
        in_place_callback.append(middle - start)
    if app.errors.outputs:
        raise RuntimeError(f"{factory_name}: the callback raised: {app.errors.outputs}")

    blit = blit_times(app, slider, values)

    naive_fig = plt.figure(figsize=fig.get_size_inches(), dpi=fig.dpi)
    naive, naive_callback = [], []
    with reusing(module, naive_fig):
        for i in range(REPEATS):
            value = values[i % len(values)]
            start = time.process_time()
            factory(*args, **{keyword: value})
            middle = time.process_time()
            naive_fig.canvas.draw()
            naive.append(time.process_time() - start)
            naive_callback.append(middle - start)
    plt.close(naive_fig)
    assert len(plt.get_fignums()) == n_figs, "the in-place path created figures"
    plt.close(fig)
    median = statistics.median
    return {"in_place": median(in_place), "naive": median(naive), "draw": median(draw_only),
            "blit": median(blit) if blit else None,
            "in_place_callback": median(in_place_callback), "naive_callback": median(naive_callback)}


def agg_table():
    """Print the in-place vs naive table; return (rows, names of widgets that failed)."""
    rows, failed = [], []
    print(f"Slider update under Agg: CPU ms (time.process_time), median of {REPEATS} updates.")
    print("  with draw = callback + one forced fig.canvas.draw(); callback = the callback alone; "
          "draw = one full redraw with nothing changed;\n  blit = what-if: callback + redrawing only the "
          "moved artists over a cached background (not what the widgets do)")
    print(f"  {'ch':<3}{'widget':<40}{'in-place':>9}{'naive':>8}{'ratio':>7}   |{'callback':>9}{'naive':>8}"
          f"{'ratio':>8}   |{'draw':>7}{'blit':>7}")
    print(f"  {'':<3}{'':<40}{'with draw':>24}   |{'alone':>25}   |")
    for chapter, module_name, factory_name, args, mapping, values in WIDGETS:
        label = f"{module_name}.{factory_name}"
        try:
            t = time_widget(module_name, factory_name, args, mapping, values)
        except Exception as exc:  # report the widget and go on with the others
            print(f"  {chapter:<3}{label:<40}  FAILED: {type(exc).__name__}: {exc}")
            failed.append(label)
            plt.close("all")
            continue
        ratio = t["naive"] / t["in_place"]
        callback_ratio = t["naive_callback"] / max(t["in_place_callback"], 1e-6)
        flag = "" if ratio >= GOAL else "  <- below goal"
        print(f"  {chapter:<3}{label:<40}{t['in_place'] * 1e3:>9.1f}{t['naive'] * 1e3:>8.1f}{ratio:>6.1f}x   |"
              f"{t['in_place_callback'] * 1e3:>9.1f}{t['naive_callback'] * 1e3:>8.1f}{callback_ratio:>7.0f}x   |"
              f"{t['draw'] * 1e3:>7.1f}{'-' if t['blit'] is None else format(t['blit'] * 1e3, '.1f'):>7}{flag}")
        rows.append((label, ratio, callback_ratio))
    if rows:
        ratios, callback_ratios = [r[1] for r in rows], [r[2] for r in rows]
        print(f"  with draw: naive/in-place median {statistics.median(ratios):.1f}x, min {min(ratios):.1f}x "
              f"(goal >= {GOAL:.0f}x, i.e. in-place <= 1/{GOAL:.0f} of naive)")
        print(f"  callback alone: median {statistics.median(callback_ratios):.0f}x, "
              f"min {min(callback_ratios):.0f}x; the full redraw both paths need is most of the in-place time")
    return rows, failed


def browser_latency():
    sys.path.insert(0, str(ROOT / "tests"))
    from browser.lab import INSTALL_HINT, LabPage, LabServer, chromium_path, launch_browser

    if chromium_path() is None:
        print(f"Browser latency: skipped. {INSTALL_HINT}")
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Browser latency: skipped, Playwright is not installed in the venv")
        return None
    chapters = sorted((ROOT / "course").glob("[0-9][0-9]-*.ipynb"))
    print(f"Slider-to-canvas latency in JupyterLab + Chromium (arrow key -> canvas pixels changed), "
          f"{LATENCY_PRESSES} presses on the first live figure of each chapter:")
    print(f"  {'chapter':<32}{'median ms':>10}{'max ms':>9}")
    everything = []
    server = LabServer(ROOT)
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            lab = LabPage(browser, server).load()
            for path in chapters:
                lab.open_notebook(path.relative_to(ROOT))
                lab.run_all()
                lab.wait_widgets_rendered()
                figures = [f for f in lab.figures() if f["sliders"] and f["canvases"]]
                if not figures:
                    print(f"  {path.stem:<32}{'no slider figure':>19}")
                    lab.close_notebook()
                    continue
                times = []
                for _ in range(LATENCY_PRESSES):
                    ms, moved = lab.slider_latency(figures[0]["index"])
                    if moved and ms is not None:
                        times.append(ms)
                lab.close_notebook()
                if times:
                    everything += times
                    print(f"  {path.stem:<32}{statistics.median(times):>10.0f}{max(times):>9.0f}")
                else:
                    print(f"  {path.stem:<32}{'canvas did not change':>19}")
            browser.close()
    finally:
        server.stop()
    if everything:
        print(f"  all chapters: median {statistics.median(everything):.0f} ms, "
              f"90th percentile {np.percentile(everything, 90):.0f} ms")
    return everything


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the browser latency part")
    args = parser.parse_args(argv)
    _, failed = agg_table()
    if not args.no_browser:
        browser_latency()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
