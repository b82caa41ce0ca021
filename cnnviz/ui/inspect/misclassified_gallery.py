"""Example images of an evaluation: the most confident mistakes, or one confusion-matrix cell.

Each tile shows the image (a signal: a small line plot) with its true class and the
model's top three answers with their
probabilities. Pixels are read from the dataset split a page (60 examples) at a time, so an
image-folder source is never decoded whole; files are decoded off the GUI thread
(NewestRequest), and pixels that arrive after the user asked for something else are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QToolTip, QVBoxLayout, QWidget)

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.formatting import count_text, probability_percent
from cnnviz.ui.common.series_plots import paint_series
from cnnviz.ui.common.value_colors import RIGHT, WRONG, array_to_qimage, symmetric_limit
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import scaled, set_relative_font

PAGE_SIZE = 60
LOAD_CHUNK = 20           # examples decoded per step, so a cancelled page stops early
GAP = 8
MIN_TILE_WIDTH = 118      # at zoom 100 %; tiles widen to their captions
TEXT_PAD = 3              # pixels each side of a caption line
WRAP = Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap
ORDINALS = ("predicted", "2nd", "3rd")


def tile_text(evaluation: Any, index: int) -> str:
    """"true: 7 · predicted: 2 (81%) · 2nd: 7 (12%) · 3rd: 3 (4%)" for one example."""
    names = evaluation.class_names
    parts = [f"true: {names[int(evaluation.labels[index])]}"]
    for rank, (cls, probability) in enumerate(zip(evaluation.top3[index],
                                                  evaluation.top3_probabilities[index])):
        parts.append(f"{ORDINALS[rank]}: {names[int(cls)]} ({probability_percent(probability)})")
    return " · ".join(parts)


@dataclass
class Tile:
    index: int                  # the example's index in its split
    lines: list[str]
    correct: bool
    image: QImage | None = None  # None until its page is loaded
    series: np.ndarray | None = None   # a signal's (steps, channels) values, drawn as lines

    @property
    def loaded(self) -> bool:
        return self.image is not None or self.series is not None


def load_images(split: Any, indices: Sequence[int], report) -> np.ndarray:
    """uint8 images of `indices`, read LOAD_CHUNK at a time (worker thread)."""
    chunks = []
    for start in range(0, len(indices), LOAD_CHUNK):
        report("Loading images…", start, len(indices))
        chunks.append(split.images(list(indices[start:start + LOAD_CHUNK])))
    return np.concatenate(chunks) if chunks else np.zeros((0, 1, 1, 1), np.uint8)


class TileCanvas(QWidget):
    """The painted tiles; grows in height with the number of rows it needs."""

    tile_clicked = Signal(int)          # position in the tile list

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self.selected: int | None = None
        self._geometry_key: tuple = ()
        self._geometry_value = (1, 1, 1, 1)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def _font(self) -> QFont:
        """The captions' font: the window's, so it follows the zoom."""
        return QFont(self.font())

    def _bold(self) -> QFont:
        bold = QFont(self._font())
        bold.setBold(True)
        return bold

    def _line_font(self, number: int) -> QFont:
        return self._bold() if number == 1 else self._font()   # the prediction is bold

    def _caption_width(self) -> int:
        """The widest caption line of any tile, in pixels."""
        widest = 0
        for tile in self.tiles:
            for number, line in enumerate(tile.lines):
                widest = max(widest, QFontMetrics(self._line_font(number)).horizontalAdvance(line))
        return widest

    def _line_height(self, number: int, line: str, text_width: int) -> int:
        """The height of a caption line written in `text_width` pixels: two lines or more
        when it must wrap."""
        metrics = QFontMetrics(self._line_font(number))
        return metrics.boundingRect(QRect(0, 0, max(text_width, 1), 10_000), WRAP, line).height()

    def _geometry(self, width: int) -> tuple[int, int, int, int]:
        """(columns, tile width, tile height, image size) for a canvas `width` wide (measured
        once per width, tiles and font: painting and hovering ask for it per tile)."""
        key = (width, id(self.tiles), len(self.tiles), self.font().toString(), scaled(100))
        if self._geometry_key != key:
            self._geometry_key, self._geometry_value = key, self._measure(width)
        return self._geometry_value

    def _measure(self, width: int) -> tuple[int, int, int, int]:
        """(columns, tile width, tile height, image size) for a canvas `width` wide.

        A tile is as wide as its longest caption line when the canvas has room, so captions
        are written whole; on a narrow canvas they wrap onto a second line instead."""
        wanted = max(scaled(MIN_TILE_WIDTH), self._caption_width() + 2 * TEXT_PAD + 2)
        tile_min = min(wanted, max(scaled(MIN_TILE_WIDTH), width - 2 * GAP))
        columns = max(1, (width - GAP) // (tile_min + GAP))
        tile_w = max(tile_min, (width - GAP) // columns - GAP)
        image = int(np.clip(tile_w - 24, scaled(56), scaled(84)))
        text_width = tile_w - 2 * TEXT_PAD
        if self.tiles:
            text_h = max(sum(self._line_height(n, line, text_width)
                             for n, line in enumerate(tile.lines)) for tile in self.tiles)
        else:
            text_h = 4 * QFontMetrics(self._font()).height()
        tile_h = image + 6 + text_h + 6
        return columns, tile_w, tile_h, image

    def captions_fit(self) -> bool:
        """Every caption line of every tile is written whole inside its tile (wrapped if
        need be), none cut off or elided."""
        _c, tile_w, tile_h, image = self._geometry(self.width())
        text_width = tile_w - 2 * TEXT_PAD
        for tile in self.tiles:
            used = image + 6
            for number, line in enumerate(tile.lines):
                metrics = QFontMetrics(self._line_font(number))
                box = metrics.boundingRect(QRect(0, 0, text_width, 10_000), WRAP, line)
                if box.width() > text_width:
                    return False
                used += box.height()
            if used > tile_h:
                return False
        return True

    def required_height(self, width: int) -> int:
        columns, _w, tile_h, _i = self._geometry(width)
        rows = -(-len(self.tiles) // columns)
        return GAP + rows * (tile_h + GAP)

    def tile_rect(self, position: int) -> QRect:
        columns, tile_w, tile_h, _i = self._geometry(self.width())
        row, column = divmod(position, columns)
        return QRect(GAP + column * (tile_w + GAP), GAP + row * (tile_h + GAP), tile_w, tile_h)

    def tile_at(self, point: QPoint) -> int | None:
        for position in range(len(self.tiles)):
            if self.tile_rect(position).contains(point):
                return position
        return None

    def refit(self) -> None:
        needed = self.required_height(self.width())
        if self.minimumHeight() != needed:
            self.setMinimumHeight(needed)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, self.required_height(400))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.refit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:    # the zoom: captions take more room
            self.refit()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        position = self.tile_at(event.position().toPoint())
        if position is None:
            QToolTip.hideText()
        else:
            what = "series" if self.tiles[position].series is not None else "image"
            text = "\n".join(self.tiles[position].lines) + f"\nClick to explain this {what}."
            QToolTip.showText(event.globalPosition().toPoint(), text, self)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        position = self.tile_at(event.position().toPoint())
        if position is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = position
            self.update()
            self.tile_clicked.emit(position)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self.tiles:
            painter.end()
            return
        _c, tile_w, _h, image_size = self._geometry(self.width())
        text_width = tile_w - 2 * TEXT_PAD
        text_color = palette.color(QPalette.ColorRole.Text)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for position, tile in enumerate(self.tiles):
            rect = self.tile_rect(position)
            if not rect.intersects(event.rect()):
                continue
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
            picture = QRect(rect.left() + (tile_w - image_size) // 2, rect.top() + 4,
                            image_size, image_size)
            if tile.series is not None:    # a signal reads better wide: the tile's width
                picture = QRect(rect.left() + 6, rect.top() + 4, tile_w - 12, image_size)
                paint_series(painter, QRectF(picture), tile.series,
                             symmetric_limit(tile.series))
                painter.setPen(QPen(QColor(200, 200, 200), 1))
                painter.drawRect(picture.adjusted(0, 0, -1, -1))
            elif tile.image is None:
                painter.fillRect(picture, QColor(215, 215, 215))
            else:
                painter.drawImage(picture, tile.image)
            y = picture.bottom() + 5
            for number, line in enumerate(tile.lines):
                painter.setFont(self._line_font(number))
                if number == 1:    # the prediction: green when right, red when wrong
                    painter.setPen(RIGHT if tile.correct else WRONG)
                else:
                    painter.setPen(text_color)
                height = self._line_height(number, line, text_width)
                painter.drawText(QRect(rect.left() + TEXT_PAD, y, text_width, height), WRAP, line)
                y += height
            if position == self.selected:
                painter.setPen(QPen(QColor(255, 200, 0), 3))
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
        painter.end()


class MisclassifiedGallery(QWidget):
    """A titled, scrollable page of example tiles with a "Show more" button."""

    example_clicked = Signal(int)       # the example's index in the evaluated split
    images_loaded = Signal()            # a page of pixels arrived (or had nothing to load)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._evaluation: Any = None
        self._dataset: Any = None
        self._indices = np.zeros(0, np.int64)
        self._shown = 0
        self._requests = NewestRequest(self)
        self._unloaded_from = 0     # the first tile whose pixels are neither shown nor failed
        self.cell: tuple[int, int] | None = None     # None: the mistakes are shown

        self.title = QLabel("Evaluate the model to see the images it gets wrong.")
        self.title.setWordWrap(True)
        set_relative_font(self.title, 1.0, bold=True)
        self.all_mistakes_button = QPushButton("All mistakes")
        self.all_mistakes_button.setToolTip("Back to every mistake, most confident first")
        self.all_mistakes_button.clicked.connect(self._back_to_mistakes)
        self.all_mistakes_button.hide()
        self.canvas = TileCanvas()
        self.canvas.tile_clicked.connect(self._tile_clicked)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.canvas)
        self.more_button = QPushButton()
        self.more_button.clicked.connect(self.show_more)
        self.more_button.hide()

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.title, 1)
        header.addWidget(self.all_mistakes_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignRight)

    # ------------------------------------------------------------------ what is shown

    def show_misclassified(self, evaluation: Any, dataset: Any) -> None:
        """The mistakes of `evaluation`, most confident first, a page at a time."""
        self.cell = None
        wrong = np.asarray(evaluation.misclassified(), np.int64)
        split = _split_words(evaluation)
        if wrong.size:
            title = (f"Mistakes: {count_text(wrong.size)} of {count_text(evaluation.count)} {split}, "
                     "most confident first")
        else:
            title = f"No mistakes: all {count_text(evaluation.count)} {split} are right."
        self._start(evaluation, dataset, wrong, title)

    def show_cell(self, evaluation: Any, dataset: Any, true: int, predicted: int) -> None:
        """The examples of one confusion-matrix cell (the right answers when true == predicted)."""
        self.cell = (int(true), int(predicted))
        indices = np.asarray(evaluation.cell_indices(int(true), int(predicted)), np.int64)
        names = evaluation.class_names
        count = f"{count_text(indices.size)} image{'s' if indices.size != 1 else ''}"
        verdict = " (right)" if true == predicted else ""
        title = f"True {names[true]}, predicted {names[predicted]}{verdict}: {count}"
        self._start(evaluation, dataset, indices, title)

    def clear(self, message: str = "Evaluate the model to see the images it gets wrong.") -> None:
        self._requests.supersede()
        self._evaluation = self._dataset = None
        self._indices = np.zeros(0, np.int64)
        self._shown = 0
        self.cell = None
        self.title.setText(message)
        self.canvas.tiles = []
        self.canvas.selected = None
        self.canvas.refit()
        self.more_button.hide()
        self.all_mistakes_button.hide()

    def show_more(self) -> None:
        """Add the next page of tiles."""
        if self._evaluation is None or self._shown >= self._indices.size:
            return
        page = self._indices[self._shown:self._shown + PAGE_SIZE]
        evaluation = self._evaluation
        for index in page:
            correct = int(evaluation.predictions[index]) == int(evaluation.labels[index])
            lines = tile_text(evaluation, int(index)).split(" · ")
            self.canvas.tiles.append(Tile(int(index), lines, correct))
        self._shown += page.size
        self._update_more_button()
        self.canvas.refit()
        self._load_page(page)

    # ------------------------------------------------------------------ for tests and owners

    def tile_indices(self) -> list[int]:
        return [tile.index for tile in self.canvas.tiles]

    def tile_text(self, position: int) -> str:
        return " · ".join(self.canvas.tiles[position].lines)

    def tile_rect(self, position: int) -> QRect:
        """A tile's rectangle in canvas coordinates (click `gallery.canvas` there)."""
        return self.canvas.tile_rect(position)

    def tile_has_image(self, position: int) -> bool:
        return self.canvas.tiles[position].loaded

    @property
    def loading(self) -> bool:
        """Pixels of the tiles on screen are being read."""
        return self._requests.busy

    def shutdown(self) -> None:
        """Stop and wait for the image reading (before the widget is destroyed)."""
        self._requests.shutdown()

    # ------------------------------------------------------------------ inside

    def _start(self, evaluation: Any, dataset: Any, indices: np.ndarray, title: str) -> None:
        self._requests.supersede()
        self._evaluation, self._dataset = evaluation, dataset
        self._indices = indices
        self._shown = 0
        self._unloaded_from = 0
        self.title.setText(title)
        self.title.setToolTip(title)
        self.canvas.tiles = []
        self.canvas.selected = None
        self.all_mistakes_button.setVisible(self.cell is not None)
        self.scroll.verticalScrollBar().setValue(0)
        self.show_more()
        if not indices.size:
            self.canvas.refit()
            self.images_loaded.emit()

    def _update_more_button(self) -> None:
        remaining = self._indices.size - self._shown
        self.more_button.setVisible(remaining > 0)
        if remaining > 0:
            self.more_button.setText(f"Show {min(PAGE_SIZE, remaining)} more "
                                     f"({count_text(self._shown)} of {count_text(self._indices.size)} shown)")

    def _load_page(self, page: np.ndarray) -> None:
        """Read the pixels of the page just added (the last `page.size` tiles)."""
        split = self._dataset.split(self._evaluation.split) if self._dataset is not None else None
        if split is None or not page.size:
            self.images_loaded.emit()
            return
        if isinstance(split, ArraySplit):      # already in memory: nothing to decode
            self._deliver(len(self.canvas.tiles) - page.size, split.images(page))
            return
        # Only the newest request is delivered, so it reads every tile still waiting for its
        # pixels: an earlier page still being read when "Show more" is pressed is included.
        first = self._unloaded_from
        indices = np.array([tile.index for tile in self.canvas.tiles[first:]], np.int64)
        self._requests.submit(lambda report: load_images(split, indices, report),
                              lambda images: self._deliver(first, images),
                              lambda message, _details: self._load_failed(
                                  first + indices.size, message))

    def _deliver(self, first: int, images: np.ndarray) -> None:
        for offset, pixels in enumerate(images):
            if first + offset < len(self.canvas.tiles):
                tile = self.canvas.tiles[first + offset]
                if pixels.ndim == 2:       # a signal (steps, channels)
                    tile.series = np.asarray(pixels, np.float32)
                else:
                    tile.image = array_to_qimage(pixels)
        self._unloaded_from = max(self._unloaded_from, first + len(images))
        self.canvas.update()
        self.images_loaded.emit()

    def _load_failed(self, end: int, message: str) -> None:
        self._unloaded_from = max(self._unloaded_from, end)   # not read again with later pages
        self.title.setText(f"{self.title.text()} — the images could not be read: {message}")
        self.images_loaded.emit()

    def _tile_clicked(self, position: int) -> None:
        self.example_clicked.emit(self.canvas.tiles[position].index)

    def _back_to_mistakes(self) -> None:
        if self._evaluation is not None:
            self.show_misclassified(self._evaluation, self._dataset)


def _split_words(evaluation: Any) -> str:
    """"test images", "validation images", "training images"; "images" for a whole source."""
    if evaluation.split == "all":
        return "images"
    return {"train": "training"}.get(evaluation.split, evaluation.split) + " images"
