"""Playback clock, its control bar and its keys, driven through the real widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cnnviz.ui.explain.playback import (
    MAX_SPEED, MIN_SPEED, Playback, PlaybackBar, install_playback_shortcuts,
)


def test_playing_advances_over_time_and_stops_at_the_end(qtbot):
    playback = Playback(count=6)
    playback.set_speed(MAX_SPEED)
    seen: list[int] = []
    playing: list[bool] = []
    playback.position_changed.connect(seen.append)
    playback.playing_changed.connect(playing.append)
    playback.play()
    assert playback.is_playing()
    qtbot.waitUntil(lambda: not playback.is_playing(), timeout=5000)
    assert playback.position() == 5
    assert seen == sorted(seen) and seen[-1] == 5 and len(seen) >= 2
    assert playing == [True, False]


def test_play_from_the_last_step_starts_again_from_the_first(qtbot):
    playback = Playback(count=4)
    playback.to_end()
    with qtbot.waitSignal(playback.position_changed) as blocker:
        playback.play()
    assert blocker.args == [0]
    playback.pause()


def test_steps_clamp_to_the_range_and_pause_playing():
    playback = Playback(count=3)
    playback.step_back()
    assert playback.position() == 0
    playback.step_forward()
    playback.step_forward()
    playback.step_forward()
    assert playback.position() == 2
    playback.to_start()
    playback.play()
    playback.step_forward()
    assert not playback.is_playing() and playback.position() == 1


def test_speed_stays_between_1_and_60_steps_per_second():
    playback = Playback(count=10)
    playback.set_speed(0)
    assert playback.speed() == MIN_SPEED
    playback.set_speed(500)
    assert playback.speed() == MAX_SPEED


def test_a_new_count_keeps_a_valid_position_and_clamps_a_stale_one():
    playback = Playback(count=100)
    playback.set_position(40)
    playback.set_count(50)
    assert playback.position() == 40
    playback.set_count(10)
    assert playback.position() == 9


@pytest.fixture
def bar(qtbot):
    playback = Playback(count=676)
    widget = PlaybackBar(playback)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_bar_buttons_slider_and_labels_drive_the_playback(qtbot, bar):
    playback = bar.playback
    assert bar.step_label.text() == "step 1 of 676"
    qtbot.mouseClick(bar.forward_button, Qt.MouseButton.LeftButton)
    assert playback.position() == 1 and bar.step_label.text() == "step 2 of 676"
    qtbot.mouseClick(bar.end_button, Qt.MouseButton.LeftButton)
    assert playback.position() == 675 and bar.scrub_slider.value() == 675
    qtbot.mouseClick(bar.back_button, Qt.MouseButton.LeftButton)
    assert playback.position() == 674
    qtbot.mouseClick(bar.start_button, Qt.MouseButton.LeftButton)
    assert playback.position() == 0
    bar.scrub_slider.setValue(36)
    assert playback.position() == 36 and bar.step_label.text() == "step 37 of 676"
    bar.speed_slider.setValue(30)
    assert playback.speed() == 30 and bar.speed_label.text() == "30 steps/s"
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert playback.is_playing() and bar.play_button.toolTip() == "Pause (Space)"
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert not playback.is_playing() and bar.play_button.toolTip() == "Play (Space)"


def test_bar_tooltips_name_the_keys(bar):
    tips = [bar.start_button.toolTip(), bar.back_button.toolTip(), bar.play_button.toolTip(),
            bar.forward_button.toolTip(), bar.end_button.toolTip()]
    assert [tip[tip.index("(") + 1:-1] for tip in tips] == ["Home", "Left", "Space", "Right", "End"]


def test_bar_with_one_step_disables_its_controls(qtbot):
    widget = PlaybackBar(Playback(count=1))
    qtbot.addWidget(widget)
    assert not widget.play_button.isEnabled() and not widget.scrub_slider.isEnabled()
    assert widget.step_label.text() == "step 1 of 1"


def test_keys_move_the_position_on_the_widget_and_its_children(qtbot):
    host = QWidget()
    child = QWidget(host)  # the focus anywhere inside the widget: the keys still work
    child.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    QVBoxLayout(host).addWidget(child)
    qtbot.addWidget(host)
    playback = Playback(count=20)
    install_playback_shortcuts(host, playback)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    child.setFocus()
    qtbot.waitUntil(child.hasFocus)
    qtbot.keyClick(child, Qt.Key.Key_Right)
    qtbot.keyClick(child, Qt.Key.Key_Right)
    assert playback.position() == 2
    qtbot.keyClick(child, Qt.Key.Key_Left)
    assert playback.position() == 1
    qtbot.keyClick(child, Qt.Key.Key_End)
    assert playback.position() == 19
    qtbot.keyClick(child, Qt.Key.Key_Home)
    assert playback.position() == 0
    qtbot.keyClick(child, Qt.Key.Key_Space)
    assert playback.is_playing()
    qtbot.keyClick(child, Qt.Key.Key_Space)
    assert not playback.is_playing()
