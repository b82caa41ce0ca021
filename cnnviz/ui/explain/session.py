"""What the explainer is looking at (model, input, layer) and the background work to show it.

Every forward pass and every layer's steps are computed off the GUI thread. Each request
bumps a generation number; a result whose generation is no longer current (the user picked
another input or layer meanwhile) is dropped, so the newest choice always wins.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from cnnviz.core.explain.frames import LayerSteps
from cnnviz.core.explain.forward_pass import answer_of, layer_steps
from cnnviz.core.explain.learning_snapshots import EpochSnapshot, snapshot_of
from cnnviz.ui.common.workers import BackgroundTask


@dataclass
class ForwardResult:
    """A forward pass for the current input, and the current layer's steps."""

    generation: int
    forward: Any                          # core.activations.ForwardPass
    steps: LayerSteps | None
    probabilities: np.ndarray | None
    label: int | None
    keep_place: bool = False              # a refresh: keep filter, channel and step


@dataclass
class Observation:
    """What the training thread saw between two batches (see ExplainSession.observe)."""

    token: object                         # which input it was computed for
    epoch: int                            # Keras's 0-based epoch; -1 before training
    logs: dict[str, float]
    forward: Any
    layer_index: int
    steps: LayerSteps | None
    snapshot: EpochSnapshot | None        # kept for the replay (epoch ends and the start only)
    probabilities: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ExplainSession(QObject):
    """The model, the input and the layer being explained, and their background computation."""

    forward_ready = Signal(object)        # ForwardResult
    steps_ready = Signal(object, bool)    # LayerSteps, keep_place
    failed = Signal(str, str)             # message, details
    busy_changed = Signal(str)            # what is being computed ("" when done)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: Any = None
        self.spec: Any = None             # build the model from this when `model` is None
        self.trained = False
        self.origin = ""                  # "builder" | "training" | a file path
        self.image: np.ndarray | None = None
        self.description = ""
        self.label: int | None = None
        self.layer_index = 0
        self.forward: Any = None
        self._token = object()            # changes with every new input
        self._probe: Any = None
        self._probe_model: Any = None
        self._lock = threading.Lock()     # the probe is shared with the training thread
        self._generation = 0
        self._tasks: set[BackgroundTask] = set()

    # ------------------------------------------------------------------ what to explain

    def input_shape(self) -> tuple[int, ...] | None:
        if self.model is not None and getattr(self.model, "inputs", None):
            return tuple(int(d) for d in self.model.inputs[0].shape[1:])
        if self.spec is not None:
            return tuple(int(d) for d in self.spec.input_shape)
        return None

    def use_spec(self, spec: Any) -> None:
        """Explain a fresh build of `spec` (random weights)."""
        self.model, self.spec, self.trained, self.origin = None, spec, False, "builder"
        self.forward = None
        self._generation += 1

    def use_model(self, model: Any, trained: bool, origin: str) -> None:
        if model is not self.model:
            self.forward = None
            self._generation += 1
        self.model, self.trained, self.origin = model, trained, origin

    def set_input(self, image: Any, description: str, label: Any) -> None:
        self.image = np.asarray(image, np.float32)
        self.description = description
        self.label = None if label is None else int(label)
        self._token = object()

    def select_layer(self, index: int) -> None:
        self.layer_index = int(index)
        if self.forward is None:
            self.compute()
            return
        self._generation += 1
        generation, forward, probe = self._generation, self.forward, self._probe

        def work(report):
            return generation, layer_steps(probe, forward, index)

        self._run(work, lambda result: self._deliver_steps(*result, keep_place=False),
                  "Working out the layer's steps…")

    # ------------------------------------------------------------------ computing

    def probe_for(self, model: Any) -> Any:
        """The ActivationProbe of `model`, made once and shared by every thread."""
        with self._lock:
            if self._probe_model is not model:
                from cnnviz.core.explain.activations import ActivationProbe

                self._probe, self._probe_model = ActivationProbe(model), model
            return self._probe

    def compute(self, keep_place: bool = False) -> None:
        """Run the current input through the model (built first if needed), in the background."""
        if self.image is None or (self.model is None and self.spec is None):
            return
        self._generation += 1
        generation, model, spec = self._generation, self.model, self.spec
        image, label, index = self.image, self.label, self.layer_index

        def work(report):
            report("Loading TensorFlow…" if model is None else "Running the input through "
                   "the model…", 0, 0)
            built = model
            if built is None:
                from cnnviz.core.model.builder import build_model

                built = build_model(spec)
            probe = self.probe_for(built)
            forward = probe.run(image)
            steps = layer_steps(probe, forward, index)
            return built, ForwardResult(generation, forward, steps, answer_of(forward), label,
                                        keep_place)

        self._run(work, self._deliver_forward, "Running the input through the model…")

    def _run(self, work, on_success, busy: str) -> None:
        task = BackgroundTask(work, parent=self)
        task.succeeded.connect(on_success)
        task.failed.connect(self._task_failed)
        task.progress.connect(lambda stage, _d, _t: self.busy_changed.emit(stage))
        task.finished.connect(lambda: self._task_ended(task))
        self._tasks.add(task)
        self.busy_changed.emit(busy)
        task.start()

    def _task_ended(self, task: BackgroundTask) -> None:
        self._tasks.discard(task)
        task.deleteLater()
        if not self._tasks:
            self.busy_changed.emit("")

    def _task_failed(self, message: str, details: str) -> None:
        self.failed.emit(message, details)

    def _deliver_forward(self, outcome: tuple[Any, ForwardResult]) -> None:
        model, result = outcome
        if result.generation != self._generation:
            return  # the user has moved on
        if self.model is None:
            self.model = model
        self.forward = result.forward
        self.forward_ready.emit(result)

    def _deliver_steps(self, generation: int, steps: LayerSteps, keep_place: bool) -> None:
        if generation == self._generation:
            self.steps_ready.emit(steps, keep_place)

    def shutdown(self) -> None:
        for task in list(self._tasks):
            task.finish()
        self._tasks.clear()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    # ------------------------------------------------------------------ during training

    def observe(self, model: Any, epoch: int, logs: dict) -> Observation | None:
        """Called on the TRAINING thread between two batches: look at the weights now.

        Runs the current input through the model, works out the current layer's steps, and
        (at the start and at each epoch's end) copies the conv kernels and feature maps for
        the replay. Cheap next to an epoch: one image, one pass.
        """
        from cnnviz.core.explain.activations import conv_kernels

        image, token, index = self.image, self._token, self.layer_index
        if image is None:
            return None
        probe = self.probe_for(model)
        forward = probe.run(image)
        steps = layer_steps(probe, forward, index)
        probabilities = answer_of(forward)
        snapshot = None
        if "batch" not in logs:   # an epoch's end (or the start), not a mid-epoch look
            # The replay counts completed epochs; 0 is the random start.
            snapshot = snapshot_of(forward, conv_kernels(model), epoch + 1, logs)
        return Observation(token, epoch, dict(logs), forward, index, steps, snapshot,
                           probabilities)

    def accept_observation(self, observation: Observation) -> None:
        """Show what the training thread saw, if it is still about the current input."""
        if observation.token is not self._token or self.model is None:
            return
        self._generation += 1
        self.forward = observation.forward
        steps = observation.steps if observation.layer_index == self.layer_index else None
        self.forward_ready.emit(ForwardResult(self._generation, observation.forward, steps,
                                              observation.probabilities, self.label,
                                              keep_place=True))
        if steps is None:
            self.select_layer(self.layer_index)
