"""Evaluating a saved or trained classifier: loss and accuracy on a split, the confusion
matrix, per-class precision and recall, and the images it gets wrong.

Evaluation runs in the background (NewestRequest) with a progress bar and Cancel; a result
that arrives after the model, the data or the split changed is dropped. Results
are kept per split while the model and data objects stay the same, so switching back to a
split already evaluated is instant. The same model object trained further is a different
model to a student: call `forget_results()` then.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from cnnviz.core.data.dataset_types import SPLIT_NAMES
from cnnviz.core.inspect.evaluation import classifier_output, evaluate_model
from cnnviz.core.data.input_images import input_mismatch
from cnnviz.core.data.split_choice import measured_split
from cnnviz.core.formatting import count_text, format_value
from cnnviz.core.training.checks import keras_io_shapes
from cnnviz.ui.inspect.confusion_matrix import ConfusionMatrix
from cnnviz.ui.inspect.misclassified_gallery import MisclassifiedGallery
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import set_relative_font

SPLIT_TITLES = {"all": "All", "test": "Test", "validation": "Validation", "train": "Training"}
SPLIT_WORDS = {"all": "all", "test": "test", "validation": "validation", "train": "training"}
ERROR_COLOUR = QColor("#b00020")
TABLE_COLUMNS = ("Class", "Precision", "Recall", "Images")


def percent(value: float) -> str:
    """"97.3%", or "—" when the value is undefined (nan)."""
    return "—" if not np.isfinite(value) else f"{100.0 * float(value):.1f}%"


def headline_text(evaluation: Any, noun: str = "images") -> str:
    """"Accuracy 97.3% · loss 0.081 on 2,000 test images" ("on all 10,000 images"; the
    noun is the dataset's: "series" for signals)."""
    count = count_text(evaluation.count)
    images = (f"all {count} {noun}" if evaluation.split == "all" else
              f"{count} {SPLIT_WORDS.get(evaluation.split, evaluation.split)} {noun}")
    return (f"Accuracy {percent(evaluation.accuracy)} · loss {format_value(evaluation.loss)} "
            f"on {images}")


class EvaluationPanel(QWidget):
    """Split chooser, Evaluate/Cancel, headline, confusion matrix, per-class table, gallery."""

    evaluated = Signal(object)          # a new Evaluation (not one shown again from memory)
    example_clicked = Signal(str, int)  # split name, example index: e.g. for the explainer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: Any = None
        self.dataset: Any = None
        self.disabled_reason: str | None = None
        self.current: Any = None                      # the Evaluation on screen
        self._results: dict[str, Any] = {}
        self._requests = NewestRequest(self)
        self._stop: threading.Event | None = None      # the running evaluation's stop flag
        self._filling_splits = False
        self._filled_for: str | None = None           # the source the split list is for
        self._build()
        self._update_state()

    def _build(self) -> None:
        self.split_combo = QComboBox()
        self.split_combo.setToolTip("Which images to measure the model on. A source with no "
                                    "test part of its own (a folder of class folders, MNIST's "
                                    "t10k files) is measured whole: All. Test images were never "
                                    "used for training, so they are the fair test.")
        self.split_combo.currentIndexChanged.connect(self._split_changed)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setDefault(True)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        set_relative_font(self.headline, 1.25, bold=True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.matrix = ConfusionMatrix()
        self.matrix.cell_clicked.connect(self._cell_clicked)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header_item_tips = ("", "Of the images the model called this class, the share that "
                            "really are it", "Of the images of this class, the share the "
                            "model found", "Images of this class in the split")
        for column, tip in enumerate(header_item_tips):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.cellClicked.connect(self._class_row_clicked)
        self._fit_table_width()
        self.gallery = MisclassifiedGallery()
        self.gallery.example_clicked.connect(self._example_clicked)
        self.gallery.all_mistakes_button.clicked.connect(lambda: self.matrix.set_selected(None))

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        for widget, stretch in ((self.matrix, 4), (self.table, 2), (self.gallery, 4)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([420, 240, 420])

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Evaluate on"))
        controls.addWidget(self.split_combo)
        controls.addWidget(self.evaluate_button)
        controls.addWidget(self.cancel_button)
        controls.addSpacing(12)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.headline, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ inputs

    def set_model(self, model: Any, disabled_reason: str | None = None) -> None:
        """The model to evaluate (a keras.Model or None); `disabled_reason` says why it cannot
        be evaluated (e.g. "Its output is not one score per class"), shown by the button."""
        if model is not self.model:
            self._forget()
        self.model = model
        self.disabled_reason = disabled_reason
        self._update_state()

    def set_dataset(self, dataset: Any | None) -> None:
        """The data to evaluate on (a core Dataset or None)."""
        if dataset is not self.dataset:
            self._forget()
        self.dataset = dataset
        self._fill_splits()
        self._update_state()

    def forget_results(self) -> None:
        """Drop the kept results (the model's weights changed while it stayed the same object)."""
        self._forget()
        self._update_state()

    def split(self) -> str | None:
        """The chosen split name ("all", "test", "validation", "train"), or None."""
        return self.split_combo.currentData()

    def set_split(self, name: str) -> None:
        index = self.split_combo.findData(name)
        if index >= 0:
            self.split_combo.setCurrentIndex(index)

    def blocked_reason(self) -> str | None:
        """Why Evaluate cannot be pressed now, in words; None when it can."""
        if self.model is None:
            return "Open a saved model or train one to evaluate it."
        if self.disabled_reason:
            return self.disabled_reason
        if self.dataset is None:
            return "Load a dataset to evaluate the model on."
        if self.split() is None:
            return "This dataset has no images to evaluate on."
        try:  # cheap checks of shapes only; evaluate_model repeats them and says the same
            classifier_output(self.model, self.dataset.num_classes)
            return input_mismatch(self.dataset.input_shape, keras_io_shapes(self.model)[0])
        except Exception as exc:  # noqa: BLE001 - EvaluationError or an odd model: say it
            return str(exc)
        return None

    @property
    def running(self) -> bool:
        return self._requests.busy

    # ------------------------------------------------------------------ evaluating

    def evaluate(self) -> int | None:
        """Evaluate the model on the chosen split in the background; returns the request's
        number, or None if it cannot."""
        split = self.split()
        if self.blocked_reason() is not None or split is None:
            self._update_state()
            return None
        self._cancel_task()
        model, dataset = self.model, self.dataset
        stop = threading.Event()

        def work(report):
            report("Loading TensorFlow…", 0, 0)
            return evaluate_model(model, dataset, split,
                                  on_progress=lambda done, total: report("Evaluating", done,
                                                                         total),
                                  should_stop=stop.is_set)

        self._stop = stop
        number = self._requests.submit(work, self._succeeded, self._failed, self._progress)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self._show_status("")
        self._update_state()
        return number

    def cancel(self) -> None:
        """Stop a running evaluation (its result, if any, is dropped)."""
        if not self.running:
            return
        self._cancel_task()
        self._show_status("Evaluation cancelled.")
        self._update_state()

    def shutdown(self) -> None:
        """Stop and wait for background work (before the window closes)."""
        self._cancel_task()
        self.gallery.shutdown()
        self._requests.shutdown()

    def _cancel_task(self) -> None:
        """Drop the running evaluation's result and make it stop at its next batch."""
        if self._stop is not None:
            self._stop.set()
        self._stop = None
        self._requests.supersede()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{stage}: {count_text(done)} of {count_text(total)} "
                                    f"{self._noun()}")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(stage)

    def _succeeded(self, evaluation: Any) -> None:
        self._stop = None
        self._results[evaluation.split] = evaluation
        self._show(evaluation)
        self._update_state()
        self.evaluated.emit(evaluation)

    def _failed(self, message: str, _details: str) -> None:
        self._stop = None
        self._show(None)
        self._show_status(message, error=True)
        self._update_state()

    # ------------------------------------------------------------------ showing

    def _show(self, evaluation: Any | None) -> None:
        self.current = evaluation
        self.matrix.set_evaluation(evaluation)
        self._fill_table(evaluation)
        if evaluation is None:
            self.headline.setText("")
            self.gallery.clear()
            return
        self.headline.setText(headline_text(evaluation, self._noun()))
        wrong = evaluation.count - evaluation.correct
        example = "a series" if self._noun() == "series" else "an image"
        self._show_status(f"{count_text(wrong)} mistake{'s' if wrong != 1 else ''}. Click a cell of the "
                          f"matrix to see its {self._noun()}; click {example} to explain it.")
        self.gallery.show_misclassified(evaluation, self.dataset)

    def _fill_table(self, evaluation: Any | None) -> None:
        self.table.setRowCount(0)
        if evaluation is None:
            self._fit_table_width()
            return
        self.table.setRowCount(len(evaluation.class_names))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, name in enumerate(evaluation.class_names):
            cells = (name, percent(evaluation.precision[row]), percent(evaluation.recall[row]),
                     count_text(evaluation.support[row]))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(right)
                if column == 1 and not np.isfinite(evaluation.precision[row]):
                    item.setToolTip("The model never predicted this class.")
                if column == 2 and not np.isfinite(evaluation.recall[row]):
                    item.setToolTip("There are no images of this class in this split.")
                self.table.setItem(row, column, item)
        self._fit_table_width()

    def _fit_table_width(self) -> None:
        """As wide as its columns (plus a scroll bar), so the matrix and images get the rest."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        width = header.length()
        width += 2 * self.table.frameWidth() + self.table.verticalScrollBar().sizeHint().width()
        self.table.setFixedWidth(max(width, 160))

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:    # the zoom: rows and columns follow
            self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
            self._fit_table_width()

    def table_text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        palette = self.palette()
        if error:
            palette.setColor(QPalette.ColorRole.WindowText, ERROR_COLOUR)
        self.status.setPalette(palette)    # a palette, not a style sheet: the zoom reaches it
        self.status.setProperty("error", error)

    def _cell_clicked(self, true: int, predicted: int) -> None:
        if self.current is not None:
            self.gallery.show_cell(self.current, self.dataset, true, predicted)

    def _class_row_clicked(self, row: int, _column: int) -> None:
        """A class in the table: its right answers, as the diagonal cell would show."""
        if self.current is not None and row < self.current.num_classes:
            self.matrix.set_selected((row, row))
            self.gallery.show_cell(self.current, self.dataset, row, row)

    def _example_clicked(self, index: int) -> None:
        if self.current is not None:
            self.example_clicked.emit(self.current.split, index)

    # ------------------------------------------------------------------ state

    def _forget(self) -> None:
        self._results.clear()
        if self.running:
            self._cancel_task()
        self._show(None)
        self._show_status("")

    def _noun(self) -> str:
        """What the dataset's examples are called: "series" for signals, else "images"."""
        return "series" if getattr(self.dataset, "is_series", False) else "images"

    def _fill_splits(self) -> None:
        # The same source again (adapted for another model, say) keeps the chosen split;
        # another source starts where `cnnviz evaluate` would.
        same_source = getattr(self.dataset, "name", None) == self._filled_for
        self._filled_for = getattr(self.dataset, "name", None)
        previous = self.split() if same_source else None
        self._filling_splits = True
        self.split_combo.clear()
        for name in SPLIT_NAMES:
            data = self.dataset.split(name) if self.dataset is not None else None
            if data is not None and data.count > 0:
                text = (f"All {count_text(data.count)} {self._noun()}" if name == "all" else
                        f"{SPLIT_TITLES[name]} ({count_text(data.count)} {self._noun()})")
                self.split_combo.addItem(text, name)
        index = self.split_combo.findData(previous)
        if index < 0 and self.dataset is not None:  # the same default as `cnnviz evaluate`
            index = self.split_combo.findData(measured_split(self.dataset))
        self.split_combo.setCurrentIndex(max(index, 0) if self.split_combo.count() else -1)
        self._filling_splits = False

    def _split_changed(self, _index: int) -> None:
        if self._filling_splits:
            return
        split = self.split()
        if split in self._results:
            if self.running:
                self._cancel_task()
            self._show(self._results[split])
            self._update_state()
        elif self.blocked_reason() is None:
            self.evaluate()          # picking a split is asking to see it
        else:
            self._show(None)
            self._update_state()

    def _update_state(self) -> None:
        running = self.running
        reason = self.blocked_reason()
        self.evaluate_button.setEnabled(reason is None and not running)
        self.evaluate_button.setToolTip(reason or "Run every image of the split through the "
                                        "model and count its right and wrong answers")
        self.split_combo.setEnabled(self.split_combo.count() > 0)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)
        self.headline.setVisible(not running)
        if reason is not None and not running:
            self._show_status(reason)
        elif self.current is None and not running and not self.status.property("error") \
                and self.status.text() != "Evaluation cancelled.":
            self._show_status("Press Evaluate to measure the model on the chosen images.")
