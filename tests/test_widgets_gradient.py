"""Widgets and figures of chapter 02 (nablakit.widgets.gradient): sliders move the right artists, in place.

Each factory is built under Agg; a slider is moved to a few values and the
artists' data is compared with values computed here, independently of the
widget code. No callback may create a figure or an axes.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets import gradient  # noqa: E402
from widget_checks import assert_labelled, assert_no_callback_errors, count_redraws, counts  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


SURFACES = {
    "paraboloid": (lambda x, y: x**2 + y**2, lambda x, y: (2 * x, 2 * y)),
    "saddle": (lambda x, y: x**2 - y**2, lambda x, y: (2 * x, -2 * y)),
}


@pytest.fixture(scope="module", params=sorted(SURFACES))
def explorer(request):
    return request.param, gradient.gradient_explorer(request.param)


def test_gradient_explorer_moves_arrow_point_and_plane(explorer):
    name, app = explorer
    fun, grad = SURFACES[name]
    before = counts(app)
    redraws = count_redraws(app)
    w = 0.5
    for x0, y0 in [(1.0, 0.5), (-1.5, 1.2), (0.0, 0.0), (2.0, -2.0), (0.3, -0.7)]:
        app.sliders["x0"].value = x0
        app.sliders["y0"].value = y0
        a = app.artists
        gx, gy = grad(x0, y0)
        z0 = fun(x0, y0)
        assert np.allclose(np.ravel(a["point"].get_data()), [x0, y0])
        assert np.allclose(a["arrow"].get_offsets(), [[x0, y0]])
        assert np.allclose([a["arrow"].U[0], a["arrow"].V[0]], [gx, gy])
        assert f"{gx:+.2f}" in a["text"].get_text() and f"{gy:+.2f}" in a["text"].get_text()
        assert np.allclose(np.ravel(a["point3d"].get_data_3d()), [x0, y0, z0])
        # the plane's outline: a closed rectangle around the point, inside the window, on the plane
        px, py, pz = a["plane"].get_data_3d()
        assert np.allclose([px[0], py[0], pz[0]], [px[-1], py[-1], pz[-1]])
        assert np.allclose(sorted({*np.round(px, 9)}), [max(x0 - w, -2), min(x0 + w, 2)])
        assert np.allclose(sorted({*np.round(py, 9)}), [max(y0 - w, -2), min(y0 + w, 2)])
        assert np.allclose(pz, z0 + gx * (px - x0) + gy * (py - y0))
        # the two slice tangents go through the point with slopes df/dx and df/dy
        lx, ly, lz = a["line_x"].get_data_3d()
        assert np.allclose(ly, y0) and np.allclose(lz, z0 + gx * (lx - x0))
        mx, my, mz = a["line_y"].get_data_3d()
        assert np.allclose(mx, x0) and np.allclose(mz, z0 + gy * (my - y0))
    assert len(redraws) >= 4
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_gradient_explorer_figure_is_labelled_and_validates():
    app = gradient.gradient_explorer("saddle")
    assert_labelled(app.fig)
    assert all(s.description for s in app.sliders.values())
    with pytest.raises(ValueError, match="window"):
        gradient.gradient_explorer("paraboloid", x0=3.0)
    with pytest.raises(TypeError, match="function"):
        gradient.gradient_explorer(42)


def test_quiver_fields_figure_arrows_are_the_gradients():
    fig = gradient.quiver_fields_figure(["paraboloid", "saddle"])
    assert len(fig.axes) == 2
    for ax, name in zip(fig.axes, ["paraboloid", "saddle"]):
        (quiver,) = [c for c in ax.collections if type(c).__name__ == "Quiver"]
        pts = quiver.get_offsets()
        assert len(pts) == 121
        gx, gy = SURFACES[name][1](pts[:, 0], pts[:, 1])
        assert np.allclose(quiver.U, gx) and np.allclose(quiver.V, gy)
        assert name in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="arrows"):
        gradient.quiver_fields_figure(arrows=1)


def test_tangent_plane_and_patch():
    assert np.allclose(gradient.tangent_plane(1.0, [2.0, 3.0], [0.0, 0.0], [[1.0, 1.0], [0.0, -1.0]]), [6.0, -2.0])
    outline, lx, ly = gradient.tangent_patch(1.0, [2.0, 3.0], [0.0, 0.0], 0.5)
    assert np.allclose(outline[:, 2], 1.0 + 2.0 * outline[:, 0] + 3.0 * outline[:, 1])
    assert np.allclose(lx, [[-0.5, 0.0, 0.0], [0.5, 0.0, 2.0]])
    assert np.allclose(ly, [[0.0, -0.5, -0.5], [0.0, 0.5, 2.5]])
    with pytest.raises(ValueError, match="inside"):
        gradient.tangent_patch(0.0, [1.0, 1.0], [3.0, 0.0], 0.5, xlim=(-2, 2))
    with pytest.raises(ValueError, match="half_width"):
        gradient.tangent_patch(0.0, [1.0, 1.0], [0.0, 0.0], 0.0)
