"""Friendly, ungraded self-checks for the "Try it" cells of the chapters.

A chapter asks a small question, the learner writes ``my_answer = None`` ->
``my_answer = 2.5`` and runs a check cell. The check prints one short line of
feedback and never raises, so a half-finished cell cannot break a notebook.
Graded work lives in the nbgrader exercises, not here.

:func:`compare` decides (pure, returns a status word); :func:`self_check`
prints the feedback; :func:`check` looks the expected value and the hint up
in :data:`QUESTIONS`, so the answer is not printed in the notebook itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Question", "QUESTIONS", "compare", "feedback", "self_check", "check"]

MESSAGES = {
    "missing": "Not answered yet: replace None with your answer, then run this cell again.",
    "unreadable": (
        "I could not read your answer as numbers. Use a number such as 2.5, "
        "or a list such as [1, -2] for a vector."
    ),
    "close": (
        "Very close, but not within the tolerance. Did you round? Keep full "
        "precision, e.g. write np.cos(1) rather than 0.54."
    ),
}


@dataclass(frozen=True)
class Question:
    """A self-check question: its expected value, a hint and a closing note.

    Attributes
    ----------
    expected : float or tuple of float
        The right answer (a tuple for a vector).
    hint : str
        Shown after a wrong answer; points at the method, not the number.
    note : str
        Shown after a right answer; a sentence that consolidates the idea.
    rtol, atol : float
        Relative and absolute tolerance of the comparison.
    close_rtol : float
        Relative tolerance of "very close" (a rounded answer); 0 for counts,
        where an answer off by one is simply wrong.
    """

    expected: object
    hint: str
    note: str = ""
    rtol: float = 1e-6
    atol: float = 1e-9
    close_rtol: float = 2e-2


def _has_none(answer):
    if answer is None:
        return True
    if isinstance(answer, (list, tuple)):
        return any(_has_none(a) for a in answer)
    return False


def compare(answer, expected, *, rtol=1e-6, atol=1e-9, close_rtol=2e-2):
    """Compare an answer with the expected value, tolerantly, without raising.

    Parameters
    ----------
    answer : object
        What the learner wrote: ``None`` (not answered yet), a number, a list
        or an array. Sympy numbers work too.
    expected : float or array_like
        The right answer.
    rtol, atol : float
        Tolerances of :func:`numpy.allclose` for "correct".
    close_rtol : float
        A wider relative tolerance for "close" (a rounded answer).

    Returns
    -------
    str
        One of ``"missing"``, ``"unreadable"``, ``"shape"``, ``"correct"``,
        ``"close"`` or ``"wrong"``.

    Notes
    -----
    Never raises: input that cannot be read as numbers gives ``"unreadable"``.

    Examples
    --------
    >>> compare(None, 2.0)
    'missing'
    >>> compare(2 + 1e-9, 2.0)
    'correct'
    >>> compare(1.54, 1.5403023)
    'close'
    >>> compare([1, 2], [1.0, 2.0, 3.0])
    'shape'
    >>> compare("two", 2.0)
    'unreadable'
    """
    if _has_none(answer):
        return "missing"
    if isinstance(answer, (str, bytes)):
        return "unreadable"
    try:
        got = np.asarray(answer, dtype=float)
        want = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return "unreadable"
    if got.shape != want.shape:
        if got.size == want.size and got.size > 0:
            got = got.reshape(want.shape)  # a column where a flat vector was expected is fine
        else:
            return "shape"
    if not np.all(np.isfinite(got)):
        return "wrong"
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return "correct"
    if np.allclose(got, want, rtol=close_rtol, atol=atol):
        return "close"
    return "wrong"


def feedback(status, *, hint="", note="", expected_shape=None, answer_shape=None):
    """Return the sentence shown to the learner for a :func:`compare` status.

    Examples
    --------
    >>> feedback("correct", note="Well spotted.")
    'Correct! Well spotted.'
    >>> feedback("wrong", hint="Hold y fixed.")
    'Not quite. Hint: Hold y fixed.'
    """
    if status == "correct":
        return ("Correct! " + note).strip()
    if status == "wrong":
        return ("Not quite. Hint: " + hint).strip() if hint else "Not quite - have another go."
    if status == "shape":
        want = "a single number" if expected_shape == () else f"{int(np.prod(expected_shape))} numbers"
        return f"Not quite: the answer should be {want}, but yours has shape {answer_shape}."
    return MESSAGES.get(status, "Have another go.")


def self_check(answer, expected, hint="", *, note="", rtol=1e-6, atol=1e-9, close_rtol=2e-2):
    """Print friendly feedback on ``answer``; never raises.

    Parameters
    ----------
    answer : object
        The learner's value (``None`` means "not answered yet").
    expected : float or array_like
        The right answer.
    hint : str, optional
        Printed after a wrong answer.
    note : str, optional
        Printed after a right answer.
    rtol, atol : float
        Tolerances for a right answer.
    close_rtol : float, default 2e-2
        Wider relative tolerance for "very close" (0 switches it off).

    Returns
    -------
    None
        The feedback is printed (a return value would echo in the notebook).

    Examples
    --------
    >>> self_check(None, 6.0)
    Not answered yet: replace None with your answer, then run this cell again.
    >>> self_check(6, 6.0, note="The slope of x**2 at 3 is 2*3.")
    Correct! The slope of x**2 at 3 is 2*3.
    >>> self_check(9, 6.0, hint="Differentiate first, then plug in x = 3.")
    Not quite. Hint: Differentiate first, then plug in x = 3.
    """
    try:
        status = compare(answer, expected, rtol=rtol, atol=atol, close_rtol=close_rtol)
        shapes = {}
        if status == "shape":
            shapes = {"expected_shape": np.shape(expected), "answer_shape": np.shape(answer)}
        print(feedback(status, hint=hint, note=note, **shapes))
    except Exception:  # a self-check must never break the learner's notebook
        print(MESSAGES["unreadable"])


_LOGITS = np.array([2.0, 1.0, -1.0])
_PROBS = np.exp(_LOGITS) / np.exp(_LOGITS).sum()

#: The chapters' self-check questions, by name ("NN.topic").
QUESTIONS = {
    "00.slope": Question(
        expected=6.0,
        hint="The slider shows the slope 2*x0 of the tangent to x**2; what is it at x0 = 3?",
        note="The derivative of x**2 is 2x, so the slope at 3 is 6.",
    ),
    "00.taylor": Question(
        expected=8.12,
        hint=("f(2) = 8 and f'(x) = 3x**2, so f'(2) = 12; add h * f'(2) with h = 0.01. To revise: the derivative "
              "as a slope and the linear (tangent-line) approximation."),
        note="8 + 0.01 * 12 = 8.12; the true value 8.120601 differs only at second order, by about 3 * 2 * 0.01**2.",
    ),
    "00.matvec": Question(
        expected=(-1.0, -1.0),
        hint=("Entry i of Ax is row i of A dotted with x: (1, 2) . (1, -1), then (3, 4) . (1, -1). To revise: "
              "the matrix-vector product."),
        note="Row by row: 1 - 2 = -1 and 3 - 4 = -1.",
    ),
    "00.transpose": Question(
        expected=(-2.0, -2.0),
        hint=("The rows of A^T are the columns of A: (1, 3) and (2, 4); dot each with x = (1, -1). To revise: "
              "the transpose, which swaps rows and columns."),
        note="Column by column of A: 1 - 3 = -2 and 2 - 4 = -2, not the same as Ax because A is not symmetric.",
    ),
    "01.partial-y": Question(
        expected=4.0 + float(np.cos(1.0)),
        hint="Treat x as the constant 2: differentiate 4*y + sin(y) with respect to y, then set y = 1.",
        note="At (2, 1) the slice in y is 4y + sin(y); its slope is 4 + cos(1), about 4.54.",
    ),
    "01.mixed": Question(
        expected=12.0,
        hint="First d/dx of x**3 * y**2 is 3x**2 y**2; now differentiate that in y and plug in (1, 2).",
        note="Both orders give 6x**2 y, as Clairaut's theorem promises for smooth functions.",
    ),
    "01.quotient": Question(
        expected=2.1,
        hint="Compute (f(1.1, 1) - f(1, 1)) / 0.1 with f(x, y) = x**2 y + sin(y); the sin(1) terms cancel.",
        note="The quotient is 2 + h for this slice, so it tends to the partial derivative 2 as h shrinks.",
    ),
    "02.saddle-gradient": Question(
        expected=(2.0, -4.0),
        hint="For f = x**2 - y**2 the partials are 2x and -2y; evaluate both at (1, 2).",
        note="The x-part pushes away from the origin and the y-part pulls towards it: a saddle.",
    ),
    "02.regression-gradient": Question(
        expected=(-4.0, 2.0),
        hint="First the residual r = theta . x - y; then the gradient of (1/2) r**2 is r * x.",
        note="The residual is -2, so the gradient is -2 * (2, -1) = (-4, 2): error times feature.",
    ),
    "02.steepest": Question(
        expected=(0.6, 0.8),
        hint="Divide the gradient (3, 4) by its length, which is 5.",
        note="Steepest ascent is the gradient scaled to length one: (3, 4) / 5.",
    ),
    "04.slope": Question(
        expected=1.4,
        hint="Dot the gradient (3, 4) with (-0.6, 0.8): multiply entry by entry and add.",
        note="3 * (-0.6) + 4 * 0.8 = 1.4: uphill, but far less steep than the maximum 5.",
    ),
    "04.true-slope": Question(
        expected=5.0 / float(np.sqrt(10.0)),
        hint="The colleague forgot to normalise: divide 5 by the length of (3, -1), which is sqrt(10).",
        note="5 / sqrt(10) is about 1.581: the direction climbs, but only gently.",
    ),
    "05.level-slope": Question(
        expected=-1.0 / 3.0,
        hint="The gradient at (1, 1) is (2, 6); solve (2, 6) . (1, m) = 0 for m.",
        note="2 + 6m = 0 gives m = -1/3, the implicit-differentiation formula -f_x / f_y.",
    ),
    "05.short-axis": Question(
        expected=24.0,
        hint="The short semi-axis is sqrt(c / lambda_max) with lambda_max = 6; solve sqrt(c / 6) = 2.",
        note="c = 24. Its long semi-axis is sqrt(24), about 4.9: the ratio sqrt(6) never changes.",
    ),
    "06.softmax-gradient": Question(
        expected=tuple(float(v) for v in _PROBS - np.array([0.0, 0.0, 1.0])),
        hint="The probabilities do not depend on the label; subtract the new one-hot vector from them.",
        note="(0.705, 0.259, -0.965): a confident wrong prediction gets a long gradient.",
        rtol=1e-3,
    ),
    "06.growth-factor": Question(
        expected=1.22371,
        hint="Plug eta = 0.5 and lam_max into |1 - eta * lambda_max|.",
        note="About 1.224: after 100 steps that is a factor of about 6e8 in the error.",
        rtol=1e-3,
    ),
    "06.flip-eps": Question(
        expected=1.84 / 4.4,
        hint="The step lowers the logit 1.84 by eps times the sum of |w_j|; solve for the eps that reaches 0.",
        note="1.84 / 4.4, about 0.418: a little less than the 0.5 used above.",
        rtol=1e-3,
    ),
    "07.centred-error": Question(
        expected=1e-4 / 6 * float(np.e),
        hint="All derivatives of exp at 1 equal e; put h = 0.01 into h**2 / 6 * e.",
        note="About 4.53e-5; the model h**2 * e / 6 matches the measured error to about four digits.",
        rtol=0.02,
    ),
    "07.best-exponent": Question(
        # The model's best centred step (3 eps)**(1/3) = 8.7e-6 for exp at 1, not one machine's measurement:
        # the measured bottom depends on rounding (3e-6 to 9e-6), and atol=0.6 accepts that whole range.
        expected=float(np.log10((3 * np.finfo(float).eps) ** (1 / 3))),
        hint="Move the slider left from 1e-3 until the blue dot stops falling.",
        note=("The bottom of the centred V is a little below 1e-5, close to eps**(1/3); exactly where depends "
              "on your machine's rounding."),
        rtol=0.0,
        atol=0.6,
    ),
    "07.evaluations": Question(
        expected=50_000.0,
        hint="Each parameter needs the loss at x + h e_i and at x - h e_i.",
        note="Two per parameter: 2n. Backprop needs one forward and one backward pass instead.",
        close_rtol=0.0,
    ),
    "08.relative-error": Question(
        expected=0.5,
        hint="Use |1 - c| / (1 + c) with c = 3.",
        note="|1 - 3| / (1 + 3) = 0.5, whatever the gradient is: the measure only sees the ratio.",
    ),
    "08.worst-index": Question(
        expected=2.0,
        hint="The error is 2 * lam * w: which entry of w is largest in size?",
        note="The error of a sign bug in the penalty is proportional to w, so the largest |w_i| stands out.",
        close_rtol=0.0,
    ),
    "09.hessian-eigenvalues": Question(
        expected=(-6.0, -2.0),
        hint="Differentiate twice: the Hessian of g is diag(6 * theta1, -2); put theta1 = -1 and sort the entries.",
        note="Both eigenvalues are negative, so (-1, 0) is now a local maximum (and (1, 0) has become the saddle).",
    ),
    "09.stable-lr": Question(
        expected=0.04,
        hint="The Hessian of w1**2 + 25 * w2**2 is diag(2, 50); the limit is 2 / lambda_max.",
        note="lambda_max = 50, so gradient descent needs eta < 2 / 50 = 0.04; at 0.04 exactly it oscillates forever.",
    ),
    "09.adam-first-step": Question(
        expected=(-1.9, 0.9),
        hint=("At t = 1 the bias corrections give m_hat = g and v_hat = g**2, so each coordinate moves by "
              "eta * g / |g| against the sign of its gradient."),
        note=("(-1.9, 0.9): both coordinates move by 0.1, although the gradient is five times larger in w2. "
              "Plain gradient descent would have moved w2 five times further than w1."),
    ),
    "09.recurrence-factor": Question(
        expected=1.1**30,
        hint=("For a scaled rotation each step back multiplies the gradient's size by exactly its spectral norm "
              "(here equal to the spectral radius); 30 steps multiply by it 30 times."),
        note=("1.1 ** 30 is about 17.4: a modest factor per step becomes a large one over many steps. For other "
              "matrices the norm only bounds the factor; the spectral radius sets the long-run rate."),
        rtol=1e-4,
    ),
    "10.value-clip-angle": Question(
        expected=float(np.degrees(np.arctan(0.5) - np.arctan(0.5 / 3.0))),
        hint="Clip each entry into [-1, 1] first; then compare the angles arctan(|g2| / g1) of the two vectors.",
        note="arctan(0.5) - arctan(0.5 / 3) is about 17.1 degrees: the small entry gained weight.",
        rtol=1e-3,
    ),
    "10.last-weight": Question(
        expected=0.1,
        hint="Write down the micro-batch sizes first (3, 3, 3, ...); the weight is the last size divided by m.",
        note="The last micro-batch holds 1 of the 10 examples, so it counts 1/10; equal weights would give it 1/4.",
    ),
    "10.loss-scale-exponent": Question(
        expected=15.0,
        hint="Solve 2**k >= 2**-14 / 2e-9 for k with np.log2, then round up to a whole number.",
        note="2**-14 / 2e-9 is about 30500, between 2**14 and 2**15, so k = 15.",
        close_rtol=0.0,
    ),
    "03.outer-inner": Question(
        expected=24.0,
        hint="Outer derivative 3u**2 at the inner value u = x**2 + 1 = 2, times the inner derivative 2x at x = 1.",
        note="3 * 2**2 * 2 = 24: the outer derivative is taken at the inner value, then times the inner one.",
    ),
    "03.graph-gradient": Question(
        expected=(0.5, 0.5, -3.0),
        hint="Forward: q = x + y. Backward: df/dz = q, df/dq = z, and the + node passes df/dq on to x and y.",
        note="q = -3, so df/dz = -3, and z = 0.5 flows unchanged through the + node to both x and y.",
    ),
    "03.shared-weight": Question(
        expected=7.0,
        hint="The first use contributes x1; the second contributes 2 (w x2) x2. Add them at w = 2.",
        note="3 + 2 * 2 * 1 = 7: one contribution per use, summed, as every _backward does with +=.",
    ),
    "03.widget-slope": Question(
        expected=1.8,
        hint="At x = 0, tanh'(0) = 1; one edge into x carries w times that, the other carries 1 times that.",
        note="0.8 + 1 = 1.8 = w + 1: the two edges into x add up, and tanh is steepest at 0.",
    ),
}


def check(question, answer):
    """Check ``answer`` against the course question named ``question``.

    Parameters
    ----------
    question : str
        A key of :data:`QUESTIONS`, such as ``"01.mixed"``.
    answer : object
        The learner's value (``None`` means "not answered yet").

    Returns
    -------
    None
        Prints one line of feedback and never raises.

    Examples
    --------
    >>> check("01.mixed", None)
    Not answered yet: replace None with your answer, then run this cell again.
    >>> check("02.steepest", [0.6, 0.8])
    Correct! Steepest ascent is the gradient scaled to length one: (3, 4) / 5.
    >>> check("no.such.question", 1)
    There is no self-check called 'no.such.question'; check the spelling.
    """
    q = QUESTIONS.get(question) if isinstance(question, str) else None
    if q is None:
        print(f"There is no self-check called {question!r}; check the spelling.")
        return
    self_check(answer, q.expected, q.hint, note=q.note, rtol=q.rtol, atol=q.atol, close_rtol=q.close_rtol)
