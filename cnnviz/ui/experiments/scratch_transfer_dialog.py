"""The "From scratch vs transfer" window: the run pair in one click.

It says what it will do (and, offline, that the digits stand in for the clothes of the real
story), trains the same network twice in the background (core.experiments.
scratch_vs_transfer through ui.common.workers.BackgroundTask; never on the GUI thread):
from scratch, then on the frozen pretrained base. A progress bar says "Transfer (frozen
base), epoch 2 of 5", the chart draws validation accuracy as each epoch ends and writes each
run's test accuracy at its line's end, Stop ends the run under way within one batch, and the
chart saves as PNG or SVG (the window's life is study_window.StudyWindow's). Both runs are recorded in the run store under one tag;
`runs_recorded` asks the Experiments view to read the store again.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QPushButton,
                               QSpinBox, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.scratch_vs_transfer import (
    DEFAULT_BASE, DEFAULT_DATA, DEFAULT_EPOCHS, DEFAULT_LIMIT, KINDS, PairPlan, PairResult,
    PairRun, draw_chart, load_pair_data, open_pair_base, pair_tag, plan_pair, run_pair,
    save_chart, story_note,
)
from cnnviz.core.transfer.bases import application_names
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.zoom import scaled, set_relative_font
from cnnviz.ui.experiments.study_window import Report, StudyWindow, Work

TITLE = "From scratch vs transfer"
DIGIT_MODEL_LABEL = "the bundled digit model (mnist_cnn_small)"
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
DATA_CHOICES = ("mnist-sample", "fashion_mnist")


def explanation(epochs: int) -> str:
    """The sentences that say what the experiment does."""
    return (f"The same network is trained twice on the same examples for {epochs} "
            f"epoch{'s' if epochs != 1 else ''}: once from scratch, every weight starting "
            f"random, and once by transfer, reusing the base's trained layers frozen and "
            f"teaching only a new head. With few examples, the reused features win.")


class ScratchTransferDialog(StudyWindow):
    """The run pair's window. `store_path`: the run store to record into (the user's when
    None); `record=False` records nothing."""

    TITLE = TITLE
    CHART_FILE = "scratch-vs-transfer.png"
    NOTHING_YET = "Nothing is trained yet: start the experiment first."

    def __init__(self, parent: QWidget | None = None, store_path: Path | None = None,
                 epochs: int = DEFAULT_EPOCHS, limit: int = DEFAULT_LIMIT,
                 record: bool = True) -> None:
        super().__init__(parent, store_path, record, draw_chart, save_chart,
                         explanation(epochs))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("pairNote")
        self.note.setStyleSheet("#pairNote { background: #eef4fb; color: #1d3a5c; "
                                "border: 1px solid #c4d7ee; padding: 4px 6px; }")
        self.base_box = QComboBox()
        self.base_box.addItem(DIGIT_MODEL_LABEL, str(DEFAULT_BASE))
        for name in application_names():
            self.base_box.addItem(f"{name} (ImageNet weights)", name)
        self.base_box.setToolTip("The pretrained network whose layers are reused (a model file, "
                                 "or a Keras network with its ImageNet weights)")
        self.browse_button = QPushButton("Model file…")
        self.browse_button.setToolTip("Use a saved model of yours as the base")
        self.data_box = QComboBox()
        self.data_box.setEditable(True)
        self.data_box.addItems(DATA_CHOICES)
        self.data_box.setToolTip("Images with a test part: mnist-sample is bundled; "
                                 "fashion_mnist downloads (clothes: the real story)")
        self.limit_box = QSpinBox()
        self.limit_box.setRange(10, 1_000_000)
        self.limit_box.setSingleStep(100)
        self.limit_box.setValue(limit)
        self.limit_box.setSuffix(" examples")
        self.limit_box.setToolTip("Training examples for both runs (a tenth kept for "
                                  "validation)")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 100)
        self.epochs_box.setValue(epochs)
        self.epochs_box.setSuffix(" epochs")
        self.epochs_box.setToolTip("How long each run lasts (the same for both)")
        self.start_button.setToolTip("Train the network from scratch, then by transfer, in the "
                                     "background")
        self.stop_button.setToolTip("Stop after the current batch; what is drawn stays")

        choices = QGridLayout()
        choices.addWidget(QLabel("Base:"), 0, 0)
        choices.addWidget(self.base_box, 0, 1)
        choices.addWidget(self.browse_button, 0, 2)
        choices.addWidget(QLabel("Data:"), 0, 3)
        choices.addWidget(self.data_box, 0, 4)
        choices.setColumnStretch(1, 3)
        choices.setColumnStretch(4, 1)
        self._lay_out([self.limit_box, self.epochs_box], [choices, self.note])

        self.browse_button.clicked.connect(self.browse_base)
        self.epochs_box.valueChanged.connect(self._settings_changed)
        self.limit_box.valueChanged.connect(self._settings_changed)
        self.base_box.currentIndexChanged.connect(self._settings_changed)
        self.data_box.currentTextChanged.connect(self._settings_changed)
        self._settings_changed()
        self._finish_setup()

    # ------------------------------------------------------------------ layout, settings

    def _fit(self) -> None:
        super()._fit()
        set_relative_font(self.note)
        self.progress.setMinimumWidth(scaled(220))
        self.setMinimumSize(scaled(600), scaled(520))
        if not self.isVisible():
            self.resize(scaled(920), scaled(700))

    def current_plan(self) -> PairPlan:
        """The plan the controls describe. Raises ScratchVsTransferError."""
        base = self.base_box.currentData() or self.base_box.currentText()
        return plan_pair(str(base), self.data_box.currentText().strip() or DEFAULT_DATA,
                         self.epochs_box.value(), self.limit_box.value())

    def _settings_changed(self, *_: Any) -> None:
        self.about.setText(explanation(self.epochs_box.value()))
        try:
            plan = self.current_plan()
        except CnnvizError as exc:
            self.note.setText(str(exc))
            return
        self.note.setText(story_note(plan))
        if not self.running:
            self.chart.show_result(PairResult(plan, ""))

    def browse_base(self) -> None:
        path = dialogs.get_open_path(self, "Choose a base model", str(Path.home()),
                                     MODEL_FILTER)
        if path:
            self.set_base(path)

    def set_base(self, base: str) -> None:
        """Choose the base: a model file's path or a Keras application's name."""
        index = self.base_box.findData(base)
        if index < 0:
            self.base_box.addItem(Path(base).name if Path(base).suffix else base, base)
            index = self.base_box.count() - 1
        self.base_box.setCurrentIndex(index)

    # ------------------------------------------------------------------ the study's hooks

    def _setting_widgets(self) -> list[QWidget]:
        return [self.epochs_box, self.limit_box, self.base_box, self.browse_button,
                self.data_box]

    def _has_something_to_save(self) -> bool:
        return bool(self.result and any(run.val_accuracy for run in self.result.runs.values()))

    def _plan(self) -> PairPlan:
        return self.current_plan()

    def _new_result(self, plan: PairPlan) -> PairResult:
        return PairResult(plan, pair_tag())

    def _loading_text(self) -> str:
        return "Loading the data and the base…"

    def _progress_total(self, plan: PairPlan) -> int:
        return 2 * plan.epochs

    def _work(self, plan: PairPlan, tag: str, arrived: "queue.Queue[tuple[str, Any]]"
              ) -> Work:
        store_path, record, stop = self.store_path, self.record, self._stop
        total = 2 * plan.epochs

        def work(report: Report) -> PairResult:
            data = load_pair_data(plan)
            report("Opening the base…", 0, total)
            base = open_pair_base(plan, data.input_shape)
            arrived.put(("counts", (base.name, int(data.train.count),
                                    int(data.test.count) if data.test is not None else 0)))

            def progressed(progress: Any) -> None:
                report(progress.text(), progress.index * progress.epochs + progress.epoch,
                       total)

            def epoch_ended(kind: str, _epoch: int, logs: dict[str, float]) -> None:
                arrived.put(("epoch", (kind, float(logs.get("val_accuracy", float("nan"))))))

            def measured(run: PairRun, _model: Any) -> None:
                arrived.put(("run", run))
                done = (KINDS.index(run.kind) + 1) * plan.epochs
                report(f"{run.label}: test accuracy {run.test_accuracy:.1%}", done, total)

            return run_pair(plan, data, base, on_progress=progressed, on_epoch=epoch_ended,
                            on_run=measured, should_stop=stop.is_set, record=record,
                            store_path=store_path, tag=tag)
        return work

    def _apply_arrival(self, kind: str, value: Any) -> bool:
        if kind == "counts":
            self.result.base_name, self.result.train_count, self.result.test_count = value
            return False
        if kind == "epoch":
            self.result.run(value[0]).val_accuracy.append(value[1])
            return False
        run = self.result.run(value.kind)
        run.test_accuracy, run.test_loss = value.test_accuracy, value.test_loss
        run.run_id = value.run_id
        return value.run_id is not None

    def _stopped_text(self, result: PairResult) -> str:
        measured = sum(run.test_accuracy is not None for run in result.runs.values())
        return f"Stopped after {measured} of 2 runs"

    def _recorded(self, result: PairResult) -> bool:
        return any(run.run_id is not None for run in result.runs.values())

    def _verdict(self, result: PairResult) -> str:
        return result.verdict() or ""
