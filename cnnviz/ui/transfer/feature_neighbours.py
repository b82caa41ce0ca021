"""The nearest-neighbours strip: the picked image and the k images closest to it in one
layer's features, each with its class and distance, and a button to explain the picked one."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.formatting import format_value
from cnnviz.ui.common.value_colors import array_to_qimage
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.ui.transfer.feature_scatter import class_colour

NEIGHBOURS = 8
TILE_IMAGE = 64   # pixels at zoom 100 %


class NeighbourTile(QFrame):
    """One image with its number, class and distance; the picked one is framed thick."""

    def __init__(self, thumbnail: np.ndarray | None, caption: str, colour: str,
                 picked: bool) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(3 if picked else 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        image = QLabel()
        image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if thumbnail is not None:
            side = scaled(TILE_IMAGE)
            image.setPixmap(QPixmap.fromImage(array_to_qimage(thumbnail)).scaled(
                side, side, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet(f"border-bottom: 3px solid {colour};")
        layout.addWidget(image)
        layout.addWidget(self.caption)
        self.setMinimumWidth(self.sizeHint().width())   # the strip scrolls; captions stay whole


class NeighbourStrip(QWidget):
    """Shows one picked example and its neighbours; `explain_clicked` asks to explain it."""

    explain_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.example: int | None = None
        self.layer = ""
        self.neighbours: list[int] = []
        self.distances: list[float] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.header = QLabel("Click a point to see the images nearest to it in that "
                             "layer's features.")
        self.header.setWordWrap(True)
        set_relative_font(self.header, 1.0, bold=True)
        self.explain_button = QPushButton("Explain this image")
        self.explain_button.setEnabled(False)
        self.explain_button.setToolTip("Open the picked image in the Explain view, at this "
                                       "layer.")
        self.explain_button.clicked.connect(self.explain_clicked)
        top.addWidget(self.header, 1)
        top.addWidget(self.explain_button)
        layout.addLayout(top)
        self._tiles_holder = QWidget()
        self._tiles = QHBoxLayout(self._tiles_holder)
        self._tiles.setContentsMargins(0, 0, 0, 0)
        self._tiles.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self._tiles_holder)
        scroll.setWidgetResizable(False)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll = scroll
        layout.addWidget(scroll)
        self._fit_height()
        watch_zoom(self._fit_height)

    def _fit_height(self) -> None:
        line = self.fontMetrics().height()
        self._scroll.setFixedHeight(scaled(TILE_IMAGE) + 2 * line + scaled(30))

    def clear(self) -> None:
        self.example, self.layer, self.neighbours, self.distances = None, "", [], []
        self._clear_tiles()
        self._tiles_holder.resize(self._tiles_holder.sizeHint())
        self.header.setText("Click a point to see the images nearest to it in that layer's "
                            "features.")
        self.explain_button.setEnabled(False)

    def _clear_tiles(self) -> None:
        while self._tiles.count() > 1:
            item = self._tiles.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()          # at once: deleteLater waits for the event loop
                widget.deleteLater()

    def show_neighbours(self, example: int, layer: str, neighbours: np.ndarray,
                        distances: np.ndarray, label_of: Any, thumbnail_of: Any,
                        can_explain: bool) -> None:
        """Show `example` and its `neighbours` (example numbers, nearest first) at `layer`.
        label_of(example) → (class number, class name); thumbnail_of(example) → uint8 or None."""
        self.example, self.layer = int(example), layer
        self.neighbours = [int(i) for i in neighbours]
        self.distances = [float(d) for d in distances]
        self._clear_tiles()
        number, name = label_of(example)
        self._tiles.insertWidget(0, NeighbourTile(thumbnail_of(example),
                                                  f"#{example}: {name}\npicked",
                                                  class_colour(number).name(), True))
        for position, (index, distance) in enumerate(zip(self.neighbours, self.distances)):
            number, name = label_of(index)
            self._tiles.insertWidget(position + 1, NeighbourTile(
                thumbnail_of(index), f"#{index}: {name}\ndistance {format_value(distance)}",
                class_colour(number).name(), False))
        for tile in self._tiles_holder.findChildren(NeighbourTile):
            if self._tiles.indexOf(tile) >= 0:     # not the old ones awaiting deletion
                tile.show()   # now, so the size hint counts them
        self._tiles_holder.resize(self._tiles_holder.sizeHint())   # as wide as its tiles
        same = sum(1 for index in self.neighbours if label_of(index)[0] == label_of(example)[0])
        self.header.setText(f"Image #{example} and its {len(self.neighbours)} nearest images "
                            f"in {layer}'s features: {same} of {len(self.neighbours)} are the "
                            f"same class.")
        self.explain_button.setEnabled(can_explain)
