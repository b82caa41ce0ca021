"""Charts of recorded runs (matplotlib), in the Train view's classroom-readable style: text
sized from the window's font (so it follows the zoom), thick lines when presenting.

`RunCurves`: the loss and accuracy of the selected runs per epoch, overlaid: one colour per
run, training solid with circles, validation dashed with squares, one legend naming the runs.
`SettingChart`: any setting (or the training-set size, the parameter count) against any
final metric, one point per run; the learning rate on a log axis.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import (QApplication, QComboBox, QHBoxLayout, QLabel, QSizePolicy,
                               QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.run_store import RunRecord
from cnnviz.ui.common.zoom import line_width, scaled, watch_zoom

FIGURE_DPI = 100
POINTS_PER_PIXEL = 72 / FIGURE_DPI
# Okabe–Ito (safe for colour-blind eyes; its yellow left out: unreadable on white), then a
# few of tab10's darker colours.
RUN_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
               "#8c564b", "#7f7f7f", "#9467bd", "#bcbd22", "#17becf")
MAX_CURVES = len(RUN_COLOURS)   # more selected runs than colours: the newest ones are drawn
TRAIN_STYLE, VAL_STYLE = "-", "--"
TRAIN_MARKER, VAL_MARKER = "o", "s"
METRICS = (("val_accuracy", "validation accuracy"), ("test_accuracy", "test accuracy"),
           ("accuracy", "training accuracy"), ("val_loss", "validation loss"),
           ("test_loss", "test loss"), ("loss", "training loss"))
# Besides the settings: what the run was trained with, as settings are.
RUN_FACTS = (("train_count", "training-set size"), ("param_count", "parameters"),
             ("epochs_done", "epochs trained"))
LOG_SETTINGS = ("learning_rate",)


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def run_label(record: RunRecord) -> str:
    name = record.name if len(record.name) <= 24 else record.name[:23] + "…"
    return f"#{record.id} {name}"


def _font_points() -> float:
    return float(QFontInfo(QApplication.font()).pixelSize()) * POINTS_PER_PIXEL


class _Chart(QWidget):
    """A matplotlib canvas restyled when the zoom changes; `draw()` redraws everything."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 3), dpi=FIGURE_DPI, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.canvas, 1)
        self._stale = True
        watch_zoom(self._zoom_changed)

    def _zoom_changed(self) -> None:
        self.canvas.setMinimumHeight(scaled(170))
        self.draw()

    def draw(self) -> None:
        """Redraw now if on show; a hidden chart is redrawn when it is next shown."""
        if self.isVisible():
            self._stale = False
            self._draw()
        else:
            self._stale = True

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.draw()

    def _draw(self) -> None:
        raise NotImplementedError

    def _style_axes(self, axes: Any, title: str, xlabel: str, ylabel: str = "") -> None:
        points = _font_points()
        axes.set_title(title, fontweight="bold", fontsize=points * 1.3)
        axes.set_xlabel(xlabel, fontsize=points * 1.1)
        if ylabel:
            axes.set_ylabel(ylabel, fontsize=points * 1.1)
        axes.tick_params(labelsize=points * 1.05, width=line_width(1.0),
                         length=scaled(5) * POINTS_PER_PIXEL)
        for spine in axes.spines.values():
            spine.set_linewidth(line_width(1.0) * POINTS_PER_PIXEL)
        axes.grid(True, alpha=0.3)

    def _hint(self, axes: Any, text: str) -> None:
        axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center",
                  color="#666666", fontsize=_font_points() * 1.1, wrap=True)

    def save_image(self, path: str | Path) -> None:
        """Save the chart as PNG or SVG (by the file's extension)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            raise CnnvizError("Charts can be saved as .png or .svg files.")
        from cnnviz.core.atomic_save import save_file_atomically

        self._draw()
        fmt = path.suffix.lower().lstrip(".")
        save_file_atomically(path, lambda target: self.figure.savefig(target, format=fmt, dpi=150))


class RunCurves(_Chart):
    """Loss and accuracy per epoch of several runs, overlaid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.lines: dict[tuple[int, str], Any] = {}   # (run id, "val_loss" ...) → Line2D
        self.legend: Any = None
        self._zoom_changed()

    def show_runs(self, records: list[RunRecord]) -> None:
        """Draw these runs (each with its history)."""
        records = list(records)[:MAX_CURVES]
        if not records and not self.records and not self._stale:
            return     # still nothing selected: the hint is drawn already
        self.records = records
        self.draw()

    def legend_texts(self) -> list[str]:
        return [t.get_text() for t in self.legend.get_texts()] if self.legend is not None else []

    def _draw(self) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        self.figure.clear()
        self.lines = {}
        loss_axes, accuracy_axes = self.figure.subplots(1, 2)
        points = _font_points()
        width = line_width(2.0) * POINTS_PER_PIXEL
        marker = scaled(6) * POINTS_PER_PIXEL
        handles: list[Any] = []
        labels: list[str] = []
        for index, record in enumerate(self.records):
            colour = run_colour(index)
            epochs = list(range(1, len(record.history) + 1))
            for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
                for prefix, style, mark in (("", TRAIN_STYLE, TRAIN_MARKER),
                                            ("val_", VAL_STYLE, VAL_MARKER)):
                    values = [float(row.get(prefix + key, math.nan)) for row in record.history]
                    if not any(math.isfinite(v) for v in values):
                        continue
                    line, = axes.plot(epochs, values, linestyle=style, marker=mark, color=colour,
                                      linewidth=width, markersize=marker)
                    self.lines[(record.id, prefix + key)] = line
            handles.append(Line2D([], [], color=colour, linewidth=width * 1.5))
            labels.append(run_label(record))
        if self.records:
            grey = "#555555"
            # The line styles first: the legend fills column by column.
            handles[:0] = [Line2D([], [], color=grey, linestyle=TRAIN_STYLE, marker=TRAIN_MARKER,
                               linewidth=width, markersize=marker),
                        Line2D([], [], color=grey, linestyle=VAL_STYLE, marker=VAL_MARKER,
                               linewidth=width, markersize=marker)]
            labels[:0] = ["training", "validation"]
        self._style_axes(loss_axes, "Loss", "epoch")
        self._style_axes(accuracy_axes, "Accuracy", "epoch")
        for axes in (loss_axes, accuracy_axes):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if any(key.endswith("accuracy") for _, key in self.lines):
            accuracy_axes.set_ylim(-0.02, 1.02)
        if not self.records:
            self._hint(loss_axes, "Select runs in the table\nto compare their curves")
        elif not self.lines:
            self._hint(loss_axes, "These runs recorded no epochs")
        self.legend = None
        if handles:
            columns = max(1, min(len(handles), self._legend_columns(labels)))
            self.legend = self.figure.legend(handles, labels, loc="outside upper center",
                                             ncols=columns, fontsize=points, frameon=False,
                                             handlelength=2.4, columnspacing=1.2)
        self.canvas.draw_idle()

    def _legend_columns(self, labels: list[str]) -> int:
        from PySide6.QtGui import QFontMetrics

        metrics = QFontMetrics(QApplication.font())
        widest = max(metrics.horizontalAdvance(label) for label in labels) + 4 * scaled(12)
        return max(1, (self.canvas.width() - 8) // max(1, widest))


class SettingChart(_Chart):
    """One setting against one final metric, a point per run (the selected ones ringed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setting_combo = QComboBox()
        self.setting_combo.setToolTip("What the runs differ in (across)")
        self.metric_combo = QComboBox()
        for key, label in METRICS:
            self.metric_combo.addItem(label, key)
        self.metric_combo.setToolTip("What they reached (up)")
        row = QHBoxLayout()
        row.addWidget(QLabel("Across:"))
        row.addWidget(self.setting_combo, 1)
        row.addSpacing(scaled(12))
        row.addWidget(QLabel("Up:"))
        row.addWidget(self.metric_combo, 1)
        self.layout_.insertLayout(0, row)
        self.records: list[RunRecord] = []
        self.selected: set[int] = set()
        self.points: list[tuple[Any, float]] = []   # (x, y) per run drawn
        self.setting_combo.currentIndexChanged.connect(self.draw)
        self.metric_combo.currentIndexChanged.connect(self.draw)
        self._zoom_changed()

    def set_runs(self, records: list[RunRecord], selected: set[int]) -> None:
        """All the runs shown in the table, and which are selected."""
        self.records, self.selected = list(records), set(selected)
        keep = self.setting_combo.currentData()
        names: dict[str, None] = {}
        for record in self.records:
            for name in record.settings:
                names.setdefault(name, None)
        wanted = [(f"setting:{n}", n.replace("_", " ")) for n in names]
        wanted += [(f"fact:{k}", label) for k, label in RUN_FACTS]
        current = [(self.setting_combo.itemData(i), self.setting_combo.itemText(i))
                   for i in range(self.setting_combo.count())]
        if wanted != current:
            self.setting_combo.blockSignals(True)
            self.setting_combo.clear()
            for key, label in wanted:
                self.setting_combo.addItem(label, key)
            index = self.setting_combo.findData(keep if keep else "setting:learning_rate")
            self.setting_combo.setCurrentIndex(max(0, index))
            self.setting_combo.blockSignals(False)
        self.draw()

    def x_of(self, record: RunRecord) -> Any:
        key = str(self.setting_combo.currentData() or "")
        if key.startswith("setting:"):
            return record.settings.get(key[len("setting:"):])
        if key.startswith("fact:"):
            return getattr(record, key[len("fact:"):], None)
        return None

    def _draw(self) -> None:
        self.figure.clear()
        axes = self.figure.subplots(1, 1)
        metric = str(self.metric_combo.currentData() or "val_accuracy")
        xs: list[Any] = []
        ys: list[float] = []
        chosen: list[bool] = []
        for record in self.records:
            x, y = self.x_of(record), record.final.get(metric)
            if x is None or not isinstance(y, (int, float)) or not math.isfinite(y):
                continue
            xs.append(x)
            ys.append(float(y))
            chosen.append(record.id in self.selected)
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        if numeric:
            positions = [float(x) for x in xs]
        else:
            categories = sorted({str(x) for x in xs})
            positions = [float(categories.index(str(x))) for x in xs]
            axes.set_xticks(range(len(categories)), categories)
        self.points = list(zip(xs, ys))
        setting_key = str(self.setting_combo.currentData() or "")
        log = numeric and setting_key in {f"setting:{n}" for n in LOG_SETTINGS} \
            and positions and min(positions) > 0
        size = (scaled(9) * POINTS_PER_PIXEL) ** 2
        if positions:
            axes.scatter(positions, ys, s=size, color=run_colour(0), alpha=0.75, zorder=3,
                         edgecolors="white", linewidths=line_width(1.0) * POINTS_PER_PIXEL)
            ringed = [(p, y) for p, y, c in zip(positions, ys, chosen) if c]
            if ringed:
                axes.scatter([p for p, _ in ringed], [y for _, y in ringed], s=size * 2.6,
                             facecolors="none", edgecolors=run_colour(1), zorder=4,
                             linewidths=line_width(2.0) * POINTS_PER_PIXEL)
        if log:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            axes.set_xscale("log")
            distinct = sorted(set(positions))
            if len(distinct) <= 8:     # the values tried, written as they were typed
                axes.set_xticks(distinct)
            axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
            axes.xaxis.set_minor_formatter(NullFormatter())
        self.log_x = bool(log)
        label = self.setting_combo.currentText() or "setting"
        metric_label = self.metric_combo.currentText()
        self._style_axes(axes, f"{metric_label[:1].upper() + metric_label[1:]} against {label}",
                         label + (" (log scale)" if log else ""), metric_label)
        if metric.endswith("accuracy") and positions:
            from matplotlib.ticker import PercentFormatter

            axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        if not positions:
            self._hint(axes, "No run has both of these yet")
        self.canvas.draw_idle()
