"""The explainer's data for layers that slide along a sequence: Conv1D, 1-D pooling, global pooling.

steps_1d.py fills these from a layer's real weights (numpy only, no Qt). Arrays are float32,
without the batch axis, laid out as Keras lays them out: a sequence is (steps, channels).
`Conv1DSteps.frame(t, k)` and `Pool1DSteps.frame(t, c)` work out one output value cheaply, with
the same field names as a 2-D frame where the meaning is the same (window, inside, kernel,
products, channel_sums, bias, pre_activation, activation, output); the position is `out_t`, and
`start` / `input_steps` say which input steps the window reads (outside 0 … steps − 1 is
padding, drawn as zeros). Every number equals what Keras computes for the layer
(tests/core/explain/test_steps_1d_vs_keras.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.activation_functions import activation_function
from cnnviz.core.explain.frames import LayerSteps


def _check_position(steps: LayerSteps, out_t: int, index: int, limits: tuple[int, ...],
                    what: str) -> tuple[int, int]:
    """(out_t, index) as ints, or an ExplainError naming the layer's output size."""
    for value, limit in zip((out_t, index), limits):
        if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                or not 0 <= value < limit):
            raise ExplainError(
                f"{steps.layer_type} '{steps.name}' has an output of {limits[0]} steps with "
                f"{limits[1]} {what}s; there is no value at step {out_t}, {what} {index}.")
    return int(out_t), int(index)


def _window(sequence: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sequence[cells] with zeros where a cell is outside the sequence (padding), and the mask
    of cells over real input. `sequence` is (T,) or (T, C)."""
    inside = (cells >= 0) & (cells < sequence.shape[0])
    window = np.zeros((cells.shape[0],) + sequence.shape[1:], dtype=np.float32)
    window[inside] = sequence[cells[inside]]
    return window, inside


# ----------------------------------------------------------------------------- convolution

@dataclass
class Conv1DFrame:
    """One output value of a Conv1D layer: output[out_t, filter], worked out."""

    out_t: int
    filter: int
    start: int                          # the input step under the kernel's first cell (negative
                                        # in the left padding): out_t * stride - pad_left
    input_steps: np.ndarray             # (k,) int: start + i * dilation for kernel cell i
    window: np.ndarray                  # (k, C) input values under the kernel, 0 on the padding
    inside: np.ndarray                  # (k,) bool: True over real input, False over padding
    kernel: np.ndarray                  # (k, C) this filter's weights
    products: np.ndarray                # (k, C) window * kernel
    channel_sums: np.ndarray            # (C,) sum of products per input channel
    bias: float                         # 0.0 when use_bias=False
    pre_activation: float               # sum(channel_sums) + bias
    activation: str                     # Keras name of the fused activation, "linear" if none
    output: float                       # activation(pre_activation) == Keras's output value


@dataclass
class Conv1DSteps(LayerSteps):
    """A Conv1D layer on one (steps, channels) input. `frame(t, f)` works out any output value.

    The input is padded with `pad_left` zeros before it and `pad_right` after it ('same': the
    smaller half first, as TensorFlow pads; 'causal': dilation × (kernel − 1) before, none
    after; 'valid': none, and `pad_right` counts nothing).
    """

    kernel: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 1), np.float32))  # (k, C, F)
    bias: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))            # (F,)
    strides: int = 1
    dilation: int = 1
    padding: str = "valid"              # "valid" | "same" | "causal"
    pad_left: int = 0
    pad_right: int = 0
    activation: str = "linear"
    # every output value before the activation, (OT, F)
    pre_activation: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.float32))

    @property
    def kind(self) -> str:
        return "conv1d"

    @property
    def kernel_size(self) -> int:
        return int(self.kernel.shape[0])

    @property
    def span(self) -> int:
        """How many input steps one window stretches over: dilation × (kernel − 1) + 1."""
        return self.dilation * (self.kernel_size - 1) + 1

    def frame(self, out_t: int, filter_index: int) -> Conv1DFrame:
        """The worked-out sum behind output[out_t, filter_index].

        Raises ExplainError when the step or filter is outside the layer's output.
        """
        out_t, filter_index = _check_position(self, out_t, filter_index,
                                              self.pre_activation.shape[:2], "filter")
        start = out_t * self.strides - self.pad_left
        cells = start + np.arange(self.kernel_size) * self.dilation
        window, inside = _window(self.input, cells)
        kernel = np.ascontiguousarray(self.kernel[:, :, filter_index])
        products = window * kernel
        channel_sums = products.sum(axis=0, dtype=np.float32)
        pre_activation = self.pre_activation[out_t, filter_index]
        function = activation_function(self.activation)
        if function is None:
            raise ExplainError(f"Conv1D '{self.name}': unknown activation '{self.activation}'.")
        if self.activation == "softmax":  # softmax mixes all filters at this step
            output = function(self.pre_activation[out_t])[filter_index]
        else:
            output = function(np.array([pre_activation], np.float32))[0]
        return Conv1DFrame(out_t=out_t, filter=filter_index, start=start, input_steps=cells,
                           window=window, inside=inside, kernel=kernel, products=products,
                           channel_sums=channel_sums, bias=float(self.bias[filter_index]),
                           pre_activation=float(pre_activation), activation=self.activation,
                           output=float(output))


# ----------------------------------------------------------------------------- pooling

@dataclass
class Pool1DFrame:
    """One output value of a 1-D pooling layer: output[out_t, channel]."""

    out_t: int
    channel: int
    start: int                          # the input step under the window's first cell
    input_steps: np.ndarray             # (p,) int: start, start + 1, ...
    window: np.ndarray                  # (p,) values under the window (0 where outside)
    inside: np.ndarray                  # (p,) bool: which cells are over real input
    mode: str                           # "max" | "average"
    picked: int | None                  # the max's cell within the window; None for average
    count: int                          # cells averaged (only real input counts, as in Keras)
    output: float


@dataclass
class Pool1DSteps(LayerSteps):
    """A MaxPooling1D / AveragePooling1D layer on one (steps, channels) input."""

    mode: str = "max"
    pool_size: int = 2
    strides: int = 2
    padding: str = "valid"
    pad_left: int = 0
    pad_right: int = 0

    @property
    def kind(self) -> str:
        return "pool1d"

    def frame(self, out_t: int, channel: int) -> Pool1DFrame:
        """One pooled value worked out: its window, which cells are real input, and the max's
        place or the average over real cells only (as Keras averages at a 'same' border).

        Raises ExplainError when the step or channel is outside the layer's output.
        """
        out_t, channel = _check_position(self, out_t, channel, self.output.shape[:2], "channel")
        start = out_t * self.strides - self.pad_left
        cells = start + np.arange(self.pool_size)
        window, inside = _window(self.input[:, channel], cells)
        count = int(inside.sum())
        if self.mode == "max":
            picked: int | None = int(np.argmax(np.where(inside, window, -np.inf)))
            output = window[picked]
        else:
            picked = None
            output = window[inside].sum(dtype=np.float32) / np.float32(count)
        return Pool1DFrame(out_t=out_t, channel=channel, start=start, input_steps=cells,
                           window=window, inside=inside, mode=self.mode, picked=picked,
                           count=count, output=float(output))


@dataclass
class GlobalPool1DSteps(LayerSteps):
    """GlobalMaxPooling1D / GlobalAveragePooling1D: each channel's sequence becomes one value."""

    mode: str = "max"
    picked: list[int] = field(default_factory=list)  # per channel, the step of its maximum

    @property
    def kind(self) -> str:
        return "global_pool1d"
