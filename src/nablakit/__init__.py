"""nablakit: the helper package of the gradients course.

Modules by topic:

- ``numdiff``: finite-difference derivatives, gradients, Jacobians, Hessians.
- ``gradcheck``: relative error and gradient checking.
- ``calculus``: directional derivatives, unit vectors, tangent directions.
- ``symbolic``: sympy gradients and Hessians, lambdified for NumPy.
- ``losses``: ML losses and their gradients.
- ``optimizers`` and ``testfunctions``: optimisers returning trajectories and
  the classic 2-D test functions.
- ``landscape``: vectorised evaluation of a function over a 2-D grid.
- ``plotting`` and ``widgets``: figures and live slider widgets (drawing only).
- ``checks`` and ``grading``: exercise self-checks and the nbgrader tools.
"""

__version__ = "0.1.0"
