"""Test functions: values, gradients and Hessians against independent references."""

import numpy as np
import pytest

from nablakit.testfunctions import (
    TEST_FUNCTIONS,
    TestFunction,
    beale,
    get_test_function,
    paraboloid,
    ravine,
    rosenbrock,
    saddle,
)
from nablakit.numdiff import numerical_gradient, numerical_hessian

ALL = [paraboloid(), saddle(), ravine(), ravine(kappa=100), rosenbrock(), rosenbrock(a=2.0, b=10.0), beale()]
IDS = ["paraboloid", "saddle", "ravine10", "ravine100", "rosenbrock", "rosenbrock-a2-b10", "beale"]
# Random probe points inside each function's window (seeded).
RNG = np.random.default_rng(20240501)


def probe_points(tf, k=5):
    lo = np.array([tf.xlim[0], tf.ylim[0]])
    hi = np.array([tf.xlim[1], tf.ylim[1]])
    return lo + (hi - lo) * RNG.random((k, 2))


def scalar_f(tf):
    return lambda v: float(tf.f(v))


@pytest.mark.parametrize("tf", ALL, ids=IDS)
def test_gradient_matches_central_differences(tf):
    for p in probe_points(tf):
        num = numerical_gradient(scalar_f(tf), p, h=1e-6)
        ana = tf.grad(p)
        scale = max(1.0, np.abs(ana).max())
        assert np.allclose(ana, num, rtol=1e-6, atol=1e-6 * scale), f"{tf.name} at {p}: {ana} vs {num}"


@pytest.mark.parametrize("tf", ALL, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(tf):
    for p in probe_points(tf):
        H = tf.hessian(p)
        assert H.shape == (2, 2)
        assert np.allclose(H, H.T), f"{tf.name}: Hessian not symmetric at {p}"
        # Column j of H is the derivative of grad along e_j (centred differences).
        num = np.column_stack(
            [numerical_gradient(lambda v: float(tf.grad(v)[i]), p, h=1e-6) for i in range(2)]
        ).T
        scale = max(1.0, np.abs(H).max())
        assert np.allclose(H, num, rtol=1e-6, atol=1e-6 * scale), f"{tf.name} at {p}:\n{H}\nvs\n{num}"


@pytest.mark.parametrize("tf", [paraboloid(), rosenbrock(), beale()], ids=["paraboloid", "rosenbrock", "beale"])
def test_hessian_matches_second_differences_of_f(tf):
    p = probe_points(tf, k=1)[0]
    num = numerical_hessian(scalar_f(tf), p, h=1e-4)
    assert np.allclose(tf.hessian(p), num, rtol=1e-4, atol=1e-3)


def test_rosenbrock_formula_by_hand():
    tf = rosenbrock(a=1.0, b=100.0)
    x, y = -1.5, 2.0
    assert np.isclose(tf.f([x, y]), (1 - x) ** 2 + 100 * (y - x**2) ** 2)
    assert np.isclose(tf.f([x, y]), 12.5)


def test_beale_formula_by_hand():
    x, y = 1.0, 2.0
    expected = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    assert np.isclose(beale().f([x, y]), expected)


@pytest.mark.parametrize(
    "tf, minimum",
    [
        (paraboloid(), (0.0, 0.0)),
        (ravine(), (0.0, 0.0)),
        (ravine(kappa=100), (0.0, 0.0)),
        (rosenbrock(), (1.0, 1.0)),
        (rosenbrock(a=2.0, b=10.0), (2.0, 4.0)),
        (beale(), (3.0, 0.5)),
    ],
    ids=["paraboloid", "ravine10", "ravine100", "rosenbrock", "rosenbrock-a2", "beale"],
)
def test_known_minimum(tf, minimum):
    assert np.allclose(tf.minima, [minimum])
    m = np.asarray(minimum)
    assert np.isclose(tf.f(m), 0.0, atol=1e-12)
    assert np.allclose(tf.grad(m), 0.0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(tf.hessian(m)) > 0), "Hessian should be positive definite at a strict minimum"
    # f is minimal there: no nearby point and no probe point in the window is lower.
    nearby = m + 1e-3 * RNG.standard_normal((50, 2))
    assert np.all(tf.f(nearby.T) > tf.f(m))
    assert np.all(tf.f(probe_points(tf, 200).T) >= tf.f(m))


def test_saddle_critical_point_is_not_a_minimum():
    tf = saddle()
    zero = np.zeros(2)
    assert np.allclose(tf.grad(zero), 0.0)
    eig = np.linalg.eigvalsh(tf.hessian(zero))
    assert eig.min() < 0 < eig.max(), "mixed curvature signs make a saddle"
    assert tf.f([0.0, 0.1]) < tf.f(zero) < tf.f([0.1, 0.0])
    assert tf.minima.shape == (0, 2)


@pytest.mark.parametrize("tf", ALL, ids=IDS)
def test_vectorised_evaluation_equals_per_point(tf):
    x = np.linspace(*tf.xlim, 7)
    y = np.linspace(*tf.ylim, 5)
    X, Y = np.meshgrid(x, y)
    stack = np.stack([X, Y])
    Z, G, H = tf.f(stack), tf.grad(stack), tf.hessian(stack)
    assert Z.shape == (5, 7) and G.shape == (2, 5, 7) and H.shape == (2, 2, 5, 7)
    for j in range(5):
        for i in range(7):
            p = np.array([X[j, i], Y[j, i]])
            assert np.isclose(Z[j, i], tf.f(p))
            assert np.allclose(G[:, j, i], tf.grad(p))
            assert np.allclose(H[:, :, j, i], tf.hessian(p))


def test_point_input_shapes_and_lists():
    tf = rosenbrock()
    assert np.ndim(tf.f([0.5, 0.5])) == 0
    assert tf.grad([0.5, 0.5]).shape == (2,)
    assert tf.f(np.zeros((2, 4))).shape == (4,)
    assert np.isclose(tf([0.5, 0.5]), tf.f([0.5, 0.5]))


def test_nan_propagates_without_error():
    tf = rosenbrock()
    out = tf.f(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    assert np.isnan(out[0]) and np.isfinite(out[1])


@pytest.mark.parametrize("bad", [[1.0, 2.0, 3.0], 1.0, np.zeros((3, 2))])
def test_wrong_theta_shape_raises_valueerror(bad):
    with pytest.raises(ValueError, match="theta"):
        paraboloid().f(bad)


def test_non_numeric_theta_raises_typeerror():
    with pytest.raises(TypeError, match="theta"):
        beale().grad("ab")
    with pytest.raises(TypeError, match="theta"):
        beale().grad(None)


def test_factory_parameters_are_validated():
    with pytest.raises(ValueError, match="kappa"):
        ravine(kappa=0)
    with pytest.raises(TypeError, match="kappa"):
        ravine(kappa="10")
    with pytest.raises(ValueError, match="b"):
        rosenbrock(b=-1)
    with pytest.raises(ValueError, match="a"):
        rosenbrock(a=np.inf)


def test_get_test_function():
    assert set(TEST_FUNCTIONS) == {"paraboloid", "saddle", "ravine", "rosenbrock", "beale"}
    for name in TEST_FUNCTIONS:
        tf = get_test_function(name)
        assert isinstance(tf, TestFunction) and tf.name == name
        assert tf.minima.ndim == 2 and tf.minima.shape[1] == 2
        assert tf.xlim[0] < tf.xlim[1] and tf.ylim[0] < tf.ylim[1]
    assert np.isclose(get_test_function("Ravine", kappa=100).f([0.0, 1.0]), 100.0)
    with pytest.raises(ValueError, match="name"):
        get_test_function("himmelblau")
    with pytest.raises(TypeError, match="name"):
        get_test_function(3)
    with pytest.raises(TypeError, match="kappa"):
        get_test_function("beale", kappa=3)


def test_minima_lie_inside_the_plot_window():
    for tf in ALL:
        for x, y in tf.minima:
            assert tf.xlim[0] < x < tf.xlim[1] and tf.ylim[0] < y < tf.ylim[1], tf.name
