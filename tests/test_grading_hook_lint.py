"""The tamper lint names IPython and interpreter hooks in a student's code (issue 19, item 5), and nothing in honest
answers. Pure AST work: no kernel, a fraction of a second."""

from __future__ import annotations

import nbformat
import pytest

import grading_attacks as attack
from grading_support import ROOT
from nablakit.grading.integrity import lint_notebook, tamper_lint
from nablakit.grading.release import find_assignments


def details(code):
    return [f.detail for f in tamper_lint(code, "c")]


@pytest.mark.parametrize("code, expected", [
    # input transformers
    ("get_ipython().input_transformers_cleanup.append(f)", "input transformers, which rewrite the source of later "
                                                           "cells (input_transformers_cleanup)"),
    ("ip = get_ipython()\nip.input_transformers_post.insert(0, f)", "(input_transformers_post)"),
    ("get_ipython().input_transformer_manager.cleanup_transforms.append(f)", "(input_transformer_manager)"),
    ("getattr(get_ipython(), 'input_transformers_cleanup').append(f)", "(input_transformers_cleanup)"),
    # AST transformers
    ("get_ipython().ast_transformers.append(Wrap())", "AST transformers, which rewrite later cells (ast_transformers)"),
    # exception handlers and the traceback display
    ("get_ipython().set_custom_exc((Exception,), handler)", "custom exception handler, which can hide the errors of "
                                                           "later cells (set_custom_exc)"),
    ("get_ipython().showtraceback = lambda *a, **k: None", "replaces IPython's traceback display (showtraceback)"),
    ("setattr(get_ipython(), '_showtraceback', print)", "replaces IPython's traceback display (_showtraceback)"),
    ("get_ipython().InteractiveTB.structured_traceback = f", "traceback display (InteractiveTB)"),
    # event callbacks
    ("get_ipython().events.register('post_run_cell', f)", "event callback, which runs code around later cells "
                                                          "(events.register, post_run_cell)"),
    ("ev = get_ipython().events\nev.register('pre_run_cell', f)", "(pre_run_cell)"),
    ("get_ipython().events.callbacks['post_execute'].append(f)", "(events.callbacks, post_execute)"),
    # trace and profile functions
    ("import sys\nsys.settrace(tracer)", "trace or profile function, which sees (and can change) every call a test "
                                         "makes (sys.settrace)"),
    ("import sys\nsys.setprofile(tracer)", "(sys.setprofile)"),
    ("import threading\nthreading.settrace(tracer)", "(threading.settrace)"),
    ("from sys import settrace as st\nst(tracer)", "(sys.settrace)"),
    ("import sys\nsys._getframe().f_trace = tracer", "(f_trace)"),
    # display and exception hooks
    ("import sys\nsys.displayhook = print", "replaces the display hook (sys.displayhook)"),
    ("import sys\nsys.displayhook(1.0)", "replaces or calls the display hook (sys.displayhook)"),
    ("get_ipython().display_trap.hook = print", "replaces the display hook (display_trap)"),
    ("import sys\nsys.excepthook = print", "replaces the exception hook (sys.excepthook)"),
    # the cell runner
    ("get_ipython().run_cell = None", "replaces IPython's cell runner (run_cell)"),
    ("ip = get_ipython()\nip.run_ast_nodes = f", "replaces IPython's cell runner (run_ast_nodes)"),
    ("get_ipython().run_cell('assert True')", "reaches IPython's cell runner (run_cell)"),
    ("type(get_ipython()).transform_cell = f", "replaces IPython's cell runner (transform_cell)"),
    # the kernel's message handlers
    ("get_ipython().kernel.shell_handlers['execute_request'] = h",
     "replaces a kernel message handler (execute_request, get_ipython().kernel, shell_handlers)"),
    ("k = get_ipython().kernel\nk.execute_request = h", "replaces a kernel message handler"),
    ("ip = get_ipython()\nip.kernel.do_execute = h", "(do_execute, get_ipython().kernel)"),
    # the variant a notebook computes on
    ("import os\nos.environ['NABLAKIT_VARIANTS'] = 'off'", "changes which variant the notebook uses "
                                                          "(NABLAKIT_VARIANTS)"),
    ("variants.forget()\nvariant = variants.draw('ex06')", "(variants.forget)"),
    ("variant.params.update({'seed_ls': 6})", "(variant.params)"),
])
def test_the_lint_names_each_hook(code, expected):
    found = details(code)
    assert any(expected in d for d in found), found


def test_one_sentence_per_kind_of_hook():
    found = details("ip = get_ipython()\nip.showtraceback = f\nip._showtraceback = f\nip.showtraceback()")
    assert found == ["replaces IPython's traceback display (_showtraceback, showtraceback)"]


@pytest.mark.parametrize("code", [
    "def f(x):\n    return 2 * x",
    "events = []\nevents.append('kernel')",  # names that only look like hooks
    "svm.kernel = 'rbf'\nmodel.params = {}",
    "trace = np.trace(A)\nprofile = [1, 2]",
    "print('run the cell above first')",
])
def test_the_lint_is_quiet_on_lookalikes(code):
    assert details(code) == []


@pytest.mark.parametrize("name", ["INPUT_TRANSFORMER", "AST_TRANSFORMER", "CUSTOM_EXC", "VARIANT_SWITCH", "SETTRACE",
                                  "DISPLAYHOOK", "EXECUTE_HANDLER", "LIAR", "HOOK_ON_CALL", "ANSWER_KEY"])
def test_every_attack_of_the_adversarial_tests_is_flagged(name):
    assert details(getattr(attack, name))


def test_no_finding_in_any_solution_notebook():
    """Every cell a student could have written (answers and free cells) of every solution notebook is quiet."""
    for name in find_assignments(ROOT):
        nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
        assert lint_notebook(nb) == [], name
