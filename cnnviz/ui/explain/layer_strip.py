"""The explainer's strip of layers: one chip per layer (type, name, output shape); click to explain."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QWidget

from cnnviz.core.formatting import dims_text
from cnnviz.ui.common.layer_style import layer_color

CHIP_GAP = 14     # room for the arrow between two chips
# (padding inside a chip, gap between chips), roomiest first: the strip uses the first that
# lets every chip fit the width it has (a 7-layer model fits a 1024-pixel window).
SPACINGS = ((22, 14), (16, 11), (10, 8), (6, 6))
MAX_EXTRA = 40    # a wide strip gives each chip up to this much more room


@dataclass(frozen=True)
class LayerChip:
    """What a chip shows: the layer's position in the pass (-1 = the input), name, type, shape."""

    index: int
    name: str
    layer_type: str
    shape: tuple[int, ...]


def short_type(layer_type: str) -> str:
    """Chip titles stay short: MaxPooling2D → MaxPool, MaxPooling1D → MaxPool1D,
    BatchNormalization → BatchNorm, a whole network used as one layer (a pre-built base,
    Keras type Functional) → Pre-built base."""
    if layer_type in ("Functional", "Sequential", "Model"):
        return "Pre-built base"
    return (layer_type.replace("Pooling2D", "Pool").replace("Pooling1D", "Pool1D")
            .replace("Normalization", "Norm")
            .replace("InputLayer", "Input"))


class _Chips(QWidget):
    chip_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chips: list[LayerChip] = []
        self.selected = -1
        self.room = 0     # the width the strip shows; 0: no limit
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def text_width(self, chip: LayerChip) -> int:
        metrics = self.fontMetrics()
        bold = QFont(self.font())
        bold.setBold(True)
        title = QFontMetrics(bold).horizontalAdvance(short_type(chip.layer_type))
        return max(title, metrics.horizontalAdvance(dims_text(chip.shape)))

    def chip_width(self, chip: LayerChip) -> int:
        return self.text_width(chip) + 22

    def spacing(self) -> tuple[int, int, float]:
        """(padding, gap, extra width per chip) that fit the room, roomiest first."""
        texts = sum(self.text_width(chip) for chip in self.chips)
        count = len(self.chips)
        for padding, gap in SPACINGS:
            total = texts + count * padding + max(0, count - 1) * gap + 4
            if not self.room or total <= self.room:
                break
        extra = 0.0
        if self.room and count and total < self.room:
            extra = min(MAX_EXTRA, (self.room - total) / count)
        return padding, gap, extra

    def chip_rects(self) -> list[QRectF]:
        rects, x = [], 2.0
        height = self.fontMetrics().height() * 2 + 14
        padding, gap, extra = self.spacing()
        for chip in self.chips:
            width = self.text_width(chip) + padding + extra
            rects.append(QRectF(x, 3, width, height))
            x += width + gap
        return rects

    def sizeHint(self) -> QSize:  # noqa: N802
        rects = self.chip_rects()
        width = int(rects[-1].right()) + 2 if rects else 100
        return QSize(width, self.fontMetrics().height() * 2 + 20)

    def chip_at(self, x: float, y: float) -> int:
        for position, rect in enumerate(self.chip_rects()):
            if rect.contains(x, y):
                return self.chips[position].index
        return -2

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.chip_at(event.position().x(), event.position().y())
        if index != -2:
            self.chip_clicked.emit(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.chip_at(event.position().x(), event.position().y())
        chip = next((c for c in self.chips if c.index == index), None)
        self.setToolTip("" if chip is None else
                        f"{chip.name} ({chip.layer_type}) → output {dims_text(chip.shape)}")
        self.setCursor(Qt.CursorShape.PointingHandCursor if chip else Qt.CursorShape.ArrowCursor)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        bold = QFont(self.font())
        bold.setBold(True)
        line = self.fontMetrics().height()
        rects = self.chip_rects()
        for position, (chip, rect) in enumerate(zip(self.chips, rects)):
            color = layer_color("Input" if chip.index < 0 else chip.layer_type)
            selected = chip.index == self.selected
            fill = QColor(color)
            fill.setAlpha(255 if selected else 40)
            painter.setPen(QPen(color.darker(120), 2 if selected else 1))
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor("white") if selected else palette.windowText().color())
            painter.setFont(bold)
            painter.drawText(QRectF(rect.left(), rect.top() + 4, rect.width(), line),
                             Qt.AlignmentFlag.AlignHCenter, short_type(chip.layer_type))
            painter.setFont(self.font())
            painter.drawText(QRectF(rect.left(), rect.top() + 6 + line, rect.width(), line),
                             Qt.AlignmentFlag.AlignHCenter, dims_text(chip.shape))
            if position + 1 < len(rects):  # the arrow to the next chip
                y = rect.center().y()
                x0, x1 = rect.right() + 2, rects[position + 1].left() - 2
                painter.setPen(QPen(palette.mid().color(), 1.5))
                painter.drawLine(int(x0), int(y), int(x1), int(y))
                painter.drawLine(int(x1 - 4), int(y - 3), int(x1), int(y))
                painter.drawLine(int(x1 - 4), int(y + 3), int(x1), int(y))
        painter.end()


class LayerStrip(QScrollArea):
    """A horizontally scrolling row of layer chips, one per layer of the forward pass."""

    layer_selected = Signal(int)   # -1 for the input, else the layer's index in the pass

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips = _Chips()
        self._chips.chip_clicked.connect(self.select)
        self.setWidget(self._chips)
        self.setWidgetResizable(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        bar = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(self._chips.sizeHint().height() + bar + 2)

    def set_layers(self, chips: list[LayerChip]) -> None:
        self._chips.chips = list(chips)
        self._fit()

    def _fit(self) -> None:
        """Lay the chips out for the width there is: tighter spacing before a scroll bar."""
        self._chips.room = self.viewport().width()
        self._chips.resize(self._chips.sizeHint())
        self._chips.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom changed the font
            self._chips.setFont(self.font())
            bar = self.horizontalScrollBar().sizeHint().height()
            self.setFixedHeight(self._chips.sizeHint().height() + bar + 2)
            self._fit()

    def chips(self) -> list[LayerChip]:
        return list(self._chips.chips)

    def selected(self) -> int:
        return self._chips.selected

    def chip_center(self, index: int):
        """Where chip `index` is drawn, in this widget's child coordinates (for tests)."""
        for chip, rect in zip(self._chips.chips, self._chips.chip_rects()):
            if chip.index == index:
                return rect.center().toPoint()
        raise KeyError(index)

    def chip_widget(self) -> QWidget:
        return self._chips

    def select(self, index: int, emit: bool = True) -> None:
        if index not in [c.index for c in self._chips.chips]:
            return
        changed = index != self._chips.selected
        self._chips.selected = index
        self._chips.update()
        for chip, rect in zip(self._chips.chips, self._chips.chip_rects()):
            if chip.index == index:
                self.ensureVisible(int(rect.center().x()), int(rect.center().y()),
                                   int(rect.width() / 2) + 8, 0)
        if emit and changed:
            self.layer_selected.emit(index)

    def select_neighbour(self, step: int) -> None:
        """Select the previous (-1) or next (+1) layer (the panel binds Ctrl+Left/Right)."""
        indexes = [c.index for c in self._chips.chips]
        if not indexes:
            return
        here = indexes.index(self._chips.selected) if self._chips.selected in indexes else 0
        self.select(indexes[max(0, min(len(indexes) - 1, here + step))])
