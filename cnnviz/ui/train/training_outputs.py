"""What a training run leaves behind: the model file, the history CSV and the chart image.

The model is saved in the background; the history and the charts are small and written at
once. The Train view owns one TrainingExporter and its buttons and menu entries call it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask
from cnnviz.workspace import SpecDocument, TrainingRun


class TrainingExporter:
    """Saves the run's model, history and charts, and says so in the Train view's status line.

    charts: gives the chart widget (made on demand); say: shows a line of status text;
    track: keeps a thread referenced until it ends; changed: the saving state changed.
    """

    def __init__(self, parent: QWidget, document: SpecDocument, run: TrainingRun,
                 charts: Callable[[], Any], say: Callable[[str], None],
                 track: Callable[[Any], None], changed: Callable[[], None]) -> None:
        self._parent = parent
        self._document = document
        self._run = run
        self._charts = charts
        self._say = say
        self._track = track
        self._changed = changed
        self.save_task: BackgroundTask | None = None
        self.model_saved: Callable[[str], None] | None = None  # told the path of a saved model

    @property
    def saving(self) -> bool:
        return self.save_task is not None

    def _suggested(self, suffix: str) -> str:
        path = self._document.path
        base = path.with_suffix("") if path else Path.home() / self._document.spec.name
        return str(base) + suffix

    def save_model_dialog(self) -> None:
        path = dialogs.get_save_path(self._parent, "Save trained model",
                                     self._suggested(".keras"), dialogs.MODEL_SAVE_FILTER)
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> BackgroundTask | None:
        """Save the trained model in the background (.keras unless the name says .h5)."""
        model = self._run.model
        if model is None or self._run.running:
            return None
        from cnnviz.core.model.builder import save_model_file

        task = BackgroundTask(lambda _report: save_model_file(model, path), self._parent)
        task.succeeded.connect(lambda written: self._saved(f"Saved the model to {written}.",
                                                           written))
        task.failed.connect(self._save_failed)
        self._track(task)
        self.save_task = task
        self._changed()
        task.start()
        return task

    def _saved(self, text: str, written: Any = None) -> None:
        self.save_task = None
        if written is not None and self.model_saved is not None:
            self.model_saved(str(Path(written).resolve()))
        self._say(text)
        self._changed()

    def _save_failed(self, message: str, details: str) -> None:
        self.save_task = None
        self._changed()
        dialogs.show_failure(self._parent, "Cannot save the model", message, details)

    def export_history_dialog(self) -> None:
        path = dialogs.get_save_path(self._parent, "Export training history",
                                     self._suggested("-history.csv"), dialogs.CSV_FILTER)
        if not path:
            return
        history = self._run.history
        try:
            history.save_csv(path)
        except CnnvizError as exc:
            dialogs.show_error(self._parent, "Cannot export the history", str(exc))
            return
        self._say(f"Wrote the history of {history.epochs_done} epoch(s) to {path}.")

    def save_charts_dialog(self) -> None:
        path = dialogs.get_save_path(self._parent, "Save charts", self._suggested("-charts.png"),
                                     dialogs.CHART_FILTER, ".png")
        if not path:
            return
        try:
            self._charts().save_image(path)
        except CnnvizError as exc:
            dialogs.show_error(self._parent, "Cannot save the charts", str(exc))
            return
        self._say(f"Saved the charts to {path}.")
