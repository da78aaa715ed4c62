"""Widgets of chapter 00 (nablakit.widgets.welcome): sliders move the right artists to the right data, in place.

The factory is built under Agg; a slider is moved to a few values and the
artists' data is compared with values computed here, independently of the
widget code. No callback may create a figure or an axes.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets import welcome  # noqa: E402
from widget_checks import assert_labelled, assert_no_callback_errors, count_redraws, counts  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


def test_tangent_teaser_moves_point_and_tangent_in_place():
    app = welcome.tangent_teaser()
    before = counts(app)
    redraws = count_redraws(app)
    xs = app.artists["tangent"].get_xdata()
    for x0 in (-2.0, -0.5, 0.0, 1.3, 2.0):
        app.sliders["x0"].value = x0
        px, py = app.artists["point"].get_data()
        assert np.allclose([px[0], py[0]], [x0, x0**2])
        assert np.allclose(app.artists["tangent"].get_ydata(), x0**2 + 2 * x0 * (xs - x0))
        assert f"{2 * x0:.1f}" in app.artists["label"].get_text()
    assert len(redraws) == 5
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_tangent_teaser_has_labels_and_rejects_bad_start():
    app = welcome.tangent_teaser()
    assert_labelled(app.fig)
    assert app.sliders["x0"].description
    assert (app.sliders["x0"].min, app.sliders["x0"].max) == (-2.0, 2.0)  # "the slider stops at 2"
    with pytest.raises(ValueError, match="x0"):
        welcome.tangent_teaser(x0=5.0)


def test_environment_report_lists_course_packages():
    versions = welcome.environment_versions()
    assert list(versions)[0] == "python"
    assert set(welcome.PACKAGES) <= set(versions)
    assert welcome.missing_packages(versions) == []
    text = " ".join(f"{k} {v}" for k, v in versions.items())
    assert "Warning" not in text and "Error" not in text
    with pytest.raises(TypeError, match="packages"):
        welcome.environment_versions("numpy")
