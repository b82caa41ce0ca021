"""Learning, visible: the Explain view while the model trains, and replaying past epochs.

A mixin of ExplainPanel (see explain_panel.py): it builds the replay row (the epoch slider
and how often to refresh while training), follows the training panel's model, takes the
training thread's observations, and shows a past epoch's maps, filters and answer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox

from cnnviz.ui.explain.session import Observation


class ExplainLearningMixin:
    """Training and replay methods of ExplainPanel (a QWidget); they use its session and pages."""

    def _build_replay_row(self) -> QHBoxLayout:
        """The learning replay and the refresh-while-training box, side by side."""
        from cnnviz.ui.explain.learning_replay import LearningReplay

        self.replay = LearningReplay()
        self.replay.set_history(self.history)
        self.replay.epoch_selected.connect(self._replay_epoch)
        self.refresh_box = QSpinBox()
        self.refresh_box.setRange(0, 1000)
        self.refresh_box.setSpecialValueText("each epoch")
        self.refresh_box.setSuffix(" batches")
        self.refresh_box.setToolTip("While training runs, the view refreshes after each epoch; "
                                    "set a number to refresh every that many batches as well")
        self.refresh_box.valueChanged.connect(self._refresh_rate_changed)
        refresh_label = QLabel("Refresh while training:")
        refresh_label.setBuddy(self.refresh_box)
        replay_row = QHBoxLayout()
        replay_row.setContentsMargins(0, 0, 0, 0)
        replay_row.addWidget(self.replay, 1)
        replay_row.addWidget(refresh_label)
        replay_row.addWidget(self.refresh_box)
        return replay_row

    def _connect_training(self) -> None:
        training = self.training
        training.observer = self.session.observe
        training.model_ready.connect(self._training_started)
        training.model_trained.connect(self._training_finished)
        training.observed.connect(self._observed)
        training.chooser.loaded.connect(self._data_loaded)
        if training.data is not None:
            self._data_loaded(training.data)
        if training.running and training.live_model is not None:
            self._training_started(training.live_model)
        elif training.model is not None:
            self._training_finished(training.model)

    def _refresh_rate_changed(self, batches: int) -> None:
        # Read by the next Start; a run already going keeps its rate.
        self.training.observe_every_batches = int(batches)

    def _training_started(self, model: Any) -> None:
        if self.session.model is not model:
            self.history.clear()
            self.replay.history_updated()
        self.session.use_model(model, trained=self.session.model is model and self.session.trained,
                               origin="training")
        self._show_banner()

    def _training_finished(self, model: Any) -> None:
        self.session.use_model(model, trained=True, origin="training")
        self._show_banner()
        if self.session.image is not None:
            self.session.compute(keep_place=True)

    def _observed(self, observation: Observation) -> None:
        if observation is None:
            return
        if observation.snapshot is not None:
            self.history.add(observation.snapshot)
            self._history_input = f"for {self.session.description}"
            self._history_label = self.session.label
            self.replay.history_updated()
        if self._replaying is None and self.isVisible():
            self.session.accept_observation(observation)
        elif not self.isVisible():
            self._needs_refresh = True   # nobody is looking: catch up when the view is shown

    def _replay_epoch(self, epoch: int) -> None:
        """Show the filters, maps and answer of a past epoch; the newest means live again."""
        latest = self.history.latest()
        if latest is None or epoch is None or epoch >= latest.epoch:
            if self._replaying is not None:
                self._replaying = None
                self._show_current()
            return
        self._replaying = epoch
        if self.replay.is_live():
            self.replay.set_live(False)   # looking back: new epochs must not pull us forward
        snapshot = self.history.at(epoch)
        steps = self.views.steps
        if steps is None:
            return
        label = self.history.label(epoch)
        maps = snapshot.feature_maps.get(steps.name)
        if maps is not None:
            # The maps were recorded for the input shown while training ran.
            title = f"{steps.name} · {label} · {self._history_input}"
            self._defer_page(1, lambda: self.maps.set_maps(maps, title))
        kernel = snapshot.kernels.get(steps.name)
        if kernel is not None:
            self._defer_page(2, lambda: self.filters.set_kernel(kernel, f"{steps.name} · {label}"))
        if snapshot.probabilities is not None:
            self.chart.set_probabilities(snapshot.probabilities, self._names_for(
                snapshot.probabilities), self._history_label)

    def _show_current(self) -> None:
        """Back from a replay: the current model's maps, filters and answer."""
        steps = self.views.steps
        if steps is not None:
            self._show_maps(steps.output, steps.name)
            self._show_filters(steps.kernel if steps.kind == "conv" else None, steps.name)
        if self.session.forward is not None:
            from cnnviz.core.explain.forward_pass import answer_of

            self._show_answer(answer_of(self.session.forward), self.session.label)
