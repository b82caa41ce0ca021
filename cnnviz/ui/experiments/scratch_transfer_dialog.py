"""The "From scratch vs transfer" window: the run pair in one click.

It says what it will do (and, offline, that the digits stand in for the clothes of the real
story), trains the same network twice in the background (core.experiments.
scratch_vs_transfer through ui.common.workers.BackgroundTask; never on the GUI thread):
from scratch, then on the frozen pretrained base. A progress bar says "Transfer (frozen
base), epoch 2 of 5", the chart draws validation accuracy as each epoch ends and writes each
run's test accuracy at its line's end, Stop ends the run under way within one batch, and the
chart saves as PNG or SVG. Both runs are recorded in the run store under one tag;
`runs_recorded` asks the Experiments view to read the store again.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import (QApplication, QComboBox, QDialog, QGridLayout, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSizePolicy, QSpinBox,
                               QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.scratch_vs_transfer import (
    DEFAULT_BASE, DEFAULT_DATA, DEFAULT_EPOCHS, DEFAULT_LIMIT, KINDS, PairPlan, PairResult,
    PairRun, draw_chart, load_pair_data, open_pair_base, pair_tag, plan_pair, run_pair,
    save_chart, story_note,
)
from cnnviz.core.transfer.bases import application_names
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask
from cnnviz.ui.common.zoom import line_width, scaled, set_relative_font, watch_zoom

TITLE = "From scratch vs transfer"
FIGURE_DPI = 100
POINTS_PER_PIXEL = 72 / FIGURE_DPI
DIGIT_MODEL_LABEL = "the bundled digit model (mnist_cnn_small)"
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
DATA_CHOICES = ("mnist-sample", "fashion_mnist")


def explanation(epochs: int) -> str:
    """The sentences that say what the experiment does."""
    return (f"The same network is trained twice on the same examples for {epochs} "
            f"epoch{'s' if epochs != 1 else ''}: once from scratch, every weight starting "
            f"random, and once by transfer, reusing the base's trained layers frozen and "
            f"teaching only a new head. With few examples, the reused features win.")


class PairChart(QWidget):
    """Validation accuracy per epoch, one line per run, drawn by core's draw_chart at the
    window's zoom (text from the app's font, thick lines when presenting)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 4), dpi=FIGURE_DPI, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        self.result: PairResult | None = None
        watch_zoom(self._zoom_changed)
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.canvas.setMinimumHeight(scaled(220))
        self.draw()

    def show_result(self, result: PairResult) -> None:
        self.result = result
        self.draw()

    def draw(self) -> None:
        if self.result is None:
            return
        points = QFontInfo(QApplication.font()).pixelSize() * POINTS_PER_PIXEL
        draw_chart(self.figure, self.result, font_points=points,
                   line_points=line_width(2.5) * POINTS_PER_PIXEL,
                   marker_points=scaled(9) * POINTS_PER_PIXEL)
        self.canvas.draw_idle()

    def drawn_lines(self) -> dict[str, list[tuple[float, float]]]:
        """What the chart shows: per line's label, its (epoch, accuracy) points."""
        axes = self.figure.axes[0] if self.figure.axes else None
        if axes is None:
            return {}
        return {str(line.get_label()): [(float(x), float(y)) for x, y in line.get_xydata()]
                for line in axes.get_lines()}

    def written_texts(self) -> list[str]:
        """The test accuracies written on the chart."""
        return [t.get_text() for t in self.figure.axes[0].texts] if self.figure.axes else []


class ScratchTransferDialog(QDialog):
    """The run pair's window. `store_path`: the run store to record into (the user's when
    None); `record=False` records nothing."""

    runs_recorded = Signal()     # a run was recorded: the runs table should reload
    pair_ended = Signal(object)  # PairResult (stopped or complete), or None after a failure
    chart_grew = Signal()        # an epoch or a test accuracy arrived and is drawn

    def __init__(self, parent: QWidget | None = None, store_path: Path | None = None,
                 epochs: int = DEFAULT_EPOCHS, limit: int = DEFAULT_LIMIT,
                 record: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.store_path = store_path
        self.record = record
        self.result: PairResult | None = None
        self.task: BackgroundTask | None = None
        self._stop = threading.Event()
        self._arrived: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._started_at = 0.0
        self._ended = True           # the pair has reported its end (the thread may linger)

        self.title = QLabel(TITLE)
        self.about = QLabel(explanation(epochs))
        self.about.setWordWrap(True)
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
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.setToolTip("Train the network from scratch, then by transfer, in the "
                                     "background")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; what is drawn stays")
        self.save_button = QPushButton("Save chart…")
        self.save_button.setToolTip("Save the chart as a PNG picture or an SVG drawing")
        self.close_button = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = PairChart()

        choices = QGridLayout()
        choices.addWidget(QLabel("Base:"), 0, 0)
        choices.addWidget(self.base_box, 0, 1)
        choices.addWidget(self.browse_button, 0, 2)
        choices.addWidget(QLabel("Data:"), 0, 3)
        choices.addWidget(self.data_box, 0, 4)
        choices.setColumnStretch(1, 3)
        choices.setColumnStretch(4, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.limit_box)
        controls.addWidget(self.epochs_box)
        controls.addWidget(self.start_button)
        controls.addWidget(self.stop_button)
        controls.addWidget(self.progress, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.about)
        layout.addLayout(choices)
        layout.addWidget(self.note)
        layout.addLayout(controls)
        layout.addWidget(self.chart, 1)
        layout.addLayout(bottom)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self.save_dialog)
        self.close_button.clicked.connect(self.close)
        self.browse_button.clicked.connect(self.browse_base)
        self.epochs_box.valueChanged.connect(self._settings_changed)
        self.limit_box.valueChanged.connect(self._settings_changed)
        self.base_box.currentIndexChanged.connect(self._settings_changed)
        self.data_box.currentTextChanged.connect(self._settings_changed)
        watch_zoom(self._fit)
        self._fit()
        self._settings_changed()
        self._set_running(False)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)

    # ------------------------------------------------------------------ layout, settings

    def _fit(self) -> None:
        set_relative_font(self.title, 1.3, bold=True)
        set_relative_font(self.about, 1.05)
        set_relative_font(self.note)
        set_relative_font(self.status)
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

    def _set_running(self, running: bool) -> None:
        for widget in (self.start_button, self.epochs_box, self.limit_box, self.base_box,
                       self.browse_button, self.data_box):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.save_button.setEnabled(bool(self.result and any(
            run.val_accuracy for run in self.result.runs.values())))

    @property
    def running(self) -> bool:
        return self.task is not None

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Start the pair in the background (nothing happens while one runs)."""
        if self.running:
            return
        try:
            plan = self.current_plan()
        except CnnvizError as exc:
            self._show_problem(str(exc))
            return
        self.result = PairResult(plan, pair_tag())
        self.chart.show_result(self.result)
        self._stop.clear()
        self._ended = False
        self._arrived = queue.Queue()
        self._started_at = time.monotonic()
        self.status.setStyleSheet("")
        self.status.setText("Loading the data and the base…")
        self.progress.setRange(0, 2 * plan.epochs)
        self.progress.setValue(0)
        self.progress.setFormat("Loading…")
        self.task = BackgroundTask(self._work(plan, self.result.tag, self._arrived), self)
        self.task.progress.connect(self._progressed)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.finished.connect(self._task_ended)
        self._set_running(True)
        self.task.start()

    def _work(self, plan: PairPlan, tag: str, arrived: "queue.Queue[tuple[str, Any]]"
              ) -> Callable[[Callable[[str, int, int], None]], PairResult]:
        """The task run on the worker thread. Epochs and runs go through `arrived`; each
        `report` (queued to the GUI thread as a signal) tells the dialog to take them."""
        store_path, record, stop = self.store_path, self.record, self._stop
        total = 2 * plan.epochs

        def work(report: Callable[[str, int, int], None]) -> PairResult:
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

    def _take_arrivals(self) -> None:
        if self.result is None:
            return
        changed = recorded = False
        while True:
            try:
                kind, value = self._arrived.get_nowait()
            except queue.Empty:
                break
            if kind == "counts":
                self.result.base_name, self.result.train_count, self.result.test_count = value
            elif kind == "epoch":
                self.result.run(value[0]).val_accuracy.append(value[1])
            else:
                run = self.result.run(value.kind)
                run.test_accuracy, run.test_loss = value.test_accuracy, value.test_loss
                run.run_id = value.run_id
                recorded = recorded or value.run_id is not None
            changed = True
        if changed:
            self.chart.show_result(self.result)
            self.save_button.setEnabled(True)
            self.chart_grew.emit()
        if recorded:
            self.runs_recorded.emit()

    def _progressed(self, text: str, done: int, total: int) -> None:
        self._take_arrivals()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(text)
        self.status.setText(f"Training… {self._elapsed()}")

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self._started_at)
        return f"{seconds // 60}:{seconds % 60:02d} so far"

    def _succeeded(self, result: PairResult) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.result = result
        self.chart.show_result(result)
        if result.stopped:
            measured = sum(run.test_accuracy is not None for run in result.runs.values())
            self.progress.setFormat(f"Stopped after {measured} of 2 runs")
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Done")
        self.status.setText(self._summary(result))
        if result.recording_problem:
            self._show_problem(result.recording_problem)
        if any(run.run_id is not None for run in result.runs.values()):
            self.runs_recorded.emit()
        self.pair_ended.emit(result)

    def _summary(self, result: PairResult) -> str:
        where = (f" The runs are in the Experiments table, tagged '{result.tag}'."
                 if any(run.run_id is not None for run in result.runs.values()) else "")
        verdict = f" {result.verdict()}" if result.verdict() else ""
        return (f"{'Stopped' if result.stopped else 'Finished'} in {result.seconds:.0f} s."
                f"{verdict}{where}")

    def _failed(self, message: str, _details: str) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.progress.setFormat("Failed")
        self._show_problem(message)
        self.pair_ended.emit(None)

    def _show_problem(self, message: str) -> None:
        self.status.setStyleSheet("color: #9f1d12;")
        self.status.setText(message)

    def _task_ended(self) -> None:
        if self.task is not None:
            self.task.deleteLater()
        self.task = None
        self._set_running(False)

    def stop(self) -> None:
        """Stop the pair: the run under way ends within one batch."""
        if self.running and not self._ended:
            self._stop.set()
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Stopping…")

    # ------------------------------------------------------------------ saving, closing

    def save_chart(self, path: str | Path) -> None:
        """Save the chart as it is now (PNG or SVG). Raises CnnvizError."""
        if self.result is None:
            raise CnnvizError("Nothing is trained yet: start the experiment first.")
        save_chart(self.result, Path(path))

    def save_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Save chart",
                                     str(Path.home() / "scratch-vs-transfer.png"),
                                     dialogs.CHART_FILTER)
        if not path:
            return
        if not Path(path).suffix:
            path += ".png"
        try:
            self.save_chart(path)
        except (CnnvizError, OSError) as exc:
            dialogs.show_error(self, "Cannot save the chart", str(exc))
            return
        self.status.setText(f"Saved the chart to {Path(path).name}.")

    def shutdown(self) -> None:
        """Stop and wait for the background training (the window is closing)."""
        task = self.task
        if task is not None:
            self._stop.set()
            task.wait()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)


def show_scratch_transfer_dialog(parent: QWidget, store_path: Path | None,
                                 on_recorded: Callable[[], None]) -> ScratchTransferDialog:
    """Open (or bring to the front) the parent's run-pair window; `on_recorded` is called
    whenever it records runs."""
    dialog = parent.findChild(ScratchTransferDialog)
    if dialog is None:
        dialog = ScratchTransferDialog(parent, store_path)
        dialog.runs_recorded.connect(on_recorded)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def shutdown_scratch_transfer_dialog(parent: QWidget) -> None:
    """Stop the parent's run-pair window's training and wait for it (the app is closing)."""
    for dialog in parent.findChildren(ScratchTransferDialog):
        dialog.shutdown()
