"""nablakit.convergence: a run has settled only when it stays."""

import numpy as np
import pytest

from nablakit import convergence

def test_steps_to_settle_requires_staying():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert convergence.steps_to_settle(path, [1.0, 0.0], 0.1) == 3
    assert convergence.steps_to_settle(path[:3], [1.0, 0.0], 0.1) is None
    assert convergence.steps_to_settle(path[1:2], [1.0, 0.0], 0.1) == 0


def test_first_settled_counts_from_the_last_failure():
    assert convergence.first_settled([False, False, True]) == 2
    assert convergence.first_settled([True, False, True, True]) == 2
    assert convergence.first_settled(np.array([0.5, np.nan, 1e-7]) < 1e-6) == 2, "NaN compares False: not settled there"
    assert convergence.first_settled([]) is None and convergence.first_settled([True, True, False]) is None
    with pytest.raises(ValueError, match="1-D"):
        convergence.first_settled([[True]])
