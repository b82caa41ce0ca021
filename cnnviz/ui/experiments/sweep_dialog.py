"""The Sweep dialog of the Experiments view: a hyperparameter search on Optuna, set up,
watched and stopped from the app (the same core as `cnnviz sweep`).

Left, the setup: the models (the builder's, presets, spec files; several make the model a
dimension), the data, epochs and the fixed settings, the dimensions as "NAME = V1, V2"
rows checked as they are typed, training-set sizes, grid / random K / Bayes K, pruning,
the study's name and (under Advanced) its storage. Right, the sweep as it runs: a table of
trials filling in, the current trial's progress, the best trial named and highlighted,
validation accuracy against each dimension and Optuna's importances.

The sweep runs in a `SweepWorker` thread. Stop ends the current trial within a batch (it is
marked failed and planned again); "Continue a sweep" lists the sweeps of the storage and
carries on with a stopped one from the plan it keeps. Each trial is recorded as a run
tagged with the sweep; `trial_recorded` tells the Experiments view to read the store again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
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
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.sweep import IMPORTANCE_MIN_TRIALS, plan_sweep
from cnnviz.core.experiments.sweep_storage import SweepError, storage_label
from cnnviz.core.model.presets import PRESETS
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.ui.experiments.sweep_charts import (
    DimensionCharts,
    ImportanceChart,
    value_text,
)
from cnnviz.ui.experiments.sweep_dimensions import ERROR_STYLE, DimensionEditor, plain
from cnnviz.ui.experiments.sweep_worker import SweepSnapshot, SweepWorker
from cnnviz.workspace import Workspace

SPEC_ROLE = Qt.ItemDataRole.UserRole          # a model item's ModelSpec
LABEL_ROLE = Qt.ItemDataRole.UserRole + 1     # its label in the `model` dimension
PATH_CHOICE = "<path>"
# (label, source name for core.datasets.load_dataset): the offline ones; others by path.
DATA_SOURCES = (("MNIST sample (bundled, offline)", "mnist-sample"),
                ("CIFAR-10 sample (bundled, offline)", "cifar10-sample"),
                ("Example image folder (bundled)", "folder-sample"),
                ("GunPoint time series (bundled, offline)", "gunpoint-sample"),
                ("A dataset file or folder…", PATH_CHOICE))
SEARCHES = (("Grid: every combination", "grid"), ("Random: K combinations", "random"),
            ("Bayes (Optuna's TPE): K trials", "bayes"))
BEST_BACKGROUND = QColor("#d9f2d9")
STATE_WORDS = {"complete": "done", "failed": "failed", "pruned": "pruned",
               "running": "running", "waiting": "waiting"}


def default_study_name() -> str:
    return time.strftime("sweep %Y-%m-%d %H:%M:%S")


def parse_sizes(text: str) -> list[int]:
    """"300, 600" -> [300, 600]. Raises SweepError in words."""
    sizes = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            size = int(part.strip().replace("_", ""))
        except ValueError:
            raise SweepError(f"Training-set sizes: '{part.strip()}' is not a whole number; "
                             "write them like 300, 600, 1800.") from None
        if size < 1:
            raise SweepError("Training-set sizes must be at least 1.")
        sizes.append(size)
    return sizes


class SweepDialog(QDialog):
    """Set up, run, stop and continue a sweep."""

    trial_recorded = Signal()      # a trial ended: its run is in the store
    sweep_ended = Signal(bool)     # the sweep ran out of trials (False) or was stopped (True)
    studies_listed = Signal()      # "Continue a sweep" lists the storage's sweeps again

    def __init__(self, workspace: Workspace, store_path: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep: search hyperparameters")
        self.workspace = workspace
        self.store_path = store_path
        self.worker: SweepWorker | None = None
        self.plan: Any = None
        self.snapshot: SweepSnapshot | None = None
        self.problem: str | None = None       # why the last sweep stopped with an error
        self._planned_problem: str | None = None
        self._ended_by_user = False
        self._studies = NewestRequest(self)     # reading the list of sweeps
        self._plan_reading = NewestRequest(self)  # reading a stopped sweep's plan

        self._make_setup()
        self._make_results()
        setup_area = QScrollArea()
        setup_area.setWidget(self.setup)
        setup_area.setWidgetResizable(True)
        setup_area.setFrameShape(QFrame.Shape.NoFrame)
        setup_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setup_area = setup_area
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(setup_area)
        self.splitter.addWidget(self.results)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        self.start_button = QPushButton("Start sweep")
        self.start_button.setDefault(True)
        self.start_button.setToolTip("Plan the trials and train them one after another")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop within a batch; the trial being trained is trained "
                                    "again when you continue the sweep")
        self.close_button = QPushButton("Close")
        self.plan_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        buttons = QHBoxLayout()
        buttons.addWidget(self.plan_label, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(buttons)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.close)
        watch_zoom(self._fit)
        self._fit()
        self._models_changed()
        self.refresh_studies()
        self._update_buttons()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        width = max(1, self.splitter.width())
        setup = max(self.setup_area.minimumWidth(), int(width * 0.38))
        self.splitter.setSizes([setup, width - setup])

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.isVisible():
            width = max(1, self.splitter.width())
            setup = max(self.setup_area.minimumWidth(), int(width * 0.38))
            self.splitter.setSizes([setup, width - setup])

    # ------------------------------------------------------------------ setup

    def _make_setup(self) -> None:
        self.setup = QWidget()
        # Continue a stopped sweep
        self.continue_box = QGroupBox("Continue a sweep")
        self.study_combo = QComboBox()
        self.study_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.study_combo.setMinimumContentsLength(16)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Train the trials the chosen sweep still has waiting")
        self.studies_button = QPushButton("Refresh")
        self.studies_button.setToolTip("Read the list of sweeps again")
        row = QHBoxLayout(self.continue_box)
        row.addWidget(self.study_combo, 1)
        row.addWidget(self.studies_button)
        row.addWidget(self.continue_button)

        # Models
        self.models_box = QGroupBox("Models (several: the model is a dimension)")
        self.model_list = QListWidget()
        self.model_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.model_list.setWordWrap(True)
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        builder = self.workspace.document.spec
        self._add_model(f"The builder's model ({builder.name or 'model'}, "
                        f"{len(builder.layers)} layers)", builder, "builder", checked=True)
        for key, preset in PRESETS.items():
            self._add_model(preset.title, None, key, checked=False)
        self.add_spec_button = QPushButton("Add spec file…")
        self.add_spec_button.setToolTip("A model spec (.json) saved from the builder")
        models = QVBoxLayout(self.models_box)
        models.addWidget(self.model_list)
        models.addWidget(self.add_spec_button, 0, Qt.AlignmentFlag.AlignLeft)

        # Data and fixed settings
        self.data_box = QGroupBox("Data and training")
        self.data_combo = QComboBox()
        for label, source in DATA_SOURCES:
            self.data_combo.addItem(label, source)
        self.data_path = QLineEdit()
        self.data_path.setPlaceholderText("a dataset file or folder")
        self.browse_file = QPushButton("File…")
        self.browse_folder = QPushButton("Folder…")
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.data_path, 1)
        path_row.addWidget(self.browse_file)
        path_row.addWidget(self.browse_folder)
        self.path_row = QWidget()
        self.path_row.setLayout(path_row)
        self.limit_box = QSpinBox()
        self.limit_box.setRange(0, 10_000_000)
        self.limit_box.setSpecialValueText("all")
        self.limit_box.setToolTip("Load at most this many training examples (all: 0)")
        self.val_split_box = QDoubleSpinBox()
        self.val_split_box.setRange(0.0, 0.9)
        self.val_split_box.setSingleStep(0.05)
        self.val_split_box.setValue(0.1)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.epochs_box.setValue(3)
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 65536)
        self.batch_box.setValue(64)
        self.lr_box = QDoubleSpinBox()
        self.lr_box.setDecimals(5)
        self.lr_box.setRange(0.00001, 10.0)
        self.lr_box.setSingleStep(0.0005)
        self.lr_box.setValue(0.001)
        form = QFormLayout(self.data_box)
        form.addRow("Data", self.data_combo)
        form.addRow("", self.path_row)
        form.addRow("Training examples", self.limit_box)
        form.addRow("Validation share", self.val_split_box)
        form.addRow("Epochs per trial", self.epochs_box)
        form.addRow("Batch size", self.batch_box)
        form.addRow("Learning rate", self.lr_box)
        self.data_form = form
        loaded = getattr(self.workspace.data.loaded, "source", None)
        if loaded:
            self.select_data(str(loaded))

        # What varies
        self.vary_box = QGroupBox("What to vary")
        self.dimensions = DimensionEditor()
        self.dimensions.add_row()
        self.sizes_edit = QLineEdit()
        self.sizes_edit.setPlaceholderText("for example 300, 600, 1800 (optional)")
        self.sizes_edit.setToolTip("Seeded subsets of the training data, each inside the next")
        self.sizes_message = QLabel()
        self.sizes_message.setStyleSheet(ERROR_STYLE)
        self.sizes_message.setWordWrap(True)
        self.sizes_message.hide()
        vary = QVBoxLayout(self.vary_box)
        hint = QLabel("NAME = V1, V2, …  NAME: a setting (learning_rate, batch_size, optimizer, "
                      "…) or LAYER.PARAM of a model (conv2d.filters)")
        hint.setWordWrap(True)
        set_relative_font(hint, 0.92)
        vary.addWidget(hint)
        vary.addWidget(self.dimensions)
        vary.addWidget(QLabel("Training-set sizes"))
        vary.addWidget(self.sizes_edit)
        vary.addWidget(self.sizes_message)

        # How to search
        self.search_box = QGroupBox("Search")
        self.search_combo = QComboBox()
        for label, key in SEARCHES:
            self.search_combo.addItem(label, key)
        self.trials_box = QSpinBox()
        self.trials_box.setRange(1, 10_000)
        self.trials_box.setValue(8)
        self.trials_box.setPrefix("K = ")
        self.prune_box = QCheckBox("Prune: stop hopeless trials early")
        self.prune_box.setToolTip("Optuna's median pruner, on validation accuracy per epoch")
        self.name_edit = QLineEdit(default_study_name())
        self.name_edit.setToolTip("The sweep's name; its runs are tagged with it")
        self.storage_edit = QLineEdit()
        self.storage_edit.setPlaceholderText("default: the journal in cnnviz's data folder")
        self.storage_edit.setToolTip("postgresql://…, mysql://…, sqlite:///FILE or "
                                     "FILE.journal: "
                                     "where the study lives (other machines can join it)")
        self.advanced = QCheckBox("Advanced: storage")
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_combo, 1)
        search_row.addWidget(self.trials_box)
        search = QFormLayout(self.search_box)
        search.addRow("Search", search_row)
        search.addRow("", self.prune_box)
        search.addRow("Name", self.name_edit)
        search.addRow(self.advanced)
        search.addRow("Storage", self.storage_edit)
        self.search_form = search

        layout = QVBoxLayout(self.setup)
        layout.setContentsMargins(0, 0, scaled(6), 0)
        for box in (self.continue_box, self.models_box, self.data_box, self.vary_box,
                    self.search_box):
            layout.addWidget(box)
        layout.addStretch(1)

        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)

        self.model_list.itemChanged.connect(lambda _item: self._models_changed())
        self.add_spec_button.clicked.connect(self._add_spec_dialog)
        self.data_combo.currentIndexChanged.connect(lambda _i: self._data_changed())
        self.browse_file.clicked.connect(self._browse_file)
        self.browse_folder.clicked.connect(self._browse_folder)
        self.dimensions.changed.connect(self._update_plan_label)
        self.sizes_edit.textChanged.connect(lambda _t: self._update_plan_label())
        self.search_combo.currentIndexChanged.connect(lambda _i: self._search_changed())
        self.trials_box.valueChanged.connect(lambda _v: self._update_plan_label())
        self.advanced.toggled.connect(lambda _on: self._advanced_changed())
        self.advanced.toggled.connect(lambda _on: self.refresh_studies())
        self.storage_edit.editingFinished.connect(self.refresh_studies)
        self.studies_button.clicked.connect(self.refresh_studies)
        self.continue_button.clicked.connect(lambda: self.continue_sweep())
        self.study_combo.currentIndexChanged.connect(lambda _i: self._update_buttons())
        self._data_changed()
        self._search_changed()
        self._advanced_changed()

    def _add_model(self, text: str, spec: Any, label: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        item.setData(SPEC_ROLE, spec)
        item.setData(LABEL_ROLE, label)
        self.model_list.addItem(item)
        return item

    def add_spec_file(self, path: str | Path) -> None:
        """Add (and tick) a spec file as a model. Shows the problem of a file that is not one."""
        from cnnviz.core.model.spec import load_spec

        try:
            spec = load_spec(path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot add the spec", str(exc))
            return
        labels = {self.model_list.item(i).data(LABEL_ROLE)
                  for i in range(self.model_list.count())}
        label = Path(path).stem
        while label in labels:
            label += "'"
        self._add_model(f"{Path(path).name} ({len(spec.layers)} layers)", spec, label, True)
        self._models_changed()

    def _add_spec_dialog(self) -> None:
        path = dialogs.get_open_path(self, "Add a model spec", str(Path.home()),
                                     dialogs.SPEC_FILTER)
        if path:
            self.add_spec_file(path)

    def set_model_checked(self, label: str, checked: bool) -> None:
        """Tick or untick the model called `label` (builder, a preset's key, a file's stem)."""
        for index in range(self.model_list.count()):
            item = self.model_list.item(index)
            if item.data(LABEL_ROLE) == label:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def chosen_specs(self) -> dict[str, Any]:
        """label -> ModelSpec of the ticked models (presets made fresh)."""
        from cnnviz.core.model.presets import preset_spec

        specs = {}
        for index in range(self.model_list.count()):
            item = self.model_list.item(index)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            spec = item.data(SPEC_ROLE)
            label = item.data(LABEL_ROLE)
            specs[label] = spec.copy() if spec is not None else preset_spec(label)
        return specs

    def _models_changed(self) -> None:
        self.dimensions.set_specs(self.chosen_specs())
        self._update_plan_label()

    def select_data(self, source: str) -> None:
        """Choose a bundled sample by name, or any other source as a path."""
        index = self.data_combo.findData(source)
        if index < 0:
            index = self.data_combo.findData(PATH_CHOICE)
            self.data_path.setText(source)
        self.data_combo.setCurrentIndex(index)

    def data_source(self) -> str:
        choice = self.data_combo.currentData()
        return self.data_path.text().strip() if choice == PATH_CHOICE else str(choice)

    def _data_changed(self) -> None:
        self.path_row.setVisible(self.data_combo.currentData() == PATH_CHOICE)
        self._update_plan_label()

    def _browse_file(self) -> None:
        path = dialogs.get_open_path(self, "Dataset file", str(Path.home()),
                                     "Datasets (*.npz *.gz *.tar.gz *.idx *ubyte *.ts *.tsv "
                                     "*.arff *.csv);;All files (*)")
        if path:
            self.data_path.setText(path)

    def _browse_folder(self) -> None:
        path = dialogs.get_folder_path(self, "Dataset folder", str(Path.home()))
        if path:
            self.data_path.setText(path)

    def _search_changed(self) -> None:
        self.trials_box.setEnabled(self.search_combo.currentData() != "grid")
        self._update_plan_label()

    def _advanced_changed(self) -> None:
        on = self.advanced.isChecked()
        self.storage_edit.setVisible(on)
        self.search_form.labelForField(self.storage_edit).setVisible(on)

    def set_search(self, key: str, trials: int = 0) -> None:
        self.search_combo.setCurrentIndex(self.search_combo.findData(key))
        if trials:
            self.trials_box.setValue(trials)

    def storage_url(self) -> str | None:
        text = self.storage_edit.text().strip()
        return text if self.advanced.isChecked() and text else None

    # ------------------------------------------------------------------ the plan

    def make_plan(self) -> Any:
        """The sweep the form describes. Raises SweepError (or another CnnvizError) in words."""
        from cnnviz.core.data.dataset_types import LoadOptions
        from cnnviz.core.training.engine import TrainConfig

        specs = self.chosen_specs()
        if not specs:
            raise SweepError("Tick at least one model.")
        source = self.data_source()
        if not source:
            raise SweepError("Choose the data: a bundled sample, or a file or folder.")
        problems = self.dimensions.check()
        if problems:
            raise SweepError(problems[0])
        sizes = parse_sizes(self.sizes_edit.text())
        name = self.name_edit.text().strip()
        if not name:
            raise SweepError("Give the sweep a name.")
        sampler = str(self.search_combo.currentData())
        trials = self.trials_box.value() if sampler != "grid" else 0
        options = LoadOptions(validation_split=round(self.val_split_box.value(), 4),
                              limit=self.limit_box.value() or None)
        config = TrainConfig(epochs=self.epochs_box.value(), batch_size=self.batch_box.value(),
                             learning_rate=self.lr_box.value(), seed=1337)
        try:
            return plan_sweep(name, specs, source, options, config, self.dimensions.texts(),
                              sizes, sampler, trials, self.prune_box.isChecked())
        except SweepError as exc:
            raise SweepError(plain(str(exc)).replace("--train-sizes", "Training-set sizes")
                             .replace("give a --param", "add a dimension")
                             .replace("or Training-set sizes", "or training-set sizes")
                             .replace("several specs", "several models")) from None

    def _update_plan_label(self) -> None:
        if not hasattr(self, "plan_label"):
            return
        try:
            sizes_problem = None
            try:
                parse_sizes(self.sizes_edit.text())
            except SweepError as exc:
                sizes_problem = str(exc)
            self.sizes_message.setText(sizes_problem or "")
            self.sizes_message.setVisible(sizes_problem is not None)
            plan = self.make_plan()
        except CnnvizError as exc:
            self._planned_problem = str(exc)
            self.plan_label.setText(str(exc))
            self.plan_label.setStyleSheet(ERROR_STYLE)
        else:
            self._planned_problem = None
            count = len(plan.grid()) if plan.sampler == "grid" else plan.trials
            space = plan.search_space()
            self.plan_label.setText(f"{count} trial{'s' if count != 1 else ''} planned: "
                                    + ", ".join(f"{k} ({len(v)})" for k, v in space.items()))
            self.plan_label.setStyleSheet("color: palette(window-text);")
        self._update_buttons()

    @property
    def plan_problem(self) -> str | None:
        """Why the form's sweep cannot start (shown next to Start), or None."""
        return self._planned_problem

    # ------------------------------------------------------------------ results

    def _make_results(self) -> None:
        self.results = QWidget()
        self.status_label = QLabel("Set up a sweep on the left and press Start, or continue "
                                   "one.")
        self.status_label.setWordWrap(True)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setObjectName("sweepProblem")
        self.problem_label.setStyleSheet("#sweepProblem { background: #fdecea; color: #7a1c14; "
                                         "border: 1px solid #f3b8b0; padding: 6px; }")
        self.problem_label.hide()
        self.trial_bar = QProgressBar()
        self.trial_bar.setFormat("current trial %p%")
        self.sweep_bar = QProgressBar()
        self.sweep_bar.setFormat("%v of %m trials")
        self.best_label = QLabel()
        self.best_label.setWordWrap(True)
        self.best_label.setObjectName("sweepBest")
        self.best_label.setStyleSheet(f"#sweepBest {{ background: {BEST_BACKGROUND.name()}; "
                                      "border: 1px solid #8fc98f; padding: 6px; }")
        self.best_label.hide()
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.dimension_charts = DimensionCharts()
        self.importance_chart = ImportanceChart()
        self.importance_chart.set_data(None, IMPORTANCE_MIN_TRIALS)
        self.charts = QTabWidget()
        self.charts.addTab(self.dimension_charts, "Accuracy by dimension")
        self.charts.addTab(self.importance_chart, "Importances")
        self.bars = QWidget()
        bars = QHBoxLayout(self.bars)
        bars.setContentsMargins(0, 0, 0, 0)
        bars.addWidget(self.sweep_bar, 1)
        bars.addWidget(self.trial_bar, 1)
        self.bars.hide()     # until a sweep runs
        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.table)
        lower.addWidget(self.charts)
        lower.setChildrenCollapsible(False)
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 3)
        layout = QVBoxLayout(self.results)
        layout.setContentsMargins(scaled(6), 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.bars)
        layout.addWidget(self.best_label)
        layout.addWidget(lower, 1)

    def _fit(self) -> None:
        self.model_list.setMinimumHeight(scaled(110))
        self.model_list.setMaximumHeight(scaled(170))
        self.setup.setMinimumWidth(scaled(360))
        self.setup_area.setMinimumWidth(scaled(360) + self.setup_area.verticalScrollBar()
                                        .sizeHint().width() + 2)
        self.table.setMinimumHeight(scaled(110))
        self.table.verticalHeader().setDefaultSectionSize(
            self.fontMetrics().height() + scaled(8))
        set_relative_font(self.best_label, 1.05, bold=True)
        self.setMinimumSize(min(scaled(900), 1000), min(scaled(600), 700))
        for button in (self.start_button, self.stop_button, self.close_button):
            button.setMinimumWidth(button.sizeHint().width())
        # The table's font follows the zoom a moment later: fit the columns after it.
        QTimer.singleShot(0, self.table.resizeColumnsToContents)

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        """A sweep's thread is at work (`worker` stays set until its end is handled)."""
        return self.worker is not None and self.worker.isRunning()

    def start(self) -> bool:
        """Start the sweep the form describes; False (with the problem shown) if it cannot."""
        if self.running:
            return False
        try:
            plan = self.make_plan()
        except CnnvizError as exc:
            self._show_problem(str(exc))
            return False
        self._run(plan, self.storage_url())
        return True

    def continue_sweep(self, name: str | None = None) -> bool:
        """Continue the chosen (or named) sweep of the storage from its stored plan, which is
        read in the background (a database server may be slow to answer)."""
        from cnnviz.core.experiments.sweep import load_plan

        if self.running or self._plan_reading.busy:
            return False
        name = name or self.study_combo.currentData()
        if not name:
            return False
        url = self.storage_url()
        self.continue_button.setEnabled(False)
        self.status_label.setText(f"Reading the plan of '{name}'…")
        self._plan_reading.submit(lambda _report: load_plan(str(name), url),
                                  lambda plan: self._continue_with(plan, url),
                                  lambda message, _details: self._plan_unreadable(message))
        return True

    def _continue_with(self, plan: Any, url: str | None) -> None:
        if not self.running:
            self._run(plan, url)

    def _plan_unreadable(self, message: str) -> None:
        self.continue_button.setEnabled(True)
        self._show_problem(message)

    def _run(self, plan: Any, storage: str | None) -> None:
        self.plan = plan
        self.problem = None
        self._ended_by_user = False
        self.problem_label.hide()
        self.snapshot = None
        self.table.setRowCount(0)
        self.best_label.hide()
        self.trial_bar.setValue(0)
        total = len(plan.grid()) if plan.sampler == "grid" else plan.trials
        self.sweep_bar.setRange(0, max(1, total))
        self.sweep_bar.setValue(0)
        self.bars.show()
        self.trial_bar.show()
        self.status_label.setText(f"Sweep “{plan.name}” in {storage_label(storage)}")
        worker = SweepWorker(plan, storage, self.store_path, parent=self)
        worker.stage.connect(self._stage)
        worker.trial_progress.connect(self._trial_progress)
        worker.trial_ended.connect(self._trial_ended)
        worker.sweep_ended.connect(self._sweep_ended)
        worker.failed.connect(self._failed)
        worker.note.connect(lambda text: self._show_problem(text))
        worker.finished.connect(lambda: self._worker_done(worker))
        self.worker = worker
        worker.start()
        self._update_buttons()

    def stop(self) -> None:
        """Stop within a batch; the trial being trained is planned again."""
        if self.worker is not None:
            self.worker.request_stop()
            self._ended_by_user = True
            self.status_label.setText("Stopping at the end of this batch…")
            self._update_buttons()

    def wait_stopped(self, wait_ms: int = 60_000) -> None:
        """Stop and wait for the worker threads (the dialog or the window is closing)."""
        self._studies.shutdown(wait_ms)
        self._plan_reading.shutdown(wait_ms)
        worker = self.worker
        if worker is not None:
            worker.request_stop()
            worker.wait(wait_ms)

    def _stage(self, text: str) -> None:
        self.status_label.setText(f"{self.plan.name}: {text}")

    def _trial_progress(self, progress: Any) -> None:
        if self.worker is None or self.worker.stopping:
            return
        done = progress.epoch * max(1, progress.batches) + progress.batch + (
            1 if progress.batches else 0)
        total = progress.epochs * max(1, progress.batches)
        self.trial_bar.setRange(0, max(1, total))
        self.trial_bar.setValue(min(done, total) if progress.batches else 0)
        params = ", ".join(f"{k}={value_text(v)}" for k, v in progress.params.items())
        self.status_label.setText(f"Trial {progress.number}: epoch {progress.epoch + 1} of "
                                  f"{progress.epochs}" + (f", batch {progress.batch + 1} of "
                                                          f"{progress.batches}"
                                                          if progress.batches else "")
                                  + f" · {params}")
        self._mark_running(progress.number)

    def _trial_ended(self, result: Any, snapshot: SweepSnapshot) -> None:
        self._show_snapshot(snapshot)
        if result is not None:
            self.trial_recorded.emit()

    def _sweep_ended(self, snapshot: SweepSnapshot, stopped: bool) -> None:
        self._show_snapshot(snapshot)
        left = snapshot.waiting
        if stopped:
            done = snapshot.complete
            self.status_label.setText(f"Stopped: {done} trial{'s' if done != 1 else ''} done, "
                                      f"{left} to go. Continue the sweep (on the left) to "
                                      "train the rest.")
        else:
            done = snapshot.complete
            self.status_label.setText(f"Done: {done} trial{'s' if done != 1 else ''} "
                                      "complete.")
        self.sweep_ended.emit(stopped)

    def _failed(self, message: str, _details: str) -> None:
        self.problem = message
        self._show_problem(message)
        self.status_label.setText("The sweep stopped.")

    def _worker_done(self, worker: SweepWorker) -> None:
        if self.worker is worker:
            self.worker = None
        worker.deleteLater()
        self.trial_bar.setValue(0)
        self.trial_bar.hide()
        if self.snapshot is not None:
            self._show_snapshot(self.snapshot)     # "Best", no longer "Best so far"
        self.refresh_studies()
        self._update_buttons()

    def _show_problem(self, message: str) -> None:
        self.problem_label.setText(message)
        self.problem_label.show()

    # ------------------------------------------------------------------ the table

    def _show_snapshot(self, snapshot: SweepSnapshot) -> None:
        self.snapshot = snapshot
        names = snapshot.dimensions
        headers = ["Trial", "State", "Val. accuracy", *names, "Seconds"]
        rows = [r for r in snapshot.rows if r.state != "waiting"] + \
            [r for r in snapshot.rows if r.state == "waiting"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        best = snapshot.best.number if snapshot.best is not None else None
        bold = QFont(self.table.font())
        bold.setBold(True)
        for index, row in enumerate(rows):
            cells = [str(row.number), STATE_WORDS.get(row.state, row.state),
                     f"{row.val_accuracy:.4f}" if row.val_accuracy is not None else "",
                     *[value_text(row.params[n]) if n in row.params else "" for n in names],
                     f"{row.duration:.1f}" if row.duration is not None else ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (0, 2, len(cells) - 1):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if row.number == best:
                    item.setBackground(QBrush(BEST_BACKGROUND))
                    item.setFont(bold)
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        finished = sum(1 for r in snapshot.rows if r.state in ("complete", "pruned"))
        self.sweep_bar.setRange(0, max(1, finished + snapshot.waiting))
        self.sweep_bar.setValue(finished)
        if snapshot.best is not None:
            params = ", ".join(f"{k} = {value_text(v)}" for k, v in snapshot.best.params.items())
            so_far = " so far" if self.running else ""
            self.best_label.setText(f"Best{so_far}: trial {snapshot.best.number}, validation "
                                    f"accuracy {snapshot.best.val_accuracy:.4f} · {params}")
            self.best_label.show()
        self.dimension_charts.set_data(snapshot.by_dimension)
        needed = IMPORTANCE_MIN_TRIALS if len(names) > 1 else 0
        self.importance_chart.set_data(snapshot.importances, needed)

    def _mark_running(self, number: int) -> None:
        for index in range(self.table.rowCount()):
            item = self.table.item(index, 0)
            if item is not None and item.text() == str(number):
                state = self.table.item(index, 1)
                if state is not None and state.text() == "waiting":
                    state.setText("running")

    def table_rows(self) -> list[list[str]]:
        """The trials table's texts, row by row."""
        return [[self.table.item(r, c).text() if self.table.item(r, c) else ""
                 for c in range(self.table.columnCount())] for r in range(self.table.rowCount())]

    def best_row(self) -> int | None:
        """The table row highlighted as the best trial."""
        for index in range(self.table.rowCount()):
            item = self.table.item(index, 0)
            if item is not None and item.background().color() == BEST_BACKGROUND:
                return index
        return None

    # ------------------------------------------------------------------ continuing

    def refresh_studies(self) -> None:
        """List, in the background, the sweeps of the storage that still have trials
        waiting (`studies_listed` when the list shows them)."""
        from cnnviz.core.experiments.sweep import list_studies

        url = self.storage_url()
        self.studies_button.setEnabled(False)
        self._studies.submit(lambda _report: list_studies(url), self._show_studies,
                             lambda message, _details: self._show_studies([], message))

    def _show_studies(self, studies: list[Any], problem: str | None = None) -> None:
        current = self.study_combo.currentData()
        self.study_combo.clear()
        if problem:
            self.study_combo.addItem(plain(problem), None)
            self.study_combo.setToolTip(plain(problem))
        for study in studies:
            if study.finished or not study.continuable:
                continue
            self.study_combo.addItem(f"{study.name} · {study.complete} done, "
                                     f"{study.waiting} to go", study.name)
        if self.study_combo.count() == 0:
            self.study_combo.addItem("No stopped sweeps", None)
        index = self.study_combo.findData(current)
        if index >= 0:
            self.study_combo.setCurrentIndex(index)
        self.studies_button.setEnabled(True)
        self._update_buttons()
        self.studies_listed.emit()

    def _update_buttons(self) -> None:
        if not hasattr(self, "start_button"):
            return
        running = self.running
        self.start_button.setEnabled(not running and self._planned_problem is None)
        self.stop_button.setEnabled(running and not (self.worker and self.worker.stopping))
        self.continue_button.setEnabled(not running and bool(self.study_combo.currentData()))
        self.setup.setEnabled(not running)

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        if self.running:
            if not dialogs.ask_yes_no(self, "Stop the sweep?",
                                      "A sweep is running. Stop it and close? The trial being "
                                      "trained now is trained again when you continue the "
                                      "sweep."):
                event.ignore()
                return
            self.stop()
            self.wait_stopped()
        # Not QDialog's closeEvent: it calls reject(), which closes (and asks) again.
        event.accept()
        self.hide()

    def reject(self) -> None:
        self.close()    # Esc asks, as closing does
