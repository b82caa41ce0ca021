"""The layer types a model spec may use and their parameters (`ParamDef`: type, bounds, label,
help), the limits on sizes, and checking one parameter value or an input shape. The spec
dataclasses built on these are in spec.py, which re-exports every name here.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from cnnviz.core.errors import SpecError

ACTIVATIONS: tuple[str, ...] = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu",
)
PADDINGS: tuple[str, ...] = ("valid", "same")
# Conv1D alone may pad only the start of a sequence, so step t sees steps ≤ t.
CONV1D_PADDINGS: tuple[str, ...] = ("valid", "same", "causal")

MAX_FILTERS = 4096
MAX_UNITS = 65536
MAX_KERNEL = 64
MAX_STRIDE = 64
MAX_INPUT_SIDE = 4096
MAX_CHANNELS = 64
MAX_DILATION = 64
# A pre-built base's weights: ImageNet's, random, or those stored in its model file.
BASE_WEIGHTS: tuple[str, ...] = ("imagenet", "random", "file")
MAX_TEXT = 4096
MAX_COUNT = 10**11
# A sequence (steps, channels) is longer and has more channels than an image side: UEA's
# EigenWorms has 17,984 steps and DuckDuckGeese 1,345 channels.
MAX_INPUT_STEPS = 65536
MAX_SEQUENCE_CHANNELS = 2048


# A message quotes a wrong value; a hostile file's value can be megabytes long.
SHOWN_VALUE_LENGTH = 60


def shown_value(value: Any) -> str:
    """A value as JSON for a message, cut short (with "…") when it is long."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[:SHOWN_VALUE_LENGTH - 1] + "…"


@dataclass(frozen=True)
class ParamDef:
    """How one layer parameter is typed, bounded and described.

    kind is one of: "int", "float", "bool", "choice", "pair" (two ints, e.g. 3×3),
    "optional_pair" (a pair or None, meaning "same as another parameter"), "size" (one int
    for a 1-D window, e.g. a kernel of 3; Keras's [3] is accepted too), "optional_size" (a
    size or None),
    "regularizer" (None or {"l1": float, "l2": float}), "text" (a string, possibly empty),
    "shape" (a list of whole numbers, empty when not yet known) and "count" (a whole number
    0 or more). The last three describe a pre-built base (PretrainedBase): what it is and what
    was measured when it was prepared, so shapes and counts need no TensorFlow.
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


def _size(name: str, default: Any, label: str, help_text: str, maximum: int,
          optional: bool = False) -> ParamDef:
    return ParamDef(name, "optional_size" if optional else "size", default, label, help_text,
                    minimum=1, maximum=maximum)


_ACTIVATION_HELP = "Function applied to every output value ('linear' means none)."
# Conv2D and Dense: a layer added in the builder starts with relu, as in the tutorials, while a
# spec file that leaves the activation out means Keras's own default, linear.
_NEW_RELU_HELP = (_ACTIVATION_HELP + " A new layer starts with relu here, as in the tutorials; "
                  "Keras's own default is linear.")
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
        ParamDef("activation", "choice", "linear", "Activation", _NEW_RELU_HELP,
                 choices=ACTIVATIONS),
        ParamDef("use_bias", "bool", True, "Use bias", "Add one learned number per filter."),
        ParamDef("kernel_regularizer", "regularizer", None, "Kernel regulariser", _REG_HELP),
    ),
    "Conv1D": (
        ParamDef("filters", "int", 32, "Filters", "How many filters, i.e. output channels.",
                 minimum=1, maximum=MAX_FILTERS),
        _size("kernel_size", 3, "Kernel size", "How many steps each filter spans.", MAX_KERNEL),
        _size("strides", 1, "Strides", "How many steps the filter moves each time.", MAX_STRIDE),
        ParamDef("padding", "choice", "valid", "Padding",
                 "'valid': no border, the sequence shrinks; 'same': zeros at both ends keep "
                 "the length (divided by the stride); 'causal': zeros only at the start, so "
                 "each output sees only the present and the past.", choices=CONV1D_PADDINGS),
        _size("dilation_rate", 1, "Dilation",
              "Gap between the steps a filter reads: 2 reads every other step, so a kernel "
              "of 3 spans 5 steps. Keras allows dilation above 1 only with strides of 1.",
              MAX_DILATION),
        ParamDef("activation", "choice", "linear", "Activation", _NEW_RELU_HELP,
                 choices=ACTIVATIONS),
        ParamDef("use_bias", "bool", True, "Use bias", "Add one learned number per filter."),
        ParamDef("kernel_regularizer", "regularizer", None, "Kernel regulariser", _REG_HELP),
    ),
    "MaxPooling1D": (
        _size("pool_size", 2, "Pool size", "How many steps each pooling window spans.",
              MAX_KERNEL),
        _size("strides", None, "Strides",
              "How far the window moves; empty means the same as the pool size.", MAX_STRIDE,
              optional=True),
        ParamDef("padding", "choice", "valid", "Padding",
                 "'valid': windows stay inside; 'same': a partial window at the end counts "
                 "too.", choices=PADDINGS),
    ),
    "AveragePooling1D": (),  # filled in below: same parameters as MaxPooling1D
    "GlobalMaxPooling1D": (),
    "GlobalAveragePooling1D": (),
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
        ParamDef("activation", "choice", "linear", "Activation", _NEW_RELU_HELP,
                 choices=ACTIVATIONS),
        ParamDef("use_bias", "bool", True, "Use bias", "Add one learned number per neuron."),
        ParamDef("kernel_regularizer", "regularizer", None, "Kernel regulariser", _REG_HELP),
    ),
}
LAYER_TYPES["PretrainedBase"] = (
    ParamDef("source", "text", "mobilenet_v2", "Network",
             "A Keras application (mobilenet_v2, mobilenet_v3_small, efficientnet_b0, "
             "resnet50, vgg16) or the path of a model file."),
    ParamDef("weights", "choice", "imagenet", "Weights",
             "'imagenet': trained on ImageNet's 1.3 million photos; 'random': the architecture "
             "only; 'file': the weights stored in the model file.", choices=BASE_WEIGHTS),
    _pair("input_size", [96, 96], "Base input size",
          "Height × width the images are resized to before the base sees them.",
          MAX_INPUT_SIDE),
    ParamDef("input_channels", "int", 1, "For channels",
             "The channels of the images the base was prepared for (1 grey, 3 colour).",
             minimum=1, maximum=MAX_CHANNELS),
    ParamDef("cut", "text", "", "Cut at layer", "The base layer whose output the next layer "
             "reads; the layers after it are left out."),
    ParamDef("block_file", "text", "", "Prepared file",
             "Where the prepared base (its preprocessing, the network cut at the layer and its "
             "weights) is saved as a Keras file; cnnviz makes it again when it is missing."),
    ParamDef("output_shape", "shape", [], "Output shape",
             "The shape the base gives, measured when it was prepared."),
    ParamDef("trainable_weights", "count", 0, "Weights training may change",
             "When not frozen; BatchNormalization statistics are never trained."),
    ParamDef("non_trainable_weights", "count", 0, "Weights never trained",
             "BatchNormalization statistics and the fixed preprocessing."),
)
LAYER_TYPES["AveragePooling2D"] = LAYER_TYPES["MaxPooling2D"]
LAYER_TYPES["AveragePooling1D"] = LAYER_TYPES["MaxPooling1D"]

# The layers that slide along a sequence (steps, channels) and those that slide over an image
# (height, width, channels); the others take either.
SEQUENCE_LAYERS: tuple[str, ...] = (
    "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
)
IMAGE_LAYERS: tuple[str, ...] = (
    "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
)

# A network trained before, cut at a layer: prepared (measured, saved as a Keras file) by
# core.transfer.base_blocks, built from that file by core.model.builder.
PRETRAINED_BASE = "PretrainedBase"

# Where a layer added in the builder starts from values other than Keras's defaults: the
# tutorials' relu for hidden Conv2D and Dense layers (Keras's default, linear, would stack
# linear maps). `default` stays Keras's, so a spec file means what its Keras code means.
NEW_LAYER_VALUES: dict[str, dict[str, Any]] = {
    "Conv2D": {"activation": "relu"},
    "Conv1D": {"activation": "relu"},
    "Dense": {"activation": "relu"},
}

# One-line descriptions for the palette and tooltips.
LAYER_DESCRIPTIONS: dict[str, str] = {
    "Conv2D": "Slides small learned filters over the image; each filter makes one feature map.",
    "Conv1D": "Slides small learned filters along the sequence; each filter makes one output "
              "channel.",
    "MaxPooling1D": "Keeps the largest value of each window of steps, shortening the sequence.",
    "AveragePooling1D": "Keeps the average of each window of steps, shortening the sequence.",
    "GlobalMaxPooling1D": "Keeps only the largest value of each channel over all steps.",
    "GlobalAveragePooling1D": "Keeps only the average of each channel over all steps.",
    "Activation": "Applies a function (ReLU, sigmoid, ...) to every value separately.",
    "MaxPooling2D": "Keeps the largest value of each window, shrinking the maps.",
    "AveragePooling2D": "Keeps the average of each window, shrinking the maps.",
    "GlobalMaxPooling2D": "Keeps only the largest value of each whole feature map.",
    "GlobalAveragePooling2D": "Keeps only the average of each whole feature map.",
    "BatchNormalization": "Rescales each channel to a steady mean and spread; speeds up training.",
    "Dropout": "Randomly zeroes values while training so the net cannot rely on any one of them.",
    "Flatten": "Lays a volume or a sequence out as one long vector, ready for Dense layers.",
    "Dense": "Every output is a weighted sum of every input, plus a bias.",
    "PretrainedBase": "A network trained before (e.g. MobileNetV2 on ImageNet), cut at a layer "
                      "and usually frozen: its features feed the layers after it.",
}

# Keras's automatic layer-name stems, used to give unnamed layers Keras-like names.
NAME_STEMS: dict[str, str] = {
    "Conv2D": "conv2d", "Activation": "activation", "MaxPooling2D": "max_pooling2d",
    "AveragePooling2D": "average_pooling2d", "GlobalMaxPooling2D": "global_max_pooling2d",
    "GlobalAveragePooling2D": "global_average_pooling2d",
    "BatchNormalization": "batch_normalization", "Dropout": "dropout", "Flatten": "flatten",
    "Dense": "dense", "Conv1D": "conv1d", "MaxPooling1D": "max_pooling1d",
    "AveragePooling1D": "average_pooling1d", "GlobalMaxPooling1D": "global_max_pooling1d",
    "GlobalAveragePooling1D": "global_average_pooling1d", "PretrainedBase": "pretrained_base",
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


def new_layer_params(layer_type: str) -> dict[str, Any]:
    """The parameters a layer added in the builder starts with: Keras's defaults, except
    those in NEW_LAYER_VALUES (relu for Conv2D, Conv1D and Dense)."""
    params = default_params(layer_type)
    params.update(copy.deepcopy(NEW_LAYER_VALUES.get(layer_type, {})))
    return params


# ---------------------------------------------------------------- checking values


def _whole(bound: float | None) -> int:
    assert bound is not None, "int and pair parameters have both bounds"
    return int(bound)


def _describe(p: ParamDef) -> str:
    if p.kind == "int":
        return f"a whole number from {_whole(p.minimum)} to {_whole(p.maximum)}"
    if p.kind == "float":
        top = "up to" if p.maximum_inclusive else "below"
        return f"a number from {p.minimum:g} {top} {p.maximum:g}"
    if p.kind == "bool":
        return "true or false"
    if p.kind == "choice":
        return "one of " + ", ".join(f"'{c}'" for c in p.choices)
    if p.kind in ("pair", "optional_pair"):
        text = f"two whole numbers from {_whole(p.minimum)} to {_whole(p.maximum)}, like [3, 3]"
        return text + (" (or null)" if p.kind == "optional_pair" else "")
    if p.kind in ("size", "optional_size"):
        text = f"a whole number from {_whole(p.minimum)} to {_whole(p.maximum)}, like 3"
        return text + (" (or null)" if p.kind == "optional_size" else "")
    if p.kind == "regularizer":
        return 'null or {"l1": number ≥ 0, "l2": number ≥ 0}'
    if p.kind == "text":
        return f"text of at most {MAX_TEXT:,} characters"
    if p.kind == "shape":
        return "a list of up to 3 whole numbers from 1, like [3, 3, 1280] (or [])"
    if p.kind == "count":
        return "a whole number, 0 or more"
    return p.kind


def is_int(value: Any) -> bool:
    """Whether `value` is an int (and not a bool, which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_param(p: ParamDef, value: Any) -> Any:
    """Return the value in canonical form, or raise SpecError(message without layer prefix)."""
    bad = SpecError(f"'{p.name}' must be {_describe(p)}, but is {shown_value(value)}.")
    if p.kind == "int":
        if not is_int(value) or not p.minimum <= value <= p.maximum:
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
            if p.name == "padding" and value == "causal":
                raise SpecError("'causal' padding is for Conv1D only (it pads the start of a "
                                "sequence). Use 'valid' or 'same'.")
            raise bad
        return value
    if p.kind in ("pair", "optional_pair"):
        if value is None and p.kind == "optional_pair":
            return None
        if is_int(value):
            value = [value, value]  # Keras accepts kernel_size=3 for (3, 3)
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(is_int(v) for v in value)):
            raise bad
        if not all(p.minimum <= v <= p.maximum for v in value):
            if any(v == 0 for v in value) and p.name == "strides":
                raise SpecError(
                    f"'strides' of 0 would never move the window. Use 1 or more, got {shown_value(list(value))}."
                )
            raise bad
        return [int(value[0]), int(value[1])]
    if p.kind in ("size", "optional_size"):
        if value is None and p.kind == "optional_size":
            return None
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]  # Keras accepts kernel_size=[3] (and stores (3,)) for 3
        if not is_int(value):
            raise bad
        if value == 0 and p.name == "strides":
            raise SpecError("'strides' of 0 would never move the window. Use 1 or more, got 0.")
        if not p.minimum <= value <= p.maximum:
            raise bad
        return int(value)
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
    if p.kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT or \
                not all(ch.isprintable() for ch in value):
            raise bad
        return value
    if p.kind == "shape":
        if (not isinstance(value, (list, tuple)) or len(value) > 3
                or not all(is_int(v) and 1 <= v <= MAX_INPUT_STEPS for v in value)):
            raise bad
        return [int(v) for v in value]
    if p.kind == "count":
        if not is_int(value) or not 0 <= value <= MAX_COUNT:
            raise bad
        return value
    raise SpecError(f"internal: unknown parameter kind {p.kind}")

def check_input_shape(value: Any) -> tuple[int, ...]:
    """Validate an input shape: [height, width, channels] for images, [steps, channels] for
    sequences. Returns it as a tuple; raises SpecError."""
    if (not isinstance(value, (list, tuple)) or len(value) not in (2, 3)
            or not all(is_int(v) for v in value)):
        raise SpecError(
            f"'input_shape' must be [height, width, channels] for images, like [28, 28, 1], "
            f"or [steps, channels] for sequences, like [150, 1]; got {shown_value(value)}."
        )
    if len(value) == 2:
        steps, channels = value
        if not 1 <= steps <= MAX_INPUT_STEPS:
            raise SpecError(f"Input steps must be from 1 to {MAX_INPUT_STEPS:,}; got {steps}.")
        if not 1 <= channels <= MAX_SEQUENCE_CHANNELS:
            raise SpecError(
                f"Input channels must be from 1 to {MAX_SEQUENCE_CHANNELS:,} (1 for a single "
                f"signal); got {channels}.")
        return (steps, channels)
    h, w, c = value
    if not (1 <= h <= MAX_INPUT_SIDE and 1 <= w <= MAX_INPUT_SIDE):
        raise SpecError(f"Input height and width must be from 1 to {MAX_INPUT_SIDE}; got {h}×{w}.")
    if not 1 <= c <= MAX_CHANNELS:
        raise SpecError(
            f"Input channels must be from 1 to {MAX_CHANNELS} (1 for grayscale, 3 for colour); got {c}."
        )
    return (h, w, c)
