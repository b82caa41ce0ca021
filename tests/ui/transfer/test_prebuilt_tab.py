"""The Pre-built view in the main window: tab 6 (Ctrl+6), and the Transfer page's model handed
to the real Train view, ready for Start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from cnnviz.ui.main_window import PREBUILT_TAB, TRAIN_TAB
from tests.ui.app_window import shown_main_window
from tests.ui.transfer.test_transfer_view import open_base, wait_built

SAMPLE_MODEL = Path(__file__).parents[3] / "sample_models" / "mnist_cnn_small.keras"


def test_ctrl_6_opens_the_transfer_page_whose_model_goes_to_the_train_view(
        qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, train_limit=200, size=(1280, 720))
    assert window.prebuilt is None                      # built on its first visit
    window.tabs.setCurrentIndex(TRAIN_TAB)              # the Train view loads the data
    qtbot.waitUntil(lambda: window.workspace.data.loaded is not None, timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == PREBUILT_TAB and window.prebuilt is not None
    view = window.transfer_view
    assert window.current_view() is window.prebuilt
    open_base(qtbot, view, str(SAMPLE_MODEL))
    wait_built(qtbot, view)
    assert view.transfer is not None, view.problem.text()
    view.train_button.click()
    assert window.tabs.currentIndex() == TRAIN_TAB
    assert window.training.opened_model is view.transfer.model
    assert window.workspace.run.model is view.transfer.model
