"""Per-student variants of the graded exercises.

Every exercise draws the numbers its answers depend on (matrices, points,
coefficients, data sets, step sizes) through :func:`draw`. Who the student is
comes from the environment, in this order:

1. ``NABLAKIT_STUDENT`` - set by ``nablakit-grade`` for each student's kernel;
2. ``JUPYTERHUB_USER`` - set by JupyterHub for a student's own server;
3. neither (Binder, a laptop): the course's *reference variant*, the
   numbers the exercise cards fix.

A student id maps to one of :data:`N_VARIANTS` variant numbers through a
SHA-256 hash of (course salt, exercise, student) - never Python's ``hash``,
which changes between processes - and a variant number maps to its
parameters through a generator seeded the same way. Variant 0 is the
reference variant.

Course-level settings, read from the environment of the kernel:

``NABLAKIT_VARIANTS=off`` (also ``0``, ``false``, ``no``)
    every student gets the reference variant;
``NABLAKIT_COURSE_SALT``
    the course salt (default :data:`DEFAULT_SALT`); change it each term so
    that last year's answers do not fit this year's variants.

A notebook that nbgrader runs under ``autograded/<student>/<exercise>/``
without ``NABLAKIT_STUDENT`` (plain ``nbgrader autograde``) uses the
reference variant even when ``JUPYTERHUB_USER`` is set: that user is the
grader, not the student.

Examples
--------
>>> v = draw("ex01", env={"NABLAKIT_STUDENT": "alice"})
>>> v.label
'variant 755 of ex01, for alice'
>>> draw("ex01", env={}).is_reference
True
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "ENV_STUDENT", "ENV_HUB_USER", "ENV_SWITCH", "ENV_SALT", "DEFAULT_SALT", "N_VARIANTS",
    "Variant", "student_identity", "variants_enabled", "course_salt", "stable_seed",
    "variant_number", "register", "forget", "registered", "params_for", "draw", "fits", "matching_variant",
]

ENV_STUDENT = "NABLAKIT_STUDENT"
ENV_HUB_USER = "JUPYTERHUB_USER"
ENV_SWITCH = "NABLAKIT_VARIANTS"
ENV_SALT = "NABLAKIT_COURSE_SALT"
DEFAULT_SALT = "gradients-course"
#: Variants per exercise (numbered 1..N_VARIANTS; 0 is the reference variant).
N_VARIANTS = 1000
_OFF = {"off", "0", "false", "no"}

_REGISTRY = {}
# The variant a kernel drew first for each exercise: later draws (the checks) get the same one,
# even if the notebook's own code changes the environment afterwards.
_DRAWN = {}


@dataclass(frozen=True)
class Variant:
    """The variant of one exercise a notebook uses: its number, for whom, and its parameters.

    ``variant["name"]`` gives a parameter; ``label`` is the line the notebook shows.
    """

    exercise: str
    number: int
    student: str | None
    reason: str
    params: dict = field(repr=False, compare=False)

    @property
    def is_reference(self):
        return self.number == 0

    @property
    def label(self):
        if self.number == 0:
            return f"reference variant of {self.exercise} ({self.reason})"
        return f"variant {self.number} of {self.exercise}, for {self.student}"

    def __getitem__(self, name):
        return self.params[name]


def _short(exercise):
    """'ex05-linear-regression' and 'ex05' both give 'ex05'."""
    name = str(exercise).split("-")[0]
    if not (name.startswith("ex") and name[2:].isdigit()):
        raise ValueError(f"exercise should look like 'ex05' or 'ex05-name'; received {exercise!r}")
    return name


def _in_plain_autograde(cwd):
    parts = Path(cwd).resolve().parts
    return len(parts) >= 3 and parts[-3] == "autograded"


def student_identity(env=None, cwd=None):
    """``(student, source)`` from the environment: ``NABLAKIT_STUDENT``, then ``JUPYTERHUB_USER``.

    Returns ``(None, reason)`` when neither applies.

    Examples
    --------
    >>> student_identity({"JUPYTERHUB_USER": "bob", "NABLAKIT_STUDENT": "alice"})
    ('alice', 'NABLAKIT_STUDENT')
    >>> student_identity({"JUPYTERHUB_USER": "bob"}, cwd="/home/bob")
    ('bob', 'JUPYTERHUB_USER')
    >>> student_identity({})[0] is None
    True
    """
    env = os.environ if env is None else env
    student = (env.get(ENV_STUDENT) or "").strip()
    if student:
        return student, ENV_STUDENT
    hub_user = (env.get(ENV_HUB_USER) or "").strip()
    if hub_user:
        if _in_plain_autograde(os.getcwd() if cwd is None else cwd):
            return None, "graded by plain nbgrader autograde, which sets no student identity"
        return hub_user, ENV_HUB_USER
    return None, f"no student identity: {ENV_STUDENT} and {ENV_HUB_USER} are unset"


def variants_enabled(env=None):
    """False when the course switched variants off (``NABLAKIT_VARIANTS=off``).

    Examples
    --------
    >>> variants_enabled({"NABLAKIT_VARIANTS": "off"}), variants_enabled({})
    (False, True)
    """
    env = os.environ if env is None else env
    return (env.get(ENV_SWITCH) or "on").strip().lower() not in _OFF


def course_salt(env=None):
    """The course salt: ``NABLAKIT_COURSE_SALT`` or :data:`DEFAULT_SALT`."""
    env = os.environ if env is None else env
    return (env.get(ENV_SALT) or "").strip() or DEFAULT_SALT


def stable_seed(*parts):
    """A 64-bit seed from SHA-256 of the parts; the same in every process and on every machine.

    Examples
    --------
    >>> stable_seed("salt", "ex01", "alice") == stable_seed("salt", "ex01", "alice")
    True
    >>> stable_seed("salt", "ex01", "alice") != stable_seed("salt", "ex02", "alice")
    True
    """
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def variant_number(exercise, student, salt=DEFAULT_SALT):
    """The variant (1..N_VARIANTS) a student gets for an exercise.

    Examples
    --------
    >>> 1 <= variant_number("ex05", "alice") <= N_VARIANTS
    True
    """
    if not isinstance(student, str) or not student:
        raise ValueError(f"student should be a non-empty string; received {student!r}")
    return 1 + stable_seed(salt, _short(exercise), "student", student) % N_VARIANTS


def register(exercise, reference, generator):
    """Register an exercise's reference parameters and its generator ``generator(rng) -> dict``.

    A new exercise gets variants by registering here (see ``nablakit.exercise_variants``).
    """
    name = _short(exercise)
    if not callable(generator):
        raise TypeError(f"generator should be callable; received {type(generator).__name__}")
    _REGISTRY[name] = (dict(reference), generator)
    _generate.cache_clear()


def registered():
    """Short names of the exercises with variants, sorted."""
    _load()
    return sorted(_REGISTRY)


def _load():
    if not _REGISTRY:
        from . import exercise_variants  # noqa: F401 - registers the course's generators


def params_for(exercise, number, salt=DEFAULT_SALT):
    """The parameters of variant ``number`` (0 = reference) of an exercise, as a dict."""
    _load()
    name = _short(exercise)
    if name not in _REGISTRY:
        raise ValueError(f"no variants registered for {name}; known: {', '.join(sorted(_REGISTRY))}")
    if not isinstance(number, (int, np.integer)) or not 0 <= number <= N_VARIANTS:
        raise ValueError(f"number should be an integer from 0 to {N_VARIANTS}; received {number!r}")
    return copy.deepcopy(_generate(name, int(number), salt))


@functools.lru_cache(maxsize=None)
def _generate(name, number, salt):
    reference, generator = _REGISTRY[name]
    if number == 0:
        return dict(reference)
    rng = np.random.default_rng(stable_seed(salt, name, "variant", number))
    return generator(rng)


def draw(exercise, *, env=None, cwd=None, number=None, show=False):
    """The variant of ``exercise`` for the student this kernel runs for.

    Parameters
    ----------
    exercise : str
        ``"ex05"`` or the folder name ``"ex05-linear-regression"``.
    env : mapping, optional
        Environment to read (default ``os.environ``).
    number : int, optional
        Force a variant number (instructors, tests); 0 is the reference.
    show : bool
        Print the variant's label.

    Without ``env``, ``cwd`` and ``number`` the first draw of an exercise in a
    process is remembered and returned by every later call (the checks use
    the variant the notebook's first cell drew). ``forget()`` clears it.

    Examples
    --------
    >>> draw("ex01", env={"NABLAKIT_STUDENT": "alice", "NABLAKIT_VARIANTS": "off"}).label
    'reference variant of ex01 (variants are switched off for this course)'
    """
    name = _short(exercise)
    remember = env is None and cwd is None and number is None
    if remember and name in _DRAWN:
        variant = _DRAWN[name]
        if show:
            print(f"This notebook uses the {variant.label}.")
        return variant
    env = os.environ if env is None else env
    salt = course_salt(env)
    if number is not None:
        student, reason = f"variant {number}", "chosen by number"
    elif not variants_enabled(env):
        student, reason, number = None, "variants are switched off for this course", 0
    else:
        student, reason = student_identity(env, cwd)
        number = 0 if student is None else variant_number(name, student, salt)
    variant = Variant(name, int(number), student, reason, params_for(name, int(number), salt))
    if remember:
        _DRAWN[name] = variant
    if show:
        print(f"This notebook uses the {variant.label}.")
    return variant


def forget():
    """Forget the variants this process drew (for tests that run several variants in one process)."""
    _DRAWN.clear()


def matching_variant(exercise, received, answer, *, salt=DEFAULT_SALT, exclude=None, rtol=1e-6, atol=1e-8):
    """The first variant number whose ``answer(params)`` equals ``received``, or None.

    Used to tell a student that numbers copied from another variant do not fit theirs.
    """
    try:
        arr = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return None
    for number in range(N_VARIANTS + 1):
        if number == exclude:
            continue
        try:
            expected = np.asarray(answer(params_for(exercise, number, salt)), dtype=float)
        except Exception:  # noqa: BLE001 - an answer function may not apply to every variant
            continue
        if expected.shape == arr.shape and np.allclose(arr, expected, rtol=rtol, atol=atol):
            return number
    return None


@contextlib.contextmanager
def fits(variant, received=None, answer=None):
    """Re-raise a failed check with a note that the values must fit this variant.

    With ``answer(params)`` given, the note also says when ``received`` is
    exactly the answer of another variant (an answer copied from a classmate).
    The exception keeps its type (a hidden check stays hidden).

    Examples
    --------
    >>> v = draw("ex01", env={"NABLAKIT_STUDENT": "alice"})
    >>> with fits(v, received=[3.0, 4.0, -1.0], answer=lambda p: [3 * p["a"], 2 * p["a"] + 2, -p["b"]]):
    ...     assert False, "grad_f_at_110 is wrong"
    Traceback (most recent call last):
    ...
    AssertionError: grad_f_at_110 is wrong. These values do not fit this variant (variant 755 of ex01, for alice): they are the answer of the reference variant of ex01; compute your answer from this notebook's own numbers
    """
    try:
        yield
    except AssertionError as exc:
        other = None
        if answer is not None and received is not None:
            other = matching_variant(variant.exercise, received, answer, salt=course_salt(),
                                     exclude=variant.number)
        if other is not None:
            which = "the reference variant" if other == 0 else f"variant {other}"
            note = (f"These values do not fit this variant ({variant.label}): they are the answer of {which} "
                    f"of {variant.exercise}; compute your answer from this notebook's own numbers")
        elif variant.is_reference:
            raise
        else:
            note = (f"These checks use the numbers of your variant ({variant.label}): values typed in or copied "
                    "from another variant do not fit this variant")
        message = str(exc).rstrip()
        raise type(exc)(f"{message}{'' if message.endswith('.') else '.'} {note}") from None
