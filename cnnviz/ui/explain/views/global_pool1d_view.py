"""GlobalMaxPooling1D / GlobalAveragePooling1D: each channel's whole sequence becomes one value.

Every channel is drawn as a lane (a line plot, or a heat strip when there are many): for max
pooling its largest step is ringed, for average pooling a dashed line marks its mean; the value
each channel becomes is written at the end of its lane and shown again as the output vector
below. The chosen channel is written out in words. Numbers come from GlobalPool1DSteps (core).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontInfo, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.explain.frames_1d import GlobalPool1DSteps
from cnnviz.core.formatting import format_value
from cnnviz.ui.common.value_colors import ColorLegend, ValueMap, symmetric_limit
from cnnviz.ui.common.zoom import line_width, scaled, set_relative_font, watch_zoom
from cnnviz.ui.explain.views.conv1d_step_view import lane_names
from cnnviz.ui.explain.views.grid_painting import (
    FOCUS_BACKGROUND,
    HIGHLIGHT_EDGE,
    PICKED,
    display_value,
    pixel_font,
)
from cnnviz.ui.explain.views.series_painting import SeriesPanel, axis_labels, range_labels
from cnnviz.ui.explain.views.view_parts import ChannelPicker, headline_label, note_label


class PooledSeriesPlot(QWidget):
    """Every channel's sequence with what global pooling takes from it marked, and the value
    it becomes written at the end of its lane. A click on a lane picks that channel."""

    lane_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = SeriesPanel()
        self.mode = "max"
        self.picked: list[int] = []
        self.pooled = np.zeros(0, np.float32)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(160)
        watch_zoom(self.update)

    def set_data(self, sequence: np.ndarray, mode: str, picked: list[int],
                 pooled: np.ndarray, limit: float) -> None:
        channels = sequence.shape[1]
        self.panel.set_data(sequence, 0, 0, lane_names(channels), limit)
        self.mode, self.picked = mode, list(picked)
        self.pooled = np.asarray(pooled, np.float32).ravel()
        small = QFontMetricsF(self._small_font())
        lane_h = max(22.0, small.height() * 1.4) if not self.panel.strips else 3.0
        self.setMinimumHeight(int(max(160, channels * lane_h + 3 * small.height())))
        self.update()

    def set_focus(self, channel: int) -> None:
        self.panel.set_focus(channel if self.panel.lanes > 1 else None)
        self.update()

    def _small_font(self):
        return pixel_font(self.font(), max(10.0, QFontInfo(self.font()).pixelSize() * 0.9))

    def _place(self) -> None:
        font = self._small_font()
        metrics = QFontMetricsF(font)
        names = self.panel.names + [display_value(v) for r in self.panel.ranges for v in r]
        name_w = max(metrics.horizontalAdvance(n) for n in names) + 12
        notes_w = max(metrics.horizontalAdvance(f"→ {display_value(v)}") for v in self.pooled) \
            + 16 if self.pooled.size else 8
        plot = QRectF(name_w + 4, 6, max(20.0, self.width() - name_w - notes_w - 8),
                      max(20.0, self.height() - metrics.height() - 16))
        self.panel.place(plot, name_w, font, self.devicePixelRatioF())

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if not self.pooled.size:
            painter.end()
            return
        self._place()
        panel, font = self.panel, self._small_font()
        panel.draw(painter)
        axis_labels(painter, panel, font, panel.plot.bottom())
        if not panel.strips and panel.lanes == 1:
            range_labels(painter, panel.plot, *panel.ranges[0], lambda v: panel.y_of(0, v),
                         font, panel.name_width)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetricsF(font)
        for lane in range(panel.lanes):
            rect = panel.lane_rect(lane)
            value = float(self.pooled[lane])
            if self.mode == "max":
                step = self.picked[lane]
                point = QPointF(panel.x_of(step), panel.y_of(lane, value))
                if panel.strips:
                    cell = panel.span_rect(step, 1)
                    painter.setPen(QPen(PICKED, line_width(2)))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(QRectF(cell.left(), rect.top(), cell.width(),
                                            rect.height()))
                else:
                    radius = max(4.0, min(9.0, rect.height() * 0.22))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.setPen(QPen(HIGHLIGHT_EDGE, line_width(1)))
                    painter.drawEllipse(point, radius + line_width(1.5), radius + line_width(1.5))
                    painter.setPen(QPen(PICKED, line_width(3)))
                    painter.drawEllipse(point, radius, radius)
            elif not panel.strips:
                y = panel.y_of(lane, value)
                painter.setPen(QPen(PICKED, line_width(2), Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            if rect.height() >= metrics.height() * 0.9 or lane == panel.focus:
                note = f"→ {display_value(value)}"
                box = QRectF(rect.right() + 6, rect.center().y() - metrics.height() / 2,
                             metrics.horizontalAdvance(note) + 4, metrics.height())
                if lane == panel.focus:
                    painter.fillRect(box, FOCUS_BACKGROUND)
                painter.setFont(font)
                painter.setPen(QColor(25, 25, 25))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, note)
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        found = self.panel.position_at(event.position())
        if found is not None and event.button() == Qt.MouseButton.LeftButton:
            self.lane_clicked.emit(found[1])
            return
        super().mousePressEvent(event)


class GlobalPool1DView(QWidget):
    """Global pooling along a sequence: each channel's maximum (marked) or mean (drawn)."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: GlobalPool1DSteps | None = None
        self._channel = 0
        self._detail = ""
        layout = QVBoxLayout(self)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.picker = ChannelPicker()
        layout.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignLeft)
        self.plot = PooledSeriesPlot()
        layout.addWidget(self.plot, 3)
        self.result = QLabel()
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setWordWrap(True)
        set_relative_font(self.result, 1.15)
        layout.addWidget(self.result)
        self.outputs = ValueMap()
        self.outputs.setMinimumHeight(scaled(60))
        layout.addWidget(self.outputs, 1)
        self.legend = ColorLegend()
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.hint = note_label()
        self.hint.setText("Click a lane or a value in the output to follow that channel.")
        layout.addWidget(self.hint)
        self._size_for_zoom()
        watch_zoom(self._size_for_zoom)
        self.picker.channel_changed.connect(self.set_channel)
        self.plot.lane_clicked.connect(self.set_channel)
        self.outputs.cell_clicked.connect(lambda position: self.set_channel(int(position[0])))

    def _size_for_zoom(self) -> None:
        self.legend.setMaximumWidth(scaled(420))
        self.outputs.setMinimumHeight(scaled(60))

    def set_steps(self, steps: GlobalPool1DSteps) -> None:
        self.steps = steps
        sequence = np.asarray(steps.input, np.float32)
        length, channels = sequence.shape
        output = np.asarray(steps.output, np.float32).ravel()
        word = "largest value (ringed)" if steps.mode == "max" else "mean (dashed line)"
        if channels > 1:
            self.headline.setText(f"Global {steps.mode} pooling: each of the {channels} "
                                  f"channels ({length} steps) becomes one number, its {word}.")
        else:
            self.headline.setText(f"Global {steps.mode} pooling: the sequence ({length} steps) "
                                  f"becomes one number, its {word}.")
        self.hint.setVisible(channels > 1)
        limit = symmetric_limit(sequence, output)
        self.legend.set_limit(limit)
        self.plot.set_data(sequence, steps.mode, steps.picked, output, limit)
        plural = "s" if channels > 1 else ""
        self.outputs.set_values(output, limit, title=f"output: {channels} value{plural}")
        channel = int(np.argmax(np.abs(output))) if channels else 0
        self.picker.set_count(channels, channel)
        self.set_channel(channel)

    def channel(self) -> int:
        return self._channel

    def set_channel_picker_visible(self, visible: bool) -> None:
        self.picker.setVisible(visible and self.picker.spin.maximum() > 0)

    def set_channel(self, channel: int) -> None:
        if self.steps is None:
            return
        sequence = np.asarray(self.steps.input, np.float32)
        self._channel = max(0, min(int(channel), sequence.shape[1] - 1))
        if self.picker.value() != self._channel:
            self.picker.set_value(self._channel)
        c = self._channel
        output = float(np.asarray(self.steps.output).ravel()[c])
        if self.steps.mode == "max":
            step = self.steps.picked[c]
            self._detail = (f"Channel {c}: max = {format_value(output)}, at step {step} "
                            f"of {sequence.shape[0]}.")
        else:
            total = float(np.sum(sequence[:, c], dtype=np.float64))
            self._detail = (f"Channel {c}: mean = {format_value(total)} ÷ {sequence.shape[0]} "
                            f"steps = {format_value(output)}.")
        self.result.setText(self._detail)
        self.plot.set_focus(c)
        self.outputs.set_highlight((c,))
        self.channel_changed.emit(c)

    def summary_text(self) -> str:
        return "\n".join([self.headline.text(), self._detail]) if self.steps else ""
