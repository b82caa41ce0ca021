"""The BatchNormalization explain view: the inference formula with the channel's own learned
numbers, simplified to a straight line y = a·x + b, the channel before and after, and a table
of every channel's γ, β, μ and σ²."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from cnnviz.core.explain.frames import BatchNormSteps
from cnnviz.core.formatting import format_value
from cnnviz.ui.explain.views.view_parts import (
    ChannelPicker, MapRow, headline_label, most_varied_channel, position_text,
)
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom


def signed(value: float) -> str:
    """'+ 0.05' or '− 0.46' for the end of a formula."""
    return f"− {format_value(-value)}" if value < 0 else f"+ {format_value(value)}"


def minus(value: float) -> str:
    """'x − 0.31' or 'x + 0.31' (subtracting a negative mean)."""
    return f"x + {format_value(-value)}" if value < 0 else f"x − {format_value(value)}"


class BatchNormView(QWidget):
    """Batch normalization for one channel (or unit), with its real numbers."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: BatchNormSteps | None = None
        self._channel = 0
        self._picker_wanted = True
        self._pinned: tuple[int, ...] | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.picker = ChannelPicker()
        top.addWidget(self.picker)
        self.headline = headline_label()
        top.addWidget(self.headline, 1)
        layout.addLayout(top)
        self.formula = QLabel()
        self.formula.setTextFormat(Qt.TextFormat.RichText)
        self.formula.setWordWrap(True)
        set_relative_font(self.formula, 1.15)
        layout.addWidget(self.formula)
        self.example = QLabel()
        self.example.setWordWrap(True)
        layout.addWidget(self.example)
        row = QHBoxLayout()
        self.maps = MapRow(show_picker=False)
        row.addWidget(self.maps, 3)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["channel", "γ", "β", "μ", "σ²"])
        tips = ("", "gamma: learned scale", "beta: learned shift", "moving mean",
                "moving variance")
        for column, tip in enumerate(tips):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents)
        self._size_for_zoom()
        watch_zoom(self._size_for_zoom)
        row.addWidget(self.table, 2)
        layout.addLayout(row, 1)
        self.picker.channel_changed.connect(self.set_channel)
        self.table.currentCellChanged.connect(lambda r, _c, _pr, _pc: self.set_channel(r))
        self.maps.cell_hovered.connect(self._hover)
        self.maps.cell_clicked.connect(self._pin)


    def _size_for_zoom(self) -> None:
        """The table's width holds its numbers at the current zoom."""
        self.table.setMinimumWidth(scaled(230))
        self.table.setMaximumWidth(scaled(360))
    def set_steps(self, steps: BatchNormSteps) -> None:
        self.steps = steps
        before = np.asarray(steps.input, np.float32)
        after = np.asarray(steps.output, np.float32)
        channels = len(steps.gamma)
        noun = "unit" if before.ndim == 1 else "channel"
        self.picker.spin.setPrefix(f"{noun.capitalize()} ")
        self.table.horizontalHeaderItem(0).setText(noun)
        self.table.blockSignals(True)
        self.table.setRowCount(channels)
        for channel in range(channels):
            values = (str(channel), steps.gamma[channel], steps.beta[channel],
                      steps.moving_mean[channel], steps.moving_variance[channel])
            for column, value in enumerate(values):
                item = QTableWidgetItem(value if isinstance(value, str) else format_value(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(channel, column, item)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self.maps.set_panels([("before (x)", before), ("after (y)", after)], ["a·x + b"])
        self.picker.set_count(channels)
        self.set_channel_picker_visible(self._picker_wanted)
        self._channel = -1
        self.set_channel(most_varied_channel(before))

    def channel(self) -> int:
        return self._channel

    def set_channel_picker_visible(self, visible: bool) -> None:
        """Hide the view's own channel picker (when the owner has one); the table still
        selects channels."""
        self._picker_wanted = visible
        self.picker.setVisible(visible and self.picker.spin.maximum() > 0)

    def set_channel(self, channel: int) -> None:
        """Show the formula and maps of `channel` (a unit, for a 1-D input)."""
        if self.steps is None or channel == self._channel:
            return
        if not 0 <= channel < len(self.steps.gamma):
            return
        self._channel = channel
        self.picker.set_value(channel)
        if self.table.currentRow() != channel:
            self.table.blockSignals(True)
            self.table.selectRow(channel)
            self.table.blockSignals(False)
        if np.ndim(self.steps.input) == 3:
            self.maps.set_channel(channel)
        self._pinned = None
        self._show_formula()
        self._show_example(self._default_position())
        self.channel_changed.emit(channel)

    def slope_and_intercept(self) -> tuple[float, float]:
        """The channel's straight line y = a·x + b: a = γ / √(σ² + ε), b = β − μ·a."""
        return float(self.steps.scale[self._channel]), float(self.steps.shift[self._channel])

    def _show_formula(self) -> None:
        steps, c = self.steps, self._channel
        slope, intercept = self.slope_and_intercept()
        noun = "unit" if np.ndim(steps.input) == 1 else "channel"
        self.headline.setText(f"{noun.capitalize()} {c}:  y = {format_value(slope)}·x "
                              f"{signed(intercept)}")
        self.formula.setText(
            "<table cellspacing='2'>"
            f"<tr><td>y</td><td>= γ · (x − μ) / √(σ² + ε) + β</td></tr>"
            f"<tr><td></td><td>= {format_value(steps.gamma[c])} · ({minus(steps.moving_mean[c])})"
            f" / √({format_value(steps.moving_variance[c])} + {format_value(steps.epsilon)}) "
            f"{signed(steps.beta[c])}</td></tr>"
            f"<tr><td></td><td>= <b>{format_value(slope)}·x {signed(intercept)}</b></td></tr>"
            "</table>")

    def _default_position(self) -> tuple[int, ...]:
        """The value with the largest size in the channel: a telling worked example."""
        values = np.asarray(self.steps.input, np.float32)
        if values.ndim == 3:
            channel_map = np.abs(values[:, :, self._channel])
            y, x = np.unravel_index(np.argmax(channel_map), channel_map.shape)
            return int(y), int(x), self._channel
        if values.ndim == 1:
            return (self._channel,)
        # (rows, channels): the largest value in the channel's column
        return int(np.argmax(np.abs(values[..., self._channel]))), self._channel

    def _hover(self, position) -> None:
        self._show_example(position if position is not None else (self._pinned or
                                                                   self._default_position()))

    def _pin(self, position) -> None:
        self._pinned = position
        self._show_example(position)

    def _show_example(self, position: tuple[int, ...]) -> None:
        values = np.asarray(self.steps.input, np.float32)
        channel = int(position[-1])  # channels are the last axis
        if values.ndim != 3 and channel != self._channel:
            self.set_channel(channel)  # pointing at another unit (column) selects it
            return
        slope, intercept = self.slope_and_intercept()
        x = float(values[position])
        y = float(np.asarray(self.steps.output)[position])
        self.maps.set_highlight(position)
        self.example.setText(f"For example, input{position_text(position)}:  x = {format_value(x)}"
                             f"  →  y = {format_value(slope)} × {format_value(x)} "
                             f"{signed(intercept)} = {format_value(y)}")

    def summary_text(self) -> str:
        if self.steps is None:
            return ""
        from cnnviz.core.explain.lessons import plain_text

        formula = plain_text(self.formula.text().replace("</td><td>", " ")
                             .replace("</tr>", "\n")).strip()
        return "\n".join([self.headline.text(), formula, self.example.text()])
