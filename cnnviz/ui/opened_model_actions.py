"""What the window does when the user asks something of the saved model opened in the
Inspect view: explain it (at a layer, on an example), fine-tune it in the Train view, or put
an editable copy of its layers into the builder. Also: which files open as saved models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs
from cnnviz.workspace import ExampleRef, Workspace

OPENABLE_SUFFIXES = (".json", ".keras", ".h5", ".hdf5")
BUILD, TRAIN, EXPLAIN = "build", "train", "explain"


class OpenedModelActions:
    """Carries out the workspace's requests about the opened model.

    explain_view: the Explain view, made on first use; training: the Train view;
    show_view(name): bring a view to the front; confirm_discard: may the builder's spec be
    replaced; remember: add a file to the recent list; say(text): a status-bar message.
    """

    def __init__(self, parent: QWidget, workspace: Workspace, explain_view: Callable[[], Any],
                 training: Any, show_view: Callable[[str], None],
                 confirm_discard: Callable[[], bool], remember: Callable[[Path], None],
                 say: Callable[[str], None]) -> None:
        self._parent = parent
        self._workspace = workspace
        self._explain_view = explain_view
        self._training = training
        self._show_view = show_view
        self._confirm_discard = confirm_discard
        self._remember = remember
        self._say = say
        self.preparing: Any = None   # the BackgroundTask saving a base, while it runs
        opened = workspace.opened
        opened.changed.connect(self._opened)
        opened.explain_requested.connect(self.explain)
        opened.fine_tune_requested.connect(self.fine_tune)
        opened.edit_copy_requested.connect(self.edit_copy)

    def _opened(self, opened: Any, _info: Any) -> None:
        self._remember(Path(opened.path).resolve())
        self._say(f"Opened {Path(opened.path).name}")

    def explain(self, layer: str | None = None, example: ExampleRef | None = None) -> None:
        """Explain the opened model, at `layer` and on `example` if given."""
        opened, info = self._workspace.opened.opened, self._workspace.opened.info
        if opened is None or ((layer or example) and info.explain_problem):
            return
        image = label = None
        if example is not None:
            if example.dataset is None:
                return
            from cnnviz.core.data.input_images import dataset_input

            image, label = dataset_input(example.dataset, example.split, example.index)
        explain = self._explain_view()
        explain.use_opened_model(opened, info)
        self._show_view(EXPLAIN)
        if layer is not None:
            explain.select_layer_named(layer)
        if example is not None:
            from cnnviz.core.data.split_choice import split_phrase

            explain.show_input(image, f"Image #{example.index} of "
                                      f"{split_phrase(example.dataset, example.split)}", label)

    def fine_tune(self) -> None:
        opened = self._workspace.opened.opened
        if opened is None:
            return
        if self._training.running:
            dialogs.show_error(self._parent, "Training is running",
                               "Stop the current training first.")
            return
        self._training.use_opened_model(opened.model, Path(opened.path).name)
        self._show_view(TRAIN)

    def edit_copy(self) -> None:
        """Put an editable copy of the opened model into the builder: its layers, and a
        pre-built network inside it as a Pre-built base that keeps its weights (saved and
        prepared in the background, with a progress dialog)."""
        opened = self._workspace.opened.opened
        if opened is None or self.preparing or not self._confirm_discard():
            return
        from cnnviz.core.transfer.spec_with_bases import (
            has_nested_network, model_to_spec_with_bases,
        )

        name = Path(opened.path).name
        if not has_nested_network(opened.model):
            try:
                spec = model_to_spec_with_bases(opened.model)
            except CnnvizError as exc:
                dialogs.show_error(self._parent, "Cannot edit this model", str(exc))
                return
            self._into_builder(spec, f"A copy of {name} is in the builder (its layers only: "
                                     "the weights stay with the file)")
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QProgressDialog

        from cnnviz.ui.common.workers import BackgroundTask

        model = opened.model
        progress = QProgressDialog(f"Saving the pre-built base of {name} with its weights…",
                                   "", 0, 0, self._parent)
        progress.setWindowTitle("Open in the builder")
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        task = BackgroundTask(lambda _report: model_to_spec_with_bases(model), self._parent)
        self.preparing = task

        def done(spec: Any) -> None:
            self._into_builder(spec, f"A copy of {name} is in the builder: its pre-built base "
                                     f"keeps the trained weights; the other layers start "
                                     f"fresh")

        def failed(message: str, _details: str) -> None:
            dialogs.show_error(self._parent, "Cannot edit this model", message)

        def ended() -> None:
            progress.close()
            progress.deleteLater()
            self.preparing = None
            task.deleteLater()

        task.succeeded.connect(done)
        task.failed.connect(failed)
        task.finished.connect(ended)
        progress.show()
        task.start()

    def _into_builder(self, spec: Any, message: str) -> None:
        self._workspace.document.reset(spec, None)
        self._show_view(BUILD)
        self._say(message)

    def shutdown(self) -> None:
        """Wait for a base being saved (the window is closing)."""
        if self.preparing is not None:
            self.preparing.wait(60_000)


def is_model_file(path: Path) -> bool:
    """A saved Keras model (or a Keras architecture JSON) rather than a cnnviz spec."""
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5", ".hdf5"):
        return True
    if suffix == ".json" and path.is_file():
        from cnnviz.core.inspect.model_files import is_architecture_json

        return is_architecture_json(path)
    return False


def dropped_paths(event: Any) -> list[Path]:
    """Local files with a suffix cnnviz opens, from a drag-and-drop event."""
    data = event.mimeData()
    if not data.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in OPENABLE_SUFFIXES]
