"""A saved model with a pre-built network inside it → a spec the builder edits, the network
kept as one `PretrainedBase` layer with its current weights.

cnnviz's transfer models (the Transfer page, `cnnviz transfer`) and builder models with a
pre-built base hold one nested network (a Functional or Sequential used as a layer) in an
otherwise straight chain: the input, maybe preprocessing layers (×255, resizing, grey →
colour, scaling), the nested network, then the head. `model_to_spec_with_bases(model)` saves
the input-to-network part (preprocessing and network, with the weights it has now: ImageNet's
or fine-tuned ones) as a model file in `saved_bases_folder()` (not a cache: clearing the
caches leaves it), named by a hash of its content so the same base is saved once, describes it with `base_blocks.prepare_base_block` (weights "file"),
and turns the head into spec layers as `model_to_spec` does (they get fresh weights when
built, like every spec layer). A model without a nested network is simply `model_to_spec`'s.

`unsupported_parts(model)` says, without saving anything, what would stop the conversion.
TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnviz.core.errors import UnsupportedLayerError
from cnnviz.core.model.builder import save_model_file, weight_count
from cnnviz.core.model.spec import ModelSpec
from cnnviz.core.model.spec_from_keras import model_to_spec, unsupported_layers
from cnnviz.core.transfer.base_blocks import (
    BASE_END_LAYER, BASE_OUTPUT_LAYER, base_blocks_folder, prepare_base_block,
)
from cnnviz.core.transfer.bases import ProgressCallback
from cnnviz.core.user_folders import user_data_folder

if TYPE_CHECKING:
    import keras

__all__ = ["has_nested_network", "unsupported_parts", "model_to_spec_with_bases",
           "saved_bases_folder"]

Problem = tuple[str, str, str]  # (part name, Keras type, why), as unsupported_layers gives
# Stands for the base ahead of the head's layers, so model_to_spec can check them; dropped
# from the spec afterwards.
_STAND_IN = "cnnviz_base_stand_in"


def _is_network(layer: Any) -> bool:
    """A model used as a layer (what spec_from_keras calls a nested model)."""
    return type(layer).__name__ in ("Sequential", "Functional", "Model") or \
        hasattr(layer, "layers")


def has_nested_network(model: Any) -> bool:
    """Whether any layer of `model` is itself a network (cheap: no Keras work)."""
    return any(_is_network(layer) for layer in getattr(model, "layers", []))


@dataclass
class _Parts:
    """The model split at its nested network: the layers before it (absorbed into the base),
    the network and its output in this model, the layers after it in order (the head)."""

    network: Any
    network_output: Any
    before: list[Any]
    head: list[Any]


def _kind(layer: Any) -> str:
    return type(layer).__name__


def _split(model: Any) -> tuple[_Parts | None, list[Problem]]:
    """The model's parts, or None and why it is not a straight chain with one network."""
    import keras

    networks = [layer for layer in model.layers if _is_network(layer)]
    if len(networks) > 1:
        return None, [(n.name, _kind(n), f"is one of {len(networks)} networks nested in the "
                       f"model; the builder holds one pre-built base in a straight chain")
                      for n in networks]
    network = networks[0]
    try:
        inputs, outputs = list(model.inputs or []), list(model.outputs or [])
        network_inputs, network_outputs = network.inputs, network.outputs
    except (AttributeError, ValueError):
        return None, [(model.name, _kind(model), "has no input shape yet; give it "
                       "keras.Input(shape=...)")]
    if len(network_inputs) != 1 or len(network_outputs) != 1:
        return None, [(network.name, _kind(network),
                       "is a nested network without exactly one input and one output; a "
                       "pre-built base takes one image and gives one output")]
    if len(inputs) != 1 or len(outputs) != 1:
        return None, [(model.name, _kind(model), "has several inputs or outputs; cnnviz "
                       "models take one image and give one output")]
    # Walk back from the output through single-input layers to the network: the head.
    problems: list[Problem] = []
    head: list[Any] = []
    seen: set[int] = set()
    tensor = outputs[0]
    while True:
        op, node_index, _ = tensor._keras_history
        if op is network:
            break
        if isinstance(op, keras.layers.InputLayer):
            return None, [(network.name, _kind(network),
                           "is not on the straight way from the model's input to its output; "
                           "the builder holds a base in a straight chain")]
        if not isinstance(op, keras.layers.Layer):
            return None, [(op.name, _kind(op), "is a raw Keras operation, not a layer; "
                           "cnnviz has no such layer")]
        if id(op) in seen:
            return None, [(op.name, _kind(op), "is used twice (a shared layer); cnnviz uses "
                           "each layer once")]
        seen.add(id(op))
        op_inputs = op._inbound_nodes[node_index].input_tensors
        if len(op_inputs) != 1:
            return None, [(op.name, _kind(op), f"takes {len(op_inputs)} inputs (it joins "
                           f"branches); the layers after a pre-built base form one straight "
                           f"chain")]
        head.insert(0, op)
        tensor = op_inputs[0]
    network_output = tensor
    # Everything the network's input depends on is the base's preprocessing.
    before: dict[int, Any] = {}
    stack = list(network._inbound_nodes[tensor._keras_history[1]].input_tensors)
    while stack:
        op, node_index, _ = stack.pop()._keras_history
        if isinstance(op, keras.layers.InputLayer) or id(op) in before:
            continue
        before[id(op)] = op
        stack.extend(op._inbound_nodes[node_index].input_tensors)
    if id(network) in before:
        problems.append((network.name, _kind(network), "is used twice (a shared network); "
                         "cnnviz uses each layer once"))
    if seen & set(before):
        problems.append((network.name, _kind(network), "shares layers between the part "
                         "before it and the part after it; cnnviz models are one chain"))
    placed = seen | set(before) | {id(network)}
    for op in getattr(model, "operations", model.layers):
        if not isinstance(op, keras.layers.InputLayer) and id(op) not in placed:
            problems.append((op.name, _kind(op), "is on a branch beside the pre-built base "
                             "and its head; cnnviz models are one straight chain"))
    if problems:
        return None, problems
    ordered_before = [op for op in getattr(model, "operations", model.layers)
                      if id(op) in before]
    return _Parts(network, network_output, ordered_before, head), []


def _image_problems(model: Any, parts: _Parts) -> list[Problem]:
    """The input and the base's output must be of fixed size, the input an image."""
    network = parts.network
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or None in shape:
        return [(network.name, _kind(network),
                 f"is a nested network in a model whose input is {shape}; a pre-built base "
                 f"takes images of a fixed size (height, width, channels)")]
    out = tuple(parts.network_output.shape[1:])
    if None in out or not out:
        return [(network.name, _kind(network),
                 f"gives an output of varying size {out}; a pre-built base needs a fixed one")]
    return []


def _head_model(parts: _Parts) -> "keras.Model":
    """Copies of the head's layers (not sharing the opened model's) after a stand-in layer
    that gives the base's output shape from an input model_to_spec accepts (a spec's input
    has at most 64 channels; a base gives 1,280 or more)."""
    import keras

    out = tuple(int(d) for d in parts.network_output.shape[1:])
    if len(out) == 3:
        inputs = keras.Input(shape=(out[0], out[1], 1), name="base_input")
        stand_in = keras.layers.Conv2D(out[2], 1, name=_STAND_IN)
    elif len(out) == 2:
        inputs = keras.Input(shape=(out[0], 1), name="base_input")
        stand_in = keras.layers.Conv1D(out[1], 1, name=_STAND_IN)
    else:
        inputs = keras.Input(shape=(out[0], 1), name="base_input")
        stand_in = keras.layers.Flatten(name=_STAND_IN)
    copies = [keras.layers.deserialize(keras.layers.serialize(layer)) for layer in parts.head]
    return keras.Sequential([inputs, stand_in, *copies], name="head")


def _analysed(model: "keras.Model") -> tuple[_Parts | None, list[Problem]]:
    parts, problems = _split(model)
    if parts is None:
        return None, problems
    problems = _image_problems(model, parts)
    if problems:
        return None, problems
    head_problems = unsupported_layers(_head_model(parts))
    return (None, head_problems) if head_problems else (parts, [])


def unsupported_parts(model: "keras.Model") -> list[Problem]:
    """Every part of `model` the builder cannot hold: (name, type, reason). Empty means
    `model_to_spec_with_bases(model)` will succeed (barring a file that cannot be written).

    A model with one nested network in a straight chain is accepted (the network becomes a
    pre-built base); any other model is judged as by `unsupported_layers`.
    """
    if not has_nested_network(model):
        return unsupported_layers(model)
    return _analysed(model)[1]


def _refusal(model: Any, problems: list[Problem]) -> UnsupportedLayerError:
    lines = "\n".join(f"  • '{name}' ({kind}): {why}." for name, kind, why in problems)
    count = f"{len(problems)} part{'s' if len(problems) != 1 else ''}"
    return UnsupportedLayerError(
        f"cnnviz cannot turn the model '{model.name}' into an editable stack: {count} cannot "
        f"be represented exactly.\n{lines}")


def _content_hash(base: "keras.Model") -> str:
    """A hash of the base's architecture, weights and which weights train."""
    digest = hashlib.sha256()
    digest.update(json.dumps(base.get_config(), sort_keys=True, default=str).encode("utf-8"))
    for variable in base.weights:
        value = variable.numpy()
        digest.update(f"{variable.path}:{value.dtype}:{value.shape}:"
                      f"{variable.trainable}".encode("utf-8"))
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def _flags(network: Any) -> list[tuple[Any, bool]]:
    # Parents come before their sublayers, so restoring in this order ends with each
    # layer's own flag (setting a network's flag sets every layer inside it).
    return [(layer, bool(layer.trainable))
            for layer in network._flatten_layers(include_self=True, recursive=True)]


def _save_base(model: "keras.Model", parts: _Parts, frozen: bool, folder: Path) -> Path:
    """Save the input-to-network part with its weights as <network>-<hash>.keras in folder
    (kept when already there). A frozen base is saved unfrozen (BatchNormalization still
    frozen, as prepare_base_block does) so the builder can unfreeze it; the spec freezes it."""
    import keras

    network = parts.network
    saved_flags = _flags(network)
    try:
        if frozen:
            network.trainable = True
            for layer in network._flatten_layers(include_self=False, recursive=True):
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False
        cut = keras.layers.Identity(name=BASE_OUTPUT_LAYER)(parts.network_output)
        end = keras.layers.Identity(name=BASE_END_LAYER)(cut)
        base = keras.Model(model.inputs, end, name="saved_base")
        digest = _content_hash(base)
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in network.name)[:40]
        path = folder / f"{stem}-{digest}.keras"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            save_model_file(base, path)
        return path
    finally:
        for layer, flag in saved_flags:
            layer.trainable = flag


def saved_bases_folder() -> Path:
    """Where networks kept from saved models go: <data folder>/saved_bases. Not a cache
    (their weights exist nowhere else in this form), so clearing the caches leaves them."""
    return user_data_folder() / "saved_bases"


def model_to_spec_with_bases(model: "keras.Model", folder: Path | None = None,
                             on_progress: ProgressCallback | None = None,
                             blocks_folder: Path | None = None) -> ModelSpec:
    """The spec of `model`; its one nested network (with any preprocessing before it) as a
    PretrainedBase layer whose file keeps the network's current weights.

    Args:
        model: a Keras model (Sequential or functional).
        folder: where the network is saved with its weights (default: saved_bases_folder()).
        on_progress: passed to prepare_base_block.
        blocks_folder: where its base block is prepared (default: base_blocks_folder()).
    Returns:
        The spec; the base frozen when none of its weights train now. The head's layers
        are spec layers (built with fresh weights, as every spec is).
    Raises:
        UnsupportedLayerError naming every part the builder cannot hold, and why;
        ModelFileError when the base cannot be saved; CnnvizError subclasses from
        prepare_base_block.
    """
    if not has_nested_network(model):
        return model_to_spec(model)
    parts, problems = _analysed(model)
    if parts is None:
        raise _refusal(model, problems)
    folder = folder or saved_bases_folder()
    frozen = weight_count(_trainable_weights(parts)) == 0
    path = _save_base(model, parts, frozen, folder)
    channels = int(model.inputs[0].shape[-1])
    base_layer = prepare_base_block(str(path), input_channels=channels, cut=BASE_OUTPUT_LAYER,
                                    folder=blocks_folder or base_blocks_folder(),
                                    on_progress=on_progress)
    base_layer.trainable = not frozen
    head = model_to_spec(_head_model(parts))
    head_layers = list(head.layers)
    names = head.layer_names()
    head_layers, names = head_layers[1:], names[1:]  # without the stand-in
    for layer, name in zip(head_layers, names):
        layer.name = name
    spec = ModelSpec(tuple(int(d) for d in model.inputs[0].shape[1:]),
                     [base_layer, *head_layers], model.name or "model")
    return _drop_automatic_names(spec)


def _trainable_weights(parts: _Parts) -> list[Any]:
    """The weights of the base (preprocessing and network) that training changes now."""
    return [w for layer in [*parts.before, parts.network] for w in layer.trainable_weights]


def _drop_automatic_names(spec: ModelSpec) -> ModelSpec:
    """Leave out layer names cnnviz would generate anyway (as model_to_spec does)."""
    names = spec.layer_names()
    trial = spec.copy()
    for layer in trial.layers:
        kept, layer.name = layer.name, None
        if trial.layer_names() != names:
            layer.name = kept
    return trial
