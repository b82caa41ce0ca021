"""A square canvas to draw a digit on with the mouse: white strokes on black, like MNIST."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

# Pen width as a fraction of the canvas side: a digit drawn about 3/4 of the canvas tall
# ends up with strokes ~2.5 px wide in its 20×20 box, as in MNIST.
PEN_FRACTION = 0.09
# ink() renders the strokes at this resolution whatever the widget's size, so the same
# drawing gives the same model input in a small and a large window.
INK_RESOLUTION = 280
MINIMUM_SIDE = 200

Stroke = list[tuple[float, float]]  # points in canvas units: (0, 0) top left, (1, 1) bottom right


class DrawingCanvas(QWidget):
    """Draw with the left mouse button; the right button (or clear()) erases everything.

    The drawing is kept as strokes in canvas units, so it scales with the widget.
    `drawing_changed` is emitted when a stroke ends and when the canvas is cleared.
    """

    drawing_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._strokes: list[Stroke] = []
        self._drawing = False
        self.setMinimumSize(MINIMUM_SIDE, MINIMUM_SIDE)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button. Right-click to clear.")

    # -- size -------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 240)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(MINIMUM_SIDE, width)

    def square(self) -> QRectF:
        """The drawing area: the largest centred square inside the widget."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    # -- the drawing ------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self._strokes

    def clear(self) -> None:
        """Erase everything and say so."""
        self._strokes = []
        self._drawing = False
        self.update()
        self.drawing_changed.emit()

    def ink(self) -> np.ndarray:
        """The drawing as float32 (INK_RESOLUTION, INK_RESOLUTION) in [0, 1], 1 = ink."""
        side = INK_RESOLUTION
        image = QImage(side, side, QImage.Format.Format_Grayscale8)
        image.fill(0)
        painter = QPainter(image)
        self._paint_strokes(painter, QRectF(0, 0, side, side), QColor(255, 255, 255))
        painter.end()
        # Rows of a QImage are padded to 4 bytes; bytesPerLine says how far apart they are.
        stride = image.bytesPerLine()
        buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * side)
        return buffer.reshape(side, stride)[:, :side].astype(np.float32) / 255.0

    def _paint_strokes(self, painter: QPainter, area: QRectF, color: QColor) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(color, PEN_FRACTION * area.width(), Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for stroke in self._strokes:
            points = [QPointF(area.left() + x * area.width(), area.top() + y * area.height())
                      for x, y in stroke]
            if len(points) == 1:
                painter.drawPoint(points[0])  # a click leaves a round dot
                continue
            path = QPainterPath(points[0])
            for point in points[1:]:
                path.lineTo(point)
            painter.drawPath(path)

    # -- mouse ------------------------------------------------------------------------
    def _canvas_point(self, event: QMouseEvent) -> tuple[float, float]:
        area = self.square()
        position = event.position()
        x = (position.x() - area.left()) / max(area.width(), 1.0)
        y = (position.y() - area.top()) / max(area.height(), 1.0)
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
        elif event.button() == Qt.MouseButton.LeftButton:
            self._strokes.append([self._canvas_point(event)])
            self._drawing = True
            self.update()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drawing and event.buttons() & Qt.MouseButton.LeftButton:
            self._strokes[-1].append(self._canvas_point(event))
            self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._drawing:
            self._drawing = False
            self.update()
            self.drawing_changed.emit()
        event.accept()

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        area = self.square()
        painter.fillRect(area, QColor(0, 0, 0))
        if not self.isEnabled():
            painter.end()
            return
        if not self._strokes:
            # A faint hint of where MNIST digits sit: the 20×20 box of the 28×28 field.
            margin = area.width() * (1 - 20 / 28) / 2
            painter.setPen(QPen(QColor(90, 90, 90), 1, Qt.PenStyle.DashLine))
            painter.drawRect(area.adjusted(margin, margin, -margin, -margin))
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        else:
            self._paint_strokes(painter, area, QColor(255, 255, 255))
        painter.end()
