"""The model spec: an input shape plus an ordered stack of layers, as plain data.

Layer types and parameter names follow Keras (`Conv2D`, `kernel_size`, `padding`, ...),
and so do the defaults, so a spec reads like the Keras code it becomes. Specs are saved
as JSON with a format version; loading checks every key and value and raises
`SpecError` with a message that names the layer and says what to change. The layer types and
their parameters are in spec_params, atomic saving in atomic_save (both re-exported here).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnviz.core.atomic_save import save_text_atomically
from cnnviz.core.errors import SpecError
from cnnviz.core.model.spec_params import (
    NAME_STEMS, check_input_shape, check_param, default_params, is_int, new_layer_params,
    param_defs, shown_value,
)

FORMAT_NAME = "cnnviz-model-spec"
FORMAT_VERSION = 1
# The most layers a spec may have. The deepest well-known image networks have a few hundred
# Keras layers (ResNet-152: 517, counting each batch norm and activation), and a teaching stack
# has tens; far beyond that a spec is a mistake or an attack: 10,000 layers took minutes to
# build and then crashed Keras. Keras itself would build 1,000 in a few seconds.
MAX_LAYERS = 1000


@dataclass
class LayerSpec:
    """One layer: its Keras class name, its parameters, an optional name, and whether
    training changes its weights (`trainable` False: a frozen layer, as in transfer learning)."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    trainable: bool = True

    @classmethod
    def make(cls, layer_type: str, name: str | None = None, **params: Any) -> "LayerSpec":
        """A layer with Keras defaults, overridden by `params`."""
        merged = default_params(layer_type)
        for key, value in params.items():
            if key not in merged:
                raise SpecError(f"{layer_type} has no parameter '{key}'.")
            merged[key] = value
        return cls(layer_type, merged, name)

    @classmethod
    def new(cls, layer_type: str) -> "LayerSpec":
        """A layer as the builder adds it: Keras's defaults, but relu for Conv2D and Dense
        (see NEW_LAYER_VALUES)."""
        return cls(layer_type, new_layer_params(layer_type))

    def get(self, key: str) -> Any:
        """A parameter's value, or its default when the spec leaves it out."""
        if key in self.params:
            return self.params[key]
        for p in param_defs(self.type):
            if p.name == key:
                return copy.deepcopy(p.default)
        raise KeyError(key)


@dataclass
class ModelSpec:
    """An input shape and an ordered list of layers. The input is an image (height, width,
    channels) or a sequence (steps, channels)."""

    input_shape: tuple[int, ...] = (28, 28, 1)
    layers: list[LayerSpec] = field(default_factory=list)
    name: str = "model"

    def copy(self) -> "ModelSpec":
        return copy.deepcopy(self)

    def layer_names(self) -> list[str]:
        """Each layer's name: its own, or Keras-style automatic ones (conv2d, conv2d_1, ...)."""
        used: set[str] = {layer.name for layer in self.layers if layer.name}
        counters: dict[str, int] = {}
        names: list[str] = []
        for layer in self.layers:
            if layer.name:
                names.append(layer.name)
                continue
            stem = NAME_STEMS.get(layer.type, layer.type.lower())
            while True:
                n = counters.get(stem, 0)
                counters[stem] = n + 1
                candidate = stem if n == 0 else f"{stem}_{n}"
                if candidate not in used:
                    break
            used.add(candidate)
            names.append(candidate)
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "layers": [
                {"type": layer.type, **({"name": layer.name} if layer.name else {}),
                 **({} if layer.trainable else {"trainable": False}),
                 "params": copy.deepcopy(layer.params)}
                for layer in self.layers
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> "ModelSpec":
        """Parse and check a spec dict. Raises SpecError naming the first problem."""
        return _parse_spec(data)

    @classmethod
    def from_json(cls, text: str) -> "ModelSpec":
        try:
            data = json.loads(text)
            return cls.from_dict(data)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        except RecursionError:
            # `[[[[...]]]]` thousands deep: Python's JSON reader gives up on the nesting.
            raise SpecError("The file is nested too deeply to be a spec (a spec is a few levels "
                            "deep: an object with a list of layers).") from None




# ---------------------------------------------------------------- checking and parsing


def too_many_layers_message(count: int) -> str:
    """The sentence refusing a stack of `count` layers (more than MAX_LAYERS)."""
    return (f"The model has {count:,} layers; cnnviz handles at most {MAX_LAYERS:,} (the deepest "
            f"well-known networks have a few hundred). Remove layers to continue.")


def check_layer_count(count: int) -> None:
    """Raise SpecError if a stack of `count` layers is beyond MAX_LAYERS."""
    if count > MAX_LAYERS:
        raise SpecError(too_many_layers_message(count))


def layer_problem(layer: LayerSpec) -> str | None:
    """The first problem with a layer's parameters, as a sentence, or None if all is well."""
    try:
        normalize_layer(layer)
    except SpecError as exc:
        return str(exc)
    return None


def normalize_layer(layer: LayerSpec) -> LayerSpec:
    """A copy with every parameter present, checked and in canonical form. Raises SpecError."""
    defs = {p.name: p for p in param_defs(layer.type)}
    unknown = sorted(set(layer.params) - set(defs))
    if unknown:
        known = ", ".join(defs) or "none"
        raise SpecError(f"{layer.type} has no parameter '{unknown[0]}' (its parameters: {known}).")
    params = {}
    for name, p in defs.items():
        value = layer.params.get(name, copy.deepcopy(p.default))
        params[name] = check_param(p, value)
    return LayerSpec(layer.type, params, layer.name, layer.trainable)




def _parse_spec(data: Any) -> ModelSpec:
    if not isinstance(data, dict):
        raise SpecError("A model spec must be a JSON object with 'input_shape' and 'layers'.")
    fmt = data.get("format", FORMAT_NAME)
    if fmt != FORMAT_NAME:
        raise SpecError(f"This JSON is a '{fmt}' file, not a cnnviz model spec.")
    version = data.get("format_version", FORMAT_VERSION)
    if not is_int(version) or version < 1:
        raise SpecError(f"'format_version' must be a whole number; got {shown_value(version)}.")
    if version > FORMAT_VERSION:
        raise SpecError(
            f"This spec was written by a newer cnnviz (format version {version}; this one reads "
            f"up to {FORMAT_VERSION}). Update cnnviz to open it."
        )
    unknown = sorted(set(data) - {"format", "format_version", "name", "input_shape", "layers"})
    if unknown:
        raise SpecError(
            f"Unknown key '{unknown[0]}' in the spec (allowed: format, format_version, name, "
            f"input_shape, layers)."
        )
    if "input_shape" not in data:
        raise SpecError("The spec has no 'input_shape', e.g. \"input_shape\": [28, 28, 1] for "
                        "images or [150, 1] for sequences.")
    input_shape = check_input_shape(data["input_shape"])
    name = data.get("name", "model")
    if not isinstance(name, str) or not name.strip():
        raise SpecError("'name' must be a non-empty string.")
    raw_layers = data.get("layers", [])
    if not isinstance(raw_layers, list):
        raise SpecError("'layers' must be a list of layer objects.")
    check_layer_count(len(raw_layers))
    layers: list[LayerSpec] = []
    for i, raw in enumerate(raw_layers, start=1):
        layers.append(_parse_layer(i, raw))
    spec = ModelSpec(input_shape, layers, name)
    names = [layer.name for layer in layers if layer.name]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError(f"Two layers are both named '{dupes[0]}'; layer names must be unique.")
    return spec


def _parse_layer(index: int, raw: Any) -> LayerSpec:
    where = f"Layer {index}"
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be an object like {{\"type\": \"Conv2D\", \"params\": {{...}}}}.")
    unknown = sorted(set(raw) - {"type", "name", "trainable", "params"})
    if unknown:
        raise SpecError(f"{where}: unknown key '{unknown[0]}' (allowed: type, name, trainable, "
                        f"params).")
    layer_type = raw.get("type")
    if not isinstance(layer_type, str):
        raise SpecError(f"{where}: has no 'type' (e.g. \"Conv2D\").")
    where = f"Layer {index} ({layer_type})"
    try:
        param_defs(layer_type)
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()
                             or not all(ch.isalnum() or ch in "_-." for ch in name)):
        raise SpecError(f"{where}: 'name' must be letters, digits, '_', '-' or '.'; got {shown_value(name)}.")
    trainable = raw.get("trainable", True)
    if not isinstance(trainable, bool):
        raise SpecError(f"{where}: 'trainable' must be true or false (false freezes the "
                        f"layer); got {shown_value(trainable)}.")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise SpecError(f"{where}: 'params' must be an object.")
    try:
        return normalize_layer(LayerSpec(layer_type, dict(params), name, trainable))
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


# ---------------------------------------------------------------- files


def load_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read a spec from a JSON file. Raises SpecError with a readable message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a folder, not a spec file.") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path} is not a text (JSON) file.") from None
    except OSError as exc:
        raise SpecError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return ModelSpec.from_json(text)



def save_spec(spec: ModelSpec, path: str | os.PathLike[str]) -> None:
    """Save a spec as JSON, atomically (see save_text_atomically)."""
    save_text_atomically(path, spec.to_json())
