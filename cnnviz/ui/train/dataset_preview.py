"""A grid of sample images (or signals, as small line plots) with their class names, so the
user sees what the data is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.ui.common.value_colors import array_to_qimage, diverging_image, symmetric_limit
from cnnviz.ui.common.zoom import scaled, watch_zoom

GAP = 6
# A signal's tile is this many times wider than high: a series reads along its length.
SERIES_ASPECT = 2
# Up to this many channels are drawn as lines (one colour each); more as a heat strip.
MOST_LINES = 4
LINE_COLORS = (QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
               QColor(148, 103, 189))


def draw_series(painter: QPainter, rect: QRect, series: np.ndarray, frame: QColor) -> None:
    """One signal (steps, channels) in rect: a line per channel on a shared vertical scale
    (up to MOST_LINES channels), else a heat strip of channels × steps; with a frame and,
    when the values cross zero, a faint zero line."""
    values = np.asarray(series, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    steps, channels = values.shape
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.fillRect(rect, QColor(255, 255, 255))
    inner = rect.adjusted(2, 3, -2, -3)
    if channels > MOST_LINES:
        strip = diverging_image(values.T.astype(np.float32), symmetric_limit(values) or 1.0)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(inner, strip)
    elif steps:
        low, high = float(values.min()), float(values.max())
        span = high - low or 1.0
        x_scale = inner.width() / max(steps - 1, 1)

        def y_of(value: float) -> float:
            return inner.bottom() - (value - low) / span * inner.height()

        if low < 0 < high:
            painter.setPen(QPen(QColor(200, 200, 200), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(inner.left(), y_of(0.0)), QPointF(inner.right(), y_of(0.0)))
        xs = inner.left() + np.arange(steps) * x_scale
        for channel in range(channels):
            ys = inner.bottom() - (values[:, channel] - low) / span * inner.height()
            painter.setPen(QPen(LINE_COLORS[channel % len(LINE_COLORS)], 1.4))
            painter.drawPolyline(QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)]))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(frame)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect.adjusted(0, 0, -1, -1))
    painter.restore()


class DatasetPreview(QWidget):
    """Paints as many sample tiles as fit, each with its class name underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._series: list[np.ndarray] = []   # signals (steps, channels), drawn as lines
        self._labels: list[str] = []
        self._message = "No data loaded yet."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._fit_to_zoom()
        watch_zoom(self._fit_to_zoom)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom reached this widget's font
            self._fit_to_zoom()

    def label_height(self) -> int:
        """The height of a class name under a tile: the window's text, so it follows the zoom."""
        return self.fontMetrics().height()

    def _fit_to_zoom(self) -> None:
        self.setMinimumHeight(scaled(40) + self.label_height() + 2 * GAP)   # one row at least
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 2 * (scaled(48) + self.label_height() + GAP) + GAP)

    def set_samples(self, images: np.ndarray, labels: list[str]) -> None:
        """Show these examples labelled with their class names: images (uint8, N×H×W×C) as
        pictures, signals (float, N×steps×channels) as small line plots."""
        if images.ndim == 3:
            self._images, self._series = [], [np.asarray(s) for s in images]
        else:
            self._images, self._series = [array_to_qimage(img) for img in images], []
        self._labels = list(labels)
        self._message = "" if self.sample_count else "This split has no examples."
        self.update()

    def show_message(self, text: str) -> None:
        self._images, self._series, self._labels, self._message = [], [], [], text
        self.update()

    @property
    def sample_count(self) -> int:
        return len(self._images) + len(self._series)

    @property
    def shows_series(self) -> bool:
        """True when the samples are signals drawn as line plots."""
        return bool(self._series)

    def tile_width(self, tile: int) -> int:
        """A sample's drawn width: square for images, SERIES_ASPECT times wider for signals."""
        return tile * SERIES_ASPECT if self._series else tile

    def tile_size(self) -> int:
        """Tiles grow with the widget; two rows when there is room, one when the room is short."""
        rows = 2 if self.height() >= 2 * (scaled(40) + self.label_height() + GAP) + GAP else 1
        return max(scaled(32), min(scaled(96 if rows == 2 else 64),
                                   (self.height() - GAP) // rows - self.label_height() - GAP))

    def column_width(self, tile: int) -> int:
        """A tile's column: as wide as its image, or as its widest class name (up to three
        images wide), so the names under the images are written whole."""
        widest = max((self.fontMetrics().horizontalAdvance(label) for label in self._labels),
                     default=0)
        return max(self.tile_width(tile), min(widest + 4, 3 * tile))

    def labels_fit(self) -> bool:
        """Every class name shown is written whole under its image."""
        width = self.column_width(self.tile_size()) + GAP - 2
        return all(self.fontMetrics().horizontalAdvance(label) <= width for label in self._labels)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if not self.sample_count:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        tile = self.tile_size()
        column_width = self.column_width(tile)
        columns = max(1, (self.width() - GAP) // (column_width + GAP))
        label_height = self.label_height()
        rows = max(1, (self.height() - GAP) // (tile + label_height + GAP))
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        # Nearest-neighbour scaling: the pixels of a 28×28 digit stay visible as pixels.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        width = self.tile_width(tile)
        frame = self.palette().color(QPalette.ColorRole.Mid)
        for index in range(min(self.sample_count, columns * rows)):
            row, column = divmod(index, columns)
            x = GAP + column * (column_width + GAP)
            y = GAP + row * (tile + label_height + GAP)
            target = QRect(x + (column_width - width) // 2, y, width, tile)
            if self._series:
                draw_series(painter, target, self._series[index], frame)
                painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            else:
                painter.drawImage(target, self._images[index])
            text = painter.fontMetrics().elidedText(self._labels[index],
                                                    Qt.TextElideMode.ElideRight,
                                                    column_width + GAP - 2)
            painter.drawText(QRect(x - GAP // 2, y + tile, column_width + GAP, label_height),
                             Qt.AlignmentFlag.AlignCenter, text)
