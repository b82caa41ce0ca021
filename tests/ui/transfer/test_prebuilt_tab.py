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


def test_explain_on_the_features_page_opens_a_sample_base_and_explains_that_image(
        qtbot, tmp_path, monkeypatch):
    from tests.ui.transfer.test_features_view import compute

    window = shown_main_window(qtbot, tmp_path, monkeypatch, train_limit=200, size=(1280, 720))
    window.tabs.setCurrentIndex(PREBUILT_TAB)
    window.prebuilt.setCurrentWidget(window.features_view)
    view = window.features_view
    qtbot.waitUntil(lambda: view.base is not None, timeout=60_000)   # the sample model
    view.set_source("mnist-sample")
    view.limit_spin.setValue(150)
    view.set_checked_layers(["conv2d_1"])
    compute(qtbot, view)
    index = int(view.panels[0].indices[5])
    view.select_example(index, "conv2d_1")
    view.neighbour_strip.explain_button.click()
    qtbot.waitUntil(lambda: window.explain is not None and window.tabs.currentIndex() == 2,
                    timeout=60_000)
    opened = window.workspace.opened.opened
    assert opened is not None and Path(opened.path).name == "mnist_cnn_small.keras"
    qtbot.waitUntil(lambda: f"#{index} of" in window.workspace.explained.caption, timeout=60_000)
