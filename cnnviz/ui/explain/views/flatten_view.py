"""Explain view for flatten: the input stack above, the flat output list below, and where
each output value came from."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from cnnviz.core.explain.frames import FlattenSteps
from cnnviz.ui.explain.views.flatten_strip import FlattenOverview, FlattenStrip
from cnnviz.core.formatting import count_text, dims_text, format_value
from cnnviz.ui.common.value_colors import ValueMap, symmetric_limit
from cnnviz.ui.explain.views.view_parts import headline_label, note_label, position_text


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
        stack = f"{dims_text(shape)} = " if source.ndim > 1 else ""
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
