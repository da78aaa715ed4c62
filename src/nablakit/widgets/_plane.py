"""Moved to :mod:`nablakit.plane` (the points are maths, not drawing); kept for the widget modules' imports."""

from nablakit.plane import plane_points, value_like

__all__ = ["plane_points", "value_like"]
