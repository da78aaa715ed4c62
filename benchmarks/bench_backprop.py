"""Benchmark: one reverse-mode backward pass vs its forward pass vs finite differences.

The chain-rule chapter counts at most about twice the forward pass's
operations for a backward pass, and reports the measured time ratio (0.3 to
0.6 in most runs) as a measurement; a centred finite-difference gradient
costs about 2n plain evaluations. This measures, in one run and for several
n, the best-of-5 times of: building the graph of ``wide`` with
``nablakit.autodiff.Value`` (forward), ``backward()``, one plain float
evaluation, and ``numerical_gradient``; it checks that both gradients agree
and prints the ratios. Exits with status 1 if the gradients differ.

Run with ``make bench`` or ``python benchmarks/bench_backprop.py``.
"""

import sys
import time

import numpy as np

from nablakit.autodiff import Value, tanh, value_and_grad
from nablakit.gradcheck import relative_error
from nablakit.numdiff import numerical_gradient

REPEATS = 5


def wide(v):
    total = 0.0
    for i, vi in enumerate(v):
        total = total + tanh(vi * (1 + i % 3)) * vi
    return total


def best_time(fn, repeats=REPEATS):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    status = 0
    for n in (30, 100, 300):
        point = np.random.default_rng(n).normal(size=n)
        t_forward = best_time(lambda: wide([Value(t) for t in point]))
        roots = [wide([Value(t) for t in point]) for _ in range(REPEATS)]
        t_backward = min(best_time(root.backward, 1) for root in roots)
        t_plain = best_time(lambda: wide(point))
        t_fd = best_time(lambda: numerical_gradient(wide, point), 1)
        error = relative_error(value_and_grad(wide, point)[1], numerical_gradient(wide, point))
        if error > 1e-8:
            print(f"n = {n}: FAIL, reverse mode and finite differences differ (relative error {error:.1e})")
            status = 1
        print(f"n = {n:4d}: backward / forward {t_backward / t_forward:4.2f}; "
              f"finite differences / plain evaluation {t_fd / t_plain:6.0f} (2n = {2 * n}, "
              f"overhead per call {t_fd / (2 * n * t_plain):.1f}x)")
    return status


if __name__ == "__main__":
    sys.exit(main())
