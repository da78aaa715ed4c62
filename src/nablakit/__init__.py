"""nablakit: the helper package of the gradients course.

Modules by topic (the README's contributor section has one line for each):

- ``numdiff``, ``gradcheck``, ``fd_error``: finite differences, gradient
  checking, and how accurate and costly finite differences are.
- ``calculus``, ``plane``, ``level_sets``, ``symbolic``: directions,
  directional derivatives, level sets, sympy references.
- ``losses``, ``regression``, ``networks``, ``mlp_training``: ML losses, the
  regression problem of the ML chapter, the small MLP and its training record.
- ``optimizers``, ``convergence``, ``testfunctions``, ``landscape``,
  ``depth``: optimisers as trajectories, settling times, 2-D test functions,
  grids and slices of a loss, curvature and depth.
- ``clipping``, ``accumulation``, ``checkpointing``, ``precision``,
  ``natural_gradient``: gradients at training time (``training`` gathers
  them under one name for the chapters).
- ``plotting`` and ``widgets``: figures and live slider widgets (drawing only).
- ``selfcheck``, ``checks`` and ``grading``: the chapters' self-checks, the
  exercises' checks and the nbgrader tools.
- ``_validate``: the argument checks every public function uses.
"""

__version__ = "0.1.0"
