"""The palette of layer types: double-click or Enter adds one, or drag it into the stack.

The types are grouped by the input they take: images (height × width × channels), sequences
(steps × channels) or any shape. The group that fits the model's input comes first; the other
is greyed (still addable: a student may be about to change the input). The image group
starts with "Pre-built base…", which asks for a network (it opens the base dialog) rather
than adding a plain layer.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from cnnviz.core.model.spec_params import (
    IMAGE_LAYERS, LAYER_DESCRIPTIONS, LAYER_TYPES, PRETRAINED_BASE, SEQUENCE_LAYERS,
)
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


# A pre-built base is chosen and prepared in a dialog, never added as a blank layer.
ANY_SHAPE_LAYERS: tuple[str, ...] = tuple(
    t for t in LAYER_TYPES
    if t not in IMAGE_LAYERS and t not in SEQUENCE_LAYERS and t != PRETRAINED_BASE)
PALETTE_IMAGE_LAYERS = tuple(t for t in IMAGE_LAYERS if t != PRETRAINED_BASE)
BASE_ENTRY = "Pre-built base…"
# (header text, what the group needs, its layer types), keyed by the input rank it fits.
GROUPS: dict[int | None, tuple[str, str, tuple[str, ...]]] = {
    3: ("Images (H × W × C)", "an image input (height × width × channels)",
        PALETTE_IMAGE_LAYERS),
    2: ("Sequences (steps × C)", "a sequence input (steps × channels)", SEQUENCE_LAYERS),
    None: ("Any shape", "", ANY_SHAPE_LAYERS),
}
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1
BASE_ROLE = Qt.ItemDataRole.UserRole + 2


class LayerPalette(QListWidget):
    """Lists every layer type the builder knows, grouped by the input it takes; emits
    `add_requested(type)`, or `base_requested()` for the "Pre-built base…" entry."""

    add_requested = Signal(str)
    base_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Layer palette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self._input_rank = 3
        self._fill()
        self.itemActivated.connect(self._activated)

    def set_input_rank(self, rank: int) -> None:
        """Put the group that fits an input of `rank` dimensions (3: image, 2: sequence)
        first and grey the group that does not fit."""
        if rank != self._input_rank:
            self._input_rank = rank
            self._fill()

    def group_order(self) -> list[str]:
        """The group headers, top to bottom (for tests)."""
        return [self.item(row).text() for row in range(self.count())
                if self.item(row).data(HEADER_ROLE)]

    def _fill(self) -> None:
        current = self.currentItem()
        current_type = current.data(Qt.ItemDataRole.UserRole) if current else None
        self.clear()
        other = 2 if self._input_rank == 3 else 3
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for rank in (self._input_rank, None, other):
            title, needs, types = GROUPS[rank]
            fits = rank in (None, self._input_rank)
            header = QListWidgetItem(title)
            header.setData(HEADER_ROLE, True)
            if not fits:
                header.setForeground(muted)
                header.setToolTip(f"These layers need {needs}; this model's input is not one.")
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)  # drawn plainly, never selected
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            self.addItem(header)
            if rank == 3:
                self._add_base_entry(fits, needs, muted)
            for layer_type in types:
                item = QListWidgetItem(layer_type)
                item.setData(Qt.ItemDataRole.UserRole, layer_type)
                note = "" if fits else f"<br><i>Needs {needs}; this model's input is not one.</i>"
                item.setToolTip(f"<b>{layer_type}</b><br>{LAYER_DESCRIPTIONS[layer_type]}{note}"
                                "<br><i>Double-click, Enter, or drag into the stack.</i>")
                if not fits:
                    item.setForeground(muted)
                self.addItem(item)
                if layer_type == current_type:
                    self.setCurrentItem(item)
        self._size_chips()

    def _add_base_entry(self, fits: bool, needs: str, muted: QColor) -> None:
        item = QListWidgetItem(BASE_ENTRY)
        item.setData(BASE_ROLE, True)
        note = "" if fits else f"<br><i>Needs {needs}; this model's input is not one.</i>"
        item.setToolTip(f"<b>A pre-built network</b> (MobileNetV2, ResNet50, … or a model "
                        f"file), cut at a layer and frozen, as the base of your model: "
                        f"transfer learning.{note}<br><i>Double-click or Enter to choose "
                        f"one.</i>")
        font = item.font()
        font.setItalic(True)
        item.setFont(font)
        if not fits:
            item.setForeground(muted)
        self.addItem(item)

    def base_entry(self) -> QListWidgetItem:
        """The "Pre-built base…" entry (for tests)."""
        for row in range(self.count()):
            if self.item(row).data(BASE_ROLE):
                return self.item(row)
        raise LookupError(BASE_ENTRY)

    def _activated(self, item: QListWidgetItem) -> None:
        if item.data(BASE_ROLE):
            self.base_requested.emit()
            return
        layer_type = item.data(Qt.ItemDataRole.UserRole)
        if layer_type:
            self.add_requested.emit(layer_type)

    def _size_chips(self) -> None:
        """Colour chips as tall as the text's capitals, so they grow with the zoom."""
        side = max(12, round(self.fontMetrics().ascent() * 0.95))
        self.setIconSize(QSize(side, side))
        for row in range(self.count()):
            item = self.item(row)
            layer_type = (PRETRAINED_BASE if item.data(BASE_ROLE)
                          else item.data(Qt.ItemDataRole.UserRole))
            if layer_type:
                item.setIcon(_chip(layer_color(layer_type), side))

    def width_for_names(self) -> int:
        """The width that shows every layer name whole, with its chip, beside the vertical
        scroll bar that a short window needs for the three groups."""
        scrollbar = self.verticalScrollBar().sizeHint().width()
        return self.sizeHintForColumn(0) + 2 * self.frameWidth() + 6 + scrollbar

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._size_chips()

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if items and items[0].data(Qt.ItemDataRole.UserRole):
            data.setData(TYPE_MIME, items[0].data(Qt.ItemDataRole.UserRole).encode())
        return data
