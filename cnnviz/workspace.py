"""The application's state in one Qt-free model that the panels observe.

The workspace holds what the views share: the spec being edited (with its undo history and
file), the data chosen for training and evaluation, the training run (its live and trained
model, its history, who watches it), the saved model opened for inspection, and the input
being explained. Each part emits plain psygnal signals, so the GUI, the CLI and the tests
drive the same object; the panels read from it and write to it and never hold each other.

Threading: change the workspace on one thread only (the GUI thread in the app). psygnal
calls slots synchronously on the emitting thread, so a worker hands its result to the GUI
thread (a queued Qt signal) and the GUI thread writes it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from psygnal import Signal

from cnnviz.core.model.shapes import StackReport, analyze
from cnnviz.core.model.spec import ModelSpec

__all__ = [
    "DataChoice", "ExampleRef", "ExplainedInput", "OpenedModel", "SpecDocument",
    "TrainingRun", "Workspace",
]


@dataclass
class _Edit:
    """One undoable step: the spec before and after, and which layer each side selects."""

    text: str
    before: ModelSpec
    after: ModelSpec
    merge_key: str | None
    selection_before: int | None
    selection_after: int | None


class SpecDocument:
    """The spec being edited, its analysis, its file and its undo history.

    Every edit replaces the whole ModelSpec (specs are tiny), so undo is a swap of snapshots
    and can never drift out of step with the widgets.
    """

    changed = Signal()              # after every edit, undo, redo, reset
    selection_hint = Signal(int)    # the layer the last edit (or its undo) concerns; -1: none
    path_changed = Signal()         # the file or the saved/unsaved state changed
    history_changed = Signal()      # what Undo/Redo would do changed

    def __init__(self, spec: ModelSpec) -> None:
        self._spec = spec.copy()
        self._report = analyze(self._spec)
        self._path: Path | None = None
        self._done: list[_Edit] = []
        self._undone: list[_Edit] = []
        self._clean_depth: int | None = 0   # len(_done) when last saved; None: unreachable
        self._merge_generation = 0

    # ------------------------------------------------------------------ reading

    @property
    def spec(self) -> ModelSpec:
        """The current spec. Treat it as read-only: edit through `apply`."""
        return self._spec

    @property
    def report(self) -> StackReport:
        return self._report

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return self._clean_depth != len(self._done)

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    # ------------------------------------------------------------------ editing

    def apply(self, new_spec: ModelSpec, text: str, merge_key: str | None = None,
              select: int | None = None, current: int | None = None) -> None:
        """Make `new_spec` current as one undoable step named `text`.

        merge_key: successive edits with the same key (typing in one field) undo as one.
        select: the layer to select afterwards; current: the one selected before.
        """
        if new_spec == self._spec:
            return
        was_modified = self.modified
        key = None if merge_key is None else f"{merge_key}#{self._merge_generation}"
        last = self._done[-1] if self._done else None
        merges = (key is not None and last is not None and last.merge_key == key
                  and not self._undone and self._clean_depth != len(self._done))
        if merges and last is not None:
            last.after, last.selection_after = new_spec.copy(), select
        else:
            if self._clean_depth is not None and self._clean_depth > len(self._done):
                self._clean_depth = None   # the saved state was undone and is now overwritten
            self._undone.clear()
            self._done.append(_Edit(text, self._spec, new_spec.copy(), key, current, select))
        self._replace(self._done[-1].after, select)
        self._history_moved(was_modified)

    def undo(self) -> None:
        if not self._done:
            return
        was_modified = self.modified
        edit = self._done.pop()
        self._undone.append(edit)
        self._replace(edit.before, edit.selection_before)
        self._history_moved(was_modified)

    def redo(self) -> None:
        if not self._undone:
            return
        was_modified = self.modified
        edit = self._undone.pop()
        self._done.append(edit)
        self._replace(edit.after, edit.selection_after)
        self._history_moved(was_modified)

    def break_merge(self) -> None:
        """End the current run of merged edits (focus left the field)."""
        self._merge_generation += 1

    def reset(self, spec: ModelSpec, path: Path | None) -> None:
        """Replace the document (New / Open): the undo history starts afresh."""
        self._done.clear()
        self._undone.clear()
        self._clean_depth = 0
        self._path = path
        self._replace(spec.copy(), 0 if spec.layers else -1)
        self.history_changed.emit()
        self.path_changed.emit()

    def mark_saved(self, path: Path | None) -> None:
        self._path = path
        self._clean_depth = len(self._done)
        self.path_changed.emit()

    def _replace(self, spec: ModelSpec, selection: int | None) -> None:
        self._spec = spec
        self._report = analyze(spec)
        self.changed.emit()
        if selection is not None:
            self.selection_hint.emit(selection)

    def _history_moved(self, was_modified: bool) -> None:
        self.history_changed.emit()
        if self.modified != was_modified:
            self.path_changed.emit()


class DataChoice:
    """The data the user chose (for training, evaluation and explaining), once loaded.

    `loaded` is the dataset with its preview (the Train view's LoadedData), or None. A view
    that needs other data asks for it with `request_source`; the data chooser loads it.
    """

    changed = Signal(object)            # the loaded data, or None when cleared
    source_requested = Signal(object)   # a source name or path some view asks for; None: the default
    busy_changed = Signal(bool)         # a load is under way

    def __init__(self) -> None:
        self.loaded: Any = None
        self.busy = False

    def set_loaded(self, loaded: Any) -> None:
        self.loaded = loaded
        self.changed.emit(loaded)

    def clear(self) -> None:
        self.set_loaded(None)

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def request_source(self, source: str | None = None) -> None:
        """Ask for `source` (a name or a path) to be loaded; None: the data chooser's choice."""
        self.source_requested.emit(source)

    @property
    def dataset(self) -> Any:
        """The loaded core Dataset, or None."""
        return None if self.loaded is None else self.loaded.dataset


Observer = Callable[[Any, int, dict[str, float]], Any]


class TrainingRun:
    """The training run: its model from the first moment, the last trained model, its history.

    `observer(model, epoch, logs)`, when set, runs on the training thread at the start, after
    each epoch and every `observe_every_batches` batches; what it returns comes back on the
    GUI thread as `observed`.
    """

    started = Signal(object)        # the keras.Model about to be trained
    finished = Signal(object)       # the keras.Model after a run (weights kept after a stop)
    observed = Signal(object)       # what the observer returned, delivered on the GUI thread
    state_changed = Signal()        # running / paused / model / history changed

    def __init__(self) -> None:
        self.running = False
        self.paused = False
        self.live_model: Any = None     # the model of the current run
        self.model: Any = None          # the model being trained / last trained
        self.history: Any = None        # core.training.history.TrainingHistory of the run
        self.observer: Observer | None = None
        self.observe_every_batches = 0

    def begin(self) -> None:
        """A run was started (its model is being built or prepared)."""
        self.running, self.paused, self.live_model = True, False, None
        self.state_changed.emit()

    def model_ready(self, model: Any) -> None:
        """The run's model exists and is about to be trained."""
        self.live_model = model
        self.started.emit(model)

    def end(self, model: Any) -> None:
        """The run ended; `model` is the trained model (None when it failed)."""
        self.running, self.paused, self.live_model = False, False, None
        if model is not None:
            self.model = model
        self.state_changed.emit()
        if model is not None:
            self.finished.emit(model)

    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self.state_changed.emit()

    def set_model(self, model: Any) -> None:
        """The model the next run continues (None: the next run starts from a new build)."""
        if model is not self.model:
            self.model = model
            self.state_changed.emit()

    def deliver(self, observation: Any) -> None:
        """Hand an observer's result (already on the GUI thread) to the views."""
        self.observed.emit(observation)

    def call_observer(self, model: Any, epoch: int, logs: dict[str, float]) -> Any:
        """Runs on the training thread; an observer may be attached after training started."""
        observer = self.observer
        return None if observer is None else observer(model, epoch, logs)


@dataclass(frozen=True)
class ExampleRef:
    """One image of a dataset: the split and the index in it."""

    dataset: Any
    split: str
    index: int


class OpenedModel:
    """The saved model opened for inspection and what the user asked to do with it."""

    changed = Signal(object, object)            # opened (core OpenedModel), info (ModelInfo)
    explain_requested = Signal(object, object)  # layer name or None, ExampleRef or None
    fine_tune_requested = Signal()
    edit_copy_requested = Signal()

    def __init__(self) -> None:
        self.opened: Any = None
        self.info: Any = None

    def set_opened(self, opened: Any, info: Any) -> None:
        self.opened, self.info = opened, info
        self.changed.emit(opened, info)

    def request_explain(self, layer: str | None = None, example: ExampleRef | None = None) -> None:
        if self.opened is not None:
            self.explain_requested.emit(layer, example)

    def request_fine_tune(self) -> None:
        if self.opened is not None:
            self.fine_tune_requested.emit()

    def request_edit_copy(self) -> None:
        if self.opened is not None:
            self.edit_copy_requested.emit()


class ExplainedInput:
    """The input being explained: the image (H, W, C float32), its caption and its label."""

    changed = Signal()

    def __init__(self) -> None:
        self.image: Any = None
        self.caption = ""
        self.label: int | None = None

    def set(self, image: Any, caption: str, label: int | None) -> None:
        self.image, self.caption, self.label = image, caption, label
        self.changed.emit()


class Workspace:
    """Everything the views share. Make one per window; the CLI can make one too."""

    def __init__(self, spec: ModelSpec) -> None:
        self.document = SpecDocument(spec)
        self.data = DataChoice()
        self.run = TrainingRun()
        self.opened = OpenedModel()
        self.explained = ExplainedInput()
