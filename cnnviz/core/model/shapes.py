"""Output shapes and parameter counts by arithmetic, without TensorFlow.

This is what makes the editor instant: every keystroke re-runs `analyze`, which
takes microseconds. The figures equal Keras's own (tests compare them layer by layer
with `model.summary()` on presets and hundreds of random stacks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnnviz.core.errors import SpecError
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer
from cnnviz.core.model.spec_params import PRETRAINED_BASE, check_input_shape

Shape = tuple[int, ...]

# Above this many weights in one layer we warn: training would crawl and memory may run out.
LARGE_LAYER_PARAMS = 50_000_000


@dataclass
class LayerReport:
    """What one layer does to the data: its output shape, parameters, and any problem."""

    index: int  # 0-based position in the stack
    name: str
    type: str
    input_shape: Shape | None
    output_shape: Shape | None  # None when this or an earlier layer is invalid
    params: int = 0
    trainable: int = 0
    non_trainable: int = 0
    error: str | None = None  # what is wrong with this layer and how to fix it
    warning: str | None = None  # works, but worth knowing (e.g. a huge layer)
    frozen: bool = False  # trainable=False: training leaves all its weights alone


@dataclass
class StackReport:
    """The whole stack: every layer's report and the totals."""

    input_shape: Shape
    layers: list[LayerReport] = field(default_factory=list)
    input_error: str | None = None

    @property
    def first_error(self) -> LayerReport | None:
        return next((r for r in self.layers if r.error), None)

    @property
    def ok(self) -> bool:
        return self.input_error is None and self.first_error is None

    @property
    def output_shape(self) -> Shape | None:
        if not self.ok:
            return None
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable for r in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(r.non_trainable for r in self.layers)

    def error_message(self) -> str | None:
        """The first problem as one sentence naming the layer, or None."""
        if self.input_error:
            return f"Input: {self.input_error}"
        bad = self.first_error
        if bad is None:
            return None
        return f"Layer {bad.index + 1} ({bad.type} '{bad.name}'): {bad.error}"


def _x(pair: list[int] | tuple[int, ...]) -> str:
    return f"{pair[0]}×{pair[1]}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _describe_shape(shape: Shape) -> str:
    if len(shape) == 1:
        return f"a flat vector of {shape[0]} values"
    if len(shape) == 2:
        return f"a sequence of {_plural(shape[0], 'step')} × {_plural(shape[1], 'channel')}"
    return "an image-shaped volume of " + "×".join(str(d) for d in shape)


def _window_output(size: int, window: int, stride: int, padding: str) -> int:
    """Output length of a sliding window, exactly as Keras computes it. `window` is the span
    (for a dilated kernel, dilation × (kernel - 1) + 1). 'causal' pads only the start, by
    span - 1, so it keeps the length as 'same' does."""
    if padding in ("same", "causal"):
        return math.ceil(size / stride)
    return (size - window) // stride + 1


class LayerProblem(Exception):
    """Raised inside the arithmetic with the sentence shown to the user."""


# The layer that does the same job in the other number of dimensions.
_COUNTERPART = {
    "Conv2D": "Conv1D", "MaxPooling2D": "MaxPooling1D", "AveragePooling2D": "AveragePooling1D",
    "GlobalMaxPooling2D": "GlobalMaxPooling1D",
    "GlobalAveragePooling2D": "GlobalAveragePooling1D",
}
_COUNTERPART.update({one_d: two_d for two_d, one_d in list(_COUNTERPART.items())})


def _need_image(layer_type: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) == 2:
        raise LayerProblem(
            f"{layer_type} needs an image (height × width × channels), but it gets "
            f"{_describe_shape(shape)}. Use {_COUNTERPART[layer_type]} for sequences, or make "
            f"the input an image (height × width × channels)."
        )
    if len(shape) != 3:
        raise LayerProblem(
            f"{layer_type} needs an image-shaped input (height × width × channels), but it gets "
            f"{_describe_shape(shape)}. Move it before the Flatten or global pooling layer."
        )
    return (shape[0], shape[1], shape[2])


def _need_sequence(layer_type: str, shape: Shape) -> tuple[int, int]:
    if len(shape) == 3:
        raise LayerProblem(
            f"{layer_type} needs a sequence (steps × channels), but it gets "
            f"{_describe_shape(shape)}. Use {_COUNTERPART[layer_type]} for images, or make "
            f"the input a sequence (steps × channels)."
        )
    if len(shape) != 2:
        raise LayerProblem(
            f"{layer_type} needs a sequence (steps × channels), but it gets "
            f"{_describe_shape(shape)}. Move it before the Flatten or global pooling layer."
        )
    return (shape[0], shape[1])


def _sliding(layer_type: str, shape: Shape, window: list[int], strides: list[int],
             padding: str, what: str) -> tuple[int, int]:
    h, w, _ = _need_image(layer_type, shape)
    if padding == "valid" and (window[0] > h or window[1] > w):
        fix = ("Use padding='same' or a smaller kernel." if what == "kernel"
               else "Use padding='same', a smaller pool size, or remove this layer.")
        raise LayerProblem(
            f"its {_x(window)} {what} is larger than its {h}×{w} input, so the map would shrink "
            f"to nothing. {fix}"
        )
    return (_window_output(h, window[0], strides[0], padding),
            _window_output(w, window[1], strides[1], padding))


def _sliding_1d(steps: int, window: int, stride: int, padding: str, what: str,
                dilation: int = 1) -> int:
    """Output steps of a 1-D window; refuses a 'valid' window longer than the sequence."""
    span = dilation * (window - 1) + 1
    if padding == "valid" and span > steps:
        if what == "kernel":
            fix = ("Use padding='same' or 'causal', or a smaller kernel"
                   + (" or dilation." if dilation > 1 else "."))
            if dilation > 1:
                raise LayerProblem(
                    f"a kernel of {window} with dilation {dilation} spans {span} steps, more than "
                    f"the sequence of {_plural(steps, 'step')}, so nothing is left. {fix}")
            raise LayerProblem(
                f"a kernel of {window} on a sequence of {_plural(steps, 'step')} leaves nothing. "
                f"{fix}")
        raise LayerProblem(
            f"a pool window of {window} on a sequence of {_plural(steps, 'step')} leaves nothing. "
            f"Use padding='same', a smaller pool size, or remove this layer."
        )
    return _window_output(steps, span, stride, padding)


def layer_arithmetic(layer: LayerSpec, shape: Shape) -> tuple[Shape, int, int]:
    """(output shape, trainable params, non-trainable params) of one checked layer."""
    p = layer.params
    t = layer.type
    if t == "Conv2D":
        h, w, c = _need_image(t, shape)
        out_h, out_w = _sliding(t, shape, p["kernel_size"], p["strides"], p["padding"], "kernel")
        k = p["kernel_size"]
        weights = k[0] * k[1] * c * p["filters"] + (p["filters"] if p["use_bias"] else 0)
        return (out_h, out_w, p["filters"]), weights, 0
    if t == "Conv1D":
        steps, c = _need_sequence(t, shape)
        if p["strides"] > 1 and p["dilation_rate"] > 1:
            raise LayerProblem(
                f"strides of {p['strides']} with a dilation of {p['dilation_rate']}: Keras cannot "
                f"do both in one layer. Set strides or dilation_rate back to 1."
            )
        out_steps = _sliding_1d(steps, p["kernel_size"], p["strides"], p["padding"], "kernel",
                                p["dilation_rate"])
        weights = p["kernel_size"] * c * p["filters"] + (p["filters"] if p["use_bias"] else 0)
        return (out_steps, p["filters"]), weights, 0
    if t in ("MaxPooling2D", "AveragePooling2D"):
        _, _, c = _need_image(t, shape)
        strides = p["strides"] or p["pool_size"]
        out_h, out_w = _sliding(t, shape, p["pool_size"], strides, p["padding"], "pool window")
        return (out_h, out_w, c), 0, 0
    if t in ("MaxPooling1D", "AveragePooling1D"):
        steps, c = _need_sequence(t, shape)
        stride = p["strides"] or p["pool_size"]
        return (_sliding_1d(steps, p["pool_size"], stride, p["padding"], "pool"), c), 0, 0
    if t in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        _, _, c = _need_image(t, shape)
        return (c,), 0, 0
    if t in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
        _, c = _need_sequence(t, shape)
        return (c,), 0, 0
    if t == "Flatten":
        return (math.prod(shape),), 0, 0
    if t == "Dense":
        if len(shape) == 2:
            # Keras applies Dense to the last axis: the same weights at every step.
            weights = shape[1] * p["units"] + (p["units"] if p["use_bias"] else 0)
            return (shape[0], p["units"]), weights, 0
        if len(shape) != 1:
            raise LayerProblem(
                f"Dense needs a flat vector, but it gets {_describe_shape(shape)}. "
                f"Add a Flatten (or a global pooling) layer before it."
            )
        weights = shape[0] * p["units"] + (p["units"] if p["use_bias"] else 0)
        return (p["units"],), weights, 0
    if t == "BatchNormalization":
        channels = shape[-1]
        # gamma and beta learn; the moving mean and variance are only tracked.
        return shape, 2 * channels, 2 * channels
    if t in ("Activation", "Dropout"):
        return shape, 0, 0
    if t == PRETRAINED_BASE:
        return _pretrained_base(p, shape)
    raise LayerProblem(f"cnnviz cannot compute the shape of a {t} layer.")


def _pretrained_base(p: dict[str, Any], shape: Shape) -> tuple[Shape, int, int]:
    """A prepared base: any image size in (it resizes), the measured shape and counts out."""
    if not p["block_file"] or not p["output_shape"]:
        raise LayerProblem("this pre-built base has not been prepared yet. Choose it again "
                           "with 'Pre-built base…' in the builder.")
    if len(shape) != 3:
        raise LayerProblem(
            f"a pre-built image network needs an image (height × width × channels), but it "
            f"gets {_describe_shape(shape)}. Put it first, right after the input.")
    wanted = p["input_channels"]
    if shape[2] != wanted:
        what = {1: "grey images (1 channel)", 3: "colour images (3 channels)"}
        raise LayerProblem(
            f"it was prepared for {what.get(wanted, f'{wanted} channels')} but gets "
            f"{what.get(shape[2], f'{shape[2]} channels')}. Choose the base again for this "
            f"input.")
    return tuple(p["output_shape"]), p["trainable_weights"], p["non_trainable_weights"]


def analyze(spec: ModelSpec) -> StackReport:
    """Every layer's output shape and parameter count; the first invalid layer is marked.

    Layers after the first problem get no shape (it cannot be known), but still a report,
    so an editor can show all rows.
    """
    names = spec.layer_names()
    try:
        input_shape: Shape | None = check_input_shape(spec.input_shape)
        input_error = None
    except SpecError as exc:
        input_shape, input_error = None, str(exc)
    report = StackReport(tuple(spec.input_shape), input_error=input_error)
    shape = input_shape
    for i, (layer, name) in enumerate(zip(spec.layers, names)):
        row = LayerReport(i, name, layer.type, shape, None, frozen=not layer.trainable)
        report.layers.append(row)
        if shape is None:
            continue
        try:
            checked = normalize_layer(layer)
            out, trainable, frozen = layer_arithmetic(checked, shape)
        except (SpecError, LayerProblem) as exc:
            row.error = str(exc)
            shape = None
            continue
        row.output_shape = out
        if not layer.trainable:  # Keras: a frozen layer's weights are all non-trainable
            trainable, frozen = 0, trainable + frozen
        row.trainable, row.non_trainable = trainable, frozen
        row.params = trainable + frozen
        if row.params > LARGE_LAYER_PARAMS:
            row.warning = (
                f"{row.params:,} parameters ({row.params * 4 / 1e9:.1f} GB of weights): training "
                f"will be very slow. Shrink the input first with pooling or strides."
            )
        shape = out
    return report
