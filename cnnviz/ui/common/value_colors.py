"""One colour scale for every number the explainer draws: centred on zero, with its legend.

Negative values are blue, zero is white, positive values are orange-red; the strength is the
value divided by a symmetric limit (the largest |value| in view), so zero always looks the same.
Images (grayscale pixels in [0, 1]) use a plain gray ramp instead: see `gray_image`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.core.formatting import plain_value

NEGATIVE = np.array([33, 102, 172], np.float32)    # deep blue
ZERO = np.array([247, 247, 247], np.float32)        # near white
POSITIVE = np.array([202, 0, 32], np.float32)       # deep red
# A right or a wrong answer (the probability chart, the misclassified gallery).
RIGHT = QColor(26, 140, 60)
WRONG = QColor(202, 0, 32)


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


def array_to_qimage(image: np.ndarray) -> QImage:
    """A QImage copy of one uint8 image shaped (H, W, 1) or (H, W, 3)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width, channels = image.shape
    if channels == 1:
        return QImage(image.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(image[:, :, :3])
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


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
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, plain_value(-self._limit))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight, plain_value(self._limit))
        painter.end()


# ----------------------------------------------------------------------------- maps as widgets

def vector_columns(length: int, width: float, height: float, most: int | None = None) -> int:
    """How many columns a 1-D vector of `length` values is wrapped into so that its square
    cells come out as big as possible in a width × height area (at most `most` columns)."""
    length = max(int(length), 1)
    best_cols, best_cell = 1, 0.0
    for cols in range(1, min(length, most or length) + 1):
        rows = -(-length // cols)
        cell = min(width / cols, height / rows)
        if cell > best_cell + 1e-9:
            best_cols, best_cell = cols, cell
    return best_cols


def fit_cells(area: QRectF, rows: int, cols: int) -> tuple[QRectF, float]:
    """The centred rectangle of `rows` × `cols` square cells filling `area`, and the cell size."""
    cell = max(min(area.width() / max(cols, 1), area.height() / max(rows, 1)), 0.5)
    width, height = cell * cols, cell * rows
    left = area.left() + (area.width() - width) / 2
    top = area.top() + (area.height() - height) / 2
    return QRectF(left, top, width, height), cell


def cell_font(base: QFont, cell: float, text: str = "-0.00") -> QFont | None:
    """A font that fits `text` inside a cell of `cell` pixels, or None when none readable does."""
    font = QFont(base)
    for pixel_size in range(min(16, int(cell * 0.42)), 7, -1):
        font.setPixelSize(pixel_size)
        if QFontMetrics(font).horizontalAdvance(text) + 4 <= cell:
            return font
    return None


class ValueMap(QWidget):
    """One 2-D map, or a 1-D vector wrapped into rows, on the zero-centred scale.

    Cells are square; each shows its number when it is big enough to read. Hovering and
    clicking report the cell as a position in the array: (row, col) for a map, (index,) for a
    vector; None when the mouse leaves.
    """

    cell_hovered = Signal(object)
    cell_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, title: str = "",
                 wrap: int | None = None, gray: bool = False) -> None:
        super().__init__(parent)
        self._title = title
        self._wrap = wrap
        self._gray = gray
        self._values = np.zeros((1, 1), np.float32)
        self._vector: np.ndarray | None = None   # the values of a 1-D vector, unwrapped
        self._limit = 1.0
        self._image = QImage()
        self._primary: tuple[int, ...] | None = None
        self._secondary: list[tuple[int, ...]] = []
        self._show_numbers: bool | None = None
        self._crossed = np.zeros((0, 0), bool)
        self._hovered: tuple[int, ...] | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- data
    def set_values(self, values: np.ndarray, limit: float | None = None,
                   title: str | None = None) -> None:
        """Show `values` ((H, W) map or (N,) vector) with colour limit `limit` (default: the
        largest |value| of its own)."""
        array = np.asarray(values, np.float32)
        self._limit = float(limit) if limit and limit > 0 else symmetric_limit(array)
        if title is not None:
            self._title = title
        if array.ndim == 1:
            self._vector = array
            self._wrap_vector(force=True)
        else:
            self._vector = None
            self._set_grid(np.atleast_2d(array.squeeze()) if array.ndim > 2 else array)
        self._primary, self._secondary, self._hovered = None, [], None
        self._crossed = np.zeros((0, 0), bool)
        self.update()

    def _set_grid(self, array: np.ndarray) -> None:
        self._values = array
        if self._gray:
            self._image = gray_image(np.nan_to_num(array))
        else:
            self._image = diverging_image(array, self._limit)

    def _wrap_vector(self, force: bool = False) -> None:
        """Lay a vector out in the rows that give the biggest cells at the current size."""
        vector = self._vector
        cols = vector_columns(vector.size, self.width() - 4,
                              self.height() - 4 - self._title_height(), self._wrap)
        if not force and cols == self._values.shape[1]:
            return
        rows = -(-max(vector.size, 1) // cols)
        crossed = self._crossed_vector() if not force else None
        padded = np.full(rows * cols, np.nan, np.float32)
        padded[: vector.size] = vector
        self._set_grid(padded.reshape(rows, cols))
        if crossed is not None:
            self.set_crossed(crossed)

    def _crossed_vector(self) -> np.ndarray | None:
        if self._crossed.shape != self._values.shape or self._vector is None:
            return None
        return self._crossed.ravel()[: self._vector.size]

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._vector is not None:
            self._wrap_vector()

    def set_crossed(self, mask: np.ndarray | None) -> None:
        """Cross out the cells where `mask` (shaped like the values) is True."""
        if mask is None:
            self._crossed = np.zeros((0, 0), bool)
        else:
            mask = np.asarray(mask, bool)
            if mask.ndim == 1:
                padded = np.zeros(self._values.size, bool)
                padded[: mask.size] = mask
                mask = padded.reshape(self._values.shape)
            self._crossed = mask
        self.update()

    def set_title(self, title: str) -> None:
        self._title = title
        self.update()

    def set_highlight(self, primary: tuple[int, ...] | None,
                      secondary: list[tuple[int, ...]] | None = None) -> None:
        """Outline `primary` boldly and `secondary` cells dashed (positions as in the signals)."""
        self._primary = tuple(primary) if primary is not None else None
        self._secondary = [tuple(p) for p in (secondary or [])]
        self.update()

    def set_show_numbers(self, show: bool | None) -> None:
        """True/False forces numbers in cells on or off; None shows them when they fit."""
        self._show_numbers = show
        self.update()

    def limit(self) -> float:
        return self._limit

    def grid_shape(self) -> tuple[int, int]:
        return self._values.shape[0], self._values.shape[1]

    # -- geometry
    def _title_height(self) -> int:
        return self.fontMetrics().height() + 6 if self._title else 0

    def map_rect(self) -> tuple[QRectF, float]:
        area = QRectF(2, 2 + self._title_height(), self.width() - 4,
                      self.height() - 4 - self._title_height())
        return fit_cells(area, *self.grid_shape())

    def _grid_cell(self, position: tuple[int, ...]) -> tuple[int, int]:
        if self._vector is not None:
            return divmod(int(position[0]), self.grid_shape()[1])
        return int(position[0]), int(position[1])

    def cell_rect(self, position: tuple[int, ...]) -> QRectF:
        """The on-screen rectangle of a cell (position as in the signals)."""
        rect, cell = self.map_rect()
        row, col = self._grid_cell(position)
        return QRectF(rect.left() + col * cell, rect.top() + row * cell, cell, cell)

    def position_at(self, point: QPointF) -> tuple[int, ...] | None:
        rect, cell = self.map_rect()
        if not rect.contains(point):
            return None
        rows, cols = self.grid_shape()
        row = min(int((point.y() - rect.top()) / cell), rows - 1)
        col = min(int((point.x() - rect.left()) / cell), cols - 1)
        if self._vector is not None:
            index = row * cols + col
            return (index,) if index < self._vector.size else None
        return row, col

    # -- Qt
    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 200 + self._title_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(48, 48 + self._title_height())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        position = self.position_at(event.position())
        if position != self._hovered:
            self._hovered = position
            self.cell_hovered.emit(position)

    def leaveEvent(self, _event) -> None:  # noqa: N802
        if self._hovered is not None:
            self._hovered = None
            self.cell_hovered.emit(None)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        position = self.position_at(event.position())
        if position is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(position)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        text_color = self.palette().windowText().color()
        if self._title:
            title_font = QFont(self.font())
            title_font.setBold(True)
            painter.setFont(title_font)
            painter.setPen(text_color)
            top = self.map_rect()[0].top() - self._title_height()
            painter.drawText(QRectF(0, top, self.width(), self._title_height()),
                             Qt.AlignmentFlag.AlignCenter,
                             QFontMetrics(title_font).elidedText(
                                 self._title, Qt.TextElideMode.ElideRight, self.width()))
        rect, cell = self.map_rect()
        painter.drawImage(rect, self._image)
        rows, cols = self.grid_shape()
        background = self.palette().window().color()
        blank = np.argwhere(np.isnan(self._values))
        for row, col in blank:  # the unused end of a wrapped vector
            painter.fillRect(QRectF(rect.left() + col * cell, rect.top() + row * cell, cell, cell),
                             background)
        if cell >= 6:
            painter.setPen(QPen(QColor(0, 0, 0, 40), 1))
            for row in range(1, rows):
                y = rect.top() + row * cell
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            for col in range(1, cols):
                x = rect.left() + col * cell
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        self._draw_numbers(painter, rect, cell)
        if self._crossed.shape == self._values.shape and cell >= 4:
            painter.setPen(QPen(QColor(90, 90, 90), max(1.0, cell / 14)))
            inset = cell * 0.25
            for row, col in np.argwhere(self._crossed):
                box = QRectF(rect.left() + col * cell, rect.top() + row * cell, cell, cell)
                box = box.adjusted(inset, inset, -inset, -inset)
                painter.drawLine(box.topLeft(), box.bottomRight())
                painter.drawLine(box.topRight(), box.bottomLeft())
        painter.setPen(QPen(QColor(120, 120, 120), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        for position in self._secondary:
            painter.setPen(QPen(QColor(40, 40, 40), 2, Qt.PenStyle.DashLine))
            painter.drawRect(self.cell_rect(position).adjusted(1, 1, -1, -1))
        if self._primary is not None:
            target = self.cell_rect(self._primary)
            grow = max(0.0, 3 - cell / 2)  # tiny cells: draw the mark a little bigger
            target = target.adjusted(-grow, -grow, grow, grow)
            painter.setPen(QPen(QColor(20, 20, 20), 3))
            painter.drawRect(target)
            painter.setPen(QPen(QColor(255, 220, 0), 1.5))
            painter.drawRect(target.adjusted(-2, -2, 2, 2))
        painter.end()

    def _draw_numbers(self, painter: QPainter, rect: QRectF, cell: float) -> None:
        if self._show_numbers is False or self._gray:
            return
        font = cell_font(self.font(), cell)
        if font is None:
            return
        painter.setFont(font)
        rows, cols = self.grid_shape()
        for row in range(rows):
            for col in range(cols):
                value = float(self._values[row, col])
                if not np.isfinite(value):
                    continue
                painter.setPen(text_color_on(value, self._limit))
                painter.drawText(QRectF(rect.left() + col * cell, rect.top() + row * cell,
                                        cell, cell), Qt.AlignmentFlag.AlignCenter,
                                 plain_value(value, 2))
