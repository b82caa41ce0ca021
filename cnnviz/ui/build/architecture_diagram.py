"""The stack drawn like textbook CNN figures: left to right, one 3-D box per layer's output.

Oblique projection: front-face height ~ map height, receding depth ~ map width, thickness ~
channels, all log-scaled so a 150×150×3 image and a 10-unit output both stay visible. Flat
vectors are tall thin bars; a sequence (steps × channels) is a tall plate, its height the steps,
its thickness the channels, with a shallow depth; shape-keeping layers (Activation, Dropout, BatchNormalization) are
thin slabs, since they add no new volume. A frozen layer (trainable=False) is drawn faded and
hatched, with a snowflake before its name. QPainter only, so it repaints on every keystroke.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter,
                           QPaintEvent, QPalette, QPen, QPolygonF, QResizeEvent)
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from cnnviz.core.formatting import count_text, keras_shape
from cnnviz.core.model.shapes import LayerReport, StackReport
from cnnviz.ui.common.zoom import line_width, presenting, watch_zoom, zoom_factor

# Legend label and muted fill colour per category, in legend order.
CATEGORIES: dict[str, tuple[str, str]] = {
    "input": ("Input", "#dba3b4"),
    "conv": ("Convolution", "#6f9fd8"),
    "pool": ("Pooling", "#e6a766"),
    "norm": ("Normalisation", "#d9c66f"),
    "act": ("Activation / Dropout", "#c3bcd8"),
    "flatten": ("Flatten", "#b9c0c8"),
    "dense": ("Dense", "#86bd85"),
    "other": ("Other", "#cccccc"),
}
# Each layer type's legend category and the short name written under its box.
TYPE_STYLE: dict[str, tuple[str, str]] = {
    "Conv2D": ("conv", "Conv2D"), "MaxPooling2D": ("pool", "MaxPool"),
    "AveragePooling2D": ("pool", "AvgPool"), "GlobalMaxPooling2D": ("pool", "GlobalMax"),
    "GlobalAveragePooling2D": ("pool", "GlobalAvg"), "BatchNormalization": ("norm", "BatchNorm"),
    "Activation": ("act", "Activation"), "Dropout": ("act", "Dropout"),
    "Flatten": ("flatten", "Flatten"), "Dense": ("dense", "Dense"),
    "Conv1D": ("conv", "Conv1D"), "MaxPooling1D": ("pool", "MaxPool1D"),
    "AveragePooling1D": ("pool", "AvgPool1D"), "GlobalMaxPooling1D": ("pool", "GlobalMax"),
    "GlobalAveragePooling1D": ("pool", "GlobalAvg"),
}
SHAPE_KEEPING = {"Activation", "Dropout", "BatchNormalization"}

ERROR_COLOUR = QColor("#c62828")
ERROR_FILL = QColor("#fdecea")
UNKNOWN_COLOUR = QColor("#9aa0a8")
ARROW_COLOUR = QColor("#9aa0a8")
FROZEN_MARK = "❄"
FROZEN_HATCH = QColor("#1a4d8f")
FROZEN_LEGEND = "Frozen (not trained)"

# Sizes in "units": one unit is `unit` pixels, chosen so the tallest box fits the height.
UNIT_MIN, UNIT_MAX = 3.0, 15.0
DEPTH_X, DEPTH_Y = 0.30, 0.24  # oblique offset per unit of map width
THICKNESS = 0.36  # thickness per unit of channels
SEQUENCE_DEPTH = 1.2  # a sequence has no width: a shallow plate
PLACEHOLDER = (16, 16, 8)  # the size drawn for an invalid or unknown layer
MARGIN, GAP, COLUMN_PAD, MAX_EXTRA_GAP = 10.0, 18.0, 10.0, 36.0


def _log_units(n: int) -> float:
    return math.log2(max(1, n)) + 1.0


@dataclass
class LayerBox:
    """One drawn layer (index -1 is the input) with its geometry in pixels once laid out."""

    index: int
    kind: str  # "volume", "vector", "slab", "error" or "unknown"
    category: str
    type_label: str
    shape_label: str
    tooltip: str
    face_units: float  # front-face height in units
    depth_units: float  # receding depth in units
    thickness_units: float  # left-to-right extent in units (0: fixed thin bar)
    front: QRectF = field(default_factory=QRectF)
    ox: float = 0.0
    oy: float = 0.0
    column: QRectF = field(default_factory=QRectF)
    frozen: bool = False  # trainable=False: drawn faded and hatched, "❄" before its name

    def bounds(self) -> QRectF:
        """The box including its oblique top and side faces."""
        return QRectF(self.front.left(), self.front.top() - self.oy,
                      self.front.width() + self.ox, self.front.height() + self.oy)


def _shape_units(shape: tuple[int, ...]) -> tuple[float, float, float]:
    """(face, depth, thickness) units of an output shape; a flat vector is a thin bar."""
    if len(shape) == 3:
        h, w, c = shape
        return _log_units(h), _log_units(w), THICKNESS * _log_units(c)
    if len(shape) == 2:
        steps, channels = shape
        return _log_units(steps), SEQUENCE_DEPTH, THICKNESS * _log_units(channels)
    # Vectors are compressed harder: a 18,496-long Flatten must not dwarf the image boxes.
    return 2.0 + 0.6 * math.log2(max(1, math.prod(shape))), 1.6, 0.0


def _shape_label(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def _layer_box(layer: LayerReport, after_error: bool, label_text: str | None = None) -> LayerBox:
    category, label = TYPE_STYLE.get(layer.type, ("other", layer.type))
    label = label_text or label
    head = f"{layer.name} ({label_text or layer.type})"
    if layer.error or after_error or layer.output_shape is None:
        kind, text = ("error", layer.error) if layer.error else (
            "unknown", "Unknown until the error before it is fixed.")
        return LayerBox(layer.index, kind, category, label, "error" if layer.error else "?",
                    f"{head}\n{text}", *_shape_units(PLACEHOLDER))
    shape = layer.output_shape
    tooltip = f"{head}\nOutput: {keras_shape(shape)}\nParams: {layer.params:,}"
    if layer.frozen:
        tooltip += (f"\n{FROZEN_MARK} Frozen: its {count_text(layer.params)} parameters are "
                    f"not trained." if layer.params else f"\n{FROZEN_MARK} Frozen.")
    elif layer.non_trainable:
        tooltip += f" ({count_text(layer.non_trainable)} non-trainable)"
    tooltip += f"\n{layer.warning}" if layer.warning else ""
    face, depth, thickness = _shape_units(shape)
    kind = "vector" if len(shape) == 1 else "volume"
    if layer.type in SHAPE_KEEPING:
        kind, thickness = "slab", 0.0
    if layer.frozen:
        label = f"{FROZEN_MARK} {label}"
    return LayerBox(layer.index, kind, category, label, _shape_label(shape), tooltip,
                face, depth, thickness, frozen=layer.frozen)


def boxes_for_report(report: StackReport,
                     labels: dict[int, str] | None = None) -> list[LayerBox]:
    """The input box followed by one box per layer, not yet laid out; `labels` names some
    layers otherwise than by their type (a pre-built base: "MobileNetV2 · cut at …")."""
    labels = labels or {}
    shape = tuple(report.input_shape)
    if report.input_error:
        boxes = [LayerBox(-1, "error", "input", "Input", "error", f"Input\n{report.input_error}",
                      *_shape_units(PLACEHOLDER))]
    else:
        boxes = [LayerBox(-1, "volume", "input", "Input", _shape_label(shape),
                      f"Input\nShape: {keras_shape(shape)}", *_shape_units(shape))]
    after_error = report.input_error is not None
    for layer in report.layers:
        boxes.append(_layer_box(layer, after_error, labels.get(layer.index)))
        after_error = after_error or layer.error is not None
    return boxes


class ArchitectureDiagram(QWidget):
    """The stack as a left-to-right row of 3-D boxes with labels, a legend and a selection.

    Signals:
        layer_clicked(int): the user clicked a layer's box or label (0-based stack index).
            Clicking the input emits nothing.
    """

    layer_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: StackReport | None = None
        self._boxes: list[LayerBox] = []
        self._labels: dict[int, str] = {}
        self._selected: int | None = None
        self._laid_out_for = QSize()
        self._content_width = 0.0
        self._label_top = 0.0
        self._type_font, self._shape_font, self._legend_font = self._make_fonts()
        self.setMouseTracking(True)
        self.setMinimumHeight(self._minimum_height())
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        watch_zoom(self.update)  # presentation mode's thick lines

    # ------------------------------------------------------------------ public API

    def set_report(self, report: StackReport, labels: dict[int, str] | None = None) -> None:
        """Show a stack report (keeps the selection if that layer still exists); `labels`:
        names for some layers instead of their type (see boxes_for_report)."""
        self._report = report
        self._labels = dict(labels or {})
        self._boxes = boxes_for_report(report, labels)
        if self._selected is not None and self._selected >= len(report.layers):
            self._selected = None
        self._relayout()
        self.update()

    def set_selected(self, index: int | None) -> None:
        """Highlight stack layer `index` (None clears). Emits nothing.

        An index beyond the current stack is kept until the next `set_report`, so the caller
        may select before or after showing a new report.
        """
        if index is not None and index < 0:
            index = None
        if index != self._selected:
            self._selected = index
            self.update()

    def selected(self) -> int | None:
        """The highlighted stack index, or None."""
        return self._selected

    def box_rect(self, index: int) -> QRect:
        """The drawn box of stack layer `index` (-1: the input), or an empty QRect."""
        self._ensure_layout()
        box = self._box(index)
        return box.bounds().toAlignedRect() if box else QRect()

    def index_at(self, pos: QPoint | QPointF) -> int | None:
        """The stack index under `pos` (box or label; -1 for the input), or None."""
        self._ensure_layout()
        point = QPointF(pos)
        for box in self._boxes:
            if box.column.contains(point):
                return box.index
        return None

    def render_to_image(self, width: int, height: int) -> QImage:
        """The diagram painted at `width`×`height` (wider if the stack needs it), e.g. to save."""
        twin = ArchitectureDiagram()  # never shown, so this widget's own layout stays put
        twin.setFont(self.font())
        twin.setPalette(self.palette())
        if self._report is not None:
            twin.set_report(self._report, self._labels)
        twin.set_selected(self._selected)
        twin.resize(max(width, twin.minimumWidth()), height)
        image = twin.grab().toImage()
        twin.deleteLater()
        return image

    def sizeHint(self) -> QSize:
        return QSize(max(400, math.ceil(self._content_width)), 240)

    def minimumSizeHint(self) -> QSize:
        return QSize(math.ceil(self._content_width), self._minimum_height())

    def _minimum_height(self) -> int:
        """The height `_relayout` needs for the legend, its smallest boxes (40 px) and both
        label lines at the current font, so no label is cut off: 150 px at the usual font,
        more when the zoom makes the text larger."""
        legend = QFontMetricsF(self._legend_font).height()
        labels = (QFontMetricsF(self._type_font).height()
                  + QFontMetricsF(self._shape_font).height() + 2.0)
        needed = MARGIN + legend + 14.0 + 40.0 + 10.0 + labels + MARGIN
        return max(150, math.ceil(needed))

    # ------------------------------------------------------------------ layout

    def _box(self, index: int) -> LayerBox | None:
        return self._boxes[index + 1] if -1 <= index < len(self._boxes) - 1 else None

    def _make_fonts(self) -> tuple[QFont, QFont, QFont]:
        """(type label, shape label, legend) fonts, all derived from the widget's font."""
        shape_font = QFont(self.font())
        type_font = QFont(shape_font)
        type_font.setBold(True)
        legend_font = QFont(shape_font)
        if shape_font.pointSizeF() > 0:
            legend_font.setPointSizeF(max(7.0, shape_font.pointSizeF() * 0.9))
        return type_font, shape_font, legend_font

    def _ensure_layout(self) -> None:
        if self._laid_out_for != self.size():
            self._relayout()

    def _relayout(self) -> None:
        """Place every box and label for the current size; grow the minimum width to fit."""
        width, height = self.width(), self.height()
        self._laid_out_for = self.size()
        if not self._boxes:
            return
        type_metrics = QFontMetricsF(self._type_font)
        shape_metrics = QFontMetricsF(self._shape_font)
        top_y = MARGIN + QFontMetricsF(self._legend_font).height() + 14.0
        label_h = type_metrics.height() + shape_metrics.height() + 2.0
        room = max(40.0, height - top_y - MARGIN - label_h - 10.0)

        # Fronts are centred on one axis; each box reaches half its face below it and half
        # its face plus its oblique depth above it. Both grow linearly with the unit.
        above = max(b.face_units / 2 + DEPTH_Y * b.depth_units for b in self._boxes)
        below = max(b.face_units / 2 for b in self._boxes)
        unit = min(UNIT_MAX, max(UNIT_MIN, room / (above + below)))
        used = (above + below) * unit + 10.0 + label_h
        axis = top_y + max(0.0, (height - top_y - MARGIN - used) / 2) + above * unit

        widths, needed = [], 0.0
        for box in self._boxes:
            box.ox, box.oy = DEPTH_X * box.depth_units * unit, DEPTH_Y * box.depth_units * unit
            box.front = QRectF(0, axis - box.face_units * unit / 2, self._thickness(box, unit),
                               box.face_units * unit)
            label_w = max(type_metrics.horizontalAdvance(box.type_label),
                          shape_metrics.horizontalAdvance(box.shape_label))
            widths.append(max(box.front.width() + box.ox, label_w) + COLUMN_PAD)
            # The minimum width is measured at the largest unit, so it does not depend on the
            # height: a scroll bar taking height away must not change whether one is needed.
            widest = self._thickness(box, UNIT_MAX) + DEPTH_X * box.depth_units * UNIT_MAX
            needed += max(widest, label_w) + COLUMN_PAD
        gaps = len(widths) - 1
        self._content_width = needed + GAP * gaps + 2 * MARGIN
        # Spread a short stack over a wide widget (up to a limit), then centre it.
        spare = max(0.0, width - sum(widths) - GAP * gaps - 2 * MARGIN)
        gap = GAP + (min(MAX_EXTRA_GAP, spare / gaps) if gaps else 0.0)
        total = sum(widths) + gap * gaps
        x = max(MARGIN, (width - total) / 2)
        column_top = axis - above * unit - 6.0
        column_bottom = axis + below * unit + 10.0 + label_h + 4.0
        for box, column_w in zip(self._boxes, widths):
            box.front.moveLeft(x + (column_w - box.front.width() - box.ox) / 2)
            box.column = QRectF(x, column_top, column_w, column_bottom - column_top)
            x += column_w + gap
        self._label_top = axis + below * unit + 10.0
        # A QScrollArea around the diagram scrolls when this is more than it has.
        if self.minimumWidth() != math.ceil(self._content_width):
            self.setMinimumWidth(math.ceil(self._content_width))

    @staticmethod
    def _thickness(box: LayerBox, unit: float) -> float:
        # Bars and slabs have no channel thickness of their own: a thin, fixed one.
        return box.thickness_units * unit or max(3.0, unit * 0.45)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_legend(painter)
        # In a scroll area only a window's width of a long stack is exposed: skip the rest.
        exposed = QRectF(event.rect()).adjusted(-GAP, 0, GAP, 0)
        for previous, box in zip(self._boxes, self._boxes[1:]):
            if box.column.intersects(exposed) or previous.column.intersects(exposed):
                self._paint_arrow(painter, previous, box)
        for box in self._boxes:
            if box.column.intersects(exposed):
                self._paint_box(painter, box)
                self._paint_labels(painter, box)
        painter.end()

    def _paint_legend(self, painter: QPainter) -> None:
        metrics = QFontMetricsF(self._legend_font)
        painter.setFont(self._legend_font)
        present = {box.category for box in self._boxes}
        x, y = MARGIN, MARGIN
        swatch = metrics.ascent() * 0.8
        for category, (label, colour) in CATEGORIES.items():
            if category not in present:
                continue
            fill = QColor(colour)
            painter.setPen(QPen(fill.darker(150), line_width(1.0)))
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(x, y + (metrics.height() - swatch) / 2, swatch, swatch),
                                    2, 2)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(QPointF(x + swatch + 5, y + metrics.ascent()), label)
            x += swatch + 5 + metrics.horizontalAdvance(label) + 16
        if any(box.frozen for box in self._boxes):
            square = QRectF(x, y + (metrics.height() - swatch) / 2, swatch, swatch)
            painter.setPen(QPen(FROZEN_HATCH, line_width(1.0)))
            painter.setBrush(QColor("#e3eefb"))
            painter.drawRoundedRect(square, 2, 2)
            painter.setBrush(QBrush(FROZEN_HATCH, Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(square, 2, 2)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(QPointF(x + swatch + 5, y + metrics.ascent()),
                             f"{FROZEN_MARK} {FROZEN_LEGEND}")

    def _paint_arrow(self, painter: QPainter, previous: LayerBox, box: LayerBox) -> None:
        start = previous.front.right() + previous.ox + 4
        end = box.front.left() - 4
        if end - start < 10:
            return
        y = (previous.front.center().y() + box.front.center().y()) / 2
        colour = ARROW_COLOUR.darker(160) if presenting() else ARROW_COLOUR
        painter.setPen(QPen(colour, line_width(1.2)))
        head, half = 6.0 * zoom_factor(), 3.5 * zoom_factor()
        painter.drawLine(QPointF(start, y), QPointF(end - 1, y))
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF([QPointF(end, y), QPointF(end - head, y - half),
                                       QPointF(end - head, y + half)]))

    def _paint_box(self, painter: QPainter, box: LayerBox) -> None:
        selected = box.index >= 0 and box.index == self._selected
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(highlight.red(), highlight.green(), highlight.blue(), 38))
            painter.drawRoundedRect(box.column, 6, 6)
        f, ox, oy = box.front, box.ox, box.oy
        top = QPolygonF([f.topLeft(), QPointF(f.left() + ox, f.top() - oy),
                         QPointF(f.right() + ox, f.top() - oy), f.topRight()])
        side = QPolygonF([f.topRight(), QPointF(f.right() + ox, f.top() - oy),
                          QPointF(f.right() + ox, f.bottom() - oy), f.bottomRight()])
        if box.kind == "error":
            pen = QPen(ERROR_COLOUR, line_width(1.6))
            faces = (ERROR_FILL, ERROR_FILL.darker(104), ERROR_FILL.darker(108))
        elif box.kind == "unknown":
            pen = QPen(UNKNOWN_COLOUR, line_width(1.2), Qt.PenStyle.DashLine)
            faces = (Qt.GlobalColor.transparent,) * 3
        else:
            base = QColor(CATEGORIES[box.category][1])
            if box.kind == "slab":
                base.setAlpha(200)  # a slab is an operation on the volume, not a new one
            if box.frozen:  # faded towards a cold grey: its weights stay as they are
                base = QColor.fromHslF(base.hslHueF(), base.hslSaturationF() * 0.35,
                                       min(1.0, base.lightnessF() * 1.12), base.alphaF())
            pen = QPen(FROZEN_HATCH if box.frozen else base.darker(165), line_width(1.0))
            faces = (base, base.lighter(118), base.darker(112))
        if selected:
            pen = QPen(highlight, line_width(2.2), pen.style())
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for polygon, fill in ((QPolygonF(f), faces[0]), (top, faces[1]), (side, faces[2])):
            painter.setBrush(fill)
            painter.drawPolygon(polygon)
        if box.frozen:
            hatch = QColor(FROZEN_HATCH)
            hatch.setAlpha(150)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(hatch, Qt.BrushStyle.BDiagPattern))
            for polygon in (QPolygonF(f), top, side):
                painter.drawPolygon(polygon)
        if box.kind == "error":
            font = QFont(self._type_font)
            font.setPixelSize(max(10, int(min(f.height(), f.width() * 1.6) * 0.7)))
            painter.setFont(font)
            painter.setPen(ERROR_COLOUR)
            painter.drawText(f, Qt.AlignmentFlag.AlignCenter, "!")

    def _paint_labels(self, painter: QPainter, box: LayerBox) -> None:
        text = self.palette().color(QPalette.ColorRole.Text)
        colours = {"error": (ERROR_COLOUR, ERROR_COLOUR),
                   "unknown": (UNKNOWN_COLOUR, UNKNOWN_COLOUR)}.get(box.kind)
        type_colour, shape_colour = colours or (text, QColor(text.red(), text.green(),
                                                               text.blue(), 185))
        if box.frozen:
            type_colour = FROZEN_HATCH
        if box.index >= 0 and box.index == self._selected:
            type_colour = self.palette().color(QPalette.ColorRole.Highlight).darker(120)
        y = self._label_top
        for font, colour, label in ((self._type_font, type_colour, box.type_label),
                                    (self._shape_font, shape_colour, box.shape_label)):
            height = QFontMetricsF(font).height()
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(QRectF(box.column.left(), y, box.column.width(), height),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label)
            y += height + 2

    # ------------------------------------------------------------------ events

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._type_font, self._shape_font, self._legend_font = self._make_fonts()
            self.setMinimumHeight(self._minimum_height())
            self._relayout()
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and index is not None and index >= 0:
            self.set_selected(index)
            self.layer_clicked.emit(index)
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        # Hovering a box shows what it is; a hand cursor says it can be clicked.
        index = self.index_at(event.position())
        box = self._box(index) if index is not None else None
        if self.toolTip() != (box.tooltip if box else ""):
            self.setToolTip(box.tooltip if box else "")
        clickable = box is not None and box.index >= 0
        self.setCursor(Qt.CursorShape.PointingHandCursor if clickable
                       else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)


class ArchitectureDiagramView(QScrollArea):
    """The diagram in a horizontally scrolling area, for stacks wider than the window."""

    layer_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diagram = ArchitectureDiagram()
        self.setWidget(self.diagram)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # The diagram fits any height above its minimum by scaling; below that (a small
        # window at a large zoom) it scrolls rather than cut its labels off.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.diagram.layer_clicked.connect(self.layer_clicked)

    def set_report(self, report: StackReport, labels: dict[int, str] | None = None) -> None:
        """Show a stack report."""
        self.diagram.set_report(report, labels)  # the selection scrolls into view on set_selected

    def set_selected(self, index: int | None) -> None:
        """Highlight stack layer `index` and scroll it into view."""
        self.diagram.set_selected(index)
        if index is not None:
            rect = self.diagram.box_rect(index)
            if not rect.isEmpty():
                self.ensureVisible(rect.center().x(), rect.center().y(), rect.width() + 40, 0)
