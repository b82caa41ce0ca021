"""The palette of layer types: double-click or Enter adds one, or drag it into the stack."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from cnnviz.core.model.spec_params import LAYER_DESCRIPTIONS, LAYER_TYPES
from cnnviz.ui.build.layer_stack import TYPE_MIME
from cnnviz.ui.common.layer_style import layer_color


def _chip(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(1, 1, 10, 10, 3, 3)
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
            item = QListWidgetItem(_chip(layer_color(layer_type)), layer_type)
            item.setData(Qt.ItemDataRole.UserRole, layer_type)
            item.setToolTip(f"<b>{layer_type}</b><br>{LAYER_DESCRIPTIONS[layer_type]}"
                            "<br><i>Double-click, Enter, or drag into the stack.</i>")
            self.addItem(item)
        self.itemActivated.connect(
            lambda item: self.add_requested.emit(item.data(Qt.ItemDataRole.UserRole)))

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if items:
            data.setData(TYPE_MIME, items[0].data(Qt.ItemDataRole.UserRole).encode())
        return data
