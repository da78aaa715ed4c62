"""Gradient clipping: rescale a whole gradient, or cut its entries.

:func:`clip_by_global_norm` keeps the direction of the whole gradient (all
parameters scaled by one factor); :func:`clip_by_value` cuts each entry and
can turn it; :func:`nablakit.calculus.angle_between` measures by how much.
*Gradients at training time* and its widgets draw these numbers.
"""

from __future__ import annotations

import math

import numpy as np

from nablakit._validate import as_float_array, check_positive


def _as_grad_list(grads):
    if isinstance(grads, np.ndarray) or np.isscalar(grads):
        raise TypeError("grads must be a list of arrays (one per parameter), not a single array; wrap it as [g]")
    try:
        items = list(grads)
    except TypeError:
        raise TypeError(f"grads must be a list of arrays; got {type(grads).__name__}") from None
    if not items:
        raise ValueError("grads must contain at least one array")
    return [as_float_array(g, f"grads[{i}]", allow_empty=True) for i, g in enumerate(items)]


def global_norm(grads):
    """Return the Euclidean norm of all entries of a list of arrays taken together.

    Parameters
    ----------
    grads : list of array_like
        One gradient array per parameter, any shapes.

    Returns
    -------
    float
        ``sqrt(sum over arrays of sum(g**2))``.

    Raises
    ------
    TypeError
        If ``grads`` is a single array rather than a list.
    ValueError
        If the list is empty or holds non-finite values.

    Examples
    --------
    >>> global_norm([[3.0], [[4.0, 0.0]]])
    5.0
    """
    arrays = _as_grad_list(grads)
    return float(math.sqrt(sum(float(np.sum(g * g)) for g in arrays)))


def clip_by_global_norm(grads, max_norm):
    """Rescale a list of gradients so their joint norm is at most ``max_norm``.

    All arrays are multiplied by the same factor ``min(1, max_norm / total)``,
    so the direction of the whole gradient is kept (as in
    ``torch.nn.utils.clip_grad_norm_``).

    Parameters
    ----------
    grads : list of array_like
        One gradient array per parameter.
    max_norm : float
        The largest allowed global norm, > 0.

    Returns
    -------
    clipped : list of ndarray
        New arrays (the inputs are not modified), same shapes as ``grads``.
    total_norm : float
        The global norm *before* clipping.

    Raises
    ------
    TypeError
        If ``grads`` is a single array or ``max_norm`` is not a number.
    ValueError
        If ``max_norm`` is not positive or a gradient is not finite.

    Examples
    --------
    >>> clipped, total = clip_by_global_norm([np.array([3.0, 0.0]), np.array([4.0])], 1.0)
    >>> total
    5.0
    >>> np.allclose(clipped[0], [0.6, 0.0]) and np.allclose(clipped[1], [0.8])
    True
    """
    arrays = _as_grad_list(grads)
    max_norm = check_positive(max_norm, "max_norm")
    total = global_norm(arrays)
    # An all-zero gradient has no direction: leave it alone (no 0/0).
    scale = 1.0 if total <= max_norm else max_norm / total
    return [g * scale for g in arrays], total


def clip_by_value(g, c):
    """Clip every entry of ``g`` to the interval ``[-c, c]``.

    Unlike norm clipping, this acts on each coordinate separately, so large
    entries are cut while small ones are kept and the vector turns.

    Parameters
    ----------
    g : array_like
        A gradient, any shape.
    c : float
        The clip value, > 0.

    Returns
    -------
    ndarray
        A new array of the same shape.

    Raises
    ------
    ValueError
        If ``c`` is not positive or ``g`` is not finite.

    Examples
    --------
    >>> clip_by_value([10.0, 0.1, -3.0], 1.0)
    array([ 1. ,  0.1, -1. ])
    """
    g = as_float_array(g, "g", allow_empty=True)
    c = check_positive(c, "c")
    return np.clip(g, -c, c)
