"""The spec being edited, with undo/redo, its file path and unsaved state.

Every edit replaces the whole ModelSpec (specs are tiny), so undo is a swap of
snapshots and can never drift out of step with the widgets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cnnviz.core.model.shapes import StackReport, analyze
from cnnviz.core.model.spec import ModelSpec


class _SnapshotCommand(QUndoCommand):
    """Replace the spec; undo puts the previous one back. Edits of one field merge."""

    def __init__(self, document: "SpecDocument", before: ModelSpec, after: ModelSpec,
                 text: str, merge_key: str | None, selection_after: int | None,
                 selection_before: int | None) -> None:
        super().__init__(text)
        self._document = document
        self.before, self.after = before, after
        self.merge_key = merge_key
        self.selection_before, self.selection_after = selection_before, selection_after

    def id(self) -> int:  # noqa: A003 - Qt's name
        return 1 if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, _SnapshotCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.selection_after = other.selection_after
        return True

    def redo(self) -> None:
        self._document._replace(self.after, self.selection_after)

    def undo(self) -> None:
        self._document._replace(self.before, self.selection_before)


class SpecDocument(QObject):
    """Holds the current spec and its analysis; emits `changed` after every edit, undo or redo."""

    changed = Signal()
    # The layer the last edit (or its undo) concerns, so the stack can select it; -1: none.
    selection_hint = Signal(int)
    path_changed = Signal()

    def __init__(self, spec: ModelSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._spec = spec.copy()
        self._report = analyze(self._spec)
        self._path: Path | None = None
        self._merge_generation = 0
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(lambda _clean: self.path_changed.emit())

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
        return not self.undo_stack.isClean()

    def apply(self, new_spec: ModelSpec, text: str, merge_key: str | None = None,
              select: int | None = None, current: int | None = None) -> None:
        """Make `new_spec` current as one undoable step named `text`.

        merge_key: successive edits with the same key (typing in one field) undo as one.
        select: the layer to select afterwards; current: the one selected before.
        """
        if new_spec == self._spec:
            return
        if merge_key is not None:
            merge_key = f"{merge_key}#{self._merge_generation}"
        command = _SnapshotCommand(self, self._spec, new_spec.copy(), text, merge_key,
                                   select, current)
        self.undo_stack.push(command)

    def break_merge(self) -> None:
        """End the current run of merged edits (focus left the field)."""
        self._merge_generation += 1

    def reset(self, spec: ModelSpec, path: Path | None) -> None:
        """Replace the document (New / Open): the undo history starts afresh."""
        self.undo_stack.clear()
        self._path = path
        self._replace(spec.copy(), 0 if spec.layers else -1)
        self.undo_stack.setClean()
        self.path_changed.emit()

    def mark_saved(self, path: Path) -> None:
        self._path = path
        self.undo_stack.setClean()
        self.path_changed.emit()

    def _replace(self, spec: ModelSpec, selection: int | None) -> None:
        self._spec = spec
        self._report = analyze(spec)
        self.changed.emit()
        if selection is not None:
            self.selection_hint.emit(selection)

