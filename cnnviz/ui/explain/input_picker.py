"""Choosing the one input the explainer steps through: a dataset image, a drawing or a file.

`InputPicker` has three tabs and emits `input_chosen(image, description, label)` with a
float32 (H, W, C) image in [0, 1] every time the chosen input changes. Problems (a file
that is not an image, dataset images the model cannot take) show as a red line inside the
picker. It is meant for a narrow column (~260–300 px).

For a 1-D model (an input of (steps, channels)) the input is a signal: the Dataset page
draws the chosen series as a line plot and emits its float32 (steps, channels) values as
stored; Draw and File are disabled, each saying why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSpinBox, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.data.input_images import (dataset_input, explain_split,
                                      input_mismatch, prepare_drawing)
from cnnviz.core.data.split_choice import split_phrase
from cnnviz.core.formatting import dims_text
from cnnviz.ui.explain.drawing_canvas import DrawingCanvas
from cnnviz.ui.explain.input_file_mode import FileInputPage, dropped_file
from cnnviz.ui.explain.input_picker_common import (DATASET, DRAW, FILE, MUTED_STYLE, escape_html,
                                           message_label, show_message)
from cnnviz.ui.explain.pixel_view import PixelView
from cnnviz.ui.common.series_plots import SeriesPlot
from cnnviz.ui.common.zoom import set_relative_font

FILE_SIGNAL_REASON = ("This model takes signals: opening one series from a file is not offered "
                      "yet. Choose a series on the Dataset page (load a time-series file as "
                      "the dataset in the Train view).")
SPLIT_TITLES = {"test": "Test", "validation": "Validation", "train": "Training"}


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class InputPicker(QWidget):
    """Three ways to choose the input to explain: Dataset images, Draw, Image file.

    Call `set_input_shape((H, W, C))` with the model's input, `set_dataset(dataset)` with
    the loaded data (the model's answer is shown once, by the probability chart under it).
    The File mode (open or drop an image file) is its `file_page` (input_file_mode.py).
    """

    input_chosen = Signal(object, str, object)  # float32 (H, W, C) image, description, label|None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Any = None
        self._split_name = "test"
        self._input_shape: tuple[int, ...] | None = None
        # The chosen input of the Dataset and Draw modes; the File mode's is the file page's.
        self._choices: list[tuple[np.ndarray, str, Any] | None] = [None, None, None]
        self._shape_set = False

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_dataset_page(), "Dataset")
        self.tabs.addTab(self._build_draw_page(), "Draw")
        self.file_page = FileInputPage()
        self.file_page.input_chosen.connect(self._file_chosen)
        self.tabs.addTab(self.file_page, "File")
        self.tabs.setTabToolTip(DATASET, "Browse the images of the loaded dataset")
        self.tabs.setTabToolTip(DRAW, "Draw a digit with the mouse")
        self.tabs.setTabToolTip(FILE, "Open an image file, or drop one here")
        self.tabs.currentChanged.connect(self._mode_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.tabs)
        layout.addStretch(1)
        self.setAcceptDrops(True)
        self.setMinimumWidth(240)
        self.set_dataset(None)
        self.set_input_shape(None)

    # -- pages --------------------------------------------------------------------------
    def _build_dataset_page(self) -> QWidget:
        page = QWidget()
        self.split_label = QLabel("No dataset loaded.")
        self.split_label.setWordWrap(True)
        self.previous_button = QToolButton()
        self.previous_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous_button.setToolTip("Previous image (Page Up)")
        self.previous_button.clicked.connect(lambda: self.browse(-1))
        self.next_button = QToolButton()
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.next_button.setToolTip("Next image (Page Down)")
        self.next_button.clicked.connect(lambda: self.browse(1))
        self.index_spin = QSpinBox()
        self.index_spin.setKeyboardTracking(False)  # typing "123" shows image 123, not 1, 12
        self.index_spin.setPrefix("#")
        self.index_spin.setToolTip("Which image of the set, counting from #0: the same number "
                                   "as `cnnviz explain --index`")
        self.index_spin.valueChanged.connect(self._index_changed)
        self.index_spin.installEventFilter(self)
        self.count_label = QLabel()
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.previous_button)
        row.addWidget(self.index_spin, 1)
        row.addWidget(self.count_label)
        row.addWidget(self.next_button)
        self.dataset_view = PixelView(160)
        self.series_view = SeriesPlot(140)     # a signal instead of a picture
        self.series_view.hide()
        self.true_label = QLabel()
        self.true_label.setWordWrap(True)
        self.dataset_message = message_label()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.split_label)
        layout.addLayout(row)
        layout.addWidget(self.dataset_view)
        layout.addWidget(self.series_view)
        layout.addWidget(self.true_label)
        layout.addWidget(self.dataset_message)
        layout.addStretch(1)
        return page

    def _build_draw_page(self) -> QWidget:
        page = QWidget()
        self.draw_reason = message_label(MUTED_STYLE)
        self.canvas = DrawingCanvas()
        self.canvas.drawing_changed.connect(self._drawing_changed)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Erase the drawing (or right-click the canvas)")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.draw_preview = PixelView(56, empty_color=QColor(0, 0, 0))
        self.draw_preview.setFixedSize(60, 60)
        self.draw_preview_caption = QLabel()
        self.draw_preview_caption.setWordWrap(True)
        self.draw_preview_caption.setStyleSheet(MUTED_STYLE)
        set_relative_font(self.draw_preview_caption)
        side = QVBoxLayout()
        side.addWidget(self.draw_preview_caption)
        side.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignLeft)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.draw_preview, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(side, 1)
        # Everything for drawing, hidden as a whole when the model cannot take a drawing.
        self.draw_area = QWidget()
        area_layout = QVBoxLayout(self.draw_area)
        area_layout.setContentsMargins(0, 0, 0, 0)
        area_layout.addWidget(self.canvas)
        area_layout.addLayout(row)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.draw_reason)
        layout.addWidget(self.draw_area)
        layout.addStretch(1)
        return page

    # -- what the owner tells us -------------------------------------------------------
    def set_input_shape(self, shape: tuple[int, ...] | None) -> None:
        """The model's input (height, width, channels), or (steps, channels) for a 1-D model;
        None when there is no model yet.

        A new shape re-makes the chosen inputs for it (and emits the current one); the same
        shape again changes nothing (call `emit_current` to have the input sent again).
        """
        known = (shape is not None and len(shape) in (2, 3)
                 and all(d is not None for d in shape))
        new_shape = tuple(int(d) for d in shape) if known else None  # type: ignore[union-attr]
        if self._shape_set and new_shape == self._input_shape:
            return
        self._shape_set = True
        self._input_shape = new_shape
        one_d = self.takes_signals()
        channels = self._input_shape[-1] if self._input_shape else 1
        can_draw = channels == 1 and not one_d
        self.canvas.setEnabled(can_draw)
        self.clear_button.setEnabled(can_draw)
        self.draw_area.setVisible(can_draw)
        show_message(self.draw_reason, None if can_draw else (
            f"Drawing makes a picture, but this model is a 1-D network: it takes signals of "
            f"{dims_text(self._input_shape)} (steps × channels). Choose a series on the "
            f"Dataset page." if one_d else
            f"Drawing works for grayscale models only. This model takes "
            f"{dims_text(self._input_shape)} colour images: choose a dataset image "
            f"or an image file instead." if channels == 3 else
            f"Drawing works for grayscale models only; this model's input has {channels} "
            f"channels."))
        self.tabs.setTabToolTip(DRAW, "Draw a digit with the mouse" if can_draw
                                else self.draw_reason.text())
        self.tabs.setTabEnabled(DRAW, not one_d)
        self.tabs.setTabEnabled(FILE, not one_d)
        self.tabs.setTabToolTip(FILE, FILE_SIGNAL_REASON if one_d
                                else "Open an image file, or drop one here")
        self.tabs.setTabToolTip(DATASET, "Browse the series of the loaded dataset" if one_d
                                else "Browse the images of the loaded dataset")
        if one_d and self.tabs.currentIndex() != DATASET:
            self.tabs.blockSignals(True)
            self.tabs.setCurrentIndex(DATASET)
            self.tabs.blockSignals(False)
        size = self._draw_size()
        self.draw_preview_caption.setText(f"What the model sees ({size[0]}×{size[1]}), "
                                          "centred like MNIST")
        # Everything already chosen is re-made for the new shape.
        self._choices = [None, None, None]
        self._refresh_dataset(emit=False)
        self._refresh_drawing(emit=False)
        self.file_page.set_input_shape(None if one_d else self._input_shape)  # type: ignore[arg-type]
        self.emit_current()

    def set_dataset(self, dataset: Any) -> None:
        """Browse the images `cnnviz evaluate` measures (all of a source with no test part,
        else test, else validation, else train), numbered from 0 as `cnnviz explain --index`
        numbers them; None for no dataset."""
        self._dataset = dataset
        self._split_name = explain_split(dataset) if dataset is not None else "test"
        split = dataset.split(self._split_name) if dataset is not None else None
        count = split.count if split is not None else 0
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(0, count - 1))
        self.index_spin.setValue(0)
        self.index_spin.blockSignals(False)
        self.count_label.setText(f"of {count:,}")
        for widget in (self.index_spin, self.previous_button, self.next_button):
            widget.setEnabled(count > 0)
        self.split_label.setText(
            "No dataset loaded: load one in the Train view." if dataset is None else
            _capitalised(split_phrase(dataset, self._split_name)) if count else
            f"{dataset.name} has no images.")
        self._refresh_dataset(emit=self.tabs.currentIndex() == DATASET)

    # -- queries and actions ------------------------------------------------------------
    def takes_signals(self) -> bool:
        """The model is a 1-D network: its input is (steps, channels)."""
        return self._input_shape is not None and len(self._input_shape) == 2

    def mode(self) -> str:
        """'dataset', 'draw' or 'file'."""
        return ("dataset", "draw", "file")[self.tabs.currentIndex()]

    def set_mode(self, mode: str) -> None:
        self.tabs.setCurrentIndex(("dataset", "draw", "file").index(mode))

    def current_input(self) -> tuple[np.ndarray, str, Any] | None:
        """(image, description, label) of the current mode, or None if it has none yet."""
        if self.tabs.currentIndex() == FILE:
            choice = self.file_page.choice()
            return None if choice is None else (*choice, None)
        return self._choices[self.tabs.currentIndex()]

    def emit_current(self) -> None:
        """Emit `input_chosen` for the current mode's input, if it has one."""
        choice = self.current_input()
        if choice is not None:
            self.input_chosen.emit(*choice)

    def load_file(self, path: str | Path) -> bool:
        """Switch to the File mode and choose the image file at `path`; False on a problem
        (and for a 1-D model, which says why on the Dataset page)."""
        if self.takes_signals():
            show_message(self.dataset_message, FILE_SIGNAL_REASON)
            return False
        self.tabs.setCurrentIndex(FILE)
        return self.file_page.load_file(path)

    def current_index(self) -> int:
        """The dataset image shown, counting from 0."""
        return self.index_spin.value()

    def browse(self, step: int) -> None:
        """Show the dataset image `step` places further on (stops at either end)."""
        self.index_spin.setValue(self.index_spin.value() + step)

    def show_index(self, index: int) -> None:
        """Show dataset image `index` (counting from 0)."""
        self.index_spin.setValue(index)

    # -- internals ----------------------------------------------------------------------
    def _draw_size(self) -> tuple[int, int]:
        if self._input_shape is None or len(self._input_shape) != 3:
            return (28, 28)
        return (self._input_shape[0], self._input_shape[1])

    def _file_chosen(self, _image: np.ndarray, _description: str) -> None:
        if self.tabs.currentIndex() == FILE:
            self.emit_current()

    def _mode_changed(self, _index: int) -> None:
        self.emit_current()

    def _index_changed(self, _value: int) -> None:
        self._refresh_dataset(emit=True)

    def _refresh_dataset(self, emit: bool) -> None:
        self._choices[DATASET] = None
        split = self._dataset.split(self._split_name) if self._dataset is not None else None
        signals = split is not None and len(split.image_shape) == 2
        self.series_view.setVisible(signals)
        self.dataset_view.setVisible(not signals)
        noun = "series" if signals else "image"
        self.previous_button.setToolTip(f"Previous {noun} (Page Up)")
        self.next_button.setToolTip(f"Next {noun} (Page Down)")
        if split is None or split.count == 0:
            self.dataset_view.set_image(None, "No images to show.")
            self.series_view.set_series(None, "No series to show.")
            self.true_label.clear()
            show_message(self.dataset_message, None)
            return
        index = self.current_index()
        try:
            image, label = dataset_input(self._dataset, self._split_name, index)
        except CnnvizError as exc:
            self.dataset_view.set_image(None)
            self.series_view.set_series(None)
            show_message(self.dataset_message, str(exc))
            return
        names = self._dataset.class_names
        class_name = names[label] if 0 <= label < len(names) else str(label)
        if signals:
            self.series_view.set_series(image)
        else:
            self.dataset_view.set_image(image)
        self.true_label.setText(
            f"{noun.capitalize()} #{index} · true label: <b>{escape_html(class_name)}</b>")
        problem = (input_mismatch(image.shape, self._input_shape)
                   if self._input_shape is not None else None)
        show_message(self.dataset_message, problem)
        if problem is None:
            # The same words as `cnnviz explain` prints for this image.
            description = (f"{noun} #{index} of {split_phrase(self._dataset, 'all')} "
                           f"(label {class_name})"
                           if self._split_name == "all" else
                           f"{SPLIT_TITLES[self._split_name]} {noun} #{index} of "
                           f"{split.count:,} ({class_name})")
            self._choices[DATASET] = (image, description, label)
        if emit and self.tabs.currentIndex() == DATASET:
            self.emit_current()

    def _drawing_changed(self) -> None:
        self._refresh_drawing(emit=True)

    def _refresh_drawing(self, emit: bool) -> None:
        self._choices[DRAW] = None
        if not self.canvas.isEnabled() or self.canvas.is_empty():
            self.draw_preview.set_image(None)
            return
        try:
            image = prepare_drawing(self.canvas.ink(), self._draw_size())
        except CnnvizError:
            self.draw_preview.set_image(None)  # a stray dot: nothing to explain yet
            return
        self.draw_preview.set_image(image)
        self._choices[DRAW] = (image, "Your drawing", None)
        if emit and self.tabs.currentIndex() == DRAW:
            self.emit_current()

    # -- dropping a file ------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.load_file(path)

    # -- keys -----------------------------------------------------------------------
    def _browse_key(self, event: QKeyEvent) -> bool:
        """PageUp/PageDown browse the dataset; True when the key was used."""
        if self.tabs.currentIndex() != DATASET:
            return False
        step = {Qt.Key.Key_PageUp: -1, Qt.Key.Key_PageDown: 1}.get(event.key())
        if step is None:
            return False
        self.browse(step)
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._browse_key(event):
            event.accept()
        else:
            super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # The spin box would step by 10 on PageUp/PageDown; here they mean one image.
        if watched is self.index_spin and event.type() == QEvent.Type.KeyPress:
            if self._browse_key(event):  # type: ignore[arg-type]
                return True
        return super().eventFilter(watched, event)
