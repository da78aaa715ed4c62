"""Widgets of chapter 04 (nablakit.widgets.directional): moving a slider moves the right artists to the right places.

Every factory is built under Agg, each slider is set to several values, and
the artists' data are compared with values computed here independently of
the package. No callback may create a figure or axes.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets.directional import direction_explorer, subgradient_figure  # noqa: E402
from widget_checks import assert_labelled, move  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


def test_direction_explorer_follows_the_angle():
    app = direction_explorer()
    a = np.array([1.5, 1.0])
    grad = np.array([2 * a[0], 4 * a[1]])  # f = x^2 + 2y^2
    assert "θ" in app.sliders["theta"].description
    for deg in move(app, "theta", [0.0, 30.0, 53.0, 90.0, 143.0, 233.0, 300.0, 360.0]):
        u = np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])
        slope = grad @ u
        x, y = app.artists["marker"].get_data()
        assert np.allclose([x[0], y[0]], [deg, slope])
        q = app.artists["direction"]
        assert np.allclose([q.U[0], q.V[0]], u) and np.allclose(q.get_offsets(), [a])
        sx, sy = app.artists["shadow"].get_data()
        assert np.allclose([sx[-1], sy[-1]], a + slope / 5.0 * u)
        dx, dy = app.artists["drop"].get_data()
        tip = a + grad / 5.0
        assert np.isclose((np.array([dx[0], dy[0]]) - np.array([dx[1], dy[1]])) @ u, 0.0, atol=1e-12)
        assert np.allclose([dx[0], dy[0]], tip)
        assert f"{slope:+.3f}" in app.artists["label"].get_text()
    assert_labelled(app.fig)


def test_direction_explorer_marks_max_and_min():
    app = direction_explorer()
    ax_curve = app.fig.axes[1]
    marks = {tuple(np.round(np.ravel(line.get_data()), 6)) for line in ax_curve.lines if len(line.get_xdata()) == 1}
    phi = np.degrees(np.arctan2(4.0, 3.0))
    assert (round(phi, 6), 5.0) in marks
    assert (round(phi + 180.0, 6), -5.0) in marks
    with pytest.raises(ValueError, match="theta_deg"):
        direction_explorer(400.0)
    with pytest.raises(ValueError, match="vanishes"):
        direction_explorer(point=(0.0, 0.0))


def test_subgradient_figure_lines_support_the_graphs():
    fig = subgradient_figure()
    assert_labelled(fig)
    for ax, f, interval in zip(fig.axes, (np.abs, lambda x: np.maximum(x, 0.0)), ((-1, 1), (0, 1))):
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) >= 3
        for line in dashed:
            x, y = line.get_data()
            slope = (y[-1] - y[0]) / (x[-1] - x[0])
            assert interval[0] - 1e-12 <= slope <= interval[1] + 1e-12
            assert np.all(y <= f(x) + 1e-12), "a subgradient line must stay below the graph"
