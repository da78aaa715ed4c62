"""Lint for IPython and interpreter hooks in a student's code: the ways one cell can bend the cells after it.

IPython lets code in one cell decide how later cells run: input and AST
transformers rewrite their source, a custom exception handler or a silent
``showtraceback`` hides their errors, event callbacks run code around them,
a trace function (``sys.settrace``) can change the arguments of every call
a test makes, and the kernel's own message handlers can be replaced. None of
this belongs in an answer. :func:`hook_lint` names each such use; it is part
of :func:`nablakit.grading.integrity.tamper_lint`.

When the checks run outside the student's kernel (the default of
``nablakit-grade``) these hooks no longer reach a test; the findings stay as
signs for the instructor.
"""

from __future__ import annotations

import ast

__all__ = ["HOOKS", "hook_lint"]

_INPUT = "hooks IPython's input transformers, which rewrite the source of later cells"
_AST = "hooks IPython's AST transformers, which rewrite later cells"
_EXC = "installs a custom exception handler, which can hide the errors of later cells"
_TB = "replaces or calls IPython's traceback display"
_RUNNER = "reaches IPython's cell runner"
_HANDLERS = "changes the kernel's message handlers"
_TRACE = "installs a trace or profile function, which sees (and can change) every call a test makes"
_DISPLAY = "replaces or calls the display hook"
_EXCEPT = "replaces the exception hook"
_EVENTS = "registers an IPython event callback, which runs code around later cells"
_VARIANT = "changes which variant the notebook uses"

#: Attribute or string names that only a hook needs -> what using them does.
HOOKS = {
    "input_transformers_cleanup": _INPUT, "input_transformers_post": _INPUT, "input_transformer_manager": _INPUT,
    "input_splitter": _INPUT, "ast_transformers": _AST,
    "set_custom_exc": _EXC, "custom_exceptions": _EXC, "CustomTB": _EXC,
    "showtraceback": _TB, "_showtraceback": _TB, "showsyntaxerror": _TB, "InteractiveTB": _TB, "SyntaxTB": _TB,
    "run_cell": _RUNNER, "run_cell_async": _RUNNER, "run_ast_nodes": _RUNNER, "run_code": _RUNNER,
    "transform_cell": _RUNNER, "transform_ast": _RUNNER, "should_run_async": _RUNNER,
    "shell_handlers": _HANDLERS, "control_handlers": _HANDLERS, "execute_request": _HANDLERS,
    "do_execute": _HANDLERS, "dispatch_shell": _HANDLERS,
    "settrace": _TRACE, "setprofile": _TRACE, "settrace_all_threads": _TRACE, "setprofile_all_threads": _TRACE,
    "f_trace": _TRACE, "f_trace_lines": _TRACE, "f_trace_opcodes": _TRACE,
    "displayhook": _DISPLAY, "__displayhook__": _DISPLAY, "display_trap": _DISPLAY,
    "excepthook": _EXCEPT, "__excepthook__": _EXCEPT,
    "register_post_execute": _EVENTS, "pre_run_cell": _EVENTS, "post_run_cell": _EVENTS,
    "pre_execute": _EVENTS, "post_execute": _EVENTS,
    "NABLAKIT_VARIANTS": _VARIANT, "NABLAKIT_STUDENT": _VARIANT, "NABLAKIT_COURSE_SALT": _VARIANT,
}
# Replacing these (assignment, setattr) reads better as "replaces ...".
_REPLACED = {
    _RUNNER: "replaces IPython's cell runner", _TB: "replaces IPython's traceback display",
    _DISPLAY: "replaces the display hook", _HANDLERS: "replaces a kernel message handler",
}


def _attribute_chain(node):
    """``get_ipython().events.register`` -> ['<call get_ipython>', 'events', 'register']."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        parts.append(f"<call {node.func.id}>")
    return parts[::-1]


def _shell_names(tree):
    """Names bound to ``get_ipython()`` anywhere in the code (``ip = get_ipython()``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "get_ipython":
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def hook_lint(tree, aliases=None):
    """Sentences naming every IPython or interpreter hook the parsed code uses.

    Parameters
    ----------
    tree : ast.AST
        The student's code, parsed.
    aliases : dict, optional
        Local name -> imported name (``{"st": "sys.settrace"}``), as
        :func:`~nablakit.grading.integrity.tamper_lint` builds it.

    Returns
    -------
    list of str
        One sentence per kind of hook, naming what the code used (sorted).

    Examples
    --------
    >>> import ast
    >>> hook_lint(ast.parse("get_ipython().ast_transformers.append(Swallow())"))
    ["hooks IPython's AST transformers, which rewrite later cells (ast_transformers)"]
    >>> hook_lint(ast.parse("def f(x):\\n    return 2 * x"))
    []
    """
    aliases = aliases or {}
    shells = _shell_names(tree) | {"<call get_ipython>"}
    groups = {}  # what the hook does -> [names seen, whether one was replaced]

    def flag(text, name, replacing=False):
        names, _ = entry = groups.setdefault(text, [[], False])
        if name not in names:
            names.append(name)
        entry[1] = entry[1] or replacing

    replaced = set()  # ids of nodes that are replaced rather than used
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    replaced.add(id(sub))
                if isinstance(target, ast.Subscript):  # handlers['execute_request'] = f
                    replaced.add(id(target.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            for arg in node.args[1:2]:
                replaced.add(id(arg))
    for node in ast.walk(tree):
        name = shown = None
        if isinstance(node, ast.Attribute):
            name = node.attr
            chain = _attribute_chain(node)
            root = aliases.get(chain[0], chain[0]) if chain else ""
            if len(chain) == 2 and root in ("sys", "threading"):
                shown = f"{root}.{name}"
            if node.attr in ("register", "unregister", "callbacks") and chain[-2:-1] == ["events"]:
                flag(_EVENTS, "events." + node.attr)
            if node.attr == "kernel" and len(chain) == 2 and chain[0] in shells:
                flag(_HANDLERS, "get_ipython().kernel")
            if node.attr == "params" and chain[:1] == ["variant"]:
                flag(_VARIANT, "variant.params")
            if node.attr == "forget" and chain[:1] and aliases.get(chain[0], chain[0]).endswith("variants"):
                flag(_VARIANT, "variants.forget")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        elif isinstance(node, ast.Name) and node.id in aliases:  # from sys import settrace
            name, shown = aliases[node.id].rsplit(".", 1)[-1], aliases[node.id]
        if name in HOOKS:
            flag(HOOKS[name], shown or name, id(node) in replaced)
    return [f"{_REPLACED[text] if replacing and text in _REPLACED else text} ({', '.join(sorted(names))})"
            for text, (names, replacing) in groups.items()]
