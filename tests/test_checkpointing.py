"""nablakit.checkpointing: the memory/compute table against a step-by-step simulation."""

import math

import pytest

from nablakit import checkpointing

def simulate(n, checkpoints):
    """Run backprop through n layers keeping only the inputs in `checkpoints` (must hold 0).

    Returns (peak number of stored layer inputs, layer evaluations). Segments
    are recomputed from their checkpoint, last segment first; a checkpoint is
    dropped once its segment is done. `checkpoints=None` means recompute every
    input from a_0 (keeping a_0 and one running value).
    """
    evals = n  # the forward pass
    if checkpoints is None:
        peak = min(2, n)
        for i in range(n, 0, -1):  # backward of layer i needs a_{i-1}
            evals += i - 1
        return peak, evals
    starts = sorted(checkpoints)
    stored = set(starts)
    peak = len(stored)
    bounds = starts[1:] + [n]
    for start, stop in reversed(list(zip(starts, bounds))):
        for i in range(start + 1, stop):  # recompute inputs a_{start+1} .. a_{stop-1}
            stored.add(i)
            evals += 1
        peak = max(peak, len(stored))
        for i in range(start, stop):
            stored.discard(i)
    return peak, evals


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 16, 17, 50, 64, 100])
def test_checkpoint_table_matches_simulation(n):
    rows = {r["strategy"]: r for r in checkpointing.checkpoint_table(n)}
    s = math.ceil(math.sqrt(n))
    assert (rows["store all"]["memory"], rows["store all"]["compute"]) == simulate(n, range(n))
    assert (rows["sqrt(n) checkpoints"]["memory"], rows["sqrt(n) checkpoints"]["compute"]) == simulate(n, range(0, n, s))
    assert (rows["recompute all"]["memory"], rows["recompute all"]["compute"]) == simulate(n, None)
    sq = rows["sqrt(n) checkpoints"]
    assert sq["memory"] <= 2 * s and sq["compute"] <= 2 * n
    assert sq["compute_ratio"] == pytest.approx(sq["compute"] / n)


def test_checkpoint_table_numbers_for_100_layers():
    rows = {r["strategy"]: r for r in checkpointing.checkpoint_table(100)}
    assert rows["sqrt(n) checkpoints"]["memory"] == 19 and rows["sqrt(n) checkpoints"]["compute"] == 190
    assert rows["recompute all"]["compute"] == 5050
