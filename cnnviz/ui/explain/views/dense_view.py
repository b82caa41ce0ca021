"""The Dense explain view: one unit's weighted sum, its largest input × weight contributions
first, the rest, the bias, the pre-activation and the activation; softmax spelled out for an
output layer."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QSizePolicy, QTabWidget, QVBoxLayout, QWidget,
)

from cnnviz.ui.common.zoom import line_width
from cnnviz.core.explain.frames import DenseFrame, DenseSteps
from cnnviz.ui.explain.views.activation_view import display_name
from cnnviz.ui.explain.views.softmax_view import SoftmaxView
from cnnviz.core.formatting import count_text, format_value
from cnnviz.ui.common.value_colors import NEGATIVE, POSITIVE
from cnnviz.ui.explain.views.view_parts import headline_label, note_label

TOP_K = 8


def contribution_rows(frame: DenseFrame) -> list[tuple[str, str, str, str, float, bool]]:
    """The table's rows: (label, input, × weight, = value, value for the bar, bold)."""
    rows = [(f"input[{index}]", format_value(value), f"× {format_value(weight)}",
             f"= {format_value(product)}", float(product), False)
            for index, value, weight, product in zip(frame.top_indices, frame.top_inputs,
                                                     frame.top_weights, frame.top_products)]
    if frame.rest_count:
        rows.append((f"+ {count_text(frame.rest_count)} other inputs", "", "",
                     f"sum {format_value(frame.rest_sum)}", frame.rest_sum, False))
    rows.append(("+ bias", "", "", format_value(frame.bias), frame.bias, False))
    rows.append(("= pre-activation z", "", "", format_value(frame.pre_activation),
                 frame.pre_activation, True))
    return rows


class ContributionTable(QWidget):
    """The painted sum: one row per contribution with a signed bar, then rest, bias and z."""

    HEADERS = ("", "input", "× weight", "= product", "")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: DenseFrame | None = None
        self.rows: list[tuple[str, str, str, str, float, bool]] = []
        self.final = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_frame(self, frame: DenseFrame, final: str) -> None:
        self.frame = frame
        self.rows = contribution_rows(frame)
        self.final = final
        self.updateGeometry()
        self.update()

    def _min_row(self) -> int:
        return self.fontMetrics().height() + 6

    def row_height(self) -> float:
        count = len(self.rows) + 2
        return min(max(self._min_row(), self.height() / max(count, 1)), self._min_row() * 1.8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, (len(self.rows) + 2) * self._min_row())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, int((len(self.rows) + 2) * self._min_row() * 1.4))

    def paintEvent(self, _event) -> None:  # noqa: N802
        if self.frame is None:
            return
        painter = QPainter(self)
        height = self.row_height()
        base = QFontMetrics(self.font()).height()
        font = QFont(self.font())
        font.setPixelSize(int(min(max(base * 0.85, height * 0.5), base * 1.3)))
        bold = QFont(font)
        bold.setBold(True)
        width = self.width() - 8
        fractions = (0.30, 0.13, 0.15, 0.15, 0.27)
        lefts = np.concatenate([[0.0], np.cumsum(fractions)]) * width + 4
        text = self.palette().windowText().color()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(bold)
        painter.setPen(text)
        for column, header in enumerate(self.HEADERS):
            width_here = lefts[column + 1] - lefts[column] - 8
            painter.drawText(QRectF(lefts[column], 0, width_here, height), right, header)
        painter.drawText(QRectF(lefts[0], 0, lefts[1] - lefts[0], height), left, "contribution")
        # Bars share the scale of the listed products, so they stay visible even when the
        # rest of a long input outweighs them; longer bars are cut with an arrow at the edge.
        top_count = len(self.frame.top_indices)
        scaled = [abs(row[4]) for row in self.rows[:top_count]] or [abs(r[4]) for r in self.rows]
        limit = max(scaled, default=1.0) or 1.0
        bar_left, bar_right = lefts[4] + 6, lefts[5] - 2 - self.fontMetrics().height() * 0.6
        centre = (bar_left + bar_right) / 2
        painter.drawText(QRectF(centre - 60, 0, 120, height), Qt.AlignmentFlag.AlignCenter,
                         "−   0   +")
        for number, (label, value, weight, product, amount, strong) in enumerate(self.rows):
            top = (number + 1) * height
            if number == top_count:  # the line between the listed inputs and the rest
                painter.setPen(QPen(QColor(150, 150, 150), line_width(1)))
                painter.drawLine(QPointF(4, top), QPointF(self.width() - 4, top))
            elif number % 2 and number < top_count:
                painter.fillRect(QRectF(0, top, self.width(), height), QColor(0, 0, 0, 12))
            if strong:
                painter.fillRect(QRectF(0, top, self.width(), height), QColor(255, 243, 196))
            painter.setFont(bold if strong else font)
            painter.setPen(text)
            cells = (label, value, weight, product)
            for column, cell in enumerate(cells):
                area = QRectF(lefts[column], top, lefts[column + 1] - lefts[column] - 8, height)
                shown = QFontMetrics(painter.font()).elidedText(
                    cell, Qt.TextElideMode.ElideRight, int(area.width()))
                painter.drawText(area, left if column == 0 else right, shown)
            half = (bar_right - bar_left) / 2
            length = min(abs(amount) / limit, 1.0) * half
            colour = QColor(*(POSITIVE if amount >= 0 else NEGATIVE).astype(int))
            bar = QRectF(centre if amount >= 0 else centre - length, top + height * 0.22,
                         length, height * 0.56)
            painter.fillRect(bar, colour)
            if abs(amount) > limit * 1.0001:  # off the scale: an arrowhead at the cut end
                tip = bar.right() if amount >= 0 else bar.left()
                direction = 1 if amount >= 0 else -1
                arrow = QPolygonF([QPointF(tip, top + height * 0.12),
                                   QPointF(tip + direction * height * 0.35, top + height / 2),
                                   QPointF(tip, top + height * 0.88)])
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawPolygon(arrow)
                painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(90, 90, 90), line_width(1)))
        painter.drawLine(QPointF(centre, height), QPointF(centre, (len(self.rows) + 1) * height))
        final_top = (len(self.rows) + 1) * height
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRectF(lefts[0], final_top, lefts[4] - lefts[0] - 8, height), left,
                         QFontMetrics(bold).elidedText(self.final, Qt.TextElideMode.ElideRight,
                                                       int(lefts[4] - lefts[0] - 8)))
        painter.end()


class DenseView(QWidget):
    """A Dense layer explained one unit at a time (default: the unit with the largest output,
    which for an output layer is the network's answer)."""

    unit_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: DenseSteps | None = None
        self.frame: DenseFrame | None = None
        self.class_names: list[str] = []
        self.top_k = TOP_K
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.unit_label = QLabel("Unit")
        self.unit_box = QComboBox()
        self.unit_box.setMinimumContentsLength(22)
        self.unit_box.setMaxVisibleItems(20)
        top.addWidget(self.unit_label)
        top.addWidget(self.unit_box)
        top.addStretch(1)
        layout.addLayout(top)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        sum_page = QWidget()
        sum_layout = QVBoxLayout(sum_page)
        sum_layout.setContentsMargins(0, 4, 0, 0)
        self.table = ContributionTable()
        sum_layout.addWidget(self.table, 1)
        self.softmax_link = QLabel()
        self.softmax_link.setTextFormat(Qt.TextFormat.RichText)
        self.softmax_link.linkActivated.connect(lambda _link: self.show_softmax())
        sum_layout.addWidget(self.softmax_link)
        self.note = note_label()
        sum_layout.addWidget(self.note)
        self.tabs.addTab(sum_page, "Weighted sum")
        self.softmax_view = SoftmaxView()
        self.tabs.addTab(self.softmax_view, "Softmax: all units → probabilities")
        layout.addWidget(self.tabs, 1)
        self.unit_box.currentIndexChanged.connect(self._unit_picked)
        self.softmax_view.ladder.row_clicked.connect(self.set_unit)

    # -- public
    def set_steps(self, steps: DenseSteps) -> None:
        self.steps = steps
        has_softmax = steps.activation == "softmax" and steps.softmax is not None
        self.tabs.setTabVisible(1, has_softmax)
        self.tabs.setCurrentIndex(0)
        if has_softmax:
            self.softmax_view.set_steps(steps.softmax)
            self.softmax_view.set_class_names(self._names())
        self._fill_units()
        output = np.asarray(steps.output, np.float32).ravel()
        self.set_unit(int(np.argmax(output)) if output.size else 0)

    def set_class_names(self, names: list[str] | None) -> None:
        """Labels for the units of an output layer (used when their count matches)."""
        self.class_names = [str(name) for name in (names or [])]
        if self.steps is not None:
            self.softmax_view.set_class_names(self._names())
            unit = self.unit()
            self._fill_units()
            self.set_unit(unit)

    def set_top_k(self, count: int) -> None:
        self.top_k = max(1, int(count))
        if self.steps is not None:
            self.set_unit(self.unit())

    def unit(self) -> int:
        return max(self.unit_box.currentIndex(), 0)

    def set_unit(self, unit: int) -> None:
        if self.steps is None:
            return
        self.unit_box.blockSignals(True)
        self.unit_box.setCurrentIndex(unit)
        self.unit_box.blockSignals(False)
        self._show_unit(unit)

    def show_softmax(self) -> None:
        self.tabs.setCurrentWidget(self.softmax_view)

    # -- private
    def _names(self) -> list[str]:
        units = self.steps.kernel.shape[1] if self.steps is not None else 0
        return self.class_names if len(self.class_names) == units else []

    def _unit_name(self, unit: int) -> str:
        names = self._names()
        return f"unit {unit} ({names[unit]})" if names else f"unit {unit}"

    def _fill_units(self) -> None:
        output = np.asarray(self.steps.output, np.float32).ravel()
        self.unit_box.blockSignals(True)
        self.unit_box.clear()
        for unit in range(self.steps.kernel.shape[1]):
            self.unit_box.addItem(f"{self._unit_name(unit)}: output {format_value(output[unit])}")
        self.unit_box.blockSignals(False)

    def _unit_picked(self, unit: int) -> None:
        if unit >= 0:
            self._show_unit(unit)

    def _show_unit(self, unit: int) -> None:
        steps = self.steps
        frame = steps.frame(unit, self.top_k)
        self.frame = frame
        inputs = steps.kernel.shape[0]
        name = display_name(frame.activation)
        softmax = frame.activation == "softmax"
        if softmax:
            final = f"→ softmax over all {steps.kernel.shape[1]} units → probability"
        elif frame.activation == "linear":
            final = "→ no activation (linear) → output"
        else:
            final = f"→ {name} → output"
        final += f"  {format_value(frame.output)}"
        self.table.set_frame(frame, final)
        output = np.asarray(steps.output, np.float32).ravel()
        answer = softmax and unit == int(np.argmax(output))
        self.headline.setText(
            f"{self._unit_name(unit).capitalize()}: {count_text(inputs)} inputs × weights + bias "
            f"= {format_value(frame.pre_activation)} → {format_value(frame.output)}"
            + ("  (the network's answer)" if answer else ""))
        self.softmax_link.setVisible(softmax)
        self.softmax_link.setText("<a href='softmax'>See how softmax turns all "
                                  f"{steps.kernel.shape[1]} sums into probabilities →</a>")
        shown = len(frame.top_indices)
        self.note.setText(
            f"The {shown} largest contributions (by size, + or −) of {count_text(inputs)}; "
            "input[i] is value i of the previous layer's output. Red pushes the sum up, "
            "blue pulls it down; a bar with an arrow is longer than the scale.")
        if softmax:
            self.softmax_view.set_selected(unit)
        self.unit_changed.emit(unit)

    def summary_text(self) -> str:
        frame = self.frame
        if frame is None:
            return ""
        lines = [self.headline.text()]
        lines += [f"input[{index}] = {format_value(value)} × {format_value(weight)} = "
                  f"{format_value(product)}"
                  for index, value, weight, product in zip(frame.top_indices, frame.top_inputs,
                                                           frame.top_weights, frame.top_products)]
        if frame.rest_count:
            lines.append(f"+ {count_text(frame.rest_count)} other inputs sum to "
                         f"{format_value(frame.rest_sum)}")
        lines.append(f"+ bias {format_value(frame.bias)}")
        lines.append(f"= pre-activation z {format_value(frame.pre_activation)}")
        lines.append(self.table.final)
        return "\n".join(lines)
