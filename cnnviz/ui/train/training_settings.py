"""The training settings form: optimizer, learning rate, batch size, epochs, augmentation,
early stopping, keep-best checkpoint and TensorBoard logs. It produces a core TrainConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from cnnviz.core.training.augmentation import SIGNAL_JITTER, SIGNAL_SCALING
from cnnviz.ui.common import dialogs

OPTIMIZERS = (("Adam", "adam"), ("SGD with momentum", "sgd"), ("RMSprop", "rmsprop"))
DEFAULT_LEARNING_RATES = {"adam": 0.001, "sgd": 0.01, "rmsprop": 0.001}
GUI_REPORT_INTERVAL = 0.2  # seconds between per-batch reports to the window (charts draw 5 per s)


def _path_row(placeholder: str, pick) -> tuple[QWidget, QLineEdit]:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    button = QPushButton("…")
    button.setFixedWidth(28)
    button.clicked.connect(lambda: pick(edit))
    host = QWidget()
    row = QHBoxLayout(host)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return host, edit


class TrainingSettings(QWidget):
    """Two boxes, "Training" and "Options"; `config()` returns the TrainConfig they describe."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.optimizer = QComboBox()
        for label, key in OPTIMIZERS:
            self.optimizer.addItem(label, key)
        self.optimizer.setToolTip("How the weights are nudged after each batch. Adam is a good default.")
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.00001, 1.0)
        self.learning_rate.setSingleStep(0.0005)
        self.learning_rate.setValue(DEFAULT_LEARNING_RATES["adam"])
        self.learning_rate.setToolTip("How big each nudge is. Too high and the loss jumps or "
                                      "becomes NaN; too low and learning is slow.")
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.batch_size.setValue(64)
        self.batch_size.setToolTip("How many images are looked at before each weight update.")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(5)
        self.epochs.setToolTip("How many times training goes through all the training images.")

        main_box = QGroupBox("Training")
        form = QFormLayout(main_box)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)

        self.flip = QCheckBox("Flip left–right")
        self.rotation = QCheckBox("Rotate ±10°")
        self.zoom = QCheckBox("Zoom ±10%")
        self.translation = QCheckBox("Shift ±10%")
        for box in (self.flip, self.rotation, self.zoom, self.translation):
            box.setToolTip("Random changes to training images only, so the model sees more "
                           "variety. Validation and test images are never changed.")
        self.image_augment = QWidget()
        grid = QFormLayout(self.image_augment)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addRow(self.flip, self.rotation)
        grid.addRow(self.zoom, self.translation)
        # Signals get their own changes (Um et al. 2017): noise on every value, and one
        # random gain per series.
        self.jitter = QCheckBox(f"Jitter (noise {SIGNAL_JITTER:g})")
        self.jitter.setToolTip(f"Adds random noise (standard deviation {SIGNAL_JITTER:g}) to "
                               "every value of each training series. Validation and test "
                               "series are never changed.")
        self.scaling = QCheckBox(f"Scale ±{SIGNAL_SCALING:.0%}")
        self.scaling.setToolTip(f"Multiplies each training series by one random factor "
                                f"around 1 (spread {SIGNAL_SCALING:g}). Validation and test "
                                "series are never changed.")
        self.signal_augment = QWidget()
        signal_row = QHBoxLayout(self.signal_augment)
        signal_row.setContentsMargins(0, 0, 0, 0)
        signal_row.addWidget(self.jitter)
        signal_row.addWidget(self.scaling)
        signal_row.addStretch(1)
        augment = QWidget()
        augment_layout = QVBoxLayout(augment)
        augment_layout.setContentsMargins(0, 0, 0, 0)
        augment_layout.addWidget(self.image_augment)
        augment_layout.addWidget(self.signal_augment)
        self.signal_augment.hide()
        self.series = False

        self.early_stopping = QCheckBox("Stop when")
        self.monitor = QComboBox()
        for label, key in (("validation loss", "val_loss"), ("validation accuracy", "val_accuracy"),
                           ("training loss", "loss")):
            self.monitor.addItem(label, key)
        self.patience = QSpinBox()
        self.patience.setRange(1, 100)
        self.patience.setValue(3)
        self.patience.setSuffix(" epochs")
        self.patience.setPrefix("stalls ")
        self.restore_best = QCheckBox("then go back to the best epoch's weights")
        self.restore_best.setChecked(True)
        early = QWidget()
        early_layout = QVBoxLayout(early)
        early_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.early_stopping)
        top.addWidget(self.monitor, 1)
        early_layout.addLayout(top)
        early_layout.addWidget(self.patience)
        early_layout.addWidget(self.restore_best)
        self.early_stopping.toggled.connect(self._update_enabled)

        self.checkpoint = QCheckBox("Keep the best model in")
        checkpoint_row, self.checkpoint_path = _path_row("best_model.keras", self._pick_checkpoint)
        self.tensorboard = QCheckBox("TensorBoard logs in")
        tensorboard_row, self.tensorboard_dir = _path_row("logs folder", self._pick_log_folder)
        self.checkpoint.toggled.connect(self._update_enabled)
        self.tensorboard.toggled.connect(self._update_enabled)

        options_box = QGroupBox("Options")
        options = QFormLayout(options_box)
        options.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        options.addRow("Augment training images", augment)
        self.augment_label = options.labelForField(augment)
        options.addRow("Early stopping", early)
        options.addRow(self.checkpoint, checkpoint_row)
        options.addRow(self.tensorboard, tensorboard_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(main_box)
        layout.addWidget(options_box)
        self._update_enabled()

    def _optimizer_changed(self) -> None:
        # Each optimizer has its own sensible starting rate; keep a value the user typed.
        if self.learning_rate.value() in DEFAULT_LEARNING_RATES.values():
            self.learning_rate.setValue(DEFAULT_LEARNING_RATES[self.optimizer.currentData()])

    def _update_enabled(self) -> None:
        on = self.early_stopping.isChecked()
        for widget in (self.monitor, self.patience, self.restore_best):
            widget.setEnabled(on)
        self.checkpoint_path.setEnabled(self.checkpoint.isChecked())
        self.tensorboard_dir.setEnabled(self.tensorboard.isChecked())

    def _pick_checkpoint(self, edit: QLineEdit) -> None:
        path = dialogs.get_save_path(self, "Keep the best model in", edit.text() or
                                     str(Path.home() / "best_model.keras"), dialogs.MODEL_SAVE_FILTER)
        if path:
            edit.setText(path)
            self.checkpoint.setChecked(True)

    def _pick_log_folder(self, edit: QLineEdit) -> None:
        path = dialogs.get_folder_path(self, "TensorBoard log folder", edit.text() or str(Path.home()))
        if path:
            edit.setText(path)
            self.tensorboard.setChecked(True)

    def set_data_kind(self, series: bool) -> None:
        """Offer the augmentations of this kind of data: jitter and scaling for signals,
        flips, rotations, zooms and shifts for images. The other kind's are not applied."""
        self.series = bool(series)
        self.image_augment.setVisible(not self.series)
        self.signal_augment.setVisible(self.series)
        if self.augment_label is not None:
            self.augment_label.setText("Augment training series" if self.series
                                       else "Augment training images")

    def set_running(self, running: bool) -> None:
        """Settings cannot change under a running training."""
        for child in self.findChildren(QGroupBox):
            child.setEnabled(not running)

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Show a recorded run's settings (the run store's flat names: optimizer,
        learning_rate, batch_size, epochs, augment_*, early_stopping, monitor, patience,
        restore_best); names this form has no field for are left as they are."""
        optimizer = self.optimizer.findData(settings.get("optimizer"))
        if optimizer >= 0:
            self.optimizer.setCurrentIndex(optimizer)
        for name, box, kind in (("learning_rate", self.learning_rate, float),
                                ("batch_size", self.batch_size, int),
                                ("epochs", self.epochs, int),
                                ("patience", self.patience, int)):
            try:
                box.setValue(kind(settings[name]))
            except (KeyError, TypeError, ValueError):
                continue
        for name, box in (("augment_flip", self.flip), ("augment_rotation", self.rotation),
                          ("augment_zoom", self.zoom), ("augment_translation", self.translation),
                          ("augment_jitter", self.jitter), ("augment_scaling", self.scaling)):
            if name in settings:
                box.setChecked(bool(settings[name]))
        self.early_stopping.setChecked(bool(settings.get("early_stopping", False)))
        monitor = self.monitor.findData(settings.get("monitor"))
        if monitor >= 0:
            self.monitor.setCurrentIndex(monitor)
        if "restore_best" in settings:
            self.restore_best.setChecked(bool(settings["restore_best"]))

    def _augment(self, config_class: Any) -> Any:
        """The AugmentConfig of the ticked boxes shown for the current kind of data."""
        if self.series:
            return config_class(jitter=SIGNAL_JITTER if self.jitter.isChecked() else 0.0,
                                scaling=SIGNAL_SCALING if self.scaling.isChecked() else 0.0)
        return config_class(flip=self.flip.isChecked(),
                            rotation=0.1 / 3.6 if self.rotation.isChecked() else 0.0,
                            zoom=0.1 if self.zoom.isChecked() else 0.0,
                            translation=0.1 if self.translation.isChecked() else 0.0)

    def config(self) -> Any:
        """The TrainConfig these settings describe (raises CnnvizError for a missing path)."""
        from cnnviz.core.errors import CnnvizError
        from cnnviz.core.training.augmentation import AugmentConfig
        from cnnviz.core.training.engine import TrainConfig

        checkpoint = self.checkpoint_path.text().strip() if self.checkpoint.isChecked() else ""
        logs = self.tensorboard_dir.text().strip() if self.tensorboard.isChecked() else ""
        if self.checkpoint.isChecked() and not checkpoint:
            raise CnnvizError("Choose a file to keep the best model in, or untick that option.")
        if self.tensorboard.isChecked() and not logs:
            raise CnnvizError("Choose a folder for the TensorBoard logs, or untick that option.")
        return TrainConfig(
            optimizer=self.optimizer.currentData(),
            learning_rate=self.learning_rate.value(),
            batch_size=self.batch_size.value(),
            epochs=self.epochs.value(),
            augment=self._augment(AugmentConfig),
            early_stopping=self.early_stopping.isChecked(),
            monitor=self.monitor.currentData(),
            patience=self.patience.value(),
            restore_best=self.restore_best.isChecked(),
            checkpoint_path=checkpoint or None,
            tensorboard_dir=logs or None,
            # Ten progress reports a second look smooth; each one costs the training thread a
            # little time on the shared interpreter lock, so no more than that.
            batch_report_interval=GUI_REPORT_INTERVAL,
        )
