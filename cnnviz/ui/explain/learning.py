"""Learning, visible: the Explain view follows the training run and replays past epochs.

LearningFollower attaches the explain session to the workspace's training run (its observer
runs on the training thread between batches), keeps each epoch's snapshot for the replay, and
owns the replay row (the epoch slider and how often to refresh while training). What a
replayed epoch looks like is drawn by the panel, through the callbacks it gives.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox

from cnnviz.core.explain.learning_snapshots import EpochSnapshot, LearningHistory
from cnnviz.ui.explain.learning_replay import (
    EMPTY_TEXT, OPENED_FILE_TEXT, LearningReplay,
)
from cnnviz.ui.explain.session import ExplainSession, Observation
from cnnviz.workspace import TrainingRun

# show_epoch(snapshot, epoch label, which input the maps were made for, that input's label)
ShowEpoch = Callable[[EpochSnapshot, str, str, "int | None"], None]


class LearningFollower:
    """Follows the training run for the explain session and keeps the learning replay.

    is_visible: whether the Explain view is on screen; model_changed: the explained model
    changed (redraw the banner); show_epoch / show_live: draw a past epoch, or the live model.
    """

    def __init__(self, run: TrainingRun, session: ExplainSession,
                 is_visible: Callable[[], bool], model_changed: Callable[[], None],
                 show_epoch: ShowEpoch, show_live: Callable[[], None]) -> None:
        self._run = run
        self._session = session
        self._is_visible = is_visible
        self._model_changed = model_changed
        self._show_epoch = show_epoch
        self._show_live = show_live
        self.history = LearningHistory()
        self.replaying: int | None = None   # the replayed epoch; None: the live model
        self.needs_refresh = False          # observations arrived while the view was hidden
        self._history_input = ""            # which input the replay's feature maps were made for
        self._history_label: int | None = None

        self.replay = LearningReplay()
        self.replay.set_history(self.history)
        self.replay.epoch_selected.connect(self.show_epoch)
        self.refresh_box = QSpinBox()
        self.refresh_box.setRange(0, 1000)
        self.refresh_box.setSpecialValueText("each epoch")
        self.refresh_box.setSuffix(" batches")
        self.refresh_box.setToolTip("While training runs, the view refreshes after each epoch; "
                                    "set a number to refresh every that many batches as well")
        self.refresh_box.valueChanged.connect(self._refresh_rate_changed)
        refresh_label = QLabel("Refresh while training:")
        refresh_label.setBuddy(self.refresh_box)
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(self.replay, 1)
        self.row.addWidget(refresh_label)
        self.row.addWidget(self.refresh_box)

    def attach(self) -> None:
        """Watch the run from now on, catching up with one already under way or finished."""
        run = self._run
        run.observer = self._session.observe
        run.started.connect(self._training_started)
        run.finished.connect(self._training_finished)
        run.observed.connect(self._observed)
        if run.running and run.live_model is not None:
            self._training_started(run.live_model)
        elif run.model is not None:
            self._training_finished(run.model)

    def detach(self) -> None:
        """Stop looking at the weights during training (the window is closing)."""
        if self._run.observer == self._session.observe:
            self._run.observer = None

    def forget(self, opened_file: bool = False) -> None:
        """Another model is explained: its past epochs are not this history's. A model
        opened from a file has no training here to replay, and the replay says so."""
        self.history.clear()
        self.replay.set_empty_text(OPENED_FILE_TEXT if opened_file else EMPTY_TEXT)
        self.replay.history_updated()

    def follow_live(self) -> None:
        """Show the live model again (a new input is seen through the current model)."""
        if self.replaying is not None:
            self.replay.set_live(True)

    def _refresh_rate_changed(self, batches: int) -> None:
        # Read by the next Start; a run already going keeps its rate.
        self._run.observe_every_batches = int(batches)

    def _training_started(self, model: Any) -> None:
        session = self._session
        self.replay.set_empty_text(EMPTY_TEXT)
        if session.model is not model:
            self.forget()
        session.use_model(model, trained=session.model is model and session.trained,
                          origin="training")
        self._model_changed()

    def _training_finished(self, model: Any) -> None:
        self._session.use_model(model, trained=True, origin="training")
        self._model_changed()
        if self._session.image is not None:
            self._session.compute(keep_place=True)

    def _observed(self, observation: object) -> None:
        if not isinstance(observation, Observation):
            return   # nothing seen, or another observer's result
        if observation.snapshot is not None:
            self.history.add(observation.snapshot)
            self._history_input = f"for {self._session.description}"
            self._history_label = self._session.label
            self.replay.history_updated()
        if self.replaying is None and self._is_visible():
            self._session.accept_observation(observation)
        elif not self._is_visible():
            self.needs_refresh = True   # nobody is looking: catch up when the view is shown

    def show_epoch(self, epoch: int | None) -> None:
        """Show a past epoch's filters, maps and answer; the newest means live again."""
        latest = self.history.latest()
        if latest is None or epoch is None or epoch >= latest.epoch:
            if self.replaying is not None:
                self.replaying = None
                self._show_live()
            return
        self.replaying = epoch
        if self.replay.is_live():
            self.replay.set_live(False)   # looking back: new epochs must not pull us forward
        self._show_epoch(self.history.at(epoch), self.history.label(epoch),
                         self._history_input, self._history_label)

    def show_replayed(self) -> None:
        """Redraw the replayed epoch (the layer changed while looking back)."""
        if self.replaying is not None:
            self.show_epoch(self.replaying)
