"""A loaded model's layers as a graph: one box per layer, top to bottom in topological order.

A layer fed by the layer just above it gets a short arrow from that box; every other
connection (a skip, a branch, a merge) runs down a lane on the right and enters its layer's
box from the side, so a residual block or an Inception-style split is visible at a glance.
Lanes are shared by connections that never overlap, keeping the drawing narrow. A frozen
layer (all its weights non-trainable, as in a transfer model's base) is drawn hatched with a
snowflake; a nested model that is only partly frozen says how much of it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.formatting import count_text, keras_shape
from cnnviz.ui.common.layer_style import layer_color
from cnnviz.ui.common.zoom import line_width, zoom_factor

# Sizes in pixels at zoom 100 %; drawn times the zoom factor (z()), like the text.
MARGIN = 10.0
GAP = 22.0                 # vertical space between boxes, room for an arrow
BOX_MIN_W, BOX_MAX_W = 200.0, 340.0
LANE_SPACING = 14.0
LANE_MIN_SPACING = 6.0
STRIPE_W = 6.0


def z(pixels: float) -> float:
    """A size of the drawing at the current zoom."""
    return pixels * zoom_factor()
EDGE_COLOUR = QColor(110, 118, 128)
SELECTED_EDGE = QColor(255, 179, 0)
SELECTED_FILL = QColor(255, 243, 205)
BOX_FILL = QColor(250, 250, 251)
BOX_BORDER = QColor(176, 182, 190)
MUTED_TEXT = QColor(95, 102, 112)
FROZEN_FILL = QColor(227, 238, 251)
FROZEN_INK = QColor(26, 77, 143)
FROZEN_MARK = "❄"
NESTED_MODELS = ("Functional", "Sequential", "Model")


def frozen_state(layer: Any) -> str:
    """"frozen" when training leaves all of a layer's weights alone, "partly" for a nested
    model with some of its layers frozen, else "" (a batch norm's moving statistics alone do
    not make a layer frozen)."""
    if layer.params and not layer.trainable_params:
        return "frozen"
    if layer.layer_type in NESTED_MODELS and layer.params > layer.trainable_params > 0:
        return "partly"
    return ""


def frozen_text(layer: Any) -> str:
    """The tooltip sentence about a frozen or partly frozen layer ("" for others)."""
    state = frozen_state(layer)
    if state == "frozen":
        return f"{FROZEN_MARK} Frozen: its {count_text(layer.params)} parameters are not trained."
    if state == "partly":
        return (f"{FROZEN_MARK} Partly frozen: {count_text(layer.non_trainable_params)} of its "
                f"{count_text(layer.params)} parameters are not trained.")
    return ""


@dataclass
class GraphEdge:
    """A connection from layer `source` to layer `target` (indices into info.layers)."""

    source: int
    target: int
    lane: int = -1                      # -1: straight down from the box above
    path: QPainterPath = field(default_factory=QPainterPath)


def assign_lanes(edges: list[GraphEdge]) -> int:
    """Give each side edge (not to the next box) a lane; returns the number of lanes.

    Edges from the same source share a lane (they fork from one line); others share one only
    when their vertical spans do not overlap.
    """
    lanes: list[list[GraphEdge]] = []
    side = sorted((e for e in edges if e.target != e.source + 1),
                  key=lambda e: (e.source, e.target))
    for edge in side:
        for number, taken in enumerate(lanes):
            if all(other.source == edge.source or other.target <= edge.source
                   or edge.target <= other.source for other in taken):
                edge.lane = number
                taken.append(edge)
                break
        else:
            edge.lane = len(lanes)
            lanes.append([edge])
    return len(lanes)


class GraphCanvas(QWidget):
    """The drawing itself (inside ModelGraph's scroll area)."""

    box_clicked = Signal(int)
    box_double_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layers: list[Any] = []
        self.edges: list[GraphEdge] = []
        self.rects: list[QRectF] = []
        self.lane_count = 0
        self.selected: int | None = None
        self.empty_text = "Open a model to see its layers"
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    # ------------------------------------------------------------------ layout

    def set_layers(self, layers: list[Any]) -> None:
        self.layers = list(layers)
        index = {layer.name: i for i, layer in enumerate(self.layers)}
        self.edges = []
        for target, layer in enumerate(self.layers):
            for name in layer.inbound or []:
                source = index.get(name)
                if source is not None and source < target:
                    self.edges.append(GraphEdge(source, target))
        self.lane_count = assign_lanes(self.edges)
        self.selected = None
        self.setToolTip("")
        self._layout()
        self.updateGeometry()
        self.update()

    def _line_height(self) -> int:
        return QFontMetrics(self.font()).height()

    def box_height(self) -> float:
        return 2 * self._line_height() + z(12.0)

    def lane_spacing(self) -> float:
        room = self.width() - z(MARGIN) * 2 - z(BOX_MIN_W) - z(16)
        if self.lane_count == 0:
            return z(LANE_SPACING)
        return max(z(LANE_MIN_SPACING), min(z(LANE_SPACING), room / self.lane_count))

    def content_height(self) -> int:
        count = len(self.layers)
        if not count:
            return 0
        return int(z(MARGIN) * 2 + count * self.box_height() + (count - 1) * z(GAP))

    def _layout(self) -> None:
        lanes_width = self.lane_count * self.lane_spacing() + (z(12) if self.lane_count else 0)
        width = max(z(BOX_MIN_W), min(z(BOX_MAX_W), self.width() - 2 * z(MARGIN) - lanes_width))
        height = self.box_height()
        self.rects = [QRectF(z(MARGIN), z(MARGIN) + i * (height + z(GAP)), width, height)
                      for i in range(len(self.layers))]
        for edge in self.edges:
            edge.path = self._edge_path(edge)

    def _entry_y(self, edge: GraphEdge) -> float:
        """Where a side edge enters its target box: side entries spread over the box height."""
        rect = self.rects[edge.target]
        side = [e for e in self.edges if e.target == edge.target and e.lane >= 0]
        place = side.index(edge) + 1
        return rect.top() + rect.height() * place / (len(side) + 1)

    def _exit_y(self, edge: GraphEdge) -> float:
        rect = self.rects[edge.source]
        lanes = sorted({e.lane for e in self.edges if e.source == edge.source and e.lane >= 0})
        place = lanes.index(edge.lane) + 1
        return rect.top() + rect.height() * place / (len(lanes) + 1)

    def _edge_path(self, edge: GraphEdge) -> QPainterPath:
        source, target = self.rects[edge.source], self.rects[edge.target]
        path = QPainterPath()
        if edge.lane < 0:
            path.moveTo(source.center().x(), source.bottom())
            path.lineTo(target.center().x(), target.top())
            return path
        x = source.right() + z(12) + edge.lane * self.lane_spacing()
        start_y, end_y = self._exit_y(edge), self._entry_y(edge)
        path.moveTo(source.right(), start_y)
        path.lineTo(x, start_y)
        path.lineTo(x, end_y)
        path.lineTo(target.right(), end_y)
        return path

    # ------------------------------------------------------------------ queries

    def index_at(self, point: QPointF) -> int | None:
        for i, rect in enumerate(self.rects):
            if rect.contains(point):
                return i
        return None

    def tooltip_for(self, i: int) -> str:
        layer = self.layers[i]
        lines = [f"{layer.name} ({layer.layer_type})",
                 f"Output shape: {keras_shape(layer.output_shape)}",
                 f"Parameters: {count_text(layer.params)} ({count_text(layer.trainable_params)} "
                 f"trainable, {count_text(layer.non_trainable_params)} non-trainable)"]
        if frozen_text(layer):
            lines.append(frozen_text(layer))
        if layer.activation:
            lines.append(f"Activation: {layer.activation}")
        if layer.inbound:
            lines.append("Inputs from: " + ", ".join(layer.inbound))
        return "\n".join(lines)

    # ------------------------------------------------------------------ Qt

    def sizeHint(self) -> QSize:  # noqa: N802
        lanes = self.lane_count * z(LANE_SPACING) + (z(12) if self.lane_count else 0)
        return QSize(int(z(BOX_MAX_W) + lanes + 2 * z(MARGIN)), max(self.content_height(), 120))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        lanes = self.lane_count * z(LANE_MIN_SPACING) + (z(12) if self.lane_count else 0)
        return QSize(int(z(BOX_MIN_W) + lanes + 2 * z(MARGIN)), self.content_height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom: taller, wider boxes
            self._layout()
            self.updateGeometry()
            self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        i = self.index_at(event.position())
        self.setToolTip(self.tooltip_for(i) if i is not None else "")

    def mousePressEvent(self, event) -> None:  # noqa: N802
        i = self.index_at(event.position())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = i
            self.update()
            self.box_clicked.emit(i)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        i = self.index_at(event.position())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.box_double_clicked.emit(i)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.layers:
            painter.setPen(MUTED_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        for edge in self.edges:
            touches = self.selected in (edge.source, edge.target)
            self._draw_edge(painter, edge, SELECTED_EDGE if touches else EDGE_COLOUR,
                            line_width(2.2 if touches else 1.3))
        for i in range(len(self.layers)):
            self._draw_box(painter, i)
        painter.end()

    def _draw_edge(self, painter: QPainter, edge: GraphEdge, colour: QColor,
                   width: float) -> None:
        painter.setPen(QPen(colour, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(edge.path)
        end = edge.path.currentPosition()
        # The arrowhead points down (into a box's top) or left (into its right side).
        if edge.lane < 0:
            head = [end, end + QPointF(-z(5), -z(8)), end + QPointF(z(5), -z(8))]
        else:
            head = [end, end + QPointF(z(8), -z(5)), end + QPointF(z(8), z(5))]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF(head))

    def _draw_box(self, painter: QPainter, i: int) -> None:
        layer, rect = self.layers[i], self.rects[i]
        selected = i == self.selected
        painter.setPen(QPen(SELECTED_EDGE if selected else BOX_BORDER,
                            line_width(2.0 if selected else 1.0)))
        frozen = frozen_state(layer)
        painter.setBrush(SELECTED_FILL if selected else FROZEN_FILL if frozen else BOX_FILL)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(layer_color(layer.layer_type))
        stripe = QRectF(rect.left() + 1, rect.top() + 1, z(STRIPE_W), rect.height() - 2)
        painter.drawRoundedRect(stripe, 2, 2)
        if frozen:  # hatched: its weights are fixed
            painter.setBrush(QBrush(QColor(255, 255, 255, 200), Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(stripe, 2, 2)
        line = self._line_height()
        text_left = rect.left() + z(STRIPE_W) + 7
        text_width = rect.right() - 6 - text_left
        top = QRectF(text_left, rect.top() + 5, text_width, line)
        bottom = QRectF(text_left, rect.top() + 6 + line, text_width, line)
        bold = QFont(self.font())
        bold.setBold(True)
        type_text = layer.layer_type
        if frozen:
            type_text = f"{FROZEN_MARK} {'frozen' if frozen == 'frozen' else 'partly frozen'}  " \
                        f"{type_text}"
        type_width = QFontMetrics(self.font()).horizontalAdvance(type_text)
        painter.setFont(bold)
        painter.setPen(self.palette().text().color() if not selected else QColor(20, 20, 20))
        name = QFontMetrics(bold).elidedText(f"{i}  {layer.name}", Qt.TextElideMode.ElideRight,
                                             int(max(text_width - type_width - 10, 30)))
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(self.font())
        painter.setPen(FROZEN_INK if frozen else MUTED_TEXT)
        painter.drawText(top, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         type_text)
        painter.setPen(MUTED_TEXT)
        details = f"{keras_shape(layer.output_shape)}  ·  {count_text(layer.params)} params"
        if frozen == "partly":
            details += f" ({count_text(layer.non_trainable_params)} not trained)"
        if layer.activation and layer.activation != "linear":
            details += f"  ·  {layer.activation}"
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(self.font()).elidedText(details, Qt.TextElideMode.ElideRight,
                                                              int(text_width)))


class ModelGraph(QWidget):
    """A scrollable graph of a ModelInfo's layers; click picks a layer, double-click opens it.

    Signals:
        layer_clicked(int): a box was clicked (index into info.layers).
        layer_double_clicked(int): a box was double-clicked.
    """

    layer_clicked = Signal(int)
    layer_double_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = GraphCanvas()
        self.scroll = QScrollArea()
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self.canvas.box_clicked.connect(self.layer_clicked)
        self.canvas.box_double_clicked.connect(self.layer_double_clicked)

    def set_info(self, info: Any | None) -> None:
        """Draw the layers of a ModelInfo (None: empty)."""
        self.canvas.set_layers(info.layers if info is not None else [])
        self.scroll.verticalScrollBar().setValue(0)

    def select(self, i: int | None) -> None:
        """Highlight box `i` and scroll it into view, without emitting a signal."""
        canvas = self.canvas
        canvas.selected = i if i is not None and 0 <= i < len(canvas.layers) else None
        canvas.update()
        if canvas.selected is not None:
            rect = canvas.rects[canvas.selected]
            self.scroll.ensureVisible(int(rect.center().x()), int(rect.center().y()), 0,
                                      int(rect.height()))

    def selected(self) -> int | None:
        return self.canvas.selected

    def box_rects(self) -> list[QRectF]:
        """Each layer's box, in `canvas` coordinates (index = position in info.layers)."""
        return list(self.canvas.rects)

    def edges(self) -> list[tuple[int, int]]:
        """Every drawn connection as (from layer, to layer)."""
        return [(edge.source, edge.target) for edge in self.canvas.edges]
