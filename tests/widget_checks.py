"""Checks shared by the widget tests and the widget benchmark (imported, not collected)."""

import matplotlib.pyplot as plt
import numpy as np


def assert_no_callback_errors(app):
    """The live figure's callbacks raised nothing (their errors go to ``app.errors``)."""
    assert not app.errors.outputs, f"a callback failed: {app.errors.outputs}"


def assert_labelled(fig):
    """Every axes of ``fig`` (colour bars aside) has a title and both axis labels."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title(), "every axes needs a title"
        assert ax.get_xlabel() and ax.get_ylabel(), f"axes {ax.get_title()!r} needs both axis labels"


def counts(app):
    """(open figures, axes of the app's figure): a callback must change neither."""
    return len(plt.get_fignums()), len(app.fig.axes)


def count_redraws(app):
    """Count the app's redraw requests (blitted steps and full redraws); return the list it appends to.

    Every slider move must ask for a redraw. Steps are still drawn for real
    (a blit costs a few ms under Agg); only a full redraw is skipped, as it
    renders the whole figure.
    """
    calls = []
    app.fig.canvas.draw_idle = lambda *args, **kwargs: None
    if app.blitter is None:
        app.fig.canvas.draw_idle = lambda *args, **kwargs: calls.append(1)
        return calls
    refresh = app.blitter.refresh

    def counting(*args, **kwargs):
        calls.append(1)
        return refresh(*args, **kwargs)

    app.blitter.refresh = counting
    return calls


def move(app, name, values):
    """Set slider ``name`` to each value in turn, yielding after each move.

    The first move renders the figure for real (Agg); later moves only count
    the ``draw_idle`` requests. Afterwards no new figure or axes may exist.
    """
    before = counts(app)
    requests = []
    for i, value in enumerate(values):
        if i == 1:
            requests = count_redraws(app)
        app.sliders[name].value = value
        assert not app.errors.outputs, f"callback failed at {name}={value}: {app.errors.outputs}"
        yield value
    assert len(requests) >= len(values) - 2, "every slider move must ask for a redraw"
    assert counts(app) == before, "a callback created a new figure or axes"


# ------------------------------------------------------------------ every live figure of the course

def _chapter01_f(x, y):
    return x**2 * y + np.sin(y)


def _ch08_check():
    from nablakit.widgets.finite_diff import check_step_explorer

    def l1(x):
        return np.sum(np.abs(x))

    x_kink = np.array([1.0, -2.0, 3e-6])
    return check_step_explorer(l1, np.sign, x_kink, reference=abs(x_kink[2]),
                               reference_label="distance of $x_3$ to the kink")


def _build(module, factory, *args, **kwargs):
    def build():
        import importlib

        return getattr(importlib.import_module(f"nablakit.widgets.{module}"), factory)(*args, **kwargs)
    return build


#: (chapter, name, slider names, build): every live figure the chapters show, built as the chapter builds it.
LIVE_WIDGETS = [
    ("00", "tangent_teaser", ('x0',), _build("welcome", "tangent_teaser")),
    ("01", "slice_explorer", ('x0', 'y0'), _build("partials", "slice_explorer", _chapter01_f)),
    ("01", "secant_explorer", ('h',), _build("partials", "secant_explorer", _chapter01_f, x0=1.0, y0=1.0, axis="x")),
    ("02", "gradient_explorer[paraboloid]", ('x0', 'y0'), _build("gradient", "gradient_explorer", "paraboloid", x0=1.0, y0=0.5)),
    ("02", "gradient_explorer[saddle]", ('x0', 'y0'), _build("gradient", "gradient_explorer", "saddle", x0=1.0, y0=0.5)),
    ("03", "backprop_explorer", ('x',), _build("backprop", "backprop_explorer", x=1.0)),
    ("04", "direction_explorer", ('theta',), _build("directional", "direction_explorer", theta_deg=0.0)),
    ("05", "level_value_explorer", ('c',), _build("level_sets", "level_value_explorer", c=2.0)),
    ("05", "condition_number_explorer", ('kappa',), _build("level_sets", "condition_number_explorer", kappa=4.0)),
    ("06", "learning_rate_explorer", ('lr',), _build("ml", "learning_rate_explorer", lr=0.2)),
    ("06", "batch_size_explorer", ('batch_size',), _build("ml", "batch_size_explorer", batch_size=1)),
    ("07", "fd_error_explorer", ('h',), _build("finite_diff", "fd_error_explorer", np.exp, np.exp, 1.0, name="exp", h0=1e-3)),
    ("08", "check_step_explorer", ('h',), _ch08_check),
    ("09", "ravine_explorer", ('kappa', 'fraction', 'beta'), _build("landscapes", "ravine_explorer", kappa=10, fraction=0.9)),
    ("09", "optimizer_race[rosenbrock]", ('optimizer', 'lr', 'beta'), _build("landscapes", "optimizer_race", "rosenbrock",
                                                optimizer="gradient descent", lr=1e-3, steps=1500)),
    ("09", "optimizer_race[beale]", ('optimizer', 'lr', 'beta'), _build("landscapes", "optimizer_race", "beale", optimizer="momentum", lr=1e-3)),
    ("09", "depth_explorer", ('depth',), _build("landscapes", "depth_explorer", depth=20)),
    ("10", "clipping_explorer", ('c',), _build("training", "clipping_explorer", g=(4.0, 1.0), c=1.5)),
    ("10", "natural_gradient_paths", ('lr',), _build("training", "natural_gradient_paths",
                                            np.random.default_rng(0).normal(1.0, 0.5, size=200),
                                            theta0=(-1.0, 2.0), lr=0.1)),
]


def slider_sequence(s, n=4):
    """``n`` values spread over slider ``s``'s range, in a zig-zag order, none equal to its current value."""
    options = getattr(s, "options", None)
    if options:
        labels = [o[1] if isinstance(o, tuple) else o for o in options]
        picks = [labels[i] for i in np.linspace(0, len(labels) - 1, n + 1).round().astype(int)]
    else:
        lo, hi, step = s.min, s.max, s.step
        picks = [lo + round((hi - lo) * t / step) * step for t in np.linspace(0.0, 1.0, n + 1)]
        if hasattr(s, "base"):  # FloatLogSlider: min/max/step are exponents
            picks = [s.base**p for p in picks]
    unique = []
    for p in picks:  # a slider with few options repeats some
        if not any(p == q or (options is None and np.isclose(p, q)) for q in unique + [s.value]):
            unique.append(p)
    picks = unique[:n]
    return picks[::2] + picks[1::2][::-1]
