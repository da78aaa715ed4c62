"""nablakit._validate, and one exception type per kind of mistake across the package.

The rule (see the module's docstring): the wrong kind of thing is a
TypeError, the right kind with a bad value is a ValueError.
"""

import numpy as np
import pytest

from nablakit import (
    accumulation,
    checkpointing,
    depth,
    fd_error,
    landscape,
    mlp_training,
    natural_gradient,
    networks,
    optimizers,
    precision,
    regression,
)
from nablakit._validate import (
    as_float,
    check_choice,
    check_count,
    check_design,
    check_fraction,
    check_interval,
    check_nonnegative,
    check_rng,
)


def test_check_count_kinds_and_ranges():
    assert check_count(np.int32(4), "n") == 4 and type(check_count(np.int32(4), "n")) is int
    for bad in (2.5, 2.0, True, "3", None):
        with pytest.raises(TypeError, match="n must be an integer"):
            check_count(bad, "n")
    with pytest.raises(ValueError, match="n must be a non-negative integer; got -1"):
        check_count(-1, "n")
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        check_count(0, "n", 1)
    with pytest.raises(ValueError, match="n must be an integer >= 3; got 2"):
        check_count(2, "n", 3)
    with pytest.raises(ValueError, match=r"n must be an integer in 1\.\.5; got 6"):
        check_count(6, "n", 1, 5)


def test_number_checks():
    assert check_nonnegative(0, "lam") == 0.0 and check_fraction(0.0, "beta") == 0.0
    for check in (check_nonnegative, check_fraction):
        with pytest.raises(TypeError, match="x must be a real number"):
            check("0.5", "x")
        with pytest.raises(TypeError):
            check(False, "x")
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        check_nonnegative(float("inf"), "lam")
    with pytest.raises(ValueError, match="beta must satisfy 0 <= beta < 1"):
        check_fraction(-0.1, "beta")
    assert as_float(np.array(2.5), "x") == 2.5
    with pytest.raises(ValueError, match="finite"):
        as_float(float("nan"), "x")


def test_choices_intervals_designs_and_generators():
    with pytest.raises(ValueError, match="method must be one of 'a', 'b'; got 'c'"):
        check_choice("c", "method", ("a", "b"))
    with pytest.raises(TypeError, match="method must be a string"):
        check_choice(1, "method", ("a", "b"))
    with pytest.raises(ValueError, match="low < high"):
        check_interval((2, 2), "xlim")
    X, y = check_design(np.ones((3, 2)), [1, 2, 3])
    assert X.shape == (3, 2) and y.shape == (3,)
    with pytest.raises(ValueError, match="one entry per row of X"):
        check_design(np.ones((3, 2)), [1, 2])
    g = np.random.default_rng(0)
    assert check_rng(g) is g
    with pytest.raises(TypeError, match="rng"):
        check_rng(0.5)


X3, Y3 = np.random.default_rng(0).normal(size=(6, 2)), np.random.default_rng(1).normal(size=6)
GRAD = lambda th: 2 * th  # noqa: E731
#: Each entry: a call with the count left open, and that count's name.
COUNTS = {
    "optimizers.gradient_descent steps": (lambda n: optimizers.gradient_descent(GRAD, [1.0], 0.1, n), "steps"),
    "regression.gd_run steps": (lambda n: regression.gd_run(X3, Y3, 0.1, n), "steps"),
    "regression.make_regression m": (lambda n: regression.make_regression(m=n), "m"),
    "depth.sigmoid_chain depth": (lambda n: depth.sigmoid_chain(n), "depth"),
    "depth.recurrence_grad_norms T": (lambda n: depth.recurrence_grad_norms(np.eye(2), n), "T"),
    "landscape.grid_eval n": (lambda n: landscape.grid_eval(lambda t: t[0], (0, 1), (0, 1), n=n), "n"),
    "networks.init_mlp n_hidden": (lambda n: networks.init_mlp(2, n, 1, rng=0), "n_hidden"),
    "fd_error.fd_evaluation_count n": (lambda n: fd_error.fd_evaluation_count(n), "n"),
    "fd_error.default_steps per_decade": (lambda n: fd_error.default_steps(-3, -1, per_decade=n), "per_decade"),
    "accumulation.micro_batch_slices micro_batch": (lambda n: accumulation.micro_batch_slices(10, n), "micro_batch"),
    "checkpointing.checkpoint_table n_layers": (lambda n: checkpointing.checkpoint_table(n), "n_layers"),
    "precision.float16_error_envelope per_bin": (
        lambda n: precision.float16_error_envelope(np.geomspace(1e-3, 1.0, 4), per_bin=n), "per_bin"),
    "natural_gradient.gaussian_gd_path steps": (
        lambda n: natural_gradient.gaussian_gd_path([1.0, 2.0], [0.0, 1.0], 0.1, n), "steps"),
    "mlp_training.train_mlp steps": (
        lambda n: mlp_training.train_mlp(networks.init_mlp(2, 2, 1, rng=0), X3, Y3, 0.1, n), "steps"),
}


@pytest.mark.parametrize("key", sorted(COUNTS))
def test_a_count_is_checked_the_same_way_everywhere(key):
    call, name = COUNTS[key]
    with pytest.raises(TypeError, match=f"{name} must be an integer; got float 2.5"):
        call(2.5)
    with pytest.raises(TypeError, match=f"{name} must be an integer; got bool"):
        call(True)
    with pytest.raises(ValueError, match=f"{name} must be"):
        call(-1)
