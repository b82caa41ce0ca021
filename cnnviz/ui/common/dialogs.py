"""Every modal question the app asks, in one place.

Widgets call these functions instead of QMessageBox/QFileDialog directly, so tests can
answer them (monkeypatch) while still driving the real widgets.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

SPEC_FILTER = "cnnviz model specs (*.json);;All files (*)"
PYTHON_FILTER = "Python scripts (*.py);;All files (*)"
MODEL_SAVE_FILTER = "Keras model (*.keras);;HDF5 model, older format (*.h5)"
CSV_FILTER = "CSV tables (*.csv);;All files (*)"
CHART_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
DATA_FILE_FILTER = ("Datasets (*.npz *.gz *.tar.gz *.idx *ubyte);;All files (*)")


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A warning box with a readable message (never a traceback)."""
    QMessageBox.warning(parent, title, message)


def ask_save_changes(parent: QWidget | None, document_name: str) -> str:
    """Ask what to do with unsaved changes: returns 'save', 'discard' or 'cancel'."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to {document_name}?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


@contextmanager
def focus_comes_back(parent: QWidget | None) -> Iterator[None]:
    """After a file dialog the window is active again and the widget that had the keyboard
    has it again, so shortcuts work at once (a native dialog can leave no window active
    until the user clicks one)."""
    focused = QApplication.focusWidget()
    try:
        yield
    finally:
        window = parent.window() if parent is not None else None
        if window is not None and window.isVisible():
            window.raise_()
            window.activateWindow()
        if focused is not None and _alive(focused) and focused.isVisible():
            focused.setFocus()


def _alive(widget: QWidget) -> bool:
    try:
        widget.objectName()
    except RuntimeError:   # its C++ side was deleted while the dialog was open
        return False
    return True


def get_open_path(parent: QWidget | None, title: str, folder: str, file_filter: str) -> str:
    """The file the user picked to open, or '' if they cancelled."""
    with focus_comes_back(parent):
        path, _ = QFileDialog.getOpenFileName(parent, title, folder, file_filter)
    return path


def get_save_path(parent: QWidget | None, title: str, suggested: str, file_filter: str,
                  default_suffix: str = "") -> str:
    """The file the user picked to save to, or '' if they cancelled. A name typed without
    a suffix gets `default_suffix` (e.g. ".png")."""
    with focus_comes_back(parent):
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    if path and default_suffix and not Path(path).suffix:
        path += default_suffix
    return path


def get_folder_path(parent: QWidget | None, title: str, folder: str) -> str:
    """The folder the user picked, or '' if they cancelled."""
    with focus_comes_back(parent):
        return QFileDialog.getExistingDirectory(parent, title, folder)


def show_failure(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A warning box; an unexpected error's traceback goes under "Show Details…", not in the face."""
    if not details:
        show_error(parent, title, message)
        return
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    box.setDetailedText(details)
    box.exec()


def ask_to_confirm(parent: QWidget | None, title: str, question: str, confirm: str) -> bool:
    """A question answered by a button named `confirm` (e.g. “I trust this file”) or Cancel,
    the default; True for the confirm button."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, question, parent=parent)
    button = box.addButton(confirm, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is button


def ask_yes_no(parent: QWidget | None, title: str, question: str) -> bool:
    """A Yes/No question; True for Yes."""
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
