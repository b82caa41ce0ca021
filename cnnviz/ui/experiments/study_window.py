"""What the one-click study windows share ("Dense vs CNN with less data", "From scratch vs
transfer"): the title and explanation, Start / Stop / Save chart… / Close, a progress bar, a
status line, the chart, and the run in the background.

A study runs on a worker thread (ui.common.workers.BackgroundTask; never on the GUI thread).
What it measures goes through a queue; each progress report, queued to the GUI thread as a
signal, tells the window to take it (`_apply_arrival`) and redraw. Stop sets an event the
core's training asks after every batch. Subclasses say what is planned, run and summarised.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import (QApplication, QDialog, QHBoxLayout, QLabel, QLayout,
                               QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask
from cnnviz.ui.common.zoom import line_width, scaled, set_relative_font, watch_zoom

FIGURE_DPI = 100
POINTS_PER_PIXEL = 72 / FIGURE_DPI
Report = Callable[[str, int, int], None]
Work = Callable[[Report], Any]


class StudyChart(QWidget):
    """A study's chart, drawn by the core's `draw_chart(figure, result, font_points=...,
    line_points=..., marker_points=...)` at the window's zoom (text from the app's font,
    thick lines when presenting)."""

    def __init__(self, draw_chart: Callable[..., Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self._draw_chart = draw_chart
        self.figure = Figure(figsize=(6, 4), dpi=FIGURE_DPI, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        self.result: Any = None
        watch_zoom(self._zoom_changed)
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.canvas.setMinimumHeight(scaled(220))
        self.draw()

    def show_result(self, result: Any) -> None:
        self.result = result
        self.draw()

    def draw(self) -> None:
        if self.result is None:
            return
        points = QFontInfo(QApplication.font()).pixelSize() * POINTS_PER_PIXEL
        self._draw_chart(self.figure, self.result, font_points=points,
                         line_points=line_width(2.5) * POINTS_PER_PIXEL,
                         marker_points=scaled(9) * POINTS_PER_PIXEL)
        self.canvas.draw_idle()

    def drawn_lines(self) -> dict[str, list[tuple[float, float]]]:
        """What the chart shows: per line's label, its (x, y) points."""
        axes = self.figure.axes[0] if self.figure.axes else None
        if axes is None:
            return {}
        return {str(line.get_label()): [(float(x), float(y)) for x, y in line.get_xydata()]
                for line in axes.get_lines()}

    def written_texts(self) -> list[str]:
        """The texts written on the chart (values at the lines' ends)."""
        return [t.get_text() for t in self.figure.axes[0].texts] if self.figure.axes else []


class StudyWindow(QDialog):
    """The window's frame and the study's life: start, progress, stop, end, save, close.

    Subclasses build their controls into `self.layout()` between the explanation and the
    chart (see `_build`), and implement the hooks below. `store_path`: the run store to
    record into (the user's when None); `record=False` records nothing.
    """

    runs_recorded = Signal()   # a training was recorded: the runs table should reload
    ended = Signal(object)     # the result (stopped or complete), or None after a failure
    chart_grew = Signal()      # something measured arrived and is drawn

    TITLE = ""
    CHART_FILE = "chart.png"          # the Save dialog's suggested name
    NOTHING_YET = "Nothing is measured yet: start the experiment first."

    def __init__(self, parent: QWidget | None, store_path: Path | None, record: bool,
                 draw_chart: Callable[..., Any], save_chart: Callable[[Any, Path], Any],
                 about: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.TITLE)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.store_path = store_path
        self.record = record
        self._save_chart = save_chart
        self.result: Any = None
        self.task: BackgroundTask | None = None
        self._stop = threading.Event()
        self._arrived: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._started_at = 0.0
        self._ended = True           # the study has reported its end (the thread may linger)

        self.title = QLabel(self.TITLE)
        self.about = QLabel(about)
        self.about.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.save_button = QPushButton("Save chart…")
        self.save_button.setToolTip("Save the chart as a PNG picture or an SVG drawing")
        self.close_button = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = StudyChart(draw_chart)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self.save_dialog)
        self.close_button.clicked.connect(self.close)

    def _lay_out(self, settings: list[QWidget], above_controls: list[Any]) -> None:
        """Title, explanation, `above_controls` (widgets or layouts), a row of `settings`
        with Start, Stop and the progress bar, the chart, then status, Save and Close."""
        controls = QHBoxLayout()
        for widget in [*settings, self.start_button, self.stop_button]:
            controls.addWidget(widget)
        controls.addWidget(self.progress, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.about)
        for part in above_controls:
            if isinstance(part, QLayout):
                layout.addLayout(part)
            else:
                layout.addWidget(part)
        layout.addLayout(controls)
        layout.addWidget(self.chart, 1)
        layout.addLayout(bottom)

    def _finish_setup(self) -> None:
        """Subclasses call this at the end of their __init__, once their controls exist."""
        watch_zoom(self._fit)
        self._fit()
        self._set_running(False)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)

    # ------------------------------------------------------------------ hooks

    def _plan(self) -> Any:
        """The plan the controls describe. Raises CnnvizError."""
        raise NotImplementedError

    def _new_result(self, plan: Any) -> Any:
        """The empty result the run fills in (with its run-store tag)."""
        raise NotImplementedError

    def _work(self, plan: Any, tag: str, arrived: "queue.Queue[tuple[str, Any]]") -> Work:
        """The task run on the worker thread; it puts what it measures into `arrived`."""
        raise NotImplementedError

    def _apply_arrival(self, kind: str, value: Any) -> bool:
        """Put one arrival into self.result; True when it was a recorded run."""
        raise NotImplementedError

    def _loading_text(self) -> str:
        return "Loading…"

    def _progress_total(self, plan: Any) -> int:
        raise NotImplementedError

    def _running_text(self) -> str:
        return "Training…"

    def _stopped_text(self, result: Any) -> str:
        raise NotImplementedError

    def _verdict(self, result: Any) -> str:
        """What the study showed, in a sentence ("" when nothing can be compared)."""
        return ""

    def _recorded(self, result: Any) -> bool:
        """Whether any of the result's trainings is in the run store."""
        raise NotImplementedError

    def _has_something_to_save(self) -> bool:
        raise NotImplementedError

    def _setting_widgets(self) -> list[QWidget]:
        """The controls locked while the study runs."""
        return []

    def _fit(self) -> None:
        set_relative_font(self.title, 1.3, bold=True)
        set_relative_font(self.about, 1.05)
        set_relative_font(self.status)

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        return self.task is not None

    def _set_running(self, running: bool) -> None:
        for widget in [self.start_button, *self._setting_widgets()]:
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.save_button.setEnabled(self._has_something_to_save())

    def start(self) -> None:
        """Start the study in the background (nothing happens while one runs)."""
        if self.running:
            return
        try:
            plan = self._plan()
        except CnnvizError as exc:
            self._show_problem(str(exc))
            return
        self.result = self._new_result(plan)
        self.chart.show_result(self.result)
        self._stop.clear()
        self._ended = False
        self._arrived = queue.Queue()
        self._started_at = time.monotonic()
        self.status.setStyleSheet("")
        self.status.setText(self._loading_text())
        self.progress.setRange(0, self._progress_total(plan))
        self.progress.setValue(0)
        self.progress.setFormat(self._loading_text())
        self.task = BackgroundTask(self._work(plan, self.result.tag, self._arrived), self)
        self.task.progress.connect(self._progressed)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.finished.connect(self._task_ended)
        self._set_running(True)
        self.task.start()

    def _take_arrivals(self) -> None:
        if self.result is None:
            return
        changed = recorded = False
        while True:
            try:
                kind, value = self._arrived.get_nowait()
            except queue.Empty:
                break
            recorded = self._apply_arrival(kind, value) or recorded
            changed = True
        if changed:
            self.chart.show_result(self.result)
            self.save_button.setEnabled(self._has_something_to_save())
            self.chart_grew.emit()
        if recorded:
            self.runs_recorded.emit()

    def _progressed(self, text: str, done: int, total: int) -> None:
        self._take_arrivals()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(text)
        self.status.setText(f"{self._running_text()} {self._elapsed()}")

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self._started_at)
        return f"{seconds // 60}:{seconds % 60:02d} so far"

    def _succeeded(self, result: Any) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.result = result
        self.chart.show_result(result)
        if result.stopped:
            self.progress.setFormat(self._stopped_text(result))
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Done")
        self.status.setText(self._summary(result))
        if result.recording_problem:
            self._show_problem(result.recording_problem)
        if self._recorded(result):
            self.runs_recorded.emit()
        self.ended.emit(result)

    def _summary(self, result: Any) -> str:
        where = (f" The runs are in the Experiments table, tagged '{result.tag}'."
                 if self._recorded(result) else "")
        verdict = self._verdict(result)
        return (f"{'Stopped' if result.stopped else 'Finished'} in {result.seconds:.0f} s."
                f"{' ' + verdict if verdict else ''}{where}")

    def _failed(self, message: str, _details: str) -> None:
        self._ended = True
        self.stop_button.setEnabled(False)
        self._take_arrivals()
        self.progress.setFormat("Failed")
        self._show_problem(message)
        self.ended.emit(None)

    def _show_problem(self, message: str) -> None:
        self.status.setStyleSheet("color: #9f1d12;")
        self.status.setText(message)

    def _task_ended(self) -> None:
        if self.task is not None:
            self.task.deleteLater()
        self.task = None
        self._set_running(False)

    def stop(self) -> None:
        """Stop the study: the training under way ends within one batch."""
        if self.running and not self._ended:
            self._stop.set()
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Stopping…")

    # ------------------------------------------------------------------ saving, closing

    def save_chart(self, path: str | Path) -> None:
        """Save the chart as it is now (PNG or SVG). Raises CnnvizError."""
        if self.result is None:
            raise CnnvizError(self.NOTHING_YET)
        self._save_chart(self.result, Path(path))

    def save_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Save chart", str(Path.home() / self.CHART_FILE),
                                     dialogs.CHART_FILTER, ".png")
        if not path:
            return
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


def show_study_window(parent: QWidget, window_class: type[StudyWindow],
                      store_path: Path | None, on_recorded: Callable[[], None]) -> Any:
    """Open (or bring to the front) the parent's window of this kind; `on_recorded` is
    called whenever it records runs."""
    window = parent.findChild(window_class)
    if window is None:
        window = window_class(parent, store_path)
        window.runs_recorded.connect(on_recorded)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def shutdown_study_windows(parent: QWidget) -> None:
    """Stop every study window's training and wait for it (the app is closing)."""
    for window in parent.findChildren(StudyWindow):
        window.shutdown()
