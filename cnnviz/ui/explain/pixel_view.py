"""An input image drawn large with visible pixels, for the input picker's pages."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.ui.common.value_colors import gray_image


class PixelView(QWidget):
    """An input image drawn large with visible pixels (nearest-neighbour, whole multiples)."""

    def __init__(self, minimum_side: int, parent: QWidget | None = None,
                 empty_color: QColor | None = None) -> None:
        super().__init__(parent)
        self._image = None
        self._placeholder = ""
        self._empty_color = empty_color
        self.setMinimumSize(minimum_side, minimum_side)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # square: as tall as the column is wide
        self.setSizePolicy(policy)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # so the page's keys reach the picker

    def set_image(self, pixels: np.ndarray | None, placeholder: str = "") -> None:
        """Show float (H, W, C) pixels in [0, 1]; None shows `placeholder` instead."""
        self._image = None if pixels is None else gray_image(pixels)
        self._placeholder = placeholder
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.minimumWidth(), self.minimumHeight())

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(self.minimumHeight(), width)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        if self._image is None:
            painter.fillRect(self.rect(), self._empty_color
                             or self.palette().color(QPalette.ColorRole.Base))
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(6, 6, -6, -6),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
            return
        width, height = self._image.width(), self._image.height()
        scale = min(self.width() / width, self.height() / height)
        if scale >= 1:
            scale = int(scale)  # every input pixel the same size on screen
        shown_w, shown_h = max(1, int(width * scale)), max(1, int(height * scale))
        target = QRect((self.width() - shown_w) // 2, (self.height() - shown_h) // 2,
                       shown_w, shown_h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        painter.drawImage(target, self._image)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(target.adjusted(-1, -1, 0, 0))

