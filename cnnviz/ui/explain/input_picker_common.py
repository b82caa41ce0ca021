"""What the input picker's pages share: each mode's tab index, inline messages, escaping."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from cnnviz.ui.common.zoom import set_relative_font

DATASET, DRAW, FILE = 0, 1, 2
ERROR_STYLE = "color: #b3261e;"
MUTED_STYLE = "color: #5f6368;"


def message_label(style: str = ERROR_STYLE) -> QLabel:
    """A hidden, word-wrapped, selectable label for a problem (or a muted note)."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    set_relative_font(label)   # under a style sheet: follows the zoom only this way
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_message(label: QLabel, text: str | None) -> None:
    """Show `text` in `label`, or hide the label when there is none."""
    label.setText(text or "")
    label.setVisible(bool(text))


def escape_html(text: str) -> str:
    """`text` safe to put in a rich-text label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
