"""The palette of layer types: double-click or Enter adds one, or drag it into the stack."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from cnnviz.core.model.spec_params import LAYER_DESCRIPTIONS, LAYER_TYPES
from cnnviz.ui.build.layer_stack import TYPE_MIME
from cnnviz.ui.common.layer_style import layer_color


def _chip(color: QColor, side: int) -> QIcon:
    """A rounded colour square `side` pixels wide."""
    pixmap = QPixmap(side, side)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    inset = max(1, side // 12)
    painter.drawRoundedRect(inset, inset, side - 2 * inset, side - 2 * inset, side / 4, side / 4)
    painter.end()
    return QIcon(pixmap)


class LayerPalette(QListWidget):
    """Lists every layer type the builder knows; emits `add_requested(type)`."""

    add_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Layer palette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        for layer_type in LAYER_TYPES:
            item = QListWidgetItem(layer_type)
            item.setData(Qt.ItemDataRole.UserRole, layer_type)
            item.setToolTip(f"<b>{layer_type}</b><br>{LAYER_DESCRIPTIONS[layer_type]}"
                            "<br><i>Double-click, Enter, or drag into the stack.</i>")
            self.addItem(item)
        self.itemActivated.connect(
            lambda item: self.add_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self._size_chips()

    def _size_chips(self) -> None:
        """Colour chips as tall as the text's capitals, so they grow with the zoom."""
        side = max(12, round(self.fontMetrics().ascent() * 0.95))
        self.setIconSize(QSize(side, side))
        for row in range(self.count()):
            item = self.item(row)
            item.setIcon(_chip(layer_color(item.data(Qt.ItemDataRole.UserRole)), side))

    def width_for_names(self) -> int:
        """The width that shows every layer name whole, with its chip."""
        return self.sizeHintForColumn(0) + 2 * self.frameWidth() + 6

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._size_chips()

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if items:
            data.setData(TYPE_MIME, items[0].data(Qt.ItemDataRole.UserRole).encode())
        return data
