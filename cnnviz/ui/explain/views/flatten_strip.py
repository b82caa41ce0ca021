"""The painted pieces of the flatten view: `FlattenStrip`, a zoomed piece of the flat list,
and `FlattenOverview`, the whole list squeezed into one bar."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.ui.common.zoom import line_width, scaled
from cnnviz.core.formatting import count_text, format_value
from cnnviz.ui.common.value_colors import diverging_color, text_color_on


class FlattenStrip(QWidget):
    """A zoomed piece of the flat output list around the selected index, with its indexes
    above and brackets below grouping the values that came from the same pixel."""

    index_hovered = Signal(int)    # -1 when the mouse leaves
    index_clicked = Signal(int)

    BASE_CELL = 40   # at zoom 100 %; a cell holds a value written in the small font

    @property
    def CELL(self) -> int:  # noqa: N802
        """The side of a value's cell: it follows the font (the zoom)."""
        return max(scaled(self.BASE_CELL), round(self.fontMetrics().height() * 2.4))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(1, np.float32)
        self.group = 1           # values per pixel (the channel count)
        self.group_labels: list[str] = []
        self.limit = 1.0
        self.selected = 0
        self.hovered = -1
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, self.fontMetrics().height() * 2 + self.CELL + 16)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, self.sizeHint().height())

    def visible_range(self) -> range:
        count = len(self.values)
        shown = min(count, max(5, (self.width() - 8) // self.CELL))
        start = min(max(self.selected - shown // 2, 0), count - shown)
        return range(start, start + shown)

    def _cell_width(self) -> float:
        return (self.width() - 8) / max(len(self.visible_range()), 1)

    def index_rect(self, index: int) -> QRectF:
        """The on-screen cell of output[index] (an empty rectangle when it is not in view)."""
        shown = self.visible_range()
        if index not in shown:
            return QRectF()
        width = self._cell_width()
        top = self.fontMetrics().height() + 4
        return QRectF(4 + (index - shown.start) * width, top, width, self.CELL)

    def index_at(self, point: QPointF) -> int:
        shown = self.visible_range()
        top = self.fontMetrics().height() + 4
        if not (4 <= point.x() < self.width() - 4 and top <= point.y() < top + self.CELL):
            return -1
        index = shown.start + int((point.x() - 4) // self._cell_width())
        return index if index in shown else -1

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        index = self.index_at(event.position())
        if index != self.hovered:
            self.hovered = index
            self.update()
            self.index_hovered.emit(index)

    def leaveEvent(self, _event) -> None:  # noqa: N802
        if self.hovered != -1:
            self.hovered = -1
            self.update()
            self.index_hovered.emit(-1)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        index = self.index_at(event.position())
        if index >= 0:
            self.index_clicked.emit(index)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = self.fontMetrics()
        text = self.palette().windowText().color()
        small = QFont(self.font())
        small.setPixelSize(max(9, int(metrics.height() * 0.8)))
        shown = self.visible_range()
        width = self._cell_width()
        value_font = None
        for index in shown:
            rect = self.index_rect(index)
            value = float(self.values[index])
            painter.fillRect(rect, diverging_color(value, self.limit))
            painter.setPen(QPen(QColor(0, 0, 0, 60), line_width(1)))
            painter.drawRect(rect)
            painter.setFont(small)
            painter.setPen(text)
            painter.drawText(QRectF(rect.left(), 0, rect.width(), rect.top() - 2),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                             str(index))
            if value_font is None:
                value_font = QFont(small)
            if QFontMetrics(value_font).horizontalAdvance("-0.00") + 4 <= width:
                painter.setFont(value_font)
                painter.setPen(text_color_on(value, self.limit))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, format_value(value, 2))
        # pixel groups: a thick line where a new pixel starts, a bracket label under each group
        bottom = self.index_rect(shown.start).bottom() if len(shown) else 0
        painter.setFont(small)
        start = shown.start
        while start < shown.stop:
            end = min((start // self.group + 1) * self.group, shown.stop)
            left = self.index_rect(start).left()
            right = self.index_rect(end - 1).right()
            if start % self.group == 0:
                painter.setPen(QPen(text, line_width(3)))
                painter.drawLine(QPointF(left, self.index_rect(start).top() - 3),
                                 QPointF(left, bottom + 3))
            painter.setPen(QPen(QColor(90, 90, 90), line_width(1)))
            painter.drawLine(QPointF(left + 2, bottom + 5), QPointF(right - 2, bottom + 5))
            pixel = start // self.group
            label = self.group_labels[pixel] if pixel < len(self.group_labels) else ""
            painter.setPen(text)
            painter.drawText(QRectF(left, bottom + 6, right - left, metrics.height() + 2),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             QFontMetrics(small).elidedText(label, Qt.TextElideMode.ElideRight,
                                                            int(right - left)))
            start = end
        for index, color, pen_width in ((self.selected, QColor(20, 20, 20), 3),
                                        (self.hovered, QColor(255, 190, 0), 3)):
            if index in shown:
                painter.setPen(QPen(color, line_width(pen_width)))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self.index_rect(index).adjusted(1, 1, -1, -1))
        painter.end()


class FlattenOverview(QWidget):
    """The whole flat list squeezed into one bar; the zoomed piece is outlined on it."""

    index_hovered = Signal(int)
    index_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(1, np.float32)
        self.limit = 1.0
        self.window = range(0, 1)
        self.selected = 0
        self.setMouseTracking(True)
        self.setFixedHeight(self._height())

    def _height(self) -> int:
        return self.fontMetrics().height() + 4 + self._bar_height()

    def _bar_height(self) -> int:
        return max(16, self.fontMetrics().height())

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:   # the zoom changed
            self.setFixedHeight(self._height())
        super().changeEvent(event)

    def _bar(self) -> QRectF:
        return QRectF(4, 2, self.width() - 8, self._bar_height())

    def index_at(self, point: QPointF) -> int:
        bar = self._bar()
        if not (bar.left() <= point.x() < bar.right()):
            return -1
        return min(int((point.x() - bar.left()) / bar.width() * len(self.values)),
                   len(self.values) - 1)

    def x_of(self, index: int) -> float:
        bar = self._bar()
        return bar.left() + (index + 0.5) / len(self.values) * bar.width()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        self.index_hovered.emit(self.index_at(event.position()))

    def leaveEvent(self, _event) -> None:  # noqa: N802
        self.index_hovered.emit(-1)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        index = self.index_at(event.position())
        if index >= 0:
            self.index_clicked.emit(index)

    def paintEvent(self, _event) -> None:  # noqa: N802
        from cnnviz.ui.common.value_colors import diverging_rgb, rgb_to_qimage

        painter = QPainter(self)
        bar = self._bar()
        samples = np.linspace(0, len(self.values) - 1, max(int(bar.width()), 1)).round().astype(int)
        image = rgb_to_qimage(diverging_rgb(self.values[samples][None, :], self.limit))
        painter.drawImage(bar, image)
        painter.setPen(QPen(QColor(120, 120, 120), line_width(1)))
        painter.drawRect(bar)
        left, right = self.x_of(self.window.start) - 2, self.x_of(self.window.stop - 1) + 2
        painter.setPen(QPen(QColor(20, 20, 20), line_width(2)))
        painter.drawRect(QRectF(left, bar.top() - 1, max(right - left, 4), bar.height() + 2))
        painter.setPen(QPen(QColor(255, 190, 0), line_width(2)))
        marker = self.x_of(self.selected)
        painter.drawLine(QPointF(marker, bar.top() - 1), QPointF(marker, bar.bottom() + 1))
        painter.setPen(self.palette().windowText().color())
        small = QFont(self.font())
        small.setPixelSize(max(9, int(self.fontMetrics().height() * 0.8)))
        painter.setFont(small)
        label_rect = QRectF(bar.left(), bar.bottom() + 1, bar.width(), self.height() - bar.bottom())
        painter.drawText(label_rect, Qt.AlignmentFlag.AlignLeft, "0")
        painter.drawText(label_rect, Qt.AlignmentFlag.AlignHCenter,
                         f"the whole list: {count_text(len(self.values))} values")
        painter.drawText(label_rect, Qt.AlignmentFlag.AlignRight, str(len(self.values) - 1))
        painter.end()
