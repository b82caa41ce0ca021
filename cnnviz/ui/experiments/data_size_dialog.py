"""The "Dense vs CNN with less data" window: the tutorial's experiment in one click.

It says in two sentences what it will do, trains the dense baseline and the tutorial CNN at
each training-set size in the background (core.experiments.data_size_study through
ui.common.workers.BackgroundTask; never on the GUI thread), shows "CNN, 1,800 images, epoch
2 of 5" on a progress bar, draws each point on the chart as its training ends, can be
stopped (the training under way ends within one batch; the points so far stay), and saves
the chart as PNG or SVG (the window's life is study_window.StudyWindow's). Each training is
recorded in the run store; `runs_recorded` asks the Experiments view to read the store again.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QSpinBox, QWidget

from cnnviz.core.experiments.data_size_study import (
    DEFAULT_DATA, DEFAULT_EPOCHS, DEFAULT_SIZES, MODEL_LABELS, StudyPlan, StudyPoint, StudyResult,
    draw_chart, load_study_data, plan_study, run_study, save_chart, study_tag,
)
from cnnviz.ui.common.zoom import scaled
from cnnviz.ui.experiments.study_window import Report, StudyWindow, Work

TITLE = "Dense vs CNN with less data"


def explanation(sizes: list[int], epochs: int) -> str:
    """The two sentences that say what the experiment does."""
    listed = ", ".join(f"{size:,}" for size in sizes[:-1])
    listed = f"{listed} and {sizes[-1]:,}" if listed else f"{sizes[-1]:,}"
    return (f"This trains a plain dense network and the tutorial CNN on {listed} handwritten "
            f"digits (each set inside the next, {epochs} epoch{'s' if epochs != 1 else ''} "
            f"each) and measures both on the same test digits. Watch the two lines: the CNN "
            f"stays ahead even with little data, because its small filters learn strokes "
            f"that appear anywhere in the picture.")


class DataSizeDialog(StudyWindow):
    """The experiment's window. `store_path`: the run store to record into (the user's when
    None); `record=False` records nothing."""

    TITLE = TITLE
    CHART_FILE = "dense-vs-cnn.png"

    def __init__(self, parent: QWidget | None = None, store_path: Path | None = None,
                 sizes: list[int] | None = None, epochs: int = DEFAULT_EPOCHS,
                 data_source: str = DEFAULT_DATA, record: bool = True) -> None:
        self.data_source = data_source
        self.sizes = sorted(set(sizes or DEFAULT_SIZES))
        super().__init__(parent, store_path, record, draw_chart, save_chart,
                         explanation(self.sizes, epochs))
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 100)
        self.epochs_box.setValue(epochs)
        self.epochs_box.setSuffix(" epochs")
        self.epochs_box.setToolTip("How long each of the trainings lasts (the same for all)")
        self.epochs_box.valueChanged.connect(
            lambda value: self.about.setText(explanation(self.sizes, value)))
        self.start_button.setToolTip(f"Train {2 * len(self.sizes)} models, one after another, "
                                     "in the background")
        self.stop_button.setToolTip("Stop after the current batch; the points so far stay")

        self._lay_out([self.epochs_box], [])
        self.chart.show_result(StudyResult(StudyPlan(list(self.sizes), epochs,
                                                     self.data_source), ""))
        self._finish_setup()

    def _fit(self) -> None:
        super()._fit()
        self.progress.setMinimumWidth(scaled(260))
        self.setMinimumSize(scaled(560), scaled(460))
        if not self.isVisible():
            self.resize(scaled(900), scaled(680))

    # ------------------------------------------------------------------ the study's hooks

    def _setting_widgets(self) -> list[QWidget]:
        return [self.epochs_box]

    def _has_something_to_save(self) -> bool:
        return bool(self.result and self.result.points)

    def _plan(self) -> StudyPlan:
        return plan_study(self.sizes, self.epochs_box.value(), self.data_source)

    def _new_result(self, plan: StudyPlan) -> StudyResult:
        return StudyResult(plan, study_tag())

    def _loading_text(self) -> str:
        return "Loading the digits…"

    def _progress_total(self, plan: StudyPlan) -> int:
        return len(plan.trainings()) * plan.epochs

    def _work(self, plan: StudyPlan, tag: str, arrived: "queue.Queue[tuple[str, Any]]"
              ) -> Work:
        store_path, record, stop = self.store_path, self.record, self._stop

        def work(report: Report) -> StudyResult:
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

    def _apply_arrival(self, kind: str, value: Any) -> bool:
        if kind == "test_count":
            self.result.test_count = int(value)
            return False
        self.result.points.append(value)
        return value.run_id is not None

    def _running_text(self) -> str:
        done = len(self.result.points) if self.result else 0
        total = len(self.result.plan.trainings()) if self.result else "?"
        return f"Training {done + 1} of {total}…"

    def _stopped_text(self, result: StudyResult) -> str:
        return (f"Stopped after {len(result.points)} of {len(result.plan.trainings())} "
                f"trainings")

    def _recorded(self, result: StudyResult) -> bool:
        return any(p.run_id is not None for p in result.points)

    def _verdict(self, result: StudyResult) -> str:
        ahead = [size for size in result.plan.sizes
                 if (cnn := result.point("mnist_cnn", size)) is not None
                 and (dense := result.point("dense_baseline", size)) is not None
                 and cnn.test_accuracy > dense.test_accuracy]
        compared = sum(1 for size in result.plan.sizes if result.point("mnist_cnn", size)
                       and result.point("dense_baseline", size))
        return (f"The {MODEL_LABELS['mnist_cnn']} was ahead at {len(ahead)} of {compared} "
                f"sizes." if compared else "")
