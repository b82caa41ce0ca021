"""Explain view for softmax, worked out per class:
logit → z − max → eᶻ⁻ᵐᵃˣ → ÷ total → probability."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.explain.frames import SoftmaxSteps
from cnnviz.core.formatting import format_value
from cnnviz.ui.common.value_colors import POSITIVE
from cnnviz.ui.explain.views.view_parts import note_label
from cnnviz.ui.common.zoom import line_width, set_relative_font


class SoftmaxLadder(QWidget):
    """The painted table: logit → shifted → exp → ÷ total → probability."""

    row_clicked = Signal(int)

    HEADERS = ("class", "logit z", "z − max", "eᶻ⁻ᵐᵃˣ", "probability")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: SoftmaxSteps | None = None
        self.names: list[str] = []
        self.selected = 0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def row_count(self) -> int:
        return 0 if self.steps is None else len(self.steps.logits)

    def _min_row(self) -> int:
        return self.fontMetrics().height() + 6

    def row_height(self) -> float:
        rows = self.row_count() + 2  # header and total
        return min(max(self._min_row(), self.height() / max(rows, 1)), self._min_row() * 1.9)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, (self.row_count() + 2) * self._min_row())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, int((self.row_count() + 2) * self._min_row() * 1.5))

    def row_rect(self, row: int) -> QRectF:
        """The rectangle of class `row` (the header is above row 0)."""
        height = self.row_height()
        return QRectF(0, (row + 1) * height, self.width(), height)

    def _columns(self) -> list[QRectF]:
        width = self.width() - 8
        fractions = (0.17, 0.14, 0.14, 0.14, 0.41)
        lefts = np.concatenate([[0.0], np.cumsum(fractions)]) * width + 4
        return [QRectF(lefts[i], 0, lefts[i + 1] - lefts[i], 0) for i in range(5)]

    def class_name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else str(index)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        row = int(event.position().y() // self.row_height()) - 1
        if 0 <= row < self.row_count():
            self.selected = row
            self.update()
            self.row_clicked.emit(row)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        row = int(event.position().y() // self.row_height()) - 1
        self.setToolTip(self.row_formula(row) if 0 <= row < self.row_count() else "")

    def row_formula(self, row: int) -> str:
        steps = self.steps
        if steps is None:
            return ""
        top = float(np.max(steps.logits))
        return (f"{self.class_name(row)}: e^({format_value(steps.logits[row])} − "
                f"{format_value(top)}) = e^({format_value(steps.shifted[row])}) = "
                f"{format_value(steps.exponentials[row])};  {format_value(steps.exponentials[row])}"
                f" ÷ {format_value(steps.total)} = {steps.probabilities[row]:.3f}"
                f" ({100 * steps.probabilities[row]:.1f}%)")

    def paintEvent(self, _event) -> None:  # noqa: N802
        steps = self.steps
        if steps is None:
            return
        painter = QPainter(self)
        height = self.row_height()
        font = QFont(self.font())
        font.setPixelSize(int(min(max(QFontMetrics(self.font()).height() * 0.85, height * 0.45),
                                  QFontMetrics(self.font()).height() * 1.3)))
        bold = QFont(font)
        bold.setBold(True)
        columns = self._columns()
        text = self.palette().windowText().color()
        best = int(np.argmax(steps.probabilities))
        align = Qt.AlignmentFlag.AlignVCenter
        right = align | Qt.AlignmentFlag.AlignRight
        top = float(np.max(steps.logits))
        headers = (self.HEADERS[0], self.HEADERS[1], f"z − {format_value(top)}",
                   self.HEADERS[3], f"÷ {format_value(steps.total)}  →  probability")
        painter.setFont(bold)
        painter.setPen(text)
        for column, header in zip(columns, headers):
            painter.drawText(QRectF(column.left(), 0, column.width() - 6, height),
                             align | (Qt.AlignmentFlag.AlignLeft if column is columns[0]
                                      or column is columns[4] else Qt.AlignmentFlag.AlignRight),
                             header)
        painter.setPen(QPen(QColor(150, 150, 150), line_width(1)))
        painter.drawLine(QPointF(4, height - 1), QPointF(self.width() - 4, height - 1))
        for row in range(self.row_count()):
            rect = self.row_rect(row)
            if row == self.selected:
                painter.fillRect(rect, QColor(255, 243, 196))
            elif row % 2:
                painter.fillRect(rect, QColor(0, 0, 0, 7))
            painter.setFont(bold if row == best else font)
            painter.setPen(text)
            cells = (self.class_name(row), format_value(steps.logits[row]),
                     format_value(steps.shifted[row]), format_value(steps.exponentials[row]))
            for index, value in enumerate(cells):
                column = columns[index]
                flags = align | (Qt.AlignmentFlag.AlignLeft if index == 0
                                 else Qt.AlignmentFlag.AlignRight)
                shown = QFontMetrics(painter.font()).elidedText(
                    value, Qt.TextElideMode.ElideRight, int(column.width() - 8))
                painter.drawText(QRectF(column.left(), rect.top(), column.width() - 6, height),
                                 flags, shown)
            self._draw_probability(painter, columns[4], rect, float(steps.probabilities[row]))
        total = self.row_rect(self.row_count())
        painter.setPen(QPen(QColor(150, 150, 150), line_width(1)))
        painter.drawLine(QPointF(4, total.top()), QPointF(self.width() - 4, total.top()))
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRectF(columns[0].left(), total.top(), columns[2].right() - 6, height),
                         align | Qt.AlignmentFlag.AlignLeft, "total")
        painter.drawText(QRectF(columns[3].left(), total.top(), columns[3].width() - 6, height),
                         right, format_value(steps.total))
        painter.drawText(QRectF(columns[4].left(), total.top(), columns[4].width() - 6, height),
                         right, f"sum {float(np.sum(steps.probabilities)):.3f}")
        painter.end()

    def _draw_probability(self, painter: QPainter, column: QRectF, rect: QRectF,
                          probability: float) -> None:
        label = f"{probability:.3f}  ({100 * probability:.1f}%)"
        label_width = QFontMetrics(painter.font()).horizontalAdvance("0.000  (100.0%)") + 8
        bar_area = QRectF(column.left() + 2, rect.top() + rect.height() * 0.2,
                          max(column.width() - label_width - 8, 10), rect.height() * 0.6)
        painter.fillRect(bar_area, QColor(0, 0, 0, 10))
        filled = bar_area.width() * min(max(probability, 0.0), 1.0)
        painter.fillRect(QRectF(bar_area.left(), bar_area.top(), filled, bar_area.height()),
                         QColor(*POSITIVE.astype(int)))
        painter.setPen(self.palette().windowText().color())
        painter.drawText(QRectF(bar_area.right() + 6, rect.top(), label_width, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, label)


class SoftmaxView(QWidget):
    """Softmax per class: logit → z − max → eᶻ⁻ᵐᵃˣ → ÷ total → probability."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: SoftmaxSteps | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.intro = note_label()
        self.intro.setText("Each score z becomes eᶻ (always positive), then is divided by the "
                           "total so that all the probabilities add up to 1. Subtracting the "
                           "largest score first keeps the numbers small; the answer is the same.")
        layout.addWidget(self.intro)
        self.ladder = SoftmaxLadder()
        scroll = QScrollArea()
        scroll.setWidget(self.ladder)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(scroll, 1)
        self.detail = note_label()
        set_relative_font(self.detail, 1.15)
        self.detail.setToolTip("Click a row to work out that class")
        layout.addWidget(self.detail)
        self.ladder.row_clicked.connect(self.set_selected)

    def set_steps(self, steps: SoftmaxSteps) -> None:
        self.steps = steps
        self.ladder.steps = steps
        self.ladder.setMinimumHeight(self.ladder.minimumSizeHint().height())
        self.set_selected(int(np.argmax(steps.probabilities)))

    def set_class_names(self, names: list[str] | None) -> None:
        self.ladder.names = [str(name) for name in (names or [])]
        self.set_selected(self.ladder.selected)

    def set_selected(self, row: int) -> None:
        """Work out class `row` in the line under the table."""
        self.ladder.selected = row
        self.ladder.update()
        self.detail.setText(self.ladder.row_formula(row))

    def summary_text(self) -> str:
        steps = self.steps
        if steps is None:
            return ""
        lines = [f"{self.ladder.class_name(k)}: logit {format_value(steps.logits[k])} → shifted "
                 f"{format_value(steps.shifted[k])} → exp {format_value(steps.exponentials[k])}"
                 f" → probability {steps.probabilities[k]:.4f}"
                 for k in range(len(steps.logits))]
        lines.append(f"total of exponentials = {format_value(steps.total)}")
        lines.append(f"probabilities sum to {float(np.sum(steps.probabilities)):.4f}")
        lines.append(self.detail.text())
        return "\n".join(lines)
