"""Curvature and depth: what the Hessian and long chains of layers do to gradients.

Pure NumPy helpers for chapter 09:

- :func:`classify_critical_point` reads a Hessian's eigenvalues;
  :func:`max_stable_lr` and :func:`gd_contraction` give gradient descent's
  stability limit ``2 / lambda_max`` and per-direction contraction on a quadratic;
  :func:`best_step_size` and :func:`newton_step` give the second-order view of one step.
- :func:`quadratic_gradient_flow` solves the gradient-flow ODE
  ``d theta / dt = -A theta`` exactly, to compare with gradient descent.
- :func:`sigmoid_chain` and :func:`recurrence_grad_norms` show gradients
  vanishing or exploding with depth; :func:`scaled_rotation` builds a
  recurrent matrix with a chosen spectral norm; :func:`depth_curves` puts
  both side by side, layer by layer, for the chapter's depth slider.

Long on purpose: all of chapter 09's second-order and depth maths, which
share the quadratic and chain models; most lines are docstrings with examples.
"""

from __future__ import annotations

import numpy as np

from nablakit._validate import as_float, as_float_array, check_count, check_positive
from nablakit.losses import sigmoid

CRITICAL_POINT_TYPES = ("minimum", "maximum", "saddle", "degenerate")


def _square_symmetric(H, name="H"):
    H = as_float_array(H, name, ndim=2)
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {H.shape}")
    if not np.allclose(H, H.T, rtol=1e-8, atol=1e-10):
        raise ValueError(f"{name} must be symmetric (a Hessian of a smooth function is)")
    return (H + H.T) / 2


def classify_critical_point(H, tol=1e-8):
    """Classify a critical point from the eigenvalues of its Hessian.

    All eigenvalues > ``tol``: a local **minimum**; all < ``-tol``: a local
    **maximum**; some of each sign: a **saddle**. If none is negative or
    none is positive but some are within ``tol`` of zero, the second-order
    test cannot decide: **degenerate** (higher derivatives matter).

    Parameters
    ----------
    H : array_like of shape (n, n)
        The symmetric Hessian at a point where the gradient vanishes.
    tol : float, default 1e-8
        Eigenvalues with ``|lambda| <= tol`` count as zero.

    Returns
    -------
    str
        One of ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"degenerate"``.

    Raises
    ------
    ValueError
        If ``H`` is not square and symmetric, or ``tol`` is not positive.

    Examples
    --------
    >>> classify_critical_point([[2.0, 0.0], [0.0, -2.0]])   # theta1^2 - theta2^2 at 0
    'saddle'
    >>> classify_critical_point([[2.0, 0.0], [0.0, 0.0]])    # theta1^2 + theta2^4 at 0
    'degenerate'
    """
    H = _square_symmetric(H)
    tol = check_positive(tol, "tol")
    eig = np.linalg.eigvalsh(H)
    if np.any(eig > tol) and np.any(eig < -tol):
        return "saddle"
    if np.all(eig > tol):
        return "minimum"
    if np.all(eig < -tol):
        return "maximum"
    return "degenerate"


def max_stable_lr(H):
    """Largest learning rate for which gradient descent on a convex quadratic does not diverge.

    On ``L = 1/2 theta^T H theta`` gradient descent multiplies the component
    along an eigenvector by ``1 - lr * lambda``; all factors stay below 1 in
    size exactly when ``lr < 2 / lambda_max``.

    Parameters
    ----------
    H : array_like of shape (n, n)
        Symmetric Hessian with a positive largest eigenvalue.

    Returns
    -------
    float
        ``2 / lambda_max(H)``.

    Raises
    ------
    ValueError
        If ``H`` is not symmetric or has no positive eigenvalue.

    Examples
    --------
    >>> max_stable_lr([[2.0, 0.0], [0.0, 200.0]])   # w1^2 + 100 w2^2
    0.01
    """
    H = _square_symmetric(H)
    top = float(np.linalg.eigvalsh(H).max())
    if top <= 0:
        raise ValueError(f"H must have a positive eigenvalue for a stability limit; its largest is {top}")
    return 2.0 / top


def gd_contraction(H, lr):
    """Per-eigendirection factors ``|1 - lr * lambda_i|`` of gradient descent on a quadratic.

    Parameters
    ----------
    H : array_like of shape (n, n)
        Symmetric Hessian.
    lr : float
        Learning rate, > 0.

    Returns
    -------
    eigenvalues : ndarray of shape (n,)
        Ascending.
    factors : ndarray of shape (n,)
        How much one step shrinks (< 1) or grows (> 1) each component.

    Raises
    ------
    ValueError
        If ``H`` is not symmetric or ``lr`` is not positive.

    Examples
    --------
    >>> lam, fac = gd_contraction([[2.0, 0.0], [0.0, 20.0]], 0.09)
    >>> np.allclose(fac, [0.82, 0.8])
    True
    """
    H = _square_symmetric(H)
    lr = check_positive(lr, "lr")
    lam = np.linalg.eigvalsh(H)
    return lam, np.abs(1.0 - lr * lam)


def quadratic_gradient_flow(A, theta0, times):
    """Exact solution of gradient flow ``d theta/dt = -A theta`` for ``L = 1/2 theta^T A theta``.

    ``theta(t) = V exp(-Lambda t) V^T theta0`` with ``A = V Lambda V^T``.
    Gradient descent with learning rate ``lr`` is Euler's method for this ODE
    with time step ``lr``: after ``k`` steps it approximates ``theta(k lr)``.

    Parameters
    ----------
    A : array_like of shape (n, n)
        Symmetric matrix (the Hessian).
    theta0 : array_like of shape (n,)
        Start.
    times : array_like of shape (k,)
        Times ``t >= 0``.

    Returns
    -------
    ndarray of shape (k, n)
        ``theta(t)`` for each time.

    Raises
    ------
    ValueError
        If shapes do not fit, ``A`` is not symmetric, or a time is negative.

    Examples
    --------
    >>> path = quadratic_gradient_flow([[2.0, 0.0], [0.0, 10.0]], [1.0, 1.0], [0.0, 0.5])
    >>> np.allclose(path[1], [np.exp(-1.0), np.exp(-5.0)])
    True
    """
    A = _square_symmetric(A, "A")
    theta0 = as_float_array(theta0, "theta0", shape=(A.shape[0],))
    times = as_float_array(times, "times", ndim=1)
    if np.any(times < 0):
        raise ValueError("times must be >= 0")
    lam, V = np.linalg.eigh(A)
    coeffs = V.T @ theta0
    with np.errstate(over="ignore"):
        return (np.exp(-np.outer(times, lam)) * coeffs) @ V.T


def sigmoid_chain(depth, weight=1.0, bias=0.0, x0=0.0):
    """A chain of scalar sigmoid layers ``a_k = sigmoid(weight * a_{k-1} + bias)`` and its gradients.

    By the chain rule ``d a_L / d a_k = prod_{j=k+1..L} weight * sigmoid'(z_j)``.
    Since ``sigmoid' <= 1/4``, this is at most ``(|weight| / 4) ** (L - k)``:
    with ``|weight| <= 4`` the gradient reaching the first layers vanishes
    geometrically.

    Parameters
    ----------
    depth : int
        Number of layers ``L >= 0``.
    weight, bias : float
        The same weight and bias in every layer.
    x0 : float
        Input ``a_0``.

    Returns
    -------
    activations : ndarray of shape (L + 1,)
        ``a_0 .. a_L``.
    grads : ndarray of shape (L + 1,)
        ``grads[k] = d a_L / d a_k``; ``grads[L] = 1``.

    Raises
    ------
    TypeError
        If ``depth`` is not an integer.
    ValueError
        If ``depth`` is negative or a number is not finite.

    Examples
    --------
    >>> a, g = sigmoid_chain(1)
    >>> a.tolist(), g.tolist()     # sigmoid(0) = 0.5, sigmoid'(0) = 0.25
    ([0.0, 0.5], [0.25, 1.0])
    >>> bool(np.all(sigmoid_chain(10)[1] <= 0.25 ** np.arange(10, -1, -1)))
    True
    """
    depth = check_count(depth, "depth")
    weight, bias = as_float(weight, "weight"), as_float(bias, "bias")
    a = np.empty(depth + 1)
    a[0] = as_float(x0, "x0")
    local = np.empty(depth)  # d a_k / d a_{k-1}
    for k in range(1, depth + 1):
        z = weight * a[k - 1] + bias
        s = float(sigmoid(z))
        a[k] = s
        local[k - 1] = weight * s * (1.0 - s)
    grads = np.ones(depth + 1)
    for k in range(depth - 1, -1, -1):
        grads[k] = grads[k + 1] * local[k]
    return a, grads


def scaled_rotation(rho, angle=0.5):
    """The 2x2 matrix ``rho * R(angle)``: a rotation scaled to spectral norm ``rho``.

    It is normal, so every power has ``||W^k||_2 = rho^k`` exactly, which
    makes it a clean recurrent matrix for vanishing/exploding demos.

    Parameters
    ----------
    rho : float
        Spectral norm, > 0.
    angle : float, default 0.5
        Rotation angle in radians.

    Returns
    -------
    ndarray of shape (2, 2)

    Raises
    ------
    ValueError
        If ``rho`` is not positive.

    Examples
    --------
    >>> np.allclose(np.linalg.norm(scaled_rotation(1.1), 2), 1.1)
    True
    """
    rho = check_positive(rho, "rho")
    angle = as_float(angle, "angle")
    c, s = np.cos(angle), np.sin(angle)
    return rho * np.array([[c, -s], [s, c]])


def recurrence_grad_norms(W, T):
    """Norms ``||d h_T / d h_t||_2`` for the linear recurrence ``h_{t+1} = W h_t``.

    The Jacobian from step ``t`` to step ``T`` is ``W^(T - t)``, so the
    gradient reaching step ``t`` is scaled by at most ``||W||_2^(T - t)``.
    The spectral norm only bounds the growth: whether the norms explode or
    vanish in the long run is decided by the spectral radius (the largest
    ``|eigenvalue|``). The shear ``[[0.5, 3], [0, 0.5]]`` has spectral norm
    3.08, yet ``||W^50||_2`` is 2.7e-13, because both eigenvalues are 0.5.

    Parameters
    ----------
    W : array_like of shape (n, n)
        Recurrent matrix.
    T : int
        Number of steps, >= 0.

    Returns
    -------
    ndarray of shape (T + 1,)
        Entry ``t`` is the spectral norm of ``W^(T - t)`` (entry ``T`` is 1).

    Raises
    ------
    TypeError
        If ``T`` is not an integer.
    ValueError
        If ``W`` is not square or ``T`` is negative.

    Examples
    --------
    >>> norms = recurrence_grad_norms(scaled_rotation(0.9), 3)
    >>> np.allclose(norms, [0.729, 0.81, 0.9, 1.0])
    True
    >>> shear = np.array([[0.5, 3.0], [0.0, 0.5]])
    >>> print(f"{recurrence_grad_norms(shear, 50)[0]:.1e}")
    2.7e-13
    """
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix; got shape {W.shape}")
    T = check_count(T, "T")
    norms = np.empty(T + 1)
    J = np.eye(W.shape[0])
    norms[T] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T - 1, -1, -1):
            J = J @ W
            norms[t] = np.linalg.norm(J, 2) if np.all(np.isfinite(J)) else np.inf
    return norms


def diagonal_quadratic_runs(curvatures, theta0, lr, steps, beta=0.0):
    """Gradient descent or heavy-ball momentum on ``L = 1/2 sum_i lambda_i theta_i^2``, many runs at once.

    The update is that of :func:`nablakit.optimizers.momentum` (``beta = 0``
    gives :func:`nablakit.optimizers.gradient_descent`)::

        v <- beta v + lambda * theta;   theta <- theta - lr v

    but every run (a row of ``curvatures`` with its own ``lr``) advances in
    the same NumPy operation, so hundreds of runs of thousands of steps cost
    milliseconds. As in :mod:`nablakit.optimizers`, an iterate that is not
    finite or exceeds ``1e12`` in size turns that run's remaining rows into NaN.

    Parameters
    ----------
    curvatures : array_like of shape (..., n)
        Hessian eigenvalues ``lambda_i`` of each run (e.g. ``(2, 2 kappa)``
        for ``w1^2 + kappa w2^2``).
    theta0 : array_like of shape (n,) or (..., n)
        Start(s).
    lr : float or array_like of shape (...)
        Learning rate of each run, > 0.
    steps : int
        Number of updates, >= 0.
    beta : float or array_like of shape (...), default 0.0
        Momentum coefficient of each run, in ``[0, 1)``; ``0`` is plain
        gradient descent, so one call can run both side by side.

    Returns
    -------
    ndarray of shape (..., steps + 1, n)
        The paths; row 0 is ``theta0``.

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        On non-positive learning rates, ``beta`` outside ``[0, 1)`` or a negative ``steps``.

    Examples
    --------
    >>> paths = diagonal_quadratic_runs([[2.0, 20.0], [2.0, 200.0]], [1.0, 1.0], [0.05, 0.005], 3)
    >>> paths.shape
    (2, 4, 2)
    >>> np.allclose(paths[0, 1], [1 - 0.05 * 2, 1 - 0.05 * 20])
    True
    >>> both = diagonal_quadratic_runs([[2.0, 20.0]] * 2, [1.0, 1.0], 0.05, 2, beta=[0.0, 0.9])
    >>> np.allclose(both[0], paths[0, :3]), bool(both[1, 2, 0] < both[0, 2, 0])
    (True, True)
    """
    lam = as_float_array(curvatures, "curvatures", ndim=(1, 2, 3))
    theta = np.broadcast_to(as_float_array(theta0, "theta0"), lam.shape).astype(float)
    lr = np.asarray(as_float_array(lr, "lr", allow_empty=False), dtype=float)
    if np.any(lr <= 0):
        raise ValueError("lr must be > 0 for every run")
    lr = np.broadcast_to(lr, lam.shape[:-1])[..., None]
    steps = check_count(steps, "steps")
    beta = as_float_array(beta, "beta")
    if np.any((beta < 0) | (beta >= 1)):
        raise ValueError(f"beta must satisfy 0 <= beta < 1 for every run; got {beta}")
    beta = np.broadcast_to(beta, lam.shape[:-1])[..., None]
    paths = np.full(lam.shape[:-1] + (steps + 1, lam.shape[-1]), np.nan)
    paths[..., 0, :] = theta
    v = np.zeros_like(theta)
    alive = np.ones(lam.shape[:-1], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            v = beta * v + lam * theta
            theta = theta - lr * v
            alive &= np.all(np.isfinite(theta) & (np.abs(theta) <= 1e12), axis=-1)
            paths[..., t, :] = np.where(alive[..., None], theta, np.nan)
    return paths


def _gradient_and_hessian(g, H):
    H = _square_symmetric(H)
    g = as_float_array(g, "g", ndim=1)
    if g.shape[0] != H.shape[0]:
        raise ValueError(f"g has {g.shape[0]} entries but H is {H.shape[0]} x {H.shape[0]}")
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(H)):
        raise ValueError("g and H must be finite")
    return g, H


def best_step_size(g, H):
    """Step size that minimises the second-order model of one gradient step.

    Along the step ``theta - eps * g`` the second-order Taylor expansion is
    ``L - eps * g^T g + eps**2 / 2 * g^T H g``; for ``g^T H g > 0`` it is
    smallest at ``eps* = g^T g / g^T H g``. On a quadratic the model is exact.
    Since ``g^T H g <= lambda_max g^T g``, ``eps* >= 1 / lambda_max``, and the
    step lowers the loss exactly for ``0 < eps < 2 eps*``.

    Parameters
    ----------
    g : array_like of shape (n,)
        Gradient at the current point, not all zero.
    H : array_like of shape (n, n)
        Symmetric Hessian at the current point.

    Returns
    -------
    float
        ``g^T g / g^T H g``.

    Raises
    ------
    ValueError
        If the shapes do not match, ``H`` is not symmetric, or the curvature
        ``g^T H g`` along ``g`` is not positive (the model has no minimum).

    Examples
    --------
    >>> best_step_size([-4.0, 20.0], [[2.0, 0.0], [0.0, 20.0]])   # 416 / 8032
    0.05179282868525896
    >>> best_step_size([1.0, 0.0], [[2.0, 0.0], [0.0, 20.0]])     # along an eigenvector: 1 / lambda
    0.5
    """
    g, H = _gradient_and_hessian(g, H)
    curvature = float(g @ H @ g)
    if curvature <= 0:
        raise ValueError(f"the curvature g^T H g along the gradient must be positive; it is {curvature:.3g}")
    return float(g @ g) / curvature


def newton_step(g, H):
    """The Newton step ``d`` with ``H d = g``, so that ``theta - d`` minimises the quadratic model.

    Parameters
    ----------
    g : array_like of shape (n,)
        Gradient at the current point.
    H : array_like of shape (n, n)
        Symmetric, invertible Hessian at the current point. For a saddle
        (eigenvalues of both signs) the step leads *to* the critical point,
        not downhill.

    Returns
    -------
    ndarray of shape (n,)
        ``H^{-1} g``, computed by solving the linear system (never by
        forming the inverse).

    Raises
    ------
    ValueError
        If the shapes do not match, ``H`` is not symmetric or is singular.

    Examples
    --------
    >>> theta = np.array([-2.0, 1.0])
    >>> H = np.diag([2.0, 20.0])                # w1^2 + 10 w2^2, gradient H theta
    >>> theta - newton_step(H @ theta, H)        # one step lands on the minimum
    array([0., 0.])
    """
    g, H = _gradient_and_hessian(g, H)
    try:
        return np.linalg.solve(H, g)
    except np.linalg.LinAlgError as err:
        raise ValueError("H is singular: the Newton step is not defined") from err


def depth_curves(depth, rhos=(0.9, 1.1)):
    """Gradient norms reaching each layer of a sigmoid chain and of linear recurrences.

    Parameters
    ----------
    depth : int
        Number of layers / time steps ``L``.
    rhos : sequence of float
        Spectral norms of the recurrent matrices (:func:`scaled_rotation`).

    Returns
    -------
    dict
        ``"layers"`` (0..L), ``"sigmoid"`` (``|d a_L / d a_k|``), ``"bound"``
        (``0.25 ** (L - k)``) and one entry per ``rho`` (``||W^(L-k)||_2``).

    Examples
    --------
    >>> curves = depth_curves(3)
    >>> np.allclose(curves[1.1], [1.331, 1.21, 1.1, 1.0])
    True
    """
    _, grads = sigmoid_chain(depth)
    out = {"layers": np.arange(depth + 1), "sigmoid": np.abs(grads),
           "bound": 0.25 ** (depth - np.arange(depth + 1.0))}
    for rho in rhos:
        out[rho] = recurrence_grad_norms(scaled_rotation(rho), depth)
    return out
