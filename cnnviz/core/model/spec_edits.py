"""Edits of a model spec as pure functions: each returns a new spec, the old one untouched.

The editor's undo stack keeps whole specs, so every edit here must leave its input alone.
"""

from __future__ import annotations

from typing import Any

from cnnviz.core.errors import SpecError
from cnnviz.core.model.spec import LayerSpec, ModelSpec, check_layer_count
from cnnviz.core.model.spec_params import check_input_shape, check_param, param_defs


def insert_layer(spec: ModelSpec, index: int, layer: LayerSpec) -> ModelSpec:
    """A copy with `layer` inserted at `index` (clamped to the stack). Raises SpecError when
    the stack already has MAX_LAYERS layers."""
    check_layer_count(len(spec.layers) + 1)
    new = spec.copy()
    index = max(0, min(index, len(new.layers)))
    new.layers.insert(index, LayerSpec(layer.type, dict(layer.params), layer.name,
                                             layer.trainable))
    return new


def remove_layer(spec: ModelSpec, index: int) -> ModelSpec:
    """A copy without the layer at `index`."""
    new = spec.copy()
    del new.layers[index]
    return new


def duplicate_layer(spec: ModelSpec, index: int) -> ModelSpec:
    """A copy with the layer at `index` repeated just below it (an explicit name is not copied).
    Raises SpecError when the stack already has MAX_LAYERS layers."""
    check_layer_count(len(spec.layers) + 1)
    new = spec.copy()
    original = new.layers[index]
    new.layers.insert(index + 1, LayerSpec(original.type, dict(original.params), None,
                                             original.trainable))
    return new


def move_layer(spec: ModelSpec, source: int, target: int) -> ModelSpec:
    """A copy with the layer at `source` moved so that it ends up at position `target`."""
    new = spec.copy()
    target = max(0, min(target, len(new.layers) - 1))
    layer = new.layers.pop(source)
    new.layers.insert(target, layer)
    return new


def set_param(spec: ModelSpec, index: int, key: str, value: Any) -> ModelSpec:
    """A copy with one parameter of one layer changed. Raises SpecError if out of range."""
    new = spec.copy()
    layer = new.layers[index]
    definition = next(p for p in param_defs(layer.type) if p.name == key)
    layer.params[key] = check_param(definition, value)
    return new


def set_input_shape(spec: ModelSpec, shape: tuple[int, ...]) -> ModelSpec:
    """A copy with a new input shape, (height, width, channels) or (steps, channels).
    Raises SpecError if out of range."""
    new = spec.copy()
    new.input_shape = check_input_shape(list(shape))
    return new


def rename_layer(spec: ModelSpec, index: int, name: str | None) -> ModelSpec:
    """A copy with layer `index` named `name` (None or "" returns it to the automatic name)."""
    new = spec.copy()
    name = (name or "").strip() or None
    if name is not None:
        if not all(ch.isalnum() or ch in "_-." for ch in name):
            raise SpecError("A layer name may use letters, digits, '_', '-' and '.' only.")
        others = [n for i, n in enumerate(spec.layer_names()) if i != index]
        if name in others:
            raise SpecError(f"Another layer is already called '{name}'.")
    new.layers[index].name = name
    return new


def set_trainable(spec: ModelSpec, indices: list[int] | tuple[int, ...] | range,
                  trainable: bool) -> ModelSpec:
    """A copy with the layers at `indices` frozen (`trainable` False: training leaves their
    weights alone) or unfrozen."""
    new = spec.copy()
    for index in indices:
        new.layers[index].trainable = trainable
    return new
