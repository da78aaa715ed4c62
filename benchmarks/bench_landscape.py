"""Benchmark: one vectorised call vs a Python loop over a 400 x 400 grid.

Evaluates the Rosenbrock function with ``grid_eval`` (f called once on the
stacked grid) and ``grid_eval_loop`` (f called once per point), checks that
both give the same surface, and prints both timings and their ratio, all
measured in this one run. Exits with status 1 if the surfaces differ.

Run with ``make bench`` or ``python benchmarks/bench_landscape.py``.
"""

import sys
import time

import numpy as np

from nablakit.landscape import grid_eval, grid_eval_loop
from nablakit.testfunctions import rosenbrock

N = 400
GOAL = 50.0
REPEATS = 5  # the vectorised call is short, so take the best of a few


def best_time(fn, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    tf = rosenbrock()
    t_vec, (_, _, z_vec) = best_time(lambda: grid_eval(tf.f, tf.xlim, tf.ylim, n=N), REPEATS)
    t_loop, (_, _, z_loop) = best_time(lambda: grid_eval_loop(tf.f, tf.xlim, tf.ylim, n=N), 1)
    if not np.allclose(z_vec, z_loop, rtol=1e-12, atol=0.0):
        worst = float(np.max(np.abs(z_vec - z_loop)))
        print(f"landscape grid {N}x{N}: FAIL, vectorised and loop results differ (max abs diff {worst:.3g})")
        return 1
    ratio = t_loop / t_vec
    verdict = "" if ratio >= GOAL else "  BELOW GOAL"
    print(
        f"landscape grid {N}x{N}: vectorised {t_vec * 1e3:.1f} ms, loop {t_loop * 1e3:.0f} ms, "
        f"ratio {ratio:.0f}x (goal >= {GOAL:.0f}x){verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
