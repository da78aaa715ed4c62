"""Check code shared by the graded exercises.

Every check raises :class:`AssertionError` with a message written for a
learner: what was expected *of* the object (its shape, a property, agreement
with a reference), never the expected value or formula itself; what was
received (shape and a short value summary); and, when the received value
matches a registered wrong variant, the name of that misconception.

The reference derivatives here are computed by this module's own centred
differences, so a submission that replaces :mod:`nablakit.numdiff` cannot
change what it is compared with.

How an exercise notebook uses it:

- the locked imports cell runs ``from nablakit import checks`` and
  ``checks.short_tracebacks()``, so that a failing visible check never
  prints the neighbouring (hidden) lines of its cell;
- visible checks compare with references that reveal no formula
  (:func:`reference_gradient`, :func:`reference_hessian`,
  :func:`reference_directional`, :func:`scaled_variants` of them) and pass
  known wrong variants as ``misconceptions``;
- hidden checks sit inside ``### BEGIN HIDDEN TESTS`` and
  ``with checks.hidden_tests():``, draw fresh points from a seeded
  ``np.random.default_rng``, and report failures without their code;
- parts whose answer nablakit itself contains call
  :func:`reject_package_answer` first.

Long on purpose: this is the exercises' whole checking vocabulary, one
namespace (``checks.expect_close``, ``checks.hidden_tests``, ...) that every
released notebook imports; about half of it is docstrings and examples.

Examples
--------
>>> import numpy as np
>>> grad = expect_close([2.0, -1.0], np.array([2.0, -1.0]), what="grad_f(p)")
>>> grad
array([ 2., -1.])
>>> expect_close([-2.0, 1.0], np.array([2.0, -1.0]), what="grad_f(p)",
...              misconceptions={"sign flipped": np.array([-2.0, 1.0])})
Traceback (most recent call last):
...
AssertionError: grad_f(p) does not match the reference ... Recognised mistake: sign flipped.
"""

from __future__ import annotations

import contextlib
import numbers
import sys
import types
import warnings

import numpy as np

__all__ = [
    "as_array",
    "summarize",
    "expect",
    "expect_shape",
    "expect_finite",
    "expect_close",
    "expect_unit",
    "expect_same_points",
    "expect_raises",
    "expect_unmodified",
    "expect_quiet",
    "scaled_variants",
    "reference_gradient",
    "reference_jacobian",
    "reference_hessian",
    "reference_directional",
    "hidden_tests",
    "HiddenTestFailure",
    "substituted",
    "short_tracebacks",
    "code_names",
    "expect_no_call",
    "reject_package_answer",
]

_NOT_DONE = (NotImplemented, Ellipsis, None)


def summarize(value, max_items=6):
    """Describe a received value briefly: type, shape and the first few numbers.

    Parameters
    ----------
    value : object
        Anything a learner might return.
    max_items : int, default 6
        How many numbers of an array to show.

    Returns
    -------
    str

    Examples
    --------
    >>> summarize([1, 2, 3])
    'list of shape (3,): [1, 2, 3]'
    >>> summarize(2.5)
    'float 2.5'
    >>> summarize(None)
    'None'
    """
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return f"bool {bool(value)}"
    if isinstance(value, numbers.Number):
        return f"{type(value).__name__} {value:.6g}" if isinstance(value, numbers.Real) else repr(value)
    if isinstance(value, str):
        return f"str {value[:60]!r}"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        text = repr(value)
        return f"{type(value).__name__} {text[:80]}"
    flat = arr.ravel()
    shown = ", ".join(f"{v:.6g}" for v in flat[:max_items])
    more = ", ..." if flat.size > max_items else ""
    return f"{type(value).__name__} of shape {arr.shape}: [{shown}{more}]"


def expect(condition, message):
    """Raise ``AssertionError(message)`` unless ``condition`` is true.

    Examples
    --------
    >>> expect(1 + 1 == 2, "arithmetic works")
    >>> expect(False, "u must have norm 1")
    Traceback (most recent call last):
    ...
    AssertionError: u must have norm 1
    """
    if not condition:
        raise AssertionError(message)


def as_array(value, what):
    """Convert an answer (list, tuple, number or array) to a float ndarray.

    Parameters
    ----------
    value : array_like
        The learner's answer.
    what : str
        How the answer is called in messages, e.g. ``"grad_f(p)"``.

    Returns
    -------
    ndarray of float

    Raises
    ------
    AssertionError
        If the answer is missing (``None``, ``...``) or not numeric.

    Examples
    --------
    >>> as_array((3, 4, -1), "grad_f_at_110")
    array([ 3.,  4., -1.])
    >>> as_array(None, "grad_f_at_110")
    Traceback (most recent call last):
    ...
    AssertionError: grad_f_at_110 is missing: received None. Did the cell that defines it run, and does it return a value?
    """
    if any(value is v for v in _NOT_DONE):
        raise AssertionError(
            f"{what} is missing: received {summarize(value)}. "
            "Did the cell that defines it run, and does it return a value?"
        )
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        raise AssertionError(f"{what} should be numbers (an array, list or tuple); received {summarize(value)}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"{what} should be numbers (an array, list or tuple); received {summarize(value)} "
            f"which cannot be read as a float array ({exc})"
        ) from None


def expect_shape(received, shape, what):
    """Convert ``received`` and check its shape; ``None`` in ``shape`` matches any length.

    Examples
    --------
    >>> expect_shape([[0, 1], [1, 0], [2, 2]], (None, 2), "level_curve(1, 3)").shape
    (3, 2)
    >>> expect_shape([1, 2, 3], (2,), "grad_f(p)")
    Traceback (most recent call last):
    ...
    AssertionError: grad_f(p) should have shape (2,); received list of shape (3,): [1, 2, 3]
    """
    arr = as_array(received, what)
    shape = tuple(shape)
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise AssertionError(f"{what} should have shape {want}; received {summarize(received)}")
    return arr


def expect_finite(received, what):
    """Convert ``received`` and check that every entry is finite (no NaN or inf).

    Examples
    --------
    >>> expect_finite([1.0, float("inf")], "losses")
    Traceback (most recent call last):
    ...
    AssertionError: losses should contain only finite numbers; received list of shape (2,): [1, inf]
    """
    arr = as_array(received, what)
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{what} should contain only finite numbers; received {summarize(received)}")
    return arr


def _matches(arr, candidate, rtol, atol):
    try:
        cand = np.asarray(candidate, dtype=float)
    except (TypeError, ValueError):
        return False
    return cand.shape == arr.shape and bool(np.all(np.isfinite(cand))) and np.allclose(arr, cand, rtol=rtol, atol=atol)


def _recognise(arr, misconceptions, rtol, atol):
    for name, wrong in (misconceptions or {}).items():
        if isinstance(wrong, (bool, np.bool_)):
            if wrong:
                return name
        elif wrong is not None and _matches(arr, wrong, rtol, atol):
            return name
    return None


def expect_close(received, expected, what, *, misconceptions=None, rtol=1e-6, atol=1e-8, expectation=None):
    """Check that an answer is close to a reference value, naming known mistakes.

    Parameters
    ----------
    received : array_like
        The learner's answer (lists and tuples are accepted).
    expected : array_like
        The reference value. It is never printed.
    what : str
        The object checked, e.g. ``"grad_f(p) at p = (0.3, -1.2)"``.
    misconceptions : dict of str to array_like or bool, optional
        Known wrong variants of ``expected`` by the name of the mistake that
        produces them. If ``received`` matches one, the message names it. A
        bool value is a recognition the caller made itself (``True`` names
        the mistake), for mistakes that are properties rather than values.
    rtol, atol : float
        Tolerances as in :func:`numpy.allclose`.
    expectation : str, optional
        What was expected of the object, in words (default: agreement with the
        reference value within the tolerances).

    Returns
    -------
    ndarray of float
        ``received`` as an array.

    Raises
    ------
    AssertionError
        If the shape differs, a value is not finite, or the values differ.

    Examples
    --------
    >>> expect_close(0.5, 0.5, what="D_max")
    array(0.5)
    >>> expect_close([3.0, 4.0], [0.6, 0.8], what="u_max",
    ...              misconceptions={"not normalised (divide by the norm)": [3.0, 4.0]})
    Traceback (most recent call last):
    ...
    AssertionError: u_max does not match the reference ... Recognised mistake: not normalised (divide by the norm).
    """
    ref = np.asarray(expected, dtype=float)
    arr = as_array(received, what)
    tol = {"rtol": max(rtol, 1e-6), "atol": max(atol, 1e-8)}
    if arr.shape != ref.shape:
        try:
            expect_shape(arr, ref.shape, what)
        except AssertionError as exc:
            message = str(exc).replace(summarize(arr), summarize(received))
            name = _recognise(arr, misconceptions, **tol)
            if name is not None:
                message += f". Recognised mistake: {name}."
            raise AssertionError(message) from None
    arr = expect_finite(arr, what)
    if np.allclose(arr, ref, rtol=rtol, atol=atol):
        return arr
    wanted = expectation or f"the reference value within rtol={rtol:g}, atol={atol:g}"
    message = f"{what} does not match {wanted}; received {summarize(received)}."
    name = _recognise(arr, misconceptions, **tol)
    if name is not None:
        message += f" Recognised mistake: {name}."
    raise AssertionError(message)


def expect_unit(received, what, *, atol=1e-6, shape=None):
    """Check that an answer is a vector of Euclidean norm 1.

    Examples
    --------
    >>> expect_unit((0.6, -0.8), "u_min")
    array([ 0.6, -0.8])
    >>> expect_unit([3, 4], "u_min")
    Traceback (most recent call last):
    ...
    AssertionError: u_min should be a unit vector (norm 1); received norm 5 for list of shape (2,): [3, 4]
    """
    arr = expect_shape(received, shape, what) if shape is not None else as_array(received, what)
    arr = expect_finite(arr, what)
    expect(arr.ndim == 1, f"{what} should be a 1-D vector; received {summarize(received)}")
    norm = float(np.linalg.norm(arr))
    expect(
        abs(norm - 1.0) <= atol,
        f"{what} should be a unit vector (norm 1); received norm {norm:.6g} for {summarize(received)}",
    )
    return arr


def expect_same_points(received, expected, what, *, misconceptions=None, atol=1e-6, noun="points"):
    """Check that a collection of points equals a reference set, in any order.

    Parameters
    ----------
    received : array_like of shape (k, n)
        The learner's points (a list of tuples is fine).
    expected : array_like of shape (k, n)
        The reference points; never printed.
    what : str
        Name used in messages.
    misconceptions : dict of str to array_like, optional
        Wrong point sets (any order) by mistake name.
    atol : float
        Tolerance per coordinate.
    noun : str, default "points"
        What the items are called in messages (e.g. "learning rates").

    Returns
    -------
    ndarray of shape (k, n)

    Examples
    --------
    >>> expect_same_points([(1, 0), (0, 1)], [[0, 1], [1, 0]], "zero_directions").shape
    (2, 2)
    >>> expect_same_points([(1, 0)], [[0, 1], [1, 0]], "zero_directions")
    Traceback (most recent call last):
    ...
    AssertionError: zero_directions should contain 2 points; received 1: list of shape (1, 2): [1, 0]
    """
    ref = np.asarray(expected, dtype=float)
    arr = as_array(received, what)
    if arr.ndim == 1 and ref.ndim == 2 and arr.size == ref.shape[1]:
        arr = arr[None, :]
    expect(
        arr.ndim == 2 and arr.shape[1] == ref.shape[1],
        f"{what} should be a collection of {noun} with {ref.shape[1]} coordinate(s) each; received {summarize(received)}",
    )
    arr = expect_finite(arr, what)

    def same_set(a, b):
        if a.shape != b.shape:
            return False
        unused = list(range(len(b)))
        for point in a:
            hit = next((j for j in unused if np.allclose(point, b[j], rtol=0, atol=atol)), None)
            if hit is None:
                return False
            unused.remove(hit)
        return True

    if same_set(arr, ref):
        return arr
    name = None
    for label, wrong in (misconceptions or {}).items():
        if wrong is not None and same_set(arr, np.asarray(wrong, dtype=float).reshape(-1, ref.shape[1])):
            name = label
            break
    if arr.shape[0] != ref.shape[0]:
        message = f"{what} should contain {ref.shape[0]} {noun}; received {arr.shape[0]}: {summarize(received)}"
    else:
        message = f"{what} does not contain the right {noun} (any order is fine); received {summarize(received)}"
    if name is not None:
        message += f". Recognised mistake: {name}."
    raise AssertionError(message)


def expect_raises(exception, func, *args, what, mistake=None, **kwargs):
    """Check that ``func(*args, **kwargs)`` raises ``exception``; return its message.

    ``mistake`` names the misconception behind returning normally instead.

    Examples
    --------
    >>> expect_raises(ValueError, int, "x", what="int('x')")
    "invalid literal for int() with base 10: 'x'"
    >>> expect_raises(ValueError, int, "3", what="int('3')")
    Traceback (most recent call last):
    ...
    AssertionError: int('3') should raise ValueError; it returned int 3
    """
    try:
        result = func(*args, **kwargs)
    except exception as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the learner
        raise AssertionError(f"{what} should raise {exception.__name__}; it raised {type(exc).__name__}: {exc}") from None
    message = f"{what} should raise {exception.__name__}; it returned {summarize(result)}"
    if mistake:
        message += f". Recognised mistake: {mistake}."
    raise AssertionError(message)


def expect_unmodified(func, *args, what, **kwargs):
    """Call ``func`` and check that it did not change its array arguments in place.

    Returns
    -------
    object
        Whatever ``func`` returned.

    Examples
    --------
    >>> import numpy as np
    >>> def bump(x):
    ...     x += 1
    ...     return x
    >>> expect_unmodified(bump, np.zeros(2), what="bump(x)")
    Traceback (most recent call last):
    ...
    AssertionError: bump(x) changed its argument 1 in place; it must leave its inputs unchanged (work on a copy)
    """
    before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in args]
    result = func(*args, **kwargs)
    for i, (arg, copy) in enumerate(zip(args, before), start=1):
        if copy is not None and not np.array_equal(arg, copy, equal_nan=True):
            raise AssertionError(
                f"{what} changed its argument {i} in place; it must leave its inputs unchanged (work on a copy)"
            )
    return result


def scaled_variants(reference, factors):
    """Wrong variants that differ from ``reference`` by a constant factor.

    Useful when a visible test must name a mistake without writing the
    correct formula: a flipped sign is factor -1, a missing 1/m is factor m.

    Examples
    --------
    >>> scaled_variants([1.0, 2.0], {"sign flipped": -1})
    {'sign flipped': array([-1., -2.])}
    """
    ref = np.asarray(reference, dtype=float)
    return {name: factor * ref for name, factor in factors.items()}


def reference_gradient(f, x, h=1e-6):
    """Centred finite-difference gradient of a scalar function, for checking.

    Independent of :mod:`nablakit.numdiff` on purpose.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    x : array_like
        Point; any shape. Not modified.
    h : float, default 1e-6
        Step, scaled by ``max(1, |x_i|)`` for each coordinate.

    Returns
    -------
    ndarray of the shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> g = reference_gradient(lambda v: v[0] ** 2 * v[1], [1.0, 3.0])
    >>> np.allclose(g, [6.0, 1.0])
    True
    """
    x0 = np.array(x, dtype=float)
    grad = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        # The step grows with |x| so that x + h still differs from x for huge x.
        step = h * max(1.0, abs(x0[idx]))
        xp = x0.copy()
        xm = x0.copy()
        xp[idx] += step
        xm[idx] -= step
        grad[idx] = (float(f(xp)) - float(f(xm))) / (2 * step)
    return grad


def reference_jacobian(f, x, h=1e-6):
    """Centred finite-difference Jacobian of ``f: R^n -> R^m`` at a 1-D ``x``.

    Returns
    -------
    ndarray of shape (m, n)

    Examples
    --------
    >>> import numpy as np
    >>> J = reference_jacobian(lambda v: np.array([v[0] * v[1], v[1]]), [2.0, 3.0])
    >>> np.allclose(J, [[3.0, 2.0], [0.0, 1.0]])
    True
    """
    x0 = np.array(x, dtype=float).ravel()
    cols = []
    for j in range(x0.size):
        xp = x0.copy()
        xm = x0.copy()
        xp[j] += h
        xm[j] -= h
        cols.append((np.asarray(f(xp), dtype=float).ravel() - np.asarray(f(xm), dtype=float).ravel()) / (2 * h))
    return np.stack(cols, axis=1)


def _nablakit_objects():
    for modname, module in list(sys.modules.items()):
        if (modname == "nablakit" or modname.startswith("nablakit.")) and module is not None:
            yield from vars(module).values()


def _proxy_facts(obj):
    """What the grader knows of a student function that runs in another process, or None.

    When the checks run outside the student's kernel (``nablakit-grade``'s
    default), a student's function reaches them as a
    ``nablakit.grading.proxy.StudentFunction``: its code is not here, so
    the code checks read the facts its kernel sent instead.
    """
    proxy = sys.modules.get("nablakit.grading.proxy")
    if proxy is not None and type(obj) is proxy.StudentFunction:
        return obj.facts
    return None


def _is_package_function(obj):
    facts = _proxy_facts(obj)
    if facts is not None:
        return facts["package"]
    if not callable(obj) and not isinstance(obj, types.ModuleType):
        return False
    if isinstance(obj, types.ModuleType):
        return obj.__name__ == "nablakit" or obj.__name__.startswith("nablakit.")
    module = getattr(obj, "__module__", None) or ""
    if module == "nablakit" or module.startswith("nablakit."):
        return True
    return any(obj is other for other in _nablakit_objects())


def _referenced_package_names(func):
    """``(name, object name, is a module, module name)`` of the names ``func``'s code looks up globally
    that are bound to nablakit objects."""
    facts = _proxy_facts(func)
    if facts is not None:
        return list(facts["refs"])
    code = getattr(func, "__code__", None)
    glob = getattr(func, "__globals__", {})
    found = []
    stack = [code] if code is not None else []
    while stack:
        co = stack.pop()
        for name in co.co_names:
            obj = glob.get(name)
            if obj is not None and _is_package_function(obj):
                found.append((name, getattr(obj, "__name__", name), isinstance(obj, types.ModuleType),
                              getattr(obj, "__module__", "")))
        stack.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
    return found


def reject_package_answer(func, name, *, also=()):
    """Fail when an answer function is nablakit's own rather than the learner's.

    The course package contains reference versions of several exercise
    answers. Importing one (``from nablakit.calculus import
    directional_derivative``) or wrapping it in a one-line function earns no
    credit for the part.

    Parameters
    ----------
    func : callable
        The learner's function.
    name : str
        The name the exercise asks for (used in the message and as the
        package function name to look for inside a wrapper).
    also : iterable of str, optional
        Further package function names that must not be called from inside
        ``func`` (e.g. ``("mse_grad",)`` for an MSE gradient).

    Raises
    ------
    AssertionError
        If ``func`` is missing, not callable, comes from nablakit, or calls a
        nablakit function of one of the forbidden names.

    Examples
    --------
    >>> import numpy as np
    >>> reject_package_answer(np.linalg.norm, "norm")  # not from nablakit: accepted
    >>> from nablakit.checks import summarize
    >>> reject_package_answer(summarize, "summarize")
    Traceback (most recent call last):
    ...
    AssertionError: summarize comes from the nablakit package (nablakit.checks) ...
    """
    expect(func is not None and func is not NotImplemented, f"{name} is missing: define the function {name}")
    expect(callable(func), f"{name} should be a function; received {summarize(func)}")
    target = getattr(func, "func", func)  # functools.partial
    if _is_package_function(target):
        module = getattr(target, "__module__", "nablakit")
        raise AssertionError(
            f"{name} comes from the nablakit package ({module}) instead of being written in this notebook; "
            "this part asks you to implement it yourself, so it earns no credit"
        )
    forbidden = {name, getattr(target, "__name__", name), *also}
    for _ref_name, obj_name, is_module, _module in _referenced_package_names(target):
        if is_module or obj_name in forbidden:
            if is_module:
                used = [n for n in forbidden if n in _attribute_names(target)]
                if not used:
                    continue
                obj_name = f"{obj_name}.{used[0]}"
            raise AssertionError(
                f"{name} calls the nablakit package's {obj_name} instead of computing the result itself; "
                "this part asks you to implement it yourself, so it earns no credit"
            )


def code_names(func):
    """Global and attribute names a function's code (and nested code) refers to.

    Examples
    --------
    >>> import numpy as np
    >>> def solve(A, b):
    ...     return np.linalg.inv(A) @ b
    >>> sorted(code_names(solve))
    ['inv', 'linalg', 'np']
    """
    return _attribute_names(func)


def expect_no_call(func, names, what, *, mistake):
    """Fail when ``func``'s code refers to one of ``names`` (e.g. ``inv`` for a matrix inverse).

    Examples
    --------
    >>> import numpy as np
    >>> def solve(A, b):
    ...     return np.linalg.inv(A) @ b
    >>> expect_no_call(solve, ("inv", "pinv"), "solve", mistake="explicit matrix inverse")
    Traceback (most recent call last):
    ...
    AssertionError: solve uses inv; this part asks you not to. Recognised mistake: explicit matrix inverse.
    """
    expect(callable(func), f"{what} should be a function; received {summarize(func)}")
    used = sorted(set(names) & code_names(getattr(func, "func", func)))
    if used:
        raise AssertionError(f"{what} uses {', '.join(used)}; this part asks you not to. Recognised mistake: {mistake}.")


@contextlib.contextmanager
def substituted(namespace, **replacements):
    """Temporarily bind names in ``namespace`` (e.g. ``globals()``) to other objects.

    A check of one part can swap a reference in for the learner's answer to
    another part (say, a finite-difference gradient for their ``mse_grad``)
    so that each part earns credit on its own. Names are restored (or
    removed again) afterwards, also when the block fails.

    Examples
    --------
    >>> ns = {"g": abs}
    >>> with substituted(ns, g=len, h=max):
    ...     ns["g"]("abc"), ns["h"](1, 2)
    (3, 2)
    >>> ns
    {'g': <built-in function abs>}
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    # Graded with the checks outside the student's kernel: the student's functions look names up
    # there, so the kernel binds them too (to handles of these objects).
    student = namespace.get("__nablakit_student__") if isinstance(namespace, dict) else None
    remote = student.substituted(replacements) if student is not None else contextlib.nullcontext()
    namespace.update(replacements)
    try:
        with remote:
            yield namespace
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _attribute_names(func):
    facts = _proxy_facts(func)
    if facts is not None:
        return set(facts["names"])
    names = set()
    stack = [func.__code__] if hasattr(func, "__code__") else []
    while stack:
        co = stack.pop()
        names.update(co.co_names)
        stack.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
    return names


def reference_hessian(f, x, h=1e-4):
    """Centred finite-difference Hessian of a scalar function at a 1-D ``x``.

    Uses the four-point formula for every pair of coordinates, so mixed
    partial derivatives are computed directly (accurate to about 1e-7).

    Examples
    --------
    >>> import numpy as np
    >>> H = reference_hessian(lambda v: v[0] ** 2 * v[1] + v[1] ** 3, [1.0, 2.0])
    >>> np.allclose(H, [[4.0, 2.0], [2.0, 12.0]], atol=1e-5)
    True
    """
    x0 = np.array(x, dtype=float).ravel()
    n = x0.size
    eye = np.eye(n) * h
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            value = (
                float(f(x0 + eye[i] + eye[j]))
                - float(f(x0 + eye[i] - eye[j]))
                - float(f(x0 - eye[i] + eye[j]))
                + float(f(x0 - eye[i] - eye[j]))
            ) / (4 * h * h)
            H[i, j] = H[j, i] = value
    return H


def reference_directional(f, x, u, h=1e-6):
    """Centred difference of ``f`` along the direction ``u`` at ``x``: (f(x+hu) - f(x-hu)) / 2h.

    Examples
    --------
    >>> import numpy as np
    >>> d = reference_directional(lambda v: v[0] * v[1], [1.0, 2.0], [0.6, 0.8])
    >>> bool(np.isclose(d, 2.0 * 0.6 + 1.0 * 0.8))
    True
    """
    x0 = np.asarray(x, dtype=float)
    step = h * np.asarray(u, dtype=float)
    return (float(f(x0 + step)) - float(f(x0 - step))) / (2 * h)


class HiddenTestFailure(AssertionError):
    """A failed hidden check: its traceback shows only the message, never the test code."""

    def _render_traceback_(self):  # IPython calls this instead of formatting the frames
        return [f"{type(self).__name__}: {self}"]


@contextlib.contextmanager
def hidden_tests():
    """Run hidden checks so that a failure reports its message but none of the hidden code.

    IPython normally prints the failing cell's source lines around the error;
    inside this block any exception becomes a :class:`HiddenTestFailure`
    (an ``AssertionError``) whose traceback is the message alone, so the
    feedback a student receives never shows hidden test code.

    Examples
    --------
    >>> with hidden_tests():
    ...     expect(1 > 2, "a hidden property failed")
    Traceback (most recent call last):
    ...
    nablakit.checks.HiddenTestFailure: a hidden property failed (hidden check)
    """
    try:
        yield
    except AssertionError as exc:
        raise HiddenTestFailure(f"{exc} (hidden check)") from None
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise HiddenTestFailure(f"{type(exc).__name__} raised during a hidden check: {exc}") from None


def expect_quiet(func, *args, what, mistake=None, **kwargs):
    """Call ``func`` and check that it emits no warning (overflow, division by zero, ...).

    Parameters
    ----------
    func : callable
        The learner's function.
    *args, **kwargs
        Passed to ``func``.
    what : str
        How the call is named in messages, e.g. ``"softmax([1000, 1001])"``.
    mistake : str, optional
        The misconception that usually causes a warning here; named in the message.

    Returns
    -------
    object
        Whatever ``func`` returned.

    Raises
    ------
    AssertionError
        If a warning was emitted (NumPy floating-point warnings included).

    Examples
    --------
    >>> import numpy as np
    >>> float(expect_quiet(np.exp, 1.0, what="exp(1)")) > 2.7
    True
    >>> expect_quiet(np.exp, 1000.0, what="exp(1000)", mistake="exponential of a large number")
    Traceback (most recent call last):
    ...
    AssertionError: exp(1000) emitted a warning (RuntimeWarning: overflow encountered in exp); ... Recognised mistake: exponential of a large number.
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    if caught:
        first = caught[0]
        message = (
            f"{what} emitted a warning ({first.category.__name__}: {first.message}); "
            "it should compute the result without overflow, division by zero or invalid values"
        )
        if mistake:
            message += f". Recognised mistake: {mistake}."
        raise AssertionError(message)
    return result


def short_tracebacks():
    """Make IPython show only the failing line of each frame in a traceback.

    By default IPython prints several source lines around the line that
    failed. In an exercise's check cell those neighbours can be the first
    lines of the hidden tests, so the exercises call this once, in their
    imports cell, and every traceback shows just the lines that failed (as
    plain Python does). Outside IPython it does nothing.

    Returns
    -------
    bool
        True if IPython's traceback mode was set.

    Examples
    --------
    >>> short_tracebacks()  # not inside IPython here
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.InteractiveTB.set_mode(mode="Plain")
    return True
