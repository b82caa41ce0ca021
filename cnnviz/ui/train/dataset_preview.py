"""A grid of sample images with their class names, so the user sees what the data is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.ui.common.value_colors import array_to_qimage

LABEL_HEIGHT = 14
GAP = 6


class DatasetPreview(QWidget):
    """Paints as many sample tiles as fit, each with its class name underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._labels: list[str] = []
        self._message = "No data loaded yet."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(2 * (48 + LABEL_HEIGHT + GAP))

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 2 * (56 + LABEL_HEIGHT + GAP) + GAP)

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
        """Tiles grow with the widget; at least two rows are always shown."""
        rows = 2
        return max(32, min(96, (self.height() - GAP) // rows - LABEL_HEIGHT - GAP))

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if not self._images:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        tile = self.tile_size()
        columns = max(1, (self.width() - GAP) // (tile + GAP))
        rows = max(1, (self.height() - GAP) // (tile + LABEL_HEIGHT + GAP))
        font = QFont(self.font())
        font.setPixelSize(10)
        painter.setFont(font)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        # Nearest-neighbour scaling: the pixels of a 28×28 digit stay visible as pixels.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for index, image in enumerate(self._images[:columns * rows]):
            row, column = divmod(index, columns)
            x = GAP + column * (tile + GAP)
            y = GAP + row * (tile + LABEL_HEIGHT + GAP)
            painter.drawImage(QRect(x, y, tile, tile), image)
            text = painter.fontMetrics().elidedText(self._labels[index], Qt.TextElideMode.ElideRight,
                                                    tile + GAP - 2)
            painter.drawText(QRect(x - GAP // 2, y + tile, tile + GAP, LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignCenter, text)
