"""Exact gradients and Hessians with sympy, turned into NumPy functions.

Used as the independent reference for every hand-derived formula: the
symbolic result is exact, and its lambdified version can be compared with
NumPy code at many points.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from nablakit._validate import as_float_array


def _check(expr, variables):
    try:
        expr = sp.sympify(expr, strict=not isinstance(expr, str))
    except sp.SympifyError as exc:
        kind = ValueError if isinstance(expr, str) else TypeError
        raise kind(f"expr must be a scalar sympy expression (or a string); could not convert {expr!r}: {exc}") from None
    if not isinstance(expr, sp.Expr) or getattr(expr, "is_Matrix", False):
        raise TypeError(f"expr must be a scalar sympy expression (or a string); got {type(expr).__name__}")
    if isinstance(variables, sp.Symbol):
        variables = [variables]
    variables = list(variables)
    if not variables:
        raise ValueError("variables must not be empty")
    for v in variables:
        if not isinstance(v, sp.Symbol):
            raise TypeError(f"variables must contain sympy Symbols; got {v!r} of type {type(v).__name__}")
    if len(set(variables)) != len(variables):
        raise ValueError(f"variables must not repeat a symbol; got {variables}")
    return expr, variables


def sym_gradient(expr, variables):
    """Exact gradient of ``expr`` with respect to ``variables``, as a column.

    Parameters
    ----------
    expr : sympy.Expr or str
        Scalar expression; other symbols in it act as constants.
    variables : sequence of sympy.Symbol
        The ``n`` variables to differentiate with respect to, in order.

    Returns
    -------
    sympy.Matrix of shape (n, 1)

    Raises
    ------
    TypeError
        If ``expr`` is not a scalar expression or a variable is not a Symbol.
    ValueError
        If ``expr`` is an unparsable string, or ``variables`` is empty or repeats a symbol.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> sym_gradient(x**2 + 3 * x * y, [x, y])
    Matrix([
    [2*x + 3*y],
    [      3*x]])
    """
    expr, variables = _check(expr, variables)
    return sp.Matrix([sp.diff(expr, v) for v in variables])


def sym_hessian(expr, variables):
    """Exact Hessian ``H[i, j] = d^2 expr / (d v_i d v_j)``.

    Parameters
    ----------
    expr : sympy.Expr or str
        Scalar expression.
    variables : sequence of sympy.Symbol
        The ``n`` variables, in order.

    Returns
    -------
    sympy.Matrix of shape (n, n)
        Symmetric when the second partials are continuous.

    Raises
    ------
    TypeError
        If ``expr`` is not a scalar expression or a variable is not a Symbol.
    ValueError
        If ``expr`` is an unparsable string, or ``variables`` is empty or repeats a symbol.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> sym_hessian(x**2 * y + y**3, [x, y])
    Matrix([
    [2*y,      2*x],
    [2*x, 6*y]])
    """
    expr, variables = _check(expr, variables)
    return sp.hessian(expr, variables)


def _numpy_callable(exprs, variables, what):
    extra = set().union(*(e.free_symbols for e in exprs)) - set(variables)
    if extra:
        names = ", ".join(sorted(map(str, extra)))
        raise ValueError(f"expr has symbols not in variables: {names}; substitute numbers for them first")
    funcs = [sp.lambdify(variables, e, "numpy") for e in exprs]
    n = len(variables)

    def evaluate(x):
        x = as_float_array(x, "x")
        if x.shape[:1] != (n,):
            raise ValueError(f"x must have first axis of length {n} (one entry per variable); got shape {x.shape}")
        # Constant components come back as plain numbers: broadcast to x's trailing shape.
        out = np.stack([np.broadcast_to(np.asarray(g(*x), dtype=float), x.shape[1:]) for g in funcs])
        if what == "gradient":
            return out
        return float(out[0]) if x.ndim == 1 else out[0]

    return evaluate


def lambdify_scalar(expr, variables):
    """NumPy function ``f(x)`` evaluating ``expr`` with ``x[i]`` for ``variables[i]``.

    Parameters
    ----------
    expr : sympy.Expr or str
        Scalar expression whose symbols are all in ``variables``.
    variables : sequence of sympy.Symbol
        The ``n`` variables, in order.

    Returns
    -------
    callable
        ``f(x)`` with ``x`` of shape ``(n,)`` returns a float; with ``x`` of
        shape ``(n, ...)`` it returns an array of shape ``x.shape[1:]``.

    Raises
    ------
    TypeError
        If ``expr`` is not a scalar expression or a variable is not a Symbol.
    ValueError
        If ``variables`` is empty or repeats a symbol, or ``expr`` has other symbols.
        The returned ``f`` raises ValueError for ``x`` of the wrong shape.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> f = lambdify_scalar(x**2 + 3 * x * y, [x, y])
    >>> f([1.0, 2.0])
    7.0
    """
    expr, variables = _check(expr, variables)
    return _numpy_callable([expr], variables, "scalar")


def lambdify_gradient(expr, variables):
    """NumPy function ``g(x)`` evaluating the exact gradient of ``expr``.

    Parameters
    ----------
    expr : sympy.Expr or str
        Scalar expression whose symbols are all in ``variables``.
    variables : sequence of sympy.Symbol
        The ``n`` variables, in order.

    Returns
    -------
    callable
        ``g(x)`` with ``x`` of shape ``(n,)`` returns shape ``(n,)``; with
        ``x`` of shape ``(n, ...)`` it returns ``(n, ...)``.

    Raises
    ------
    TypeError
        If ``expr`` is not a scalar expression or a variable is not a Symbol.
    ValueError
        If ``variables`` is empty or repeats a symbol, or ``expr`` has other symbols.
        The returned ``g`` raises ValueError for ``x`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> g = lambdify_gradient(x**2 + 3 * x * y, [x, y])
    >>> np.allclose(g([1.0, 2.0]), [8.0, 3.0])
    True
    """
    expr, variables = _check(expr, variables)
    return _numpy_callable(list(sym_gradient(expr, variables)), variables, "gradient")
