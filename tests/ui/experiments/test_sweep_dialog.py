"""The Sweep dialog driven with qtbot on real Optuna (a journal file in tmp_path), real Keras
training on the bundled MNIST sample (300 digits, tiny models, 1 epoch) and a real run store:
a grid finishes with its rows, best trial and chart and its runs in the store; a stopped
sweep continues with no trial done twice; bad values and a model that does not fit the data
are told in words; closing while running asks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnviz.core.experiments.run_store import RunStore
from cnnviz.core.experiments.sweep import list_studies
from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.spec import save_spec
from cnnviz.ui.common import dialogs
from cnnviz.ui.experiments.experiments_panel import ExperimentsView
from cnnviz.ui.experiments.sweep_dialog import SweepDialog
from cnnviz.workspace import Workspace
from tests.core.experiments.sweep_fixtures import tiny_spec

SWEEP_TIMEOUT = 180_000


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, text: shown.append(text))
    return shown


def set_up(dialog: SweepDialog, tmp_path: Path, name: str, dimension: tuple[str, str],
           batch_size: int = 32) -> None:
    """The tiny spec from a file as the only model, 300 MNIST digits, 1 epoch, a journal in
    tmp_path, one dimension."""
    spec_file = tmp_path / "tiny.json"
    save_spec(tiny_spec(), spec_file)
    dialog.set_model_checked("builder", False)
    dialog.add_spec_file(spec_file)
    dialog.select_data("mnist-sample")
    dialog.limit_box.setValue(300)
    dialog.epochs_box.setValue(1)
    dialog.batch_box.setValue(batch_size)
    row = dialog.dimensions.rows[0]
    row.name.setCurrentText(dimension[0])
    row.values.setText(dimension[1])
    dialog.set_search("grid")
    dialog.name_edit.setText(name)
    dialog.advanced.setChecked(True)
    dialog.storage_edit.setText(str(tmp_path / "sweeps.journal"))


def open_dialog(qtbot, workspace=None, store_path=None) -> SweepDialog:
    dialog = SweepDialog(workspace or Workspace(preset_spec("mnist_cnn")), store_path)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.wait_stopped())
    dialog.resize(1280, 720)
    dialog.show()
    return dialog


def test_a_grid_finishes_with_rows_best_trial_chart_and_runs_in_the_store(qtbot, tmp_path):
    store_path = tmp_path / "runs.sqlite"
    view = ExperimentsView(Workspace(preset_spec("mnist_cnn")),
                           lambda: QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat),
                           store_path)
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=20_000)
    assert view.model.rowCount() == 0
    qtbot.mouseClick(view.sweep_button, Qt.MouseButton.LeftButton)
    dialog = view.sweep_dialog
    assert dialog is not None and dialog.isVisible()
    set_up(dialog, tmp_path, "lr grid", ("learning_rate", "0.01, 0.001"))
    assert dialog.plan_problem is None and dialog.plan_label.text().startswith("2 trials")
    assert dialog.start_button.isEnabled()
    live: list[str] = []
    with qtbot.waitSignal(dialog.sweep_ended, timeout=SWEEP_TIMEOUT) as ended:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert not dialog.setup.isEnabled()        # the form is locked while it runs
        # Connected after the dialog's own slot: sees what the dialog shows for each report.
        dialog.worker.trial_progress.connect(
            lambda p: live.append(f"{dialog.status_label.text()} | {dialog.trial_bar.value()}"
                                  f"/{dialog.trial_bar.maximum()}"))
    assert ended.args == [False] and dialog.problem is None
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=10_000)   # its thread ended
    # The current trial's progress was shown live: its epoch, then its batches (9 of 32).
    assert any(text.startswith("Trial 0: epoch 1 of 1") for text in live)
    assert any("Trial 1: epoch 1 of 1, batch 9 of 9" in text and text.endswith("| 9/9")
               for text in live)

    rows = dialog.table_rows()
    assert [r[1] for r in rows] == ["done", "done"]
    assert sorted(r[3] for r in rows) == ["0.001", "0.01"]
    accuracies = [float(r[2]) for r in rows]
    best = dialog.best_row()
    assert best is not None and accuracies[best] == max(accuracies)
    assert f"trial {rows[best][0]}" in dialog.best_label.text()
    assert dialog.dimension_charts.chart_titles == ["learning_rate"]
    assert "Done: 2 trials complete" in dialog.status_label.text()

    with RunStore(store_path) as store:
        runs = store.runs()
    assert len(runs) == 2
    assert all(r.sweep == "lr grid" and "lr grid" in r.tags and r.status == "finished"
               for r in runs)
    assert sorted(r.settings["learning_rate"] for r in runs) == [0.001, 0.01]
    # The Experiments table read the store again as the trials ended.
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)


def test_a_stopped_sweep_continues_with_no_trial_done_twice(qtbot, tmp_path):
    store_path = tmp_path / "runs.sqlite"
    dialog = open_dialog(qtbot, store_path=store_path)
    set_up(dialog, tmp_path, "stop me", ("batch_size", "4, 8, 16"))
    assert dialog.start()
    worker = dialog.worker
    # Stop while the second trial trains (within a batch of it).
    worker.trial_progress.connect(lambda p: dialog.stop() if p.number == 1 else None)
    with qtbot.waitSignal(dialog.sweep_ended, timeout=SWEEP_TIMEOUT) as ended:
        pass
    assert ended.args == [True]
    with qtbot.waitSignal(dialog.studies_listed, timeout=10_000):
        qtbot.waitUntil(lambda: dialog.worker is None, timeout=10_000)   # its thread ended
    states = Counter(r[1] for r in dialog.table_rows())
    assert states["done"] in (1, 2) and states["waiting"] >= 1
    assert "Stopped" in dialog.status_label.text()

    # It is listed under "Continue a sweep" and finishes the rest from its stored plan.
    index = dialog.study_combo.findData("stop me")
    assert index >= 0
    dialog.study_combo.setCurrentIndex(index)
    assert dialog.continue_button.isEnabled()
    with qtbot.waitSignal(dialog.sweep_ended, timeout=SWEEP_TIMEOUT) as ended:
        qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert ended.args == [False]
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=10_000)   # its thread ended
    rows = dialog.table_rows()
    done = [r[3] for r in rows if r[1] == "done"]
    assert sorted(done, key=int) == ["4", "8", "16"]           # each once
    assert all(r[1] in ("done", "failed") for r in rows)       # nothing waiting any more
    [summary] = list_studies(str(tmp_path / "sweeps.journal"))
    assert summary.finished and summary.complete == 3
    with RunStore(store_path) as store:
        runs = store.runs()
    finished = [r.settings["batch_size"] for r in runs if r.status == "finished"]
    assert sorted(finished) == [4, 8, 16]
    assert all(r.status in ("finished", "stopped") for r in runs)


def test_bad_values_and_a_model_that_does_not_fit_are_told_in_words(qtbot, tmp_path):
    dialog = open_dialog(qtbot, store_path=tmp_path / "runs.sqlite")
    set_up(dialog, tmp_path, "bad", ("learning_rate", "0.01, fast"))
    row = dialog.dimensions.rows[0]
    assert row.message.isVisible()
    assert row.message.text() == "learning_rate: 'fast' is not a number above 0, such as 0.001."
    assert not dialog.start_button.isEnabled() and dialog.plan_problem == row.message.text()
    row.name.setCurrentText("conv2d.colour")
    row.values.setText("1, 2")
    assert "has no parameter 'colour'" in row.message.text()
    row.values.setText("")
    row.name.setCurrentText("")
    assert not row.message.isVisible()
    assert "nothing to vary" in dialog.plan_problem
    dialog.sizes_edit.setText("300, many")
    assert dialog.sizes_message.isVisible() and "'many' is not a whole number" in \
        dialog.sizes_message.text()
    dialog.sizes_edit.setText("100")
    assert dialog.plan_problem is None

    # A 32×32 colour model on 28×28 digits: the sweep stops with the training check's words.
    dialog.set_model_checked("tiny", False)
    dialog.set_model_checked("small_vgg_cifar10", True)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=SWEEP_TIMEOUT)
    assert dialog.problem is not None and dialog.problem_label.isVisible()
    assert "Traceback" not in dialog.problem and "28×28" in dialog.problem


def test_closing_while_running_asks(qtbot, tmp_path, monkeypatch):
    dialog = open_dialog(qtbot, store_path=tmp_path / "runs.sqlite")
    set_up(dialog, tmp_path, "close me", ("batch_size", "4, 8"))
    answers: list[bool] = [False, True]
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no",
                        lambda _p, title, _q: (asked.append(title), answers.pop(0))[1])
    assert dialog.start()
    dialog.close()
    assert asked == ["Stop the sweep?"] and dialog.isVisible() and dialog.running
    dialog.close()
    assert len(asked) == 2 and not dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.running, timeout=SWEEP_TIMEOUT)


def test_continuing_a_sweep_that_is_gone_says_so(qtbot, tmp_path):
    """The plan is read in the background; a sweep deleted since the list was read is told
    in words and nothing starts."""
    dialog = open_dialog(qtbot, store_path=tmp_path / "runs.sqlite")
    set_up(dialog, tmp_path, "gone", ("batch_size", "4, 8"))
    assert dialog.continue_sweep("no such sweep")
    qtbot.waitUntil(lambda: dialog.problem_label.isVisible(), timeout=10_000)
    assert "There is no sweep called 'no such sweep'" in dialog.problem_label.text()
    assert dialog.worker is None and not dialog.running
