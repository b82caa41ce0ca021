"""The Explain view driven through its real widgets: real forward passes, real (tiny) training."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cnnviz.core.model.spec import ModelSpec
from cnnviz.ui.common import dialogs
from cnnviz.ui.explain.views.grid_painting import display_value
from tests.ui.app_window import shown_main_window, tiny_spec

TRAIN_LIMIT = 256


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT, size=(1280, 800))


def open_explain(win, qtbot, spec: ModelSpec | None = None):
    if spec is not None:
        win.document.reset(spec, None)
    win.actions["view_explain"].trigger()
    panel = win.explain
    qtbot.waitUntil(lambda: panel.session.forward is not None and panel.views.steps is not None,
                    timeout=90_000)
    return panel


def wait_for_layer(panel, qtbot, name: str):
    qtbot.waitUntil(lambda: panel.views.steps is not None and panel.views.steps.name == name,
                    timeout=30_000)


def test_first_visit_runs_a_test_image_through_the_untrained_builder_model(window, qtbot):
    panel = open_explain(window, qtbot)
    chips = panel.strip.chips()
    assert [c.layer_type for c in chips] == ["Input", "Conv2D", "MaxPooling2D", "Conv2D",
                                              "Flatten", "Dense", "Dense"]
    assert [c.shape for c in chips][1] == (26, 26, 32)
    assert panel.views.summary()["kind"] == "conv" and panel.views.playback.count() == 26 * 26
    assert "Untrained" in panel.banner.text()
    # The number on screen is Keras's: the first conv layer on the input, at the shown cell.
    model, image = panel.session.model, panel.session.image
    panel.views.playback.set_position(26 * 13 + 11)
    expected = np.asarray(model.layers[0](image[None]))[0, 13, 11, 0]
    assert display_value(expected) in panel.views.current_view().calculation_text()
    chart_sum = float(np.sum(panel.session.forward.probabilities))
    assert chart_sum == pytest.approx(1.0, abs=1e-5)


def test_layers_by_click_and_keys_and_playback_by_keys(window, qtbot):
    panel = open_explain(window, qtbot, tiny_spec())
    strip = panel.strip
    QTest.mouseClick(strip.chip_widget(), Qt.MouseButton.LeftButton, pos=strip.chip_center(1))
    wait_for_layer(panel, qtbot, "max_pooling2d")
    assert panel.views.summary()["kind"] == "pool" and panel.views.playback.count() == 36
    assert not panel.pages.isTabEnabled(2)          # pooling has no filters
    panel.views.setFocus()
    QTest.keyClick(panel.views, Qt.Key.Key_End)
    assert panel.views.playback.position() == 35
    QTest.keyClick(panel.views, Qt.Key.Key_Left)
    assert panel.views.playback.position() == 34
    QTest.keyClick(panel.views, Qt.Key.Key_Home)
    assert panel.views.playback.position() == 0
    QTest.keyClick(panel.views, Qt.Key.Key_Space)
    assert panel.views.playback.is_playing()
    qtbot.waitUntil(lambda: panel.views.playback.position() > 0, timeout=5_000)
    QTest.keyClick(panel.views, Qt.Key.Key_Space)
    assert not panel.views.playback.is_playing()
    QTest.keyClick(panel.views, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    wait_for_layer(panel, qtbot, "flatten")
    QTest.keyClick(panel.views, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(panel.views, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    wait_for_layer(panel, qtbot, "conv2d")
    assert panel.pages.isTabEnabled(2)
    # A click on a feature map follows that filter in the step view.
    panel.maps.channel_clicked.emit(3)
    assert panel.views.summary()["filter"] == 3 and panel.pages.currentIndex() == 0


def test_the_newest_input_wins_when_inputs_change_quickly(window, qtbot):
    panel = open_explain(window, qtbot, tiny_spec())
    for _ in range(4):
        panel.picker.browse(1)
    dataset = window.training.data.dataset
    from cnnviz.core.data.input_images import dataset_input, explain_split

    expected, _label = dataset_input(dataset, explain_split(dataset), 4)
    qtbot.waitUntil(lambda: np.array_equal(panel.session.forward.image, expected), timeout=30_000)
    qtbot.wait(300)   # later, stale results must not replace it
    assert np.array_equal(panel.session.forward.image, expected)
    assert not panel.session.busy


def test_training_refreshes_the_view_and_records_epochs_for_the_replay(window, qtbot):
    panel = open_explain(window, qtbot, tiny_spec())
    training = window.training
    training.settings.epochs.setValue(2)
    refreshed = []
    panel.session.forward_ready.connect(lambda result: refreshed.append(result.keep_place))
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        training.start()
    qtbot.waitUntil(lambda: panel.history.epochs() == [0, 1, 2], timeout=10_000)
    assert sum(refreshed) >= 3, "the view did not refresh during training"
    assert "Untrained" not in panel.banner.text()
    start, end = panel.history.at(0), panel.history.at(2)
    assert not np.allclose(start.kernels["conv2d"], end.kernels["conv2d"])
    np.testing.assert_allclose(end.kernels["conv2d"],
                               training.model.get_layer("conv2d").get_weights()[0])
    # Replaying the random start shows its filters; the newest epoch is live again.
    panel.pages.setCurrentWidget(panel.filters)
    panel.replay.select_epoch(0)
    np.testing.assert_allclose(panel.filters.kernel, start.kernels["conv2d"])
    panel.replay.select_epoch(2)
    qtbot.waitUntil(lambda: panel.learning.replaying is None, timeout=5_000)
    np.testing.assert_allclose(panel.filters.kernel, end.kernels["conv2d"], rtol=1e-6)


def test_the_view_is_saved_as_png_and_the_animation_as_gif(window, qtbot, tmp_path, monkeypatch):
    from PIL import Image

    panel = open_explain(window, qtbot, tiny_spec())
    panel.strip.select(1)
    wait_for_layer(panel, qtbot, "max_pooling2d")
    targets = iter([str(tmp_path / "view.png"), str(tmp_path / "pooling.gif")])
    monkeypatch.setattr(dialogs, "get_save_path", lambda *_a: next(targets))
    panel.png_button.click()
    panel.gif_button.click()
    with Image.open(tmp_path / "view.png") as png:
        assert png.width > 400 and png.height > 300
    with Image.open(tmp_path / "pooling.gif") as gif:
        assert gif.n_frames == 36
    assert window.failures == []
    read_only = tmp_path / "locked"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        assert not panel.exporter.save_png(str(read_only / "view.png"))
    finally:
        read_only.chmod(0o700)
    assert window.failures and "locked" in window.failures[-1]


def test_epochs_trained_before_the_explain_view_is_first_shown_are_in_its_replay(window, qtbot):
    """Issue 12: it said "No epochs recorded yet: train the model" after 2 epochs of training
    that ran before the Explain view was first shown."""
    window.document.reset(tiny_spec(), None)
    training = window.training
    with qtbot.waitSignal(training.chooser.loaded, timeout=60_000):
        window.actions["view_train"].trigger()
    training.settings.epochs.setValue(2)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        training.start()
    assert window.tabs.currentIndex() == 1   # the Explain view was never shown
    panel = open_explain(window, qtbot)
    assert panel.history.epochs() == [0, 1, 2]   # the random start and both epochs
    assert "No epochs recorded yet" not in panel.replay.label.text()


def test_the_replay_says_a_file_has_nothing_to_replay(window, qtbot, tmp_path):
    from cnnviz.core.model.builder import build_model, save_model_file

    path = tmp_path / "tiny.keras"
    save_model_file(build_model(tiny_spec()), path)
    panel = open_explain(window, qtbot)
    window.open_path(str(path))
    qtbot.waitUntil(lambda: not window.models.busy, timeout=60_000)
    window.workspace.opened.request_explain()
    qtbot.waitUntil(lambda: "tiny.keras" in str(panel.session.origin), timeout=30_000)
    text = panel.replay.label.text()
    assert "No epochs recorded yet" not in text
    assert "Nothing to replay" in text and "opened from a file" in text


def test_the_answer_is_shown_once_and_an_untrained_guess_says_so(window, qtbot):
    """Issue 12: "✓ correct" (picker) and "✓ right" (chart) both showed the prediction, and an
    untrained model's 12 % guess was marked correct without saying it was a guess."""
    from PySide6.QtWidgets import QLabel

    panel = open_explain(window, qtbot, tiny_spec())
    shown = [label.text() for label in panel.findChildren(QLabel)
             if "Predict" in label.text() or "correct" in label.text()]
    assert shown == []   # the chart's headline is the one place the answer is written
    headline = panel.chart.headline()
    assert headline.startswith("Guess: ") and "random" in headline
    if panel.chart.is_correct():
        assert "by chance" in headline
    # Trained, it is a prediction again.
    window.training.settings.epochs.setValue(1)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        window.training.start()
    qtbot.waitUntil(lambda: panel.chart.headline().startswith("Prediction: "), timeout=30_000)


def test_the_default_models_layer_strip_fits_a_1024_window_without_a_scroll_bar(window, qtbot):
    """Issue 12: the strip needed a scroll bar for the default 7-layer model at 1024 wide."""
    window.resize(1024, 768)
    panel = open_explain(window, qtbot)
    qtbot.wait(50)
    strip = panel.strip
    assert len(strip.chips()) == 7
    assert strip.horizontalScrollBar().maximum() == 0
    last = strip.chip_widget().chip_rects()[-1]
    assert last.right() <= strip.viewport().width()


def test_at_1024_and_zoom_150_the_explain_page_is_no_wider_than_the_window(window, qtbot):
    """At 1024×768 with the zoom at 150 % the playback bar, the filter/channel selectors and
    the status line with its buttons made the page ~1140 px wide: the window scrolled sideways
    and the lesson was cut. They now go onto a second row, and every part stays in view."""
    from cnnviz.ui.common.zoom import zoom_of_app

    window.resize(1024, 768)
    panel = open_explain(window, qtbot)
    panel.select_layer_named("conv2d_1")
    wait_for_layer(panel, qtbot, "conv2d_1")
    try:
        zoom_of_app().set_factor(1.5)
        qtbot.wait(100)
        assert panel.minimumSizeHint().width() <= 1024
        assert panel.width() <= window.width()
        bar = panel.views.bar
        assert bar.two_rows()   # the speed went under the steps
        assert bar.step_label.geometry().right() <= bar.width()
        labels = [bar.step_label, bar.speed_title]
        assert not labels[0].geometry().intersects(labels[1].geometry())
        assert panel.views.channel_box.isVisible()
        assert panel.views.selectors_row.stacked()   # the check box under the selectors
        assert panel.lesson.geometry().right() <= panel.width()
    finally:
        zoom_of_app().set_factor(1.0)
    qtbot.wait(50)
    assert not panel.views.bar.two_rows()
