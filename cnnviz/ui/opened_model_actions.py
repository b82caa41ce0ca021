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
        """Put an editable copy of the opened (Sequential-style) model into the builder."""
        opened = self._workspace.opened.opened
        if opened is None or not self._confirm_discard():
            return
        from cnnviz.core.model.spec_from_keras import model_to_spec

        try:
            spec = model_to_spec(opened.model)
        except CnnvizError as exc:
            dialogs.show_error(self._parent, "Cannot edit this model", str(exc))
            return
        self._workspace.document.reset(spec, None)
        self._show_view(BUILD)
        self._say(f"A copy of {Path(opened.path).name} is in the builder "
                  "(its layers only: the weights stay with the file)")


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
