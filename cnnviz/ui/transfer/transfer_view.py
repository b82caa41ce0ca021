"""The Transfer page: pick a base, cut it, add a head, see what will be trained, hand the
model to the Train view; after training, unfreeze the base's top layers and train more.

The page owns no training: `hand_to_training(model, name)` gives the built model to the
Train view (the window wires it to the Train view's `use_opened_model` and shows that view),
whose live charts, checks, pause/stop and run recording then apply. The Train view's end of
a run reaches this page through the workspace (`workspace.run.finished`).

"Edit in the builder" turns the page's choice (base, weights, size, cut, head, the data's
classes and channels) into a model spec whose base is one PretrainedBase layer, prepared in
the background, and emits it as `edit_in_builder(ModelSpec)`; the window puts it into the
builder's document.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel,
    QPushButton, QScrollArea, QSpinBox, QSplitter, QVBoxLayout, QWidget,
)

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common.pretrained_bases import BaseChoice, prepare_work, transfer_spec
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import mark_side_panel, scaled, set_relative_font, watch_zoom
from cnnviz.ui.transfer.transfer_bases import BaseChooser, error_text
from cnnviz.ui.transfer.transfer_summary import TransferSummary
from cnnviz.workspace import Workspace

HandToTraining = Callable[[Any, str], Any]


class TransferView(QWidget):
    """The Transfer page.

    hand_to_training(model, name): train this Keras model in the Train view.
    fetch: the core's download hook for ImageNet weights (None: Keras's own download).
    set_learning_rate(rate): put the fine-tuning learning rate (a tenth of the one trained
        with) into the Train view's settings, so "train more" uses it; None: leave them.
    `edit_in_builder(ModelSpec)`: the page's model as a spec for the builder.
    """

    edit_in_builder = Signal(object)

    def __init__(self, workspace: Workspace, hand_to_training: HandToTraining,
                 parent: QWidget | None = None, *, fetch: Callable[..., Any] | None = None,
                 set_learning_rate: Callable[[float], Any] | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._hand_to_training = hand_to_training
        self._set_learning_rate = set_learning_rate
        self._build = NewestRequest(self)
        self._build.busy_changed.connect(lambda _busy: self._update_state())
        self._fetch = fetch
        self._edit = NewestRequest(self)
        self._edit.busy_changed.connect(lambda _busy: self._update_state())
        self.base: Any = None
        self.transfer: Any = None          # the built TransferModel for the current settings
        self._built_for: tuple[Any, ...] | None = None
        self.handed = False                # self.transfer went to the Train view
        self.trained = False               # ... and a run of it has ended
        self.unfrozen = 0
        self.fine_tune_rate: float | None = None
        # Fine-tuning changes the base's own layers (a cut model shares them with the base).
        self.base_fine_tuned = False

        self.bases = BaseChooser(workspace, fetch)
        self.bases.opened.connect(self._base_opened)
        self.bases.busy_changed.connect(lambda _busy: self._update_state())

        # 2. cut and head
        self.cut = QComboBox()
        self.cut.setMinimumContentsLength(14)
        self.cut.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.cut.setToolTip("The base layer whose output the new head reads; the base is used "
                            "up to it, frozen")
        self.head_units = QSpinBox()
        self.head_units.setRange(0, 4096)
        self.head_units.setValue(128)
        self.head_units.setToolTip("Units of the head's hidden Dense layer (0: none)")
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(0.0, 0.9)
        self.dropout.setSingleStep(0.1)
        self.dropout.setValue(0.2)
        cut_box = QGroupBox("2. Cut and new head")
        cut_form = QFormLayout(cut_box)
        cut_form.addRow("Cut at layer", self.cut)
        cut_form.addRow("Head: dense units", self.head_units)
        cut_form.addRow("Head: dropout", self.dropout)

        # 3. data
        self.data_text = QLabel()
        self.data_text.setWordWrap(True)
        self.size_problem = QLabel()
        self.size_problem.setWordWrap(True)
        self.resize_box = QCheckBox()
        self.load_data_button = QPushButton("Load data in the Train view")
        self.load_data_button.clicked.connect(lambda: workspace.data.request_source(None))
        data_box = QGroupBox("3. Data")
        data_layout = QVBoxLayout(data_box)
        data_layout.addWidget(self.data_text)
        data_layout.addWidget(self.size_problem)
        data_layout.addWidget(self.resize_box)
        data_layout.addWidget(self.load_data_button)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.bases)
        left_layout.addWidget(cut_box)
        left_layout.addWidget(data_box)
        left_layout.addStretch(1)
        left_scroll = QScrollArea()
        mark_side_panel(left_scroll)
        left_scroll.setWidget(left)
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._left, self._left_scroll = left, left_scroll

        # 4. what will be trained, 5. fine-tuning
        title = QLabel("4. What will be trained")
        set_relative_font(title, 1.0, bold=True)
        self.summary = TransferSummary()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        self.train_button = QPushButton("Train in the Train view")
        self.train_button.setToolTip("Build this model and train it in the Train view, with "
                                     "its live charts")
        set_relative_font(self.train_button, 1.1, bold=True)
        self.train_button.clicked.connect(self.train)
        self.edit_button = QPushButton("Edit in the builder")
        self.edit_button.setToolTip("Put this model into the Build view, its base as one "
                                    "frozen layer, to change the head there (Ctrl+Z there "
                                    "brings the previous model back)")
        self.edit_button.clicked.connect(self.edit_in_the_builder)
        self.status = QLabel()
        self.status.setWordWrap(True)
        train_row = QHBoxLayout()
        train_row.addWidget(self.train_button)
        train_row.addWidget(self.edit_button)
        train_row.addWidget(self.status, 1)

        self.fine_tune_layers = QSpinBox()
        self.fine_tune_layers.setRange(1, 1)
        self.fine_tune_layers.setPrefix("the top ")
        self.fine_tune_layers.setSuffix(" layer")
        self.fine_tune_layers.valueChanged.connect(
            lambda count: self.fine_tune_layers.setSuffix(" layer" if count == 1 else " layers"))
        self.fine_tune_layers.setToolTip("How many of the base's top layers learn too "
                                         "(BatchNormalization layers stay frozen)")
        self.fine_tune_button = QPushButton("Unfreeze and train more")
        self.fine_tune_button.clicked.connect(self.fine_tune)
        self.fine_tune_text = QLabel("After training the head, unfreeze the base's top layers "
                                     "and train again at a tenth of the learning rate.")
        self.fine_tune_text.setWordWrap(True)
        fine_box = QGroupBox("5. Fine-tune")
        fine_layout = QVBoxLayout(fine_box)
        fine_row = QHBoxLayout()
        fine_row.addWidget(QLabel("Unfreeze"))
        fine_row.addWidget(self.fine_tune_layers)
        fine_row.addWidget(self.fine_tune_button)
        fine_row.addStretch(1)
        fine_layout.addLayout(fine_row)
        fine_layout.addWidget(self.fine_tune_text)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(title)
        right_layout.addWidget(self.summary, 1)
        right_layout.addWidget(self.problem)
        right_layout.addLayout(train_row)
        right_layout.addWidget(fine_box)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([420, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.cut.currentIndexChanged.connect(lambda _i: self._settings_changed())
        self.head_units.valueChanged.connect(lambda _v: self._settings_changed())
        self.dropout.valueChanged.connect(lambda _v: self._settings_changed())
        self.resize_box.toggled.connect(lambda _on: self._settings_changed())
        workspace.data.changed.connect(lambda _loaded: self._data_changed())
        workspace.run.finished.connect(self._run_finished)
        self._data_changed()
        self._fit_to_zoom()
        watch_zoom(self._fit_to_zoom)

    def _fit_to_zoom(self) -> None:
        """The side panel as wide as its widest row at this zoom, but never more than ~45%
        of the page (past that it scrolls sideways rather than squeezing the summary)."""
        bar = self._left_scroll.verticalScrollBar().sizeHint().width()
        wanted = self._left.minimumSizeHint().width() + bar + 4
        self._left_scroll.setMinimumWidth(min(wanted, max(scaled(300), int(self.width() * 0.45))))
        self.summary.fit_columns()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_to_zoom()

    def changeEvent(self, event: Any) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom reached the widgets' fonts
            self._fit_to_zoom()

    # ------------------------------------------------------------------ settings

    @property
    def _dataset(self) -> Any:
        loaded = self._workspace.data.loaded
        return None if loaded is None else loaded.dataset

    def _settings(self) -> tuple[Any, ...] | None:
        """What the model is built from, or None when it cannot be built yet."""
        dataset = self._dataset
        if self.base is None or dataset is None or self.cut.currentIndex() < 0:
            return None
        return (id(self.base), id(dataset), self.cut.currentText(), self.head_units.value(),
                round(self.dropout.value(), 4), self.resize_box.isChecked())

    def _base_opened(self, base: Any) -> None:
        from cnnviz.core.transfer.transfer_model import default_cut_layer

        self.base = base
        self.base_fine_tuned = False
        self.status.clear()
        self.cut.blockSignals(True)
        self.cut.clear()
        names = [layer.name for layer in base.model.layers[1:]]
        self.cut.addItems(names)
        try:
            default = default_cut_layer(base)
        except CnnvizError as exc:
            default = names[-1] if names else ""
            self._show_problem(str(exc))
        self.cut.setCurrentIndex(max(0, self.cut.findText(default)))
        self.cut.blockSignals(False)
        self._data_changed()

    def _data_changed(self) -> None:
        dataset = self._dataset
        self.load_data_button.setVisible(dataset is None)
        self.resize_box.hide()
        self.size_problem.hide()
        if dataset is None:
            self.data_text.setText("No data yet: the Transfer page trains on the data loaded in "
                                   "the Train view.")
        else:
            shape = tuple(dataset.input_shape)
            self.data_text.setText(f"{dataset.description}")
            if dataset.is_series:
                self.size_problem.setText(error_text("Transfer learning here works on images; "
                                                     "this data is time series."))
                self.size_problem.show()
            elif self.base is not None and tuple(shape[:2]) != tuple(self.base.input_shape[:2]):
                target = self.base.input_shape
                self.size_problem.setText(error_text(
                    f"{self.base.name} takes {target[0]}×{target[1]} images; these are "
                    f"{shape[0]}×{shape[1]}. Turn on resizing to use it."))
                self.size_problem.show()
                self.resize_box.setText(f"Resize the images to {target[0]}×{target[1]}")
                self.resize_box.show()
        self._settings_changed()

    def _settings_changed(self) -> None:
        settings = self._settings()
        if settings is None or settings != self._built_for:
            self.transfer, self._built_for = None, None
            self.handed = self.trained = False
            self.unfrozen = 0
            if self.base_fine_tuned:
                self.status.setText("Note: the base's top layers were fine-tuned, so a new "
                                    "model starts from those weights. Open the base again "
                                    "for its original ones.")
        self._preview()
        self._update_state()

    def _preview(self) -> None:
        """Build the model for the current settings in the background and show its summary."""
        self.problem.hide()
        dataset = self._dataset
        if self.base is None:
            self.summary.clear("Open a base network to see what will be trained.")
            self._build.supersede()
            return
        if dataset is None:
            self.summary.clear("Load data in the Train view to see what will be trained.")
            self._build.supersede()
            return
        if self.transfer is not None:
            return
        if self.size_problem.isVisible() and not self.resize_box.isChecked():
            self.summary.clear("Turn on resizing (in 3. Data) to use this base with this data.")
            self._build.supersede()
            return
        self.summary.clear("Building the model…")
        self._start_build(then_hand=False)

    def _start_build(self, then_hand: bool) -> None:
        from cnnviz.core.transfer.transfer_model import build_transfer_model

        settings = self._settings()
        if settings is None:
            return
        base, dataset = self.base, self._dataset
        cut, units, dropout, resize = settings[2:]

        def work(report: Callable[[str, int, int], None]) -> Any:
            report("Building the transfer model…", 0, 0)
            return build_transfer_model(base, tuple(dataset.input_shape), dataset.num_classes,
                                        cut=cut, head_units=units, dropout=dropout,
                                        resize=resize)

        def built(transfer: Any) -> None:
            self.transfer, self._built_for = transfer, settings
            self.handed = self.trained = False
            self.unfrozen = 0
            self._show_summary()
            if then_hand:
                self._hand()
            self._update_state()

        self._build.submit(work, built, self._build_failed)

    def _build_failed(self, message: str, _details: str) -> None:
        self.summary.clear("This model cannot be built as set.")
        self._show_problem(message)
        self._update_state()

    def _show_problem(self, message: str) -> None:
        self.problem.setText(error_text(message))
        self.problem.show()

    def _show_summary(self) -> None:
        from cnnviz.core.transfer.transfer_model import base_layer_count

        count = base_layer_count(self.transfer)
        self.summary.show_model(self.transfer, count, self.unfrozen)
        self.fine_tune_layers.setRange(1, count)

    def _update_state(self) -> None:
        busy = self._build.busy or self.bases.busy
        can_build = self._settings() is not None and self.problem.isHidden() and not (
            self.size_problem.isVisible() and not self.resize_box.isChecked())
        self.train_button.setEnabled(can_build and not busy)
        dataset = self._dataset
        self.edit_button.setEnabled(
            self.bases.opened_choice is not None and self.base is not None
            and dataset is not None and not dataset.is_series and self.cut.currentIndex() >= 0
            and not self._edit.busy and not self.bases.busy)
        self.fine_tune_button.setEnabled(self.trained and not busy)
        self.fine_tune_layers.setEnabled(self.trained and not busy)

    # ------------------------------------------------------------------ the builder

    def edit_in_the_builder(self) -> None:
        """Prepare the chosen base as a PretrainedBase layer in the background and emit the
        whole model (base, head, the data's classes) as `edit_in_builder(spec)`."""
        dataset, opened = self._dataset, self.bases.opened_choice
        if dataset is None or opened is None or self.base is None:
            return
        source, weights, size = opened
        if weights == "file":   # a model file: prepared at its own size, with its weights
            size = int(self.base.input_shape[0])
        choice = BaseChoice(source, weights, size, self.cut.currentText() or None)
        shape = tuple(int(d) for d in dataset.input_shape)
        classes, units = int(dataset.num_classes), self.head_units.value()
        dropout = round(self.dropout.value(), 4)
        prepare = prepare_work(choice, shape[-1], self._fetch)

        def work(report: Callable[[str, int, int], None]) -> Any:
            layer = prepare(report)
            return transfer_spec(layer, shape, classes, units, dropout,
                                 name="transfer")

        def done(spec: Any) -> None:
            self.status.setText("In the Build view: edit the head there, then train it in "
                                "the Train view.")
            self.edit_in_builder.emit(spec)

        def failed(message: str, _details: str) -> None:
            self.status.clear()
            self._show_problem(message)

        self.problem.hide()
        self.status.setText("Preparing the base for the builder…")
        self._edit.submit(work, done, failed,
                          lambda stage, _done, _total: self.status.setText(stage))

    # ------------------------------------------------------------------ training

    def train(self) -> None:
        """Hand the transfer model for the current settings to the Train view (building it in
        the background first, unless already built and not yet trained)."""
        if self.transfer is not None and not self.handed:
            self._hand()
            return
        self.transfer, self._built_for = None, None
        self.status.setText("Building the model…")
        self._start_build(then_hand=True)

    def _hand(self) -> None:
        name = f"transfer from {self.transfer.base_name}"
        if self._hand_to_training(self.transfer.model, name) is False:
            self.status.setText("The Train view is busy training: stop it first.")
            return
        self.handed = True
        self.status.setText(
            f"In the Train view: press Start there to fine-tune the top {self.unfrozen} base "
            f"layer{'s' if self.unfrozen != 1 else ''} with the head." if self.unfrozen else
            "In the Train view: press Start there to train the new head.")
        self._update_state()

    def _run_finished(self, model: Any) -> None:
        if self.transfer is not None and model is self.transfer.model:
            self.trained = True
            self.status.setText("Trained. Fine-tune the base's top layers below, or train "
                                "more in the Train view.")
            self._show_summary()
            self._update_state()

    def fine_tune(self) -> None:
        """Unfreeze the top K base layers, recompile at a tenth of the learning rate trained
        with, and hand the same model to the Train view again."""
        from dataclasses import replace

        from cnnviz.core.training.engine import compile_for_training
        from cnnviz.core.transfer.transfer_model import unfreeze_top_layers

        if self.transfer is None or not self.trained:
            return
        model = self.transfer.model
        config = _config_trained_with(model)
        try:
            unfreeze_top_layers(self.transfer, self.fine_tune_layers.value())
            rate = config.learning_rate / 10
            # Trainable flags changed: compile again (a fresh optimizer) at the lower rate.
            compile_for_training(model, replace(config, learning_rate=rate))
        except CnnvizError as exc:
            self._show_problem(str(exc))
            return
        self.problem.hide()
        self.unfrozen = self.fine_tune_layers.value()
        self.fine_tune_rate = rate
        self.base_fine_tuned = True
        if self._set_learning_rate is not None:
            self._set_learning_rate(rate)
        self.fine_tune_text.setText(f"The top {self.unfrozen} base layers learn too, at "
                                    f"learning rate {rate:g} (a tenth of {config.learning_rate:g}).")
        self._show_summary()
        self.trained = False
        self._hand()

    def shutdown(self) -> None:
        """Cancel background work and wait for its threads (the window is closing)."""
        self.bases.shutdown()
        self._build.shutdown()
        self._edit.shutdown()


def _config_trained_with(model: Any) -> Any:
    """The optimizer and learning rate the model was last trained with, as a TrainConfig."""
    from cnnviz.core.training.engine import TrainConfig

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return TrainConfig()
    name = type(optimizer).__name__.lower()
    if name not in ("sgd", "rmsprop", "adam"):
        name = "adam"
    rate = float(optimizer.learning_rate.numpy() if hasattr(optimizer.learning_rate, "numpy")
                 else optimizer.learning_rate)
    momentum = float(getattr(optimizer, "momentum", 0.9) or 0.0) if name == "sgd" else 0.9
    return TrainConfig(optimizer=name, learning_rate=rate, momentum=momentum)
