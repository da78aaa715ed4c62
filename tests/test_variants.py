"""The variant helper: identity sources and their order, stable seeds, the course switch, labels, copy notes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from nablakit import checks, variants
from nablakit.exercise_variants import GENERATORS, REFERENCES


def test_student_variable_comes_before_the_hub_user():
    env = {"NABLAKIT_STUDENT": "alice", "JUPYTERHUB_USER": "bob"}
    assert variants.student_identity(env) == ("alice", "NABLAKIT_STUDENT")
    assert variants.draw("ex05", env=env).student == "alice"


def test_hub_user_is_used_without_the_student_variable(tmp_path):
    assert variants.student_identity({"JUPYTERHUB_USER": "bob"}, cwd=tmp_path) == ("bob", "JUPYTERHUB_USER")
    v = variants.draw("ex05", env={"JUPYTERHUB_USER": "bob"}, cwd=tmp_path)
    assert v.number == variants.variant_number("ex05", "bob") and v.label == f"variant {v.number} of ex05, for bob"


def test_no_identity_gives_the_reference_variant_and_says_so():
    v = variants.draw("ex05", env={"NABLAKIT_STUDENT": "  ", "JUPYTERHUB_USER": ""})
    assert v.is_reference and v.params == REFERENCES["ex05"]
    assert v.label == "reference variant of ex05 (no student identity: NABLAKIT_STUDENT and JUPYTERHUB_USER are unset)"


def test_plain_nbgrader_autograde_on_a_hub_grades_the_reference_variant(tmp_path):
    """nbgrader runs the kernel in autograded/<student>/<assignment>/: the hub user there is the grader."""
    folder = tmp_path / "autograded" / "alice" / "ex05-linear-regression"
    folder.mkdir(parents=True)
    v = variants.draw("ex05", env={"JUPYTERHUB_USER": "instructor"}, cwd=folder)
    assert v.is_reference and "plain nbgrader autograde" in v.label
    # nablakit-grade sets NABLAKIT_STUDENT, which wins there too.
    assert variants.draw("ex05", env={"NABLAKIT_STUDENT": "alice"}, cwd=folder).student == "alice"


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_course_switch_off_gives_everyone_the_reference(value):
    v = variants.draw("ex03", env={"NABLAKIT_STUDENT": "alice", "NABLAKIT_VARIANTS": value})
    assert v.is_reference and v.params == REFERENCES["ex03"] and "switched off" in v.label
    assert variants.draw("ex03", env={"NABLAKIT_STUDENT": "alice", "NABLAKIT_VARIANTS": "on"}).number > 0


def test_seeds_are_stable_across_processes_and_hash_seeds():
    """SHA-256, not Python's hash(): the same numbers under any PYTHONHASHSEED, pinned here."""
    code = "from nablakit import variants; print(variants.stable_seed('s', 'ex05', 'alice'), variants.variant_number('ex05', 'alice'))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1
    assert outputs.pop().split() == ["8099666059113567711", "955"]


def test_variant_depends_on_salt_exercise_and_student():
    base = variants.variant_number("ex05", "alice")
    assert variants.variant_number("ex05-linear-regression", "alice") == base
    others = {variants.variant_number("ex05", "alice", salt="term-2027"), variants.variant_number("ex06", "alice"),
              variants.variant_number("ex05", "alicf")}
    assert others != {base}
    salted = variants.draw("ex05", env={"NABLAKIT_STUDENT": "alice", "NABLAKIT_COURSE_SALT": "term-2027"})
    assert salted.number == variants.variant_number("ex05", "alice", salt="term-2027")


def test_a_class_of_300_spreads_over_many_variants():
    numbers = [variants.variant_number("ex05", f"student{i:03d}") for i in range(300)]
    assert len(set(numbers)) > 250 and Counter(numbers).most_common(1)[0][1] <= 3


def test_parameters_are_reproducible_and_differ_between_variants():
    for name in GENERATORS:
        a, b = variants.params_for(name, 17), variants.params_for(name, 17)
        assert a == b and a != variants.params_for(name, 0), name
        assert len({repr(variants.params_for(name, k)) for k in range(1, 41)}) > 30, name


def test_the_kernel_keeps_the_variant_it_drew_first(monkeypatch):
    variants.forget()
    monkeypatch.setenv("NABLAKIT_STUDENT", "alice")
    first = variants.draw("ex02")
    monkeypatch.setenv("NABLAKIT_STUDENT", "bob")
    monkeypatch.setenv("NABLAKIT_VARIANTS", "off")
    assert variants.draw("ex02") is first  # changing the environment afterwards changes nothing
    variants.forget()
    assert variants.draw("ex02").is_reference
    variants.forget()


def test_show_prints_the_label(capsys):
    variants.draw("ex01", env={"NABLAKIT_STUDENT": "alice"}, show=True)
    assert capsys.readouterr().out == f"This notebook uses the variant {variants.variant_number('ex01', 'alice')} of ex01, for alice.\n"


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="exercise should look like"):
        variants.draw("five")
    with pytest.raises(ValueError, match="no variants registered for ex98"):
        variants.params_for("ex98", 1)
    with pytest.raises(ValueError, match="number should be an integer from 0 to 1000"):
        variants.params_for("ex01", 1001)
    with pytest.raises(ValueError, match="student should be a non-empty string"):
        variants.variant_number("ex01", "")
    with pytest.raises(TypeError, match="generator should be callable"):
        variants.register("ex97", {}, None)


def test_a_new_exercise_gets_variants_by_registering_a_generator():
    variants.register("ex99", {"k": 1.0}, lambda rng: {"k": float(rng.integers(2, 9))})
    try:
        assert variants.draw("ex99-new", env={})["k"] == 1.0
        assert 2 <= variants.draw("ex99-new", env={"NABLAKIT_STUDENT": "alice"})["k"] <= 8
        assert "ex99" in variants.registered()
    finally:
        variants._REGISTRY.pop("ex99")


def test_fits_names_the_variant_a_copied_answer_belongs_to():
    alice = variants.draw("ex03", env={"NABLAKIT_STUDENT": "alice"})
    bob = variants.draw("ex03", env={"NABLAKIT_STUDENT": "bob"})
    answer = lambda q: q["a"]  # noqa: E731
    with pytest.raises(AssertionError, match=f"do not fit this variant \\({alice.label}\\): they are the answer of variant {bob.number} of ex03"):
        with variants.fits(alice, bob["a"], answer):
            checks.expect_close(bob["a"], alice["a"], "a")
    # A hidden check stays hidden: the type is kept.
    with pytest.raises(checks.HiddenTestFailure, match="do not fit this variant"):
        with checks.hidden_tests(), variants.fits(alice, bob["a"], answer):
            checks.expect_close(bob["a"], alice["a"], "a")
    # Without a match the note says which variant the checks use.
    with pytest.raises(AssertionError, match="These checks use the numbers of your variant"):
        with variants.fits(alice, [9.0, 9.0], answer):
            checks.expect_close([9.0, 9.0], alice["a"], "a")
    # In the reference variant an ordinary mistake keeps its message unchanged.
    reference = variants.draw("ex03", env={})
    with pytest.raises(AssertionError) as info:
        with variants.fits(reference, [9.0, 9.0], answer):
            checks.expect(False, "plain message")
    assert str(info.value) == "plain message"
    with variants.fits(alice, alice["a"], answer):  # nothing to do when the check passes
        pass


def test_generators_keep_their_promises_over_all_variants():
    """The constraints each generator states, checked on every one of the 1000 variants."""
    from nablakit.exercise_variants import ex05_data

    for k in range(1, variants.N_VARIANTS + 1):
        p1 = variants.params_for("ex01", k)
        assert p1["c"] > 0 and p1["a"] != 1.0 and p1["b"] != 1.0
        p2 = variants.params_for("ex02", k)
        lam = np.linalg.eigvalsh([[p2["alpha"], p2["beta"] / 2], [p2["beta"] / 2, p2["gamma"]]])
        assert lam[0] > 0.2 and 1.5 <= lam[1] / lam[0] <= 8  # positive definite, distinct, well conditioned
        p10 = variants.params_for("ex10", k)
        assert 20 <= p10["kappa"] <= 400 and p10["kappa"] not in (100.0, 200.0)
        p3 = variants.params_for("ex03", k)
        x, y = p3["a"]
        g = np.array([y * np.cos(x * y) - np.sin(x), x * np.cos(x * y)])
        assert 0.5 <= np.linalg.norm(g) <= 3 and abs(g[1]) >= np.sin(0.1) * np.linalg.norm(g)  # not the reference's
        p9 = variants.params_for("ex09", k)
        clipped = np.clip(p9["g_b"], -p9["c_b"], p9["c_b"])
        assert np.dot(p9["g_b"], clipped) / (np.linalg.norm(p9["g_b"]) * np.linalg.norm(clipped)) < np.cos(np.radians(2))
    for k in range(1, 101):
        X, _ = ex05_data(variants.params_for("ex05", k))
        lam = np.linalg.eigvalsh(2 / len(X) * X.T @ X)
        assert lam[0] >= 1.4 and min(abs(2 / lam[-1] / r - 1) for r in (0.001, 0.01, 0.1, 1.0)) >= 0.15
