"""The model spec: an input shape plus an ordered stack of layers, as plain data.

Layer types and parameter names follow Keras (`Conv2D`, `kernel_size`, `padding`, ...),
and so do the defaults, so a spec reads like the Keras code it becomes. Specs are saved
as JSON with a format version; loading checks every key and value and raises
`SpecError` with a message that names the layer and says what to change.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnviz.core.errors import SpecError

FORMAT_NAME = "cnnviz-model-spec"
FORMAT_VERSION = 1

ACTIVATIONS: tuple[str, ...] = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu",
)
PADDINGS: tuple[str, ...] = ("valid", "same")

MAX_FILTERS = 4096
MAX_UNITS = 65536
MAX_KERNEL = 64
MAX_STRIDE = 64
MAX_INPUT_SIDE = 4096
MAX_CHANNELS = 64


@dataclass(frozen=True)
class ParamDef:
    """How one layer parameter is typed, bounded and described.

    kind is one of: "int", "float", "bool", "choice", "pair" (two ints, e.g. 3×3),
    "optional_pair" (a pair or None, meaning "same as another parameter"),
    "regularizer" (None or {"l1": float, "l2": float}).
    """

    name: str
    kind: str
    default: Any
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    # For floats: whether the maximum itself is allowed (Dropout's rate must stay below 1).
    maximum_inclusive: bool = True


def _pair(name: str, default: Any, label: str, help_text: str, maximum: int,
          optional: bool = False) -> ParamDef:
    return ParamDef(name, "optional_pair" if optional else "pair", default, label, help_text,
                    minimum=1, maximum=maximum)


_ACTIVATION_HELP = "Function applied to every output value ('linear' means none)."
_REG_HELP = "Penalty on large weights added to the loss (L1 and/or L2 factors; 0 disables)."

LAYER_TYPES: dict[str, tuple[ParamDef, ...]] = {
    "Conv2D": (
        ParamDef("filters", "int", 32, "Filters", "How many filters, i.e. output channels.",
                 minimum=1, maximum=MAX_FILTERS),
        _pair("kernel_size", [3, 3], "Kernel size", "Height × width of each filter.", MAX_KERNEL),
        _pair("strides", [1, 1], "Strides", "How far the filter moves at each step.", MAX_STRIDE),
        ParamDef("padding", "choice", "valid", "Padding",
                 "'valid': no border, the map shrinks; 'same': zero border keeps the size "
                 "(divided by the stride).", choices=PADDINGS),
        ParamDef("activation", "choice", "linear", "Activation", _ACTIVATION_HELP,
                 choices=ACTIVATIONS),
        ParamDef("use_bias", "bool", True, "Use bias", "Add one learned number per filter."),
        ParamDef("kernel_regularizer", "regularizer", None, "Kernel regulariser", _REG_HELP),
    ),
    "Activation": (
        ParamDef("activation", "choice", "relu", "Function", _ACTIVATION_HELP, choices=ACTIVATIONS),
    ),
    "MaxPooling2D": (
        _pair("pool_size", [2, 2], "Pool size", "Height × width of each pooling window.", MAX_KERNEL),
        _pair("strides", None, "Strides",
              "How far the window moves; empty means the same as the pool size.", MAX_STRIDE,
              optional=True),
        ParamDef("padding", "choice", "valid", "Padding",
                 "'valid': windows stay inside; 'same': partial windows at the edge count too.",
                 choices=PADDINGS),
    ),
    "AveragePooling2D": (),  # filled in below: same parameters as MaxPooling2D
    "GlobalMaxPooling2D": (),
    "GlobalAveragePooling2D": (),
    "BatchNormalization": (
        ParamDef("momentum", "float", 0.99, "Momentum",
                 "How slowly the running mean and variance follow each batch.",
                 minimum=0.0, maximum=1.0),
        ParamDef("epsilon", "float", 0.001, "Epsilon",
                 "Small number added to the variance so it is never divided by zero.",
                 minimum=1e-12, maximum=1.0),
    ),
    "Dropout": (
        ParamDef("rate", "float", 0.5, "Rate",
                 "Fraction of values set to zero during training (from 0 up to, not including, 1).",
                 minimum=0.0, maximum=1.0, maximum_inclusive=False),
    ),
    "Flatten": (),
    "Dense": (
        ParamDef("units", "int", 64, "Units", "How many neurons, i.e. output values.",
                 minimum=1, maximum=MAX_UNITS),
        ParamDef("activation", "choice", "linear", "Activation", _ACTIVATION_HELP,
                 choices=ACTIVATIONS),
        ParamDef("use_bias", "bool", True, "Use bias", "Add one learned number per neuron."),
        ParamDef("kernel_regularizer", "regularizer", None, "Kernel regulariser", _REG_HELP),
    ),
}
LAYER_TYPES["AveragePooling2D"] = LAYER_TYPES["MaxPooling2D"]

# One-line descriptions for the palette and tooltips.
LAYER_DESCRIPTIONS: dict[str, str] = {
    "Conv2D": "Slides small learned filters over the image; each filter makes one feature map.",
    "Activation": "Applies a function (ReLU, sigmoid, ...) to every value separately.",
    "MaxPooling2D": "Keeps the largest value of each window, shrinking the maps.",
    "AveragePooling2D": "Keeps the average of each window, shrinking the maps.",
    "GlobalMaxPooling2D": "Keeps only the largest value of each whole feature map.",
    "GlobalAveragePooling2D": "Keeps only the average of each whole feature map.",
    "BatchNormalization": "Rescales each channel to a steady mean and spread; speeds up training.",
    "Dropout": "Randomly zeroes values while training so the net cannot rely on any one of them.",
    "Flatten": "Lays a 3-D volume out as one long vector, ready for Dense layers.",
    "Dense": "Every output is a weighted sum of every input, plus a bias.",
}

# Keras's automatic layer-name stems, used to give unnamed layers Keras-like names.
NAME_STEMS: dict[str, str] = {
    "Conv2D": "conv2d", "Activation": "activation", "MaxPooling2D": "max_pooling2d",
    "AveragePooling2D": "average_pooling2d", "GlobalMaxPooling2D": "global_max_pooling2d",
    "GlobalAveragePooling2D": "global_average_pooling2d",
    "BatchNormalization": "batch_normalization", "Dropout": "dropout", "Flatten": "flatten",
    "Dense": "dense",
}


def param_defs(layer_type: str) -> tuple[ParamDef, ...]:
    """The parameter definitions of a layer type. Raises SpecError for an unknown type."""
    try:
        return LAYER_TYPES[layer_type]
    except KeyError:
        raise SpecError(
            f"Unknown layer type '{layer_type}'. Known types: {', '.join(LAYER_TYPES)}."
        ) from None


def default_params(layer_type: str) -> dict[str, Any]:
    """A fresh dict of Keras's defaults for a layer type."""
    return {p.name: copy.deepcopy(p.default) for p in param_defs(layer_type)}


@dataclass
class LayerSpec:
    """One layer: its Keras class name, its parameters and an optional name."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    @classmethod
    def make(cls, layer_type: str, name: str | None = None, **params: Any) -> "LayerSpec":
        """A layer with Keras defaults, overridden by `params`."""
        merged = default_params(layer_type)
        for key, value in params.items():
            if key not in merged:
                raise SpecError(f"{layer_type} has no parameter '{key}'.")
            merged[key] = value
        return cls(layer_type, merged, name)

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
    """An input shape (height, width, channels) and an ordered list of layers."""

    input_shape: tuple[int, int, int] = (28, 28, 1)
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
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        return cls.from_dict(data)


# ---------------------------------------------------------------- checking values


def _describe(p: ParamDef) -> str:
    if p.kind == "int":
        return f"a whole number from {int(p.minimum)} to {int(p.maximum)}"
    if p.kind == "float":
        top = "up to" if p.maximum_inclusive else "below"
        return f"a number from {p.minimum:g} {top} {p.maximum:g}"
    if p.kind == "bool":
        return "true or false"
    if p.kind == "choice":
        return "one of " + ", ".join(f"'{c}'" for c in p.choices)
    if p.kind in ("pair", "optional_pair"):
        text = f"two whole numbers from {int(p.minimum)} to {int(p.maximum)}, like [3, 3]"
        return text + (" (or null)" if p.kind == "optional_pair" else "")
    if p.kind == "regularizer":
        return 'null or {"l1": number ≥ 0, "l2": number ≥ 0}'
    return p.kind


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_param(p: ParamDef, value: Any) -> Any:
    """Return the value in canonical form, or raise SpecError(message without layer prefix)."""
    bad = SpecError(f"'{p.name}' must be {_describe(p)}, but is {json.dumps(value)}.")
    if p.kind == "int":
        if not _is_int(value) or not p.minimum <= value <= p.maximum:
            raise bad
        return value
    if p.kind == "float":
        if not _is_number(value) or value != value:  # value != value: NaN
            raise bad
        too_high = value > p.maximum if p.maximum_inclusive else value >= p.maximum
        if value < p.minimum or too_high:
            raise bad
        return float(value)
    if p.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if p.kind == "choice":
        if value is None and "linear" in p.choices:
            return "linear"  # Keras writes activation=None as 'linear'
        if value not in p.choices:
            raise bad
        return value
    if p.kind in ("pair", "optional_pair"):
        if value is None and p.kind == "optional_pair":
            return None
        if _is_int(value):
            value = [value, value]  # Keras accepts kernel_size=3 for (3, 3)
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(_is_int(v) for v in value)):
            raise bad
        if not all(p.minimum <= v <= p.maximum for v in value):
            if any(v == 0 for v in value) and p.name == "strides":
                raise SpecError(
                    f"'strides' of 0 would never move the window. Use 1 or more, got {list(value)}."
                )
            raise bad
        return [int(value[0]), int(value[1])]
    if p.kind == "regularizer":
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) - {"l1", "l2"}:
            raise bad
        out = {"l1": value.get("l1", 0.0), "l2": value.get("l2", 0.0)}
        if not all(_is_number(v) and v >= 0 and v == v for v in out.values()):
            raise bad
        if out["l1"] == 0 and out["l2"] == 0:
            return None
        return {"l1": float(out["l1"]), "l2": float(out["l2"])}
    raise SpecError(f"internal: unknown parameter kind {p.kind}")


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
    return LayerSpec(layer.type, params, layer.name)


def check_input_shape(value: Any) -> tuple[int, int, int]:
    """Validate an input shape [height, width, channels]. Raises SpecError."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(_is_int(v) for v in value)):
        raise SpecError(
            f"'input_shape' must be three whole numbers [height, width, channels], "
            f"like [28, 28, 1]; got {json.dumps(value)}."
        )
    h, w, c = value
    if not (1 <= h <= MAX_INPUT_SIDE and 1 <= w <= MAX_INPUT_SIDE):
        raise SpecError(f"Input height and width must be from 1 to {MAX_INPUT_SIDE}; got {h}×{w}.")
    if not 1 <= c <= MAX_CHANNELS:
        raise SpecError(
            f"Input channels must be from 1 to {MAX_CHANNELS} (1 for grayscale, 3 for colour); got {c}."
        )
    return (h, w, c)


def _parse_spec(data: Any) -> ModelSpec:
    if not isinstance(data, dict):
        raise SpecError("A model spec must be a JSON object with 'input_shape' and 'layers'.")
    fmt = data.get("format", FORMAT_NAME)
    if fmt != FORMAT_NAME:
        raise SpecError(f"This JSON is a '{fmt}' file, not a cnnviz model spec.")
    version = data.get("format_version", FORMAT_VERSION)
    if not _is_int(version) or version < 1:
        raise SpecError(f"'format_version' must be a whole number; got {json.dumps(version)}.")
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
        raise SpecError("The spec has no 'input_shape', e.g. \"input_shape\": [28, 28, 1].")
    input_shape = check_input_shape(data["input_shape"])
    name = data.get("name", "model")
    if not isinstance(name, str) or not name.strip():
        raise SpecError("'name' must be a non-empty string.")
    raw_layers = data.get("layers", [])
    if not isinstance(raw_layers, list):
        raise SpecError("'layers' must be a list of layer objects.")
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
    unknown = sorted(set(raw) - {"type", "name", "params"})
    if unknown:
        raise SpecError(f"{where}: unknown key '{unknown[0]}' (allowed: type, name, params).")
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
        raise SpecError(f"{where}: 'name' must be letters, digits, '_', '-' or '.'; got {json.dumps(name)}.")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise SpecError(f"{where}: 'params' must be an object.")
    try:
        return normalize_layer(LayerSpec(layer_type, dict(params), name))
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


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write text to a temporary file beside `path`, then rename it over `path`.

    A crash or a full disk mid-write leaves the previous file intact. Raises SpecError
    with a readable message when the folder is missing or read-only.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    # Renaming over a file ignores its own permissions, so honour a read-only file by hand.
    if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
        raise SpecError(f"Cannot save: {path} is read-only.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise SpecError(f"Cannot save: the folder {folder} does not exist (any more).") from None
    except PermissionError:
        raise SpecError(f"Cannot save: the folder {folder} is read-only.") from None
    except OSError as exc:
        raise SpecError(f"Cannot save to {folder}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain write would have.
        os.chmod(tmp_name, _mode_for(path))
        os.replace(tmp_name, path)
    except OSError as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, PermissionError):
            raise SpecError(f"Cannot save: {path} is read-only.") from None
        raise SpecError(f"Cannot save {path}: {exc.strerror or exc}.") from None


def save_spec(spec: ModelSpec, path: str | os.PathLike[str]) -> None:
    """Save a spec as JSON, atomically (see save_text_atomically)."""
    save_text_atomically(path, spec.to_json())
