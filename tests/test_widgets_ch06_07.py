"""Chapter 06-07 figures: the h slider moves markers along precomputed curves, in place."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit import fd_error, networks  # noqa: E402
from nablakit.widgets import finite_diff as fdw  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    app = fdw.fd_error_explorer()
    yield app
    plt.close(app.fig)


@pytest.fixture(scope="module")
def reference_curves():
    hs = fd_error.default_steps(-15, -1)
    return hs, fd_error.error_curves(np.exp, np.exp, 1.0, hs, ("forward", "central"))


@pytest.mark.parametrize("h", [1e-12, 1e-8, 3e-6, 1e-2])
def test_slider_moves_markers_onto_the_curves(explorer, reference_curves, h):
    hs, curves = reference_curves
    n_figs, n_axes = len(plt.get_fignums()), len(explorer.fig.axes)
    explorer.sliders["h"].value = h
    i = fd_error.nearest_step_index(hs, h)
    for method in ("forward", "central"):
        xd, yd = explorer.artists[f"marker_{method}"].get_data()
        assert np.allclose(xd, [hs[i]]) and np.allclose(yd, [curves[method][i]], rtol=1e-12, atol=0), (
            f"{method} marker at {xd}, {yd}; expected ({hs[i]:.3e}, {curves[method][i]:.3e})"
        )
    assert np.allclose(explorer.artists["h_line"].get_xdata(), hs[i])
    label = explorer.artists["label"].get_text()
    assert f"h = {hs[i]:.1e}" in label and f"centred error = {curves['central'][i]:.1e}" in label
    assert len(plt.get_fignums()) == n_figs and len(explorer.fig.axes) == n_axes, "no new figure or axes"


def test_curves_are_drawn_once_with_fitted_slopes(explorer, reference_curves):
    hs, curves = reference_curves
    line = explorer.artists["curve_central"]
    assert np.allclose(line.get_ydata(), curves["central"])
    assert "fitted slope 2.00" in line.get_label()
    assert "fitted slope 1.00" in explorer.artists["curve_forward"].get_label()
    explorer.sliders["h"].value = 1e-4
    assert np.allclose(line.get_ydata(), curves["central"]), "the curve itself never changes"


def test_figure_is_labelled_and_slider_described(explorer):
    ax = explorer.fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    s = explorer.sliders["h"]
    assert "h" in s.description and s.readout_format == ".1e"
    assert not explorer.errors.outputs


def test_error_budget_marks_measured_and_model_best(reference_curves):
    hs, curves = reference_curves
    fig, ax = fdw.new_figure()
    art = fdw.draw_error_budget(ax, hs, curves["central"], "central", f_scale=np.e, derivative_scale=np.e)
    h_best, e_best = fd_error.best_step(hs, curves["central"])
    assert np.allclose(art["best"].get_data(), ([h_best], [e_best]))
    assert np.allclose(art["theory"].get_xdata(), fd_error.optimal_step("central", f_scale=np.e, derivative_scale=np.e))
    plt.close(fig)


def test_check_bars_heights():
    rng = np.random.default_rng(0)
    p = networks.init_mlp(2, 3, 1, rng)
    rows = networks.gradient_check_table(p, rng.normal(size=(4, 2)), rng.normal(size=4))
    fig, ax = fdw.new_figure()
    bars = fdw.draw_check_bars(ax, {"backprop": rows})
    tops = [b.get_y() + b.get_height() for b in bars["backprop"]]
    assert np.allclose(tops, [max(r["relative_error"], 1e-16) + 1e-16 for r in rows], rtol=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W1", "b1", "W2", "b2"]
    plt.close(fig)


def test_unknown_method_is_reported():
    with pytest.raises(ValueError, match="method must be one of"):
        fdw.method_style("sideways")
