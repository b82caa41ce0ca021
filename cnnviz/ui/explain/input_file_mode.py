"""The input picker's File mode: open an image file, or drop one, and convert it for the model.

`FileInputPage` is the File tab of InputPicker (input_picker.py), which owns it: it is told the
model's input shape, converts the file for it, shows problems inline, and emits `input_chosen`
when the user picked a file that converted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnviz.core.data.input_images import image_file_to_input
from cnnviz.core.formatting import dims_text
from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs
from cnnviz.ui.explain.input_picker_common import (MUTED_STYLE, escape_html, message_label,
                                                   show_message)
from cnnviz.ui.explain.pixel_view import PixelView
from cnnviz.ui.common.zoom import set_relative_font

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm);;"
                "All files (*)")


class FileInputPage(QWidget):
    """Open an image file (or be given a dropped one) and convert it to the model's input."""

    input_chosen = Signal(object, str)   # float32 (H, W, C) image, description

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._input_shape: tuple[int, int, int] | None = None
        self._file_path: Path | None = None
        self._choice: tuple[np.ndarray, str] | None = None
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self.open_file)
        hint = QLabel("or drop an image file here")
        hint.setStyleSheet(MUTED_STYLE)
        set_relative_font(hint)
        hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(hint, 1)
        self.file_name_label = QLabel()
        self.file_name_label.setWordWrap(True)
        self.file_view = PixelView(160)
        self.file_caption = QLabel()
        self.file_caption.setWordWrap(True)
        self.file_caption.setStyleSheet(MUTED_STYLE)
        set_relative_font(self.file_caption)
        self.file_message = message_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.file_name_label)
        layout.addWidget(self.file_view)
        layout.addWidget(self.file_caption)
        layout.addWidget(self.file_message)
        layout.addStretch(1)

    def choice(self) -> tuple[np.ndarray, str] | None:
        """(image, description) of the converted file, or None when there is none."""
        return self._choice

    def set_input_shape(self, shape: tuple[int, int, int] | None) -> None:
        """The model's input (None: no model); the file already chosen is converted again for
        it, without emitting."""
        self._input_shape = shape
        channels = shape[2] if shape else 1
        self.open_button.setEnabled(shape is not None)
        self.file_caption.setText(
            f"Converted to the model's input: {dims_text(shape)}, "
            f"{'grayscale' if channels == 1 else 'colour'}." if shape
            else "Build or load a model first: the image is converted to its input size.")
        self._choice = None
        if self._file_path is not None and shape is not None:
            self._convert_file(self._file_path, emit=False)

    def open_file(self) -> None:
        """Ask for an image file and load it."""
        folder = str(self._file_path.parent) if self._file_path else ""
        path = dialogs.get_open_path(self, "Open an image to explain", folder, IMAGE_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> bool:
        """Convert the image file at `path` for the model and choose it; False on a problem."""
        if self._input_shape is None:
            show_message(self.file_message, "Build or load a model first: the image is "
                                            "converted to the model's input size.")
            return False
        return self._convert_file(Path(path), emit=True)

    def _convert_file(self, path: Path, emit: bool) -> bool:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            image = image_file_to_input(path, self._input_shape)
        except CnnvizError as exc:
            still_chosen = self._choice is not None
            if not still_chosen:
                self.file_view.set_image(None)
            show_message(self.file_message, str(exc) + (
                " The previous image is still chosen." if still_chosen else ""))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._file_path = path
        show_message(self.file_message, None)
        self.file_name_label.setText(f"<b>{escape_html(path.name)}</b>")
        self.file_name_label.setToolTip(str(path))
        self.file_view.set_image(image)
        self._choice = (image, f"Image file {path.name}")
        if emit:
            self.input_chosen.emit(*self._choice)
        return True


def dropped_file(event: QDropEvent | QDragEnterEvent) -> str | None:
    """The first local file dragged or dropped in `event`, or None."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    local = [url.toLocalFile() for url in urls if url.isLocalFile()]
    return local[0] if local else None
