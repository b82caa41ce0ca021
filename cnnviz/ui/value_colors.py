"""One colour scale for every number the explainer draws: centred on zero, with its legend.

Negative values are blue, zero is white, positive values are orange-red; the strength is the
value divided by a symmetric limit (the largest |value| in view), so zero always looks the same.
Images (grayscale pixels in [0, 1]) use a plain gray ramp instead: see `gray_image`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

NEGATIVE = np.array([33, 102, 172], np.float32)    # deep blue
ZERO = np.array([247, 247, 247], np.float32)        # near white
POSITIVE = np.array([202, 0, 32], np.float32)       # deep red


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest |value| over the arrays, never 0 (so a map of zeros is plain white)."""
    largest = 0.0
    for array in arrays:
        if array is not None and np.size(array):
            largest = max(largest, float(np.nanmax(np.abs(array))))
    return largest if largest > 0 and np.isfinite(largest) else 1.0


def diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """uint8 RGB (..., 3) for values, blue below zero, white at zero, red above."""
    t = np.clip(np.nan_to_num(np.asarray(values, np.float32)) / float(limit), -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, ZERO + (POSITIVE - ZERO) * t, ZERO + (NEGATIVE - ZERO) * (-t))
    return rgb.astype(np.uint8)


def diverging_color(value: float, limit: float) -> QColor:
    r, g, b = diverging_rgb(np.array([value]), limit)[0]
    return QColor(int(r), int(g), int(b))


def text_color_on(value: float, limit: float) -> QColor:
    """Black or white, whichever reads better on the cell colour of `value`."""
    return QColor("white") if abs(value) / float(limit) > 0.6 else QColor(30, 30, 30)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of uint8 (H, W, 3) pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer, which may be freed


def diverging_image(values: np.ndarray, limit: float) -> QImage:
    """A (H, W) map as a QImage, one pixel per value, on the zero-centred scale."""
    return rgb_to_qimage(diverging_rgb(np.atleast_2d(values), limit))


def gray_image(pixels: np.ndarray) -> QImage:
    """An input image as a QImage: (H, W) or (H, W, 1) gray, or (H, W, 3) colour, values in [0, 1]."""
    array = np.clip(np.nan_to_num(np.asarray(pixels, np.float32)), 0.0, 1.0)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return rgb_to_qimage((array[..., :3] * 255.0 + 0.5).astype(np.uint8))


class ColorLegend(QWidget):
    """A horizontal bar from -limit (blue) through 0 (white) to +limit (red), labelled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._limit = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(160)
        self.setToolTip("Colour scale: blue is negative, white is zero, red is positive")

    def set_limit(self, limit: float) -> None:
        self._limit = float(limit) if limit > 0 else 1.0
        self.update()

    def limit(self) -> float:
        return self._limit

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, self.fontMetrics().height() * 2 + 12)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = self.fontMetrics()
        bar = QRectF(4, 2, self.width() - 8, max(8, self.height() - metrics.height() - 8))
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        gradient.setColorAt(0.0, QColor(*NEGATIVE.astype(int)))
        gradient.setColorAt(0.5, QColor(*ZERO.astype(int)))
        gradient.setColorAt(1.0, QColor(*POSITIVE.astype(int)))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        painter.drawRect(bar)
        text_top = bar.bottom() + 2
        text_rect = QRectF(bar.left(), text_top, bar.width(), metrics.height() + 2)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, format_value(-self._limit))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight, format_value(self._limit))
        painter.end()


def format_value(value: float, digits: int = 3) -> str:
    """A number short enough for a grid cell: 0.123, -1.50, 12.3, 1.2e+03."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000 or magnitude < 0.001:
        return f"{value:.1e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.{max(digits - 1, 1)}f}" if magnitude >= 1 else f"{value:.{digits}f}"
