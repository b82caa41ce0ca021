"""The input picker's File mode: open an image file, or drop one, and convert it for the model.

A mixin of InputPicker (see input_picker.py); it uses the picker's tabs, input shape and
chosen inputs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.core.data.input_images import image_file_to_input
from cnnviz.ui.common import dialogs
from cnnviz.ui.explain.input_picker_common import (FILE, MUTED_STYLE, escape_html, message_label,
                                           show_message)
from cnnviz.ui.explain.pixel_view import PixelView

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm);;"
                "All files (*)")


class InputFileModeMixin:
    """File-mode methods of InputPicker (a QWidget)."""

    def _build_file_page(self) -> QWidget:
        page = QWidget()
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self.open_file)
        hint = QLabel("or drop an image file here")
        hint.setStyleSheet(MUTED_STYLE)
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
        self.file_message = message_label()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.file_name_label)
        layout.addWidget(self.file_view)
        layout.addWidget(self.file_caption)
        layout.addWidget(self.file_message)
        layout.addStretch(1)
        return page

    def open_file(self) -> None:
        """Ask for an image file and load it."""
        folder = str(self._file_path.parent) if self._file_path else ""
        path = dialogs.get_open_path(self, "Open an image to explain", folder, IMAGE_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> bool:
        """Convert the image file at `path` for the model and choose it; False on a problem."""
        self.tabs.setCurrentIndex(FILE)
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
            still_chosen = self._choices[FILE] is not None
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
        self._choices[FILE] = (image, f"Image file {path.name}", None)
        if emit and self.tabs.currentIndex() == FILE:
            self.emit_current()
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.load_file(path)


def _dropped_file(event: QDropEvent | QDragEnterEvent) -> str | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    local = [url.toLocalFile() for url in urls if url.isLocalFile()]
    return local[0] if local else None
