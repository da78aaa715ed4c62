"""Small drawing helpers shared by the chapters and widgets.

They only draw: each takes an existing ``Axes``, adds artists and returns
them, so a live figure can keep the handles and later update them in place
(``set_UVC`` for a quiver, ``set_data`` for a trajectory, ...). Colours come
from the colour-blind-safe Okabe-Ito palette, surfaces from the perceptually
uniform ``viridis`` colour map.
"""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.axes import Axes

from nablakit._validate import as_float_array, check_positive

#: Okabe & Ito (2008) colours, distinguishable with the common colour-vision deficiencies.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: An order for several lines on one plot (yellow last: it is pale on white).
CYCLE = tuple(
    PALETTE[k]
    for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow")
)

#: Colour map for surfaces and contours.
CMAP = "viridis"


def _check_ax(ax):
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()); got {type(ax).__name__}")


def _check_text(value, name):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {type(value).__name__}")
    return value


def _numeric(x, name):
    """Float array that may contain NaN/inf (unlike ``as_float_array``)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array; got {type(x).__name__}")
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(x).__name__}: {exc}") from None


def contour_plot(ax, X, Y, Z, levels=20, *, filled=False, log=False, cmap=CMAP):
    """Draw contour lines (level sets) of a surface sampled on a grid.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    X, Y, Z : array_like of shape (ny, nx)
        The grid and the values, e.g. from :func:`nablakit.landscape.grid_eval`.
        ``Z`` may contain NaN/inf; those cells are left blank.
    levels : int or array_like, default 20
        Number of levels, or the increasing level values themselves.
    filled : bool, default False
        Filled bands (``contourf``) instead of lines.
    log : bool, default False
        Space an integer number of levels geometrically between the smallest
        positive and the largest value: useful for valleys such as
        Rosenbrock's, where ``f`` spans many orders of magnitude.
    cmap : str, default "viridis"
        Colour map.

    Returns
    -------
    matplotlib.contour.QuadContourSet
        The contour set (pass it to ``fig.colorbar`` or ``ax.clabel``).

    Raises
    ------
    TypeError
        If ``ax`` is not an Axes or an array is not numeric.
    ValueError
        If shapes differ, ``Z`` has no finite value, ``levels`` is invalid,
        or ``log=True`` but ``Z`` has no positive value.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from nablakit.landscape import grid_eval
    >>> ax = Figure().add_subplot()
    >>> X, Y, Z = grid_eval(lambda th: th[0] ** 2 + th[1] ** 2, (-2, 2), (-2, 2), n=41)
    >>> cs = contour_plot(ax, X, Y, Z, levels=[1, 2, 3])
    >>> type(cs).__name__, cs.levels.tolist()
    ('QuadContourSet', [1.0, 2.0, 3.0])
    """
    _check_ax(ax)
    Z = _numeric(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"Z must be a 2-D grid of values; got shape {Z.shape}")
    X = as_float_array(X, "X", shape=Z.shape)
    Y = as_float_array(Y, "Y", shape=Z.shape)
    Zm = np.ma.masked_invalid(Z)
    if Zm.count() == 0:
        raise ValueError("Z must contain at least one finite value")
    if isinstance(levels, bool):
        raise TypeError("levels must be an int or an array of level values; got bool")
    if isinstance(levels, numbers.Integral):
        if levels < 1:
            raise ValueError(f"levels must be >= 1; got {levels}")
        if log:
            positive = Zm[Zm > 0]
            if positive.count() == 0:
                raise ValueError("log=True needs some positive values in Z")
            lo, hi = float(positive.min()), float(Zm.max())
            levels = np.geomspace(lo, hi, int(levels)) if hi > lo else np.array([lo])
        else:
            levels = int(levels)
    else:
        levels = as_float_array(levels, "levels", ndim=1)
        if np.any(np.diff(levels) <= 0):
            raise ValueError(f"levels must be strictly increasing; got {levels.tolist()}")
    draw = ax.contourf if filled else ax.contour
    return draw(X, Y, Zm, levels=levels, cmap=cmap)


def gradient_quiver(ax, points, vectors, *, color=PALETTE["vermillion"], normalize=False, scale=None):
    """Draw one arrow per point, e.g. the gradient at each point.

    Arrow directions are taken in data coordinates (``angles="xy"``), so an
    arrow that is perpendicular to a level curve also looks perpendicular
    when the axes use equal aspect.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    points : array_like of shape (m, 2)
        Arrow tails, one point per row.
    vectors : array_like of shape (m, 2)
        Arrow vectors (finite), one per row.
    color : color, default Okabe-Ito vermillion
        Arrow colour.
    normalize : bool, default False
        Draw unit vectors (direction only); zero vectors stay zero.
    scale : float, optional
        If given, arrows are drawn in data units with length
        ``|vector| / scale``; by default Matplotlib picks a common scale.

    Returns
    -------
    matplotlib.quiver.Quiver
        Update it in place with ``set_UVC(U, V)`` and ``set_offsets(points)``.

    Raises
    ------
    TypeError
        If ``ax`` is not an Axes or an array is not numeric.
    ValueError
        If ``points``/``vectors`` are not finite arrays of shape ``(m, 2)``,
        or ``scale`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> pts = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> q = gradient_quiver(ax, pts, 2 * pts, normalize=True)
    >>> type(q).__name__, np.allclose(q.U, [1.0, 0.0])
    ('Quiver', True)
    """
    _check_ax(ax)
    points = as_float_array(points, "points", shape=(None, 2))
    vectors = as_float_array(vectors, "vectors", shape=points.shape)
    if normalize:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    kwargs = {"angles": "xy", "color": color}
    if scale is not None:
        kwargs.update(scale_units="xy", scale=check_positive(scale, "scale"))
    return ax.quiver(points[:, 0], points[:, 1], vectors[:, 0], vectors[:, 1], **kwargs)


def plot_trajectory(ax, path, label=None, color=None, *, marker="o", markersize=3):
    """Draw an optimiser's path as a line with a marker at every iterate.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    path : array_like of shape (k, 2)
        Iterates, one per row, e.g. from :mod:`nablakit.optimizers`. NaN rows
        (after divergence) are allowed and simply not drawn.
    label : str, optional
        Legend entry.
    color : color, optional
        Line colour; by default the next colour of the Axes' cycle.
    marker : str, default "o"
        Marker at each iterate, so the step sizes are visible.
    markersize : float, default 3
        Marker size in points.

    Returns
    -------
    matplotlib.lines.Line2D
        Update it in place with ``set_data(path[:, 0], path[:, 1])``.

    Raises
    ------
    TypeError
        If ``ax`` is not an Axes, ``path`` is not numeric, or ``label`` is
        not a string.
    ValueError
        If ``path`` is not of shape ``(k, 2)`` with ``k >= 1``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> line = plot_trajectory(ax, [[1.0, 1.0], [0.5, 0.25], [0.0, 0.0]], label="GD")
    >>> line.get_label(), line.get_xdata().tolist()
    ('GD', [1.0, 0.5, 0.0])
    """
    _check_ax(ax)
    path = _numeric(path, "path")
    if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] == 0:
        raise ValueError(f"path must have shape (k, 2) with k >= 1 (one iterate per row); got {path.shape}")
    kwargs = {"marker": marker, "markersize": markersize}
    if label is not None:
        kwargs["label"] = _check_text(label, "label")
    if color is not None:
        kwargs["color"] = color
    (line,) = ax.plot(path[:, 0], path[:, 1], **kwargs)
    return line


def label_axes(ax, xlabel, ylabel, title):
    """Set both axis labels and the title; every course figure has all three.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes to label.
    xlabel, ylabel, title : str
        Texts (Matplotlib mathtext such as ``r"$\\theta_1$"`` is fine).

    Returns
    -------
    tuple of matplotlib.text.Text
        The x label, y label and title artists.

    Raises
    ------
    TypeError
        If ``ax`` is not an Axes or a text is not a string.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> xl, yl, t = label_axes(ax, "x", "y", "Saddle")
    >>> ax.get_title(), yl.get_text()
    ('Saddle', 'y')
    """
    _check_ax(ax)
    xlabel = _check_text(xlabel, "xlabel")
    ylabel = _check_text(ylabel, "ylabel")
    title = _check_text(title, "title")
    return ax.set_xlabel(xlabel), ax.set_ylabel(ylabel), ax.set_title(title)
