"""Gradients at training time, in one namespace for the chapters.

``from nablakit import training as tr`` gives the chapters (and the
exercises' hidden tests) every training-time helper under one short name.
Nothing is defined here; each topic lives in its own module:

- :mod:`nablakit.clipping`: ``global_norm``, ``clip_by_global_norm``,
  ``clip_by_value``; :mod:`nablakit.calculus`: ``angle_between`` (how far
  clipping turns a gradient);
- :mod:`nablakit.accumulation`: ``micro_batch_slices``,
  ``accumulated_mse_gradient``, ``equal_weight_mse_gradient``;
- :mod:`nablakit.checkpointing`: ``checkpoint_table``;
- :mod:`nablakit.precision`: float16 round trips, underflow and loss scaling;
- :mod:`nablakit.natural_gradient`: the Gaussian log-likelihood, Fisher
  information, natural-gradient and GD paths;
- :mod:`nablakit.convergence`: ``steps_to_settle``, ``first_settled``;
- :mod:`nablakit.mlp_training`: ``train_mlp``, ``mlp_loss_stack``.

New code imports from the topic module; this one only gathers them.
"""

from __future__ import annotations

from nablakit.accumulation import accumulated_mse_gradient, equal_weight_mse_gradient, micro_batch_slices
from nablakit.calculus import angle_between
from nablakit.checkpointing import checkpoint_table
from nablakit.clipping import clip_by_global_norm, clip_by_value, global_norm
from nablakit.convergence import first_settled, steps_to_settle
from nablakit.mlp_training import mlp_loss_stack, train_mlp
from nablakit.natural_gradient import (
    gaussian_average_loglik,
    gaussian_fisher,
    gaussian_gd_path,
    gaussian_loglik,
    gaussian_loglik_grad,
    gaussian_natural_gradient,
    gaussian_ngd_path,
)
from nablakit.precision import (
    FLOAT16_MAX,
    FLOAT16_SMALLEST_NORMAL,
    FLOAT16_SMALLEST_SUBNORMAL,
    float16_error_envelope,
    float16_roundtrip,
    overflow_fraction,
    underflow_fraction,
)

__all__ = [
    "FLOAT16_MAX",
    "FLOAT16_SMALLEST_NORMAL",
    "FLOAT16_SMALLEST_SUBNORMAL",
    "accumulated_mse_gradient",
    "angle_between",
    "checkpoint_table",
    "clip_by_global_norm",
    "clip_by_value",
    "equal_weight_mse_gradient",
    "first_settled",
    "float16_error_envelope",
    "float16_roundtrip",
    "gaussian_average_loglik",
    "gaussian_fisher",
    "gaussian_gd_path",
    "gaussian_loglik",
    "gaussian_loglik_grad",
    "gaussian_natural_gradient",
    "gaussian_ngd_path",
    "global_norm",
    "micro_batch_slices",
    "mlp_loss_stack",
    "overflow_fraction",
    "steps_to_settle",
    "train_mlp",
    "underflow_fraction",
]
