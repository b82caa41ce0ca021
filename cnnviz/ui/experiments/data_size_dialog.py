"""The "Dense vs CNN with less data" window: the tutorial's experiment in one click.

It says in two sentences what it will do, trains the dense baseline and the tutorial CNN at
each training-set size in the background (core.experiments.data_size_study through
ui.common.workers.BackgroundTask; never on the GUI thread), shows "CNN, 1,800 images, epoch
2 of 5" on a progress bar, draws each point on the chart as its training ends, can be
stopped (the training under way ends within one batch; the points so far stay), and saves
the chart as PNG or SVG. Each training is recorded in the run store; `runs_recorded` asks
the Experiments view to read the store again.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import (QApplication, QDialog, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.data_size_study import (
    DEFAULT_DATA, DEFAULT_EPOCHS, DEFAULT_SIZES, MODEL_LABELS, StudyPlan, StudyPoint, StudyResult,
    draw_chart, load_study_data, plan_study, run_study, save_chart, study_tag,
)
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask
from cnnviz.ui.common.zoom import line_width, scaled, set_relative_font, watch_zoom

TITLE = "Dense vs CNN with less data"
FIGURE_DPI = 100
POINTS_PER_PIXEL = 72 / FIGURE_DPI


def explanation(sizes: list[int], epochs: int) -> str:
    """The two sentences that say what the experiment does."""
    listed = ", ".join(f"{size:,}" for size in sizes[:-1])
    listed = f"{listed} and {sizes[-1]:,}" if listed else f"{sizes[-1]:,}"
    return (f"This trains a plain dense network and the tutorial CNN on {listed} handwritten "
            f"digits (each set inside the next, {epochs} epoch{'s' if epochs != 1 else ''} "
            f"each) and measures both on the same test digits. Watch the two lines: the CNN "
            f"stays ahead even with little data, because its small filters learn strokes "
            f"that appear anywhere in the picture.")


class StudyChart(QWidget):
    """Test accuracy against training-set size, drawn by core's draw_chart at the window's
    zoom (text from the app's font, thick lines when presenting)."""

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
        self.result: StudyResult | None = None
        watch_zoom(self._zoom_changed)
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.canvas.setMinimumHeight(scaled(220))
        self.draw()

    def show_result(self, result: StudyResult) -> None:
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

    def drawn_points(self) -> dict[str, list[tuple[float, float]]]:
        """What the chart shows: per line's label, its (size, accuracy) points."""
        axes = self.figure.axes[0] if self.figure.axes else None
        if axes is None:
            return {}
        return {str(line.get_label()): [(float(x), float(y)) for x, y in line.get_xydata()]
                for line in axes.get_lines()}


class DataSizeDialog(QDialog):
    """The experiment's window. `store_path`: the run store to record into (the user's when
    None); `record=False` records nothing."""

    runs_recorded = Signal()     # a training was recorded: the runs table should reload
    study_ended = Signal(object)  # StudyResult (stopped or complete), or None after a failure

    def __init__(self, parent: QWidget | None = None, store_path: Path | None = None,
                 sizes: list[int] | None = None, epochs: int = DEFAULT_EPOCHS,
                 data_source: str = DEFAULT_DATA, record: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.store_path = store_path
        self.record = record
        self.data_source = data_source
        self.sizes = sorted(set(sizes or DEFAULT_SIZES))
        self.result: StudyResult | None = None
        self.task: BackgroundTask | None = None
        self._stop = threading.Event()
        self._arrived: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._started_at = 0.0
        self._ended = True           # the study has reported its end (the thread may linger)

        self.title = QLabel(TITLE)
        self.about = QLabel(explanation(self.sizes, epochs))
        self.about.setWordWrap(True)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 100)
        self.epochs_box.setValue(epochs)
        self.epochs_box.setSuffix(" epochs")
        self.epochs_box.setToolTip("How long each of the trainings lasts (the same for all)")
        self.epochs_box.valueChanged.connect(
            lambda value: self.about.setText(explanation(self.sizes, value)))
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.setToolTip(f"Train {2 * len(self.sizes)} models, one after another, "
                                     "in the background")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the points so far stay")
        self.save_button = QPushButton("Save chart…")
        self.save_button.setToolTip("Save the chart as a PNG picture or an SVG drawing")
        self.close_button = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = StudyChart()

        controls = QHBoxLayout()
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
        layout.addLayout(controls)
        layout.addWidget(self.chart, 1)
        layout.addLayout(bottom)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self.save_dialog)
        self.close_button.clicked.connect(self.close)
        watch_zoom(self._fit)
        self._fit()
        self._show_empty(epochs)
        self._set_running(False)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)

    # ------------------------------------------------------------------ layout

    def _fit(self) -> None:
        set_relative_font(self.title, 1.3, bold=True)
        set_relative_font(self.about, 1.05)
        set_relative_font(self.status)
        self.progress.setMinimumWidth(scaled(260))
        self.setMinimumSize(scaled(560), scaled(460))
        if not self.isVisible():
            self.resize(scaled(900), scaled(680))

    def _show_empty(self, epochs: int) -> None:
        plan = StudyPlan(list(self.sizes), epochs, self.data_source)
        self.chart.show_result(StudyResult(plan, ""))

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.epochs_box.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.save_button.setEnabled(bool(self.result and self.result.points))

    @property
    def running(self) -> bool:
        return self.task is not None

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Start the experiment in the background (nothing happens while one runs)."""
        if self.running:
            return
        try:
            plan = plan_study(self.sizes, self.epochs_box.value(), self.data_source)
        except CnnvizError as exc:
            self._show_problem(str(exc))
            return
        self.result = StudyResult(plan, study_tag())
        self.chart.show_result(self.result)
        self._stop.clear()
        self._ended = False
        self._arrived = queue.Queue()
        self._started_at = time.monotonic()
        self.status.setStyleSheet("")
        self.status.setText("Loading the digits…")
        self.progress.setRange(0, len(plan.trainings()) * plan.epochs)
        self.progress.setValue(0)
        self.progress.setFormat("Loading the digits…")
        self.task = BackgroundTask(self._work(plan, self.result.tag, self._arrived), self)
        self.task.progress.connect(self._progressed)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.finished.connect(self._task_ended)
        self._set_running(True)
        self.task.start()

    def _work(self, plan: StudyPlan, tag: str, arrived: "queue.Queue[tuple[str, Any]]"
              ) -> Callable[[Callable[[str, int, int], None]], StudyResult]:
        """The task run on the worker thread. Points go through `arrived`; each `report`
        (queued to the GUI thread as a signal) tells the dialog to take them."""
        store_path, record, stop = self.store_path, self.record, self._stop

        def work(report: Callable[[str, int, int], None]) -> StudyResult:
            data = load_study_data(plan)
            arrived.put(("test_count", int(data.test.count) if data.test is not None else 0))

            def progressed(progress: Any) -> None:
                report(progress.text(), progress.index * progress.epochs + progress.epoch,
                       progress.total * progress.epochs)

            def measured(point: StudyPoint, _model: Any) -> None:
                arrived.put(("point", point))
                done = (plan.trainings().index((point.size, point.model)) + 1) * plan.epochs
                report(f"{point.label}, {point.size:,} images: {point.test_accuracy:.1%}", done,
                       len(plan.trainings()) * plan.epochs)

            return run_study(plan, data, on_progress=progressed, on_point=measured,
                             should_stop=stop.is_set, record=record, store_path=store_path,
                             tag=tag)
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
            if kind == "test_count":
                self.result.test_count = int(value)
            else:
                self.result.points.append(value)
                recorded = recorded or value.run_id is not None
            changed = True
        if changed:
            self.chart.show_result(self.result)
            self.save_button.setEnabled(bool(self.result.points))
        if recorded:
            self.runs_recorded.emit()

    def _progressed(self, text: str, done: int, total: int) -> None:
        self._take_arrivals()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(text)
        self.status.setText(f"Training {len(self.result.points) + 1 if self.result else 1} of "
                            f"{len(self.result.plan.trainings()) if self.result else '?'}… "
                            f"{self._elapsed()}")

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self._started_at)
        return f"{seconds // 60}:{seconds % 60:02d} so far"

    def _succeeded(self, result: StudyResult) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.result = result
        self.chart.show_result(result)
        if result.stopped:
            self.progress.setFormat(f"Stopped after {len(result.points)} of "
                                    f"{len(result.plan.trainings())} trainings")
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Done")
        self.status.setText(self._summary(result))
        if result.recording_problem:
            self._show_problem(result.recording_problem)
        if any(p.run_id is not None for p in result.points):
            self.runs_recorded.emit()
        self.study_ended.emit(result)

    def _summary(self, result: StudyResult) -> str:
        took = f"{result.seconds:.0f} s"
        where = (f" The runs are in the Experiments table, tagged '{result.tag}'."
                 if any(p.run_id is not None for p in result.points) else "")
        ahead = [size for size in result.plan.sizes
                 if (cnn := result.point("mnist_cnn", size)) is not None
                 and (dense := result.point("dense_baseline", size)) is not None
                 and cnn.test_accuracy > dense.test_accuracy]
        compared = sum(1 for size in result.plan.sizes if result.point("mnist_cnn", size)
                       and result.point("dense_baseline", size))
        verdict = (f" The {MODEL_LABELS['mnist_cnn']} was ahead at {len(ahead)} of "
                   f"{compared} sizes." if compared else "")
        return f"{'Stopped' if result.stopped else 'Finished'} in {took}.{verdict}{where}"

    def _failed(self, message: str, _details: str) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.progress.setFormat("Failed")
        self._show_problem(message)
        self.study_ended.emit(None)

    def _show_problem(self, message: str) -> None:
        self.status.setStyleSheet("color: #9f1d12;")
        self.status.setText(message)

    def _task_ended(self) -> None:
        if self.task is not None:
            self.task.deleteLater()
        self.task = None
        self._set_running(False)

    def stop(self) -> None:
        """Stop the experiment: the training under way ends within one batch."""
        if self.running and not self._ended:
            self._stop.set()
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Stopping…")

    # ------------------------------------------------------------------ saving, closing

    def save_chart(self, path: str | Path) -> None:
        """Save the chart as it is now (PNG or SVG). Raises CnnvizError."""
        if self.result is None:
            raise CnnvizError("Nothing is measured yet: start the experiment first.")
        save_chart(self.result, Path(path))

    def save_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Save chart", str(Path.home() / "dense-vs-cnn.png"),
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


def show_data_size_dialog(parent: QWidget, store_path: Path | None,
                          on_recorded: Callable[[], None]) -> DataSizeDialog:
    """Open (or bring to the front) the parent's experiment window; `on_recorded` is called
    whenever it records runs."""
    dialog = parent.findChild(DataSizeDialog)
    if dialog is None:
        dialog = DataSizeDialog(parent, store_path)
        dialog.runs_recorded.connect(on_recorded)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def shutdown_data_size_dialog(parent: QWidget) -> None:
    """Stop the parent's experiment window's training and wait for it (the app is closing)."""
    for dialog in parent.findChildren(DataSizeDialog):
        dialog.shutdown()
