"""The Experiments view in the main window: tab 5 (Ctrl+5), train again, open a run's model,
and its keys (F5, Ctrl+Z) while the window's own F5 and Ctrl+Z mean something else."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cnnviz.core.experiments.run_store import RunStart, RunStore, default_store_path
from cnnviz.core.model.spec import ModelSpec
from cnnviz.ui.main_window import EXPERIMENTS_TAB, TRAIN_TAB
from tests.ui.app_window import shown_main_window, tiny_spec
from tests.ui.experiments.run_fixtures import write_runs


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    write_runs(default_store_path(), 5, epochs=3)
    win = shown_main_window(qtbot, tmp_path, monkeypatch, train_limit=50, size=(1280, 720))
    yield win
    if win.experiments is not None:
        win.experiments.shutdown()


def open_experiments(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    view = window.experiments
    assert window.tabs.currentIndex() == EXPERIMENTS_TAB and view is not None
    qtbot.waitUntil(lambda: not view.loading and view.proxy.rowCount() > 0, timeout=10_000)
    return view


def test_ctrl_5_shows_the_runs_of_the_users_store(qtbot, window):
    assert window.experiments is None          # not built until it is first shown
    view = open_experiments(qtbot, window)
    assert view.proxy.rowCount() == 5
    assert window.current_view() is view


def test_train_again_puts_the_spec_in_the_document_and_the_settings_in_train(qtbot, window):
    spec = tiny_spec()
    with RunStore(default_store_path()) as store:
        run_id = store.start_run(RunStart("tiny again", spec.to_json(), 1234, "mnist-sample",
                                          50, 10, 10, {"optimizer": "rmsprop",
                                                       "learning_rate": 0.0042,
                                                       "batch_size": 16, "epochs": 7,
                                                       "augment_flip": True,
                                                       "early_stopping": True,
                                                       "monitor": "val_accuracy",
                                                       "patience": 5}))
        store.finish_run(run_id, "finished", {"accuracy": 0.4})
    view = open_experiments(qtbot, window)
    before = window.document.spec
    assert before != spec
    view.select_ids([run_id])
    view.details.train_again.click()
    assert window.document.spec == ModelSpec.from_json(spec.to_json())
    assert window.tabs.currentIndex() == TRAIN_TAB
    settings = window.training.settings
    assert settings.optimizer.currentData() == "rmsprop"
    assert settings.learning_rate.value() == pytest.approx(0.0042)
    assert (settings.batch_size.value(), settings.epochs.value()) == (16, 7)
    assert settings.flip.isChecked() and settings.early_stopping.isChecked()
    assert settings.monitor.currentData() == "val_accuracy" and settings.patience.value() == 5
    window.document.undo()                     # one undoable edit
    assert window.document.spec == before


def test_ctrl_z_after_a_delete_restores_the_runs_not_the_builders_edit(qtbot, window):
    window.document.apply(tiny_spec(), "a builder edit Ctrl+Z would undo")
    spec_before = window.document.spec
    assert window.document.can_undo
    view = open_experiments(qtbot, window)
    view.select_ids(view.shown_ids()[:1])
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert view.proxy.rowCount() == 4
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert view.proxy.rowCount() == 5
    assert window.document.spec == spec_before      # the builder's undo was left alone


def test_f5_in_the_experiments_view_refreshes_instead_of_training(qtbot, window):
    view = open_experiments(qtbot, window)
    with RunStore(default_store_path()) as store:
        store.start_run(RunStart("another", "{}", 10, "mnist-sample", 10, 1, 1))
    view.table.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.table, Qt.Key.Key_F5)
    QApplication.processEvents()
    assert view.proxy.rowCount() == 6
    assert not window.training.running and window.tabs.currentIndex() == EXPERIMENTS_TAB


def test_open_model_asks_the_window_to_open_the_saved_file(qtbot, window, tmp_path, monkeypatch):
    model_file = tmp_path / "saved.keras"
    model_file.write_bytes(b"not really a model")
    with RunStore(default_store_path()) as store:
        run_id = store.start_run(RunStart("saved", "{}", 10, "mnist-sample", 10, 1, 1))
        store.finish_run(run_id, "finished", {}, str(model_file))
    opened: list[str] = []
    monkeypatch.setattr(window.models, "open_file", opened.append)
    view = open_experiments(qtbot, window)
    view.select_ids([run_id])
    assert view.details.open_inspect.isEnabled()
    view.details.open_inspect.click()
    assert opened == [str(model_file)]
    assert window.tabs.currentIndex() == 3   # Inspect
    view.select_ids([view.shown_ids()[-1]])  # a run that saved no model
    assert not view.details.open_inspect.isEnabled()
