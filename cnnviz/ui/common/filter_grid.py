"""A conv layer's filters, one tile each: what each filter looks for in its input.

On a colour input (3 channels, the first layer) each filter is shown as a small colour
picture, stretched to its own min…max as in the classic AlexNet figure: the colours are the
colours the filter responds to most. Otherwise one input channel at a time (or the mean of
all) is drawn on the shared zero-centred scale: red weights add, blue weights subtract.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget,
)

from cnnviz.ui.common.feature_map_grid import FitScrollArea, TileCanvas
from cnnviz.core.formatting import format_value
from cnnviz.ui.common.value_colors import (
    ColorLegend, diverging_image, rgb_to_qimage, symmetric_limit, text_color_on,
)

COLOUR = "colour"
MEAN = "mean"
RGB_NAMES = ("red", "green", "blue")
NUMBERS_MIN_CELL = 34          # weights are written into cells at least this many pixels wide
TOOLTIP_TABLE_MAX = 49         # kernels up to 7×7 get their numbers in the tooltip


def filter_colour_image(kernel: np.ndarray) -> np.ndarray:
    """One (kh, kw, 3) filter as uint8 RGB, stretched to its own min…max (flat → mid gray)."""
    low, high = float(kernel.min()), float(kernel.max())
    scaled = (kernel - low) / (high - low) if high > low else np.full_like(kernel, 0.5)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class FilterGrid(QWidget):
    """Every filter of a Conv2D kernel (kh, kw, C, F) as a tile; click one to pick it."""

    filter_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kernel = np.zeros((1, 1, 1, 0), np.float32)
        self.bias: np.ndarray | None = None
        self.limit = 1.0
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        bold = self.title_label.font()
        bold.setBold(True)
        self.title_label.setFont(bold)
        self.channel_box = QComboBox()
        self.channel_box.setToolTip("Which input channel's weights the tiles show")
        self.channel_box.currentIndexChanged.connect(self._redraw)
        self.channel_row = QWidget()
        row = QHBoxLayout(self.channel_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.channel_box)
        self.legend = ColorLegend()
        self.legend.setMinimumWidth(140)
        self.legend.setMaximumWidth(240)
        self.colour_note = QLabel("In colour, each filter stretched to its own range: bright = "
                                  "its largest weights, dark = its smallest.")
        self.colour_note.setWordWrap(True)
        self.tiles = TileCanvas()
        self.tiles.empty_text = "No filters to show"
        self.tiles.tooltip_for = lambda index, _row, _col: self._tooltip(index)
        self.tiles.overlay = self._draw_numbers
        self.tiles.tile_clicked.connect(self.filter_clicked)
        self.scroll = FitScrollArea(self.tiles)
        controls = QHBoxLayout()
        controls.addWidget(self.channel_row)
        controls.addStretch(1)
        controls.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title_label)
        layout.addLayout(controls)
        layout.addWidget(self.colour_note)
        layout.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.channel_row.hide()
        self.colour_note.hide()

    # ------------------------------------------------------------------ public

    def set_kernel(self, kernel: np.ndarray, title: str = "",
                   bias: np.ndarray | None = None) -> None:
        """Show a Conv2D kernel of shape (kh, kw, C, F); `bias` (F,) only adds to tooltips.
        The channel choice is kept when the new kernel has the same input channels.
        Raises ValueError for other shapes."""
        array = np.asarray(kernel, np.float32)
        if array.ndim != 4:
            raise ValueError(f"A Conv2D kernel has shape (kh, kw, C, F), not {np.shape(kernel)}.")
        same_inputs = array.shape[2] == self.kernel.shape[2]
        previous = self.channel_mode()
        self.kernel, self.bias = array, None if bias is None else np.asarray(bias, np.float32)
        kh, kw, channels, filters = array.shape
        self.channel_box.blockSignals(True)
        self.channel_box.clear()
        if channels == 3:
            self.channel_box.addItem("colour (R, G, B)", COLOUR)
        if channels > 1:
            self.channel_box.addItem("mean of channels", MEAN)
        for c in range(channels):
            name = f"channel {c} ({RGB_NAMES[c]})" if channels == 3 else f"input channel {c}"
            self.channel_box.addItem(name, c)
        index = self.channel_box.findData(previous) if same_inputs and previous is not None else 0
        self.channel_box.setCurrentIndex(max(index, 0))
        self.channel_box.blockSignals(False)
        self.channel_row.setVisible(channels > 1)
        what = f"{filters} filter{'s' if filters != 1 else ''} of {kh}×{kw}×{channels}"
        self.title_label.setText(f"{title}  ·  {what}" if title else what)
        self._redraw()

    def channel_mode(self) -> str | int | None:
        """"colour", "mean" or an input channel number; None before a kernel is set."""
        return self.channel_box.currentData()

    def set_channel_mode(self, mode: str | int) -> None:
        """Show "colour" (3 channels only), "mean", or one input channel. Raises ValueError
        for a mode this kernel does not have."""
        index = self.channel_box.findData(mode)
        if index < 0:
            raise ValueError(f"This kernel has no view '{mode}'.")
        self.channel_box.setCurrentIndex(index)

    def set_selected_filter(self, index: int | None) -> None:
        """Outline one filter (None: none) without emitting `filter_clicked`."""
        self.tiles.selected = index
        self.tiles.update()
        if index is not None and 0 <= index < len(self.tiles.images):
            center = self.tiles.tile_rect(index).center()
            self.scroll.ensureVisible(center.x(), center.y(), 0, 60)

    def selected_filter(self) -> int | None:
        return self.tiles.selected

    def tile_rect(self, index: int) -> QRect:
        """Where filter `index` is drawn, in `tiles` coordinates."""
        return self.tiles.tile_rect(index)

    def tooltip_text(self, index: int) -> str:
        return self._tooltip(index)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, 400)

    # ------------------------------------------------------------------ drawing

    def _shown_planes(self) -> np.ndarray:
        """(F, kh, kw) weights drawn on the diverging scale in the current mode."""
        mode = self.channel_mode()
        chosen = self.kernel.mean(axis=2) if mode == MEAN else self.kernel[:, :, mode or 0, :]
        return np.moveaxis(chosen, -1, 0)

    def _redraw(self) -> None:
        kh, kw, _channels, filters = self.kernel.shape
        colour = self.channel_mode() == COLOUR
        if filters == 0:
            images = []
        elif colour:
            images = [rgb_to_qimage(filter_colour_image(self.kernel[..., f]))
                      for f in range(filters)]
        else:
            planes = self._shown_planes()
            self.limit = symmetric_limit(planes)
            self.legend.set_limit(self.limit)
            images = [diverging_image(plane, self.limit) for plane in planes]
        self.legend.setVisible(not colour)
        self.colour_note.setVisible(colour)
        self.tiles.set_tiles(images, [str(f) for f in range(filters)], (kh, kw))
        self._relayout()

    def _draw_numbers(self, painter: QPainter, index: int, rect: QRect) -> None:
        """Write each weight into its cell when the cells are big enough to read."""
        kh, kw = self.kernel.shape[:2]
        if self.channel_mode() == COLOUR or rect.width() / kw < NUMBERS_MIN_CELL:
            return
        plane = self._shown_planes()[index]
        for y in range(kh):
            for x in range(kw):
                cell = QRect(rect.left() + x * rect.width() // kw,
                             rect.top() + y * rect.height() // kh,
                             rect.width() // kw, rect.height() // kh)
                text = format_value(plane[y, x], 2)
                if text in ("0.00", "-0.00"):      # tiny, not zero: say how tiny if it fits
                    text = format_value(plane[y, x], 3)
                if painter.fontMetrics().horizontalAdvance(text) <= cell.width() - 2:
                    painter.setPen(text_color_on(plane[y, x], self.limit))
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)

    def _tooltip(self, index: int) -> str:
        kh, kw, channels, _filters = self.kernel.shape
        weights = self.kernel[..., index]
        parts = [f"<b>Filter {index}</b> · {kh}×{kw} weights on {channels} input "
                 f"channel{'s' if channels != 1 else ''}"]
        mode = self.channel_mode()
        if mode == COLOUR:
            shown = [(f"channel {c} ({RGB_NAMES[c]})", weights[:, :, c]) for c in range(3)]
        elif mode == MEAN:
            shown = [("mean of channels", weights.mean(axis=2))]
        else:
            shown = [(f"input channel {mode}" if channels > 1 else "", weights[:, :, mode or 0])]
        for name, plane in shown:
            if name:
                parts.append(html.escape(name))
            if kh * kw <= TOOLTIP_TABLE_MAX:
                rows = "".join("<tr>" + "".join(f"<td align='right'>{format_value(v)}</td>"
                                                for v in line) + "</tr>" for line in plane)
                parts.append(f"<table cellspacing='6'>{rows}</table>")
            else:
                parts.append(f"min {format_value(plane.min())} · max {format_value(plane.max())}"
                             f" · mean {format_value(plane.mean())}")
        if self.bias is not None and index < self.bias.size:
            parts.append(f"bias {format_value(self.bias[index], 4)}")
        return "<br>".join(parts)

    def _relayout(self) -> None:
        self.scroll.fit()
