"""What a Keras model is made of: its layers in graph order, their sizes and connections, and
statistics of their weights.

`inspect_model(model)` reads only the structure (configs, symbolic shapes, weight *shapes*),
never weight values, so it is fast for any model size. `weight_stats(layer)` copies one
layer's weights and summarises each array; the GUI runs it afterwards, in a worker.

`ModelInfo.explain_problem` and `ModelInfo.evaluate_problem` say, in one sentence, why the
explainer or the evaluation cannot run on this model (None when they can).
Keras is imported inside the functions; no Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnviz.core.errors import ModelFileError
from cnnviz.core.model.builder import model_tensors, weight_count

if TYPE_CHECKING:
    import keras

__all__ = ["LayerInfo", "ModelInfo", "WeightStats", "inspect_model", "weight_stats"]

Shape = tuple[int | None, ...]  # without the batch axis; None where it varies

# Layers that are activation functions themselves: their activation's name.
_ACTIVATION_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu",
                      "ELU": "elu", "PReLU": "prelu"}


@dataclass
class LayerInfo:
    """One layer: its name, Keras class, output shape without the batch axis (None when it
    has several outputs or is used with different shapes), parameter counts, activation
    function name (None if it has none), and the names of the layers feeding it."""

    name: str
    layer_type: str
    output_shape: Shape | None
    params: int
    trainable_params: int
    activation: str | None
    inbound: list[str] = field(default_factory=list)

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params


@dataclass
class ModelInfo:
    """A model's structure. `layers` is `model.layers` (graph order; functional models list
    their InputLayers, a Sequential's first layer has the input's name as its inbound).
    Shapes are without the batch axis."""

    name: str
    layers: list[LayerInfo]
    input_shapes: list[Shape]
    output_shapes: list[Shape]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    is_chain: bool                      # one straight line from the input to the output
    explain_problem: str | None         # why the explainer cannot run, or None
    evaluate_problem: str | None        # why evaluation cannot run, or None
    num_classes: int | None             # classes of a classifier (2 for one sigmoid unit)
    model_type: str = "Functional"      # Keras class: Sequential, Functional, ...
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)  # layers whose outputs are the model's
    output_activation: str | None = None  # "softmax", "sigmoid", "linear" (logits), ...


@dataclass
class WeightStats:
    """Statistics of one weight array of a layer (over its finite values)."""

    layer: str
    name: str                 # "kernel", "bias", "gamma", "moving_mean", ...
    shape: Shape
    count: int
    min: float
    max: float
    mean: float
    std: float
    histogram: np.ndarray     # counts per bin
    bin_edges: np.ndarray     # len(histogram) + 1 edges
    trainable: bool = True
    nonfinite: int = 0        # NaN or infinite values (left out of the statistics)


# ---------------------------------------------------------------- graph


def _history(tensor: Any) -> tuple[Any, int] | None:
    history = getattr(tensor, "_keras_history", None)
    if history is None or history[0] is None:
        return None
    return history[0], history[1]


def _model_nodes(model: Any) -> dict[int, list[Any]]:
    """For each operation of the model's graph, its call nodes in this graph (by id(op)),
    found by walking back from the outputs, so uses in other models are left out."""
    nodes: dict[int, list[tuple[int, Any]]] = {}
    seen: set[int] = set()
    pending = list(model.outputs)
    while pending:
        found = _history(pending.pop())
        if found is None:
            continue
        operation, node_index = found
        node = operation._inbound_nodes[node_index]
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.setdefault(id(operation), []).append((node_index, node))
        pending.extend(node.input_tensors)
    return {key: [node for _, node in sorted(found, key=lambda x: x[0])]
            for key, found in nodes.items()}


def _producer_name(tensor: Any) -> str | None:
    found = _history(tensor)
    return found[0].name if found else None


def _shape(tensor: Any) -> Shape:
    return tuple(None if d is None else int(d) for d in tensor.shape[1:])


def _unique(weights: list[Any]) -> list[Any]:
    seen: set[int] = set()
    kept = []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            kept.append(w)
    return kept


def _activation_name(layer: Any) -> str | None:
    cls = type(layer).__name__
    if cls in _ACTIVATION_LAYERS:
        return _ACTIVATION_LAYERS[cls]
    function = getattr(layer, "activation", None)
    if function is None or not callable(function):
        return None
    name = getattr(function, "__name__", None) or type(function).__name__
    return str(name)


# ---------------------------------------------------------------- problems


def _explain_problem(input_shapes: list[Shape], graph: bool) -> str | None:
    if len(input_shapes) != 1:
        return (f"The model takes {len(input_shapes)} inputs; the explainer shows models with "
                f"a single image input only.")
    shape = input_shapes[0]
    if len(shape) != 3:
        what = (f"a vector of {shape[0]} numbers" if len(shape) == 1 and shape[0] is not None
                else f"data of shape {_shape_text(shape)}")
        return (f"The model's input is {what}, not an image (height × width × channels); the "
                f"explainer shows image models only.")
    if None in shape:
        return (f"The model accepts images of any size ({_shape_text(shape)}); the explainer "
                f"needs a fixed height, width and channel count.")
    if not graph:
        return "The model is a subclassed model whose layers are joined by Python code; the " \
               "explainer needs a layer graph."
    return None


def _shape_text(shape: Shape) -> str:
    return " × ".join("any" if d is None else str(d) for d in shape) or "a single number"


def _final_activation(model: Any) -> str | None:
    """The activation that produces the model's only output (looking through layers that do
    not change values, such as Dropout), or None if unknown."""
    found = _history(model.outputs[0])
    steps = 0
    while found is not None and steps < 16:
        layer = found[0]
        cls = type(layer).__name__
        if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout",
                   "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Identity"):
            node = layer._inbound_nodes[found[1]]
            found = _history(node.input_tensors[0]) if len(node.input_tensors) == 1 else None
            steps += 1
            continue
        if hasattr(layer, "layers") and hasattr(layer, "outputs"):  # nested model
            try:
                return _final_activation(layer)
            except (AttributeError, ValueError, IndexError):
                return None
        return _activation_name(layer)
    return None


def _evaluate_problem(model: Any, output_shapes: list[Shape]
                      ) -> tuple[str | None, int | None, str | None]:
    """(why evaluation cannot run or None, number of classes, final activation)."""
    if len(output_shapes) != 1:
        return (f"The model has {len(output_shapes)} outputs; evaluation needs one output that "
                f"gives a score per class.", None, None)
    shape = output_shapes[0]
    activation = _final_activation(model)
    if len(shape) != 1 or shape[0] is None:
        return (f"The model's output has shape {_shape_text(shape)}, not one score per class; "
                f"evaluation needs a classifier (a vector of class scores).", None, activation)
    units = shape[0]
    if units == 1:
        if activation == "sigmoid":
            return None, 2, activation
        return (f"The model outputs a single number{_with(activation)}, so it predicts a "
                f"value rather than a class; evaluation needs a classifier (softmax over "
                f"classes, or one sigmoid unit for yes/no).", None, activation)
    if activation in ("softmax", "linear", None):
        # A linear last layer gives logits (as in TensorFlow's tutorials): the class is still
        # the largest score; `output_activation` tells evaluation to apply softmax itself.
        return None, units, activation
    if activation == "sigmoid":
        return (f"The model's {units} outputs each have their own sigmoid (several yes/no "
                f"answers per image); evaluation needs exactly one class per image "
                f"(softmax).", None, activation)
    return (f"The model's last activation is {activation}, which does not give class scores; "
            f"evaluation needs a classifier ending in softmax.", None, activation)


def _with(activation: str | None) -> str:
    return f" ({activation} activation)" if activation and activation != "linear" else ""


# ---------------------------------------------------------------- public


def inspect_model(model: "keras.Model") -> ModelInfo:
    """The structure of a built Keras model, without reading any weight values.

    Layers come in `model.layers` order (topological for functional models), each with the
    names of the layers feeding it in this model. Raises ModelFileError for a model that was
    never built (no input shape).
    """
    inputs, outputs = model_tensors(model)
    if not inputs or not outputs:
        raise ModelFileError(f"The model '{model.name}' has no input shape yet, so its layer "
                             f"sizes are unknown.")
    # Sequential and functional models keep a layer graph in their tensors' histories.
    graph = all(_history(t) is not None for t in inputs + outputs)
    nodes = _model_nodes(model) if graph else {}
    input_names = [_producer_name(t) or f"input_{i}" for i, t in enumerate(inputs)]

    rows: list[LayerInfo] = []
    for layer in model.layers:
        layer_nodes = nodes.get(id(layer), [])
        inbound: list[str] = []
        shapes: set[Shape] = set()
        for node in layer_nodes:
            for tensor in node.input_tensors:
                name = _producer_name(tensor)
                if name is not None and name != layer.name and name not in inbound:
                    inbound.append(name)
            for tensor in node.output_tensors:
                shapes.add(_shape(tensor))
        if type(layer).__name__ == "InputLayer" and not shapes:
            try:
                shapes.add(_shape(layer.output))
            except (AttributeError, ValueError):
                pass
        output_shape = next(iter(shapes)) if len(shapes) == 1 and all(
            len(n.output_tensors) == 1 for n in layer_nodes) else None
        trainable = weight_count(_unique(layer.trainable_weights))
        params = trainable + weight_count(_unique(layer.non_trainable_weights))
        rows.append(LayerInfo(name=layer.name, layer_type=type(layer).__name__,
                              output_shape=output_shape, params=params,
                              trainable_params=trainable, activation=_activation_name(layer),
                              inbound=inbound))

    input_shapes = [_shape(t) for t in inputs]
    output_shapes = [_shape(t) for t in outputs]
    output_names = [_producer_name(t) or "" for t in outputs]
    trainable = weight_count(_unique(model.trainable_weights))
    non_trainable = weight_count(_unique(model.non_trainable_weights))
    evaluate_problem, num_classes, output_activation = _evaluate_problem(model, output_shapes)
    return ModelInfo(
        name=model.name, layers=rows, input_shapes=input_shapes, output_shapes=output_shapes,
        total_params=trainable + non_trainable, trainable_params=trainable,
        non_trainable_params=non_trainable,
        is_chain=graph and _is_chain(rows, input_names, output_names),
        explain_problem=_explain_problem(input_shapes, graph),
        evaluate_problem=evaluate_problem, num_classes=num_classes,
        model_type=type(model).__name__, input_names=input_names, output_names=output_names,
        output_activation=output_activation,
    )


def _is_chain(rows: list[LayerInfo], input_names: list[str], output_names: list[str]) -> bool:
    """One input, one output, and every layer fed by exactly the one before it."""
    if len(input_names) != 1 or len(output_names) != 1 or not rows:
        return False
    previous = input_names[0]
    start = 0
    if rows[0].layer_type == "InputLayer":
        if rows[0].name != previous or rows[0].inbound:
            return False
        start = 1
    fed: dict[str, int] = {}
    for row in rows[start:]:
        if row.inbound != [previous]:
            return False
        fed[previous] = fed.get(previous, 0) + 1
        previous = row.name
    return previous == output_names[0] and all(count == 1 for count in fed.values())


def weight_stats(layer: Any, bins: int = 40) -> list[WeightStats]:
    """Statistics and a histogram for each weight array of `layer` (kernel, bias, gamma, ...,
    non-trainable ones such as moving_mean included), in `layer.weights` order.

    Values are copied (this is the slow part for big layers: run it off the GUI thread).
    NaN/infinite values are counted in `nonfinite` and left out of the statistics.
    """
    bins = max(1, int(bins))
    weights = _unique(list(layer.weights))
    names = [str(getattr(w, "name", f"weight_{i}")) for i, w in enumerate(weights)]
    if len(set(names)) < len(names):  # a nested model: "kernel" several times, use paths
        names = [str(getattr(w, "path", n)) for w, n in zip(weights, names)]
    trainable_ids = {id(w) for w in layer.trainable_weights}
    stats = []
    for weight, name in zip(weights, names):
        values = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
        flat = values.astype(np.float64, copy=False).ravel()
        finite = flat[np.isfinite(flat)]
        if finite.size:
            histogram, edges = np.histogram(finite, bins=bins)
            low, high = float(finite.min()), float(finite.max())
            mean, std = float(finite.mean()), float(finite.std())
        else:
            histogram, edges = np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1)
            low = high = mean = std = float("nan")
        stats.append(WeightStats(
            layer=layer.name, name=name, shape=tuple(int(d) for d in values.shape),
            count=int(values.size), min=low, max=high, mean=mean, std=std,
            histogram=histogram, bin_edges=edges, trainable=id(weight) in trainable_ids,
            nonfinite=int(flat.size - finite.size)))
    return stats
