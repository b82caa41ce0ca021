"""The confusion matrix: how often each true class (row) was predicted as each class (column).

A cell's colour is its share of the row, so a class with few images reads the same as one
with many: blue on the diagonal (right answers), red off it (mistakes). Shares go through a
square root before they become colour, because mistakes are usually a few percent and would
otherwise all look white. Counts are written in the cells while they fit; hovering a cell
says it in words, clicking it asks for its images.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cnnviz.core.formatting import count_text
from cnnviz.ui.common.zoom import line_width, scaled, watch_zoom

RIGHT_COLOR = np.array([31, 97, 170], np.float32)     # blue: the diagonal
WRONG_COLOR = np.array([202, 0, 32], np.float32)      # red: mistakes
BLANK = np.array([250, 250, 250], np.float32)
ZERO_TEXT = QColor(175, 175, 175)
MAX_ROW_LABEL = 96        # pixels at zoom 100 %; longer class names are elided (tooltips
MAX_COLUMN_LABEL = 72     # have them whole)
SMALLEST_NUMBER_PIXELS = 8
MARGIN = 4


def share_text(share: float) -> str:
    """"8%", "<1%" for a small non-zero share, "0%" for none."""
    if share <= 0:
        return "0%"
    percent = 100.0 * share
    return "<1%" if percent < 1 else f"{percent:.0f}%"


def cell_color(share: float, diagonal: bool) -> QColor:
    """The fill of a cell holding `share` of its row."""
    strength = float(np.sqrt(np.clip(share, 0.0, 1.0))) if np.isfinite(share) else 0.0
    target = RIGHT_COLOR if diagonal else WRONG_COLOR
    r, g, b = (BLANK + (target - BLANK) * strength).astype(int)
    return QColor(int(r), int(g), int(b))


class ConfusionMatrix(QWidget):
    """A K×K grid of counts, rows the true class, columns the predicted class."""

    cell_clicked = Signal(int, int)     # true class, predicted class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._confusion = np.zeros((0, 0), np.int64)
        self._names: list[str] = []
        self._selected: tuple[int, int] | None = None
        self._hovered: tuple[int, int] | None = None
        self._message = "Evaluate the model to see its confusion matrix."
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(scaled(220), scaled(220))
        watch_zoom(self._zoom_changed)

    def _zoom_changed(self) -> None:
        self.setMinimumSize(scaled(220), scaled(220))
        self.updateGeometry()
        self.update()

    # ------------------------------------------------------------------ data

    def set_evaluation(self, evaluation: Any | None) -> None:
        """Show the confusion matrix of an Evaluation (None: the empty message)."""
        if evaluation is None:
            self._confusion = np.zeros((0, 0), np.int64)
            self._names = []
        else:
            self._confusion = np.asarray(evaluation.confusion, np.int64)
            self._names = [str(name) for name in evaluation.class_names]
        self._selected = self._hovered = None
        self.update()

    def show_message(self, text: str) -> None:
        self._message = text
        self.set_evaluation(None)

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        """Outline one cell (the one whose images are shown), or none."""
        self._selected = (int(cell[0]), int(cell[1])) if cell is not None else None
        self.update()

    def selected(self) -> tuple[int, int] | None:
        return self._selected

    @property
    def class_count(self) -> int:
        return int(self._confusion.shape[0])

    def count(self, true: int, predicted: int) -> int:
        return int(self._confusion[true, predicted])

    def row_share(self, true: int, predicted: int) -> float:
        total = int(self._confusion[true].sum())
        return self.count(true, predicted) / total if total else 0.0

    def cell_text(self, true: int, predicted: int) -> str:
        """The count as written in the cell ("1,024")."""
        return count_text(self.count(true, predicted))

    def cell_tooltip(self, true: int, predicted: int) -> str:
        """"true cat, predicted dog: 12 images (8% of the cat images)"."""
        count = self.count(true, predicted)
        noun = "image" if count == 1 else "images"
        name_true, name_predicted = self._names[true], self._names[predicted]
        total = int(self._confusion[true].sum())
        if total == 0:
            share = f"there are no {name_true} images in this split"
        else:
            share = f"{share_text(count / total)} of the {count_text(total)} {name_true} images"
        verdict = " — right" if true == predicted else ""
        return (f"true {name_true}, predicted {name_predicted}: {count_text(count)} {noun} "
                f"({share}){verdict}")

    # ------------------------------------------------------------------ geometry

    def _text_pixels(self) -> int:
        """The window's text size in pixels: it follows the zoom."""
        return QFontInfo(self.font()).pixelSize()

    def _label_font(self, cell: float | None = None) -> QFont:
        """The class names' font: the window's, smaller only when the cells are small."""
        font = QFont(self.font())
        base = self._text_pixels()
        size = base if cell is None else int(max(min(9, base), min(base, cell * 0.45)))
        font.setPixelSize(size)
        return font

    def number_font(self, cell: float) -> QFont | None:
        """The largest font, up to the window's text size (the zoom), in which the widest
        count fits a cell; None when even a small one does not (the tooltip says it then)."""
        k = self.class_count
        widest = max((self.cell_text(t, p) for t in range(k) for p in range(k)), key=len,
                     default="0")
        font = QFont(self.font())
        for pixels in range(min(int(self._text_pixels() * 1.1), int(cell * 0.5)),
                            SMALLEST_NUMBER_PIXELS - 1, -1):
            font.setPixelSize(pixels)
            if QFontMetrics(font).horizontalAdvance("8" * len(widest)) + 4 <= cell:
                return font
        return None

    def _layout(self) -> tuple[QRectF, float, bool, float, float]:
        """(grid rect, cell size, column labels vertical?, row label width, column label height)."""
        k = max(self.class_count, 1)
        font = self._label_font()
        metrics = QFontMetrics(font)
        line = metrics.height()
        widest = max((metrics.horizontalAdvance(n) for n in self._names), default=0) + 6
        row_label_w = min(widest, scaled(MAX_ROW_LABEL))
        left = MARGIN + line + 2 + row_label_w          # axis title, then the class names
        caption = 2 * line + 4      # the colour note, on one or two lines
        # First try horizontal column labels; when names are wider than a cell, stand them up.
        for vertical in (False, True):
            column_label_h = min(widest, scaled(MAX_COLUMN_LABEL)) if vertical else line + 2
            top = MARGIN + line + 2 + column_label_h
            avail_w = self.width() - left - MARGIN
            avail_h = self.height() - top - caption - MARGIN
            cell = max(min(avail_w / k, avail_h / k), 4.0)
            if vertical or widest <= cell + 2:
                break
        width = cell * k
        spare = max(0.0, avail_w - width)
        grid = QRectF(left + spare / 2, top, width, width)
        return grid, cell, vertical, row_label_w, column_label_h

    def cell_rect(self, true: int, predicted: int) -> QRectF:
        """The on-screen rectangle of one cell (row `true`, column `predicted`)."""
        grid, cell, *_ = self._layout()
        return QRectF(grid.left() + predicted * cell, grid.top() + true * cell, cell, cell)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        if not self.class_count:
            return None
        grid, cell, *_ = self._layout()
        if not grid.contains(point):
            return None
        k = self.class_count
        true = min(int((point.y() - grid.top()) / cell), k - 1)
        predicted = min(int((point.x() - grid.left()) / cell), k - 1)
        return true, predicted

    # ------------------------------------------------------------------ Qt

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled(420), scaled(420))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled(220), scaled(220))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        cell = self.cell_at(event.position())
        if cell != self._hovered:
            self._hovered = cell
            self.update()
        if cell is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.cell_tooltip(*cell), self)

    def leaveEvent(self, _event) -> None:  # noqa: N802
        if self._hovered is not None:
            self._hovered = None
            self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_selected(cell)
            self.cell_clicked.emit(*cell)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        if not self.class_count:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
            painter.end()
            return
        grid, cell, vertical, row_label_w, column_label_h = self._layout()
        self._draw_cells(painter, grid, cell)
        self._draw_labels(painter, grid, cell, vertical, row_label_w, column_label_h, text_color)
        self._draw_marks(painter)
        painter.end()

    def _draw_cells(self, painter: QPainter, grid: QRectF, cell: float) -> None:
        k = self.class_count
        totals = self._confusion.sum(axis=1)
        font = self.number_font(cell)
        if font is not None:
            painter.setFont(font)
        for true in range(k):
            for predicted in range(k):
                share = self._confusion[true, predicted] / totals[true] if totals[true] else 0.0
                rect = self.cell_rect(true, predicted)
                painter.fillRect(rect, cell_color(share, true == predicted))
                if font is None:
                    continue
                if self._confusion[true, predicted] == 0:
                    painter.setPen(ZERO_TEXT)
                else:
                    dark = np.sqrt(share) > 0.55
                    painter.setPen(QColor("white") if dark else QColor(30, 30, 30))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                                 self.cell_text(true, predicted))
        if cell >= 6:
            painter.setPen(QPen(QColor(0, 0, 0, 30), line_width(1.0)))
            for i in range(1, k):
                offset = i * cell
                painter.drawLine(QPointF(grid.left(), grid.top() + offset),
                                 QPointF(grid.right(), grid.top() + offset))
                painter.drawLine(QPointF(grid.left() + offset, grid.top()),
                                 QPointF(grid.left() + offset, grid.bottom()))
        painter.setPen(QPen(QColor(120, 120, 120), line_width(1.0)))
        painter.drawRect(grid)

    def _draw_labels(self, painter: QPainter, grid: QRectF, cell: float, vertical: bool,
                     row_label_w: float, column_label_h: float, color: QColor) -> None:
        k = self.class_count
        font = self._label_font(cell)
        metrics = QFontMetrics(font)
        painter.setFont(font)
        painter.setPen(color)
        step = max(1, int(np.ceil((metrics.height() + 1) / cell)))  # skip labels that collide
        for i in range(0, k, step):
            name = self._names[i]
            row_rect = QRectF(grid.left() - row_label_w - 4, grid.top() + i * cell,
                              row_label_w, cell)
            painter.drawText(row_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                int(row_label_w)))
            x = grid.left() + i * cell
            if vertical:
                painter.save()
                painter.translate(x + cell / 2, grid.top() - 3)
                painter.rotate(-90)
                painter.drawText(QRectF(0, -metrics.height() / 2, column_label_h,
                                        metrics.height()),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                    int(column_label_h)))
                painter.restore()
            else:
                painter.drawText(QRectF(x - 2, grid.top() - column_label_h - 1, cell + 4,
                                        column_label_h),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                                 name)
        title = QFont(self._label_font())
        title.setBold(True)
        painter.setFont(title)
        title_metrics = QFontMetrics(title)
        line = title_metrics.height()
        top = grid.top() - column_label_h - line - 2
        painter.drawText(QRectF(grid.left(), top, grid.width(), line),
                         Qt.AlignmentFlag.AlignCenter, "predicted class →")
        painter.save()
        painter.translate(grid.left() - row_label_w - 6 - line, grid.bottom())
        painter.rotate(-90)
        painter.drawText(QRectF(0, 0, grid.height(), line), Qt.AlignmentFlag.AlignCenter,
                         "← true class")
        painter.restore()
        caption = QFont(self._label_font())
        painter.setFont(caption)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        text = "blue: right · red: wrong · darker: a bigger share of the true class (row)"
        available = self.width() - 2 * MARGIN
        painter.drawText(QRectF(MARGIN, grid.bottom() + 3, available,
                                2 * QFontMetrics(caption).height()),
                         Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, text)

    def _draw_marks(self, painter: QPainter) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self._hovered is not None and self._hovered != self._selected:
            painter.setPen(QPen(QColor(60, 60, 60), line_width(1.5)))
            painter.drawRect(self.cell_rect(*self._hovered).adjusted(1, 1, -1, -1))
        if self._selected is not None and self._selected[0] < self.class_count:
            target = self.cell_rect(*self._selected)
            painter.setPen(QPen(QColor(20, 20, 20), line_width(3.0)))
            painter.drawRect(target)
            painter.setPen(QPen(QColor(255, 200, 0), line_width(1.5)))
            painter.drawRect(target.adjusted(-2, -2, 2, 2))
