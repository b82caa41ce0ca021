"""The Feature extraction view: a base, some data and a few layers in; one 2-D map per layer
out, side by side, so students see the classes separate deeper in the network.

Opening the base, computing the features (batch-wise, cached by core FeatureCache) and t-SNE
all run in the background (NewestRequest: a newer request drops an older one; Cancel drops
the running one). Hovering a point shows its image; clicking it shows its nearest neighbours
in that layer's features and offers to explain it. When the base is the model opened in
Inspect, "Explain this image" goes to the workspace (`opened.request_explain`); for any other
base the view emits `explain_requested(base, layer, ExampleRef)` for the window to handle.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.data.bundled_samples import SAMPLE_NAMES
from cnnviz.core.errors import CnnvizError
from cnnviz.core.transfer.bases import APPLICATIONS
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import mark_side_panel, scaled, set_relative_font, watch_zoom
from cnnviz.ui.transfer import feature_jobs as jobs
from cnnviz.ui.transfer.feature_neighbours import NEIGHBOURS, NeighbourStrip
from cnnviz.ui.transfer.feature_scatter import FeatureMapPanel, legend_html, make_legend
from cnnviz.workspace import ExampleRef, Workspace

SAMPLE_MODELS_DIR = Path(__file__).resolve().parents[3] / "sample_models"
BASE_KINDS = (
    (jobs.OPENED, "The model opened in Inspect"),
    (jobs.TRAINED, "The model last trained"),
    (jobs.SAMPLE, "A sample model"),
    (jobs.FILE, "A model file…"),
    (jobs.APPLICATION, "A pre-built network (Keras)"),
)
WORKSPACE_DATA = "workspace data"
SPLITS = (("", "the part evaluate measures"), ("test", "test"), ("validation", "validation"),
          ("train", "training"), ("all", "all (a source without parts)"))
MODEL_FILE_FILTER = "Models (*.keras *.h5 *.hdf5 *.json);;All files (*)"
NPZ_FILTER = "NumPy archive (*.npz)"
PNG_FILTER = "PNG image (*.png)"
SIDE_WIDTH = 295
SIDE_SHARE = 0.36   # of the view's width at most, when zoomed
MAX_COLUMNS = 3
DEFAULT_SAMPLE_MODEL = "mnist_cnn_small.keras"


def sample_model_files() -> list[Path]:
    """The trained sample models shipped with cnnviz."""
    return sorted(SAMPLE_MODELS_DIR.glob("*.keras")) if SAMPLE_MODELS_DIR.is_dir() else []


def _file_part(layer: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in layer) or "layer"


def _paths_for(path: Path, layers: list[str]) -> list[Path]:
    """One file per layer: the path itself for one layer, else `stem-LAYER.suffix`."""
    if len(layers) == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{_file_part(layer)}{path.suffix}") for layer in layers]


class FeaturesView(QWidget):
    """Feature extraction: choose a base, data and layers; see a map per layer."""

    # The base (feature_jobs.OpenedBase), the layer, the example (workspace.ExampleRef):
    # "Explain this image" for a base other than the model opened in Inspect.
    explain_requested = Signal(object, str, object)
    maps_shown = Signal()          # after the maps of a computation (or t-SNE) are drawn
    base_ready = Signal()          # after a base opened and its layers are listed
    failed = Signal(str)           # a message shown to the user

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.base: jobs.OpenedBase | None = None
        self.result: jobs.MapResult | None = None
        self.pca_maps: list[Any] = []
        self.tsne_maps: list[Any] | None = None
        self.method = "pca"
        self.panels: list[FeatureMapPanel] = []
        # How Download fetches weights (core bases.Fetch); None: Keras's own download.
        self.weights_fetch: Any = None
        self._base_request = NewestRequest(self)
        self._compute_request = NewestRequest(self, one_at_a_time=True)
        self._build()
        self._compute_request.busy_changed.connect(self._busy_changed)
        self._base_request.busy_changed.connect(self._busy_changed)
        workspace.opened.changed.connect(self._opened_model_changed)
        workspace.run.finished.connect(self._trained_model_changed)
        workspace.data.changed.connect(self._workspace_data_changed)
        self._workspace_data_changed(workspace.data.loaded)
        self._choose_default_base()

    def _choose_default_base(self) -> None:
        """The opened model, else the last trained one, else the small MNIST sample model."""
        if self.workspace.opened.opened is not None:
            self.set_base(jobs.OPENED)
        elif self.workspace.run.model is not None:
            self.set_base(jobs.TRAINED)
        else:
            self.set_base(jobs.SAMPLE, str(SAMPLE_MODELS_DIR / DEFAULT_SAMPLE_MODEL))

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self._base_box())
        side_layout.addWidget(self._data_box())
        side_layout.addWidget(self._layers_box(), 1)
        side_layout.addWidget(self._run_box())
        side_layout.addWidget(self._export_box())
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        mark_side_panel(self.side_scroll)
        outer.addWidget(self.side_scroll)
        # At a high zoom on a small screen the maps scroll rather than shrink to nothing.
        self.maps_scroll = QScrollArea()
        self.maps_scroll.setWidget(self._maps_side())
        self.maps_scroll.setWidgetResizable(True)
        self.maps_scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.maps_scroll, 1)
        self._fit_side()
        watch_zoom(self._zoom_changed)

    def _base_box(self) -> QGroupBox:
        box = QGroupBox("Base network")
        layout = QVBoxLayout(box)
        self.kind_combo = QComboBox()
        for kind, text in BASE_KINDS:
            self.kind_combo.addItem(text, kind)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        layout.addWidget(self.kind_combo)
        self.sample_combo = QComboBox()
        for path in sample_model_files():
            self.sample_combo.addItem(path.name, str(path))
        self.sample_combo.currentIndexChanged.connect(self._open_base)
        layout.addWidget(self.sample_combo)
        file_row = QHBoxLayout()
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("a .keras, .h5 or .json model")
        self.file_edit.editingFinished.connect(self._open_base)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse_model)
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        self.file_row = QWidget()
        self.file_row.setLayout(file_row)
        file_row.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.file_row)
        self.application_combo = QComboBox()
        for name, app in APPLICATIONS.items():
            self.application_combo.addItem(app.title, name)
        self.application_combo.currentIndexChanged.connect(self._application_changed)
        layout.addWidget(self.application_combo)
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.weights_label)
        weights_row = QHBoxLayout()
        self.random_check = QCheckBox("use random weights")
        self.random_check.toggled.connect(self._open_base)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self._download)
        weights_row.addWidget(self.random_check, 1)
        weights_row.addWidget(self.download_button)
        self.weights_row = QWidget()
        self.weights_row.setLayout(weights_row)
        weights_row.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.weights_row)
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        layout.addWidget(self.base_label)
        return box

    def _data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        form = QFormLayout(box)
        self.source_combo = QComboBox()
        for name in SAMPLE_NAMES:
            self.source_combo.addItem(name, name)
        self.source_combo.currentIndexChanged.connect(self._inputs_changed)
        form.addRow("Source", self.source_combo)
        self.split_combo = QComboBox()
        for split, text in SPLITS:
            self.split_combo.addItem(text, split)
        self.split_combo.currentIndexChanged.connect(self._inputs_changed)
        form.addRow("Split", self.split_combo)
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSingleStep(500)
        self.limit_spin.setGroupSeparatorShown(True)
        self.limit_spin.setSpecialValueText("all images")
        self.limit_spin.setValue(jobs.DEFAULT_LIMIT)
        self.limit_spin.setToolTip("At most this many images, picked at random but the same "
                                   "every time. More take longer, and t-SNE much longer.")
        form.addRow("At most", self.limit_spin)
        self.adapt_check = QCheckBox("Fit the images to the model")
        self.adapt_check.setChecked(True)
        self.adapt_check.setToolTip("Resize the images and convert grey ↔ colour when they "
                                    "are not what the model takes.")
        form.addRow(self.adapt_check)
        return box

    def _layers_box(self) -> QGroupBox:
        box = QGroupBox("Layers (one map each)")
        layout = QVBoxLayout(box)
        self.layer_list = QListWidget()
        self.layer_list.setMinimumHeight(scaled(120))
        layout.addWidget(self.layer_list)
        return box

    def _run_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.compute_button = QPushButton("Compute maps")
        set_relative_font(self.compute_button, 1.0, bold=True)
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.compute_button, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #a40000;")
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        layout.addWidget(self.message_label)
        return box

    def _export_box(self) -> QGroupBox:
        box = QGroupBox("Save (.npz, .csv, .png)")
        layout = QGridLayout(box)
        self.save_features_button = QPushButton("Features…")
        self.save_features_button.setToolTip("Each layer's features as a NumPy .npz file, with "
                                             "the labels and image numbers.")
        self.save_features_button.clicked.connect(self._ask_export_features)
        self.save_coordinates_button = QPushButton("Coordinates…")
        self.save_coordinates_button.setToolTip("Each image's place on the map shown (PCA or "
                                                "t-SNE) as CSV: index, label, x, y.")
        self.save_coordinates_button.clicked.connect(self._ask_export_coordinates)
        self.save_png_button = QPushButton("Map…")
        self.save_png_button.setToolTip("The maps and their legend as a PNG picture.")
        self.save_png_button.clicked.connect(self._ask_save_png)
        layout.addWidget(self.save_features_button, 0, 0)
        layout.addWidget(self.save_coordinates_button, 0, 1)
        layout.addWidget(self.save_png_button, 0, 2)
        for button in self._export_buttons():
            button.setEnabled(False)
        return box

    def _export_buttons(self) -> list[QPushButton]:
        return [self.save_features_button, self.save_coordinates_button, self.save_png_button]

    def _maps_side(self) -> QWidget:
        area = QWidget()
        layout = QVBoxLayout(area)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.headline = QLabel("Pick a base, data and layers, then Compute maps. Each image "
                               "becomes a point; images the layer sees alike land close.")
        self.headline.setWordWrap(True)
        set_relative_font(self.headline, 1.1, bold=True)
        top.addWidget(self.headline, 1)
        self.pca_button = QPushButton("PCA")
        self.pca_button.setCheckable(True)
        self.pca_button.setChecked(True)
        self.pca_button.setToolTip("The two directions along which the features vary most: "
                                   "at once, distances are faithful but clusters overlap.")
        self.pca_button.clicked.connect(lambda: self.show_method("pca"))
        self.tsne_button = QPushButton("t-SNE")
        self.tsne_button.setCheckable(True)
        self.tsne_button.setToolTip("Keeps each image's neighbours near it: clusters show "
                                    "better, but gaps and sizes mean little. Takes a while.")
        self.tsne_button.clicked.connect(lambda: self.show_method("tsne"))
        for button in (self.pca_button, self.tsne_button):
            button.setEnabled(False)
            top.addWidget(button)
        layout.addLayout(top)
        self.maps_frame = QWidget()
        frame_layout = QVBoxLayout(self.maps_frame)
        frame_layout.setContentsMargins(0, 0, 0, 0)
        self.legend = make_legend()
        frame_layout.addWidget(self.legend)
        self.maps_grid_holder = QWidget()
        self.maps_grid = QGridLayout(self.maps_grid_holder)
        self.maps_grid.setContentsMargins(0, 0, 0, 0)
        frame_layout.addWidget(self.maps_grid_holder, 1)
        layout.addWidget(self.maps_frame, 1)
        self.neighbour_strip = NeighbourStrip()
        self.neighbour_strip.explain_clicked.connect(self.explain_selected)
        self.neighbour_strip.hide()
        layout.addWidget(self.neighbour_strip)
        return area

    def _fit_side(self) -> None:
        # Zoomed, but never more than a share of the view, so the maps keep their room.
        self.side_scroll.setFixedWidth(min(scaled(SIDE_WIDTH),
                                           max(SIDE_WIDTH, int(self.width() * SIDE_SHARE))))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_side()

    def _zoom_changed(self) -> None:
        self._fit_side()

    # ------------------------------------------------------------------ the base

    @property
    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    def choice(self) -> jobs.BaseChoice:
        """The base as chosen in the controls."""
        kind = self.kind
        if kind == jobs.SAMPLE:
            return jobs.BaseChoice(kind, str(self.sample_combo.currentData() or ""))
        if kind == jobs.FILE:
            return jobs.BaseChoice(kind, self.file_edit.text().strip())
        if kind == jobs.APPLICATION:
            return jobs.BaseChoice(kind, str(self.application_combo.currentData()),
                                   "random" if self.random_check.isChecked() else "imagenet")
        return jobs.BaseChoice(kind)

    def set_base(self, kind: str, name: str = "", weights: str = "imagenet") -> None:
        """Choose a base as the user would (tests and the window use it)."""
        for combo, value in ((self.sample_combo, name), (self.application_combo, name)):
            if kind in (jobs.SAMPLE, jobs.APPLICATION) and combo.findData(value) >= 0:
                combo.blockSignals(True)
                combo.setCurrentIndex(combo.findData(value))
                combo.blockSignals(False)
        if kind == jobs.FILE:
            self.file_edit.setText(name)
        self.random_check.blockSignals(True)
        self.random_check.setChecked(weights == "random")
        self.random_check.blockSignals(False)
        self.kind_combo.blockSignals(True)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        self.kind_combo.blockSignals(False)
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.kind
        self.sample_combo.setVisible(kind == jobs.SAMPLE)
        self.file_row.setVisible(kind == jobs.FILE)
        application = kind == jobs.APPLICATION
        self.application_combo.setVisible(application)
        self.weights_label.setVisible(application)
        self.weights_row.setVisible(application)
        if application:
            self._show_weights_status()
        self._open_base()

    def _application_changed(self) -> None:
        self._show_weights_status()
        self._open_base()

    def _show_weights_status(self) -> None:
        cached, text = jobs.weights_status(str(self.application_combo.currentData()))
        # Paths and addresses have no spaces: let them wrap after / and _ too.
        self.weights_label.setText(text.replace("/", "/\u200b").replace("_", "_\u200b"))
        self.weights_label.setToolTip(text)
        self.download_button.setVisible(not cached)
        if not cached and not self.random_check.isChecked():
            self.random_check.blockSignals(True)
            self.random_check.setChecked(True)   # explore the architecture meanwhile
            self.random_check.blockSignals(False)

    def _browse_model(self) -> None:
        path = dialogs.get_open_path(self, "Open a model for feature extraction",
                                     str(SAMPLE_MODELS_DIR), MODEL_FILE_FILTER)
        if path:
            self.file_edit.setText(path)
            self._open_base()

    def _open_base(self) -> None:
        choice = self.choice()
        self._forget_results()
        self.base = None
        self.layer_list.clear()
        self._show_message("")
        if choice.kind == jobs.FILE and not choice.name:
            self.base_label.setText("Choose a model file.")
            return
        self.base_label.setText("Opening…")
        workspace = self.workspace
        self._base_request.submit(
            lambda report: jobs.open_choice(choice, workspace, report),
            self._base_opened, self._base_failed, self._progressed)

    def _base_opened(self, base: jobs.OpenedBase) -> None:
        self.base = base
        self.base_label.setText(f"Base: {base.note}.")
        defaults = set(jobs.default_layers(base))
        self.layer_list.clear()
        for name in base.layer_names():
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in defaults
                               else Qt.CheckState.Unchecked)
            self.layer_list.addItem(item)
        self.base_ready.emit()

    def _base_failed(self, message: str, _details: str) -> None:
        self.base = None
        self.base_label.setText("No base.")
        self._show_message(message)

    def _opened_model_changed(self, *_args: Any) -> None:
        if self.kind == jobs.OPENED:
            self._open_base()

    def _trained_model_changed(self, *_args: Any) -> None:
        if self.kind == jobs.TRAINED:
            self._open_base()

    def _download(self) -> None:
        name = str(self.application_combo.currentData())
        self._show_message("")
        fetch = self.weights_fetch
        self._compute_request.submit(lambda report: jobs.download_weights(name, report, fetch),
                                     self._downloaded, self._failed, self._progressed)

    def _downloaded(self, status: str) -> None:
        self.weights_label.setText(status)
        self.random_check.setChecked(False)   # opens the base with its ImageNet weights
        self._show_weights_status()

    # ------------------------------------------------------------------ data and layers

    def _workspace_data_changed(self, loaded: Any) -> None:
        index = self.source_combo.findData(WORKSPACE_DATA)
        if loaded is None:
            if index >= 0:
                self.source_combo.removeItem(index)
            return
        text = f"The Train view's data ({loaded.dataset.name})"
        if index >= 0:
            self.source_combo.setItemText(index, text)
        else:
            self.source_combo.insertItem(0, text, WORKSPACE_DATA)
            self.source_combo.setCurrentIndex(0)

    def set_source(self, source: str) -> None:
        """Choose a data source: a bundled sample's name or WORKSPACE_DATA."""
        index = self.source_combo.findData(source)
        if index < 0:
            self.source_combo.addItem(source, source)
            index = self.source_combo.count() - 1
        self.source_combo.setCurrentIndex(index)

    def _inputs_changed(self) -> None:
        self._forget_results()

    def checked_layers(self) -> list[str]:
        return [self.layer_list.item(i).text() for i in range(self.layer_list.count())
                if self.layer_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked_layers(self, names: list[str]) -> None:
        for i in range(self.layer_list.count()):
            item = self.layer_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names
                               else Qt.CheckState.Unchecked)

    # ------------------------------------------------------------------ computing

    def compute(self) -> None:
        """Compute the checked layers' maps in the background."""
        self._show_message("")
        base = self.base
        if base is None:
            self._show_message("The base is still opening; try again in a moment."
                               if self._base_request.busy else
                               "Choose a base that opens first.")
            return
        layers = self.checked_layers()
        if not layers:
            self._show_message("Tick at least one layer.")
            return
        source = str(self.source_combo.currentData())
        dataset = self.workspace.data.dataset if source == WORKSPACE_DATA else None
        source_name = (getattr(self.workspace.data.loaded, "source", "") or "train view data") \
            if source == WORKSPACE_DATA else source
        if source == WORKSPACE_DATA and dataset is None:
            self._show_message("The Train view has no data loaded.")
            return
        split = str(self.split_combo.currentData()) or None
        limit = self.limit_spin.value() or None
        adapt = self.adapt_check.isChecked()

        def work(report: jobs.Report) -> jobs.MapResult:
            data = dataset if dataset is not None else jobs.load_sample(source, base, report)
            return jobs.compute_maps(base, data, source_name, split, layers, limit, adapt,
                                     True, report)

        self.status_label.setText("Computing…")
        self._compute_request.submit(work, self._maps_computed, self._failed, self._progressed)

    def cancel(self) -> None:
        self._compute_request.supersede()
        self._base_request.supersede()
        self.status_label.setText("Cancelled.")
        if self.base is None:
            self.base_label.setText("No base (opening it was cancelled).")
        self.progress.hide()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        self.progress.show()
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            unit = "bytes" if stage.startswith("Downloading") else ""
            self.progress.setFormat(f"{stage}: %v / %m {unit}".rstrip())
        else:
            self.progress.setRange(0, 0)
        self.status_label.setText(stage + "…")

    def _busy_changed(self, _busy: bool) -> None:
        busy = self._compute_request.busy or self._base_request.busy
        self.cancel_button.setEnabled(busy)
        self.compute_button.setEnabled(not self._compute_request.busy)
        if not busy:
            self.progress.hide()

    def _failed(self, message: str, _details: str) -> None:
        self.status_label.setText("")
        self._show_message(message)

    def _show_message(self, message: str) -> None:
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))
        if message:
            self.failed.emit(message)

    def _forget_results(self) -> None:
        self._compute_request.supersede()
        self.result, self.pca_maps, self.tsne_maps = None, [], None
        self._clear_panels()
        self.neighbour_strip.clear()
        self.neighbour_strip.hide()
        self.legend.clear()
        for button in self._export_buttons() + [self.pca_button, self.tsne_button]:
            button.setEnabled(False)

    def _maps_computed(self, result: jobs.MapResult) -> None:
        self.result = result
        self.pca_maps = [layer_map.map for layer_map in result.maps]
        self.tsne_maps = None
        self.method = "pca"
        self._show_panels()
        first = result.maps[0].features
        cached = " (from the cache)" if all(m.features.from_cache for m in result.maps) else ""
        self.status_label.setText(f"{first.count:,} images, {len(result.maps)} "
                                  f"layer{'s' if len(result.maps) != 1 else ''}{cached}.")
        for button in self._export_buttons() + [self.pca_button, self.tsne_button]:
            button.setEnabled(True)
        self._check_method_buttons()
        self.maps_shown.emit()

    def _clear_panels(self) -> None:
        for panel in self.panels:
            self.maps_grid.removeWidget(panel)
            panel.deleteLater()
        self.panels = []

    def _show_panels(self) -> None:
        result = self.result
        assert result is not None
        self._clear_panels()
        count = len(result.maps)
        columns = count if count <= MAX_COLUMNS else math.ceil(count / math.ceil(count / 3))
        for number, layer_map in enumerate(result.maps):
            panel = FeatureMapPanel()
            panel.set_map(layer_map, result.class_names, result.thumbnails)
            panel.picked.connect(self.select_example)
            self.maps_grid.addWidget(panel, number // columns, number % columns)
            self.panels.append(panel)
        labels = result.maps[0].features.labels
        counts = np.bincount(labels, minlength=len(result.class_names))
        self.legend.setText(legend_html(result.class_names, counts))
        dataset = result.dataset
        base_name = self.base.name if self.base is not None else ""
        notes = f" ({'; '.join(result.notes)})" if result.notes else ""
        self.headline.setText(f"{base_name} on {dataset.name}, {result.split} split, "
                              f"{result.maps[0].features.count:,} {dataset.noun}{notes}")
        self.headline.setToolTip("Each image is a point; images the layer sees alike land "
                                 "close. Nearest-neighbour accuracy: how often an image's "
                                 "closest other image in the layer's features is of its "
                                 "class. It grows deeper in a trained network.")
        self.neighbour_strip.clear()
        self.neighbour_strip.show()

    # ------------------------------------------------------------------ PCA / t-SNE

    def show_method(self, method: str) -> None:
        """Show the PCA maps, or the t-SNE maps (computed in the background on first use)."""
        if self.result is None:
            return
        if method == "tsne" and self.tsne_maps is None:
            maps = self.result.maps
            self._compute_request.submit(lambda report: jobs.tsne_maps(maps, report),
                                         self._tsne_computed, self._failed, self._progressed)
            self._check_method_buttons()
            return
        self.method = method
        chosen = self.pca_maps if method == "pca" else self.tsne_maps
        assert chosen is not None
        for panel, feature_map in zip(self.panels, chosen):
            panel.set_projection(feature_map)
        self._check_method_buttons()

    def _tsne_computed(self, maps: list[Any]) -> None:
        self.tsne_maps = maps
        self.status_label.setText("t-SNE done.")
        self.show_method("tsne")
        self.maps_shown.emit()

    def _check_method_buttons(self) -> None:
        self.pca_button.setChecked(self.method == "pca")
        self.tsne_button.setChecked(self.method == "tsne")

    # ------------------------------------------------------------------ picking

    def layer_map_of(self, layer: str) -> Any:
        assert self.result is not None
        return next(m for m in self.result.maps if m.features.layer == layer)

    def select_example(self, example: int, layer: str) -> None:
        """Pick image `example` (its number in the split) in `layer`'s map: ring it in every
        map, and show its nearest neighbours in that layer's features."""
        from cnnviz.core.transfer.feature_maps import nearest_neighbours

        if self.result is None:
            return
        features = self.layer_map_of(layer).features
        neighbours, distances = nearest_neighbours(features, example, NEIGHBOURS)
        for panel in self.panels:
            panel.set_selection(example, list(neighbours) if panel.layer == layer else [])
        rows = {int(index): row for row, index in enumerate(features.indices)}
        names = self.result.class_names
        thumbnails = self.result.thumbnails

        def label_of(index: int) -> tuple[int, str]:
            number = int(features.labels[rows[int(index)]])
            return number, names[number] if number < len(names) else str(number)

        def thumbnail_of(index: int) -> Any:
            return None if thumbnails is None else thumbnails[rows[int(index)]]

        self.neighbour_strip.show_neighbours(example, layer, neighbours, distances, label_of,
                                             thumbnail_of, can_explain=True)

    def explain_selected(self) -> None:
        """Ask the app to explain the picked image at its layer."""
        strip = self.neighbour_strip
        if self.result is None or self.base is None or strip.example is None:
            return
        example = ExampleRef(self.result.dataset, self.result.split, strip.example)
        if self.base.choice.kind == jobs.OPENED:
            self.workspace.opened.request_explain(strip.layer, example)
        else:
            self.explain_requested.emit(self.base, strip.layer, example)

    # ------------------------------------------------------------------ saving

    def export_features(self, path: str | Path) -> list[Path]:
        """Each layer's features to .npz (one file per layer: `stem-LAYER.npz` for several)."""
        from cnnviz.core.transfer.features import save_features_npz

        assert self.result is not None
        maps = self.result.maps
        paths = _paths_for(Path(path), [m.features.layer for m in maps])
        for target, layer_map in zip(paths, maps):
            save_features_npz(target, layer_map.features)
        return paths

    def export_coordinates(self, path: str | Path) -> list[Path]:
        """Each layer's map coordinates as shown (PCA or t-SNE) to CSV, one file per layer."""
        from cnnviz.core.transfer.features import save_coordinates_csv

        assert self.result is not None
        paths = _paths_for(Path(path), [m.features.layer for m in self.result.maps])
        for target, panel in zip(paths, self.panels):
            save_coordinates_csv(target, panel.layer_map.features, panel.coordinates)
        return paths

    def save_map_png(self, path: str | Path) -> Path:
        """The legend and the maps as they are on screen, as a PNG."""
        from cnnviz.core.atomic_save import save_file_atomically

        image = self.maps_frame.grab()

        def write(temporary: Path) -> None:
            if not image.save(str(temporary), "PNG"):
                raise OSError(f"could not write {path}")

        save_file_atomically(path, write)
        return Path(path)

    def _ask_export_features(self) -> None:
        self._ask_and_save("Save the features", "features.npz", NPZ_FILTER,
                           self.export_features)

    def _ask_export_coordinates(self) -> None:
        self._ask_and_save("Save the map coordinates", "coordinates.csv", dialogs.CSV_FILTER,
                           self.export_coordinates)

    def _ask_save_png(self) -> None:
        self._ask_and_save("Save the map", "map.png", PNG_FILTER, self.save_map_png)

    def _ask_and_save(self, title: str, suggested: str, file_filter: str, save: Any) -> None:
        if self.result is None:
            return
        path = dialogs.get_save_path(self, title, suggested, file_filter)
        if not path:
            return
        try:
            written = save(path)
        except (OSError, CnnvizError) as exc:  # a message, never a traceback
            self._show_message(f"Could not save {path}: {exc}")
            return
        files = written if isinstance(written, list) else [written]
        self.status_label.setText("Saved " + ", ".join(Path(p).name for p in files) + ".")

    # ------------------------------------------------------------------ closing

    def shutdown(self) -> None:
        """Cancel background work and wait for it (the window is closing)."""
        self._base_request.shutdown()
        self._compute_request.shutdown()
