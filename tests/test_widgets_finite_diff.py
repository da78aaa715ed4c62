"""Chapter 07-08 figures: the h slider moves markers along precomputed curves, in place."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit import fd_error, networks  # noqa: E402
from nablakit.widgets import finite_diff as fdw  # noqa: E402
from widget_checks import assert_labelled, counts  # noqa: E402


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
    before = counts(explorer)
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
    assert counts(explorer) == before, "no new figure or axes"


def test_curves_are_drawn_once_with_fitted_slopes(explorer, reference_curves):
    hs, curves = reference_curves
    line = explorer.artists["curve_central"]
    assert np.allclose(line.get_ydata(), curves["central"])
    assert "fitted slope 2.00" in line.get_label()
    assert "fitted slope 1.00" in explorer.artists["curve_forward"].get_label()
    explorer.sliders["h"].value = 1e-4
    assert np.allclose(line.get_ydata(), curves["central"]), "the curve itself never changes"


def test_figure_is_labelled_and_slider_described(explorer):
    assert_labelled(explorer.fig)
    ax = explorer.fig.axes[0]
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



def test_static_figures_of_chapter_06(reference_curves):
    hs, curves = reference_curves
    slopes = {m: fd_error.fit_loglog_slope(hs, curves[m], fd_error.TRUNCATION_RANGES[m]) for m in curves}
    n_figs = len(plt.get_fignums())
    fig = fdw.error_curves_figure(hs, curves, slopes)
    assert_labelled(fig)
    lines = {line.get_label().split(" ")[0]: line for line in fig.axes[0].lines}
    assert np.allclose(lines["centred"].get_ydata(), curves["central"])
    fig = fdw.error_budget_figure(hs, curves, f_scale=np.e, derivative_scale=np.e)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["Forward difference", "Centred difference"]
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()  # the shared y axis is labelled once
    rows = [{"n_params": 21, "fd_seconds": 2e-3, "backprop_seconds": 1e-4},
            {"n_params": 81, "fd_seconds": 8e-3, "backprop_seconds": 1.2e-4}]
    fig = fdw.gradient_cost_figure(rows)
    assert_labelled(fig)
    assert [line.get_ydata().tolist() for line in fig.axes[0].lines] == [[2e-3, 8e-3], [1e-4, 1.2e-4]]
    assert len(plt.get_fignums()) == n_figs + 3
    with pytest.raises(ValueError, match="no entry"):
        fdw.error_budget_figure(hs, {"forward": curves["forward"]})
    with pytest.raises(ValueError, match="rows"):
        fdw.gradient_cost_figure([])
    plt.close("all")


def test_check_bars_figure_of_chapter_07():
    rows_ok = [{"name": n, "relative_error": 1e-10} for n in ("W1", "b1", "W2", "b2")]
    rows_bug = [{"name": n, "relative_error": e} for n, e in zip(("W1", "b1", "W2", "b2"), (0.4, 0.3, 1e-11, 1e-11))]
    fig = fdw.check_bars_figure({"backprop": rows_ok, "draft": rows_bug})
    assert_labelled(fig)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["backprop", "draft"]
    plt.close(fig)


def l1(x):
    return float(np.sum(np.abs(x)))


def test_check_step_explorer_moves_along_precomputed_checks():
    from nablakit.gradcheck import relative_error

    x = np.array([1.0, -2.0, 3e-6])
    app = fdw.check_step_explorer(l1, np.sign, x, reference=3e-6, reference_label="distance to the kink")
    assert_labelled(app.fig)
    s = app.sliders["h"]
    assert "h" in s.description and s.readout_format == ".1e"
    before = counts(app)
    hs = fd_error.default_steps(-10, -2)
    for h, verdict in [(1e-7, "great"), (1e-5, "a bug"), (1e-3, "a bug")]:
        s.value = h
        i = fd_error.nearest_step_index(hs, h)
        numeric = np.array([(l1(x + hs[i] * e) - l1(x - hs[i] * e)) / (2 * hs[i]) for e in np.eye(3)])
        expected = relative_error(np.sign(x), numeric)
        xd, yd = app.artists["marker"].get_data()
        assert np.isclose(xd[0], hs[i]) and np.isclose(yd[0], max(expected, 1e-16), rtol=1e-6)
        assert verdict in app.artists["label"].get_text()
    assert np.isclose(app.artists["marker"].get_ydata()[0], 1 / (np.sqrt(3) + np.sqrt(2)), rtol=1e-2)
    assert counts(app) == before
    assert not app.errors.outputs
    with pytest.raises(ValueError, match="hs"):
        fdw.check_step_explorer(l1, np.sign, x, hs=[1e-3, -1.0])
    plt.close(app.fig)
