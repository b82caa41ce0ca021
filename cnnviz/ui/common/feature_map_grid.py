"""All channels of one layer's output as a grid of small maps.

A (H, W, C) output becomes C tiles, each labelled with its channel number; a (N,) vector
(Flatten, Dense) becomes rows of cells. By default each tile is coloured on its own
zero-centred scale (its largest |value|), so every map's structure shows even when a few
maps are much stronger than the rest; the shared scale (one limit for every tile, so a
strong map looks strong next to a weak one) is an option, and the title says which is used. Tiles grow to fill the space when there are
few of them and shrink (down to a readable minimum, then scroll) when there are many.
A 1-D layer's (steps, channels) output becomes one row per channel (`SeriesRows`): a line
plot each, or a heat strip each when there are many channels (a choice in the header), on
one shared scale by default.
`TileCanvas` is shared with the filter grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.formatting import plain_value
from cnnviz.ui.common.series_plots import paint_line, step_at, step_x
from cnnviz.ui.common.value_colors import (
    ColorLegend,
    diverging_image,
    symmetric_limit,
    text_color_on,
)

SELECTED_COLOUR = QColor(255, 176, 0)     # the explainer's amber: clear on blue, white and red
EMPTY_COLOUR = QColor(150, 150, 150)
GAP = 6                                   # pixels between tiles
MIN_TILE_SIDE = 36                        # below this, scroll instead of shrinking
MAX_TILE_SIDE = 320
# A 1-D output (steps, channels): up to this many channels each get a line plot; more, a
# heat-strip row each (64 lines would be 64 unreadable squiggles; 64 strips read as a picture).
LINES_MAX_CHANNELS = 16
LINES, STRIPS = "lines", "strips"
MIN_LINE_ROW, MAX_LINE_ROW = 34, 150        # pixels per line plot: below, scroll
MIN_STRIP_ROW, MAX_STRIP_ROW = 6, 40
LINE_COLOUR = QColor(31, 119, 180)


@dataclass
class TileLayout:
    """Where the tiles go: `cols` × `rows` cells of `cell_w` × `cell_h`, centred."""

    cols: int
    rows: int
    tile_w: int
    tile_h: int
    label_h: int
    left: int
    width: int
    height: int

    @property
    def cell_w(self) -> int:
        return self.tile_w + GAP

    @property
    def cell_h(self) -> int:
        return self.tile_h + self.label_h + GAP

    def tile_rect(self, index: int) -> QRect:
        row, col = divmod(index, self.cols)
        return QRect(self.left + col * self.cell_w, GAP + row * self.cell_h,
                     self.tile_w, self.tile_h)


def _nice_scale(scale: float) -> float:
    """A whole-number zoom when it costs little size, so every map pixel is equally big."""
    whole = math.floor(scale)
    return float(whole) if whole >= 1 and whole >= 0.9 * scale else scale


def tile_layout(count: int, src_h: int, src_w: int, avail_w: int, avail_h: int,
                label_h: int) -> TileLayout:
    """The biggest tiles that show all `count` maps of src_h × src_w in the space; if that
    would make them smaller than MIN_TILE_SIDE, tiles of that size in rows that scroll."""
    count, src_h, src_w = max(count, 1), max(src_h, 1), max(src_w, 1)
    longest = max(src_h, src_w)
    best_scale, best_cols = 0.0, 1
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        cell_w = (avail_w - GAP * (cols + 1)) / cols
        cell_h = (avail_h - GAP * (rows + 1)) / rows - label_h
        scale = min(cell_w / src_w, cell_h / src_h)
        if scale > best_scale:
            best_scale, best_cols = scale, cols
    scale = min(best_scale, MAX_TILE_SIDE / longest)
    if scale * longest < MIN_TILE_SIDE:
        scale = MIN_TILE_SIDE / longest
        scale = math.ceil(scale) if scale >= 1 else scale
        tile_w = max(1, round(src_w * scale))
        best_cols = max(1, min(count, (avail_w - GAP) // (tile_w + GAP)))
    else:
        scale = _nice_scale(scale)
    # Rounded down: a pixel more per tile, times the rows, would bring a needless scroll bar.
    tile_w, tile_h = max(1, int(src_w * scale + 1e-6)), max(1, int(src_h * scale + 1e-6))
    cols = best_cols
    rows = math.ceil(count / cols)
    used_w = cols * (tile_w + GAP) + GAP
    height = rows * (tile_h + label_h + GAP) + GAP
    left = GAP + max(0, (avail_w - used_w) // 2)
    return TileLayout(cols, rows, tile_w, tile_h, label_h, left, max(avail_w, used_w), height)


class TileCanvas(QWidget):
    """Draws equal-sized images in a grid with a label under each; click selects one."""

    tile_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images: list[QImage] = []
        self.labels: list[str] = []
        self.source_size = (1, 1)                 # (rows, cols) of each image's data
        self.selected: int | None = None
        self.tooltip_for: Callable[[int, int, int], str] | None = None
        self.overlay: Callable[[QPainter, int, QRect], None] | None = None
        self.empty_text = "Nothing to show yet"
        self.layout_info = tile_layout(1, 1, 1, 200, 200, 0)
        self.setMouseTracking(True)

    def set_tiles(self, images: list[QImage], labels: list[str],
                  source_size: tuple[int, int]) -> None:
        self.images, self.labels, self.source_size = images, labels, source_size
        if self.selected is not None and self.selected >= len(images):
            self.selected = None
        self.update()

    def fit_to(self, width: int, height: int) -> None:
        """Lay the tiles out for a viewport of width × height and take the height needed."""
        label_h = self.fontMetrics().height() + 2
        self.layout_info = tile_layout(len(self.images), *self.source_size, width, height,
                                       label_h)
        self.resize(width, max(height, self.layout_info.height) if self.images else height)
        self.update()

    def tile_rect(self, index: int) -> QRect:
        return self.layout_info.tile_rect(index) if 0 <= index < len(self.images) else QRect()

    def hit(self, pos: QPoint) -> tuple[int, int, int] | None:
        """(tile, source row, source column) under `pos`, None between tiles."""
        info = self.layout_info
        col, x = divmod(pos.x() - info.left, info.cell_w)
        row, y = divmod(pos.y() - GAP, info.cell_h)
        index = row * info.cols + col
        if not (0 <= col < info.cols and row >= 0 and 0 <= index < len(self.images)):
            return None
        if x >= info.tile_w or y >= info.tile_h:
            return None
        src_h, src_w = self.source_size
        return (index, min(src_h - 1, y * src_h // info.tile_h),
                min(src_w - 1, x * src_w // info.tile_w))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        if not self.images:
            painter.setPen(EMPTY_COLOUR)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        info = self.layout_info
        downscale = info.tile_h < self.source_size[0]
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, downscale)
        label_font = QFont(self.font())
        label_colour = self.palette().windowText().color()
        frame = QPen(QColor(160, 160, 160), 1)
        for index, image in enumerate(self.images):
            rect = info.tile_rect(index)
            if not rect.intersects(event.rect()):
                continue
            painter.drawImage(rect, image)
            painter.setFont(self.font())
            if self.overlay is not None:
                self.overlay(painter, index, rect)
            selected = index == self.selected
            painter.setPen(QPen(SELECTED_COLOUR, 3) if selected else frame)
            outline = rect.adjusted(-2, -2, 1, 1) if selected else rect.adjusted(-1, -1, 0, 0)
            painter.drawRect(outline)
            label_font.setBold(selected)
            painter.setFont(label_font)
            painter.setPen(label_colour)
            painter.drawText(QRect(rect.left() - GAP // 2, rect.bottom() + 2, rect.width() + GAP,
                                   info.label_h), Qt.AlignmentFlag.AlignHCenter, self.labels[index])

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self.hit(event.position().toPoint())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = hit[0]
            self.update()
            self.tile_clicked.emit(hit[0])

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            return show_hit_tooltip(self, event)
        return super().event(event)


def show_hit_tooltip(widget: Any, event: Any) -> bool:
    """The tooltip of what lies under the mouse, for a painted widget with `hit(point)` and
    `tooltip_for(*hit)`; hidden where nothing is."""
    hit = widget.hit(event.pos())
    if hit is not None and widget.tooltip_for is not None:
        QToolTip.showText(event.globalPos(), widget.tooltip_for(*hit), widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True


class VectorStrip(QWidget):
    """A (N,) vector as rows of square cells, index of each row's first cell on the left."""

    cell_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0, np.float32)
        self.limit = 1.0
        self.image = QImage()
        self.selected: int | None = None
        self.cell, self.per_row, self.gutter = 8, 1, 40
        self.setMouseTracking(True)

    def set_values(self, values: np.ndarray, limit: float) -> None:
        self.values, self.limit = np.asarray(values, np.float32).reshape(-1), limit
        if self.selected is not None and self.selected >= self.values.size:
            self.selected = None
        self.update()

    def fit_to(self, width: int, height: int) -> None:
        count = max(1, self.values.size)
        self.gutter = self.fontMetrics().horizontalAdvance(str(count)) + 10
        usable_w, usable_h = width - self.gutter - GAP, height - 2 * GAP
        cell = 3
        if usable_w // count >= 36:      # a few values read best in one row
            cell = min(64, usable_w // count)
        else:
            for size in range(64, 2, -1):   # the biggest cells that fit without scrolling
                per_row = max(1, usable_w // size)
                if math.ceil(count / per_row) * size <= usable_h:
                    cell = size
                    break
        self.cell, self.per_row = cell, max(1, min(count, usable_w // cell))
        rows = math.ceil(count / self.per_row)
        padded = np.full(rows * self.per_row, 0.0, np.float32)
        padded[:self.values.size] = self.values
        self.image = diverging_image(padded.reshape(rows, self.per_row), self.limit)
        self.resize(width, max(height, rows * cell + 2 * GAP))
        self.update()

    def cell_rect(self, index: int) -> QRect:
        row, col = divmod(index, self.per_row)
        return QRect(self.gutter + col * self.cell, GAP + row * self.cell, self.cell, self.cell)

    def index_at(self, pos: QPoint) -> int | None:
        col = (pos.x() - self.gutter) // self.cell
        row = (pos.y() - GAP) // self.cell
        index = row * self.per_row + col
        if 0 <= col < self.per_row and row >= 0 and index < self.values.size:
            return index
        return None

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        count = self.values.size
        if count == 0:
            return
        rows = math.ceil(count / self.per_row)
        painter.drawImage(QRect(self.gutter, GAP, self.per_row * self.cell, rows * self.cell),
                          self.image)
        spare = rows * self.per_row - count    # the last row's unused cells
        if spare:
            painter.fillRect(self.cell_rect(count).united(self.cell_rect(rows * self.per_row - 1)),
                             self.palette().window())
        painter.setPen(self.palette().windowText().color())
        label_every = max(1, math.ceil(self.fontMetrics().height() / self.cell))
        vertical = (Qt.AlignmentFlag.AlignVCenter if label_every == 1
                    else Qt.AlignmentFlag.AlignTop)
        for row in range(0, rows, label_every):
            line_h = max(self.cell, self.fontMetrics().height())
            painter.drawText(QRect(0, GAP + row * self.cell, self.gutter - 6, line_h),
                             Qt.AlignmentFlag.AlignRight | vertical, str(row * self.per_row))
        if self.cell >= 12:
            painter.setPen(QPen(QColor(200, 200, 200), 1))
            for index in range(count):
                painter.drawRect(self.cell_rect(index).adjusted(0, 0, -1, -1))
        metrics = self.fontMetrics()
        if self.cell >= 36:
            for index, value in enumerate(self.values):
                text = plain_value(value, 2)
                if metrics.horizontalAdvance(text) <= self.cell - 4:
                    painter.setPen(text_color_on(value, self.limit))
                    painter.drawText(self.cell_rect(index), Qt.AlignmentFlag.AlignCenter, text)
        if self.selected is not None:
            painter.setPen(QPen(SELECTED_COLOUR, 3))
            painter.drawRect(self.cell_rect(self.selected).adjusted(-1, -1, 0, 0))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.index_at(event.position().toPoint())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = index
            self.update()
            self.cell_clicked.emit(index)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.index_at(event.pos())
            if index is not None:
                QToolTip.showText(event.globalPos(),
                                  f"Unit {index}: {plain_value(self.values[index], 4)}", self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class SeriesRows(QWidget):
    """A (steps, channels) output, one row per channel: a line plot each (`LINES`) or one
    heat-strip row each (`STRIPS`), all over the same steps, numbered on a shared axis below.
    `limits[c]` is the value at which channel c reaches the top of its plot (or full colour)."""

    cell_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros((0, 0), np.float32)
        self.limits = np.ones(0, np.float32)
        self.mode = LINES
        self.selected: int | None = None
        self.tooltip_for: Callable[[int, int], str] | None = None
        self.row_h, self.row_gap, self.gutter, self.axis_h = 30, GAP, 30, 16
        self.setMouseTracking(True)

    def set_values(self, values: np.ndarray, limits: np.ndarray, mode: str) -> None:
        self.values = np.asarray(values, np.float32)
        self.limits = np.asarray(limits, np.float32)
        self.mode = mode
        if self.selected is not None and self.selected >= self.channels:
            self.selected = None
        self.update()

    @property
    def channels(self) -> int:
        return int(self.values.shape[1]) if self.values.ndim == 2 else 0

    @property
    def steps(self) -> int:
        return int(self.values.shape[0]) if self.values.ndim == 2 else 0

    def fit_to(self, width: int, height: int) -> None:
        """Rows as tall as the height allows (within readable bounds, else scroll)."""
        metrics = self.fontMetrics()
        count = max(1, self.channels)
        self.gutter = metrics.horizontalAdvance(str(count - 1)) + 12
        self.axis_h = metrics.height() + 6
        lines = self.mode == LINES
        self.row_gap = GAP if lines else 1
        low, high = (MIN_LINE_ROW, MAX_LINE_ROW) if lines else (MIN_STRIP_ROW, MAX_STRIP_ROW)
        room = (height - 2 * GAP - self.axis_h - self.row_gap * (count - 1)) / count
        self.row_h = int(np.clip(room, low, high))
        self.resize(width, max(height, self.content_height()))
        self.update()

    def content_height(self) -> int:
        count = max(1, self.channels)
        return 2 * GAP + count * self.row_h + (count - 1) * self.row_gap + self.axis_h

    def plot_width(self) -> int:
        return max(10, self.width() - self.gutter - GAP - 4)

    def row_rect(self, channel: int) -> QRect:
        if not 0 <= channel < self.channels:
            return QRect()
        return QRect(self.gutter, GAP + channel * (self.row_h + self.row_gap),
                     self.plot_width(), self.row_h)

    def hit(self, pos: QPoint) -> tuple[int, int] | None:
        """(channel, step) under `pos`; None outside the rows."""
        if not self.channels or pos.x() < self.gutter or pos.x() > self.gutter + self.plot_width():
            return None
        row, y = divmod(pos.y() - GAP, self.row_h + self.row_gap)
        if not 0 <= row < self.channels or y >= self.row_h:
            return None
        return row, self.step_at(pos.x())

    def step_at(self, x: float) -> int:
        if self.mode == STRIPS:   # each step one equal cell of the strip
            cell = self.plot_width() / max(1, self.steps)
            return int(np.clip((x - self.gutter) // cell, 0, self.steps - 1))
        return step_at(x, self.steps, QRectF(self.row_rect(0)))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        channels = self.channels
        if not channels:
            return
        text_colour = self.palette().windowText().color()
        metrics = self.fontMetrics()
        label_every = max(1, math.ceil(metrics.height() / (self.row_h + self.row_gap)))
        if self.mode == STRIPS:
            limits = np.where(self.limits > 0, self.limits, 1.0)
            normed = (self.values / limits[None, :]).T
            top = self.row_rect(0).top()
            bottom = self.row_rect(channels - 1).bottom()
            if self.row_gap:
                for channel in range(channels):
                    if self.row_rect(channel).intersects(event.rect()):
                        painter.drawImage(self.row_rect(channel),
                                          diverging_image(normed[channel:channel + 1], 1.0))
            else:
                painter.drawImage(QRect(self.gutter, top, self.plot_width(), bottom - top + 1),
                                  diverging_image(np.ascontiguousarray(normed), 1.0))
        for channel in range(channels):
            rect = self.row_rect(channel)
            if not rect.adjusted(0, -20, 0, 20).intersects(event.rect()):
                continue
            if self.mode == LINES:
                paint_line(painter, QRectF(rect), self.values[:, channel],
                           float(self.limits[channel]), LINE_COLOUR)
                painter.setPen(QPen(QColor(190, 190, 190), 1))
                painter.drawRect(rect.adjusted(0, 0, -1, -1))
            if channel % label_every == 0:
                painter.setPen(text_colour)
                painter.drawText(QRect(0, rect.top(), self.gutter - 6,
                                       max(rect.height(), metrics.height())),
                                 Qt.AlignmentFlag.AlignRight | (
                                     Qt.AlignmentFlag.AlignVCenter if label_every == 1
                                     else Qt.AlignmentFlag.AlignTop), str(channel))
        self._paint_axis(painter, text_colour)
        if self.selected is not None and 0 <= self.selected < channels:
            painter.setPen(QPen(SELECTED_COLOUR, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.row_rect(self.selected).adjusted(-2, -2, 1, 1))

    def _paint_axis(self, painter: QPainter, colour: QColor) -> None:
        """Step numbers under the last row: the first, the last and a few between."""
        last = self.row_rect(self.channels - 1)
        y = last.bottom() + 3
        steps = self.steps
        metrics = self.fontMetrics()
        room = max(1, self.plot_width() // max(1, metrics.horizontalAdvance(f"{steps}  ") * 2))
        step = next(size for size in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000,
                                      2000, 5000, 10_000, 10**9) if steps / size <= room)
        ticks = list(range(0, steps, step))
        if steps - 1 - ticks[-1] >= step / 2:     # the last step, unless it would crowd
            ticks.append(steps - 1)
        painter.setPen(colour)
        lines = self.mode == LINES
        last_right = -1
        for tick in ticks:
            if lines:
                x = step_x(tick, steps, QRectF(last))
            else:
                x = self.gutter + (tick + 0.5) * self.plot_width() / max(1, steps)
            text = str(tick)
            width = metrics.horizontalAdvance(text)
            left = int(np.clip(x - width / 2, self.gutter - 4,
                               self.gutter + self.plot_width() - width + 4))
            if left <= last_right + 6 and tick != ticks[-1]:
                continue
            painter.drawLine(QPointF(x, y - 3), QPointF(x, y))
            painter.drawText(QRect(left, y, width + 2, metrics.height() + 2),
                             Qt.AlignmentFlag.AlignLeft, text)
            last_right = left + width

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self.hit(event.position().toPoint())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = hit[0]
            self.update()
            self.cell_clicked.emit(hit[0])

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            return show_hit_tooltip(self, event)
        return super().event(event)


class FitScrollArea(QScrollArea):
    """A vertical scroll area whose content (a TileCanvas or VectorStrip) is refitted to the
    visible width and height whenever the viewport changes size (a scroll bar appearing too)."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        self.viewport().installEventFilter(self)

    def show_content(self, content: QWidget) -> None:
        if self.widget() is not content:
            self.takeWidget()
            self.setWidget(content)
        self.fit()

    def fit(self) -> None:
        content = self.widget()
        if content is not None:
            content.fit_to(self.viewport().width(), self.viewport().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.viewport() and event.type() == QEvent.Type.Resize:
            self.fit()
        return super().eventFilter(watched, event)


class FeatureMapGrid(QWidget):
    """Every channel of one layer's output (or every unit of a vector), one colour scale."""

    channel_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.output = np.zeros((0, 0, 0), np.float32)
        self.limit = 1.0
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        bold = self.title_label.font()
        bold.setBold(True)
        self.title_label.setFont(bold)
        self.legend = ColorLegend()
        self.legend.setMinimumWidth(140)
        self.legend.setMaximumWidth(240)
        self.scale_box = QComboBox()
        self.scale_box.addItems(["Each map its own scale", "One scale for all maps"])
        self.scale_box.setToolTip(
            "Each map its own scale: every map's colours reach full strength at its own "
            "largest value, so its structure shows.\nOne scale for all maps: the same colours "
            "mean the same values in every map, so strong and weak maps can be compared.")
        self.scale_box.currentIndexChanged.connect(self._scale_changed)
        # 1-D outputs: line plots or heat strips; None until the user picks (then by count).
        self.series_box = QComboBox()
        self.series_box.addItem("Line plots", LINES)
        self.series_box.addItem("Heat strips", STRIPS)
        self.series_box.setToolTip(
            "Line plots: each channel's values along the steps, as a curve.\nHeat strips: "
            "each channel one row of colour (red positive, blue negative), which reads better "
            f"for many channels (the default above {LINES_MAX_CHANNELS}).")
        self.series_box.currentIndexChanged.connect(self._series_mode_picked)
        self.series_box.hide()
        self._series_mode: str | None = None
        # Each kind keeps its own scale choice: maps default to their own scales (structure),
        # signals to one scale (lines on different scales would mislead about size).
        self._shared = {"maps": False, "series": True}
        self._title = ""
        self.tiles = TileCanvas()
        self.tiles.tooltip_for = self._tile_tooltip
        self.tiles.tile_clicked.connect(self.channel_clicked)
        self.strip = VectorStrip()
        self.strip.cell_clicked.connect(self.channel_clicked)
        self.rows = SeriesRows()
        self.rows.tooltip_for = self._series_tooltip
        self.rows.cell_clicked.connect(self.channel_clicked)
        self.scroll = FitScrollArea(self.tiles)
        header = self.header = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        header.addWidget(self.title_label, 1)
        header.addWidget(self.series_box)
        header.addWidget(self.scale_box)
        header.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ------------------------------------------------------------------ public

    def set_maps(self, output: np.ndarray, title: str = "") -> None:
        """Show a layer's output: (H, W, C) maps, (N,) values, or a 1-D layer's
        (steps, channels) sequence (one row per channel, see `series_mode`). A leading batch
        axis of 1 is dropped (so (1, N) is a vector). Raises ValueError for other shapes."""
        array = np.asarray(output, np.float32)
        if array.ndim in (2, 4) and array.shape[0] == 1:   # a batch of one
            array = array[0]
        if array.ndim not in (1, 2, 3):
            raise ValueError(f"Cannot draw an output of shape {np.shape(output)} as maps.")
        self.output = array
        self._title = title
        self._draw()

    def shared_scale(self) -> bool:
        """Whether every map (or channel) is on one scale (else each on its own)."""
        if self.output.ndim == 1:
            return True
        return self._shared[self._kind()]

    def set_shared_scale(self, shared: bool) -> None:
        self.scale_box.setCurrentIndex(1 if shared else 0)

    def series_mode(self) -> str:
        """How a (steps, channels) output is drawn: LINES or STRIPS (by default lines up to
        LINES_MAX_CHANNELS channels, else strips; the user's choice is kept)."""
        if self._series_mode is not None:
            return self._series_mode
        channels = self.output.shape[1] if self.output.ndim == 2 else 1
        return LINES if channels <= LINES_MAX_CHANNELS else STRIPS

    def set_series_mode(self, mode: str) -> None:
        """Draw 1-D outputs as LINES or STRIPS from now on. Raises ValueError otherwise."""
        index = self.series_box.findData(mode)
        if index < 0:
            raise ValueError(f"A 1-D output is drawn as '{LINES}' or '{STRIPS}', not '{mode}'.")
        self._series_mode = mode
        self.series_box.setCurrentIndex(index)
        if self.is_series():
            self._draw()

    def is_series(self) -> bool:
        """The output is a 1-D layer's (steps, channels)."""
        return self.output.ndim == 2

    def map_limit(self, channel: int) -> float:
        """The |value| at which channel `channel`'s colours (or its plot) reach full strength."""
        if self.shared_scale():
            return self.limit
        return symmetric_limit(self.output[..., channel])

    def _kind(self) -> str:
        return "series" if self.output.ndim == 2 else "maps"

    def _scale_changed(self, index: int) -> None:
        self._shared[self._kind()] = index == 1
        if self.output.size:
            self._draw()

    def _series_mode_picked(self, index: int) -> None:
        mode = self.series_box.itemData(index)
        if mode != self.series_mode():
            self._series_mode = mode
            if self.is_series() and self.output.size:
                self._draw()

    def _draw(self) -> None:
        array, title = self.output, self._title
        self.limit = symmetric_limit(array)
        self.legend.set_limit(self.limit)
        self.scale_box.blockSignals(True)
        self.scale_box.setCurrentIndex(1 if self.shared_scale() else 0)
        self.scale_box.blockSignals(False)
        self.series_box.setVisible(array.ndim == 2)
        if array.ndim == 2:
            self._draw_series(array, title)
            return
        if array.ndim == 3:
            height, width, channels = array.shape
            images = [diverging_image(array[..., c], self.map_limit(c)) for c in range(channels)]
            self.tiles.set_tiles(images, [str(c) for c in range(channels)], (height, width))
            what = f"{channels} feature map{'s' if channels != 1 else ''} of {height}×{width}"
            if self.shared_scale():
                what += f"  ·  one colour scale, ±{plain_value(self.limit)}"
            else:
                what += "  ·  each map on its own colour scale (hover a map for its range)"
            self._show(self.tiles)
        else:
            self.strip.set_values(array, self.limit)
            what = f"{array.size} values (hover for each)"
            self._show(self.strip)
        self.legend.setVisible(self.shared_scale())
        self.scale_box.setVisible(array.ndim == 3 and array.shape[2] > 1)
        self.title_label.setText(f"{title}  ·  {what}" if title else what)

    def _draw_series(self, array: np.ndarray, title: str) -> None:
        steps, channels = array.shape
        mode = self.series_mode()
        self.series_box.blockSignals(True)
        self.series_box.setCurrentIndex(self.series_box.findData(mode))
        self.series_box.blockSignals(False)
        limits = np.array([self.map_limit(c) for c in range(channels)], np.float32)
        self.rows.set_values(array, limits, mode)
        drawn = "line" if mode == LINES else "heat strip"
        what = (f"{channels} channel{'s' if channels != 1 else ''} of {steps} steps, "
                f"one {drawn} each")
        if self.shared_scale():
            what += (f"  ·  one scale, ±{plain_value(self.limit)}" if mode == LINES else
                     f"  ·  one colour scale, ±{plain_value(self.limit)}")
        else:
            what += "  ·  each channel on its own scale (hover for its range)"
        self._show(self.rows)
        self.legend.setVisible(self.shared_scale() and mode == STRIPS)
        self.scale_box.setVisible(channels > 1)
        self.title_label.setText(f"{title}  ·  {what}" if title else what)

    def clear(self) -> None:
        self.output = np.zeros((0, 0, 0), np.float32)
        self.tiles.set_tiles([], [], (1, 1))
        self.title_label.setText("")
        self._show(self.tiles)

    def set_selected_channel(self, channel: int | None) -> None:
        """Outline one channel (or unit) without emitting `channel_clicked`; None for none."""
        self.tiles.selected = channel
        self.strip.selected = channel
        self.rows.selected = channel
        self.canvas.update()
        shown = self.is_series() or (not self.is_vector() and self.tiles.images)
        if channel is not None and shown and not self.tile_rect(channel).isNull():
            center = self.tile_rect(channel).center()
            self.scroll.ensureVisible(center.x(), center.y(), 0, 60)

    def selected_channel(self) -> int | None:
        if self.is_series():
            return self.rows.selected
        return self.strip.selected if self.is_vector() else self.tiles.selected

    def is_vector(self) -> bool:
        return self.output.ndim == 1

    @property
    def canvas(self) -> QWidget:
        """The widget the tiles (or vector cells) are drawn on: clicks and tooltips go there."""
        return self.scroll.widget()

    def tile_rect(self, channel: int) -> QRect:
        """Where channel `channel` is drawn, in `canvas` coordinates."""
        if self.is_series():
            return self.rows.row_rect(channel)
        return self.strip.cell_rect(channel) if self.is_vector() else self.tiles.tile_rect(channel)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, 400)

    # ------------------------------------------------------------------ private

    def resizeEvent(self, event) -> None:  # noqa: N802
        # Narrow: the legend goes under the title rather than squeezing it into a column.
        narrow = event.size().width() < 480
        self.header.setDirection(QBoxLayout.Direction.TopToBottom if narrow
                                 else QBoxLayout.Direction.LeftToRight)
        super().resizeEvent(event)

    def _show(self, canvas: QWidget) -> None:
        self.scroll.show_content(canvas)

    def _relayout(self) -> None:
        self.scroll.fit()

    def _tile_tooltip(self, channel: int, row: int, col: int) -> str:
        plane = self.output[..., channel]
        scale = "shared scale" if self.shared_scale() else "its own scale"
        return (f"Channel {channel}\n"
                f"value at row {row}, column {col}: {plain_value(plane[row, col], 4)}\n"
                f"min {plain_value(plane.min())} · max {plain_value(plane.max())}"
                f" · mean {plain_value(plane.mean())}\n"
                f"colours: {scale}, full strength at ±{plain_value(self.map_limit(channel))}")

    def _series_tooltip(self, channel: int, step: int) -> str:
        values = self.output[:, channel]
        scale = "shared scale" if self.shared_scale() else "its own scale"
        return (f"Channel {channel}\n"
                f"value at step {step}: {plain_value(values[step], 4)}\n"
                f"min {plain_value(values.min())} · max {plain_value(values.max())}"
                f" · mean {plain_value(values.mean())}\n"
                f"{scale}: full height (or colour) at ±{plain_value(self.map_limit(channel))}")
