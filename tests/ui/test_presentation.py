"""Presentation mode, the zoom, the first-start hint, F5 on the Explain view, and keyboard
focus after a file dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QToolButton, QWidget

from cnnviz.ui import main_window
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.zoom import zoom_factor, zoom_of_app
from cnnviz.ui.main_window import MainWindow
from tests.ui.app_window import shown_main_window

TRAIN_LIMIT = 256


@pytest.fixture(autouse=True)
def normal_zoom_afterwards(qapp):
    yield
    zoom = zoom_of_app()
    zoom.set_presenting(False)
    zoom.set_factor(1.0)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT, size=(1100, 700))


def test_presentation_mode_is_full_screen_zoomed_and_high_contrast_and_leaving_restores(
        window, qtbot):
    window.resize(800, 600)         # inside the offscreen platform's 800×800 screen
    window.move(0, 40)
    geometry = window.geometry()
    text_colour = QApplication.palette().color(QPalette.ColorRole.WindowText)
    base_size = QApplication.font().pointSizeF()
    window.actions["presentation"].trigger()
    assert window.presentation.on and window.actions["presentation"].isChecked()
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    assert zoom_factor() == 1.5
    assert QApplication.font().pointSizeF() == pytest.approx(base_size * 1.5)
    assert QApplication.palette().color(QPalette.ColorRole.WindowText).name() == "#000000"
    window.actions["leave_presentation"].trigger()
    qtbot.waitUntil(lambda: not window.windowState() & Qt.WindowState.WindowFullScreen,
                    timeout=2000)
    assert not window.presentation.on and zoom_factor() == 1.0
    assert QApplication.font().pointSizeF() == pytest.approx(base_size)
    assert QApplication.palette().color(QPalette.ColorRole.WindowText) == text_colour
    qtbot.waitUntil(lambda: window.geometry() == geometry, timeout=2000)


def test_zoom_steps_are_remembered_for_each_mode(window, tmp_path):
    window.actions["zoom_in"].trigger()
    window.actions["zoom_in"].trigger()
    assert zoom_factor() == 1.5
    window.actions["zoom_out"].trigger()
    assert zoom_factor() == 1.25 and "125 %" in window.actions["zoom_reset"].text()
    window.set_presentation(True)
    assert zoom_factor() == 1.5                      # presentation keeps its own zoom
    window.actions["zoom_in"].trigger()
    window.set_presentation(False)
    assert zoom_factor() == 1.25
    stored = main_window.settings()
    assert float(stored.value("zoom/normal")) == 1.25
    assert float(stored.value("zoom/presentation")) == 1.75
    window.actions["zoom_reset"].trigger()
    assert zoom_factor() == 1.0


def test_side_panels_fold_away_and_come_back(window):
    explain = window.ensure_explain()
    assert explain.lesson.isVisibleTo(explain)
    window.actions["side_panels"].trigger()
    assert not explain.lesson.isVisibleTo(explain) and not window.actions["side_panels"].isChecked()
    assert not window.training.chooser.isVisibleTo(window.training)
    window.actions["side_panels"].trigger()
    assert explain.lesson.isVisibleTo(explain) and window.training.chooser.isVisibleTo(window.training)


def test_a_zoomed_view_that_cannot_fit_scrolls_instead_of_clipping(window, qtbot):
    window.resize(1024, 768)
    window.presentation.set_zoom(2.5)
    window.tabs.setCurrentIndex(0)
    area = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: area.widget().width() >= area.widget().minimumSizeHint().width(),
                    timeout=2000)
    assert window.builder.width() >= window.builder.minimumSizeHint().width()
    assert window.builder.height() >= window.builder.minimumSizeHint().height()


def test_the_first_window_says_where_to_begin_until_dismissed(qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)
    assert window.hint.isVisible() and "Build" in window.hint.findChild(QLabel).text()
    window.hint.findChild(QToolButton).click()
    assert not window.hint.isVisible()
    again = MainWindow()
    qtbot.addWidget(again)
    assert not again.hint.isVisibleTo(again)


def test_f5_on_the_explain_view_trains_there(window, qtbot):
    window.show_view("explain")
    qtbot.waitUntil(lambda: window.workspace.data.loaded is not None, timeout=60_000)
    window.training.settings.epochs.setValue(1)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        window.actions["train_start"].trigger()
        assert window.tabs.currentIndex() == 2          # the class keeps watching
    assert window.tabs.currentIndex() == 2


def test_keyboard_focus_comes_back_after_a_file_dialog(window, qtbot, monkeypatch):
    window.activateWindow()
    window.builder.stack.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.builder.stack, timeout=2000)

    def steal_focus(*_args):
        other = QWidget()          # a dialog that leaves no window of ours active
        other.show()
        other.activateWindow()
        other.setFocus()
        QApplication.processEvents()
        other.close()
        QApplication.processEvents()
        assert QApplication.activeWindow() is not window
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", steal_focus)
    assert dialogs.get_open_path(window, "Open", "", "*") == ""
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window
                    and QApplication.focusWidget() is window.builder.stack, timeout=1000)


def test_cnnviz_dash_dash_presentation_starts_in_presentation_mode(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from cnnviz.ui import app as app_module

    ini = tmp_path / "settings.ini"
    monkeypatch.setattr(main_window, "settings",
                        lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    monkeypatch.setattr(app_module.QTimer, "singleShot", lambda *_a: None)  # no TF preload
    shown: list[MainWindow] = []

    def run_event_loop(app):
        shown.extend(w for w in app.topLevelWidgets() if isinstance(w, MainWindow)
                     and w.isVisible())
        return 0

    monkeypatch.setattr(QApplication, "exec", run_event_loop)
    assert app_module.run_app(presentation=True) == 0
    assert len(shown) == 1
    window = shown[0]
    qtbot.addWidget(window, before_close_func=lambda w: w.set_presentation(False))
    assert window.presentation.on and window.windowState() & Qt.WindowState.WindowFullScreen
def test_zoom_reaches_the_labels_of_every_view(window, qtbot):
    window.ensure_explain()
    views = [window.builder, window.training, window.explain, window.models]
    labels = [label for view in views for label in view.findChildren(QLabel)
              if label.text() and label.isVisibleTo(view)]
    before = {id(label): label.font().pointSizeF() for label in labels}
    window.presentation.set_zoom(2.0)
    qtbot.waitUntil(lambda: all(label.font().pointSizeF() == pytest.approx(2 * before[id(label)])
                                for label in labels), timeout=2000)


