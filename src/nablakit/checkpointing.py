"""Gradient checkpointing: memory against recomputation in backpropagation.

:func:`checkpoint_table` counts the stored activations and the layer
evaluations of three strategies (store all, sqrt(n) checkpoints, recompute
all); *Gradients at training time* tabulates and plots them.
"""

from __future__ import annotations

import math

from nablakit._validate import check_count


def checkpoint_table(n_layers):
    """Memory and compute of backpropagation through ``n_layers`` layers, three ways.

    The model: layer ``i`` maps activation ``a_{i-1}`` to ``a_i``; its backward
    step needs its input ``a_{i-1}``. *Memory* is the largest number of
    layer inputs held at once, each freed as soon as no later step needs it;
    *compute* counts layer evaluations in the forward direction (the backward
    steps, the same in every strategy, are not counted).

    - ``"store all"``: keep every layer input; memory ``n``, compute ``n``.
    - ``"sqrt(n) checkpoints"``: segments of ``s = ceil(sqrt(n))`` layers; keep
      only each segment's input (``k = ceil(n/s)`` checkpoints) and, during the
      backward pass, recompute the inputs of one segment at a time, last
      segment first. Memory at most ``k + s - 1`` (about ``2 sqrt(n)``),
      compute ``n + (n - k)`` (about one extra forward pass).
    - ``"recompute all"``: keep only the network input and recompute each layer
      input from it when needed; memory 2, compute ``n + n(n-1)/2``.

    Parameters
    ----------
    n_layers : int
        Number of layers, >= 1.

    Returns
    -------
    list of dict
        One row per strategy with keys ``strategy``, ``memory``, ``compute``,
        ``memory_ratio`` (memory / n) and ``compute_ratio`` (compute / n).

    Raises
    ------
    TypeError
        If ``n_layers`` is not an integer.
    ValueError
        If ``n_layers`` is less than 1.

    Examples
    --------
    >>> rows = checkpoint_table(16)
    >>> [(r["strategy"], r["memory"], r["compute"]) for r in rows]
    [('store all', 16, 16), ('sqrt(n) checkpoints', 7, 28), ('recompute all', 2, 136)]
    """
    n = check_count(n_layers, "n_layers", 1)
    s = math.isqrt(n - 1) + 1 if n > 1 else 1  # ceil(sqrt(n))
    k = -(-n // s)  # ceil(n / s)
    lengths = [s] * (k - 1) + [n - s * (k - 1)]
    # Working on segment j (0-based) we hold checkpoints 0..j plus the
    # recomputed inputs of that segment other than its checkpoint.
    sqrt_memory = max(j + length for j, length in enumerate(lengths))
    rows = [
        ("store all", n, n),
        ("sqrt(n) checkpoints", sqrt_memory, n + (n - k)),
        ("recompute all", min(2, n), n + n * (n - 1) // 2),
    ]
    return [
        {"strategy": name, "memory": mem, "compute": comp, "memory_ratio": mem / n, "compute_ratio": comp / n}
        for name, mem, comp in rows
    ]
