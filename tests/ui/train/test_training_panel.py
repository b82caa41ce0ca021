"""The Train view driven through its real widgets, with real (tiny) training in a QThread."""

from __future__ import annotations

import pytest

from cnnviz.ui.common import dialogs
from tests.ui.app_window import shown_main_window, tiny_spec

TRAIN_LIMIT = 384  # training images: enough for a real run, quick on 2 cores


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)


def open_train_tab(win, qtbot):
    panel = win.training
    with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
        win.actions["view_train"].trigger()
    return panel


def use_tiny_model(win):
    win.document.reset(tiny_spec(), None)


def test_train_tab_loads_the_mnist_sample_and_previews_it(window, qtbot):
    panel = open_train_tab(window, qtbot)
    data = panel.data.dataset
    assert data.input_shape == (28, 28, 1)
    assert len(data.class_names) == 10
    assert panel.preview.sample_count > 0
    assert "MNIST" in panel.chooser.info.text()
    assert panel.start_button.isEnabled()          # the tutorial CNN fits MNIST
    assert not panel.banner.isVisible()
    assert panel.charts is not None and panel.charts.isVisible()


def test_mismatch_is_explained_and_fixed_in_one_undoable_click(window, qtbot):
    panel = open_train_tab(window, qtbot)
    with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
        panel.chooser.select_source("cifar10-sample")
    assert panel.banner.isVisible()
    assert "32×32×3" in panel.banner.label.text() or "32x32x3" in panel.banner.label.text()
    assert not panel.start_button.isEnabled()
    assert panel.banner.fix_button.isVisible()
    panel.banner.fix_button.click()
    assert list(window.document.spec.input_shape) == [32, 32, 3]
    assert not panel.banner.isVisible()
    assert panel.start_button.isEnabled()
    window.document.undo()
    assert list(window.document.spec.input_shape) == [28, 28, 1]
    assert panel.banner.isVisible()


def test_start_trains_live_then_saves_model_history_and_charts(window, qtbot, tmp_path):
    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(2)
    panel.settings.batch_size.setValue(32)
    batches, epochs = [], []
    panel.ensure_charts()
    draws_before = panel.charts.redraw_count
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()
        assert panel.running and not panel.start_button.isEnabled()
        panel.worker.batch_reported.connect(lambda *a: batches.append(a))
        panel.worker.epoch_ended.connect(lambda *a: epochs.append(a))
    assert not panel.running
    assert panel.history.epochs_done == 2 and len(epochs) == 2
    assert batches and panel.history.batches
    assert "val_accuracy" in panel.history.epochs[-1]
    assert "Test accuracy" in panel.status.text()
    assert panel.progress.format() == "Done" and panel.progress.value() == 1000
    panel.charts.redraw_now()
    assert panel.charts.redraw_count > draws_before
    assert panel.start_button.text() == "Train more"

    # Save the model in the background, then load it back and compare predictions.
    target = tmp_path / "trained.keras"
    task = panel.outputs.save_model(str(target))
    with qtbot.waitSignal(task.succeeded, timeout=60_000):
        pass
    import numpy as np
    from cnnviz.core.model.builder import load_model_file

    images = panel.data.dataset.test.images([0, 1, 2]).astype("float32") / 255.0
    np.testing.assert_allclose(load_model_file(target).predict(images, verbose=0),
                               panel.model.predict(images, verbose=0), rtol=1e-5, atol=1e-6)

    csv_path = tmp_path / "history.csv"
    qtbot_monkey_save(panel, "export_history_dialog", csv_path)
    assert csv_path.read_text().splitlines()[0].startswith("epoch,loss")
    assert len(csv_path.read_text().splitlines()) == 3
    for suffix in (".png", ".svg"):
        chart_path = tmp_path / f"charts{suffix}"
        qtbot_monkey_save(panel, "save_charts_dialog", chart_path)
        assert chart_path.stat().st_size > 1000
    assert window.failures == []


def qtbot_monkey_save(panel, method: str, path) -> None:
    """Answer the save dialog with `path` and run the panel's save action."""
    original = dialogs.get_save_path
    dialogs.get_save_path = lambda *_a: str(path)
    try:
        getattr(panel.outputs, method)()
    finally:
        dialogs.get_save_path = original


def test_pause_holds_training_stop_keeps_weights_and_train_more_continues(window, qtbot):
    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(50)
    panel.settings.batch_size.setValue(8)
    panel.start_button.click()
    worker = panel.worker
    qtbot.waitUntil(lambda: len(panel.history.batches) >= 1, timeout=60_000)
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # the batch in flight may still report
    held = len(panel.history.batches)
    qtbot.wait(600)
    assert len(panel.history.batches) == held, "training went on while paused"
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(panel.history.batches) > held, timeout=30_000)
    with qtbot.waitSignal(worker.finished_training, timeout=60_000):
        panel.stop_button.click()
    assert not panel.running
    outcome = panel.last_outcome
    assert outcome.result.stopped
    assert panel.model is outcome.model
    assert panel.progress.format() == "Stopped"
    epochs_before = panel.history.epochs_done
    assert panel.start_button.text() == "Train more"

    panel.settings.epochs.setValue(1)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()
    assert panel.model is outcome.model  # the same network went on learning
    assert panel.history.epochs_done == epochs_before + 1


def test_a_failure_in_the_worker_becomes_a_dialog_and_the_app_stays_up(window, qtbot, monkeypatch):
    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    import cnnviz.core.training.engine as training

    def broken_train(*_args, **_kwargs):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(training, "train", broken_train)
    panel.start_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert window.failures and "the GPU caught fire" in window.failures[-1]
    assert panel.progress.format() == "Failed"
    assert panel.start_button.isEnabled()  # ready to try again


def test_changing_the_model_after_training_starts_afresh(window, qtbot):
    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(1)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()
    assert panel.start_button.text() == "Train more"
    from cnnviz.core.model import spec_edits

    window.document.apply(spec_edits.set_param(window.document.spec, 0, "filters", 6), "filters")
    assert panel.start_button.text() == "Start"
    assert "changed in the builder" in panel.status.text()


def test_closing_while_training_asks_then_stops_cleanly(window, qtbot, monkeypatch):
    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(50)
    panel.settings.batch_size.setValue(8)
    panel.start_button.click()
    worker = panel.worker
    qtbot.waitUntil(lambda: len(panel.history.batches) >= 1, timeout=60_000)
    questions = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *_a: questions.append(_a[1]) or False)
    assert not window.close()              # "No": the window stays and training goes on
    assert questions == ["Training is running"] and panel.running and window.isVisible()
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *_a: questions.append(_a[1]) or True)
    assert window.close()                  # "Yes": training stops, its thread ends
    assert len(questions) == 2
    assert worker.isFinished()


def test_a_load_superseded_by_another_choice_is_dropped(window, qtbot):
    panel = open_train_tab(window, qtbot)
    loaded = []
    panel.chooser.loaded.connect(lambda result: loaded.append(result.source))
    panel.chooser.select_source("cifar10-sample")   # slower: decodes 4,000 JPEGs
    panel.chooser.select_source("mnist-sample")
    qtbot.waitUntil(lambda: not panel.chooser.busy, timeout=60_000)
    qtbot.wait(200)
    assert loaded == ["mnist-sample"]
    assert panel.data.dataset.input_shape == (28, 28, 1)
    assert not panel.banner.isVisible()


def test_observer_sees_the_start_each_epoch_and_every_n_batches_on_the_training_thread(
        window, qtbot):
    """The explainer's hook: weights looked at between batches, results arriving as signals."""
    import threading

    import numpy as np

    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(2)
    panel.settings.batch_size.setValue(64)   # 384 images → 6 batches per epoch
    gui_thread = threading.get_ident()
    seen: list[tuple[int, dict, bool, np.ndarray]] = []
    window.ensure_explain().learning.detach()   # this test's observer instead of the view's
    run = window.workspace.run
    run.observer = lambda model, epoch, logs: (
        epoch, logs, threading.get_ident() != gui_thread, model.layers[0].get_weights()[0].copy())
    run.observe_every_batches = 4
    run.observed.connect(seen.append)
    live_models = []
    run.started.connect(live_models.append)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()
    qtbot.wait(50)  # queued `observed` signals sent before the last one are delivered
    epochs = [epoch for epoch, logs, _t, _k in seen if "batch" not in logs]
    assert epochs == [-1, 0, 1]
    assert all(off_gui for _e, _l, off_gui, _k in seen)
    assert sum(1 for _e, logs, _t, _k in seen if "batch" in logs) == 3  # 12 batches / 4
    assert "val_accuracy" in seen[-1][1]
    assert live_models == [panel.model]
    # The snapshots are the weights of their moment: the start differs from the end.
    assert not np.allclose(seen[0][3], seen[-1][3])
    assert np.allclose(seen[-1][3], panel.model.layers[0].get_weights()[0])


@pytest.mark.parametrize("size, zoom", [((1024, 640), 1.0), ((1024, 768), 1.5),
                                        ((1280, 720), 1.5)])
def test_the_progress_text_is_never_clipped(qtbot, tmp_path, monkeypatch, size, zoom):
    import time

    from cnnviz.ui.common.zoom import zoom_of_app

    win = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT, size=size)
    panel = open_train_tab(win, qtbot)
    zoom_of_app().set_factor(zoom)
    try:
        qtbot.wait(50)
        # What a batch report during a long run writes (the slot the worker's signal calls).
        panel._run_first_epoch, panel._run_epochs, panel._run_batch_size = 0, 50, 64
        panel._batch(11, 99, 113, {"loss": 0.5, "accuracy": 0.8}, time.monotonic())
        qtbot.wait(50)
        assert panel.progress.text_fits(), panel.progress.format()
        detail = panel.progress_text
        assert "batch 100 of 113" in detail.text() and "left" in detail.text()
        assert detail.isVisible() and detail.wordWrap()
        assert detail.height() >= detail.heightForWidth(detail.width())   # wrapped, whole
    finally:
        zoom_of_app().set_factor(1.0)


def test_the_sample_names_follow_the_zoom_and_are_written_whole(window, qtbot):
    from cnnviz.ui.common.zoom import zoom_of_app

    panel = open_train_tab(window, qtbot)
    with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
        panel.chooser.select_source("cifar10-sample")     # names such as "automobile"
    preview = panel.preview
    height = preview.label_height()
    zoom_of_app().set_factor(1.5)
    try:
        qtbot.wait(50)
        assert preview.label_height() >= 1.3 * height
        assert preview.labels_fit()
    finally:
        zoom_of_app().set_factor(1.0)


def test_training_never_resizes_the_charts(window, qtbot):
    """Every resize of the chart canvas is a full matplotlib redraw on the GUI thread (~60 ms):
    the progress and status lines appearing while training used to cause three per run."""
    from PySide6.QtCore import QEvent, QObject

    use_tiny_model(window)
    panel = open_train_tab(window, qtbot)
    panel.settings.epochs.setValue(2)
    canvas = panel.ensure_charts().canvas
    resizes: list[object] = []

    class Watch(QObject):
        def eventFilter(self, watched, event):  # noqa: N802
            if event.type() == QEvent.Type.Resize:
                resizes.append(event.size())
            return False

    watch = Watch()
    canvas.installEventFilter(watch)
    panel.start_button.click()
    qtbot.waitUntil(lambda: len(panel.history.batches) > 0, timeout=60_000)
    resizes.clear()                          # the start may lay out once, as TF warms up
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        pass
    assert resizes == []
