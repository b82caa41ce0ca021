"""Explain views for layers that move or pass values without weights: softmax, flatten,
dropout and global pooling; plus `MapRow`, the before/after strip the elementwise views share.

Every view takes its layer's steps (cnnviz.core.frames) through `set_steps` and exposes
`summary_text()`: the numbers it shows, as plain lines (the tests read them).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from cnnviz.core.frames import DropoutSteps, FlattenSteps, GlobalPoolSteps, SoftmaxSteps
from cnnviz.ui.value_colors import (
    POSITIVE, ColorLegend, ValueMap, diverging_color, format_value, symmetric_limit,
    text_color_on,
)


def headline_label(parent: QWidget | None = None) -> QLabel:
    """The bold one-line statement at the top of every view (wraps when narrow)."""
    label = QLabel(parent)
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.25)
    label.setFont(font)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def note_label(parent: QWidget | None = None, rich: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label


def shape_text(shape: tuple[int, ...]) -> str:
    return " × ".join(str(size) for size in shape)


def count_text(count: int) -> str:
    return f"{count:,}"


def percent_text(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "0%"


def channel_of(array: np.ndarray, channel: int) -> np.ndarray:
    """What one panel draws: the channel of a (H, W, C) tensor, a (H, W) map or a vector."""
    if array.ndim == 3:
        return array[:, :, channel]
    return array


def full_position(array: np.ndarray, position: tuple[int, ...], channel: int) -> tuple[int, ...]:
    """A ValueMap position turned into an index into the whole array."""
    return (*position, channel) if array.ndim == 3 else tuple(position)


def most_varied_channel(array: np.ndarray) -> int:
    """The channel of a (H, W, C) tensor whose values spread the most (0 for other shapes):
    a better first look than channel 0, which may be all zeros."""
    if array.ndim != 3 or array.shape[2] < 2:
        return 0
    return int(np.argmax(array.reshape(-1, array.shape[2]).std(axis=0)))


def position_text(position: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in position) + "]"


class ChannelPicker(QWidget):
    """'Channel [ 3 ] of 32': a spin box that only shows when there is more than one channel."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, noun: str = "Channel") -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.spin = QSpinBox()
        self.spin.setPrefix(f"{noun} ")
        self.spin.setAccelerated(True)
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance(f"{noun} 0000") + 40)
        self.total = QLabel()
        layout.addWidget(self.spin)
        layout.addWidget(self.total)
        self.spin.valueChanged.connect(self.channel_changed)

    def set_count(self, count: int, channel: int = 0) -> None:
        self.spin.blockSignals(True)
        self.spin.setRange(0, max(count - 1, 0))
        self.spin.setValue(min(max(channel, 0), max(count - 1, 0)))
        self.spin.blockSignals(False)
        self.total.setText(f"of {count}" if count > 1 else "")
        self.spin.setToolTip(f"Numbered from 0 to {count - 1}")
        self.setVisible(count > 1)

    def value(self) -> int:
        return self.spin.value()

    def set_value(self, channel: int) -> None:
        self.spin.setValue(channel)


class MapRow(QWidget):
    """Same-shaped arrays side by side, one channel of each, on one shared colour scale.

    `set_panels([(title, array), ...], gaps)` puts a caption between neighbours ("ReLU →");
    a gap of None draws a separating line instead. Hover and click positions are reported as
    indexes into the arrays: (y, x, c) for (H, W, C) tensors, (y, x) for maps, (i,) for vectors.
    """

    channel_changed = Signal(int)
    cell_hovered = Signal(object)
    cell_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None, show_picker: bool = True) -> None:
        super().__init__(parent)
        self._show_picker = show_picker
        self._arrays: list[np.ndarray] = []
        self._titles: list[str] = []
        self._gaps: list[str | None] = []
        self.maps: list[ValueMap] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.picker = ChannelPicker()
        self.note = note_label()
        top.addWidget(self.picker)
        top.addWidget(self.note, 1)
        layout.addLayout(top)
        self._row = QHBoxLayout()
        self._row.setSpacing(4)
        layout.addLayout(self._row, 1)
        self.legend = ColorLegend()
        self.legend.setMaximumWidth(420)
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.picker.channel_changed.connect(self._show_channel)

    def set_panels(self, panels: list[tuple[str, np.ndarray]], gaps: list[str | None],
                   channel: int = 0) -> None:
        gaps = [gaps[i] if i < len(gaps) else None for i in range(max(len(panels) - 1, 0))]
        titles = [title for title, _array in panels]
        if (titles, gaps) != (self._titles, self._gaps):  # a new layout; else reuse the maps
            while self._row.count():
                item = self._row.takeAt(0)
                if item.widget() is not None:
                    item.widget().deleteLater()
            self.maps = []
            for index, title in enumerate(titles):
                if index:
                    self._row.addWidget(self._gap_widget(gaps[index - 1]))
                value_map = ValueMap(title=title)
                value_map.cell_hovered.connect(self._on_hover)
                value_map.cell_clicked.connect(self._on_click)
                self.maps.append(value_map)
                self._row.addWidget(value_map, 1)
            self._titles, self._gaps = titles, gaps
        self._arrays = [np.asarray(array, np.float32) for _title, array in panels]
        first = self._arrays[0] if self._arrays else np.zeros((1, 1), np.float32)
        self.picker.set_count(first.shape[2] if first.ndim == 3 else 1, channel)
        if not self._show_picker:
            self.picker.hide()
        self._show_channel(self.picker.value())

    def _gap_widget(self, caption: str | None) -> QWidget:
        if caption is None:
            line = QFrame()
            line.setFrameShape(QFrame.Shape.VLine)
            line.setFrameShadow(QFrame.Shadow.Sunken)
            return line
        label = QLabel(f"{caption}\n→" if caption else "→")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        caption_width = label.fontMetrics().horizontalAdvance(caption or "→") + 10
        label.setMinimumWidth(min(caption_width, 100))
        label.setMaximumWidth(max(caption_width, 40) if caption_width <= 100 else 100)
        label.setWordWrap(caption_width > 100)
        return label

    def channel(self) -> int:
        return self.picker.value()

    def set_picker_visible(self, visible: bool) -> None:
        """Hide the channel picker when the owner has a channel selector of its own."""
        self._show_picker = visible
        self.picker.setVisible(visible and self.picker.spin.maximum() > 0)

    def set_channel(self, channel: int) -> None:
        self.picker.set_value(channel)
        self._show_channel(self.picker.value())

    def channel_values(self, index: int) -> np.ndarray:
        """What panel `index` draws for the current channel."""
        return channel_of(self._arrays[index], self.channel())

    def limit(self) -> float:
        return self.legend.limit()

    def _show_channel(self, channel: int) -> None:
        shown = [channel_of(array, channel) for array in self._arrays]
        limit = symmetric_limit(*shown)
        for value_map, values in zip(self.maps, shown):
            value_map.set_values(values, limit)
        self.legend.set_limit(limit)
        self.channel_changed.emit(channel)

    def set_highlight(self, position: tuple[int, ...] | None) -> None:
        """Outline the same cell in every panel (position as in the signals)."""
        local = None
        if position is not None and self._arrays:
            local = tuple(position[:2]) if self._arrays[0].ndim == 3 else tuple(position)
        for value_map in self.maps:
            value_map.set_highlight(local)

    def _full(self, position: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if position is None or not self._arrays:
            return None
        return full_position(self._arrays[0], position, self.channel())

    def _on_hover(self, position) -> None:
        self.cell_hovered.emit(self._full(position))

    def _on_click(self, position) -> None:
        self.cell_clicked.emit(self._full(position))


# ----------------------------------------------------------------------------- softmax

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
        painter.setPen(QPen(QColor(150, 150, 150), 1))
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
        painter.setPen(QPen(QColor(150, 150, 150), 1))
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
        detail_font = QFont(self.detail.font())
        detail_font.setPointSizeF(detail_font.pointSizeF() * 1.15)
        self.detail.setFont(detail_font)
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


# ----------------------------------------------------------------------------- dropout

class DropoutView(QWidget):
    """Dropout at inference: input and output side by side (identical), and what training does."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: DropoutSteps | None = None
        layout = QVBoxLayout(self)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.maps = MapRow()
        layout.addWidget(self.maps, 1)
        self.explanation = note_label()
        layout.addWidget(self.explanation)
        self.maps.channel_changed.connect(self._channel_shown)

    def set_steps(self, steps: DropoutSteps) -> None:
        self.steps = steps
        before = np.asarray(steps.input, np.float32)
        after = np.asarray(steps.output, np.float32)
        rate = float(steps.rate)
        keep_scale = 1.0 / (1.0 - rate) if rate < 1 else 0.0
        # One random draw of what training would do: silence ~rate of the values, scale the rest.
        rng = np.random.default_rng(0)
        self._dropped = rng.random(before.shape) < rate
        training = np.where(self._dropped, 0.0, before * keep_scale)
        same = before.shape == after.shape and bool(np.array_equal(before, after))
        unchanged = int(np.sum(before == after)) if before.shape == after.shape else 0
        if same:
            self.headline.setText("At inference dropout does nothing: all "
                                  f"{count_text(before.size)} values pass through unchanged "
                                  "(output = input).")
        else:
            difference = float(np.max(np.abs(before - after))) if before.shape == after.shape else 0
            self.headline.setText(f"{count_text(unchanged)} of {count_text(before.size)} values "
                                  "unchanged; the largest difference is "
                                  f"{format_value(difference)}.")
        self.explanation.setText(
            f"During training it would silence about {100 * rate:.0f}% of the values at random "
            f"(rate {rate:g}) and multiply the others by 1 / (1 − {rate:g}) = "
            f"{format_value(keep_scale)}, so their total stays about the same. The right-hand "
            "panel shows one such random draw (× marks a silenced value); it is not what the "
            "model computes now.")
        self.maps.set_panels([("input", before), ("output (now)", after),
                              ("while training (example)", training.astype(np.float32))],
                             ["unchanged", None], channel=most_varied_channel(before))
        self._update_note()

    def set_channel(self, channel: int) -> None:
        self.maps.set_channel(channel)

    def channel(self) -> int:
        return self.maps.channel()

    def set_channel_picker_visible(self, visible: bool) -> None:
        """Hide the view's own channel picker (when the owner has one)."""
        self.maps.set_picker_visible(visible)

    def _channel_shown(self, channel: int) -> None:
        self._update_note()
        self.channel_changed.emit(channel)

    def _update_note(self) -> None:
        if self.steps is None:
            return
        dropped = channel_of(self._dropped, self.maps.channel())
        self.maps.maps[2].set_crossed(dropped)
        self.maps.note.setText(f"Example draw: {count_text(int(dropped.sum()))} of "
                               f"{count_text(dropped.size)} values here silenced.")

    def summary_text(self) -> str:
        return "\n".join([self.headline.text(), self.explanation.text(), self.maps.note.text()])


# ----------------------------------------------------------------------------- global pooling

class GlobalPoolView(QWidget):
    """Each channel's whole map becomes one value: the maximum (marked) or the mean (written)."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: GlobalPoolSteps | None = None
        self._channel = 0
        self._picker_wanted = True
        layout = QVBoxLayout(self)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.picker = ChannelPicker()
        layout.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        self.channel_map = ValueMap()
        self.result = QLabel()
        self.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.setWordWrap(True)
        self.result.setMinimumWidth(
            self.result.fontMetrics().horizontalAdvance("mean = 000.000") + 16)
        self.result.setMaximumWidth(220)
        result_font = QFont(self.result.font())
        result_font.setPointSizeF(result_font.pointSizeF() * 1.3)
        self.result.setFont(result_font)
        self.outputs = ValueMap()
        row.addWidget(self.channel_map, 3)
        row.addWidget(self.result, 0)
        row.addWidget(self.outputs, 3)
        layout.addLayout(row, 1)
        self.legend = ColorLegend()
        self.legend.setMaximumWidth(420)
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.hint = note_label()
        self.hint.setText("Click a value in the output to see the map it came from.")
        layout.addWidget(self.hint)
        self.picker.channel_changed.connect(self.set_channel)
        self.outputs.cell_clicked.connect(lambda position: self.set_channel(int(position[0])))

    def set_steps(self, steps: GlobalPoolSteps) -> None:
        self.steps = steps
        values = np.asarray(steps.input, np.float32)
        if values.ndim == 2:
            values = values[:, :, None]
        height, width, channels = values.shape
        word = "largest value" if steps.mode == "max" else "mean"
        self.headline.setText(f"Global {steps.mode} pooling: each of the {channels} maps "
                              f"({height} × {width}) becomes one number, its {word}.")
        self._limit = symmetric_limit(values)
        self.legend.set_limit(self._limit)
        self.outputs.set_values(np.asarray(steps.output, np.float32).ravel(), self._limit,
                                title=f"output: {channels} values")
        channel = int(np.argmax(np.abs(np.asarray(steps.output).ravel()))) if channels else 0
        self.picker.set_count(channels, channel)
        self.set_channel_picker_visible(self._picker_wanted)
        self.set_channel(channel)

    def channel(self) -> int:
        return self._channel

    def set_channel_picker_visible(self, visible: bool) -> None:
        """Hide the view's own channel picker (when the owner has one)."""
        self._picker_wanted = visible
        self.picker.setVisible(visible and self.picker.spin.maximum() > 0)

    def _map(self) -> np.ndarray:
        values = np.asarray(self.steps.input, np.float32)
        return values if values.ndim == 2 else values[:, :, self._channel]

    def set_channel(self, channel: int) -> None:
        if self.steps is None:
            return
        self._channel = int(channel)
        if self.picker.value() != self._channel:
            self.picker.set_value(self._channel)
        values = self._map()
        output = float(np.asarray(self.steps.output).ravel()[self._channel])
        self.channel_map.set_values(values, self._limit, title=f"channel {self._channel}: "
                                    f"{values.shape[0]} × {values.shape[1]} map")
        if self.steps.mode == "max":
            picked = (self.steps.picked[self._channel] if self._channel < len(self.steps.picked)
                      else tuple(int(i) for i in np.unravel_index(np.argmax(values), values.shape)))
            self.channel_map.set_highlight(tuple(picked))
            self.result.setText(f"<b>max</b><br>→ <b>{format_value(output)}</b><br>"
                                f"at row {picked[0]},<br>column {picked[1]}")
            self._detail = (f"channel {self._channel}: max = {format_value(output)} at "
                            f"(row {picked[0]}, column {picked[1]})")
        else:
            total = float(np.sum(values, dtype=np.float64))
            self.result.setText(f"<b>mean</b><br>{format_value(total)} ÷ {values.size}<br>"
                                f"→ <b>{format_value(output)}</b>")
            self._detail = (f"channel {self._channel}: mean = {format_value(total)} ÷ "
                            f"{values.size} = {format_value(output)}")
        self.outputs.set_highlight((self._channel,))
        self.channel_changed.emit(self._channel)

    def summary_text(self) -> str:
        return "\n".join([self.headline.text(), self._detail]) if self.steps else ""


# ----------------------------------------------------------------------------- flatten

class FlattenStrip(QWidget):
    """A zoomed piece of the flat output list around the selected index, with its indexes
    above and brackets below grouping the values that came from the same pixel."""

    index_hovered = Signal(int)    # -1 when the mouse leaves
    index_clicked = Signal(int)

    CELL = 40

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
            painter.setPen(QPen(QColor(0, 0, 0, 60), 1))
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
                painter.setPen(QPen(text, 3))
                painter.drawLine(QPointF(left, self.index_rect(start).top() - 3),
                                 QPointF(left, bottom + 3))
            painter.setPen(QPen(QColor(90, 90, 90), 1))
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
                painter.setPen(QPen(color, pen_width))
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
        self.setFixedHeight(self.fontMetrics().height() + 20)

    def _bar(self) -> QRectF:
        return QRectF(4, 2, self.width() - 8, 16)

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
        from cnnviz.ui.value_colors import diverging_rgb, rgb_to_qimage

        painter = QPainter(self)
        bar = self._bar()
        samples = np.linspace(0, len(self.values) - 1, max(int(bar.width()), 1)).round().astype(int)
        image = rgb_to_qimage(diverging_rgb(self.values[samples][None, :], self.limit))
        painter.drawImage(bar, image)
        painter.setPen(QPen(QColor(120, 120, 120), 1))
        painter.drawRect(bar)
        left, right = self.x_of(self.window.start) - 2, self.x_of(self.window.stop - 1) + 2
        painter.setPen(QPen(QColor(20, 20, 20), 2))
        painter.drawRect(QRectF(left, bar.top() - 1, max(right - left, 4), bar.height() + 2))
        painter.setPen(QPen(QColor(255, 190, 0), 2))
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


class FlattenView(QWidget):
    """Flatten: the input stack (a few channels) above, the flat output list below.

    Pointing at an output index outlines where it came from ("output[i] = input[y, x, c]");
    clicking a cell in either selects it; the arrow keys step along the list.
    """

    index_changed = Signal(int)
    MAX_CHANNELS = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: FlattenSteps | None = None
        self._index = 0
        self._hovered = -1
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.order = note_label(rich=True)
        layout.addWidget(self.order)
        self.channel_note = note_label()
        layout.addWidget(self.channel_note)
        self._maps_row = QHBoxLayout()
        layout.addLayout(self._maps_row, 1)
        self.input_maps: list[ValueMap] = []
        self.strip = FlattenStrip()
        layout.addWidget(self.strip)
        self.overview = FlattenOverview()
        layout.addWidget(self.overview)
        self.detail = headline_label()
        layout.addWidget(self.detail)
        self.strip.index_hovered.connect(self._hover)
        self.strip.index_clicked.connect(self.set_index)
        self.overview.index_hovered.connect(self._hover)
        self.overview.index_clicked.connect(self.set_index)

    # -- data
    def set_steps(self, steps: FlattenSteps) -> None:
        self.steps = steps
        source = np.asarray(steps.input, np.float32)
        flat = np.asarray(steps.output, np.float32).ravel()
        self._limit = symmetric_limit(source)
        shape = source.shape
        channels = shape[-1] if source.ndim == 3 else 1
        stack = f"{shape_text(shape)} = " if source.ndim > 1 else ""
        self.headline.setText(f"Flatten: {stack}{count_text(source.size)} values → one list "
                              f"of {count_text(flat.size)}. No value changes.")
        if source.ndim == 3:
            height, width, _ = shape
            self.order.setText(
                f"Order: row by row (y), left to right (x), and at each pixel all {channels} "
                f"channels together before the next pixel:<br><b>i = (y × {width} + x) × "
                f"{channels} + c</b>")
        elif source.ndim == 2:
            self.order.setText(f"Order: row by row, left to right: <b>i = y × {shape[1]} + x</b>")
        else:
            self.order.setText("The input is already a list: output[i] = input[i].")
        self.strip.values = flat
        self.strip.limit = self._limit
        if source.ndim == 3:
            self.strip.group = channels
            self.strip.group_labels = [f"pixel ({y}, {x})" for y in range(shape[0])
                                       for x in range(shape[1])]
        elif source.ndim == 2:
            self.strip.group = shape[1]
            self.strip.group_labels = [f"row {y}" for y in range(shape[0])]
        else:
            self.strip.group = max(flat.size, 1)
            self.strip.group_labels = []
        self.overview.values = flat
        self.overview.limit = self._limit
        self._build_maps(source)
        self._index = -1
        self.set_index(0)

    def _build_maps(self, source: np.ndarray) -> None:
        for value_map in self.input_maps:
            value_map.deleteLater()
        self.input_maps = []
        count = min(self.MAX_CHANNELS, source.shape[-1]) if source.ndim == 3 else (
            1 if source.ndim in (1, 2) else 0)
        for slot in range(count):
            value_map = ValueMap()
            value_map.cell_hovered.connect(
                lambda position, slot=slot: self._hover_input(slot, position))
            value_map.cell_clicked.connect(
                lambda position, slot=slot: self._click_input(slot, position))
            self.input_maps.append(value_map)
            self._maps_row.addWidget(value_map, 1)
        self._first_channel = -1

    def index(self) -> int:
        return self._index

    def source_of(self, index: int) -> tuple[int, ...]:
        return self.steps.source_of(index)

    def set_index(self, index: int) -> None:
        """Select output[index]: outline it and its source; the strip centres on it."""
        if self.steps is None:
            return
        index = int(min(max(index, 0), self.strip.values.size - 1))
        changed = index != self._index
        self._index = index
        self.strip.selected = index
        self.overview.window = self.strip.visible_range()
        self._show(index)
        if changed:
            self.index_changed.emit(index)

    def _hover(self, index: int) -> None:
        self._hovered = index
        self.strip.hovered = index
        self._show(index if index >= 0 else self._index)

    def shown_channels(self) -> list[int]:
        """The input channels drawn, left to right."""
        return [self._slot_channel(slot) for slot in range(len(self.input_maps))]

    def _slot_channel(self, slot: int) -> int:
        return self._first_channel + slot

    def _hover_input(self, slot: int, position) -> None:
        self._hover(self._input_index(slot, position) if position is not None else -1)

    def _click_input(self, slot: int, position) -> None:
        self.set_index(self._input_index(slot, position))

    def _input_index(self, slot: int, position: tuple[int, ...]) -> int:
        source = np.asarray(self.steps.input)
        full = (*position, self._slot_channel(slot)) if source.ndim == 3 else tuple(position)
        return int(np.ravel_multi_index(full, source.shape))

    def _show(self, index: int) -> None:
        source = np.asarray(self.steps.input, np.float32)
        position = self.source_of(index)
        value = float(np.asarray(self.steps.output).ravel()[index])
        self._show_maps(source, position)
        self.overview.selected = index
        self.overview.update()
        self.strip.update()
        text = f"output[{index}] = input{position_text(position)} = {format_value(value)}"
        if source.ndim == 3:
            y, x, c = position
            width, channels = source.shape[1], source.shape[2]
            text += f"   because {index} = ({y} × {width} + {x}) × {channels} + {c}"
        elif source.ndim == 2:
            text += f"   because {index} = {position[0]} × {source.shape[1]} + {position[1]}"
        self.detail.setText(text)

    def _show_maps(self, source: np.ndarray, position: tuple[int, ...]) -> None:
        if not self.input_maps:
            return
        if source.ndim == 3:
            channel = position[2]
            count = len(self.input_maps)
            first = (channel // count) * count
            first = min(first, source.shape[2] - count)
            if first != self._first_channel:
                self._first_channel = first
                for slot, value_map in enumerate(self.input_maps):
                    value_map.set_values(source[:, :, first + slot], self._limit,
                                         title=f"input channel {first + slot}")
            for slot, value_map in enumerate(self.input_maps):
                if first + slot == channel:
                    value_map.set_highlight(position[:2])
                else:
                    value_map.set_highlight(None, [position[:2]])
            shown = f"channels {first}–{first + count - 1} of {source.shape[2]}" if \
                source.shape[2] > count else f"all {source.shape[2]} channels"
            self.channel_note.setText(f"Input, {shown}. The dashed squares are the same pixel "
                                      "in the other channels: they sit right next to it in the "
                                      "list.")
        else:
            if self._first_channel != 0:
                self._first_channel = 0
                self.input_maps[0].set_values(source, self._limit, title="input")
            self.input_maps[0].set_highlight(position)
            self.channel_note.setText("")

    def keyPressEvent(self, event) -> None:  # noqa: N802
        step = {Qt.Key.Key_Right: 1, Qt.Key.Key_Left: -1, Qt.Key.Key_Down: 1,
                Qt.Key.Key_Up: -1}.get(event.key())
        if step is not None and self.steps is not None:
            self.set_index(self._index + step)
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.overview.window = self.strip.visible_range()

    def summary_text(self) -> str:
        if self.steps is None:
            return ""
        return "\n".join([self.headline.text(), self.order.text(), self.detail.text()])
