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
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from cnnviz.core.formatting import count_text, dims_text
from cnnviz.ui.common.zoom import line_width, scaled, watch_zoom
from cnnviz.ui.inspect.number_text import stat_text, stat_tooltip, tick_text
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
    """A tick's text with just enough decimals for its spacing: 0.05, -0.1, 2k, 0.0002."""
    return tick_text(value, step)


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
    fit_rows_to_font(table)
    table.horizontalHeader().setHighlightSections(False)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                 | Qt.AlignmentFlag.AlignVCenter)
    return table


def fit_rows_to_font(table: QTableWidget) -> None:
    """Rows as tall as the table's text (it follows the zoom)."""
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)


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
        self.setMinimumSize(self.minimumSizeHint())
        watch_zoom(self._zoom_changed)

    def _zoom_changed(self) -> None:
        self.setMinimumSize(self.minimumSizeHint())
        self.update()

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
                        f"from {stat_text(edges[0])} to {stat_text(edges[-1])}"
                        if counts.size else "")
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
        return QSize(scaled(320), scaled(180))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        # Room for the title, the tick labels and some bars, in the window's (zoomed) text.
        line = QFontMetrics(QApplication.font()).height()
        return QSize(scaled(220), 3 * line + 70)

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
        painter.setPen(QPen(BAR_EDGE, line_width(1.0)))
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
                             f"{stat_text(self._range[0])}")
        low, high = self._x_range()
        if low < 0 < high:
            x = self.x_to_pixel(0.0)
            painter.setPen(QPen(ZERO_LINE, line_width(1.5), Qt.PenStyle.DashLine))
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
        painter.setPen(QPen(text, line_width(1.0)))
        painter.drawLine(QPointF(rect.left(), rect.top()), QPointF(rect.left(), rect.bottom()))

    def _draw_x_axis(self, painter: QPainter, rect: QRectF, text: QColor) -> None:
        metrics = self.fontMetrics()
        painter.setPen(QPen(text, line_width(1.0)))
        painter.drawLine(QPointF(rect.left(), rect.bottom()), QPointF(rect.right(), rect.bottom()))
        low, high = self._x_range()
        widest = max(metrics.horizontalAdvance("-0.0000"), 30)
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
        # Numbers are never squeezed into "0.3…": a narrow table scrolls sideways instead.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.viewport().installEventFilter(self)
        self.table.currentCellChanged.connect(lambda row, *_: self.show_histogram(row))
        self.table.hide()   # until there are weights to list
        self.histogram = WeightHistogram()
        self.histogram.setMaximumHeight(scaled(340))  # a bigger one says nothing more
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
        fit_rows_to_font(table)
        self.histogram.setMaximumHeight(scaled(340))
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
                if column >= 3:
                    item.setToolTip(stat_tooltip(value))
                if not trainable:
                    item.setForeground(QBrush(FROZEN_TEXT))
                    item.setToolTip(f"{stat.name} is not trainable: gradient descent does not "
                                    f"change it")
                table.setItem(row, column, item)
        table.blockSignals(False)
        self._widths = natural_widths(table, [tuple(table.item(r, c).text()
                                                    for c in range(len(STATS_COLUMNS)))
                                              for r in range(len(stats))])
        table.setVisible(bool(stats))
        self._fit_table()
        if stats:
            table.selectRow(0)
            self.show_histogram(0)

    def _fit_table(self) -> None:
        """Columns to the numbers' widths (the name and shape give way first) and the table
        as tall as its rows, plus a scroll bar when the numbers need more than its width."""
        table = self.table
        if not self._widths:
            return
        fit_columns(table, self._widths, (0, 1), minimum=scaled(56))
        header = table.horizontalHeader()
        rows_height = sum(table.rowHeight(r) for r in range(min(table.rowCount(), 4)))
        scroll = table.horizontalScrollBar().sizeHint().height() \
            if header.length() > table.viewport().width() + 1 else 0
        height = header.height() + rows_height + 2 * table.frameWidth() + 2 + scroll
        if table.height() != height:
            table.setFixedHeight(height)

    def numbers_fit(self) -> bool:
        """Every number in the table is written whole (its column is wide enough)."""
        table = self.table
        metrics = table.fontMetrics()
        return all(metrics.horizontalAdvance(table.item(r, c).text()) + 6
                   <= table.columnWidth(c)
                   for r in range(table.rowCount()) for c in range(2, table.columnCount()))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and self._stats:   # the zoom
            self.set_stats(self._stats)

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
            self._fit_table()
        return super().eventFilter(watched, event)
