"""The explainer's sequence layers in numpy: Conv1D, 1-D pooling and global pooling.

`explain_conv1d`, `explain_pool1d` and `explain_global_pool1d` read a Keras layer's settings
and weights once; `Conv1DSteps.frame` and `Pool1DSteps.frame` (frames_1d.py) then work out any
single output value. Window cell i of output step t reads input step
t·stride − pad_left + i·dilation. Padding follows Keras exactly: 'same' pads
max((out − 1)·stride + span − steps, 0) zeros with the smaller half first (span =
dilation·(kernel − 1) + 1, as TensorFlow pads a dilated kernel); 'causal' pads
dilation·(kernel − 1) zeros before the sequence only, so no output looks at a later step.
No TensorFlow here: the layer objects are only read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.activation_functions import keras_activation_name
from cnnviz.core.explain.frames import LayerSteps
from cnnviz.core.explain.frames_1d import Conv1DSteps, GlobalPool1DSteps, Pool1DSteps
from cnnviz.core.explain.steps_spatial import (
    channels_first_note, conv_refusal, generic_steps, layer_weights, padding_for,
)

__all__ = [
    "conv1d_pre_activation", "explain_conv1d", "explain_global_pool1d", "explain_pool1d",
    "sequence_padding",
]


def sequence_padding(steps: int, span: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output steps, zeros before, zeros after) of a window `span` steps long sliding by
    `stride` along `steps` input steps, padded as Keras pads 'valid', 'same' and 'causal'.
    The zeros after are those the last window reaches past the end (none for 'valid')."""
    if padding == "causal":
        out, before = (max(steps - 1, -1) // stride) + 1, span - 1
    else:
        out, before = padding_for(steps, span, stride, padding)
    after = max((out - 1) * stride + span - steps - before, 0) if out > 0 else 0
    return out, before, after


def _single(value: Any) -> int:
    """A Keras 1-D setting (kernel_size=(3,), strides=3) as one int."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    (only,) = tuple(value)
    return int(only)


def _check_sequence(layer: Any, array: np.ndarray) -> None:
    if array.ndim != 2:
        raise ExplainError(
            f"{type(layer).__name__} '{layer.name}' needs its input as steps × channels (no "
            f"batch axis), but got an array of shape {tuple(array.shape)}.")


def _check_output(layer: Any, output: np.ndarray, expected: tuple[int, ...],
                  sequence: np.ndarray) -> None:
    if output.shape != expected:
        raise ExplainError(
            f"{type(layer).__name__} '{layer.name}': the given output has shape "
            f"{tuple(output.shape)}, but this layer makes {expected} from a "
            f"{tuple(sequence.shape)} input.")


# ----------------------------------------------------------------------------- convolution

def conv1d_pre_activation(sequence: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                          stride: int, dilation: int, pad_left: int, out_steps: int) -> np.ndarray:
    """Every output value before the activation, (OT, F) float32: the sequence zero-padded,
    then one matrix product per kernel cell, summed."""
    size, channels, filters = kernel.shape
    steps = sequence.shape[0]
    span = dilation * (size - 1) + 1
    padded = np.zeros((max(pad_left + steps, (out_steps - 1) * stride + span), channels),
                      dtype=np.float32)
    padded[pad_left:pad_left + steps] = sequence
    total = np.zeros((out_steps, filters), dtype=np.float32)
    for cell in range(size):
        first = cell * dilation
        total += padded[first:first + (out_steps - 1) * stride + 1:stride] @ kernel[cell]
    return np.asarray(total + bias, dtype=np.float32)


def explain_conv1d(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """Conv1DSteps for a Keras Conv1D layer, or GenericSteps saying why it cannot be animated.

    Raises ExplainError when the arrays do not fit the layer.
    """
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    refusal = conv_refusal(layer, ("valid", "same", "causal"))
    if refusal is not None:
        return generic_steps(layer, layer_input, layer_output, refusal)
    activation = keras_activation_name(getattr(layer, "activation", None))
    assert activation is not None  # conv_refusal refused the ones it cannot recompute
    padding = str(layer.padding).lower()
    sequence = np.asarray(layer_input, dtype=np.float32)
    _check_sequence(layer, sequence)
    kernel = layer_weights(layer.kernel)
    filters = kernel.shape[2]
    bias = layer_weights(layer.bias) if getattr(layer, "use_bias", False) and layer.bias is not None \
        else np.zeros(filters, np.float32)
    if kernel.shape[1] != sequence.shape[1]:
        raise ExplainError(
            f"{name} '{layer.name}' expects {kernel.shape[1]} input channels, but its input has "
            f"{sequence.shape[1]}.")
    stride = _single(layer.strides)
    dilation = _single(getattr(layer, "dilation_rate", 1))
    span = dilation * (kernel.shape[0] - 1) + 1
    out_steps, pad_left, pad_right = sequence_padding(sequence.shape[0], span, stride, padding)
    output = np.asarray(layer_output)
    _check_output(layer, output, (out_steps, filters), sequence)
    pre_activation = conv1d_pre_activation(sequence, kernel, bias, stride, dilation, pad_left,
                                           out_steps)
    return Conv1DSteps(name=layer.name, layer_type=name, input=sequence, output=output,
                       kernel=kernel, bias=bias, strides=stride, dilation=dilation,
                       padding=padding, pad_left=pad_left, pad_right=pad_right,
                       activation=activation, pre_activation=pre_activation)


# ----------------------------------------------------------------------------- pooling

def explain_pool1d(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """Pool1DSteps for MaxPooling1D / AveragePooling1D, or GenericSteps saying why not.

    Raises ExplainError when the arrays do not fit the layer.
    """
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    sequence = np.asarray(layer_input, dtype=np.float32)
    _check_sequence(layer, sequence)
    pool_size = _single(layer.pool_size)
    stride = _single(layer.strides if layer.strides is not None else layer.pool_size)
    padding = str(layer.padding).lower()
    out_steps, pad_left, pad_right = sequence_padding(sequence.shape[0], pool_size, stride,
                                                      padding)
    output = np.asarray(layer_output)
    _check_output(layer, output, (out_steps, sequence.shape[1]), sequence)
    mode = "max" if name.startswith("Max") else "average"
    return Pool1DSteps(name=layer.name, layer_type=name, input=sequence, output=output, mode=mode,
                       pool_size=pool_size, strides=stride, padding=padding, pad_left=pad_left,
                       pad_right=pad_right)


def explain_global_pool1d(layer: Any, layer_input: np.ndarray,
                          layer_output: np.ndarray) -> LayerSteps:
    """GlobalPool1DSteps for GlobalMaxPooling1D / GlobalAveragePooling1D (picked: each
    channel's step of its maximum, for max pooling)."""
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    sequence = np.asarray(layer_input, dtype=np.float32)
    _check_sequence(layer, sequence)
    mode = "max" if name.startswith("GlobalMax") else "average"
    picked = [int(step) for step in np.argmax(sequence, axis=0)] if mode == "max" else []
    return GlobalPool1DSteps(name=layer.name, layer_type=name, input=sequence,
                             output=np.asarray(layer_output), mode=mode, picked=picked)
