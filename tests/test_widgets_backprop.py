"""Widget of the chain-rule chapter: the input slider moves values and gradients on the graph, in place.

The expected numbers are computed here from the closed form of
f = tanh(w x + x) and its derivative, independently of the autodiff module.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.widgets import backprop  # noqa: E402
from widget_checks import assert_labelled, move  # noqa: E402

W = 0.8


pytestmark = pytest.mark.usefixtures("close_figures")


def closed_form(x, w=W):
    s = w * x + x
    ds = 1.0 - np.tanh(s) ** 2
    return {
        "value": {"x": x, "w": w, "a": w * x, "s": s, "f": np.tanh(s)},
        "grad": {"x": ds * (w + 1.0), "w": ds * x, "a": ds, "s": ds, "f": 1.0},
        "edge": {("x", "a"): ds * w, ("w", "a"): ds * x, ("a", "s"): ds, ("x", "s"): ds, ("s", "f"): ds},
    }


@pytest.mark.parametrize("x", [-2.0, -0.35, 0.0, 1.0, 1.9])
def test_neuron_graph_matches_the_closed_form(x):
    got, want = backprop.neuron_graph(x, W), closed_form(x)
    for part in ("value", "grad", "edge"):
        assert set(got[part]) == set(want[part])
        for key in want[part]:
            assert got[part][key] == pytest.approx(want[part][key], rel=1e-12, abs=1e-15), (part, key)
    # x is used twice: its gradient is the sum of its two edges.
    assert got["grad"]["x"] == pytest.approx(got["edge"][("x", "a")] + got["edge"][("x", "s")], rel=1e-12)
    h = 1e-6
    numeric = (np.tanh((W + 1) * (x + h)) - np.tanh((W + 1) * (x - h))) / (2 * h)
    assert got["grad"]["x"] == pytest.approx(numeric, rel=1e-7, abs=1e-9)


def test_slider_moves_every_value_and_gradient_in_place():
    app = backprop.backprop_explorer()
    expected_artists = {f"value_{n}" for n in backprop.NODES} | {f"grad_{n}" for n in backprop.NODES}
    expected_artists |= {f"edge_{p}_{c}" for p, c in backprop.EDGES} | {"point", "tangent"}
    assert set(app.artists) == expected_artists
    xs = app.artists["tangent"].get_xdata()
    for x in move(app, "x", [-2.0, -1.0, 0.0, 0.55, 2.0]):
        want = closed_form(x)
        for name in backprop.NODES:
            assert app.artists[f"value_{name}"].get_text() == f"{name} = {want['value'][name]:.2f}"
            assert app.artists[f"grad_{name}"].get_text() == f"df/d{name} = {want['grad'][name]:.3f}"
        for p, c in backprop.EDGES:
            assert app.artists[f"edge_{p}_{c}"].get_text() == f"← {want['edge'][(p, c)]:.3f}"
        px, py = app.artists["point"].get_data()
        assert np.allclose([px[0], py[0]], [x, want["value"]["f"]])
        slope = np.polyfit(xs, app.artists["tangent"].get_ydata(), 1)[0]
        assert slope == pytest.approx(want["grad"]["x"], rel=1e-9, abs=1e-12)


def test_explorer_is_labelled_small_and_rejects_bad_start():
    app = backprop.backprop_explorer()
    assert_labelled(app.fig)
    assert app.sliders["x"].description
    assert (app.sliders["x"].min, app.sliders["x"].max) == backprop.X_RANGE
    width, height = app.fig.get_size_inches()
    assert width * height < 32, "keep the figure small: it is redrawn on every slider step"
    with pytest.raises(ValueError, match="x must lie"):
        backprop.backprop_explorer(x=3.0)
    with pytest.raises(TypeError, match="x"):
        backprop.neuron_graph("one")
