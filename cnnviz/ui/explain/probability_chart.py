"""The model's final answer: one horizontal bar per class, with its percentage.

Bars are in class order, not sorted by probability: each class keeps its row, so while the
learning replay moves through the epochs a student sees the right class's bar grow in place
instead of rows jumping around, and "0 … 9" reads like a legend. The top class is drawn in
a strong colour, so it is found at a glance anyway. Only when there are more classes than
rows fit (CIFAR-100, say) are the most probable ones shown, sorted, with a "… more" line.
The true class, when known, is marked green with ✓ if the prediction is right, red with ✗
if it is wrong; the line above the bars says the same in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.core.explain.learning_snapshots import class_probabilities
from cnnviz.core.formatting import probability_percent
from cnnviz.ui.common.value_colors import RIGHT, WRONG

TOP_BAR = QColor(31, 97, 170)
OTHER_BAR = QColor(158, 176, 196)
TRACK = QColor(234, 236, 239)
RIGHT_BACKGROUND = QColor(221, 243, 226)
WRONG_BACKGROUND = QColor(252, 225, 225)
MIN_ROW_HEIGHT = 16   # at zoom 100 %: rows are never lower than a line of their text
MAX_ROW_HEIGHT = 30
MARGIN = 6
HEADLINE_FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap


@dataclass
class ChartRow:
    """One drawn row: which class, its name and probability, and how it is marked."""

    index: int
    name: str
    probability: float
    is_top: bool
    is_true: bool


@dataclass
class _ChartLayout:
    head: QRect
    rows: list[ChartRow] = field(default_factory=list)
    row_rects: list[QRect] = field(default_factory=list)   # one more than rows when hidden
    hidden: int = 0
    mark_w: int = 0
    name_w: int = 0
    bar_left: int = 0
    bar_w: int = 0


def draw_mark(painter: QPainter, box: QRectF, right: bool, colour: QColor) -> None:
    """A tick (right) or a cross (wrong) drawn as lines: no font glyph, so never a box."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(colour, max(1.5, box.width() / 6))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    x, y, w, h = box.x(), box.y(), box.width(), box.height()
    if right:
        painter.drawPolyline([QPointF(x + 0.1 * w, y + 0.55 * h), QPointF(x + 0.4 * w, y + 0.85 * h),
                              QPointF(x + 0.9 * w, y + 0.15 * h)])
    else:
        painter.drawLine(QPointF(x + 0.15 * w, y + 0.15 * h), QPointF(x + 0.85 * w, y + 0.85 * h))
        painter.drawLine(QPointF(x + 0.85 * w, y + 0.15 * h), QPointF(x + 0.15 * w, y + 0.85 * h))
    painter.restore()


class ProbabilityChart(QWidget):
    """Horizontal probability bars with class names, the top class and the true class marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probabilities = np.zeros(0)
        self.class_names: list[str] = []
        self.true_label: int | None = None
        self.untrained = False   # random weights: the top class is a guess, and says so
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ------------------------------------------------------------------ public

    def set_probabilities(self, probs: np.ndarray, class_names: list[str],
                          true_label: int | None = None) -> None:
        """Show the final output for one input. A single sigmoid value p is shown as two
        classes [1 - p, p]; missing class names are shown as the class number."""
        self.probabilities = class_probabilities(probs)
        count = self.probabilities.size
        names = list(class_names or [])
        self.class_names = [str(names[i]) if i < len(names) else str(i) for i in range(count)]
        self.true_label = (int(true_label) if true_label is not None and 0 <= true_label < count
                           else None)
        self.updateGeometry()   # the headline may wrap to another number of lines
        self.update()

    def set_untrained(self, untrained: bool) -> None:
        """Whether the weights are still random: the answer is then called a guess."""
        self.untrained = bool(untrained)
        self.updateGeometry()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()   # the headline wraps differently at another width
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:   # the zoom changed
            self.updateGeometry()
        super().changeEvent(event)

    def clear(self) -> None:
        self.probabilities, self.class_names, self.true_label = np.zeros(0), [], None
        self.update()

    def predicted_class(self) -> int | None:
        return int(np.argmax(self.probabilities)) if self.probabilities.size else None

    def is_correct(self) -> bool | None:
        """True/False when the true class is known, else None."""
        if self.true_label is None or not self.probabilities.size:
            return None
        return self.predicted_class() == self.true_label

    def headline(self) -> str:
        """The line above the bars: "Prediction: 7 (98.1%) ✓ right" or "… ✗ true: 5"; for
        an untrained model "Guess: 3 (12.1%), …", and a right guess is right by chance."""
        top = self.predicted_class()
        if top is None:
            return "No prediction yet"
        percent = probability_percent(self.probabilities[top])
        correct = self.is_correct()
        if self.untrained:
            text = f"Guess: {self.class_names[top]} ({percent}), the weights are still random"
            if correct is True:
                text += "  ✓ right by chance"
            elif correct is False:
                text += f"  ✗ true: {self.class_names[self.true_label]}"
            return text
        text = f"Prediction: {self.class_names[top]} ({percent})"
        if correct is True:
            text += "  ✓ right"
        elif correct is False:
            text += f"  ✗ true: {self.class_names[self.true_label]}"
        return text

    def rows(self, fit: int | None = None) -> list[ChartRow]:
        """The rows drawn when `fit` rows fit (all when None): every class in class order, or
        the most probable first (with the true class kept) when they do not all fit."""
        count = self.probabilities.size
        top = self.predicted_class()
        order = list(range(count))
        if fit is not None and count > fit:
            order = [int(i) for i in np.argsort(-self.probabilities, kind="stable")[:max(fit, 1)]]
            if self.true_label is not None and self.true_label not in order:
                order[-1] = self.true_label
        return [ChartRow(i, self.class_names[i], float(self.probabilities[i]), i == top,
                         i == self.true_label) for i in order]

    def row_rect(self, class_index: int) -> QRect:
        """Where that class's row is drawn at the current size (empty when not shown)."""
        layout = self._layout()
        for row, rect in zip(layout.rows, layout.row_rects):
            if row.index == class_index:
                return rect
        return QRect()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 260)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """The headline, however many lines it wraps to at this width, and three rows."""
        width = max(180, self.width())
        return QSize(180, self._head_height(width - 2 * MARGIN) + 3 * self._row_heights()[0]
                     + 2 * MARGIN + 6)

    def _head_height(self, width: int) -> int:
        """The height the headline needs at `width`: all its lines (it wraps at a large
        zoom or in a narrow column), never cut."""
        needed = QFontMetrics(self._bold_font()).boundingRect(
            QRect(0, 0, max(1, width), 10_000), HEADLINE_FLAGS, self.headline())
        return needed.height() + 2

    def _row_heights(self) -> tuple[int, int]:
        """(smallest, largest) row height: as high as the text in it, at any zoom."""
        line = self.fontMetrics().height()
        return max(MIN_ROW_HEIGHT, line + 2), max(MAX_ROW_HEIGHT, round(line * 1.8))

    # ------------------------------------------------------------------ drawing

    def _bold_font(self) -> QFont:
        bold = QFont(self.font())
        bold.setBold(True)
        return bold

    def _layout(self) -> _ChartLayout:
        """Where everything goes at the current size (used for painting and by row_rect)."""
        metrics, bold_metrics = self.fontMetrics(), QFontMetrics(self._bold_font())
        area = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        head = QRect(area.left(), area.top(), area.width(), self._head_height(area.width()))
        layout = _ChartLayout(head=head)
        count = self.probabilities.size
        if not count:
            return layout
        min_row, max_row = self._row_heights()
        body_top = head.bottom() + 6
        body_h = max(1, area.bottom() - body_top)
        fit = max(1, body_h // min_row)
        layout.rows = self.rows(fit if count > fit else None)
        layout.hidden = count - len(layout.rows)
        slots = len(layout.rows) + (1 if layout.hidden else 0)
        row_h = max(min(max_row, body_h // slots), min(min_row, body_h // slots))
        layout.mark_w = metrics.height() + 4
        layout.name_w = min(max(bold_metrics.horizontalAdvance(r.name) for r in layout.rows)
                            + 12, int(area.width() * 0.4))
        pct_w = metrics.horizontalAdvance("100.0%") + 6
        layout.bar_left = area.left() + layout.mark_w + layout.name_w
        layout.bar_w = max(10, area.right() - pct_w - layout.bar_left)
        layout.row_rects = [QRect(area.left(), body_top + i * row_h, area.width(), row_h)
                            for i in range(slots)]
        return layout

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        layout = self._layout()
        bold = self._bold_font()
        correct = self.is_correct()
        painter.setFont(bold)
        painter.setPen(RIGHT if correct is True else WRONG if correct is False
                       else self.palette().windowText().color())
        painter.drawText(layout.head, HEADLINE_FLAGS, self.headline())
        for row, rect in zip(layout.rows, layout.row_rects):
            self._paint_row(painter, row, rect, layout, bold)
        if layout.hidden:
            rest = 1.0 - sum(r.probability for r in layout.rows)
            last = layout.row_rects[-1]
            more = QRect(layout.bar_left, last.top(), last.right() - layout.bar_left,
                         last.height())
            text = f"… {layout.hidden} more classes: {probability_percent(max(rest, 0.0))}"
            painter.setFont(self.font())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(more, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                                           more.width()))

    def _paint_row(self, painter: QPainter, row: ChartRow, rect: QRect, layout: _ChartLayout,
                   bold: QFont) -> None:
        metrics = self.fontMetrics()
        mark_w, name_w, bar_left, bar_w = (layout.mark_w, layout.name_w, layout.bar_left,
                                           layout.bar_w)
        text_colour = self.palette().windowText().color()
        if row.is_true:
            right = row.is_top
            painter.fillRect(rect, RIGHT_BACKGROUND if right else WRONG_BACKGROUND)
            painter.fillRect(QRect(rect.left(), rect.top(), 4, rect.height()),
                             RIGHT if right else WRONG)
            side = min(mark_w - 6, rect.height() - 4)
            draw_mark(painter, QRectF(rect.left() + 6, rect.center().y() - side / 2, side, side),
                      right, RIGHT if right else WRONG)
        painter.setFont(bold if row.is_top or row.is_true else self.font())
        painter.setPen(text_colour)
        name_rect = QRect(rect.left() + mark_w, rect.top(), name_w - 8, rect.height())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(row.name, Qt.TextElideMode.ElideRight,
                                                          name_rect.width()))
        gap = max(2, rect.height() // 6)
        track = QRect(bar_left, rect.top() + gap, bar_w, rect.height() - 2 * gap)
        painter.fillRect(track, TRACK)
        length = int(round(bar_w * min(max(row.probability, 0.0), 1.0)))
        if length:
            painter.fillRect(QRect(track.left(), track.top(), length, track.height()),
                             TOP_BAR if row.is_top else OTHER_BAR)
        painter.setFont(bold if row.is_top else self.font())
        painter.setPen(text_colour)
        painter.drawText(QRect(track.right() + 6, rect.top(), metrics.horizontalAdvance("100.0%")
                               + 4, rect.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         probability_percent(row.probability))
