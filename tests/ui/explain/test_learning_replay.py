"""The learning replay: a slider over recorded epochs, Play, and Live while training."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.core.explain.learning_snapshots import EpochSnapshot, LearningHistory
from cnnviz.ui.explain.learning_replay import EMPTY_TEXT, LearningReplay


def snapshot(epoch: int) -> EpochSnapshot:
    logs = {} if epoch == 0 else {"loss": 1.0 / (epoch + 1), "val_accuracy": 0.5 + epoch / 20}
    return EpochSnapshot(epoch, kernels={"c": np.full((3, 3, 1, 2), epoch, np.float32)},
                         feature_maps={"c": np.zeros((4, 4, 2), np.float32)}, logs=logs)


def history_of(epochs: int, planned: int | None = None) -> LearningHistory:
    history = LearningHistory(planned_epochs=planned)
    for epoch in range(epochs + 1):
        history.add(snapshot(epoch))
    return history


@pytest.fixture
def replay(qtbot) -> LearningReplay:
    widget = LearningReplay(play_interval_ms=20)
    qtbot.addWidget(widget)
    widget.resize(600, 80)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_empty_replay_says_so_and_cannot_be_played(replay):
    assert replay.selected_epoch() is None and EMPTY_TEXT in replay.label.text()
    assert not replay.slider.isEnabled() and not replay.play_button.isEnabled()
    replay.set_history(LearningHistory())
    assert replay.selected_epoch() is None and not replay.slider.isEnabled()


def test_live_follows_the_newest_epoch_as_training_adds_them(replay, qtbot):
    history = history_of(0, planned=5)
    with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
        replay.set_history(history)
    assert signal.args == [0] and "random start" in replay.label.text()
    for epoch in (1, 2):
        history.add(snapshot(epoch))
        with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
            replay.history_updated()
        assert signal.args == [epoch]
    assert replay.slider.maximum() == 2 and replay.slider.value() == 2
    assert "after epoch 2 of 5" in replay.label.text()
    assert "val_accuracy 0.60" in replay.label.text()


def test_moving_the_slider_back_selects_that_epoch_and_leaves_live(replay, qtbot):
    history = history_of(5, planned=5)
    replay.set_history(history)
    assert replay.is_live() and replay.selected_epoch() == 5
    with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
        qtbot.keyClick(replay.slider, Qt.Key.Key_Home)          # the user drags to the start
    assert signal.args == [0] and not replay.is_live()
    assert "random start" in replay.label.text()
    with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
        qtbot.keyClick(replay.slider, Qt.Key.Key_Right)
    assert signal.args == [1] and "after epoch 1 of 5" in replay.label.text()
    history.add(snapshot(6))                  # training goes on: the view stays on epoch 1
    with qtbot.assertNotEmitted(replay.epoch_selected):
        replay.history_updated()
    assert replay.selected_epoch() == 1 and replay.slider.maximum() == 6
    with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
        replay.live_box.click()                # back to Live: the newest again
    assert signal.args == [6] and replay.slider.value() == 6


def test_play_steps_through_every_epoch_from_the_random_start(replay, qtbot):
    replay.set_history(history_of(4))
    seen: list[int] = []
    replay.epoch_selected.connect(seen.append)
    qtbot.mouseClick(replay.play_button, Qt.MouseButton.LeftButton)   # at the end: restarts
    assert replay.is_playing() and not replay.is_live()
    assert "Pause" in replay.play_button.text()
    qtbot.waitUntil(lambda: not replay.is_playing(), timeout=3000)
    assert seen == [0, 1, 2, 3, 4]
    assert replay.selected_epoch() == 4 and "Play" in replay.play_button.text()


def test_pause_stops_where_it_is(qtbot):
    replay = LearningReplay(play_interval_ms=5000)       # slow: we press pause in between
    qtbot.addWidget(replay)
    replay.set_history(history_of(3))
    replay.select_epoch(1)
    replay.play()
    qtbot.mouseClick(replay.play_button, Qt.MouseButton.LeftButton)
    assert not replay.is_playing() and replay.selected_epoch() == 1


def test_select_epoch_and_the_dropped_maps_note(replay, qtbot):
    history = LearningHistory(max_bytes=1)
    for epoch in range(3):
        history.add(snapshot(epoch))
    replay.set_history(history)
    replay.set_live(False)
    with qtbot.waitSignal(replay.epoch_selected, timeout=1000) as signal:
        replay.select_epoch(1)
    assert signal.args == [1] and replay.slider.value() == 1
    assert "dropped to save memory" in replay.label.text()
    replay.select_epoch(2)
    assert "dropped" not in replay.label.text()
    with pytest.raises(KeyError):
        replay.select_epoch(9)


def test_play_and_pause_are_drawn_icons_not_font_glyphs(replay):
    """Issue 12: "⏸ Pause" was an empty box where the font lacks the glyph."""
    replay.set_history(history_of(3))
    for playing in (False, True):
        if playing:
            replay.play()
        text = replay.play_button.text()
        assert text == ("Pause" if playing else "Play")
        assert all(ord(ch) < 0x2000 for ch in text)   # no symbol glyphs in the label
        pixmap = replay.play_button.icon().pixmap(24, 24)
        assert not pixmap.isNull()
        image = pixmap.toImage()
        inked = sum(image.pixelColor(x, y).alpha() > 128 for x in range(24) for y in range(24))
        assert inked > 40   # something is drawn
    replay.stop()
