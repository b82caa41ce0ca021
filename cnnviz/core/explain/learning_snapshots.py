"""Learning, kept: filters, feature maps and the prediction for one pinned input, per epoch.

While a model trains, `take_snapshot` copies what a student wants to watch change (every
Conv2D and Conv1D kernel, every layer's output for the pinned input, the class probabilities) and a
`LearningHistory` keeps one `EpochSnapshot` per epoch, so a slider can replay how the
filters grew out of random noise.

Epoch convention: `epoch` counts *completed* epochs. 0 is the random start (the freshly
built model, before any training); k is "after epoch k" (1-based, as the progress line
says). Keras's `on_epoch_end(epoch)` is 0-based, so its caller passes `epoch + 1`.

No Qt here, and Keras is imported inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from cnnviz.core.explain.activations import conv1d_kernels, conv_kernels

if TYPE_CHECKING:
    import keras

RANDOM_START = 0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# Which figure the replay label quotes, best first: validation says more than training.
_LABEL_METRICS = ("val_accuracy", "accuracy", "val_loss", "loss")


# ----------------------------------------------------------------------------- probabilities


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - np.max(values))
    return np.asarray(shifted / shifted.sum())


def class_probabilities(output: np.ndarray) -> np.ndarray:
    """The probability of every class from a model's final output for one input.

    A single value p (a sigmoid unit, the two-class case) becomes [1 - p, p]: class 0 is
    "not class 1". A vector of K values is returned as it is when it already is a
    probability distribution (softmax output). Values that are not probabilities are
    logits (a model without a final activation): they go through sigmoid (one value) or
    softmax (K values), which is what Keras's `from_logits=True` losses assume.

    Args: output of shape (K,), or (1, K) with the batch axis; K >= 1.
    Returns: float64 array of shape (2,) for K == 1, else (K,), summing to 1.
    Raises: ValueError for an output that is not one vector.
    """
    values = np.asarray(output, np.float64)
    while values.ndim > 1 and values.shape[0] == 1:
        values = values[0]
    if values.ndim == 0:
        values = values.reshape(1)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"Expected one vector of class scores, got shape {np.shape(output)}.")
    values = np.nan_to_num(values)
    if values.size == 1:
        p = float(values[0])
        if not 0.0 <= p <= 1.0:
            p = float(1.0 / (1.0 + np.exp(-p)))
        return np.array([1.0 - p, p])
    if values.min() >= 0.0 and abs(values.sum() - 1.0) < 1e-3:
        return values.copy()
    return _softmax(values)


# ----------------------------------------------------------------------------- snapshots


@dataclass
class EpochSnapshot:
    """What the model looked like after `epoch` completed epochs (0 = random start).

    kernels: Conv2D layer name → (kh, kw, C, F) weights, Conv1D layer name → (k, C, F), copies.
    feature_maps: layer name → that layer's output for the pinned input, no batch axis.
    probabilities: class probabilities for the pinned input (see `class_probabilities`).
    logs: the epoch's figures (loss, accuracy, val_loss, val_accuracy), empty at the start.
    feature_maps_dropped: True once the history dropped the maps to stay within its cap.
    """

    epoch: int
    kernels: dict[str, np.ndarray] = field(default_factory=dict)
    feature_maps: dict[str, np.ndarray] = field(default_factory=dict)
    probabilities: np.ndarray | None = None
    logs: dict[str, float] = field(default_factory=dict)
    feature_maps_dropped: bool = False

    @property
    def is_random_start(self) -> bool:
        return self.epoch == RANDOM_START

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (kernels, maps, probabilities)."""
        total = sum(int(a.nbytes) for a in self.kernels.values())
        total += sum(int(a.nbytes) for a in self.feature_maps.values())
        if self.probabilities is not None:
            total += int(np.asarray(self.probabilities).nbytes)
        return total

    def feature_maps_nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.feature_maps.values())


def snapshot_label(snapshot: EpochSnapshot, planned_epochs: int | None = None) -> str:
    """The replay's name for a snapshot: "random start (before training)" or
    "after epoch 3 of 5 · val_accuracy 0.97" (the best figure the logs have)."""
    if snapshot.is_random_start:
        return "random start (before training)"
    text = f"after epoch {snapshot.epoch}"
    if planned_epochs and planned_epochs >= snapshot.epoch:
        text += f" of {planned_epochs}"
    for key in _LABEL_METRICS:
        value = snapshot.logs.get(key)
        if value is not None and np.isfinite(value):
            text += f" · {key} {value:.3f}" if "loss" in key else f" · {key} {value:.2f}"
            break
    return text


class LearningHistory:
    """One snapshot per epoch, sorted by epoch, within a memory cap.

    When the arrays held exceed `max_bytes`, the feature maps of the oldest snapshots are
    dropped (their kernels, probabilities and logs stay, as they are small), never those of
    the first snapshot (the random start, which every later epoch is compared with) nor of
    the newest (the one on screen while training). `dropped` counts snapshots so thinned.
    Use from one thread (the GUI's): snapshots arrive there by signal.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 planned_epochs: int | None = None) -> None:
        self.max_bytes = int(max_bytes)
        self.planned_epochs = planned_epochs  # "of 5" in the labels; None when unknown
        self.dropped = 0
        self._snapshots: dict[int, EpochSnapshot] = {}

    def __len__(self) -> int:
        return len(self._snapshots)

    def __bool__(self) -> bool:
        return bool(self._snapshots)

    def add(self, snapshot: EpochSnapshot) -> None:
        """Keep `snapshot`, replacing any earlier one of the same epoch; then apply the cap."""
        self._snapshots[int(snapshot.epoch)] = snapshot
        self._snapshots = dict(sorted(self._snapshots.items()))
        self._enforce_cap()

    def epochs(self) -> list[int]:
        """The recorded epochs, in order."""
        return list(self._snapshots)

    def at(self, epoch: int) -> EpochSnapshot:
        """The snapshot of `epoch`. Raises KeyError when that epoch was not recorded."""
        try:
            return self._snapshots[int(epoch)]
        except KeyError:
            raise KeyError(f"No snapshot of epoch {epoch}; recorded: {self.epochs()}") from None

    def latest(self) -> EpochSnapshot | None:
        """The snapshot of the highest epoch, None when empty."""
        return self._snapshots[max(self._snapshots)] if self._snapshots else None

    def first(self) -> EpochSnapshot | None:
        return self._snapshots[min(self._snapshots)] if self._snapshots else None

    def label(self, epoch: int) -> str:
        return snapshot_label(self.at(epoch), self.planned_epochs)

    def clear(self) -> None:
        self._snapshots.clear()
        self.dropped = 0

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._snapshots.values())

    def _enforce_cap(self) -> None:
        total = self.nbytes
        if total <= self.max_bytes:
            return
        epochs = self.epochs()
        # Oldest first, but never the first snapshot nor the newest.
        for epoch in epochs[1:-1]:
            if total <= self.max_bytes:
                break
            snapshot = self._snapshots[epoch]
            if snapshot.feature_maps_dropped or not snapshot.feature_maps:
                continue
            total -= snapshot.feature_maps_nbytes()
            snapshot.feature_maps = {}
            snapshot.feature_maps_dropped = True
            self.dropped += 1


# ----------------------------------------------------------------------------- taking one


# Read-only members, so the real ForwardPass (whose `layers` is a list) fits them.
class LayerOutput(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def output(self) -> np.ndarray: ...


class ProbeResult(Protocol):
    @property
    def layers(self) -> Sequence[LayerOutput]: ...

    @property
    def probabilities(self) -> np.ndarray | None: ...


class Probe(Protocol):
    def run(self, image: np.ndarray) -> ProbeResult: ...


def _pinned_input(model: "keras.Model", image: np.ndarray) -> np.ndarray:
    array = np.asarray(image, np.float32)
    expected = len(model.inputs[0].shape) - 1  # without the batch axis
    if array.ndim == expected + 1 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == expected - 1:  # a gray (H, W) image for an (H, W, 1) input
        array = array[..., None]
    return array


def take_snapshot(model: "keras.Model", image: np.ndarray, epoch: int,
                  logs: dict[str, float] | None = None, probe: Probe | None = None,
                  ) -> EpochSnapshot:
    """Copy the model's conv kernels (Conv2D and Conv1D) and its answer for the pinned `image`, now.

    Args:
        model: a built Keras model (Sequential or functional).
        image: the pinned input, (H, W, C) or (H, W), a signal (steps, C) or (steps,), or
            any of these with a batch axis of 1.
        epoch: completed epochs (0 = random start; Keras's 0-based epoch + 1 at epoch end).
        logs: that epoch's figures; copied.
        probe: the model's `ActivationProbe` (made here when None). Pass one in when taking
            a snapshot every epoch: building a probe costs more than running it.
    Returns: an EpochSnapshot owning copies, so later training cannot change it.
    Raises: ExplainError for an image the model cannot take.
    """
    if probe is None:
        from cnnviz.core.explain.activations import ActivationProbe

        probe = ActivationProbe(model)
    kernels = {**conv_kernels(model), **conv1d_kernels(model)}
    return snapshot_of(probe.run(_pinned_input(model, image)), kernels, epoch, logs)


def snapshot_of(result: ProbeResult, kernels: dict[str, np.ndarray], epoch: int,
                logs: dict[str, float] | None = None) -> EpochSnapshot:
    """An EpochSnapshot from a forward pass already made (copies of its outputs) and kernels."""
    # The input layer's "output" is the image itself: not worth a copy per epoch.
    layers = [layer for layer in result.layers
              if getattr(layer, "layer_type", "") != "InputLayer"]
    feature_maps = {layer.name: np.array(layer.output, np.float32, copy=True)
                    for layer in layers}
    final = result.probabilities
    if final is None and layers and np.ndim(layers[-1].output) == 1:
        final = layers[-1].output
    return EpochSnapshot(
        epoch=int(epoch),
        kernels=kernels,
        feature_maps=feature_maps,
        probabilities=None if final is None else class_probabilities(final),
        logs={k: float(v) for k, v in (logs or {}).items() if _is_number(v)},
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
