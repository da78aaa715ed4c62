"""Widgets of chapter 05 (nablakit.widgets.level_sets): moving a slider moves the right artists to the right places.

Every factory is built under Agg, each slider is set to several values, and
the artists' data are compared with values computed here independently of
the package. No callback may create a figure or axes.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets.level_sets import (  # noqa: E402
    EXAMPLE_MATRIX,
    KAPPA_LEVELS,
    condition_number_explorer,
    gradient_contour_figure,
    level_value_explorer,
)
from widget_checks import assert_labelled, move  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


def test_level_value_explorer_moves_the_ellipse_and_its_normals():
    app = level_value_explorer()
    A = np.array(EXAMPLE_MATRIX)
    for c in move(app, "c", [0.25, 1.0, 2.0, 5.5, 8.0]):
        x, y = app.artists["curve"].get_data()
        x, y = np.asarray(x), np.asarray(y)
        assert np.allclose(5 * x**2 + 4 * x * y + 2 * y**2, c)
        radius = np.hypot(x, y)
        assert np.isclose(radius.max(), np.sqrt(c / 1.0), rtol=1e-3)  # eigenvalues 1 and 6
        assert np.isclose(radius.min(), np.sqrt(c / 6.0), rtol=1e-3)
        q = app.artists["gradients"]
        feet = q.get_offsets()
        assert feet.shape == (8, 2), "the caption promises eight arrows"
        assert np.allclose(5 * feet[:, 0] ** 2 + 4 * feet[:, 0] * feet[:, 1] + 2 * feet[:, 1] ** 2, c)
        assert np.allclose(np.column_stack([q.U, q.V]), 0.1 * 2 * feet @ A)
        # Normal: the arrows are perpendicular to the curve's direction at their feet.
        for foot, arrow in zip(feet, np.column_stack([q.U, q.V])):
            k = int(np.argmin(np.hypot(x - foot[0], y - foot[1])))
            k1, k2 = (k + 1) % (len(x) - 1), (k - 1) % (len(x) - 1)
            chord = np.array([x[k1] - x[k2], y[k1] - y[k2]])
            assert abs(chord @ arrow) < 2e-3 * np.linalg.norm(chord) * np.linalg.norm(arrow)
        assert f"c = {c:.2f}" in app.artists["label"].get_text()
    assert_labelled(app.fig)


def test_condition_number_explorer_stretches_the_ellipses():
    app = condition_number_explorer()
    for kappa in move(app, "kappa", [1.0, 4.0, 9.0, 17.5, 30.0]):
        for line, c in zip(app.artists["levels"], KAPPA_LEVELS):
            x, y = map(np.asarray, line.get_data())
            assert np.allclose(x**2 + kappa * y**2, c)
            assert np.isclose(np.ptp(x) / np.ptp(y), np.sqrt(kappa), rtol=1e-3)
        px, py = app.artists["point"].get_data()
        p = np.array([px[0], py[0]])
        assert np.isclose(p[0] ** 2 + kappa * p[1] ** 2, 4.0)
        q = app.artists["arrows"]
        vectors = np.column_stack([q.U, q.V])
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
        grad = np.array([2 * p[0], 2 * kappa * p[1]])
        assert np.allclose(vectors[0], -grad / np.linalg.norm(grad))
        assert np.allclose(vectors[1], -p / np.linalg.norm(p))
        angle = np.degrees(np.arccos(2 * np.sqrt(kappa) / (1 + kappa)))
        assert np.isclose(np.degrees(np.arccos(np.clip(vectors[0] @ vectors[1], -1, 1))), angle, atol=1e-6)
        assert f"{angle:4.1f}°" in app.artists["label"].get_text()
    assert_labelled(app.fig)
    with pytest.raises(ValueError, match="kappa"):
        condition_number_explorer(0.5)


def test_gradient_contour_figure_tangents_are_perpendicular():
    fig = gradient_contour_figure()
    assert_labelled(fig)
    ax = fig.axes[0]
    segments = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert len(segments) == 4
    for line in segments:
        x, y = map(np.asarray, line.get_data())
        mid = np.array([x.mean(), y.mean()])
        grad = np.array([np.cos(mid[0]), -np.sin(mid[1])])
        assert abs(grad @ np.array([x[1] - x[0], y[1] - y[0]])) < 1e-12
