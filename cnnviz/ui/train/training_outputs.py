"""What a training run leaves behind: the model file, the history CSV and the chart image.

A mixin of TrainingPanel (see training_panel.py). The model is saved in the background;
the history and the charts are small and written at once.
"""

from __future__ import annotations

from pathlib import Path

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask


class TrainingOutputsMixin:
    """Save/export methods of TrainingPanel (a QWidget)."""

    def _suggested(self, suffix: str) -> str:
        base = self.document.path.with_suffix("") if self.document.path else \
            Path.home() / self.document.spec.name
        return str(base) + suffix

    def save_model_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Save trained model", self._suggested(".keras"),
                                     dialogs.MODEL_SAVE_FILTER)
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> BackgroundTask | None:
        """Save the trained model in the background (.keras unless the name says .h5)."""
        if self.model is None or self.running:
            return None
        from cnnviz.core.model.builder import save_model_file

        model = self.model
        task = BackgroundTask(lambda _report: save_model_file(model, path), self)
        task.succeeded.connect(lambda written: self._saved(f"Saved the model to {written}."))
        task.failed.connect(lambda message, details: self._save_failed(message, details))
        self._track(task)
        self._save_task = task
        self._update_state()
        task.start()
        return task

    def _saved(self, text: str) -> None:
        self._save_task = None
        self.status.setText(text)
        self._update_state()

    def _save_failed(self, message: str, details: str) -> None:
        self._save_task = None
        self._update_state()
        dialogs.show_failure(self, "Cannot save the model", message, details)

    def export_history_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Export training history", self._suggested("-history.csv"),
                                     dialogs.CSV_FILTER)
        if not path:
            return
        try:
            self.history.save_csv(path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot export the history", str(exc))
            return
        self.status.setText(f"Wrote the history of {self.history.epochs_done} epoch(s) to {path}.")

    def save_charts_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Save charts", self._suggested("-charts.png"),
                                     dialogs.CHART_FILTER)
        if not path:
            return
        if not Path(path).suffix:
            path += ".png"
        try:
            self.ensure_charts()
            self.charts.save_image(path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot save the charts", str(exc))
            return
        self.status.setText(f"Saved the charts to {path}.")
