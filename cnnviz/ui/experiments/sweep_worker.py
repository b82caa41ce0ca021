"""A sweep run in a QThread: core's callbacks (a trial started, an epoch's batches, a trial
ended) become signals; the worker never touches a widget.

After every trial the worker reads the study again and hands the GUI thread a
`SweepSnapshot` (every trial, the best one, accuracy against each dimension, Optuna's
importances), so nothing about the study is computed on the GUI thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common.workers import describe_failure


@dataclass
class SweepSnapshot:
    """What the dialog shows of a study: read in the worker thread."""

    rows: list[Any]                          # core TrialResult, every trial in order
    best: Any                                # the best TrialResult, or None
    by_dimension: dict[str, list[Any]]       # name -> core DimensionValue per value
    importances: dict[str, float] | None
    dimensions: list[str]                    # the search space's names, in order

    @property
    def complete(self) -> int:
        return sum(1 for row in self.rows if row.state == "complete")

    @property
    def waiting(self) -> int:
        return sum(1 for row in self.rows if row.state in ("waiting", "running"))


def read_snapshot(plan: Any, study: Any) -> SweepSnapshot:
    """The study as the dialog shows it (call it off the GUI thread)."""
    from cnnviz.core.experiments.sweep import (
        accuracy_by_dimension,
        best_trial,
        importances,
        results,
    )

    rows = results(study)
    names = list(plan.search_space())
    return SweepSnapshot(rows, best_trial(study), accuracy_by_dimension(rows, names),
                         importances(study), names)


class SweepWorker(QThread):
    """Trains the waiting trials of `plan` until none is left or `request_stop()`."""

    stage = Signal(str)                     # "Loading the data…", "Training…"
    trial_progress = Signal(object)         # core TrialProgress
    trial_ended = Signal(object, object)    # core TrialResult, SweepSnapshot
    sweep_ended = Signal(object, bool)      # SweepSnapshot, stopped by the user
    failed = Signal(str, str)               # message, details
    note = Signal(str)                      # something to tell that does not stop the sweep

    def __init__(self, plan: Any, storage_url: str | None, store_path: Path | None = None,
                 record: bool = True, parent: Any = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.storage_url = storage_url
        self.store_path = store_path
        self.record = record
        self._stop = threading.Event()
        self.setObjectName("sweep")

    def request_stop(self) -> None:
        """Stop within a batch: the trial being trained is failed and planned again."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # runs in the new thread
        store = None
        try:
            from cnnviz.core.data.datasets import load_dataset
            from cnnviz.core.experiments.sweep import open_study, run_worker

            self.stage.emit("Opening the sweep…")
            study = open_study(self.plan, self.storage_url)
            self.trial_ended.emit(None, read_snapshot(self.plan, study))
            store = self._open_store()
            self.stage.emit("Loading the data…")
            dataset = load_dataset(self.plan.data_source, self.plan.load_options)
            self.stage.emit("Training…")

            def trial_done(result: Any) -> None:
                self.trial_ended.emit(result, read_snapshot(self.plan, study))

            run_worker(self.plan, self.storage_url, recorder=store, on_trial=trial_done,
                       should_stop=self._stop.is_set, dataset=dataset,
                       on_progress=self.trial_progress.emit)
            self.sweep_ended.emit(read_snapshot(self.plan, study), self._stop.is_set())
        except BaseException as exc:  # noqa: BLE001 - shown in words, the app stays up
            self.failed.emit(*describe_failure(exc))
        finally:
            if store is not None:
                store.close()

    def _open_store(self) -> Any:
        """The run store each trial is recorded in; None (with a note) when it cannot be."""
        from cnnviz.core.experiments.recording import recording_enabled
        from cnnviz.core.experiments.run_store import RunStore

        if not self.record or not recording_enabled():
            return None
        try:
            return RunStore(self.store_path)
        except CnnvizError as exc:
            self.note.emit(f"{exc} The trials are not recorded.")
            return None
