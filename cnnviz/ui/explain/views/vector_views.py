"""Explain views for dropout and global pooling, layers that pass values on without weights.

Every explain view takes its layer's steps (cnnviz.core.explain.frames) through `set_steps` and exposes
`summary_text()`: the numbers it shows, as plain lines (the tests read them).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnviz.core.explain.frames import DropoutSteps, GlobalPoolSteps
from cnnviz.core.formatting import count_text, dims_text, format_value
from cnnviz.ui.common.value_colors import ColorLegend, ValueMap, symmetric_limit
from cnnviz.ui.explain.views.view_parts import (
    ChannelPicker, MapRow, channel_of, headline_label, most_varied_channel, note_label,
)
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom


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
        set_relative_font(self.result, 1.3)
        self.outputs = ValueMap()
        row.addWidget(self.channel_map, 3)
        row.addWidget(self.result, 0)
        row.addWidget(self.outputs, 3)
        layout.addLayout(row, 1)
        self.legend = ColorLegend()
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self._size_for_zoom()
        watch_zoom(self._size_for_zoom)
        self.hint = note_label()
        self.hint.setText("Click a value in the output to see the map it came from.")
        layout.addWidget(self.hint)
        self.picker.channel_changed.connect(self.set_channel)
        self.outputs.cell_clicked.connect(lambda position: self.set_channel(int(position[0])))


    def _size_for_zoom(self) -> None:
        """The result's and the legend's widths hold their text at the current zoom."""
        self.result.setMinimumWidth(
            self.result.fontMetrics().horizontalAdvance("mean = 000.000") + 16)
        self.result.setMaximumWidth(max(scaled(220), self.result.minimumWidth()))
        self.legend.setMaximumWidth(scaled(420))
    def set_steps(self, steps: GlobalPoolSteps) -> None:
        self.steps = steps
        values = np.asarray(steps.input, np.float32)
        if values.ndim == 2:
            values = values[:, :, None]
        height, width, channels = values.shape
        word = "largest value" if steps.mode == "max" else "mean"
        self.headline.setText(f"Global {steps.mode} pooling: each of the {channels} maps "
                              f"({dims_text((height, width))}) becomes one number, its {word}.")
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
                                    f"{dims_text(values.shape[:2])} map")
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
