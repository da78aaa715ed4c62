"""Widgets of chapters 00-02: sliders move the right artists to the right data, in place.

Each factory is built under Agg; a slider is moved to a few values and the
artists' data is compared with values computed here, independently of the
widget code. No callback may create a figure or an axes.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nablakit.selfcheck import QUESTIONS, check, compare, self_check  # noqa: E402
from nablakit.widgets import welcome  # noqa: E402


def counts(app):
    return len(plt.get_fignums()), len(app.fig.axes)


def assert_no_callback_errors(app):
    assert not app.errors.outputs, f"a callback failed: {app.errors.outputs}"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- chapter 00

def test_tangent_teaser_moves_point_and_tangent_in_place():
    app = welcome.tangent_teaser()
    before = counts(app)
    xs = app.artists["tangent"].get_xdata()
    for x0 in (-2.0, -0.5, 0.0, 1.3, 2.0):
        app.sliders["x0"].value = x0
        px, py = app.artists["point"].get_data()
        assert np.allclose([px[0], py[0]], [x0, x0**2])
        assert np.allclose(app.artists["tangent"].get_ydata(), x0**2 + 2 * x0 * (xs - x0))
        assert f"{2 * x0:.1f}" in app.artists["label"].get_text()
    assert counts(app) == before
    assert_no_callback_errors(app)


def test_tangent_teaser_has_labels_and_rejects_bad_start():
    app = welcome.tangent_teaser()
    ax = app.fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert app.sliders["x0"].description
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


# ------------------------------------------------------------- self-checks

@pytest.mark.parametrize(
    "answer, expected, status",
    [
        (None, 1.0, "missing"),
        ([1.0, None], [1.0, 2.0], "missing"),
        (1.0, 1.0, "correct"),
        (np.array([[3.0], [4.0]]), [3.0, 4.0], "correct"),
        (1.004, 1.0, "close"),
        (-1.0, 1.0, "wrong"),
        (float("nan"), 1.0, "wrong"),
        ([1, 2, 3], [1, 2], "shape"),
        ("one", 1.0, "unreadable"),
        ({"a": 1}, 1.0, "unreadable"),
        (object(), 1.0, "unreadable"),
    ],
)
def test_compare_statuses(answer, expected, status):
    assert compare(answer, expected) == status


def test_self_check_never_raises_and_avoids_alarming_words(capsys):
    for answer in (None, "x", object(), [None], np.inf, [1, 2, 3], 2.0, -2.0):
        self_check(answer, 2.0, hint="look again")
    out = capsys.readouterr().out
    assert "Correct!" in out and "Not answered yet" in out and "Hint: look again" in out
    assert "Error" not in out and "Warning" not in out


def test_check_every_question_accepts_its_answer_and_rejects_others(capsys):
    for name, question in QUESTIONS.items():
        check(name, question.expected)
        assert capsys.readouterr().out.startswith("Correct!"), name
        check(name, np.asarray(question.expected, dtype=float) + 1.0)
        assert capsys.readouterr().out.startswith("Not quite. Hint:"), name
        check(name, None)
        assert capsys.readouterr().out.startswith("Not answered yet"), name
    check("00.nope", 1.0)
    assert "no self-check" in capsys.readouterr().out
