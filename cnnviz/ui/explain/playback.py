"""Playback of a step-by-step explanation: position, play/pause, speed, and the bar that drives it.

`Playback` is the clock: it knows how many steps there are, which one is shown, and advances
on a QTimer at 1–60 steps per second, stopping at the last step. When painting is slower than
the chosen speed it catches up by time (skipping a few steps) instead of silently slowing down.
`PlaybackBar` is its control strip; `install_playback_shortcuts` gives a view the keys
Space, Left, Right, Home and End; `bind_step_view` wires a step view to a playback.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QElapsedTimer, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QLayout, QSizePolicy, QSlider, QStyle, QToolButton, QWidget,
)

MIN_SPEED = 1
MAX_SPEED = 60
DEFAULT_SPEED = 8
MAX_CATCH_UP_STEPS = 4   # at most this many steps per tick, so playback never visibly jumps far


class Playback(QObject):
    """Which step of `count` is shown, and whether it is advancing on its own.

    Positions run from 0 to count - 1. Playing advances `speed()` steps per second and
    stops (pauses) at the last step; playing from the last step starts again from 0.
    """

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    count_changed = Signal(int)
    speed_changed = Signal(int)

    def __init__(self, count: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._count = max(0, int(count))
        self._position = 0
        self._speed = DEFAULT_SPEED
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._steps_since_start = 0

    # ------------------------------------------------------------------ state
    def count(self) -> int:
        return self._count

    def position(self) -> int:
        return self._position

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def speed(self) -> int:
        """Steps per second while playing (1–60)."""
        return self._speed

    def set_count(self, count: int) -> None:
        """A new number of steps; the position is kept when still valid, playback pauses."""
        count = max(0, int(count))
        self.pause()
        if count != self._count:
            self._count = count
            self.count_changed.emit(count)
        self.set_position(min(self._position, max(0, count - 1)), force=True)

    def set_position(self, position: int, force: bool = False) -> None:
        """Show step `position` (clamped to 0..count-1); emits position_changed when it moves."""
        position = max(0, min(int(position), self._count - 1)) if self._count else 0
        if position != self._position or force:
            self._position = position
            self.position_changed.emit(position)

    def set_speed(self, steps_per_second: int) -> None:
        speed = max(MIN_SPEED, min(MAX_SPEED, int(steps_per_second)))
        if speed == self._speed:
            return
        self._speed = speed
        if self.is_playing():
            self._restart_clock()
        self.speed_changed.emit(speed)

    # ------------------------------------------------------------------ actions
    def play(self) -> None:
        if self._count <= 1 or self.is_playing():
            return
        if self._position >= self._count - 1:
            self.set_position(0)
        self._restart_clock()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play when paused, pause when playing (the Space key)."""
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def step_forward(self) -> None:
        self.pause()
        self.set_position(self._position + 1)

    def step_back(self) -> None:
        self.pause()
        self.set_position(self._position - 1)

    def to_start(self) -> None:
        self.pause()
        self.set_position(0)

    def to_end(self) -> None:
        self.pause()
        self.set_position(self._count - 1)

    # ------------------------------------------------------------------ clock
    def _restart_clock(self) -> None:
        self._clock.start()
        self._steps_since_start = 0
        self._timer.start(max(1, round(1000 / self._speed)))

    def _tick(self) -> None:
        due = int(self._clock.elapsed() * self._speed / 1000)
        advance = max(1, min(MAX_CATCH_UP_STEPS, due - self._steps_since_start))
        self._steps_since_start += advance
        if due - self._steps_since_start > MAX_CATCH_UP_STEPS:
            # Hopelessly behind (the window was busy): forget the debt rather than race.
            self._restart_clock()
        target = min(self._position + advance, self._count - 1)
        self.set_position(target)
        if target >= self._count - 1:
            self.pause()


def _tool_button(icon: QStyle.StandardPixmap, tooltip: str, slot, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(parent.style().standardIcon(icon))
    button.setToolTip(tooltip)
    button.setAutoRaise(True)
    # Buttons never take the focus, so the keys keep working on the view after a click.
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(slot)
    return button


class PlaybackBar(QWidget):
    """Start, back, play/pause, forward, end; a scrub slider; "step 37 of 676"; a speed slider."""

    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        sp = QStyle.StandardPixmap
        self.start_button = _tool_button(sp.SP_MediaSkipBackward, "To the start (Home)",
                                         playback.to_start, self)
        self.back_button = _tool_button(sp.SP_MediaSeekBackward, "Step back (Left)",
                                        playback.step_back, self)
        self.play_button = _tool_button(sp.SP_MediaPlay, "Play (Space)", playback.toggle, self)
        self.forward_button = _tool_button(sp.SP_MediaSeekForward, "Step forward (Right)",
                                           playback.step_forward, self)
        self.end_button = _tool_button(sp.SP_MediaSkipForward, "To the end (End)",
                                       playback.to_end, self)

        self.scrub_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.scrub_slider.setToolTip("Drag to any step")
        self.scrub_slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.scrub_slider.setMinimumWidth(80)
        self.scrub_slider.valueChanged.connect(self._scrubbed)
        self.scrub_slider.sliderPressed.connect(playback.pause)

        self.step_label = QLabel(self)
        self.step_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("step 0000 of 0000"))

        self.speed_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.speed_slider.setRange(MIN_SPEED, MAX_SPEED)
        self.speed_slider.setValue(playback.speed())
        self.speed_slider.setFixedWidth(110)
        self.speed_slider.setToolTip("Playback speed: 1 to 60 steps per second")
        self.speed_slider.valueChanged.connect(playback.set_speed)
        self.speed_label = QLabel(self)
        self.speed_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("60 steps/s "))

        # The steps on one row; the speed beside them, or on a second row when the bar is
        # narrower than both need (a large zoom on a small screen) rather than widening the page.
        self.steps_row = QHBoxLayout()
        self.steps_row.setSpacing(2)
        for button in (self.start_button, self.back_button, self.play_button,
                       self.forward_button, self.end_button):
            self.steps_row.addWidget(button)
        self.steps_row.addSpacing(6)
        self.steps_row.addWidget(self.scrub_slider, 1)
        self.steps_row.addSpacing(6)
        self.steps_row.addWidget(self.step_label)
        self.speed_title = QLabel("Speed", self)
        self.speed_row = QHBoxLayout()
        self.speed_row.setSpacing(2)
        self.speed_row.addSpacing(10)
        self.speed_row.addWidget(self.speed_title)
        self.speed_row.addWidget(self.speed_slider)
        self.speed_row.addWidget(self.speed_label)
        self.speed_row.addStretch(1)
        self.rows = QGridLayout(self)
        self.rows.setContentsMargins(4, 2, 4, 2)
        self.rows.setSpacing(2)
        self.rows.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.rows.addLayout(self.steps_row, 0, 0)
        self.rows.addLayout(self.speed_row, 0, 1)
        self.rows.setColumnStretch(0, 1)
        self._two_rows = False

        playback.position_changed.connect(self._show_position)
        playback.count_changed.connect(self._show_count)
        playback.playing_changed.connect(self._show_playing)
        playback.speed_changed.connect(self._show_speed)
        self._show_count(playback.count())
        self._show_playing(playback.is_playing())
        self._show_speed(playback.speed())
        self._size_labels()

    def _size_labels(self) -> None:
        """Room for the longest texts at the current font (it follows the zoom)."""
        metrics = self.fontMetrics()
        self.step_label.setMinimumWidth(metrics.horizontalAdvance("step 0000 of 0000"))
        self.speed_label.setMinimumWidth(metrics.horizontalAdvance("60 steps/s "))
        self.speed_slider.setFixedWidth(max(110, metrics.horizontalAdvance("0") * 14))
        self._arrange()

    def two_rows(self) -> bool:
        """Whether the speed sits on a second row (the bar is too narrow for one)."""
        return self._two_rows

    def _arrange(self) -> None:
        """One row when the bar is wide enough for it, else two; the bar asks only for the
        width of the wider of the two rows."""
        margins = self.rows.contentsMargins()
        extra = margins.left() + margins.right()
        for row in (self.steps_row, self.speed_row):
            row.invalidate()   # the labels' widths may just have changed with the zoom
        steps_w = self.steps_row.minimumSize().width()
        speed_w = self.speed_row.minimumSize().width()
        two = self.width() < steps_w + speed_w + self.rows.horizontalSpacing() + extra
        if two != self._two_rows:
            self.rows.removeItem(self.speed_row)
            if two:
                self.rows.addLayout(self.speed_row, 1, 0, Qt.AlignmentFlag.AlignLeft)
            else:
                self.rows.addLayout(self.speed_row, 0, 1)
            self._two_rows = two
        rows_h = [self.steps_row.minimumSize().height(), self.speed_row.minimumSize().height()]
        height = (sum(rows_h) + self.rows.verticalSpacing() if two else max(rows_h))
        self.setMinimumSize(max(steps_w, speed_w) + extra,
                            height + margins.top() + margins.bottom())
        self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._arrange()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._size_labels()

    def _scrubbed(self, value: int) -> None:
        if value != self.playback.position():
            self.playback.set_position(value)

    def _show_count(self, count: int) -> None:
        self.scrub_slider.blockSignals(True)
        self.scrub_slider.setRange(0, max(0, count - 1))
        self.scrub_slider.setPageStep(max(1, count // 20))
        self.scrub_slider.blockSignals(False)
        for widget in (self.scrub_slider, self.start_button, self.back_button,
                       self.play_button, self.forward_button, self.end_button):
            widget.setEnabled(count > 1)
        self._show_position(self.playback.position())

    def _show_position(self, position: int) -> None:
        self.scrub_slider.blockSignals(True)
        self.scrub_slider.setValue(position)
        self.scrub_slider.blockSignals(False)
        count = self.playback.count()
        self.step_label.setText(f"step {position + 1} of {count}" if count else "no steps")

    def _show_playing(self, playing: bool) -> None:
        sp = QStyle.StandardPixmap
        self.play_button.setIcon(self.style().standardIcon(
            sp.SP_MediaPause if playing else sp.SP_MediaPlay))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def _show_speed(self, speed: int) -> None:
        self.speed_slider.blockSignals(True)
        self.speed_slider.setValue(speed)
        self.speed_slider.blockSignals(False)
        self.speed_label.setText(f"{speed} steps/s")


def install_playback_shortcuts(widget: QWidget, playback: Playback) -> list[QShortcut]:
    """Space (play/pause), Left/Right (step), Home/End on `widget` and its children."""
    bindings = (
        (Qt.Key.Key_Space, playback.toggle),
        (Qt.Key.Key_Left, playback.step_back),
        (Qt.Key.Key_Right, playback.step_forward),
        (Qt.Key.Key_Home, playback.to_start),
        (Qt.Key.Key_End, playback.to_end),
    )
    shortcuts = []
    for key, slot in bindings:
        shortcut = QShortcut(QKeySequence(key), widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.setAutoRepeat(True)
        shortcut.activated.connect(slot)
        shortcuts.append(shortcut)
    return shortcuts


def bind_step_view(view, playback: Playback) -> None:
    """Wire a ConvStepView / PoolStepView to a playback, both ways.

    The playback's count follows the view's steps, its position drives `view.set_step`, and a
    click on an output cell pauses and jumps there.
    """
    playback.set_count(view.step_count())
    playback.position_changed.connect(view.set_step)
    view.step_count_changed.connect(playback.set_count)

    def jump(step: int) -> None:
        playback.pause()
        playback.set_position(step)

    view.step_clicked.connect(jump)
    view.set_step(playback.position())
