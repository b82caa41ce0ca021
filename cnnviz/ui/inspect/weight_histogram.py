"""A layer's weights in numbers: one table row per weight array, and a histogram of one.

`WeightStatsView` lists what `core.inspection.weight_stats` computed (shape, count, min, max,
mean, std) and draws the picked array's `WeightHistogram`: counts per bin, round-number
ticks, and a dashed line at zero, so a student sees at a glance whether the weights are
centred, skewed or all positive. QPainter only; the histogram reads well at ~320×180.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from cnnviz.core.formatting import count_text, dims_text
BAR_FILL = QColor(30, 136, 229)          # the Conv2D blue of layer_style
BAR_EDGE = QColor(21, 101, 192)
ZERO_LINE = QColor(202, 0, 32)           # the "positive" red of value_colors
GRID_LINE = QColor(0, 0, 0, 28)
MUTED_TEXT = QColor(110, 116, 124)
FROZEN_TEXT = QColor(107, 114, 128)
STATS_COLUMNS = ("Weights", "Shape", "Count", "Min", "Max", "Mean", "Std")
ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round numbers (1, 2 or 5 × 10^k apart) inside [low, high], at most about `most`."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(most, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def tick_label(value: float, step: float) -> str:
    """A tick's text with just enough decimals for its spacing: 0.05, -0.1, 2k, 1e-04."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value / 1000:.0f}k" if abs(value) % 1000 == 0 else f"{value:.2g}"
    if 0 < step < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-")
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


def stat_text(value: float) -> str:
    """A statistic with four significant digits: -0.2871, 0.01234, 1.235e-05."""
    return f"{float(value):.4g}"


def read_only_table(columns: tuple[str, ...]) -> QTableWidget:
    """A compact, row-selecting, read-only table with the given column titles."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setHighlightSections(False)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                 | Qt.AlignmentFlag.AlignVCenter)
    return table


def natural_widths(table: QTableWidget, rows: list[tuple[str, ...]]) -> list[int]:
    """Each column's width for its widest text or line (header included), measured once."""
    metrics, header = table.fontMetrics(), table.horizontalHeader().fontMetrics()
    return [max(max((metrics.horizontalAdvance(line) for row in rows
                     for line in row[c].split("\n")), default=0) + 12,
                header.horizontalAdvance(table.horizontalHeaderItem(c).text()) + 16)
            for c in range(table.columnCount())]


def fit_columns(table: QTableWidget, natural: list[int], shrinkable: tuple[int, ...],
                minimum: int = 72, squeeze: bool = False) -> None:
    """Size the visible columns to fill the table's width: spare room is shared out; when
    too narrow, the `shrinkable` columns give up width (their texts elide, tooltips keep
    them whole) before anything needs a horizontal scroll bar; with `squeeze`, every
    column then gives up an equal share, so no scroll bar is ever needed."""
    visible = [c for c in range(len(natural)) if not table.isColumnHidden(c)]
    if not visible:
        return
    widths = {c: natural[c] for c in visible}
    available = table.viewport().width()
    excess = sum(widths.values()) - available
    if excess > 0:
        give = {c: max(0, widths[c] - minimum) for c in shrinkable if c in widths}
        room = sum(give.values())
        for c in give:
            widths[c] -= int(min(give[c], excess * give[c] / room + 1)) if room else 0
        left = sum(widths.values()) - available
        if squeeze and left > 0:
            for c in visible:
                widths[c] = max(24, widths[c] - -(-left // len(visible)))
    else:
        for c in visible:
            widths[c] += -excess // len(visible)
    header = table.horizontalHeader()
    for c, width in widths.items():
        header.resizeSection(c, width)


def table_item(text: str, right: bool = False, value: Any = None) -> QTableWidgetItem:
    """A read-only cell; `value` (the unrounded number) is kept under UserRole."""
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        item.setTextAlignment(ALIGN_RIGHT)
    if value is not None:
        item.setData(Qt.ItemDataRole.UserRole, value)
    return item


class WeightHistogram(QWidget):
    """Bars of a weight array's value counts, with axes, ticks and a zero line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.zeros(0, np.int64)
        self._edges = np.zeros(0, np.float64)
        self._title = ""
        self._range: tuple[float, float] | None = None
        self._empty_text = "Pick a weight array to see its histogram"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 130)

    # ------------------------------------------------------------------ data

    def set_histogram(self, counts: np.ndarray, bin_edges: np.ndarray, title: str = "",
                      value_range: tuple[float, float] | None = None) -> None:
        """Show `counts` (N,) over `bin_edges` (N + 1,); `value_range` is the data's (min, max)
        (when equal, the plot says every value is that one). Raises ValueError if counts and
        edges disagree."""
        counts = np.asarray(counts)
        edges = np.asarray(bin_edges, np.float64)
        if counts.ndim != 1 or edges.shape != (counts.size + 1,):
            raise ValueError(f"A histogram needs N counts and N + 1 bin edges, "
                             f"not {counts.shape} and {edges.shape}.")
        self._counts, self._edges, self._title = counts, edges, title
        self._range = value_range
        self.setToolTip(f"{title}: {count_text(counts.sum())} values in {counts.size} bins, "
                        f"from {edges[0]:.4g} to {edges[-1]:.4g}" if counts.size else "")
        self.update()

    def clear(self, text: str = "Pick a weight array to see its histogram") -> None:
        self._counts = np.zeros(0, np.int64)
        self._edges = np.zeros(0, np.float64)
        self._title = ""
        self._range = None
        self._empty_text = text
        self.setToolTip("")
        self.update()

    def counts(self) -> np.ndarray:
        return self._counts

    def bin_edges(self) -> np.ndarray:
        return self._edges

    def title(self) -> str:
        return self._title

    # ------------------------------------------------------------------ geometry

    def _x_range(self) -> tuple[float, float]:
        low, high = float(self._edges[0]), float(self._edges[-1])
        if high <= low:  # every weight equal (a fresh bias of zeros): a narrow band around it
            pad = abs(low) * 0.1 or 1.0
            return low - pad, high + pad
        return low, high

    def plot_rect(self) -> QRectF:
        """The area inside the axes, in widget coordinates."""
        metrics = self.fontMetrics()
        top = metrics.height() + 8 if self._title else 6
        y_label_width = metrics.horizontalAdvance(self._count_label(self._y_max())) + 10
        return QRectF(y_label_width, top, max(self.width() - y_label_width - 12, 10),
                      max(self.height() - top - metrics.height() - 10, 10))

    def _y_max(self) -> float:
        largest = float(self._counts.max()) if self._counts.size else 1.0
        ticks = nice_ticks(0, max(largest, 1.0), 4)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        return max(largest, math.ceil(largest / step) * step if step else largest, 1.0)

    @staticmethod
    def _count_label(value: float) -> str:
        if value >= 10_000:
            return f"{value / 1000:.0f}k"
        return f"{value:,.0f}"

    def x_to_pixel(self, value: float) -> float:
        rect = self.plot_rect()
        low, high = self._x_range()
        return rect.left() + (value - low) / (high - low) * rect.width()

    def bar_rects(self) -> list[QRectF]:
        """Each bin's bar (height 0 for an empty bin), in widget coordinates."""
        if not self._counts.size:
            return []
        rect = self.plot_rect()
        y_max = self._y_max()
        bars = []
        for count, left, right in zip(self._counts, self._edges[:-1], self._edges[1:]):
            x0, x1 = self.x_to_pixel(float(left)), self.x_to_pixel(float(right))
            if x1 - x0 < 1:  # a flat array: one visible bar in the middle
                x0, x1 = x0 - 3, x1 + 3
            height = rect.height() * float(count) / y_max
            bars.append(QRectF(x0, rect.bottom() - height, x1 - x0, height))
        return bars

    # ------------------------------------------------------------------ Qt

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 180)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(220, 130)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text = self.palette().windowText().color()
        if not self._counts.size:
            painter.setPen(MUTED_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter
                             | Qt.TextFlag.TextWordWrap, self._empty_text)
            painter.end()
            return
        metrics = self.fontMetrics()
        rect = self.plot_rect()
        if self._title:
            bold = QFont(self.font())
            bold.setBold(True)
            painter.setFont(bold)
            painter.setPen(text)
            painter.drawText(QRectF(0, 2, self.width(), metrics.height() + 4),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                             painter.fontMetrics().elidedText(self._title,
                                                              Qt.TextElideMode.ElideRight,
                                                              self.width() - 8))
            painter.setFont(self.font())
        self._draw_y_axis(painter, rect, text)
        painter.setPen(QPen(BAR_EDGE, 1))
        painter.setBrush(BAR_FILL)
        for bar in self.bar_rects():
            if bar.height() > 0:
                painter.drawRect(bar.adjusted(0, 0, -0.5 if bar.width() > 3 else 0, 0))
        self._draw_x_axis(painter, rect, text)
        if self._range is not None and self._range[0] == self._range[1]:
            # One value only (a fresh bias, BatchNorm's gamma): say so, a lone bar is a riddle.
            painter.setPen(MUTED_TEXT)
            painter.drawText(rect.adjusted(6, 4, -6, 0), Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignTop,
                             f"all {count_text(self._counts.sum())} values are "
                             f"{self._range[0]:.4g}")
        low, high = self._x_range()
        if low < 0 < high:
            x = self.x_to_pixel(0.0)
            painter.setPen(QPen(ZERO_LINE, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        painter.end()

    def _draw_y_axis(self, painter: QPainter, rect: QRectF, text: QColor) -> None:
        metrics = self.fontMetrics()
        y_max = self._y_max()
        for tick in nice_ticks(0, y_max, 4):
            y = rect.bottom() - rect.height() * tick / y_max
            painter.setPen(QPen(GRID_LINE, 1))
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            painter.setPen(text)
            label = QRectF(0, y - metrics.height() / 2, rect.left() - 5, metrics.height())
            painter.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self._count_label(tick))
        painter.setPen(QPen(text, 1))
        painter.drawLine(QPointF(rect.left(), rect.top()), QPointF(rect.left(), rect.bottom()))

    def _draw_x_axis(self, painter: QPainter, rect: QRectF, text: QColor) -> None:
        metrics = self.fontMetrics()
        painter.setPen(QPen(text, 1))
        painter.drawLine(QPointF(rect.left(), rect.bottom()), QPointF(rect.right(), rect.bottom()))
        low, high = self._x_range()
        widest = max(metrics.horizontalAdvance("-0.000"), 30)
        ticks = nice_ticks(low, high, max(2, min(7, int(rect.width() / (widest + 14)))))
        step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(high - low) or 1.0
        last_right = -1e9
        for tick in ticks:
            x = self.x_to_pixel(tick)
            painter.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 4))
            label = tick_label(tick, step)
            width = metrics.horizontalAdvance(label)
            left = min(max(x - width / 2, 0), self.width() - width)
            if left < last_right + 6:
                continue  # never let two labels touch
            painter.drawText(QRectF(left, rect.bottom() + 5, width + 1, metrics.height()),
                             Qt.AlignmentFlag.AlignLeft, label)
            last_right = left + width

class WeightStatsView(QWidget):
    """A layer's weight arrays, one table row each (shape, count, min, max, mean, std), and
    the histogram of the row picked (the first one to begin with)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stats: list[Any] = []
        self._widths: list[int] = []
        self.table = read_only_table(STATS_COLUMNS)
        self.table.setToolTip("Pick a row to see that weight array's histogram.")
        for column in range(2, len(STATS_COLUMNS)):
            self.table.horizontalHeaderItem(column).setTextAlignment(ALIGN_RIGHT)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.viewport().installEventFilter(self)
        self.table.currentCellChanged.connect(lambda row, *_: self.show_histogram(row))
        self.table.hide()   # until there are weights to list
        self.histogram = WeightHistogram()
        self.histogram.setMaximumHeight(340)  # a bigger one says nothing more
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.table)
        layout.addWidget(self.histogram, 1)

    def stats(self) -> list[Any]:
        return list(self._stats)

    def set_stats(self, stats: list[Any]) -> None:
        """Show a list of core.inspection.WeightStats (empty: hide the table)."""
        self._stats = list(stats)
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(stats))
        rows = []
        for row, stat in enumerate(stats):
            texts = (stat.name, dims_text(stat.shape) if len(stat.shape) else "scalar",
                     count_text(stat.count), stat_text(stat.min), stat_text(stat.max),
                     stat_text(stat.mean), stat_text(stat.std))
            rows.append(texts)
            raw = (None, None, stat.count, stat.min, stat.max, stat.mean, stat.std)
            trainable = getattr(stat, "trainable", True)
            for column, (text, value) in enumerate(zip(texts, raw)):
                item = table_item(text, right=column >= 2, value=value)
                if not trainable:
                    item.setForeground(QBrush(FROZEN_TEXT))
                    item.setToolTip(f"{stat.name} is not trainable: gradient descent does not "
                                    f"change it")
                table.setItem(row, column, item)
        table.blockSignals(False)
        self._widths = natural_widths(table, rows)
        fit_columns(table, self._widths, (0, 1), minimum=56, squeeze=True)
        table.setVisible(bool(stats))
        rows_height = sum(table.rowHeight(r) for r in range(min(len(stats), 4)))
        table.setFixedHeight(table.horizontalHeader().height() + rows_height
                             + 2 * table.frameWidth() + 2)
        if stats:
            table.selectRow(0)
            self.show_histogram(0)

    def show_histogram(self, row: int) -> None:
        """Draw the histogram of weight array `row`."""
        if 0 <= row < len(self._stats):
            stat = self._stats[row]
            self.histogram.set_histogram(stat.histogram, stat.bin_edges,
                                         f"{stat.layer} / {stat.name}  ·  {count_text(stat.count)} values",
                                         (stat.min, stat.max))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize \
                and self._widths:
            fit_columns(self.table, self._widths, (0, 1), minimum=56, squeeze=True)
        return super().eventFilter(watched, event)
