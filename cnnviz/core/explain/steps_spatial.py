"""The explainer's spatial layers in numpy: Conv2D, pooling and global pooling, one value at a time.

`explain_conv`, `explain_pool` and `explain_global_pool` read a Keras layer's settings and
weights once; `ConvSteps.frame` and `PoolSteps.frame` (frames.py) then work out any single
output value. Padding follows TensorFlow exactly: for 'same' the total
is max((out − 1)·stride + k − in, 0) and the top/left side gets the smaller half, so an even
kernel's extra row and column of zeros sit at the bottom and right. No TensorFlow here: the
layer objects are only read.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnviz.core.explain.activation_functions import keras_activation_name
from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.frames import (
    ConvSteps, GenericSteps, GlobalPoolSteps, LayerSteps, PoolSteps,
)

NO_ANIMATION = "The explainer shows its output maps only."


def padding_for(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """(output size, zeros before) along one axis, as TensorFlow pads 'valid' and 'same'."""
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return out, total // 2
    return max((size - kernel) // stride + 1, 0), 0


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = tuple(value)
    return int(first), int(second)


def layer_weights(variable: Any) -> np.ndarray:
    """A float32 copy of a Keras variable's value (copies, so later training cannot change it)."""
    return np.array(variable.numpy() if hasattr(variable, "numpy") else variable, dtype=np.float32)


def generic_steps(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray,
                  note: str) -> GenericSteps:
    """The layer's output maps with a note saying why it is not animated."""
    return GenericSteps(name=layer.name, layer_type=type(layer).__name__,
                        input=np.asarray(layer_input), output=np.asarray(layer_output), note=note)


def channels_first_note(layer: Any) -> str:
    return (f"This {type(layer).__name__} layer keeps channels first (data_format="
            f"'channels_first'); the explainer animates channels-last layers only. {NO_ANIMATION}")


def conv_refusal(layer: Any, paddings: tuple[str, ...]) -> str | None:
    """Why a convolution cannot be animated (grouped channels, an activation the explainer
    cannot recompute, a padding outside `paddings`), or None when it can."""
    name = type(layer).__name__
    groups = int(getattr(layer, "groups", 1))
    if groups != 1:
        return (f"This {name} splits its channels into {groups} separate groups; the explainer "
                f"animates convolutions over all channels at once only. {NO_ANIMATION}")
    if keras_activation_name(getattr(layer, "activation", None)) is None:
        return (f"This {name}'s activation function is not a built-in Keras activation the "
                f"explainer can recompute. {NO_ANIMATION}")
    padding = str(layer.padding).lower()
    if padding not in paddings:
        quoted = [f"'{p}'" for p in paddings]
        allowed = " and ".join([", ".join(quoted[:-1]), quoted[-1]])
        return (f"This {name} uses padding='{padding}'; the explainer animates {allowed} "
                f"padding only. {NO_ANIMATION}")
    return None


def _check_image(layer: Any, array: np.ndarray, what: str) -> None:
    if array.ndim != 3:
        raise ExplainError(
            f"{type(layer).__name__} '{layer.name}' needs its {what} as height × width × channels "
            f"(no batch axis), but got an array of shape {tuple(array.shape)}.")


# ----------------------------------------------------------------------------- convolution

def conv_pre_activation(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                        strides: tuple[int, int], pad_top: int, pad_left: int,
                        out_shape: tuple[int, int]) -> np.ndarray:
    """Every output value before the activation, (OH, OW, F) float32: the image zero-padded,
    then one matrix product per kernel cell, summed."""
    kh, kw, channels, filters = kernel.shape
    (sy, sx), (out_h, out_w) = strides, out_shape
    height, width = image.shape[:2]
    padded = np.zeros((max(pad_top + height, (out_h - 1) * sy + kh),
                       max(pad_left + width, (out_w - 1) * sx + kw), channels), dtype=np.float32)
    padded[pad_top:pad_top + height, pad_left:pad_left + width] = image
    total = np.zeros((out_h * out_w, filters), dtype=np.float32)
    for row in range(kh):
        for col in range(kw):
            patch = padded[row:row + (out_h - 1) * sy + 1:sy, col:col + (out_w - 1) * sx + 1:sx]
            total += patch.reshape(-1, channels) @ kernel[row, col]
    return np.asarray((total + bias).reshape(out_h, out_w, filters))


def explain_conv(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """ConvSteps for a Keras Conv2D layer, or GenericSteps saying why it cannot be animated."""
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    dilation = _pair(getattr(layer, "dilation_rate", 1))
    if dilation != (1, 1):
        return generic_steps(layer, layer_input, layer_output, (
            f"This {name} spreads its kernel out with gaps (dilation_rate={dilation}); the "
            f"explainer animates ordinary, undilated convolutions only. {NO_ANIMATION}"))
    refusal = conv_refusal(layer, ("valid", "same"))
    if refusal is not None:
        return generic_steps(layer, layer_input, layer_output, refusal)
    activation = keras_activation_name(getattr(layer, "activation", None))
    assert activation is not None  # conv_refusal refused the ones it cannot recompute
    padding = str(layer.padding).lower()
    image = np.asarray(layer_input, dtype=np.float32)
    _check_image(layer, image, "input")
    kernel = layer_weights(layer.kernel)
    filters = kernel.shape[3]
    bias = layer_weights(layer.bias) if getattr(layer, "use_bias", False) and layer.bias is not None \
        else np.zeros(filters, np.float32)
    if kernel.shape[2] != image.shape[2]:
        raise ExplainError(
            f"{name} '{layer.name}' expects {kernel.shape[2]} input channels, but its input has "
            f"{image.shape[2]}.")
    strides = _pair(layer.strides)
    out_h, pad_top = padding_for(image.shape[0], kernel.shape[0], strides[0], padding)
    out_w, pad_left = padding_for(image.shape[1], kernel.shape[1], strides[1], padding)
    output = np.asarray(layer_output)
    if output.shape != (out_h, out_w, filters):
        raise ExplainError(
            f"{name} '{layer.name}': the given output has shape {tuple(output.shape)}, but this "
            f"layer makes {(out_h, out_w, filters)} from a {tuple(image.shape)} input.")
    pre_activation = conv_pre_activation(image, kernel, bias, strides, pad_top, pad_left,
                                         (out_h, out_w))
    return ConvSteps(name=layer.name, layer_type=name, input=image, output=output, kernel=kernel,
                     bias=bias, strides=strides, padding=padding, pad_top=pad_top,
                     pad_left=pad_left, activation=activation, pre_activation=pre_activation)


# ----------------------------------------------------------------------------- pooling

def explain_pool(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """PoolSteps for MaxPooling2D / AveragePooling2D, or GenericSteps saying why not."""
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    image = np.asarray(layer_input, dtype=np.float32)
    _check_image(layer, image, "input")
    pool_size = _pair(layer.pool_size)
    strides = _pair(layer.strides if layer.strides is not None else layer.pool_size)
    padding = str(layer.padding).lower()
    out_h, pad_top = padding_for(image.shape[0], pool_size[0], strides[0], padding)
    out_w, pad_left = padding_for(image.shape[1], pool_size[1], strides[1], padding)
    output = np.asarray(layer_output)
    if output.shape != (out_h, out_w, image.shape[2]):
        raise ExplainError(
            f"{name} '{layer.name}': the given output has shape {tuple(output.shape)}, but this "
            f"layer makes {(out_h, out_w, image.shape[2])} from a {tuple(image.shape)} input.")
    mode = "max" if name.startswith("Max") else "average"
    return PoolSteps(name=layer.name, layer_type=name, input=image, output=output, mode=mode,
                     pool_size=pool_size, strides=strides, padding=padding, pad_top=pad_top,
                     pad_left=pad_left)


def explain_global_pool(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """GlobalPoolSteps for GlobalMaxPooling2D / GlobalAveragePooling2D (picked: each channel's
    (row, col) of its maximum, for max pooling)."""
    name = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return generic_steps(layer, layer_input, layer_output, channels_first_note(layer))
    image = np.asarray(layer_input, dtype=np.float32)
    _check_image(layer, image, "input")
    mode = "max" if name.startswith("GlobalMax") else "average"
    picked: list[tuple[int, int]] = []
    if mode == "max":
        flat = np.argmax(image.reshape(-1, image.shape[2]), axis=0)
        picked = [(int(r), int(c)) for r, c in zip(*np.unravel_index(flat, image.shape[:2]))]
    return GlobalPoolSteps(name=layer.name, layer_type=name, input=image,
                           output=np.asarray(layer_output), mode=mode, picked=picked)
