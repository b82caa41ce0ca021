"""Drawing sequences for the 1-D step views (QPainter only, no widgets).

`SeriesPanel` draws one or more series on a shared step axis: a line plot per lane, or a
heat strip per lane when there are many (a 64-channel feature sequence), with the zero padding
beyond the ends hatched as the 2-D views hatch their padding border. `OutputTrack` draws a
sequence as a stem plot (a line when the stems would crowd) whose first n values are drawn and
the rest left blank: the output growing as playback advances. Both render their static part
once into a pixmap, so a playback step only draws what moves on top of them.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

from cnnviz.ui.common.value_colors import diverging_color, diverging_image
from cnnviz.ui.common.zoom import line_width, presenting
from cnnviz.ui.explain.views.grid_painting import (
    FOCUS_BACKGROUND,
    GRID_LINE,
    MUTED_TEXT,
    PADDING_CELL,
    PADDING_HATCH,
    display_value,
)

SERIES_LINE = QColor(32, 74, 135)      # a signal's line: dark blue, reads on white and amber
ZERO_LINE = QColor(170, 170, 170)
LANE_SHADE = QColor(246, 246, 246)     # every other lane, so neighbouring lanes part
MAX_LINE_LANES = 8                     # more channels than this are drawn as heat strips


def nice_ticks(first: int, last: int, room_px: float, label_px: float) -> list[int]:
    """Step numbers to label along an axis from `first` to `last`, spaced so that labels
    `label_px` wide never touch: multiples of 1, 2, 5, 10, 20, 50 … plus both ends."""
    span = max(1, last - first)
    fits = max(1, int(room_px / max(label_px * 1.8, 1.0)))
    candidates = [base * 10 ** power for power in range(7) for base in (1, 2, 5)]
    step = next((c for c in candidates if span / c <= fits), candidates[-1])
    ticks = [t for t in range(math.ceil(first / step) * step, last + 1, step)]
    ends = [first, last]
    spacing = room_px / span
    kept = [t for t in ticks if all(abs(t - e) * spacing >= label_px * 1.2 for e in ends)]
    return sorted(set(kept + ends))


def value_range(values: np.ndarray) -> tuple[float, float]:
    """(low, high) of a plot's value axis: the values' range with 0 in it, never empty."""
    values = np.asarray(values, np.float32)
    finite = values[np.isfinite(values)] if values.size else values
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max(0.0, float(finite.max())) if finite.size else 1.0
    if high - low < 1e-12:
        high = low + 1.0
    return low, high


def hatch(painter: QPainter, rect: QRectF) -> None:
    """A padding area: grey with diagonal hatching, as the 2-D views draw padding cells."""
    painter.fillRect(rect, PADDING_CELL)
    painter.fillRect(rect, QBrush(PADDING_HATCH, Qt.BrushStyle.BDiagPattern))


class SeriesPanel:
    """Lanes of series over a shared step axis, with padding before and after.

    `values` is (steps, lanes). Positions run from −before to steps − 1 + after; positions
    outside 0 … steps − 1 are padding (drawn hatched, the series at 0 there). Call `place`
    when the widget is laid out, then `draw`; `x_of`, `lane_rect`, `y_of` and `position_at`
    map between steps and pixels.
    """

    def __init__(self) -> None:
        self.values = np.zeros((1, 1), np.float32)
        self.before = self.after = 0
        self.names: list[str] = ["series"]
        self.strips = False
        self.limit = 1.0
        self.focus: int | None = None
        self.ranges: list[tuple[float, float]] = [(0.0, 1.0)]
        self.plot = QRectF()            # the plotting area (lanes), left of it the names
        self.name_width = 0.0
        self.font = QFont()
        self.ratio = 1.0
        self.presenting = False
        self._pixmap: QPixmap | None = None

    # ------------------------------------------------------------------ data and geometry
    def set_data(self, values: np.ndarray, before: int, after: int, names: list[str],
                 limit: float, strips: bool | None = None) -> None:
        """The series (steps, lanes), the padding at each end, each lane's name, the colour
        limit of heat strips; strips defaults to "more than MAX_LINE_LANES lanes"."""
        self.values = np.asarray(values, np.float32).reshape(len(values), -1)
        self.before, self.after = int(before), int(after)
        self.names = list(names)
        self.limit = float(limit)
        self.strips = self.lanes > MAX_LINE_LANES if strips is None else bool(strips)
        self.ranges = [value_range(self.values[:, lane]) for lane in range(self.lanes)]
        self._pixmap = None

    def set_focus(self, lane: int | None) -> None:
        if lane != self.focus:
            self.focus = lane
            self._pixmap = None

    @property
    def steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def lanes(self) -> int:
        return int(self.values.shape[1])

    @property
    def positions(self) -> int:
        """Positions drawn: the steps and the padding at both ends."""
        return self.before + self.steps + self.after

    def place(self, plot: QRectF, name_width: float, font: QFont, ratio: float) -> None:
        changed = (plot != self.plot or name_width != self.name_width or font != self.font
                   or ratio != self.ratio or presenting() != self.presenting)
        if changed:
            self.plot, self.name_width, self.font = QRectF(plot), name_width, QFont(font)
            self.ratio, self.presenting = ratio, presenting()
            self._pixmap = None

    def step_width(self) -> float:
        return self.plot.width() / max(1, self.positions)

    def x_of(self, position: float) -> float:
        """The centre of input step `position` (negative: in the padding before)."""
        return self.plot.left() + (position + self.before + 0.5) * self.step_width()

    def span_rect(self, first: int, count: int) -> QRectF:
        """The steps first … first + count − 1, over every lane."""
        width = self.step_width()
        left = self.plot.left() + (first + self.before) * width
        return QRectF(left, self.plot.top(), count * width, self.plot.height())

    def lane_rect(self, lane: int) -> QRectF:
        height = self.plot.height() / max(1, self.lanes)
        return QRectF(self.plot.left(), self.plot.top() + lane * height, self.plot.width(),
                      height)

    def y_of(self, lane: int, value: float) -> float:
        """Where `value` is drawn in a line lane (the middle of a strip lane)."""
        rect = self.lane_rect(lane)
        if self.strips:
            return rect.center().y()
        low, high = self.ranges[lane]
        pad = rect.height() * 0.1
        share = (float(value) - low) / (high - low)
        return rect.bottom() - pad - share * (rect.height() - 2 * pad)

    def position_at(self, point: QPointF) -> tuple[int, int] | None:
        """(position, lane) under a point on the plot, or None."""
        if not self.plot.contains(point):
            return None
        position = math.floor((point.x() - self.plot.left()) / self.step_width()) - self.before
        lane = math.floor((point.y() - self.plot.top()) / (self.plot.height() / self.lanes))
        return position, max(0, min(lane, self.lanes - 1))

    def is_padding(self, position: int) -> bool:
        return not 0 <= position < self.steps

    # ------------------------------------------------------------------ drawing
    def draw(self, painter: QPainter) -> None:
        if self.plot.width() < 2 or self.plot.height() < 2:
            return
        if self._pixmap is None:
            self._pixmap = self._render()
        painter.drawPixmap(QPointF(self.plot.left() - self.name_width, self.plot.top()),
                           self._pixmap)

    def _render(self) -> QPixmap:
        ratio = self.ratio
        width, height = self.plot.width() + self.name_width, self.plot.height()
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QColor(255, 255, 255))
        painter = QPainter(pixmap)
        painter.translate(self.name_width - self.plot.left(), -self.plot.top())
        if self.strips:
            self._paint_strips(painter)
        else:
            self._paint_lines(painter)
        self._paint_padding(painter)
        self._paint_names(painter)
        painter.setPen(QPen(GRID_LINE, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.plot)
        painter.end()
        return pixmap

    def _paint_lines(self, painter: QPainter) -> None:
        positions = np.arange(self.steps, dtype=np.float64)
        xs = self.plot.left() + (positions + self.before + 0.5) * self.step_width()
        ink = QColor(0, 0, 0) if self.presenting else SERIES_LINE
        for lane in range(self.lanes):
            rect = self.lane_rect(lane)
            if lane == self.focus and self.lanes > 1:
                painter.fillRect(rect, QColor(FOCUS_BACKGROUND.red(), FOCUS_BACKGROUND.green(),
                                              FOCUS_BACKGROUND.blue(), 90))
            elif lane % 2:
                painter.fillRect(rect, LANE_SHADE)
            zero = self.y_of(lane, 0.0)
            painter.setPen(QPen(ZERO_LINE, line_width(1), Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))
            low, high = self.ranges[lane]
            pad = rect.height() * 0.1
            scale = (rect.height() - 2 * pad) / (high - low)
            ys = rect.bottom() - pad - (self.values[:, lane].astype(np.float64) - low) * scale
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(ink, line_width(1.6 if lane == self.focus else 1.3)))
            painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in zip(xs, ys)]))
            if self.step_width() >= 9:   # few steps: each one is a dot
                painter.setBrush(ink)
                radius = min(3.0, self.step_width() * 0.15) * (1.25 if self.presenting else 1)
                for x, y in zip(xs, ys):
                    painter.drawEllipse(QPointF(x, y), radius, radius)
            painter.restore()
            if lane:
                painter.setPen(QPen(GRID_LINE, 1))
                painter.drawLine(rect.topLeft(), rect.topRight())

    def _paint_strips(self, painter: QPainter) -> None:
        image = diverging_image(self.values.T, self.limit)
        target = self.span_rect(0, self.steps)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, image)
        painter.restore()
        if self.focus is not None:
            painter.setPen(QPen(QColor(20, 20, 20), line_width(1.5)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.lane_rect(self.focus))

    def _paint_padding(self, painter: QPainter) -> None:
        for first, count in ((-self.before, self.before), (self.steps, self.after)):
            if count <= 0:
                continue
            zone = self.span_rect(first, count)
            hatch(painter, zone)
            if self.strips:
                continue
            painter.setPen(QPen(QColor(90, 90, 90), line_width(1.3)))
            for lane in range(self.lanes):   # the zeros the kernel reads there
                zero = self.y_of(lane, 0.0)
                painter.drawLine(QPointF(zone.left(), zero), QPointF(zone.right(), zero))
        painter.setPen(QPen(QColor(60, 60, 60), line_width(1.5)))
        if self.before:
            x = self.plot.left() + self.before * self.step_width()
            painter.drawLine(QPointF(x, self.plot.top()), QPointF(x, self.plot.bottom()))
        if self.after:
            x = self.plot.left() + (self.before + self.steps) * self.step_width()
            painter.drawLine(QPointF(x, self.plot.top()), QPointF(x, self.plot.bottom()))

    def _paint_names(self, painter: QPainter) -> None:
        if self.name_width <= 0:
            return
        metrics = QFontMetricsF(self.font)
        lane_h = self.plot.height() / max(1, self.lanes)
        every = max(1, math.ceil(metrics.height() / max(lane_h, 1e-6)))
        for lane in range(self.lanes):
            focused = lane == self.focus
            near_focus = self.focus is not None and 0 < abs(lane - self.focus) < every
            if not focused and (lane % every or near_focus):
                continue
            rect = self.lane_rect(lane)
            # centred on its lane, but inside the plot's height (the pixmap ends there)
            top = min(max(rect.center().y() - metrics.height() / 2, self.plot.top()),
                      self.plot.bottom() - metrics.height())
            box = QRectF(self.plot.left() - self.name_width, top, self.name_width - 6,
                         metrics.height())
            font = QFont(self.font)
            font.setBold(focused and self.lanes > 1)
            painter.setFont(font)
            painter.setPen(QColor(25, 25, 25) if focused or self.lanes == 1 else MUTED_TEXT)
            painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self.names[lane])


class OutputTrack:
    """A sequence drawn as stems (or a line when they would crowd) at given x positions, in
    `rect`; `draw_first(n)` draws the first n values and leaves the rest as an empty axis."""

    def __init__(self) -> None:
        self.values = np.zeros(1, np.float32)
        self.xs = np.zeros(1, np.float64)
        self.limit = 1.0
        self.rect = QRectF()
        self.ratio = 1.0
        self.presenting = False
        self.low, self.high = 0.0, 1.0
        self._full: QPixmap | None = None
        self._blank: QPixmap | None = None

    def set_values(self, values: np.ndarray, limit: float) -> None:
        self.values = np.asarray(values, np.float32).ravel()
        self.limit = float(limit)
        self.low, self.high = value_range(self.values)
        self._full = self._blank = None

    def place(self, rect: QRectF, xs: np.ndarray, ratio: float) -> None:
        xs = np.asarray(xs, np.float64)
        if (rect != self.rect or ratio != self.ratio or presenting() != self.presenting
                or xs.shape != self.xs.shape or not np.array_equal(xs, self.xs)):
            self.rect, self.xs, self.ratio = QRectF(rect), xs, ratio
            self.presenting = presenting()
            self._full = self._blank = None

    @property
    def count(self) -> int:
        return int(self.values.size)

    def spacing(self) -> float:
        return float(np.min(np.diff(self.xs))) if self.xs.size > 1 else self.rect.width()

    def y_of(self, value: float) -> float:
        pad = self.rect.height() * 0.12
        share = (float(value) - self.low) / (self.high - self.low)
        return self.rect.bottom() - pad - share * (self.rect.height() - 2 * pad)

    def point(self, index: int) -> QPointF:
        return QPointF(float(self.xs[index]), self.y_of(float(self.values[index])))

    def index_at(self, point: QPointF) -> int | None:
        """The output step nearest a point on the track, or None off it."""
        if not self.rect.adjusted(-4, -4, 4, 4).contains(point) or not self.xs.size:
            return None
        index = int(np.argmin(np.abs(self.xs - point.x())))
        if abs(self.xs[index] - point.x()) > max(6.0, self.spacing()):
            return None
        return index

    def draw_first(self, painter: QPainter, count: int) -> None:
        """The first `count` values drawn, the others not yet (an empty axis)."""
        if self.rect.width() < 2 or self.rect.height() < 2:
            return
        if self._full is None:
            self._full, self._blank = self._render(True), self._render(False)
        painter.drawPixmap(self.rect.topLeft(), self._blank)
        count = max(0, min(count, self.count))
        if not count:
            return
        if count >= self.count:
            boundary = self.rect.right()
        else:
            boundary = (self.xs[count - 1] + self.xs[count]) / 2
        width = boundary - self.rect.left()
        ratio = self.ratio
        painter.drawPixmap(QRectF(self.rect.left(), self.rect.top(), width, self.rect.height()),
                           self._full, QRectF(0, 0, width * ratio, self.rect.height() * ratio))

    def _render(self, filled: bool) -> QPixmap:
        ratio = self.ratio
        pixmap = QPixmap(max(1, round(self.rect.width() * ratio)),
                         max(1, round(self.rect.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QColor(255, 255, 255) if filled else QColor(250, 250, 250))
        painter = QPainter(pixmap)
        painter.translate(-self.rect.left(), -self.rect.top())
        zero = self.y_of(0.0)
        painter.setPen(QPen(ZERO_LINE if filled else GRID_LINE, line_width(1)))
        painter.drawLine(QPointF(self.rect.left(), zero), QPointF(self.rect.right(), zero))
        if filled:
            self._paint_values(painter, zero)
        else:   # where the values will come: faint ticks on the zero line
            painter.setPen(QPen(QColor(205, 205, 205), 1))
            if self.spacing() >= 3:
                for x in self.xs:
                    painter.drawLine(QPointF(x, zero - 2), QPointF(x, zero + 2))
        painter.setPen(QPen(GRID_LINE, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect)
        painter.end()
        return pixmap

    def _paint_values(self, painter: QPainter, zero: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        ink = QColor(0, 0, 0) if self.presenting else SERIES_LINE
        points = [self.point(i) for i in range(self.count)]
        if self.spacing() >= 4:
            radius = max(2.0, min(5.0, self.spacing() * 0.3)) * (1.3 if self.presenting else 1)
            for value, tip in zip(self.values, points):
                colour = diverging_color(float(value), self.limit)
                painter.setPen(QPen(ink, line_width(1.2)))
                painter.drawLine(QPointF(tip.x(), zero), tip)
                painter.setBrush(colour)
                painter.drawEllipse(tip, radius, radius)
        else:
            path = QPainterPath(points[0])
            for tip in points[1:]:
                path.lineTo(tip)
            painter.setPen(QPen(ink, line_width(1.4)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)


def draw_stems(painter: QPainter, cells: list[QRectF], values: np.ndarray, limit: float) -> None:
    """A stem plot with one stem per cell rect: from the rect's middle line up (positive) or
    down (negative), as long as |value| / limit of half the rect, tipped with a dot in the
    value's colour. The kernel's weights drawn over their numbers."""
    if not cells:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    ink = QColor(0, 0, 0) if presenting() else QColor(60, 60, 60)
    middle = cells[0].center().y()
    painter.setPen(QPen(ZERO_LINE, line_width(1)))
    painter.drawLine(QPointF(cells[0].left(), middle), QPointF(cells[-1].right(), middle))
    half = cells[0].height() / 2 - 4
    radius = max(2.5, min(6.0, cells[0].width() * 0.1)) * (1.3 if presenting() else 1)
    half -= radius
    for cell, value in zip(cells, np.ravel(values)):
        share = max(-1.0, min(1.0, float(value) / float(limit)))
        tip = QPointF(cell.center().x(), middle - share * half)
        painter.setPen(QPen(ink, line_width(1.5)))
        painter.drawLine(QPointF(tip.x(), middle), tip)
        painter.setBrush(diverging_color(float(value), limit))
        painter.setPen(QPen(ink, line_width(1)))
        painter.drawEllipse(tip, radius, radius)
    painter.restore()


def axis_labels(painter: QPainter, panel: SeriesPanel, font: QFont, top: float) -> None:
    """Step numbers under a panel's plot (0, …, steps − 1), at `top`."""
    metrics = QFontMetricsF(font)
    label_px = metrics.horizontalAdvance(str(panel.steps - 1)) + 6
    ticks = nice_ticks(0, panel.steps - 1, panel.step_width() * max(1, panel.steps - 1),
                       label_px)
    painter.setFont(font)
    painter.setPen(MUTED_TEXT)
    for tick in ticks:
        x = panel.x_of(tick)
        painter.drawLine(QPointF(x, panel.plot.bottom()), QPointF(x, panel.plot.bottom() + 3))
        text = str(tick)
        width = metrics.horizontalAdvance(text)
        painter.drawText(QPointF(x - width / 2, top + metrics.ascent() + 3), text)


def range_labels(painter: QPainter, rect: QRectF, low: float, high: float, y_of,
                 font: QFont, width: float) -> None:
    """The top and bottom of a plot's value axis written to the left of `rect`."""
    metrics = QFontMetricsF(font)
    if rect.height() < 2.5 * metrics.height():
        return
    painter.setFont(font)
    painter.setPen(MUTED_TEXT)
    for value in (high, low):
        y = y_of(value)
        box = QRectF(rect.left() - width, y - metrics.height() / 2, width - 6, metrics.height())
        painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         display_value(value))
