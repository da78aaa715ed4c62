"""Runs *inside the grading kernel*: snapshot and restore what test cells rely on.

The grader sends this file's source to the kernel, silently, before the
first cell of a submission runs, and calls :func:`make_guard`. The guard
records the functions, classes and modules of NumPy, of ``nablakit``, of
``builtins`` (and a few standard modules), and the notebook names bound by
the instructor's locked cells. Before every test cell the grader asks it to
restore anything the submission replaced (monkeypatched ``np.allclose``,
``np.testing.assert_allclose``, ``nablakit.checks.*``, ``builtins``, a rebound
``expect_close``, a replaced ``sys.modules`` entry, a swapped ``__code__``)
and to report it; after the test cell it reports anything replaced *while*
the test ran, which voids that test.

Every name the guard calls at check time is captured when it is made, from a
kernel the submission has not run in yet, so later patches of builtins or
modules cannot reach it. Each answer carries a proof (a hash of a per-run
secret and the grader's nonce) so a submission cannot fake the guard.

This module must not import anything from ``nablakit`` at module level:
its source is executed on its own.
"""


def make_guard(secret, user_ns, prefixes=("numpy", "nablakit"),
               extra_modules=("builtins", "math", "operator", "functools")):
    """Build a guard over the modules loaded now and the namespace ``user_ns``.

    Parameters
    ----------
    secret : str
        Per-run secret; answers are proven with ``sha256(secret + nonce)``.
    user_ns : dict
        The notebook's global namespace.
    prefixes : tuple of str
        Packages whose loaded modules (and submodules) are guarded.
    extra_modules : tuple of str
        Further modules guarded by exact name.

    Returns
    -------
    object
        With methods ``check(nonce, phase, names=())`` and ``trust(names)``;
        ``check`` returns ``repr((proof, findings))`` where ``findings`` is a
        list of ``(kind, sentence)`` pairs, kind ``"tamper"`` (a module or
        builtin was patched), ``"rebound"`` (an instructor's notebook name was
        rebound) or ``"shadow"`` (a student name hides a builtin a test uses).

    Examples
    --------
    >>> import math
    >>> ns = {}
    >>> guard = make_guard("s3cret", ns, prefixes=(), extra_modules=("math",))
    >>> real_sqrt = math.sqrt
    >>> math.sqrt = lambda x: 42.0
    >>> proof, findings = eval(guard.check("n1", "before"))
    >>> findings, math.sqrt is real_sqrt
    ([('tamper', 'math.sqrt was replaced')], True)
    """
    import builtins as _builtins_mod
    import hashlib as _hashlib
    import operator as _operator
    import sys as _sys
    import types as _types

    _sha256 = _hashlib.sha256
    _repr, _sorted, _list, _vars, _callable, _isinstance, _id = repr, sorted, list, vars, callable, isinstance, id
    _type, _set, _tuple, _len, _all, _map = type, set, tuple, len, all, map
    _is, _itemgetter, _attrgetter = _operator.is_, _operator.itemgetter, _operator.attrgetter
    _ModuleType, _FunctionType = _types.ModuleType, _types.FunctionType
    _dict_get, _dict_items, _dict_pop = dict.get, dict.items, dict.pop
    _str_startswith = str.startswith
    _sys_dict = _vars(_sys)
    _modules = _sys.modules
    _missing = object()
    # IPython swaps these builtins in and out around every cell.
    _volatile_builtins = {"exit", "quit", "get_ipython", "display", "_", "__", "___", "help", "__IPYTHON__"}

    def guarded(name):
        if name in extra_modules:
            return True
        for prefix in prefixes:
            if name == prefix or _str_startswith(name, prefix + "."):
                return True
        return False

    module_entries = []  # (module name, module object, its dict)
    attr_entries = []  # (qualified name, module dict, attribute, value)
    code_entries = []  # (qualified name, function, __code__, __defaults__, __kwdefaults__)
    seen_functions = _set()
    for modname in _sorted(_list(_modules)):
        module = _modules[modname]
        if not guarded(modname) or not _isinstance(module, _ModuleType):
            continue
        mdict = _vars(module)
        module_entries.append((modname, module, mdict))
        for attr, value in _list(_dict_items(mdict)):
            if modname == "builtins" and attr in _volatile_builtins:
                continue
            if _str_startswith(attr, "__") and attr not in ("__import__", "__build_class__"):
                continue
            if not (_callable(value) or _isinstance(value, _ModuleType)):
                continue
            attr_entries.append((modname + "." + attr, mdict, attr, value))
            for func in (value, getattr(value, "_implementation", None), getattr(value, "__wrapped__", None)):
                if _isinstance(func, _FunctionType) and _id(func) not in seen_functions:
                    seen_functions.add(_id(func))
                    code_entries.append((modname + "." + attr, func, func.__code__, func.__defaults__,
                                         func.__kwdefaults__))
    # Fast path: one C-level comparison per module (and one for all functions) when nothing changed.
    by_module = {}
    for entry in attr_entries:
        by_module.setdefault(_id(entry[1]), []).append(entry)
    fast_modules = []
    for entries in by_module.values():
        names = _tuple(e[2] for e in entries) + ("__name__", "__name__")  # at least two: itemgetter gives a tuple
        values = _tuple(e[3] for e in entries)
        values = values + (entries[0][1].get("__name__"),) * 2
        fast_modules.append((entries[0][1], _itemgetter(*names), values, entries))
    functions = _tuple(e[1] for e in code_entries)
    codes = _tuple(e[2] for e in code_entries)
    defaults = _tuple(e[3] for e in code_entries)
    kwdefaults = _tuple(e[4] for e in code_entries)
    get_code, get_defaults = _attrgetter("__code__"), _attrgetter("__defaults__")
    get_kwdefaults = _attrgetter("__kwdefaults__")
    builtin_names = {name for name in _vars(_builtins_mod)
                     if not _str_startswith(name, "__") and name not in _volatile_builtins}
    ns_builtins = _dict_get(user_ns, "__builtins__", _missing)
    # notebook name -> value bound by an instructor cell; IPython's own shadows (``open``) count as trusted
    trusted = {name: user_ns[name] for name in _list(user_ns) if name in builtin_names}
    shadow_stash = {}  # student names hiding builtins, set aside while a test runs

    def restore_all():
        findings = []
        if _dict_get(_sys_dict, "modules") is not _modules:
            findings.append(("tamper", "sys.modules was replaced"))
            _sys_dict["modules"] = _modules
        for modname, module, mdict in module_entries:
            if _dict_get(_modules, modname) is not module:
                findings.append(("tamper", f"sys.modules[{modname!r}] was replaced"))
                _modules[modname] = module
        for mdict, getter, values, entries in fast_modules:
            try:
                if _all(_map(_is, getter(mdict), values)):
                    continue
            except KeyError:
                pass
            for qualname, _, attr, value in entries:
                if _dict_get(mdict, attr, _missing) is not value:
                    findings.append(("tamper", f"{qualname} was replaced"))
                    mdict[attr] = value
        if not (_all(_map(_is, _map(get_code, functions), codes))
                and _all(_map(_is, _map(get_defaults, functions), defaults))
                and _all(_map(_is, _map(get_kwdefaults, functions), kwdefaults))):
            for qualname, func, code, default, kwdefault in code_entries:
                if func.__code__ is not code or func.__defaults__ is not default or func.__kwdefaults__ is not kwdefault:
                    findings.append(("tamper", f"{qualname} had its code or defaults changed"))
                    func.__code__, func.__defaults__, func.__kwdefaults__ = code, default, kwdefault
        if ns_builtins is not _missing and _dict_get(user_ns, "__builtins__") is not ns_builtins:
            findings.append(("tamper", "the notebook's __builtins__ was replaced"))
            user_ns["__builtins__"] = ns_builtins
        return findings

    def restore_trusted(exclude):
        findings = []
        for name, value in _list(_dict_items(trusted)):
            if name not in exclude and _dict_get(user_ns, name, _missing) is not value:
                findings.append(("rebound", f"notebook name {name!r} (set by an instructor cell) was rebound"))
                user_ns[name] = value
        return findings

    class Guard:
        """Answers the grader; see :func:`make_guard`."""

        __slots__ = ()

        def trust(self, names):
            """Remember the current values of notebook names bound by an instructor cell."""
            for name in names:
                value = _dict_get(user_ns, name, _missing)
                if value is not _missing:
                    trusted[name] = value

        def check(self, nonce, phase, names=()):
            """Restore and report; ``phase`` is 'before' or 'after' a test cell.

            Before a test, ``names`` are the names the test reads: student
            names among them that hide a builtin are set aside until after
            the test. After it, ``names`` are the names the test bound
            itself: never reported, and an instructor name it rebinds keeps
            the new value (as when the notebook runs top to bottom).
            """
            findings = restore_all()
            if phase == "before":
                for name, value in _list(_dict_items(shadow_stash)):  # left over by a test that failed
                    if name not in user_ns:
                        user_ns[name] = value
                shadow_stash.clear()
                findings += restore_trusted(())
                for name in names:
                    if name in builtin_names and name not in trusted and name in user_ns:
                        shadow_stash[name] = _dict_pop(user_ns, name)
                        findings.append(("shadow", f"notebook name {name!r} hides the builtin the test uses"))
            else:
                findings += restore_trusted(_set(names))
                for name in names:
                    if name in trusted and name in user_ns:
                        trusted[name] = user_ns[name]
                for name, value in _list(_dict_items(shadow_stash)):
                    if name not in user_ns:
                        user_ns[name] = value
                shadow_stash.clear()
            proof = _sha256((secret + ":" + nonce).encode()).hexdigest()
            return _repr((proof, findings))

    return Guard()
