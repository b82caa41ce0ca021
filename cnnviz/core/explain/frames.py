"""The explainer's plain data: what one layer did to one input, worked out step by step.

`core/steps.py` fills these from a layer's real weights (numpy only, no Qt); the explain view
draws them and `cnnviz explain --json` prints them. Arrays are float32 numpy arrays without the
batch axis, laid out as Keras lays them out (height, width, channels). Every number here must
equal what Keras computes for the layer (tests/core/test_steps_vs_keras.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
        """The worked-out sum behind output[out_y, out_x, filter_index]."""
        from cnnviz.core.explain.steps_spatial import conv_frame

        return conv_frame(self, out_y, out_x, filter_index)


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
        from cnnviz.core.explain.steps_spatial import pool_frame

        return pool_frame(self, out_y, out_x, channel)


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
        from cnnviz.core.explain.steps import dense_frame

        return dense_frame(self, unit, top_k)


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
