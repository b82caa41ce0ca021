"""What the explain views share: label makers, array indexing helpers,
`ChannelPicker` and `MapRow`, the before/after strip the elementwise views use; `WrapRow`,
a row whose right part goes under its left when the room is narrow."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QLabel, QLayout, QSpinBox, QVBoxLayout, QWidget,
)

from cnnviz.ui.common.value_colors import ColorLegend, ValueMap, symmetric_limit
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom


def headline_label(parent: QWidget | None = None) -> QLabel:
    """The bold one-line statement at the top of every view (wraps when narrow)."""
    label = QLabel(parent)
    set_relative_font(label, 1.25, bold=True)   # follows the zoom
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def note_label(parent: QWidget | None = None, rich: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label


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
        self._noun = noun
        self._size_spin()
        self.total = QLabel()
        layout.addWidget(self.spin)
        layout.addWidget(self.total)
        self.spin.valueChanged.connect(self.channel_changed)


    def _size_spin(self) -> None:
        """Room for "Channel 0000" and the arrows at the current font (it follows the zoom)."""
        metrics = self.spin.fontMetrics()
        self.spin.setMinimumWidth(metrics.horizontalAdvance(f"{self._noun} 0000")
                                  + 2 * metrics.height() + 12)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:
            self._size_spin()
        super().changeEvent(event)
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
        self.legend.setMaximumWidth(scaled(420))
        watch_zoom(self._size_for_zoom)
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.picker.channel_changed.connect(self._show_channel)


    def _size_for_zoom(self) -> None:
        self.legend.setMaximumWidth(scaled(420))
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
        set_relative_font(label, bold=True)
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


class WrapRow(QWidget):
    """`first` (a widget or layout) with `tail` widgets at its right; when the row is too
    narrow for both (a large zoom on a small screen), the tail goes under `first`, right-
    aligned, so the page does not widen. `first_width()` is the width `first` should keep."""

    def __init__(self, first: QWidget | QLayout, tail: list[QWidget],
                 first_width: Callable[[], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._first = first
        self._first_width = first_width
        self.tail = QHBoxLayout()
        self.tail.setContentsMargins(0, 0, 0, 0)
        self.tail.addStretch(1)
        for widget in tail:
            self.tail.addWidget(widget)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        if isinstance(first, QLayout):
            self.grid.addLayout(first, 0, 0)
        else:
            self.grid.addWidget(first, 0, 0)
        self.grid.addLayout(self.tail, 0, 1)
        self.grid.setColumnStretch(0, 1)
        self._stacked = False

    def stacked(self) -> bool:
        """Whether the tail is under the first part."""
        return self._stacked

    def rearrange(self) -> None:
        """Side by side or stacked, for the current width (call after `first` changed)."""
        self._arrange()

    def _arrange(self) -> None:
        tail_w = self.tail.minimumSize().width()
        stacked = self.width() < self._first_width() + tail_w + self.grid.horizontalSpacing()
        if stacked != self._stacked:
            self.grid.removeItem(self.tail)
            if stacked:
                self.grid.addLayout(self.tail, 1, 0)
            else:
                self.grid.addLayout(self.tail, 0, 1)
            self._stacked = stacked
        first = self._first
        first_min = (first.minimumSize().width() if isinstance(first, QLayout)
                     else first.minimumSizeHint().width())
        self.setMinimumWidth(max(tail_w, first_min))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._arrange()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._arrange()
