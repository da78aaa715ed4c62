"""nablakit.precision: float16 underflow, overflow and loss scaling."""

import numpy as np
import pytest

from nablakit import precision

def test_float16_limits():
    assert precision.FLOAT16_SMALLEST_SUBNORMAL == 2.0**-24
    assert precision.FLOAT16_SMALLEST_SUBNORMAL == pytest.approx(5.96e-8, rel=1e-3)
    assert precision.FLOAT16_SMALLEST_NORMAL == 2.0**-14
    assert precision.FLOAT16_MAX == 65504.0


def test_float16_underflow_threshold_and_loss_scaling():
    tiny = 2.0**-24
    # Round to nearest: half the smallest subnormal is the tie, just below it goes to 0.
    assert precision.float16_roundtrip([0.49 * tiny])[0] == 0.0
    assert precision.float16_roundtrip([0.51 * tiny])[0] == tiny
    assert precision.float16_roundtrip([1e-8])[0] == 0.0
    assert precision.float16_roundtrip([1e-8], scale=2.0**16)[0] == pytest.approx(1e-8, rel=2.0**-11)
    assert precision.underflow_fraction([1e-9, 1e-8, 1e-3]) == pytest.approx(2 / 3)
    assert precision.underflow_fraction([1e-9, 1e-8, 1e-3], scale=2.0**16) == 0.0
    assert precision.overflow_fraction([1e-3, 2.0], scale=2.0**16) == 0.5
    with np.errstate(all="raise"):
        precision.float16_roundtrip([1e6])  # overflow to inf is reported in the result, never raised


def test_float16_relative_precision():
    # Normal float16 numbers carry 11 significant bits: relative error <= 2**-11.
    x = np.geomspace(1e-4, 1e4, 200)
    rel = np.abs(precision.float16_roundtrip(x) - x) / x
    assert rel.max() <= 2.0**-11 * (1 + 1e-9)
