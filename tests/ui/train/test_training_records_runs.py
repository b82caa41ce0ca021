"""The Train view records every run in the run store (the Experiments' memory), and a
damaged store only means the run is not recorded: training and the app go on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnnviz.core.experiments.run_store import RunStore
from tests.ui.app_window import shown_main_window, tiny_spec

TRAIN_LIMIT = 256


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)


def train_once(window, qtbot, epochs: int = 2) -> None:
    panel = window.training
    if panel.data is None:
        with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
            window.actions["view_train"].trigger()
    panel.settings.epochs.setValue(epochs)
    panel.settings.batch_size.setValue(64)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()


def test_a_run_in_the_app_is_recorded_with_its_history_test_accuracy_and_saved_model(
        window, qtbot, tmp_path):
    window.document.reset(tiny_spec(), None)
    train_once(window, qtbot)
    panel = window.training
    target = tmp_path / "trained.keras"
    with qtbot.waitSignal(panel.outputs.save_model(str(target)).succeeded, timeout=60_000):
        pass
    records = RunStore(tmp_path / "home" / "runs.sqlite").runs()
    assert len(records) == 1
    record = RunStore(tmp_path / "home" / "runs.sqlite").get(records[0].id)
    assert record.status == "finished" and record.epochs_done == 2
    assert record.name == tiny_spec().name and record.data_source == "mnist-sample"
    assert record.param_count == panel.model.count_params()
    assert record.train_count == panel.data.dataset.train.count
    assert record.settings["batch_size"] == 64 and record.settings["epochs"] == 2
    assert [round(row["loss"], 5) for row in record.history] == \
        [round(row["loss"], 5) for row in panel.history.epochs]
    assert record.final["test_accuracy"] == pytest.approx(panel.last_outcome.test_metrics["accuracy"])
    assert Path(record.model_path) == target.resolve()
    assert '"layers"' in record.spec_json
    assert window.failures == []


def test_a_damaged_store_leaves_training_working_and_says_the_run_is_not_recorded(
        window, qtbot, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    damaged = b"this is not a database " * 200
    (home / "runs.sqlite").write_bytes(damaged)
    window.document.reset(tiny_spec(), None)
    train_once(window, qtbot, epochs=1)
    panel = window.training
    assert panel.last_outcome is not None and panel.history.epochs_done == 1
    assert "damaged" in panel.status.text() and "not recorded" in panel.status.text()
    assert (home / "runs.sqlite").read_bytes() == damaged
    assert window.failures == []


def test_recording_can_be_turned_off(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_RECORD_RUNS", "0")
    window.document.reset(tiny_spec(), None)
    train_once(window, qtbot, epochs=1)
    assert window.training.history.epochs_done == 1
    assert not (tmp_path / "home" / "runs.sqlite").exists()
    assert os.environ["CNNVIZ_RECORD_RUNS"] == "0"
