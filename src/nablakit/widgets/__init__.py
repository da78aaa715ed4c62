"""Live figures and static figures of the course: one module per chapter; they only draw.

Each chapter notebook imports its figures from one module here:

===========================================  ============================
Chapter                                      Module
===========================================  ============================
00-welcome                                   :mod:`.welcome`
01-partial-derivatives                       :mod:`.partials`
02-gradient-vector                           :mod:`.gradient`
03-chain-rule                                :mod:`.backprop`
04-directional-derivatives                   :mod:`.directional`
05-level-sets                                :mod:`.level_sets`
06-gradients-in-ml                           :mod:`.ml`
07-finite-differences, 08-gradient-checking  :mod:`.finite_diff`
09-loss-landscapes                           :mod:`.landscapes`
10-training-time                             :mod:`.training`
===========================================  ============================

:mod:`._base` holds the shared mechanism and helpers: :func:`new_figure`
(a screen figure, not shown yet), :func:`~._base.slider` (a labelled slider
that follows the hand), :func:`live_figure` and its :class:`~._base.Blitter`
(sliders wired to a callback that redraws only the ``moving=`` artists,
sent as quickly encoded frames that are safe to lose, :mod:`._frames`),
:func:`~._base.decade_ticks` (log axes without minor ticks) and
:func:`~._base.static_figure` (a figure drawn once). A chapter module imports
no other chapter's module, only ``_base`` (and ``_frames``); the numbers it draws come from the
computing modules of :mod:`nablakit` (tests/test_package_layout.py checks both).
"""

from nablakit.widgets._base import LiveFigure, live_figure, new_figure

__all__ = ["LiveFigure", "live_figure", "new_figure"]
