"""nablakit.clipping: global norm, norm clipping keeps the direction, value clipping turns it."""

import math

import numpy as np
import pytest

from nablakit import clipping
from nablakit.calculus import angle_between

@pytest.fixture
def grads():
    rng = np.random.default_rng(3)
    return [rng.normal(size=(3, 2)) * 4, rng.normal(size=2) * 4, np.array([[5.0]])]


def test_global_norm_matches_concatenated_vector(grads):
    flat = np.concatenate([g.ravel() for g in grads])
    assert math.isclose(clipping.global_norm(grads), np.linalg.norm(flat), rel_tol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 2.0, 1e3])
def test_clip_by_global_norm_keeps_direction_and_bounds_norm(grads, max_norm):
    before = [g.copy() for g in grads]
    clipped, total = clipping.clip_by_global_norm(grads, max_norm)
    flat = np.concatenate([g.ravel() for g in grads])
    flat_c = np.concatenate([g.ravel() for g in clipped])
    assert math.isclose(total, np.linalg.norm(flat), rel_tol=1e-12)
    assert np.linalg.norm(flat_c) <= max_norm * (1 + 1e-12) or np.allclose(flat_c, flat)
    assert math.isclose(np.linalg.norm(flat_c), min(total, max_norm), rel_tol=1e-12)
    assert angle_between(flat, flat_c) < 1e-9
    assert [c.shape for c in clipped] == [g.shape for g in grads]
    assert all(np.array_equal(a, b) for a, b in zip(grads, before)), "inputs must not be modified"


def test_clip_below_threshold_is_untouched_and_zero_gives_no_nan():
    clipped, total = clipping.clip_by_global_norm([np.array([0.3, 0.4])], 1.0)
    assert total == pytest.approx(0.5) and np.allclose(clipped[0], [0.3, 0.4])
    clipped, total = clipping.clip_by_global_norm([np.zeros(3), np.zeros((2, 2))], 1.0)
    assert total == 0.0 and all(np.all(c == 0) for c in clipped)


def test_clip_errors_name_the_argument():
    with pytest.raises(TypeError, match="grads"):
        clipping.clip_by_global_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clipping.clip_by_global_norm([np.ones(3)], 0.0)
    with pytest.raises(ValueError, match="c must"):
        clipping.clip_by_value([1.0], -1.0)
    with pytest.raises(ValueError, match="non-zero"):
        angle_between([0, 0], [1, 0])


def test_clip_by_value_turns_the_vector():
    # g = (10, 0.1), c = 1 -> (1, 0.1): the angle grows from atan(0.01) to atan(0.1).
    clipped = clipping.clip_by_value([10.0, 0.1], 1.0)
    assert np.allclose(clipped, [1.0, 0.1])
    expected = math.degrees(math.atan(0.1) - math.atan(0.01))
    assert angle_between([10.0, 0.1], clipped) == pytest.approx(expected, rel=1e-9)
    assert angle_between([10.0, 0.1], clipped) == pytest.approx(5.14, abs=0.005)
