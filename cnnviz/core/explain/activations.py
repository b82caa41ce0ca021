"""Every layer's output for one input (an image, or a signal: steps × channels) from one Keras call.

`ActivationProbe(model)` builds a single multi-output `keras.Model` once, whose outputs are
every layer's output (and any intermediate tensor a layer reads), for `keras.Sequential`
models from `builder.build_model` and for functional models with branches alike. `run(image)`
then calls it directly (`model(x, training=False)`, not `predict`, which costs far more per
call) and returns a `ForwardPass`: each layer's inputs and output without the batch axis.
`steps(forward_pass, i)` explains layer i with `core.steps.explain_layer`.

Keras is imported inside the functions; no Qt here. A probe may be used from a worker thread:
its Keras call is serialised by a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.frames import InputSteps, LayerSteps
from cnnviz.core.explain.steps import explain_layer

if TYPE_CHECKING:
    import keras

MODEL_INPUT = -1  # the slot of a layer input that is the model's own input image


@dataclass
class LayerRecord:
    """One layer of the model on one image: what it read and what it made (no batch axis)."""

    name: str
    layer_type: str                     # Keras class name
    index: int                          # position in model.layers
    inputs: list[np.ndarray]            # one array per input tensor (two for Add, ...)
    output: np.ndarray


@dataclass
class ForwardPass:
    """The model on one image: the image, every layer's record in model.layers order, and the
    model's output vector (None when the output is not a 1-D vector)."""

    image: np.ndarray                   # (H, W, C), or (steps, C) for a signal, as run() got it
    layers: list[LayerRecord] = field(default_factory=list)
    probabilities: np.ndarray | None = None

    def index_of(self, name: str) -> int:
        """The index of the layer called `name`. Raises ExplainError if there is none."""
        for record in self.layers:
            if record.name == name:
                return record.index
        raise ExplainError(f"The model has no layer called '{name}'.")


# How an input of each rank (without the batch axis) is named in messages.
_INPUT_WORDS = {2: ("a signal", "steps × channels"), 3: ("an image", "height × width × channels")}


def _shape_text(shape: tuple[Any, ...]) -> str:
    return "×".join("any" if size is None else str(size) for size in shape)


def _first_nodes(model: "keras.Model") -> dict[int, Any]:
    """For each operation reachable backwards from the model's outputs, the earliest of its
    call nodes in this model's graph (keyed by id(operation))."""
    chosen: dict[int, tuple[int, Any]] = {}
    seen: set[int] = set()
    pending = list(model.outputs)
    while pending:
        tensor = pending.pop()
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            continue
        operation, node_index = history.operation, history.node_index
        node = operation._inbound_nodes[node_index]
        if id(node) in seen:
            continue
        seen.add(id(node))
        known = chosen.get(id(operation))
        if known is None or node_index < known[0]:
            chosen[id(operation)] = (node_index, node)
        pending.extend(node.input_tensors)
    return {key: node for key, (_, node) in chosen.items()}


class ActivationProbe:
    """Runs a Keras model on one image and hands back every layer's output and explanation."""

    def __init__(self, model: "keras.Model") -> None:
        """Build the multi-output model once. Raises ExplainError for a model without a known
        input shape or with more than one input."""
        import keras

        from cnnviz.core.model.builder import model_tensors

        inputs, outputs = model_tensors(model)
        if not inputs or not outputs:
            raise ExplainError("This model does not know its input size yet, so it cannot be "
                               "run on an image. Give its first layer an input shape.")
        if len(inputs) != 1:
            raise ExplainError(f"This model takes {len(inputs)} inputs; the explainer can show "
                               "models with a single image input only.")
        self._model = model
        self._lock = threading.Lock()
        self.input_shape: tuple[int | None, ...] = tuple(inputs[0].shape[1:])
        self._layers: list[Any] = list(model.layers)
        nodes = _first_nodes(model)
        slots: dict[int, int] = {id(inputs[0]): MODEL_INPUT}
        fetched: list[Any] = []

        def slot_of(tensor: Any) -> int:
            if id(tensor) not in slots:
                slots[id(tensor)] = len(fetched)
                fetched.append(tensor)
            return slots[id(tensor)]

        # per layer: (input slots, output slot); an InputLayer's output is the image itself
        self._plan: list[tuple[list[int], int]] = []
        for layer in self._layers:
            node = nodes.get(id(layer))
            if type(layer).__name__ == "InputLayer" or node is None:
                self._plan.append(([], MODEL_INPUT))
                continue
            self._plan.append(([], slot_of(node.output_tensors[0])))
        for position, layer in enumerate(self._layers):
            node = nodes.get(id(layer))
            if type(layer).__name__ != "InputLayer" and node is not None:
                self._plan[position][0].extend(slot_of(t) for t in node.input_tensors)
        self._probability_slot = slot_of(outputs[0]) if len(outputs) == 1 else None
        self._multi = keras.Model(inputs=inputs[0], outputs=fetched, name="cnnviz_probe")

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self._layers]

    def _check_image(self, image: np.ndarray) -> np.ndarray:
        array = np.asarray(image, dtype=np.float32)
        expected = self.input_shape
        fits = array.ndim == len(expected) and all(
            want is None or want == got for want, got in zip(expected, array.shape))
        if not fits:
            hint = ""
            if array.ndim == len(expected) - 1 and expected[-1] == 1:
                hint = (" A single-channel series needs its channel axis: series[:, None]."
                        if len(expected) == 2 else
                        " A grayscale image needs its channel axis: image[..., None].")
            got = _shape_text(tuple(array.shape))
            if array.ndim != len(expected) and array.ndim in _INPUT_WORDS:
                got = f"{_INPUT_WORDS[array.ndim][0]} of {got} ({_INPUT_WORDS[array.ndim][1]})"
            else:
                got = f"one of {got}"
            what, axes = _INPUT_WORDS.get(len(expected), ("an input", "without the batch axis"))
            raise ExplainError(
                f"The model expects {what} of {_shape_text(expected)} ({axes}), but got "
                f"{got}.{hint}")
        if not np.all(np.isfinite(array)):
            raise ExplainError("The image contains values that are not numbers (NaN or "
                               "infinity); the model cannot be run on it.")
        return array

    def run(self, image: np.ndarray) -> ForwardPass:
        """Every layer's inputs and output for `image` ((H, W, C) float32, usually in [0, 1], or
        a signal (steps, C) for a 1-D model): a Conv1D layer's output is (steps, filters).

        Raises ExplainError when the image does not have the model's input shape.
        """
        import keras

        array = self._check_image(image)
        with self._lock:
            results = self._multi(array[None], training=False)
        if not isinstance(results, (list, tuple)):
            results = [results]
        values = [keras.ops.convert_to_numpy(result)[0] for result in results]

        def value(slot: int) -> np.ndarray:
            return array if slot == MODEL_INPUT else values[slot]

        records = [
            LayerRecord(name=layer.name, layer_type=type(layer).__name__, index=position,
                        inputs=[value(slot) for slot in input_slots], output=value(output_slot))
            for position, (layer, (input_slots, output_slot))
            in enumerate(zip(self._layers, self._plan))
        ]
        probabilities = None
        if self._probability_slot is not None:
            final = value(self._probability_slot)
            probabilities = final if final.ndim == 1 else None
        return ForwardPass(image=array, layers=records, probabilities=probabilities)

    def steps(self, forward_pass: ForwardPass, layer_index: int) -> LayerSteps:
        """The step-by-step explanation of layer `layer_index` on that forward pass.

        Raises ExplainError for an index outside the model or a pass from another model.
        """
        count = len(self._layers)
        if not isinstance(layer_index, (int, np.integer)) or not 0 <= layer_index < count:
            raise ExplainError(f"The model has {count} layers (0 to {count - 1}); there is no "
                               f"layer {layer_index}.")
        if [r.name for r in forward_pass.layers] != self.layer_names:
            raise ExplainError("This forward pass was made by a different model; run the image "
                               "through this model again.")
        layer, record = self._layers[layer_index], forward_pass.layers[layer_index]
        if record.layer_type == "InputLayer":
            return InputSteps(name=record.name, layer_type=record.layer_type,
                              input=forward_pass.image, output=record.output)
        return explain_layer(layer, record.inputs, record.output)

    def input_steps(self, forward_pass: ForwardPass) -> InputSteps:
        """The input image as the first thing the explainer shows."""
        return InputSteps(name="input", layer_type="InputLayer", input=forward_pass.image,
                          output=forward_pass.image)


def _kernels_of(model: "keras.Model", layer_type: str) -> dict[str, np.ndarray]:
    kernels: dict[str, np.ndarray] = {}
    for layer in model.layers:
        if type(layer).__name__ == layer_type:
            kernels[layer.name] = np.array(layer.kernel.numpy(), dtype=np.float32)
        elif hasattr(layer, "layers"):
            kernels.update(_kernels_of(layer, layer_type))
    return kernels


def conv_kernels(model: "keras.Model") -> dict[str, np.ndarray]:
    """Every Conv2D layer's kernel, (kh, kw, C, F) float32 copies keyed by layer name (layers of
    nested models included), for filter grids."""
    return _kernels_of(model, "Conv2D")


def conv1d_kernels(model: "keras.Model") -> dict[str, np.ndarray]:
    """Every Conv1D layer's kernel, (k, C, F) float32 copies keyed by layer name (layers of
    nested models included), for the learned filters drawn as stem plots."""
    return _kernels_of(model, "Conv1D")
