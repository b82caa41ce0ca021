"""The Train view with 1-D models and time series: the fit check's one-click fix of a
(150, 1) model on 6-channel signals, the signal augmentation controls, and live training of
the GunPoint preset with the same charts, pause and stop as for images."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.model.presets import preset_spec
from tests.core.data.series_fixtures import series_values, write_ts
from tests.ui.app_window import shown_main_window
from tests.ui.train.test_training_panel import TRAIN_LIMIT, open_train_tab


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)


def load(panel, qtbot, source):
    with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
        panel.chooser.select_source(source)


def six_channel_folder(tmp_path):
    folder = tmp_path / "Six"
    folder.mkdir()
    for part, seed in (("TRAIN", 1), ("TEST", 2)):
        write_ts(folder / f"Six_{part}.ts", series_values(8, 150, channels=6, seed=seed),
                 ["a", "b"] * 4, name="Six")
    return folder


def test_a_one_channel_model_on_six_channel_signals_is_fixed_in_one_click(window, qtbot,
                                                                          tmp_path):
    window.document.reset(preset_spec("signal_fcn"), None)
    panel = open_train_tab(window, qtbot)
    load(panel, qtbot, str(six_channel_folder(tmp_path)))
    assert panel.banner.isVisible() and not panel.start_button.isEnabled()
    text = panel.banner.label.text()
    assert "signals with 1 channel (150 steps × 1)" in text and "6 channels" in text
    assert panel.banner.fix_button.text() == "Change the model's input to (150, 6)"
    panel.banner.fix_button.click()
    assert tuple(window.document.spec.input_shape) == (150, 6)
    assert not panel.banner.isVisible() and panel.start_button.isEnabled()
    window.document.undo()
    assert tuple(window.document.spec.input_shape) == (150, 1)
    assert panel.banner.isVisible()


def test_a_1d_model_on_images_is_explained_without_a_wrong_fix(window, qtbot):
    window.document.reset(preset_spec("signal_fcn"), None)
    panel = open_train_tab(window, qtbot)   # the MNIST sample
    assert panel.banner.isVisible()
    assert "1-D network taking signals of 150 steps" in panel.banner.label.text()
    assert not panel.banner.fix_button.isVisible()
    assert not panel.start_button.isEnabled()


def test_augmentation_controls_follow_the_kind_of_data(window, qtbot):
    panel = open_train_tab(window, qtbot)
    settings = panel.settings
    assert settings.flip.isVisible() and not settings.jitter.isVisible()
    assert settings.augment_label.text() == "Augment training images"
    settings.flip.setChecked(True)
    load(panel, qtbot, "gunpoint-sample")
    assert settings.jitter.isVisible() and settings.scaling.isVisible()
    assert not settings.flip.isVisible()
    assert settings.augment_label.text() == "Augment training series"
    settings.jitter.setChecked(True)
    augment = settings.config().augment
    # The hidden image boxes do not apply to signals.
    assert (augment.jitter, augment.scaling, augment.flip) == (0.03, 0.0, False)
    settings.scaling.setChecked(True)
    assert settings.config().augment.scaling == 0.1
    load(panel, qtbot, "mnist-sample")
    augment = settings.config().augment
    assert augment.flip and augment.jitter == 0.0 and augment.scaling == 0.0


def test_the_gunpoint_preset_trains_live_with_pause_and_stop(window, qtbot, tmp_path):
    window.document.reset(preset_spec("signal_fcn"), None)
    panel = open_train_tab(window, qtbot)
    load(panel, qtbot, "gunpoint-sample")
    assert not panel.banner.isVisible() and panel.start_button.isEnabled()
    assert panel.samples_title.text() == "Sample series"
    panel.settings.epochs.setValue(2)
    panel.settings.batch_size.setValue(10)
    panel.settings.jitter.setChecked(True)
    panel.ensure_charts()
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()
    assert panel.history.epochs_done == 2
    assert "val_accuracy" in panel.history.epochs[-1]
    assert "Test accuracy" in panel.status.text()
    assert panel.charts.redraw_count > 0

    # Pause holds it between batches; Stop ends it within one batch, weights kept.
    panel.settings.epochs.setValue(50)
    paused_at = []
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        panel.start_button.click()  # "Train more"
        qtbot.waitUntil(lambda: len(panel.history.batches) > 12, timeout=60_000)
        panel.pause_button.click()
        qtbot.wait(300)
        paused_at.append(len(panel.history.batches))
        qtbot.wait(300)
        assert len(panel.history.batches) <= paused_at[0] + 1
        assert panel.pause_button.text() == "Resume"
        panel.stop_button.click()
    assert 2 <= panel.history.epochs_done < 52
    series = panel.data.dataset.test.images([0, 1])
    assert panel.model.predict(series, verbose=0).shape == (2, 2)
    assert np.isfinite(panel.history.epochs[-1]["loss"])
    assert window.failures == []


@pytest.mark.parametrize("size, zoom", [((1280, 720), 1.5), ((1024, 768), 1.5),
                                        ((1280, 720), 1.0)])
def test_the_train_view_with_gunpoint_keeps_its_controls_in_view(qtbot, tmp_path, monkeypatch,
                                                                 size, zoom):
    from cnnviz.ui.common.zoom import zoom_of_app

    win = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT, size=size)
    win.document.reset(preset_spec("signal_fcn"), None)
    panel = open_train_tab(win, qtbot)
    load(panel, qtbot, "gunpoint-sample")
    zoom_of_app().set_factor(zoom)
    try:
        qtbot.wait(100)
        settings = panel.settings
        for box in (settings.jitter, settings.scaling):
            assert box.isVisible()
            # Written whole: the check box is as wide as its text needs.
            assert box.width() >= box.sizeHint().width()
        win.grab().save(str(tmp_path / f"train_1d_{size[0]}x{size[1]}_{zoom}.png"))
    finally:
        zoom_of_app().set_factor(1.0)
