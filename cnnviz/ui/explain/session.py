"""What the explainer is looking at (model, input, layer) and the background work to show it.

Every forward pass and every layer's steps are computed off the GUI thread, as requests of
one NewestRequest: a result of a request that is no longer the newest (the user picked another
input, layer or model meanwhile) is dropped, so the newest choice always wins.
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
from cnnviz.ui.common.workers import NewestRequest


@dataclass
class ForwardResult:
    """A forward pass for the current input, and the current layer's steps."""

    generation: int                       # the number of the request it answers
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
        # Forward passes and layer steps are one stream: a new one of either drops the other.
        self._requests = NewestRequest(self)

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
        self._supersede()

    def use_model(self, model: Any, trained: bool, origin: str) -> None:
        if model is not self.model:
            self.forward = None
            self._supersede()
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
        forward, probe = self.forward, self._probe

        def work(report):
            return layer_steps(probe, forward, index)

        self._run(work, self._deliver_steps, "Working out the layer's steps…")

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
        model, spec = self.model, self.spec
        image, label, index = self.image, self.label, self.layer_index

        def work(report):
            report("Loading TensorFlow…" if model is None else "Running the input through "
                   "the model…", 0, 0)
            built = model
            if built is None:
                from cnnviz.core.model.builder import build_model
                from cnnviz.core.transfer.base_blocks import ensure_base_blocks

                # A pre-built base whose prepared file is missing is prepared again first.
                built = build_model(ensure_base_blocks(spec, on_progress=report))
            probe = self.probe_for(built)
            forward = probe.run(image)
            steps = layer_steps(probe, forward, index)
            return built, forward, steps, answer_of(forward), label

        self._run(work, lambda outcome: self._deliver_forward(*outcome, keep_place),
                  "Running the input through the model…")

    def _run(self, work, on_result, busy: str) -> None:
        """Submit `work` as the newest request; `on_result` only sees it if it still is."""
        self._requests.submit(work, on_result, on_failure=self._request_failed,
                              on_progress=lambda stage, _d, _t: self.busy_changed.emit(stage))
        self.busy_changed.emit(busy)

    def _supersede(self) -> int:
        """Drop whatever is being computed (the user moved on); the new request number."""
        was_busy = self._requests.busy
        number = self._requests.supersede()
        if was_busy:
            self._announce_idle()
        return number

    def _announce_idle(self) -> None:
        # After the result is shown, as the "done" that follows it.
        if not self._requests.busy:
            self.busy_changed.emit("")

    def _request_failed(self, message: str, details: str) -> None:
        self.failed.emit(message, details)
        self._announce_idle()

    def _deliver_forward(self, model: Any, forward: Any, steps: LayerSteps | None,
                         probabilities: np.ndarray | None, label: int | None,
                         keep_place: bool) -> None:
        if self.model is None:
            self.model = model
        self.forward = forward
        self.forward_ready.emit(ForwardResult(self._requests.number, forward, steps,
                                              probabilities, label, keep_place))
        self._announce_idle()

    def _deliver_steps(self, steps: LayerSteps) -> None:
        self.steps_ready.emit(steps, False)
        self._announce_idle()

    def shutdown(self) -> None:
        """Drop and wait for the background work (the window is closing)."""
        self._requests.shutdown()

    @property
    def busy(self) -> bool:
        """A forward pass or layer's steps that still counts is being computed."""
        return self._requests.busy

    # ------------------------------------------------------------------ during training

    def observe(self, model: Any, epoch: int, logs: dict) -> Observation | None:
        """Called on the TRAINING thread between two batches: look at the weights now.

        Runs the current input through the model, works out the current layer's steps, and
        (at the start and at each epoch's end) copies the Conv2D and Conv1D kernels and the
        feature maps for the replay. Cheap next to an epoch: one image, one pass.
        """
        from cnnviz.core.explain.activations import conv1d_kernels, conv_kernels

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
            kernels = {**conv_kernels(model), **conv1d_kernels(model)}
            snapshot = snapshot_of(forward, kernels, epoch + 1, logs)
        return Observation(token, epoch, dict(logs), forward, index, steps, snapshot,
                           probabilities)

    def accept_observation(self, observation: Observation) -> None:
        """Show what the training thread saw, if it is still about the current input."""
        if observation.token is not self._token or self.model is None:
            return
        number = self._supersede()
        self.forward = observation.forward
        steps = observation.steps if observation.layer_index == self.layer_index else None
        self.forward_ready.emit(ForwardResult(number, observation.forward, steps,
                                              observation.probabilities, self.label,
                                              keep_place=True))
        if steps is None:
            self.select_layer(self.layer_index)
