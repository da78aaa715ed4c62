"""Every variant of every exercise is a good exercise: the sweep.

For a set of variants of each exercise this module runs, in this process
(``tests/variant_runner.py``), the instructor's solution with every visible
and hidden test, and requires full marks; it runs every wrong and hard-coded
submission of the nbgrader pipeline test (``tests/exercise_cases.py``) and
requires less than full marks; and it submits the reference variant's
numbers, typed in, as the answer of another variant and requires that part
to fail with a message saying that the values do not fit this variant.

``make test`` runs a sample (:data:`SAMPLE` variants per exercise, the
reference variant among them); ``make test-variants`` runs the slow sweep over
``NABLAKIT_SWEEP_VARIANTS`` variants per exercise (default 200).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from exercise_cases import CASES
from variant_runner import exercise_names, full_marks, run, student_for_variant

from nablakit import variants

EXERCISES = [n for n in exercise_names() if variants.registered().count(n.split("-")[0])]
SAMPLE = 4
SLOW = os.environ.get("NABLAKIT_SLOW") == "1"
SWEEP = int(os.environ.get("NABLAKIT_SWEEP_VARIANTS", "200"))

# Answer cells whose numbers depend on the variant: (answer cell, names it defines, test cell that must fail).
COPIED = {
    "ex01": [("ex01-b-answer", ["grad_f_at_110"], "ex01-b-gradient"),
             ("ex01-d-points-answer", ["critical_points_L"], "ex01-d-critical-points")],
    "ex02": [("ex02-c-tangent-answer", ["tangent_at_1m1"], "ex02-c-tangent"),
             ("ex02-d-answer", ["Q", "Q_eigenvalues"], "ex02-d-matrix")],
    "ex03": [("ex03-a-answer", ["grad_f_at_a"], "ex03-a-gradient"),
             ("ex03-b-answer", ["u_max", "D_max", "u_min", "D_min"], "ex03-b-directions"),
             ("ex03-c-answer", ["zero_directions"], "ex03-c-zero-directions"),
             ("ex03-d-values-answer", ["D_along_34", "D_along_11"], "ex03-d-values")],
    # ex04's answers are functions; its variants change the matrices of the visible checks.
    "ex04": [],
    "ex05": [("ex05-d-answer", ["w_closed_form", "w_gd"], "ex05-d-closed-form"),
             ("ex05-e-answer", ["final_losses", "diverging_rates"], "ex05-e-final-losses")],
    "ex06": [("ex06-c-answer", ["step_sizes", "errors", "best_h"], "ex06-c-error-curve")],
    "ex07": [("ex07-d-answer", ["grad_norm_confident_correct", "grad_norm_confident_wrong"], "ex07-d-norms")],
    "ex08": [("ex08-d-paths-answer", ["gd_path", "ngd_path"], "ex08-d-gd-path")],
    "ex09": [("ex09-b-cosine-answer", ["cosine_after_value_clip"], "ex09-b-cosine"),
             ("ex09-d-answer", ["w_unclipped", "w_clipped"], "ex09-d-clipped")],
    "ex10": [("ex10-c-lr-answer", ["max_stable_lr"], "ex10-c-max-lr")],
    # ex11's answers are functions and a relative error (any value below 1e-6); its variants change the networks.
    "ex11": [],
}
NOT_FIT = "do not fit this variant"


def literal(value):
    """Python source that rebuilds a value of the notebook's globals (what a student would type in)."""
    if isinstance(value, np.ndarray):
        return f"np.array({literal(value.tolist())})"
    if isinstance(value, (np.floating, np.integer)):
        return literal(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


_REFERENCE_ANSWERS = {}


def reference_answers(name):
    """answer cell -> source typing in the reference variant's values."""
    if name not in _REFERENCE_ANSWERS:
        scores, errors, variant, namespace = run(name, None)
        assert variant.is_reference and not errors, errors
        _REFERENCE_ANSWERS[name] = {
            cell: "\n".join(f"{n} = {literal(namespace[n])}" for n in names)
            for cell, names, _ in COPIED[name.split("-")[0]]
        }
    return _REFERENCE_ANSWERS[name]


def variant_numbers(name, count):
    """``count`` variant numbers spread over 1..N_VARIANTS, the same in every run."""
    rng = np.random.default_rng(variants.stable_seed("sweep", name))
    return sorted(int(k) for k in rng.choice(np.arange(1, variants.N_VARIANTS + 1), size=count, replace=False))


def check_variant(name, number):
    """All requirements for one variant; returns a list of problems (empty when it is a good exercise)."""
    short = name.split("-")[0]
    student = None if number == 0 else student_for_variant(short, number)
    problems = []
    best = full_marks(name)
    scores, errors, variant, _ = run(name, student)
    assert variant.number == number, (variant.label, number)
    if sum(scores.values()) != best:
        problems.append(f"{variant.label}: the solution scores {sum(scores.values())}/{best}: {errors}")
    cases = [(c["misconception"], c["answers"]) for c in CASES[name]["wrong"]]
    if CASES[name].get("hardcoded"):
        cases.append(("hard-coded visible values", CASES[name]["hardcoded"]["answers"]))
    for what, answers in cases:
        scores, _, _, _ = run(name, student, answers, stop_on_failure=True)
        if not any(v == 0 for v in scores.values()):
            problems.append(f"{variant.label}: the wrong submission '{what}' earns full marks")
    if number:
        for cell, names, part in COPIED[short]:
            scores, errors, _, _ = run(name, student, {cell: reference_answers(name)[cell]}, until=part)
            if scores.get(part) != 0 or NOT_FIT not in errors.get(part, ""):
                problems.append(f"{variant.label}: the reference values of {names} typed in: {part} scored "
                                f"{scores.get(part)} with {errors.get(part)!r}")
    return problems


@pytest.mark.parametrize("name", EXERCISES)
def test_sample_of_variants_are_good_exercises(name):
    numbers = [0, *variant_numbers(name, SAMPLE - 1)]
    problems = [p for k in numbers for p in check_variant(name, k)]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not SLOW, reason="the slow variant sweep runs with NABLAKIT_SLOW=1 (make test-variants)")
@pytest.mark.parametrize("name", EXERCISES)
def test_sweep_of_variants_are_good_exercises(name):
    problems = [p for k in variant_numbers(name, SWEEP) for p in check_variant(name, k)]
    print(f"{name}: swept {SWEEP} variants, {len(problems)} problem(s)")
    assert not problems, "\n".join(problems[:20])


def test_every_exercise_has_variants():
    """Every exercise folder registers a generator, so each new exercise gets variants by writing one."""
    missing = [n for n in exercise_names() if n.split("-")[0] not in variants.registered()]
    assert not missing, f"exercises without a variant generator in nablakit.exercise_variants: {missing}"


@pytest.mark.parametrize("short", sorted(COPIED))
def test_copy_feedback_names_the_variant_it_came_from(short):
    """A value typed in from the reference variant is named as the reference variant's answer (or said not to fit)."""
    name = next(n for n in exercise_names() if n.startswith(short))
    number = variant_numbers(name, 1)[0]
    student = student_for_variant(short, number)
    for cell, names, part in COPIED[short]:
        _, errors, variant, _ = run(name, student, {cell: reference_answers(name)[cell]})
        assert NOT_FIT in errors[part] and variant.label in errors[part], errors[part]
