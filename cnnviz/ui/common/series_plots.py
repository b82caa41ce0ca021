"""Small pictures of 1-D data: a sequence as a line, weights as stems, many channels as strips.

Painting functions draw into a given rectangle with a given painter, so the feature-map grid,
the filter grid, the input picker and the mistakes gallery all draw a signal the same way:
  - `paint_line`: one channel of a (steps, channels) sequence as a line over its steps, the
    zero line dashed, the vertical scale ±limit (so two plots with one limit compare).
  - `paint_stems`: a few weights (a Conv1D filter) as stems from zero, red for a positive
    weight and blue for a negative one, as the 2-D filters colour them.
  - `heat_strip_image`: channels × steps as one image on the zero-centred colour scale.
`SeriesPlot` is a small widget showing a whole (steps, channels) signal with those painters.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.core.formatting import dims_text, plain_value
from cnnviz.ui.common.value_colors import diverging_color, diverging_image, symmetric_limit

# One colour per channel of an overlaid plot (Matplotlib's "tab10", readable on white).
CHANNEL_COLOURS = tuple(QColor(c) for c in (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"))
PLOT_BACKGROUND = QColor(255, 255, 255)
ZERO_LINE = QColor(170, 170, 170)
FRAME_COLOUR = QColor(200, 200, 200)
MAX_OVERLAID = 10            # more channels than this: one heat strip per channel instead
HEADROOM = 1.1               # a whole signal's lines stop short of its frame


def channel_colour(channel: int) -> QColor:
    return CHANNEL_COLOURS[channel % len(CHANNEL_COLOURS)]


def as_series(values: np.ndarray) -> np.ndarray:
    """A signal as float32 (steps, channels): (steps,) gains its channel axis, a batch of one
    loses its batch axis. Raises ValueError for anything else."""
    array = np.asarray(values, np.float32)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"A signal has shape (steps, channels), not {np.shape(values)}.")
    return array


def value_y(value: float, rect: QRectF, limit: float) -> float:
    """Where `value` sits vertically in `rect` on the scale ±limit (clipped to the rect)."""
    limit = limit if limit > 0 else 1.0
    fraction = 0.5 - 0.5 * float(np.clip(value / limit, -1.0, 1.0))
    return rect.top() + fraction * rect.height()


def step_x(step: float, steps: int, rect: QRectF) -> float:
    """The x of step `step` (0 … steps − 1) in `rect`: the steps fill its width."""
    if steps <= 1:
        return rect.center().x()
    return rect.left() + step * rect.width() / (steps - 1)


def step_at(x: float, steps: int, rect: QRectF) -> int:
    """The step nearest to horizontal position `x` in `rect`."""
    if steps <= 1 or rect.width() <= 0:
        return 0
    return int(np.clip(round((x - rect.left()) * (steps - 1) / rect.width()), 0, steps - 1))


def line_path(values: np.ndarray, rect: QRectF, limit: float) -> QPainterPath:
    """The path of a (steps,) sequence in `rect`. Long sequences in few pixels keep each
    pixel column's minimum and maximum, so a spike never vanishes."""
    values = np.nan_to_num(np.asarray(values, np.float32).reshape(-1))
    steps = values.size
    path = QPainterPath()
    if steps == 0:
        return path
    columns = max(1, int(rect.width()))
    if steps > 2 * columns:
        edges = np.linspace(0, steps, columns + 1).astype(int)
        lows = np.minimum.reduceat(values, edges[:-1])
        highs = np.maximum.reduceat(values, edges[:-1])
        path.moveTo(rect.left(), value_y(float(values[0]), rect, limit))
        for column in range(columns):
            x = rect.left() + (column + 0.5) * rect.width() / columns
            path.lineTo(x, value_y(float(lows[column]), rect, limit))
            path.lineTo(x, value_y(float(highs[column]), rect, limit))
        return path
    path.moveTo(step_x(0, steps, rect), value_y(float(values[0]), rect, limit))
    for step in range(1, steps):
        path.lineTo(step_x(step, steps, rect), value_y(float(values[step]), rect, limit))
    return path


def paint_line(painter: QPainter, rect: QRectF, values: np.ndarray, limit: float,
               colour: QColor, width: float = 1.5, background: bool = True) -> None:
    """One channel as a line in `rect`, on the scale ±limit, with the zero line dashed."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if background:
        painter.fillRect(rect, PLOT_BACKGROUND)
    zero = value_y(0.0, rect, limit)
    painter.setPen(QPen(ZERO_LINE, 1, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))
    pen = QPen(colour, width)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setClipRect(rect.adjusted(-1, -1, 1, 1))
    painter.drawPath(line_path(values, rect, limit))
    painter.restore()


def stem_x(index: int, count: int, rect: QRectF) -> float:
    """The x of stem `index` of `count`: each stem in the middle of its equal slot."""
    return rect.left() + (index + 0.5) * rect.width() / max(1, count)


def stem_dot_radius(rect: QRectF, count: int) -> float:
    """The radius of the dot at a stem's tip in `rect` holding `count` stems."""
    slot = rect.width() / max(1, count)
    return float(np.clip(min(slot * 0.12, rect.height() * 0.06), 2.0, 5.0))


def stem_colour(weight: float, limit: float) -> QColor:
    """Red for a positive weight, blue for a negative one, deeper for a larger |weight|; never
    paler than a third of the way, so even a tiny weight shows its sign."""
    if weight == 0 or limit <= 0:
        return ZERO_LINE
    strength = max(abs(weight), limit / 3)
    return diverging_color(strength if weight > 0 else -strength, limit)


def paint_stems(painter: QPainter, rect: QRectF, weights: np.ndarray, limit: float,
                background: bool = True) -> None:
    """Weights (k,) as stems from the zero line with a dot at the tip; colour = sign and size
    (the diverging scale ±limit), the height on the same scale."""
    weights = np.nan_to_num(np.asarray(weights, np.float32).reshape(-1))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if background:
        painter.fillRect(rect, PLOT_BACKGROUND)
    zero = value_y(0.0, rect, limit)
    painter.setPen(QPen(ZERO_LINE, 1))
    painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))
    count = weights.size
    slot = rect.width() / max(1, count)
    stem_width = float(np.clip(slot * 0.12, 1.5, 4.0))
    dot = stem_dot_radius(rect, count)
    for index, weight in enumerate(weights):
        colour = stem_colour(float(weight), limit)
        x, y = stem_x(index, count, rect), value_y(float(weight), rect, limit)
        painter.setPen(QPen(colour, stem_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawLine(QPointF(x, zero), QPointF(x, y))
        painter.setPen(QPen(colour.darker(120), 1))
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(x, y), dot, dot)
    painter.restore()


def heat_strip_image(series: np.ndarray, limit: float) -> QImage:
    """A (steps, channels) signal as a channels × steps image on the zero-centred scale: one
    row per channel, steps from left to right."""
    return diverging_image(np.ascontiguousarray(as_series(series).T), limit)


class SeriesPlot(QWidget):
    """A whole signal, small: each channel a line (overlaid, one colour each) up to
    MAX_OVERLAID channels, else one heat-strip row per channel. Hover for the values."""

    def __init__(self, height: int = 120, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series = np.zeros((0, 1), np.float32)
        self.limit = 1.0
        self.empty_text = "No signal to show."
        self.setMinimumHeight(height)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._height = height

    def set_series(self, series: np.ndarray | None, empty_text: str = "") -> None:
        """Show a (steps, channels) or (steps,) signal; None clears (showing `empty_text`)."""
        if series is None:
            self.series = np.zeros((0, 1), np.float32)
            self.empty_text = empty_text or "No signal to show."
        else:
            self.series = as_series(series)
            self.limit = symmetric_limit(self.series)
        self.setToolTip(self._summary())
        self.update()

    def is_heat_strip(self) -> bool:
        return self.series.shape[1] > MAX_OVERLAID

    def plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(2, 2, -2, -2)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, self._height)

    def _summary(self) -> str:
        if not self.series.size:
            return ""
        steps, channels = self.series.shape
        return (f"{dims_text((steps, channels))} (steps × channels) · values from "
                f"{plain_value(self.series.min())} to {plain_value(self.series.max())}")

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        rect = self.plot_rect()
        if not self.series.size:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.empty_text)
            return
        paint_series(painter, rect, self.series, self.limit)
        painter.setPen(QPen(FRAME_COLOUR, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if not self.series.size:
            return
        steps = self.series.shape[0]
        step = step_at(event.position().x(), steps, self.plot_rect())
        values = ", ".join(plain_value(v, 4) for v in self.series[step][:MAX_OVERLAID])
        more = " …" if self.series.shape[1] > MAX_OVERLAID else ""
        self.setToolTip(f"step {step}: {values}{more}\n{self._summary()}")


def paint_series(painter: QPainter, rect: QRectF, series: np.ndarray, limit: float) -> None:
    """A whole (steps, channels) signal in `rect`: overlaid lines for up to MAX_OVERLAID
    channels, else a heat strip (one row per channel)."""
    series = as_series(series)
    channels = series.shape[1]
    if channels > MAX_OVERLAID:
        painter.drawImage(rect, heat_strip_image(series, limit))
        return
    painter.fillRect(rect, PLOT_BACKGROUND)
    for channel in range(channels):
        colour = channel_colour(channel) if channels > 1 else QColor(31, 119, 180)
        paint_line(painter, rect, series[:, channel], limit * HEADROOM, colour,
                   background=False)
