"""Undo and Redo menu actions bound to the workspace's spec history (the Qt side of it)."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from cnnviz.workspace import SpecDocument


def undo_redo_actions(document: SpecDocument, parent: QWidget) -> tuple[QAction, QAction]:
    """Undo (Ctrl+Z) and Redo (Ctrl+Shift+Z, Ctrl+Y) actions that name the step they undo
    and are enabled only when there is one."""
    undo = QAction("&Undo", parent)
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = QAction("&Redo", parent)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    undo.triggered.connect(document.undo)
    redo.triggered.connect(document.redo)

    def refresh() -> None:
        undo.setEnabled(document.can_undo)
        undo.setText(f"&Undo {document.undo_text}".rstrip())
        redo.setEnabled(document.can_redo)
        redo.setText(f"&Redo {document.redo_text}".rstrip())

    document.history_changed.connect(refresh)
    refresh()
    return undo, redo
