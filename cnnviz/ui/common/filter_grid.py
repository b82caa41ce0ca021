"""A conv layer's filters, one tile each: what each filter looks for in its input.

On a colour input (3 channels, the first layer) each filter is shown as a small colour
picture, stretched to its own min…max as in the classic AlexNet figure: the colours are the
colours the filter responds to most. Otherwise one input channel at a time (or the mean of
all) is drawn on the shared zero-centred scale: red weights add, blue weights subtract.

A Conv1D kernel (k, C, F) is drawn the same way in one dimension: each filter a small stem
plot of its k weights (red up for positive, blue down for negative, one height scale for all
filters), for one input channel, the mean of all, or (up to STACK_MAX channels) every input
channel's stems stacked top to bottom.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.formatting import format_value
from cnnviz.ui.common.feature_map_grid import FitScrollArea, TileCanvas
from cnnviz.ui.common.series_plots import (
    PLOT_BACKGROUND,
    paint_stems,
    stem_dot_radius,
    stem_x,
    value_y,
)
from cnnviz.ui.common.value_colors import (
    ColorLegend,
    diverging_image,
    rgb_to_qimage,
    symmetric_limit,
    text_color_on,
)

COLOUR = "colour"
MEAN = "mean"
STACKED = "stacked"
STACK_MAX = 8                  # Conv1D: up to this many input channels can be stacked
STEM_ROW_UNITS = 4             # a stem row's height in the layout's units (a weight is one wide)
STEM_HEADROOM = 1.3            # the scale reaches 1/1.3 of a row: room to write the weight
RGB_NAMES = ("red", "green", "blue")
COLOUR_NOTE = ("In colour, each filter stretched to its own range: bright = its largest "
               "weights, dark = its smallest.")
NUMBERS_MIN_CELL = 34          # weights are written into cells at least this many pixels wide
TOOLTIP_TABLE_MAX = 49         # kernels up to 7×7 get their numbers in the tooltip


def filter_colour_image(kernel: np.ndarray) -> np.ndarray:
    """One (kh, kw, 3) filter as uint8 RGB, stretched to its own min…max (flat → mid gray)."""
    low, high = float(kernel.min()), float(kernel.max())
    scaled = (kernel - low) / (high - low) if high > low else np.full_like(kernel, 0.5)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _blank_tile() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_RGB32)
    image.fill(PLOT_BACKGROUND)
    return image


class FilterGrid(QWidget):
    """Every filter of a Conv2D kernel (kh, kw, C, F), or of a Conv1D kernel (k, C, F), as a
    tile; click one to pick it."""

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
        self.channel_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.channel_row = QWidget()
        row = QHBoxLayout(self.channel_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.channel_box)
        self.legend = ColorLegend()
        self.legend.setMinimumWidth(140)
        self.legend.setMaximumWidth(240)
        self.colour_note = QLabel(COLOUR_NOTE)
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
        """Show a Conv2D kernel of shape (kh, kw, C, F) or a Conv1D kernel (k, C, F); `bias`
        (F,) only adds to tooltips. The channel choice is kept when the new kernel has the
        same dimensions and input channels. Raises ValueError for other shapes."""
        array = np.asarray(kernel, np.float32)
        if array.ndim not in (3, 4):
            raise ValueError(f"A Conv2D kernel has shape (kh, kw, C, F) and a Conv1D kernel "
                             f"(k, C, F), not {np.shape(kernel)}.")
        same_inputs = (array.ndim == self.kernel.ndim
                       and array.shape[-2] == self.kernel.shape[-2])
        previous = self.channel_mode()
        self.kernel, self.bias = array, None if bias is None else np.asarray(bias, np.float32)
        channels, filters = array.shape[-2:]
        one_d = array.ndim == 3
        self.channel_box.blockSignals(True)
        self.channel_box.clear()
        if channels == 3 and not one_d:
            self.channel_box.addItem("colour (R, G, B)", COLOUR)
        if one_d and 1 < channels <= STACK_MAX:
            self.channel_box.addItem("all channels, stacked", STACKED)
        if channels > 1:
            self.channel_box.addItem("mean of channels", MEAN)
        for c in range(channels):
            name = (f"channel {c} ({RGB_NAMES[c]})" if channels == 3 and not one_d
                    else f"input channel {c}")
            self.channel_box.addItem(name, c)
        index = self.channel_box.findData(previous) if same_inputs and previous is not None else 0
        self.channel_box.setCurrentIndex(max(index, 0))
        self.channel_box.blockSignals(False)
        self.channel_row.setVisible(channels > 1)
        size = f"{array.shape[0]}" if one_d else f"{array.shape[0]}×{array.shape[1]}"
        what = f"{filters} filter{'s' if filters != 1 else ''} of {size}×{channels}"
        if one_d:
            what += " (kernel × input channels), drawn as stems"
        self.title_label.setText(f"{title}  ·  {what}" if title else what)
        self._redraw()

    def is_1d(self) -> bool:
        """The kernel is a Conv1D's (k, C, F)."""
        return self.kernel.ndim == 3

    def channel_mode(self) -> str | int | None:
        """"colour", "mean", "stacked" (Conv1D) or an input channel number; None before a
        kernel is set."""
        return self.channel_box.currentData()

    def set_channel_mode(self, mode: str | int) -> None:
        """Show "colour" (3 channels only), "mean", "stacked" (Conv1D, up to STACK_MAX
        channels), or one input channel. Raises ValueError for a mode this kernel does not
        have."""
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
        """(F, kh, kw) weights drawn on the diverging scale in the current mode; for a Conv1D
        kernel (F, rows, k): one row per stacked input channel, else one row."""
        mode = self.channel_mode()
        if self.is_1d():
            kernel = self.kernel                                  # (k, C, F)
            chosen = (kernel.transpose(1, 0, 2) if mode == STACKED
                      else kernel.mean(axis=1)[None] if mode == MEAN
                      else kernel[:, mode or 0, :][None])        # (rows, k, F)
            return np.moveaxis(chosen, -1, 0)
        chosen = self.kernel.mean(axis=2) if mode == MEAN else self.kernel[:, :, mode or 0, :]
        return np.moveaxis(chosen, -1, 0)

    def _redraw(self) -> None:
        if self.is_1d():
            self._redraw_stems()
            return
        self.tiles.overlay = self._draw_numbers
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
        self.colour_note.setText(COLOUR_NOTE)
        self.colour_note.setVisible(colour)
        self.tiles.set_tiles(images, [str(f) for f in range(filters)], (kh, kw))
        self._relayout()

    def _redraw_stems(self) -> None:
        """Conv1D: blank tiles with each filter's stems painted over them."""
        k, _channels, filters = self.kernel.shape
        planes = self._shown_planes()
        self.limit = symmetric_limit(planes)
        self.legend.set_limit(self.limit)
        self.legend.setVisible(True)
        stacked = self.channel_mode() == STACKED
        if stacked:
            self.colour_note.setText("Each tile stacks the filter's weights on every input "
                                     "channel: channel 0 at the top, then 1, 2, …")
        self.colour_note.setVisible(stacked)
        self.tiles.overlay = self._draw_stems
        rows = planes.shape[1]
        # A stem is one unit wide (a little room either side), a lone row STEM_ROW_UNITS high;
        # stacked rows are flatter, and the tile wider, so eight still read.
        height = STEM_ROW_UNITS if rows == 1 else 3 * rows + 1
        self.tiles.set_tiles([_blank_tile()] * filters, [str(f) for f in range(filters)],
                             (height, max(k + 1, STEM_ROW_UNITS, 2 * rows)))
        self._relayout()

    def stem_rects(self, rect: QRect) -> list[QRectF]:
        """The plot area of each stacked row inside a tile's `rect` (one row unless stacked)."""
        rows = self._shown_planes().shape[1] if self.kernel.size else 1
        height = rect.height() / rows
        return [QRectF(rect.left() + 1, rect.top() + row * height + 1, rect.width() - 2,
                       height - 2) for row in range(rows)]

    def _draw_stems(self, painter: QPainter, index: int, rect: QRect) -> None:
        plane = self._shown_planes()[index]                       # (rows, k)
        limit = self.limit * STEM_HEADROOM
        metrics = painter.fontMetrics()
        for row, area in enumerate(self.stem_rects(rect)):
            paint_stems(painter, area, plane[row], limit, background=False)
            if row:
                painter.setPen(QPen(QColor(215, 215, 215), 1))
                painter.drawLine(area.topLeft(), area.topRight())
            count = plane.shape[1]
            if area.width() / count < NUMBERS_MIN_CELL or area.height() < 3 * metrics.height():
                continue
            for cell, weight in enumerate(plane[row]):
                text = format_value(weight, 2)
                if text in ("0.00", "-0.00"):
                    text = format_value(weight, 3)
                x = stem_x(cell, count, area)
                tip = value_y(float(weight), area, limit)
                # Written beyond the tip, or on the other side of the zero line when there is
                # no room beyond it.
                above = weight >= 0
                dot = stem_dot_radius(area, count) + 1
                top = tip - dot - metrics.height() if above else tip + dot
                if top < area.top() or top + metrics.height() > area.bottom():
                    zero = value_y(0.0, area, limit)
                    top = zero + 2 if above else zero - metrics.height() - 2
                painter.setPen(QColor(40, 40, 40))      # on the white plot
                painter.drawText(QRectF(x - area.width() / count / 2, top,
                                        area.width() / count, metrics.height()),
                                 Qt.AlignmentFlag.AlignCenter, text)

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
        if self.is_1d():
            return self._tooltip_1d(index)
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

    def _tooltip_1d(self, index: int) -> str:
        k, channels, _filters = self.kernel.shape
        weights = self.kernel[:, :, index]                         # (k, C)
        parts = [f"<b>Filter {index}</b> · {k} weights on each of {channels} input "
                 f"channel{'s' if channels != 1 else ''} (step 0 first)"]
        mode = self.channel_mode()
        if mode == MEAN:
            shown = [("mean of channels", weights.mean(axis=1))]
        elif mode == STACKED:
            shown = [(f"input channel {c}", weights[:, c]) for c in range(channels)]
        else:
            shown = [(f"input channel {mode}" if channels > 1 else "", weights[:, mode or 0])]
        if k <= TOOLTIP_TABLE_MAX:
            rows = "".join(
                f"<tr><td>{html.escape(name)}</td>" + "".join(
                    f"<td align='right'>{format_value(v)}</td>" for v in line) + "</tr>"
                for name, line in shown)
            parts.append(f"<table cellspacing='6'>{rows}</table>")
        else:
            for name, line in shown:
                parts.append(f"{html.escape(name)}: min {format_value(line.min())} · max "
                             f"{format_value(line.max())} · mean {format_value(line.mean())}")
        if self.bias is not None and index < self.bias.size:
            parts.append(f"bias {format_value(self.bias[index], 4)}")
        return "<br>".join(parts)

    def _relayout(self) -> None:
        self.scroll.fit()
