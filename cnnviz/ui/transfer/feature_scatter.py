"""One layer's 2-D feature map: the images as points coloured by class, titled with the
layer and how well its classes separate; hovering a point shows its image, clicking picks it.

Points and text grow with the window's zoom, and points are larger in presentation mode, so a
class at the back of a room still sees the clusters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.ui.common.value_colors import array_to_qimage
from cnnviz.ui.common.zoom import (
    line_width,
    presenting,
    scaled,
    set_relative_font,
    watch_zoom,
    zoom_factor,
)

# Matplotlib's tab10 then tab20's lighter partners: readable on white, distinct for 20 classes.
CLASS_COLOURS = tuple(QColor(c) for c in (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"))
MARGIN = 0.05          # of the data's range, around the points
HOVER_IMAGE = 96       # pixels at zoom 100 %
TITLE_SCALE = 1.15
# Not zoomed: at 200 % on a small screen three maps must still fit beside each other.
MIN_WIDTH, MIN_HEIGHT = 140, 160
PLOT_MIN_HEIGHT = 110


def class_colour(label: int) -> QColor:
    """The colour of class number `label` (repeats after 20 classes)."""
    return CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]


def separation_text(separation: float) -> str:
    return f"nearest-neighbour accuracy {separation:.0%}"


class HoverCard(QFrame):
    """The image under the mouse and its number and class, drawn inside the panel."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.Box)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)
        self.hide()

    def show_example(self, thumbnail: np.ndarray | None, caption: str) -> None:
        if thumbnail is None:
            self.image.hide()
        else:
            side = scaled(HOVER_IMAGE)
            pixmap = QPixmap.fromImage(array_to_qimage(thumbnail)).scaled(
                side, side, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)
            self.image.setPixmap(pixmap)
            self.image.show()
        self.caption.setText(caption)
        self.adjustSize()


class FeatureMapPanel(QWidget):
    """One LayerMap drawn as a scatter plot. `picked(example_index, layer)` on a click."""

    picked = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self._fit_minimum()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layer_map: Any = None
        self.coordinates = np.zeros((0, 2), dtype=np.float32)
        self.labels = np.zeros(0, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.int64)
        self.class_names: list[str] = []
        self.thumbnails: np.ndarray | None = None
        self.selected: int | None = None          # an example number
        self.neighbours: set[int] = set()
        self.hovered_row: int | None = None
        self._card = HoverCard(self)
        watch_zoom(self._zoom_changed)

    # ------------------------------------------------------------------ content

    def set_map(self, layer_map: Any, class_names: list[str],
                thumbnails: np.ndarray | None) -> None:
        """Show `layer_map` (core LayerMap); thumbnails in the features' row order."""
        self.layer_map = layer_map
        self.coordinates = np.asarray(layer_map.map.coordinates, dtype=np.float64)
        self.labels = np.asarray(layer_map.features.labels)
        self.indices = np.asarray(layer_map.features.indices)
        self.class_names = class_names
        self.thumbnails = thumbnails
        self.hovered_row = None
        self._card.hide()
        self.update()

    def set_projection(self, feature_map: Any) -> None:
        """Replace the coordinates (PCA ↔ t-SNE) of the same features."""
        self.layer_map.map = feature_map
        self.coordinates = np.asarray(feature_map.coordinates, dtype=np.float64)
        self.update()

    def set_selection(self, example: int | None, neighbours: list[int]) -> None:
        self.selected = example
        self.neighbours = {int(i) for i in neighbours}
        self.update()

    @property
    def layer(self) -> str:
        return "" if self.layer_map is None else str(self.layer_map.features.layer)

    @property
    def point_count(self) -> int:
        return int(self.coordinates.shape[0])

    def title_text(self) -> str:
        if self.layer_map is None:
            return ""
        return f"{self.layer} — {separation_text(self.layer_map.separation)}"

    # ------------------------------------------------------------------ geometry

    def _title_height(self) -> int:
        # Two lines: the layer (bold), then how well its classes separate.
        return QFontMetrics(self._title_font()).height() + \
            QFontMetrics(self.font()).height() + scaled(6)

    def _note_height(self) -> int:
        return QFontMetrics(self.font()).height() + scaled(4)

    def plot_rect(self) -> QRectF:
        pad = scaled(6)
        top = self._title_height()
        return QRectF(pad, top, max(10, self.width() - 2 * pad),
                      max(10, self.height() - top - self._note_height() - pad))

    def point_radius(self) -> float:
        # Fewer points may be larger; presenting, larger still for the back of the room.
        base = 3.2 if self.point_count <= 600 else 2.4 if self.point_count <= 2500 else 1.8
        return base * zoom_factor() * (1.3 if presenting() else 1.0)

    def pixel_positions(self) -> np.ndarray:
        """Each point's position in widget pixels, (n, 2)."""
        if self.point_count == 0:
            return np.zeros((0, 2))
        rect = self.plot_rect()
        low = self.coordinates.min(axis=0)
        span = self.coordinates.max(axis=0) - low
        span[span == 0] = 1.0
        low = low - MARGIN * span
        span = span * (1 + 2 * MARGIN)
        unit = (self.coordinates - low) / span
        x = rect.left() + unit[:, 0] * rect.width()
        y = rect.bottom() - unit[:, 1] * rect.height()   # up is up
        return np.stack([x, y], axis=1)

    def point_position(self, row: int) -> QPoint:
        x, y = self.pixel_positions()[row]
        return QPoint(round(x), round(y))

    def row_at(self, position: QPointF) -> int | None:
        """The row of the point under `position` (within a few pixels), or None."""
        if self.point_count == 0:
            return None
        pixels = self.pixel_positions()
        distances = np.hypot(pixels[:, 0] - position.x(), pixels[:, 1] - position.y())
        row = int(np.argmin(distances))
        return row if distances[row] <= self.point_radius() + scaled(4) else None

    # ------------------------------------------------------------------ painting

    def _title_font(self) -> Any:
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * TITLE_SCALE if font.pointSizeF() > 0 else 12)
        font.setBold(True)
        return font

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        rect = self.plot_rect()
        painter.setPen(QPen(QColor(190, 190, 190), line_width()))
        painter.drawRect(rect)
        if self.layer_map is None:
            return
        painter.setFont(self._title_font())
        painter.setPen(self.palette().text().color())
        title_line = QFontMetrics(self._title_font()).height()
        painter.drawText(QRectF(0, scaled(2), self.width(), title_line),
                         Qt.AlignmentFlag.AlignCenter, self._elided_title())
        painter.setFont(self.font())
        painter.drawText(QRectF(0, scaled(2) + title_line, self.width(),
                                QFontMetrics(self.font()).height()),
                         Qt.AlignmentFlag.AlignCenter, self._fitting_separation_text())
        painter.drawText(QRectF(0, rect.bottom(), self.width(), self._note_height()),
                         Qt.AlignmentFlag.AlignCenter,
                         QFontMetrics(self.font()).elidedText(
                             self.layer_map.map.note, Qt.TextElideMode.ElideRight,
                             self.width() - scaled(8)))
        self._paint_points(painter)

    def _fitting_separation_text(self) -> str:
        """The separation in as many words as fit the panel's width."""
        value = self.layer_map.separation
        metrics = QFontMetrics(self.font())
        for text in (separation_text(value), f"neighbour accuracy {value:.0%}",
                     f"NN accuracy {value:.0%}"):
            if metrics.horizontalAdvance(text) <= self.width() - scaled(8):
                return text
        return f"{value:.0%}"

    def _elided_title(self) -> str:
        return QFontMetrics(self._title_font()).elidedText(
            self.layer, Qt.TextElideMode.ElideMiddle, self.width() - scaled(8))

    def _paint_points(self, painter: QPainter) -> None:
        pixels = self.pixel_positions()
        radius = self.point_radius()
        painter.setPen(Qt.PenStyle.NoPen)
        for label in np.unique(self.labels):
            colour = QColor(class_colour(int(label)))
            colour.setAlpha(200)
            painter.setBrush(colour)
            for x, y in pixels[self.labels == label]:
                painter.drawEllipse(QPointF(x, y), radius, radius)
        rows = {int(i): r for r, i in enumerate(self.indices)}
        ring = QPen(QColor(0, 0, 0), line_width(1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for example in self.neighbours:
            if example in rows:
                painter.setPen(ring)
                x, y = pixels[rows[example]]
                painter.drawEllipse(QPointF(x, y), radius + scaled(2), radius + scaled(2))
        if self.selected is not None and self.selected in rows:
            x, y = pixels[rows[self.selected]]
            painter.setPen(QPen(QColor(0, 0, 0), line_width(3)))
            painter.setBrush(class_colour(int(self.labels[rows[self.selected]])))
            big = radius * 2.2 + scaled(2)
            painter.drawEllipse(QPointF(x, y), big, big)

    # ------------------------------------------------------------------ mouse

    def example_caption(self, row: int) -> str:
        label = int(self.labels[row])
        name = self.class_names[label] if label < len(self.class_names) else str(label)
        return f"#{int(self.indices[row])}: {name}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        row = self.row_at(event.position())
        if row != self.hovered_row:
            self.hovered_row = row
            if row is None:
                self._card.hide()
            else:
                thumbnail = None if self.thumbnails is None else self.thumbnails[row]
                self._card.show_example(thumbnail, self.example_caption(row))
                self._place_card(event.position())
                self._card.show()
                self._card.raise_()
        elif row is not None:
            self._place_card(event.position())

    def _place_card(self, position: QPointF) -> None:
        gap = scaled(14)
        x = int(position.x()) + gap
        y = int(position.y()) + gap
        if x + self._card.width() > self.width():
            x = int(position.x()) - gap - self._card.width()
        if y + self._card.height() > self.height():
            y = int(position.y()) - gap - self._card.height()
        self._card.move(max(0, x), max(0, y))

    def leaveEvent(self, _event: Any) -> None:
        self.hovered_row = None
        self._card.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        row = self.row_at(event.position())
        if row is not None:
            self.picked.emit(int(self.indices[row]), self.layer)

    def _zoom_changed(self) -> None:
        self._fit_minimum()
        self.update()

    def _fit_minimum(self) -> None:
        # The plot itself keeps at least PLOT_MIN_HEIGHT zoomed pixels below its titles.
        self.setMinimumSize(MIN_WIDTH, max(MIN_HEIGHT, self._title_height()
                                           + self._note_height() + scaled(PLOT_MIN_HEIGHT)))


def legend_html(class_names: list[str], counts: np.ndarray | None = None) -> str:
    """The classes as coloured squares and names, for a word-wrapped QLabel."""
    parts = []
    for number, name in enumerate(class_names):
        colour = class_colour(number).name()
        count = "" if counts is None or number >= len(counts) else f" ({int(counts[number]):,})"
        entry = f"{_escape(name)}{count}".replace(" ", "&nbsp;")   # an entry never wraps
        parts.append(f"<span style='color:{colour}; font-size:large'>■</span>&nbsp;{entry}")
    return "&nbsp;&nbsp; ".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_legend(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    set_relative_font(label, 1.05)
    return label
