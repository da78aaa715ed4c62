"""When has a run arrived? Settling times of paths and loss curves.

:func:`first_settled` is the common core: the first step from which a
criterion holds to the end (a run that meets it, loses it and meets it again
has settled only the last time). :func:`steps_to_settle` applies it to the
distance of a path from its target.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float_array, check_positive


def steps_to_settle(path, target, tol):
    """First step from which ``path`` stays within ``tol`` of ``target`` to its end.

    A path that only passes through the ball and leaves again (an unstable,
    oscillating run) has not settled.

    Parameters
    ----------
    path : array_like of shape (T + 1, n)
        May contain NaN rows (a run that stopped); such a path never settles.
    target : array_like of shape (n,)
    tol : float
        Euclidean distance, > 0.

    Returns
    -------
    int or None
        None if the last row is not within ``tol``.

    Raises
    ------
    ValueError
        If the shapes do not fit or ``tol`` is not positive.

    Examples
    --------
    >>> steps_to_settle([[0, 0], [0.99, 0], [0.5, 0], [0.99, 0], [1, 0]], [1, 0], 0.05)
    3
    >>> steps_to_settle([[0, 0], [0.99, 0], [0.5, 0]], [1, 0], 0.05) is None
    True
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2:
        raise ValueError(f"path must have shape (T + 1, n); got {path.shape}")
    target = as_float_array(target, "target", shape=(path.shape[1],))
    tol = check_positive(tol, "tol")
    with np.errstate(invalid="ignore"):
        close = np.linalg.norm(path - target, axis=1) <= tol
    return first_settled(close)


def first_settled(ok):
    """First index from which ``ok`` holds up to the end.

    The common core of "when did this run settle": a run that meets a
    criterion, loses it and meets it again has settled only the last time.

    Parameters
    ----------
    ok : array_like of bool, shape (T,)
        Whether the criterion holds at each step (e.g. ``losses < 1e-6``;
        a NaN compared this way gives False).

    Returns
    -------
    int or None
        None if the last entry is False (or ``ok`` is empty).

    Raises
    ------
    ValueError
        If ``ok`` is not 1-D.

    Examples
    --------
    >>> first_settled([False, True, False, True, True])
    3
    >>> first_settled([True, True]), first_settled([True, False]) is None
    (0, True)
    """
    ok = np.asarray(ok, dtype=bool)
    if ok.ndim != 1:
        raise ValueError(f"ok must be 1-D; got shape {ok.shape}")
    if ok.size == 0 or not ok[-1]:
        return None
    failing = np.flatnonzero(~ok)
    return int(failing[-1] + 1) if failing.size else 0
