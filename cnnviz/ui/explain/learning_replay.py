"""A slider over the recorded epochs: replay how the filters and maps grew from random noise.

The slider's positions are the snapshots of a `LearningHistory` in epoch order (0 is the
random start). Play steps through them like a film; Live follows the newest snapshot while
training runs. Moving the slider by hand, or pressing Play, leaves Live mode: otherwise the
next epoch would pull the view away from what the student is looking at.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget,
)

from cnnviz.core.explain.learning_snapshots import LearningHistory
from cnnviz.ui.explain.icons import pause_icon, play_icon

PLAY_INTERVAL_MS = 700      # slow enough to see each epoch, fast enough to see the change
MAX_TICKS = 60              # more epochs than this: no tick marks (they would merge)
EMPTY_TEXT = "No epochs recorded yet: train the model to watch it learn."
OPENED_FILE_TEXT = ("Nothing to replay: this model was opened from a file, so its training "
                    "happened elsewhere. Fine-tune it to record epochs here.")


class LearningReplay(QWidget):
    """Slider, Play and Live over a LearningHistory; `epoch_selected(epoch)` on every change."""

    epoch_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None,
                 play_interval_ms: int = PLAY_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.history: LearningHistory | None = None
        self._epochs: list[int] = []
        self._selected: int | None = None
        self.empty_text = EMPTY_TEXT
        self.play_button = QToolButton()
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setToolTip("Play the recorded epochs from the random start")
        self.play_button.clicked.connect(self._toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Drag to see the filters and feature maps after each epoch")
        self.slider.valueChanged.connect(self._slider_moved)
        self.live_box = QCheckBox("Live")
        self.live_box.setToolTip("Follow the newest epoch while the model trains")
        self.live_box.setChecked(True)
        self.live_box.toggled.connect(self._live_toggled)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.timer = QTimer(self)
        self.timer.setInterval(play_interval_ms)
        self.timer.timeout.connect(self._step)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.live_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self._sync_play_button()
        self._refresh()

    # ------------------------------------------------------------------ public

    def set_history(self, history: LearningHistory | None) -> None:
        """Replay `history` (None: nothing). Selects its newest snapshot in Live mode, else
        the first; emits `epoch_selected` when there is one."""
        self.stop()
        self.history = history
        self._selected = None
        self.history_updated()

    def history_updated(self) -> None:
        """Call after adding snapshots. In Live mode the newest is selected (and announced
        again, since it is new); otherwise the selection stays where the user left it."""
        self._epochs = self.history.epochs() if self.history is not None else []
        if not self._epochs:
            self._selected = None
            self._refresh()
            return
        if self.is_live():
            self._select(self._epochs[-1], force_emit=True)
        elif self._selected in self._epochs:
            self._select(self._selected)
        else:
            self._select(self._epochs[0])

    def select_epoch(self, epoch: int) -> None:
        """Show recorded `epoch` (as if the slider were moved there). Raises KeyError when
        that epoch is not recorded."""
        if epoch not in self._epochs:
            raise KeyError(f"Epoch {epoch} is not recorded; recorded: {self._epochs}")
        self._select(epoch)

    def selected_epoch(self) -> int | None:
        return self._selected

    def set_live(self, live: bool) -> None:
        self.live_box.setChecked(live)

    def is_live(self) -> bool:
        return self.live_box.isChecked()

    def play(self) -> None:
        """Step through the epochs from the selected one (from the start when at the end)."""
        if len(self._epochs) < 2:
            return
        self.set_live(False)
        if self._selected == self._epochs[-1]:
            self._select(self._epochs[0])
        self.timer.start()
        self._sync_play_button()

    def stop(self) -> None:
        self.timer.stop()
        self._sync_play_button()

    def is_playing(self) -> bool:
        return self.timer.isActive()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, super().sizeHint().height())

    # ------------------------------------------------------------------ private

    def _select(self, epoch: int, force_emit: bool = False) -> None:
        changed = epoch != self._selected
        self._selected = epoch
        self._refresh()
        if changed or force_emit:
            self.epoch_selected.emit(epoch)

    def _refresh(self) -> None:
        """Slider range, position, ticks, label and enabled states from the current data."""
        count = len(self._epochs)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setTickInterval(1 if count <= MAX_TICKS else 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow if count <= MAX_TICKS
                                    else QSlider.TickPosition.NoTicks)
        if self._selected in self._epochs:
            self.slider.setValue(self._epochs.index(self._selected))
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 1)
        self.play_button.setEnabled(count > 1)
        self.label.setText(self._label_text())

    def set_empty_text(self, text: str) -> None:
        """What the replay says while it has no epochs (why there is nothing to replay)."""
        self.empty_text = text
        self.label.setText(self._label_text())

    def _label_text(self) -> str:
        if self.history is None or self._selected is None or not self._epochs:
            return html.escape(self.empty_text)
        snapshot = self.history.at(self._selected)
        when, _, figures = self.history.label(self._selected).partition(" · ")
        text = f"<b>{html.escape(when)}</b>"
        if figures:
            text += f" · {html.escape(figures)}"
        if snapshot.feature_maps_dropped:
            text += " · <i>feature maps of this epoch were dropped to save memory</i>"
        return text

    def _slider_moved(self, index: int) -> None:
        if not 0 <= index < len(self._epochs):
            return
        if index != len(self._epochs) - 1 and not self.is_playing():
            self.set_live(False)    # looking back: the next epoch must not pull the view away
        self._select(self._epochs[index])

    def _live_toggled(self, live: bool) -> None:
        if live:
            self.stop()
            if self._epochs:
                self._select(self._epochs[-1])

    def _toggle_play(self) -> None:
        if self.is_playing():
            self.stop()
        else:
            self.play()

    def _step(self) -> None:
        if self._selected not in self._epochs:
            self.stop()
            return
        index = self._epochs.index(self._selected) + 1
        if index >= len(self._epochs):
            self.stop()
            return
        self._select(self._epochs[index])
        if index == len(self._epochs) - 1:
            self.stop()

    def _sync_play_button(self) -> None:
        playing = self.is_playing()
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(pause_icon() if playing else play_icon())
