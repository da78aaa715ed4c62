"""Widget factories: one module per chapter, each returning a LiveFigure."""

from nablakit.widgets._base import LiveFigure, live_figure, new_figure

__all__ = ["LiveFigure", "live_figure", "new_figure"]
