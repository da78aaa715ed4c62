"""Directional derivatives, steepest ascent and level-set tangents."""

import math

import numpy as np
import pytest

from nablakit.calculus import (
    angle_between,
    direction_from_angle,
    directional_derivative,
    directional_profile,
    level_tangent,
    partial_difference_quotient,
    steepest_ascent,
    tangent_plane,
    unit_vector,
)
from nablakit.numdiff import central_difference, numerical_gradient


def f(p):
    return p[0] ** 2 + 3 * p[0] * p[1] + np.sin(p[1])


P = np.array([0.7, -0.4])


def test_unit_vector_and_angles():
    assert np.allclose(unit_vector([0.0, -5.0, 0.0]), [0.0, -1.0, 0.0])
    thetas = np.linspace(0, 2 * np.pi, 9)
    dirs = direction_from_angle(thetas)
    assert dirs.shape == (2, 9)
    assert np.allclose(np.linalg.norm(dirs, axis=0), 1.0)
    assert np.allclose(direction_from_angle(np.pi / 4), [np.sqrt(0.5), np.sqrt(0.5)])


@pytest.mark.parametrize("theta", np.linspace(0, 2 * np.pi, 7))
def test_directional_derivative_is_slope_along_u(theta):
    u = direction_from_angle(theta)
    grad = numerical_gradient(f, P)
    slope = central_difference(lambda s: f(P + s * u), 0.0)
    assert directional_derivative(grad, u) == pytest.approx(slope, abs=1e-7)


def test_steepest_ascent_maximises_directional_derivative():
    grad = numerical_gradient(f, P)
    best = steepest_ascent(grad)
    slopes = [directional_derivative(grad, u) for u in direction_from_angle(np.linspace(0, 2 * np.pi, 721)).T]
    assert np.linalg.norm(best) == pytest.approx(1.0)
    assert directional_derivative(grad, best) == pytest.approx(np.linalg.norm(grad))
    assert max(slopes) <= np.linalg.norm(grad) + 1e-12
    assert min(slopes) == pytest.approx(-np.linalg.norm(grad), rel=1e-4)
    assert steepest_ascent(np.zeros(3)) is None
    assert steepest_ascent([1e-13, 0.0]) is None
    assert steepest_ascent([1e-13, 0.0], atol=1e-14) == pytest.approx([1.0, 0.0])


def test_level_tangent_is_perpendicular_and_keeps_f_constant():
    grad = numerical_gradient(f, P)
    tangent = level_tangent(grad)
    assert np.linalg.norm(tangent) == pytest.approx(1.0)
    assert tangent @ grad == pytest.approx(0.0, abs=1e-12)
    assert grad[0] * tangent[1] - grad[1] * tangent[0] > 0, "tangent should be grad turned counter-clockwise"
    assert directional_derivative(grad, tangent) == pytest.approx(0.0, abs=1e-12)
    assert central_difference(lambda s: f(P + s * tangent), 0.0) == pytest.approx(0.0, abs=1e-8)
    assert level_tangent([0.0, 0.0]) is None


@pytest.mark.parametrize("call, exc, match", [
    (lambda: unit_vector([0.0, 0.0]), ValueError, "v must be non-zero"),
    (lambda: unit_vector([]), ValueError, "v must not be empty"),
    (lambda: unit_vector([[1.0, 0.0]]), ValueError, "v must have 1 dimension"),
    (lambda: unit_vector([1.0, np.nan]), ValueError, "v must contain only finite"),
    (lambda: direction_from_angle(np.inf), ValueError, "theta must contain only finite"),
    (lambda: direction_from_angle("north"), TypeError, "theta must be a numeric array"),
    (lambda: directional_derivative([1.0, 2.0], [1.0, 1.0]), ValueError, "u must be a unit vector"),
    (lambda: directional_derivative([1.0, 2.0], [1.0, 0.0, 0.0]), ValueError, "u must have the length of grad"),
    (lambda: directional_derivative([1.0, np.inf], [1.0, 0.0]), ValueError, "grad must contain only finite"),
    (lambda: directional_derivative([], [1.0]), ValueError, "grad must not be empty"),
    (lambda: steepest_ascent([[1.0, 2.0]]), ValueError, "grad must have 1 dimension"),
    (lambda: steepest_ascent([1.0], atol=0), ValueError, "atol must be"),
    (lambda: level_tangent([1.0, 2.0, 3.0]), ValueError, r"grad must have shape \(2,\)"),
    (lambda: level_tangent(None), TypeError, "grad must be a numeric array"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_angle_between_against_arctan2():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=2), rng.normal(size=2)
        diff = abs(math.atan2(a[1], a[0]) - math.atan2(b[1], b[0]))
        expected = min(diff, 2 * math.pi - diff)
        assert angle_between(a, b, degrees=False) == pytest.approx(expected, abs=1e-9)


def test_partial_difference_quotient_is_the_limit_definition():
    def f(x, y):
        return x**2 * y + y**3

    for step in (0.5, 0.1, -0.1):
        assert np.isclose(partial_difference_quotient(f, 1.0, 1.0, step), ((1 + step) ** 2 - 1) / step)
        assert np.isclose(partial_difference_quotient(f, 2.0, 0.0, step, axis="y"), (f(2.0, step) - f(2.0, 0.0)) / step)
    with pytest.raises(ValueError, match="nonzero"):
        partial_difference_quotient(f, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="axis"):
        partial_difference_quotient(f, 1.0, 1.0, 0.1, axis="z")


def test_directional_profile_is_the_directional_derivative_at_each_angle():
    grad = np.array([3.0, 4.0])
    angles = np.linspace(-np.pi, np.pi, 37)
    want = [directional_derivative(grad, [np.cos(t), np.sin(t)]) for t in angles]
    assert np.allclose(directional_profile(grad, angles), want, rtol=1e-12, atol=1e-12)
    # the cosine form the chapter states: ||grad|| cos(t - phi), peak at the gradient's angle
    phi = np.arctan2(4.0, 3.0)
    assert np.allclose(directional_profile(grad, angles), 5.0 * np.cos(angles - phi), atol=1e-12)
    assert isinstance(directional_profile(grad, 0.3), float)
    with pytest.raises(ValueError, match="grad"):
        directional_profile([1.0, 2.0, 3.0], 0.0)


def test_tangent_plane_is_the_first_order_model_in_any_dimension():
    grad = numerical_gradient(f, P)
    points = P + np.array([[0.0, 0.0], [1e-3, 0.0], [0.0, -2e-3], [1e-3, 1e-3]])
    got = tangent_plane(f(P), grad, P, points)
    # f minus its tangent plane is second order in the step: |f(p) - T(p)| <= C |p - a|^2
    gap = np.abs(np.array([f(p) for p in points]) - got)
    assert gap[0] == 0.0 and np.all(gap <= 10 * np.sum((points - P) ** 2, axis=1) + 1e-12)
    # one dimension: the tangent line of y = x**2 at 3 (chapter 00)
    assert np.allclose(tangent_plane(9.0, [6.0], [3.0], [[3.0], [4.0]]), [9.0, 15.0])
    with pytest.raises(ValueError, match="last axis of length 2"):
        tangent_plane(0.0, [1.0, 2.0], [0.0, 0.0], [1.0, 2.0, 3.0])

