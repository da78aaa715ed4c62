"""Benchmark: how fast the live figures answer a slider.

1. Kernel side, for every slider of every live figure of every chapter
   (``tests/widget_checks.LIVE_WIDGETS``, built as the chapters build them):
   the CPU time (``time.process_time``, which other processes' load does not
   inflate) of one slider update as the course runs it -- callback, blitting
   the moving artists, and the PNG frame ipympl makes of it -- against one
   full redraw of the same figure (also with its frame), measured in the same
   run on ipympl's canvas (no browser attached). Medians over several values;
   the first pass over the values is a warm-up (some figures compute a run
   the first time a value is asked for). Goal: every update <= 25 ms and
   <= 1/5 of its full redraw.
2. Browser side (JupyterLab + Chromium, as in ``tests/browser``; one
   JupyterLab, the chapters opened in turn): for every slider of every live
   figure, the time from an arrow-key step to changed canvas pixels, measured
   in the page with ``requestAnimationFrame``. Goal: median <= 100 ms, 90th
   percentile <= 200 ms, no chapter's median above 150 ms. Also, per
   chapter, a burst of fast key presses on one slider: how many frames the
   kernel drew for them (the latest value wins, no queue of stale frames).
   Skipped with a message when Chromium is missing.

Run with ``make bench`` or ``python benchmarks/bench_widgets.py [--no-browser]``.
Exits non-zero only if the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("module://ipympl.backend_nbagg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from widget_checks import LIVE_WIDGETS, slider_sequence  # noqa: E402

UPDATE_GOAL_MS = 25.0
RATIO_GOAL = 5.0
VALUES = 6
STEPS_PER_SLIDER = 4
BURST = 8
LATENCY_GOALS = {"median": 100.0, "p90": 200.0, "chapter median": 150.0}


def time_slider(app, name):
    """Median CPU seconds of one slider update (blitted) and of one full redraw; number of blits."""
    fig, s = app.fig, app.sliders[name]
    values = slider_sequence(s, VALUES)
    for value in values:  # warm-up: runs computed on first use, caches filled
        s.value = value
    blits = app.blitter.blits
    updates = []
    for value in values[-2::-1] + values[-1:]:  # every step changes the value
        start = time.process_time()
        s.value = value
        updates.append(time.process_time() - start)
    blitted = app.blitter.blits - blits
    fulls = []
    for _ in range(max(3, VALUES // 2)):
        start = time.process_time()
        fig.canvas.draw()
        fulls.append(time.process_time() - start)
    return statistics.median(updates), statistics.median(fulls), blitted, len(values)


def kernel_table():
    """Print the update-vs-full-redraw table; return (rows, names that failed)."""
    print(f"Kernel side: one slider update (callback + blit + ipympl PNG frame) vs one full redraw (+ frame),\n"
          f"CPU ms (time.process_time), median over {VALUES} values after a warm-up pass; "
          f"goal: update <= {UPDATE_GOAL_MS:.0f} ms and <= 1/{RATIO_GOAL:.0f} of the full redraw")
    print(f"  {'ch':<3}{'figure':<32}{'slider':<12}{'update':>8}{'full':>8}{'ratio':>8}  note")
    rows, failed = [], []
    for chapter, name, sliders, build in LIVE_WIDGETS:
        try:
            app = build()
            app.fig.canvas.syncing_data_url = False  # as once a browser shows the canvas
            app.fig.canvas.draw()  # the first full draw, which caches the background
            for slider in sliders:
                update, full, blitted, n = time_slider(app, slider)
                ratio = full / update
                notes = []
                if blitted < n:
                    notes.append(f"only {blitted}/{n} steps blitted")
                if update * 1e3 > UPDATE_GOAL_MS or ratio < RATIO_GOAL:
                    notes.append("<- misses the goal")
                print(f"  {chapter:<3}{name:<32}{slider:<12}{update * 1e3:>8.1f}{full * 1e3:>8.1f}{ratio:>7.1f}x  "
                      + "; ".join(notes))
                rows.append((chapter, name, slider, update, full))
        except Exception as exc:  # report the figure and go on with the others
            print(f"  {chapter:<3}{name:<32}FAILED: {type(exc).__name__}: {exc}")
            failed.append(name)
        plt.close("all")
    if rows:
        updates = np.array([r[3] for r in rows]) * 1e3
        ratios = np.array([r[4] / r[3] for r in rows])
        met = sum((u <= UPDATE_GOAL_MS) and (q >= RATIO_GOAL) for u, q in zip(updates, ratios))
        print(f"  {len(rows)} sliders: update median {np.median(updates):.1f} ms, max {updates.max():.1f} ms; "
              f"full/update median {np.median(ratios):.1f}x, min {ratios.min():.1f}x; "
              f"{met}/{len(rows)} sliders meet both goals")
    return rows, failed


def _percentile(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def browser_table():
    from browser import live
    from browser.lab import INSTALL_HINT, LabPage, LabServer, browser_missing, launch_browser

    missing = browser_missing()
    if missing:
        print(f"Browser latency: skipped. {missing or INSTALL_HINT}")
        return None
    from playwright.sync_api import sync_playwright

    chapters = sorted((ROOT / "course").glob("[0-9][0-9]-*.ipynb"))
    print(f"\nBrowser side: arrow-key step -> changed canvas pixels (requestAnimationFrame in the page), JupyterLab + "
          f"Chromium, 1400x1000 window,\n{STEPS_PER_SLIDER} steps on every slider of every live figure; "
          f"burst = {BURST} key presses as fast as the keyboard sends them on the first slider")
    print(f"  {'chapter':<30}{'sliders':>8}{'steps':>7}{'median':>8}{'p90':>7}{'max':>7}   burst: frames, settled")
    per_chapter = defaultdict(list)
    server = LabServer(ROOT)
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            lab = LabPage(browser, server).load()
            for path in chapters:
                lab.open_notebook(path.relative_to(ROOT))
                lab.run_all()
                lab.wait_widgets_rendered()
                figures = live.live_figures(lab)
                times, lost = [], 0
                for figure in figures:
                    for slider in range(figure["sliders"]):
                        for _ in range(STEPS_PER_SLIDER):
                            ms, moved = live.step_latency(lab, figure["index"], slider)
                            if moved and ms is not None:
                                times.append(ms)
                            elif moved:
                                lost += 1
                burst = _burst(lab, live, figures[0]) if figures else None
                lab.close_notebook()
                per_chapter[path.stem] = times
                if not figures:
                    print(f"  {path.stem:<30}{'no live figure':>22}")
                    continue
                note = f"   {burst[0]} frames, {burst[1]:.0f} ms" if burst else ""
                note += f"   ({lost} steps without a changed canvas)" if lost else ""
                print(f"  {path.stem:<30}{sum(f['sliders'] for f in figures):>8}{len(times):>7}"
                      f"{statistics.median(times) if times else float('nan'):>8.0f}{_percentile(times, 90):>7.0f}"
                      f"{max(times, default=float('nan')):>7.0f}{note}")
            browser.close()
    finally:
        server.stop()
    everything = [t for ts in per_chapter.values() for t in ts]
    if everything:
        medians = {k: statistics.median(v) for k, v in per_chapter.items() if v}
        worst = max(medians, key=medians.get)
        overall = (statistics.median(everything), _percentile(everything, 90))
        print(f"  all chapters: {len(everything)} steps, median {overall[0]:.0f} ms, 90th percentile {overall[1]:.0f} ms, "
              f"worst chapter median {medians[worst]:.0f} ms ({worst})")
        goals = [overall[0] <= LATENCY_GOALS["median"], overall[1] <= LATENCY_GOALS["p90"],
                 medians[worst] <= LATENCY_GOALS["chapter median"]]
        print(f"  goals (median <= 100, p90 <= 200, every chapter median <= 150 ms): "
              f"{'met' if all(goals) else 'NOT met: ' + ', '.join(n for n, ok in zip(LATENCY_GOALS, goals) if not ok)}")
    return per_chapter


_KERNEL_BLITS = ("import gc\nfrom nablakit.widgets._base import LiveFigure",
                 "sum(a.blitter.blits + a.blitter.full_draws for a in gc.get_objects() "
                 "if isinstance(a, LiveFigure) and a.blitter is not None)")


def _burst(lab, live, figure):
    """``BURST`` fast key presses on one slider: (frames the kernel drew, ms until the kernel was idle again)."""
    before = lab.kernel_eval(*_KERNEL_BLITS)
    state = lab.page.evaluate("""([i]) => { const h = window.__nb.node.querySelectorAll('.jp-OutputArea-output')[i]
        .querySelector('.noUi-handle'); return +h.getAttribute('aria-valuenow') > +h.getAttribute('aria-valuemin')
        + 0.5 * (+h.getAttribute('aria-valuemax') - +h.getAttribute('aria-valuemin')); }""", [figure["index"]])
    start = time.perf_counter()
    live.press(lab, figure["index"], 0, "ArrowLeft" if state else "ArrowRight", BURST)
    live.wait_kernel_idle(lab, settle=0.0)
    settled = (time.perf_counter() - start) * 1e3
    time.sleep(0.3)
    frames = lab.kernel_eval(*_KERNEL_BLITS) - before
    return frames, settled


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the browser latency part")
    args = parser.parse_args(argv)
    _, failed = kernel_table()
    if not args.no_browser:
        browser_table()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
