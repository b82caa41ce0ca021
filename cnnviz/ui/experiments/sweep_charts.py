"""The sweep's charts (matplotlib), in the Experiments view's classroom-readable style: text
sized from the window's font, thick lines when presenting.

`DimensionCharts`: validation accuracy against each dimension, one small chart per
dimension: a bar per value for the mean of its complete trials and a marker for the best.
`ImportanceChart`: Optuna's parameter importances as horizontal bars (a hint until there
are enough complete trials).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.ui.common.zoom import line_width, scaled, watch_zoom
from cnnviz.ui.experiments.run_charts import FIGURE_DPI, POINTS_PER_PIXEL, run_colour

MEAN_COLOUR = run_colour(0)     # the bars: mean of the value's trials
BEST_COLOUR = run_colour(1)     # the markers: best of them
MAX_COLUMNS = 3


def value_text(value: Any) -> str:
    """A dimension's value as a short label (0.001, 3x3, adam)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def _points() -> float:
    return float(QFontInfo(QApplication.font()).pixelSize()) * POINTS_PER_PIXEL


class _SweepChart(QWidget):
    """A matplotlib canvas redrawn when the zoom changes or new data arrives."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 3), dpi=FIGURE_DPI, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        watch_zoom(self._zoom_changed)

    def _zoom_changed(self) -> None:
        self.canvas.setMinimumHeight(scaled(160))
        self.draw()

    def draw(self) -> None:
        raise NotImplementedError

    def _style(self, axes: Any, title: str, xlabel: str = "", ylabel: str = "") -> None:
        points = _points()
        axes.set_title(title, fontweight="bold", fontsize=points * 1.2)
        if xlabel:
            axes.set_xlabel(xlabel, fontsize=points * 1.05)
        if ylabel:
            axes.set_ylabel(ylabel, fontsize=points * 1.05)
        axes.tick_params(labelsize=points, width=line_width(1.0),
                         length=scaled(4) * POINTS_PER_PIXEL)
        for spine in axes.spines.values():
            spine.set_linewidth(line_width(1.0) * POINTS_PER_PIXEL)
        axes.grid(True, axis="y", alpha=0.3)

    def _hint(self, text: str) -> None:
        axes = self.figure.add_subplot(1, 1, 1)
        axes.set_axis_off()
        axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center",
                  color="#555555", fontsize=_points() * 1.1, wrap=True)


class DimensionCharts(_SweepChart):
    """Validation accuracy (mean and best per value) against each dimension."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.by_dimension: dict[str, list[Any]] = {}
        super().__init__(parent)
        self._zoom_changed()

    def set_data(self, by_dimension: dict[str, list[Any]]) -> None:
        """core.experiments.sweep.accuracy_by_dimension's table."""
        self.by_dimension = {name: values for name, values in by_dimension.items() if values}
        self.draw()

    @property
    def chart_titles(self) -> list[str]:
        """The titles of the small charts drawn (one per dimension with results)."""
        return [axes.get_title() for axes in self.figure.axes if axes.get_title()]

    def draw(self) -> None:
        self.figure.clear()
        names = list(self.by_dimension)
        if not names:
            self._hint("The accuracy against each dimension\nappears as trials finish")
            self.canvas.draw_idle()
            return
        columns = min(MAX_COLUMNS, len(names))
        rows = math.ceil(len(names) / columns)
        width = line_width(2.0) * POINTS_PER_PIXEL
        marker = scaled(9) * POINTS_PER_PIXEL
        for index, name in enumerate(names):
            axes = self.figure.add_subplot(rows, columns, index + 1)
            values = self.by_dimension[name]
            if all(isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
                   for v in values):
                values = sorted(values, key=lambda v: v.value)   # numbers left to right
            positions = list(range(len(values)))
            means = [v.mean_accuracy for v in values]
            bests = [v.best_accuracy for v in values]
            axes.bar(positions, means, color=MEAN_COLOUR, alpha=0.75, width=0.6,
                     label="mean")
            axes.plot(positions, bests, linestyle="none", marker="D", color=BEST_COLOUR,
                      markersize=marker, markeredgewidth=width, label="best")
            axes.set_xticks(positions, [value_text(v.value) for v in values])
            axes.set_ylim(0, 1.05)
            axes.set_yticks([0, 0.5, 1])
            self._style(axes, name)
            if index == 0:
                handles, labels = axes.get_legend_handles_labels()
        self.figure.supylabel("validation accuracy", fontsize=_points() * 1.05)
        self.figure.legend(handles, [{"best": "best trial", "mean": "mean of the trials"}[label]
                                     for label in labels], loc="outside lower center",
                           ncols=2, fontsize=_points(), frameon=False)
        self.canvas.draw_idle()


class ImportanceChart(_SweepChart):
    """Optuna's parameter importances, most important on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.importances: dict[str, float] | None = None
        self.needed = 0
        super().__init__(parent)
        self._zoom_changed()

    def set_data(self, importances: dict[str, float] | None, needed: int) -> None:
        """The importances, or None with `needed` complete trials still to come."""
        self.importances = importances
        self.needed = needed
        self.draw()

    def draw(self) -> None:
        self.figure.clear()
        if not self.importances:
            self._hint("Optuna's parameter importances appear\nafter "
                       f"{self.needed} complete trials" if self.needed else
                       "There is only one dimension:\nnothing to compare its importance with")
            self.canvas.draw_idle()
            return
        ordered = sorted(self.importances.items(), key=lambda item: item[1])
        axes = self.figure.add_subplot(1, 1, 1)
        positions = list(range(len(ordered)))
        axes.barh(positions, [v for _, v in ordered], color=MEAN_COLOUR, height=0.6)
        axes.set_yticks(positions, [k for k, _ in ordered])
        axes.set_xlim(0, max(1.0, max(v for _, v in ordered)) * 1.05)
        self._style(axes, "Parameter importances (Optuna, fANOVA)", xlabel="share of the "
                    "variation in validation accuracy")
        axes.grid(True, axis="x", alpha=0.3)
        self.canvas.draw_idle()
