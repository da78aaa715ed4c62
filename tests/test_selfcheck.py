"""The notebooks' self-checks (nablakit.selfcheck): statuses, wording and every question's answer."""

import numpy as np
import pytest

from nablakit.selfcheck import QUESTIONS, check, compare, self_check


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


def test_counting_questions_have_no_very_close_band(capsys):
    check("07.evaluations", 50_001)  # off by one is wrong, not "rounded"
    assert capsys.readouterr().out.startswith("Not quite. Hint:")
    check("07.evaluations", 25_001)  # the forward-difference count
    assert "x - h e_i" in capsys.readouterr().out
    check("07.best-exponent", -5)  # the prompt's own style of answer
    assert capsys.readouterr().out.startswith("Correct!")
