"""What the main window does with a saved model opened in the Inspect view, and file drops.

A mixin of MainWindow (see main_window.py): explain the opened model (at a layer, on an
example), fine-tune it in the Train view, copy its layers into the builder, and open
files dropped on the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs

OPENABLE_SUFFIXES = (".json", ".keras", ".h5", ".hdf5")


class OpenedModelActionsMixin:
    """Opened-model and drag-and-drop methods of MainWindow (a QMainWindow)."""

    def _model_opened(self, opened: Any, info: Any) -> None:
        self._remember_recent(Path(opened.path).resolve())
        self.statusBar().showMessage(f"Opened {Path(opened.path).name}", 4000)
        if self.explain is not None:
            self.explain.offer_opened_model(opened, info)

    def explain_opened_model(self) -> None:
        if self.models.opened is None:
            return
        explain = self.ensure_explain()
        explain.use_opened_model(self.models.opened, self.models.info)
        self.tabs.setCurrentIndex(2)

    def explain_opened_layer(self, name: str) -> None:
        """A layer double-clicked in the Inspect view: explain the opened model at that layer."""
        if self.models.opened is None or self.models.info.explain_problem:
            return
        self.explain_opened_model()
        self.explain.select_layer_named(name)

    def explain_example(self, dataset: Any, split: str, index: int) -> None:
        """An image clicked in the evaluation: explain the opened model on it."""
        if dataset is None or self.models.opened is None or self.models.info.explain_problem:
            return
        from cnnviz.core.data.input_images import dataset_input

        image, label = dataset_input(dataset, split, index)
        self.explain_opened_model()
        self.explain.show_input(image, f"{split} image {index + 1} of {dataset.name}", label)

    def fine_tune_opened_model(self) -> None:
        opened = self.models.opened
        if opened is None:
            return
        if self.training.running:
            dialogs.show_error(self, "Training is running", "Stop the current training first.")
            return
        self.training.use_opened_model(opened.model, Path(opened.path).name)
        self.tabs.setCurrentWidget(self.training)

    def edit_copy_of_opened_model(self) -> None:
        """Put an editable copy of the opened (Sequential-style) model into the builder."""
        opened = self.models.opened
        if opened is None or not self._confirm_discard():
            return
        from cnnviz.core.model.spec_from_keras import model_to_spec

        try:
            spec = model_to_spec(opened.model)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot edit this model", str(exc))
            return
        self.document.reset(spec, None)
        self.tabs.setCurrentIndex(0)
        self.statusBar().showMessage(f"A copy of {Path(opened.path).name} is in the builder "
                                     "(its layers only: the weights stay with the file)", 6000)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if _dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = _dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])


def is_model_file(path: Path) -> bool:
    """A saved Keras model (or a Keras architecture JSON) rather than a cnnviz spec."""
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5", ".hdf5"):
        return True
    if suffix == ".json" and path.is_file():
        from cnnviz.core.inspect.model_files import is_architecture_json

        return is_architecture_json(path)
    return False


def _dropped_paths(event: Any) -> list[Path]:
    """Local files with a suffix cnnviz opens, from a drag-and-drop event."""
    data = event.mimeData()
    if not data.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in OPENABLE_SUFFIXES]
