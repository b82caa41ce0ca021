"""The explainer's data: what one layer did to one input, worked out step by step.

steps.py and steps_spatial.py fill these from a layer's real weights (numpy only, no Qt); the
explain view draws them and `cnnviz explain --json` prints them. `ConvSteps.frame`,
`PoolSteps.frame` and `DenseSteps.frame` work out single output values cheaply (the GUI asks
for one per playback step); `softmax_steps` spells softmax out for one vector. Arrays are
float32 numpy arrays without the batch axis, laid out as Keras lays them out (height, width,
channels). Every number here must equal what Keras computes for the layer
(tests/core/explain/test_steps_vs_keras.py). The sequence layers' steps (Conv1D, 1-D pooling)
live in frames_1d.py, with the same field names where the meaning is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.activation_functions import activation_function


def _float32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _out_of_range(steps: LayerSteps, position: tuple[int, int, int], what: str) -> ExplainError:
    out_h, out_w, count = steps.output.shape[-3:] if steps.output.ndim >= 3 else (0, 0, 0)
    y, x, index = position
    return ExplainError(
        f"{steps.layer_type} '{steps.name}' has a {out_h}×{out_w} output with {count} {what}s; "
        f"there is no value at row {y}, column {x}, {what} {index}.")


def _check_position(steps: LayerSteps, out_y: int, out_x: int, index: int, limits: tuple[int, ...],
                    what: str) -> tuple[int, int, int]:
    position = (out_y, out_x, index)
    for value, limit in zip(position, limits):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value < limit:
            raise _out_of_range(steps, position, what)
    return int(out_y), int(out_x), int(index)


def _window(image: np.ndarray, top: int, left: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """image[top:top+height, left:left+width] with zeros where it hangs over the border, and the
    mask of cells over real input. `image` is (H, W) or (H, W, C)."""
    window = np.zeros((height, width) + image.shape[2:], dtype=np.float32)
    inside = np.zeros((height, width), dtype=bool)
    row0, row1 = max(top, 0), min(top + height, image.shape[0])
    col0, col1 = max(left, 0), min(left + width, image.shape[1])
    if row0 < row1 and col0 < col1:
        window[row0 - top:row1 - top, col0 - left:col1 - left] = image[row0:row1, col0:col1]
        inside[row0 - top:row1 - top, col0 - left:col1 - left] = True
    return window, inside


@dataclass
class LayerSteps:
    """Base of every layer's explanation: its name, Keras class name, input and output."""

    name: str
    layer_type: str                     # Keras class name: "Conv2D", "MaxPooling2D", ...
    input: np.ndarray                   # the layer's input for this image, no batch axis
    output: np.ndarray                  # the layer's output, no batch axis

    @property
    def kind(self) -> str:
        """Which view draws it: "conv", "pool", "global_pool", "activation", "batchnorm",
        "dropout", "flatten", "dense", "input" or "generic"."""
        return "generic"


# ----------------------------------------------------------------------------- convolution

@dataclass
class ConvFrame:
    """One output value of a Conv2D layer: output[out_y, out_x, filter], worked out."""

    out_y: int
    out_x: int
    filter: int
    top: int                            # the window's top-left corner in input coordinates;
    left: int                           # negative where it hangs over the zero border
    window: np.ndarray                  # (kh, kw, C) input values under the kernel, 0 on the border
    inside: np.ndarray                  # (kh, kw) bool: True over real input, False over padding
    kernel: np.ndarray                  # (kh, kw, C) this filter's weights
    products: np.ndarray                # (kh, kw, C) window * kernel
    channel_sums: np.ndarray            # (C,) sum of products per input channel
    bias: float                         # 0.0 when use_bias=False
    pre_activation: float               # sum(channel_sums) + bias
    activation: str                     # Keras name of the fused activation, "linear" if none
    output: float                       # activation(pre_activation) == Keras's output value


@dataclass
class ConvSteps(LayerSteps):
    """A Conv2D layer on one input. `frame(y, x, f)` works out any output value."""

    kernel: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 1, 1), np.float32))  # (kh, kw, C, F)
    bias: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))               # (F,)
    strides: tuple[int, int] = (1, 1)
    padding: str = "valid"
    pad_top: int = 0                    # zero rows above / columns left of the input ("same")
    pad_left: int = 0
    activation: str = "linear"
    pre_activation: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 1), np.float32))  # (OH, OW, F)

    @property
    def kind(self) -> str:
        return "conv"

    def frame(self, out_y: int, out_x: int, filter_index: int) -> ConvFrame:
        """The worked-out sum behind output[out_y, out_x, filter_index] of a Conv2D layer.

        Raises ExplainError when the position or filter is outside the layer's output.
        """
        out_h, out_w, filters = self.pre_activation.shape
        out_y, out_x, filter_index = _check_position(
            self, out_y, out_x, filter_index, (out_h, out_w, filters), "filter")
        kh, kw = self.kernel.shape[:2]
        top = out_y * self.strides[0] - self.pad_top
        left = out_x * self.strides[1] - self.pad_left
        window, inside = _window(self.input, top, left, kh, kw)
        kernel = np.ascontiguousarray(self.kernel[:, :, :, filter_index])
        products = window * kernel
        channel_sums = products.sum(axis=(0, 1), dtype=np.float32)
        pre_activation = self.pre_activation[out_y, out_x, filter_index]
        function = activation_function(self.activation)
        if function is None:
            raise ExplainError(f"Conv2D '{self.name}': unknown activation '{self.activation}'.")
        if self.activation == "softmax":  # softmax mixes all filters at this position
            output = function(self.pre_activation[out_y, out_x])[filter_index]
        else:
            output = function(np.array([pre_activation], np.float32))[0]
        return ConvFrame(out_y=out_y, out_x=out_x, filter=filter_index, top=top, left=left,
                         window=window, inside=inside, kernel=kernel, products=products,
                         channel_sums=channel_sums, bias=float(self.bias[filter_index]),
                         pre_activation=float(pre_activation), activation=self.activation,
                         output=float(output))


# ----------------------------------------------------------------------------- pooling

@dataclass
class PoolFrame:
    """One output value of a pooling layer: output[out_y, out_x, channel]."""

    out_y: int
    out_x: int
    channel: int
    top: int                            # window's top-left in input coordinates
    left: int
    window: np.ndarray                  # (ph, pw) values under the window (0 where outside)
    inside: np.ndarray                  # (ph, pw) bool: which cells are over real input
    mode: str                           # "max" | "average"
    picked: tuple[int, int] | None      # (row, col) within the window of the max; None for average
    count: int                          # cells averaged (only real input counts, as in Keras)
    output: float


@dataclass
class PoolSteps(LayerSteps):
    """A MaxPooling2D / AveragePooling2D layer on one input."""

    mode: str = "max"
    pool_size: tuple[int, int] = (2, 2)
    strides: tuple[int, int] = (2, 2)
    padding: str = "valid"
    pad_top: int = 0
    pad_left: int = 0

    @property
    def kind(self) -> str:
        return "pool"

    def frame(self, out_y: int, out_x: int, channel: int) -> PoolFrame:
        """One pooled value worked out: its window, which cells are real input, and the max's place
        or the average over real cells only (as Keras averages at a 'same' border).

        Raises ExplainError when the position or channel is outside the layer's output.
        """
        out_y, out_x, channel = _check_position(
            self, out_y, out_x, channel, tuple(self.output.shape), "channel")
        top = out_y * self.strides[0] - self.pad_top
        left = out_x * self.strides[1] - self.pad_left
        window, inside = _window(self.input[:, :, channel], top, left, *self.pool_size)
        count = int(inside.sum())
        if self.mode == "max":
            flat = int(np.argmax(np.where(inside, window, -np.inf)))
            picked: tuple[int, int] | None = divmod(flat, window.shape[1])
            output = window[picked]
        else:
            picked = None
            output = window[inside].sum(dtype=np.float32) / np.float32(count)
        return PoolFrame(out_y=out_y, out_x=out_x, channel=channel, top=top, left=left,
                         window=window, inside=inside, mode=self.mode, picked=picked, count=count,
                         output=float(output))


@dataclass
class GlobalPoolSteps(LayerSteps):
    """GlobalMaxPooling2D / GlobalAveragePooling2D: each whole map becomes one value."""

    mode: str = "max"
    picked: list[tuple[int, int]] = field(default_factory=list)  # per channel, where the max is

    @property
    def kind(self) -> str:
        return "global_pool"


# ----------------------------------------------------------------------------- elementwise

@dataclass
class ActivationSteps(LayerSteps):
    """An Activation layer (or a fused activation): each value before and after, and the curve."""

    function: str = "linear"
    curve_x: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    curve_y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    softmax: "SoftmaxSteps | None" = None  # set when function == "softmax" on a 1-D input
    # the numbers that shape a layer's curve, for its label: {"negative_slope": 0.3} for a
    # LeakyReLU layer, {"max_value": 6.0, ...} for a ReLU layer, Keras's defaults for an
    # Activation layer's leaky_relu (0.2) and elu (1.0), else empty. curve_x/curve_y are empty
    # for softmax (it mixes a whole vector, so it has no curve)
    parameters: dict[str, float] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "activation"


@dataclass
class SoftmaxSteps:
    """Logits → exponentials → probabilities (computed stably: exp(z - max z))."""

    logits: np.ndarray                  # (K,)
    shifted: np.ndarray                 # logits - max(logits)
    exponentials: np.ndarray            # exp(shifted)
    total: float                        # sum of exponentials
    probabilities: np.ndarray           # exponentials / total == Keras's output


def softmax_steps(logits: np.ndarray) -> SoftmaxSteps:
    """Softmax of one vector spelled out: logits, logits − max, exponentials, their total and the
    probabilities (== keras.activations.softmax(logits))."""
    logits = _float32(logits).reshape(-1).copy()
    shifted = _float32(logits - logits.max()) if logits.size else logits.copy()
    exponentials = np.exp(shifted)
    total = np.float32(exponentials.sum(dtype=np.float32))
    probabilities = _float32(exponentials / total) if logits.size else exponentials.copy()
    return SoftmaxSteps(logits=logits, shifted=shifted, exponentials=exponentials,
                        total=float(total), probabilities=probabilities)


@dataclass
class BatchNormSteps(LayerSteps):
    """y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, per channel."""

    gamma: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))
    beta: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))
    moving_mean: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))
    moving_variance: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))
    epsilon: float = 1e-3
    scale: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))   # gamma / sqrt(var + eps)
    shift: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))  # beta - mean * scale

    @property
    def kind(self) -> str:
        return "batchnorm"


@dataclass
class DropoutSteps(LayerSteps):
    """Dropout at inference: the output is the input, unchanged."""

    rate: float = 0.5

    @property
    def kind(self) -> str:
        return "dropout"


@dataclass
class FlattenSteps(LayerSteps):
    """Flatten: output[i] = input[y, x, c] with i = (y * W + x) * C + c (row by row, channels last)."""

    @property
    def kind(self) -> str:
        return "flatten"

    def source_of(self, index: int) -> tuple[int, ...]:
        """Where output[index] came from in the input."""
        return tuple(int(i) for i in np.unravel_index(index, self.input.shape))


# ----------------------------------------------------------------------------- dense

@dataclass
class DenseFrame:
    """One unit of a Dense layer: its largest weight × input contributions and the rest."""

    unit: int
    top_indices: np.ndarray             # (k,) input indices, largest |weight * input| first
    top_inputs: np.ndarray              # (k,)
    top_weights: np.ndarray             # (k,)
    top_products: np.ndarray            # (k,)
    rest_sum: float                     # sum of all other products
    rest_count: int
    bias: float
    pre_activation: float               # sum of all products + bias
    activation: str
    output: float


@dataclass
class DenseSteps(LayerSteps):
    """A Dense layer on one input vector."""

    kernel: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.float32))  # (N, U)
    bias: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))         # (U,)
    activation: str = "linear"
    pre_activation: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))  # (U,)
    softmax: SoftmaxSteps | None = None  # set when activation == "softmax"

    @property
    def kind(self) -> str:
        return "dense"

    def frame(self, unit: int, top_k: int = 8) -> DenseFrame:
        """Unit `unit` of a Dense layer: its `top_k` largest |weight × input| contributions (largest
        first), the sum of all the others, the bias and the result.

        Raises ExplainError for a unit outside the layer or a negative top_k.
        """
        units = self.kernel.shape[1]
        if not isinstance(unit, (int, np.integer)) or isinstance(unit, bool) or not 0 <= unit < units:
            raise ExplainError(f"Dense '{self.name}' has {units} units (0 to {units - 1}); "
                               f"there is no unit {unit}.")
        if not isinstance(top_k, (int, np.integer)) or top_k < 0:
            raise ExplainError(f"Dense '{self.name}': top_k must be 0 or more, not {top_k}.")
        unit = int(unit)
        weights = self.kernel[:, unit]
        products = self.input * weights
        count = products.shape[0]
        k = min(int(top_k), count)
        magnitude = np.abs(products)
        if k == 0:
            top = np.zeros(0, dtype=np.intp)
        else:
            candidates = np.argpartition(-magnitude, k - 1)[:k] if k < count else np.arange(count)
            # largest first; equal sizes keep input order, so the list does not flicker
            top = candidates[np.lexsort((candidates, -magnitude[candidates]))]
        rest = np.ones(count, dtype=bool)
        rest[top] = False
        pre_activation = self.pre_activation[unit]
        if self.activation == "softmax" and self.softmax is not None:
            output = self.softmax.probabilities[unit]
        else:
            function = activation_function(self.activation)
            if function is None:
                raise ExplainError(f"Dense '{self.name}': unknown activation '{self.activation}'.")
            output = function(np.array([pre_activation], np.float32))[0]
        return DenseFrame(unit=unit, top_indices=top, top_inputs=self.input[top],
                          top_weights=weights[top].copy(), top_products=products[top],
                          rest_sum=float(products[rest].sum(dtype=np.float64)),
                          rest_count=int(rest.sum()), bias=float(self.bias[unit]),
                          pre_activation=float(pre_activation), activation=self.activation,
                          output=float(output))


@dataclass
class InputSteps(LayerSteps):
    """The input image itself (what the first layer sees)."""

    @property
    def kind(self) -> str:
        return "input"


@dataclass
class GenericSteps(LayerSteps):
    """A layer the explainer has no animation for: its output maps only, and why."""

    note: str = ""

    @property
    def kind(self) -> str:
        return "generic"
