"""nablakit.level_sets: quadratic forms, their elliptic level curves, and the wavy example."""

import numpy as np
import pytest
from reference import centred_gradient

from nablakit.level_sets import check_spd, quadratic_form, quadratic_level_curve, wavy_f, wavy_grad

A = np.array([[5.0, 2.0], [2.0, 2.0]])


def test_quadratic_form_of_one_point_and_of_a_grid():
    p = np.array([0.3, -1.1])
    assert quadratic_form(A, p) == pytest.approx(p @ A @ p, rel=1e-14)
    grid = np.random.default_rng(0).normal(size=(2, 4, 5))
    expected = np.array([[grid[:, i, j] @ A @ grid[:, i, j] for j in range(5)] for i in range(4)])
    assert np.allclose(quadratic_form(A, grid), expected, rtol=1e-13)


@pytest.mark.parametrize("c", [0.25, 1.0, 6.0])
def test_level_curve_lies_on_the_level_and_has_semi_axes_sqrt_c_over_lambda(c):
    pts = quadratic_level_curve(A, c, n=721)
    assert np.allclose(quadratic_form(A, pts.T), c, rtol=1e-12)
    assert np.allclose(pts[0], pts[-1]), "the curve is closed"
    radii = np.linalg.norm(pts, axis=1)
    lam = np.linalg.eigvalsh(A)
    assert radii.max() == pytest.approx(np.sqrt(c / lam[0]), rel=1e-4)
    assert radii.min() == pytest.approx(np.sqrt(c / lam[1]), rel=1e-4)


def test_wavy_gradient_against_the_reference():
    for p in np.random.default_rng(1).uniform(-3, 3, size=(5, 2)):
        assert np.allclose(wavy_grad(p), centred_gradient(wavy_f, p), atol=1e-8)


def test_bad_input():
    with pytest.raises(ValueError, match="symmetric"):
        check_spd([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        check_spd([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="A must have shape"):
        check_spd(np.eye(3))
    with pytest.raises(TypeError, match="n must be an integer"):
        quadratic_level_curve(A, 1.0, n=10.0)
    with pytest.raises(ValueError, match="n must be an integer >= 3"):
        quadratic_level_curve(A, 1.0, n=2)
    with pytest.raises(ValueError, match="c must be"):
        quadratic_level_curve(A, 0.0)
    with pytest.raises(ValueError, match="p must have length 2"):
        quadratic_form(A, [1.0, 2.0, 3.0])
