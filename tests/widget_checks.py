"""Checks shared by the widget tests of chapters 00-08 (imported, not collected)."""

import matplotlib.pyplot as plt


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
    """Replace the canvas' draw_idle by a counter; return the list it appends to.

    Keeps the tests fast under Agg, where draw_idle renders the whole figure,
    and lets them check that every slider move asks for a redraw.
    """
    calls = []
    app.fig.canvas.draw_idle = lambda *args, **kwargs: calls.append(1)
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
