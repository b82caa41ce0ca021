"""A grid of sample images with their class names, so the user sees what the data is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.ui.common.value_colors import array_to_qimage
from cnnviz.ui.common.zoom import scaled, watch_zoom

GAP = 6


class DatasetPreview(QWidget):
    """Paints as many sample tiles as fit, each with its class name underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._labels: list[str] = []
        self._message = "No data loaded yet."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._fit_to_zoom()
        watch_zoom(self._fit_to_zoom)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom reached this widget's font
            self._fit_to_zoom()

    def label_height(self) -> int:
        """The height of a class name under a tile: the window's text, so it follows the zoom."""
        return self.fontMetrics().height()

    def _fit_to_zoom(self) -> None:
        self.setMinimumHeight(scaled(40) + self.label_height() + 2 * GAP)   # one row at least
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 2 * (scaled(48) + self.label_height() + GAP) + GAP)

    def set_samples(self, images: np.ndarray, labels: list[str]) -> None:
        """Show these images (uint8, N×H×W×C) labelled with their class names."""
        self._images = [array_to_qimage(img) for img in images]
        self._labels = list(labels)
        self._message = "" if self._images else "This split has no images."
        self.update()

    def show_message(self, text: str) -> None:
        self._images, self._labels, self._message = [], [], text
        self.update()

    @property
    def sample_count(self) -> int:
        return len(self._images)

    def tile_size(self) -> int:
        """Tiles grow with the widget; two rows when there is room, one when the room is short."""
        rows = 2 if self.height() >= 2 * (scaled(40) + self.label_height() + GAP) + GAP else 1
        return max(scaled(32), min(scaled(96 if rows == 2 else 64),
                                   (self.height() - GAP) // rows - self.label_height() - GAP))

    def column_width(self, tile: int) -> int:
        """A tile's column: as wide as its image, or as its widest class name (up to three
        images wide), so the names under the images are written whole."""
        widest = max((self.fontMetrics().horizontalAdvance(label) for label in self._labels),
                     default=0)
        return max(tile, min(widest + 4, 3 * tile))

    def labels_fit(self) -> bool:
        """Every class name shown is written whole under its image."""
        width = self.column_width(self.tile_size()) + GAP - 2
        return all(self.fontMetrics().horizontalAdvance(label) <= width for label in self._labels)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if not self._images:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        tile = self.tile_size()
        column_width = self.column_width(tile)
        columns = max(1, (self.width() - GAP) // (column_width + GAP))
        label_height = self.label_height()
        rows = max(1, (self.height() - GAP) // (tile + label_height + GAP))
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        # Nearest-neighbour scaling: the pixels of a 28×28 digit stay visible as pixels.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for index, image in enumerate(self._images[:columns * rows]):
            row, column = divmod(index, columns)
            x = GAP + column * (column_width + GAP)
            y = GAP + row * (tile + label_height + GAP)
            painter.drawImage(QRect(x + (column_width - tile) // 2, y, tile, tile), image)
            text = painter.fontMetrics().elidedText(self._labels[index], Qt.TextElideMode.ElideRight,
                                                    column_width + GAP - 2)
            painter.drawText(QRect(x - GAP // 2, y + tile, column_width + GAP, label_height),
                             Qt.AlignmentFlag.AlignCenter, text)
