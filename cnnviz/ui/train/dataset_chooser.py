"""Choosing and loading the training data: bundled samples, Keras downloads, files, folders,
time series (with their own options: a CSV's label column, per-series z-normalisation).

Loading runs in a BackgroundTask; a result that arrives after the user picked something
else is dropped by its generation number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import NewestRequest

PREVIEW_COUNT = 32
FOLDER_CHOICE = "<folder>"
FILE_CHOICE = "<file>"
SERIES_CHOICE = "<series>"

# (label in the chooser, source name for core.datasets.load_dataset)
SOURCES: tuple[tuple[str, str], ...] = (
    ("MNIST sample (bundled, offline)", "mnist-sample"),
    ("CIFAR-10 sample (bundled, offline)", "cifar10-sample"),
    ("Example image folder (bundled)", "folder-sample"),
    ("GunPoint time series (bundled, offline)", "gunpoint-sample"),
    ("MNIST, full (download 11 MB)", "mnist"),
    ("Fashion-MNIST, full (download 30 MB)", "fashion_mnist"),
    ("CIFAR-10, full (download 163 MB)", "cifar10"),
    ("Your image folder…", FOLDER_CHOICE),
    ("Dataset file or IDX/CIFAR folder…", FILE_CHOICE),
    ("Time-series file or UCR folder…", SERIES_CHOICE),
)
FOLDER_SOURCES = ("folder-sample", FOLDER_CHOICE)
CUSTOM_CHOICES = (FOLDER_CHOICE, FILE_CHOICE, SERIES_CHOICE)
SERIES_SOURCES = ("gunpoint-sample", SERIES_CHOICE)
SERIES_FILE_SUFFIXES = (".ts", ".tsv", ".arff", ".csv")
DATA_FILE_FILTER = ("Datasets (*.npz *.gz *.tar.gz *.idx *ubyte *.ts *.tsv *.arff *.csv);;"
                    "Time series (*.ts *.tsv *.arff *.csv *.npz);;All files (*)")
SERIES_FILE_FILTER = "Time series (*.ts *.tsv *.arff *.csv *.npz);;All files (*)"


@dataclass
class LoadedData:
    """A dataset plus the preview made in the background (decoding files is not GUI work)."""

    dataset: Any                 # core.datasets.Dataset
    source: str                  # what was asked for: a source name or a path
    preview_images: np.ndarray
    preview_labels: list[str]


def load_with_preview(source: str, options: Any, report) -> LoadedData:
    """Load `source` and pick preview images spread over the training split (worker thread)."""
    from cnnviz.core.data.datasets import load_dataset

    dataset = load_dataset(source, options, on_progress=report)
    report("Making the preview…", 0, 0)
    count = dataset.train.count
    picks = np.linspace(0, count - 1, num=min(PREVIEW_COUNT, count)).astype(int) if count else []
    empty = np.zeros((0,) + tuple(dataset.input_shape), np.float32 if dataset.is_series
                     else np.uint8)
    images = dataset.train.examples(list(picks)) if len(picks) else empty
    labels = dataset.train.labels()
    names = [dataset.class_names[int(labels[i])] for i in picks]
    return LoadedData(dataset, source, images, names)


class DatasetChooser(QGroupBox):
    """The Data box: source, folder options, Load, progress, and what was loaded."""

    loaded = Signal(object)   # LoadedData
    cleared = Signal()        # a new load started: the previous dataset is no longer current

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        # A newer load supersedes an older one: its result is dropped, a download stops early.
        self._loads = NewestRequest(self)
        self._custom_path = ""
        self.current: LoadedData | None = None

        self.source_combo = QComboBox()
        for label, source in SOURCES:
            self.source_combo.addItem(label, source)
        self.source_combo.setToolTip("Where the images come from. Bundled samples work offline.")
        self.source_combo.activated.connect(self._source_picked)

        self.height_box, self.width_box = QSpinBox(), QSpinBox()
        for box in (self.height_box, self.width_box):
            box.setRange(8, 512)
            box.setValue(64)
            box.setToolTip("Every image is resized to this size (height × width).")
        self.colour_combo = QComboBox()
        self.colour_combo.addItem("RGB colour", "rgb")
        self.colour_combo.addItem("Grayscale", "grayscale")
        self.val_split_box = QDoubleSpinBox()
        self.val_split_box.setRange(0.0, 0.5)
        self.val_split_box.setSingleStep(0.05)
        self.val_split_box.setValue(0.1)
        self.val_split_box.setToolTip("The share of training images held back to check the model "
                                      "on images it does not learn from (validation).")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setValue(1337)
        self.seed_box.setToolTip("The same seed gives the same validation split every time.")
        self.label_column_edit = QLineEdit()
        self.label_column_edit.setPlaceholderText("column: empty = first or last")
        self.label_column_edit.setToolTip(
            "The CSV column that holds the class labels: its name in the header row, its number "
            "(1 is the first), or first / last. Empty: the first or last column, whichever is "
            "not numbers or has fewer distinct values.")
        self.label_column_edit.editingFinished.connect(self._label_column_edited)
        self.z_normalize_box = QCheckBox("Z-normalise each series")
        self.z_normalize_box.setToolTip(
            "Shift and scale each series (each channel) to mean 0 and standard deviation 1, "
            "so the model compares shapes, not levels. Off: the values as stored.")
        self.z_normalize_box.toggled.connect(lambda _on: self._reload_if_loaded())

        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.height_box)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.width_box)
        self._size_host = QWidget()
        self._size_host.setLayout(size_row)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Source", self.source_combo)
        form.addRow("Image size", self._size_host)
        form.addRow("Colour", self.colour_combo)
        form.addRow("Labels", self.label_column_edit)
        form.addRow("", self.z_normalize_box)
        form.addRow("Validation", self.val_split_box)
        form.addRow("Seed", self.seed_box)
        self._form = form

        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load the data again with these options")
        self.load_button.clicked.connect(self.load)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        row.addWidget(self.load_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.info)
        self._update_option_rows()

    # ------------------------------------------------------------------ choosing

    def source(self) -> str:
        """The source to load: a name from core.datasets, or the picked path."""
        choice = self.source_combo.currentData()
        return self._custom_path if choice in CUSTOM_CHOICES else choice

    def options(self) -> Any:
        from cnnviz.core.data.dataset_types import LoadOptions

        folder = self.source_combo.currentData() in FOLDER_SOURCES or \
            (self._custom_path and Path(self._custom_path).is_dir()
             and self.source_combo.currentData() == FOLDER_CHOICE)
        return LoadOptions(
            target_size=(self.height_box.value(), self.width_box.value()) if folder else None,
            color_mode=self.colour_combo.currentData(),
            validation_split=round(self.val_split_box.value(), 4),
            seed=self.seed_box.value(),
            label_column=self.label_column_edit.text().strip() or None,
            z_normalize=self.z_normalize_box.isChecked() and self.is_series_choice())

    def select_source(self, source: str, load: bool = True) -> None:
        """Pick a named source (or a path) programmatically, as the CLI and tests do."""
        index = self.source_combo.findData(source)
        if index < 0:
            if _looks_like_series(source):
                index = self.source_combo.findData(SERIES_CHOICE)
            else:
                is_dir = Path(source).is_dir()
                index = self.source_combo.findData(FOLDER_CHOICE if is_dir else FILE_CHOICE)
            self._custom_path = source
        self.source_combo.setCurrentIndex(index)
        self._update_option_rows()
        if load:
            self.load()

    def _source_picked(self, _index: int) -> None:
        choice = self.source_combo.currentData()
        if choice == FOLDER_CHOICE:
            path = dialogs.get_folder_path(self, "Choose an image folder (one subfolder per class)",
                                           self._custom_path or str(Path.home()))
            if not path:
                return
            self._custom_path = path
        elif choice == FILE_CHOICE:
            path = dialogs.get_open_path(self, "Choose a dataset file", self._custom_path or
                                         str(Path.home()), DATA_FILE_FILTER)
            if not path:
                return
            self._custom_path = path
        elif choice == SERIES_CHOICE:
            # A UCR folder is chosen by one of its files: NAME_TRAIN.ts picks the folder.
            path = dialogs.get_open_path(
                self, "Choose a time-series file (a NAME_TRAIN file loads its whole UCR folder)",
                self._custom_path or str(Path.home()), SERIES_FILE_FILTER)
            if not path:
                return
            self._custom_path = _series_source_for(path)
        self._update_option_rows()
        self.load()

    def is_series_choice(self) -> bool:
        """Whether the chosen source is time series (the bundled sample or a series path)."""
        choice = self.source_combo.currentData()
        if choice in SERIES_SOURCES:
            return True
        if choice not in CUSTOM_CHOICES or not self._custom_path:
            return False
        loaded = self.current is not None and self.current.source == self._custom_path
        # An .npz says what it holds only when read: the loaded data decides.
        return _looks_like_series(self._custom_path) or (
            loaded and bool(getattr(self.current.dataset, "is_series", False)))

    def _update_option_rows(self) -> None:
        choice = self.source_combo.currentData()
        series = self.is_series_choice()
        folder = choice in FOLDER_SOURCES and not series
        for widget in (self._size_host, self.colour_combo):
            self._form.setRowVisible(widget, folder)
        csv = choice in CUSTOM_CHOICES and self._custom_path.lower().endswith(".csv")
        self._form.setRowVisible(self.label_column_edit, csv)
        self._form.setRowVisible(self.z_normalize_box, series)
        if choice in CUSTOM_CHOICES and self._custom_path:
            self.source_combo.setToolTip(self._custom_path)

    def _label_column_edited(self) -> None:
        if self.label_column_edit.isModified():
            self.label_column_edit.setModified(False)
            self._reload_if_loaded()

    def _reload_if_loaded(self) -> None:
        """A series option changed: load again so the preview and description follow."""
        if self.is_series_choice() and (self.current is not None or self.busy):
            self.load()

    # ------------------------------------------------------------------ loading

    @property
    def busy(self) -> bool:
        return self._loads.busy

    @property
    def busy_changed(self) -> Any:
        """Emitted with True when a load starts and False when none is under way."""
        return self._loads.busy_changed

    def shutdown(self) -> None:
        """Cancel running loads and wait for their threads (the window is closing)."""
        self._loads.shutdown()

    def load(self) -> None:
        """Load the chosen source in the background (an older load's result will be ignored)."""
        source = self.source()
        if not source:
            self.info.setText("Choose a folder or file first.")
            return
        options = self.options()
        self.current = None
        self.cleared.emit()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Loading…")
        self.progress.show()
        self.info.setText("")
        self._loads.submit(lambda report: load_with_preview(source, options, report),
                           self._loaded, self._failed, self._progress)

    def _progress(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
            if total > 100_000:  # bytes: show megabytes
                self.progress.setFormat(f"{stage}  {done / 1e6:.1f} / {total / 1e6:.1f} MB")
            else:
                self.progress.setFormat(f"{stage}  {done:,} / {total:,}")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(stage)

    def _loaded(self, result: LoadedData) -> None:
        self.progress.hide()
        self.current = result
        self._update_option_rows()
        self.info.setText(describe_loaded(result.dataset))
        self.loaded.emit(result)

    def _failed(self, message: str, details: str) -> None:
        self.progress.hide()
        self.info.setText(f"<span style='color:#b3261e'>{_escape(message)}</span>")
        if details:
            dialogs.show_failure(self, "Cannot load the data", message, details)


def _looks_like_series(path: str) -> bool:
    """A time-series file by its name, or a folder holding NAME_TRAIN / NAME_TEST files."""
    candidate = Path(path)
    if candidate.suffix.lower() in SERIES_FILE_SUFFIXES:
        return True
    if candidate.suffix.lower() == ".npz" or not candidate.is_dir():
        return False
    from cnnviz.core.data.time_series import find_series_pair
    from cnnviz.core.errors import DatasetError

    try:
        return find_series_pair(candidate) is not None
    except DatasetError:
        return True   # several problems in one folder: loading says so


def _series_source_for(path: str) -> str:
    """A file picked in the series dialog: NAME_TRAIN.* or NAME_TEST.* with its partner
    beside it stands for the UCR folder (train and test); any other file for itself."""
    from cnnviz.core.data.time_series import find_series_pair
    from cnnviz.core.errors import DatasetError

    folder = Path(path).parent
    try:
        pair = find_series_pair(folder)
    except DatasetError:
        return path
    if pair is not None and None not in pair and Path(path) in pair:
        return str(folder)
    return path


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def describe_loaded(dataset: Any) -> str:
    """Rich text: the dataset's one-line description, its split sizes, class counts and report."""
    parts = [f"<b>{_escape(dataset.description)}</b>"]
    splits = [f"{name} {split.count:,}" for name, split in
              (("train", dataset.train), ("validation", dataset.validation), ("test", dataset.test))
              if split is not None]
    noun = "Series" if getattr(dataset, "is_series", False) else "Images"
    parts.append(f"{noun}: " + " · ".join(splits))
    counts = dataset.class_counts("train")
    shown = " · ".join(f"{_escape(name)}: {count:,}" for name, count in list(counts.items())[:12])
    more = f", … ({len(counts)} classes)" if len(counts) > 12 else ""
    parts.append(f"Per class (train): {shown}{more}")
    report = dataset.report
    if report.skipped:
        examples = "<br>".join(_escape(e) for e in report.skipped_examples[:5])
        parts.append(f"<span style='color:#b06000'>Skipped {report.skipped:,} file(s) that are not "
                     f"readable images:</span><br><small>{examples}</small>")
    if report.resized:
        parts.append(f"Resized {report.resized:,} image(s) to "
                     f"{dataset.input_shape[0]}×{dataset.input_shape[1]}.")
    parts += [_escape(note) for note in report.notes]
    return "<br>".join(parts)
