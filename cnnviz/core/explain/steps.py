"""The explainer's truth: what one Keras layer did to one input, recomputed step by step in numpy.

`explain_layer(layer, layer_input, layer_output)` reads the layer's settings and weights and
returns the matching `LayerSteps` of frames.py (whose `frame` methods work out single output
values for playback). Every number equals what Keras
computes, to float32 round-off (tests/core/test_steps_vs_keras.py). A layer the explainer
cannot animate becomes `GenericSteps` with a note a student can read.

Spatial layers live in steps_spatial.py, sequence layers (Conv1D, 1-D pooling) in steps_1d.py,
the activation functions in activation_functions.py. Dense, Dropout, BatchNormalization,
Flatten and the activation layers work on an image (height, width, channels) and a sequence
(steps, channels) alike.
No TensorFlow is imported: the layer objects are only read.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.activation_functions import (
    LEAKY_RELU_SLOPE, activation_function, elu_with, keras_activation_name, leaky_relu_with,
    relu_with, sample_curve, softmax,
)
from cnnviz.core.explain.frames import (
    ActivationSteps, BatchNormSteps, DenseSteps, DropoutSteps, FlattenSteps, GenericSteps,
    InputSteps, LayerSteps, softmax_steps,
)
from cnnviz.core.explain.steps_1d import explain_conv1d, explain_global_pool1d, explain_pool1d
from cnnviz.core.explain.steps_spatial import (
    NO_ANIMATION, explain_conv, explain_global_pool, explain_pool,
)

__all__ = [
    "explain_layer", "generic_steps", "nested_network_note",
]

# Layer names only one Keras application has, to name the network a pre-built base came
# from (a saved model keeps its layers' names, not which constructor made them).
_NETWORK_SIGNATURES = (
    ("block_16_project", "MobileNetV2"), ("expanded_conv_project", "MobileNetV3"),
    ("stem_conv", "EfficientNet"), ("conv1_conv", "ResNet"), ("block1_conv1", "VGG16"),
)
_NESTED_MODEL_TYPES = ("Functional", "Sequential", "Model")

DROPOUT_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                  "GaussianDropout", "AlphaDropout")


def generic_steps(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray,
                  note: str) -> GenericSteps:
    """A layer shown by its output maps only, with `note` saying why."""
    return GenericSteps(name=layer.name, layer_type=type(layer).__name__,
                        input=np.asarray(layer_input), output=np.asarray(layer_output), note=note)


def _inner_layer_names(model: Any) -> list[str]:
    names: list[str] = []
    for layer in getattr(model, "layers", []):
        names.append(str(layer.name))
        if type(layer).__name__ in _NESTED_MODEL_TYPES:
            names.extend(_inner_layer_names(layer))
    return names


def nested_network_note(layer: Any, layer_output: np.ndarray) -> str:
    """What a whole network used as one layer (a pre-built base) is, for its one step:
    'A pre-built base (MobileNetV2, 154 layers, up to 'out_relu'): ...'."""
    names = [n for n in _inner_layer_names(layer) if n]
    known = next((title for signature, title in _NETWORK_SIGNATURES
                  if any(n == signature or n.startswith(signature) for n in names)), None)
    inner = [n for n in names if n not in ("images", "to_0_255", "resize_for_base",
                                          "grey_to_rgb", "rgb_to_grey", "scale_to_minus1_1",
                                          "rgb_to_bgr_minus_mean")]
    what = f"{known}, " if known else ""
    last = f", up to '{inner[-1]}'" if inner else ""
    shown = ("its output feature maps" if np.asarray(layer_output).ndim >= 2
             else "its output vector")
    return (f"A pre-built base ({what}{len(inner)} layers{last}): a whole network trained "
            f"before, run here as one step. The explainer does not go through its layers one "
            f"by one; it shows {shown}, which the layers after it read. Grad-CAM can look "
            f"at a convolution inside it.")


def _no_animation_note(layer_type: str) -> str:
    return f"The explainer has no step-by-step animation for {layer_type} layers yet. {NO_ANIMATION}"


def _weights(variable: Any) -> np.ndarray:
    return np.array(variable.numpy() if hasattr(variable, "numpy") else variable, dtype=np.float32)


# ----------------------------------------------------------------------------- elementwise

def _activation_layer_function(layer: Any) -> tuple[str, Callable[[np.ndarray], np.ndarray]] | str:
    """(function name, numpy function) of an activation layer, or a note saying why not."""
    layer_type = type(layer).__name__
    if layer_type == "Activation":
        name = keras_activation_name(layer.activation)
        function = None if name is None else activation_function(name)
        if name is None or function is None:
            return ("This Activation layer's function is not a built-in Keras activation the "
                    f"explainer can recompute. {NO_ANIMATION}")
        return name, function
    if layer_type == "ReLU":
        slope = float(layer.negative_slope)
        max_value = None if layer.max_value is None else float(layer.max_value)
        threshold = float(layer.threshold)
        name = "leaky_relu" if slope and max_value is None and not threshold else "relu"
        return name, relu_with(slope, max_value, threshold)
    if layer_type == "LeakyReLU":
        return "leaky_relu", leaky_relu_with(float(layer.negative_slope))
    if layer_type == "ELU":
        return "elu", elu_with(float(layer.alpha))
    # Softmax layer
    axis = layer.axis
    if axis not in (-1, [-1], (-1,)):
        return (f"This Softmax layer works along axis {axis}; the explainer animates softmax over "
                f"the last axis only. {NO_ANIMATION}")
    return "softmax", softmax


def _layer_parameters(layer: Any) -> dict[str, float]:
    """The numbers that shape an activation layer's curve, for its label."""
    found: dict[str, float] = {}
    for key in ("negative_slope", "max_value", "threshold", "alpha"):
        value = getattr(layer, key, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found[key] = float(value)
    return found


def explain_activation(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """ActivationSteps for Activation, ReLU, LeakyReLU, ELU and Softmax layers."""
    resolved = _activation_layer_function(layer)
    if isinstance(resolved, str):
        return generic_steps(layer, layer_input, layer_output, resolved)
    name, function = resolved
    values = np.asarray(layer_input, dtype=np.float32)
    softmax = None
    curve_x = curve_y = np.zeros(0, np.float32)
    if name == "softmax":
        if values.ndim == 1:
            softmax = softmax_steps(values)
    else:
        curve_x, curve_y = sample_curve(function, values)
    if type(layer).__name__ == "Activation":  # Keras's own defaults for these functions
        parameters = {"leaky_relu": {"negative_slope": LEAKY_RELU_SLOPE},
                      "elu": {"alpha": 1.0}}.get(name, {})
    else:
        parameters = _layer_parameters(layer)
    return ActivationSteps(name=layer.name, layer_type=type(layer).__name__, input=values,
                           output=np.asarray(layer_output), function=name, curve_x=curve_x,
                           curve_y=curve_y, softmax=softmax, parameters=parameters)


def explain_batchnorm(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """BatchNormSteps: the inference formula with the moving statistics, per channel."""
    values = np.asarray(layer_input, dtype=np.float32)
    axis = int(layer.axis) if not isinstance(layer.axis, (list, tuple)) else (
        int(layer.axis[0]) if len(layer.axis) == 1 else None)
    if axis is None or axis not in (-1, values.ndim):
        return generic_steps(layer, layer_input, layer_output, (
            f"This BatchNormalization normalises along axis {layer.axis}; the explainer animates "
            f"normalisation per channel (the last axis) only. {NO_ANIMATION}"))
    mean = _weights(layer.moving_mean)
    variance = _weights(layer.moving_variance)
    gamma = _weights(layer.gamma) if layer.scale else np.ones_like(mean)
    beta = _weights(layer.beta) if layer.center else np.zeros_like(mean)
    epsilon = float(layer.epsilon)
    # tf.nn.batch_normalization's own order: scale = gamma * rsqrt(var + eps), shift = beta - mean * scale
    scale = (gamma * (np.float32(1.0) / np.sqrt(variance + np.float32(epsilon)))).astype(np.float32)
    shift = (beta - mean * scale).astype(np.float32)
    return BatchNormSteps(name=layer.name, layer_type=type(layer).__name__, input=values,
                          output=np.asarray(layer_output), gamma=gamma, beta=beta,
                          moving_mean=mean, moving_variance=variance, epsilon=epsilon,
                          scale=scale, shift=shift)


def explain_flatten(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    values = np.asarray(layer_input)
    if getattr(layer, "data_format", "channels_last") == "channels_first" and values.ndim > 1:
        return generic_steps(layer, layer_input, layer_output, (
            "This Flatten layer reads channels first (data_format='channels_first'); the "
            f"explainer follows channels-last order only. {NO_ANIMATION}"))
    return FlattenSteps(name=layer.name, layer_type=type(layer).__name__, input=values,
                        output=np.asarray(layer_output))


# ----------------------------------------------------------------------------- dense

def explain_dense(layer: Any, layer_input: np.ndarray, layer_output: np.ndarray) -> LayerSteps:
    """DenseSteps for a Dense layer on a flat vector (softmax spelled out when it ends in one)."""
    values = np.asarray(layer_input, dtype=np.float32)
    if values.ndim != 1:
        return generic_steps(layer, layer_input, layer_output, (
            f"This Dense layer gets a {'×'.join(map(str, values.shape))} input and works on each "
            "position separately; the explainer animates Dense layers on a flat vector only "
            f"(put a Flatten layer before it). {NO_ANIMATION}"))
    activation = keras_activation_name(getattr(layer, "activation", None))
    if activation is None:
        return generic_steps(layer, layer_input, layer_output, (
            "This Dense layer's activation function is not a built-in Keras activation the "
            f"explainer can recompute. {NO_ANIMATION}"))
    kernel = _weights(layer.kernel)
    bias = _weights(layer.bias) if getattr(layer, "use_bias", False) and layer.bias is not None \
        else np.zeros(kernel.shape[1], np.float32)
    if kernel.shape[0] != values.shape[0]:
        raise ExplainError(f"Dense '{layer.name}' expects {kernel.shape[0]} inputs, but got "
                           f"{values.shape[0]}.")
    pre_activation = (values @ kernel + bias).astype(np.float32)
    softmax = softmax_steps(pre_activation) if activation == "softmax" else None
    return DenseSteps(name=layer.name, layer_type=type(layer).__name__, input=values,
                      output=np.asarray(layer_output), kernel=kernel, bias=bias,
                      activation=activation, pre_activation=pre_activation, softmax=softmax)


# ----------------------------------------------------------------------------- dispatch

def explain_layer(layer: Any,
                  layer_input: np.ndarray | list[np.ndarray] | tuple[np.ndarray, ...],
                  layer_output: np.ndarray) -> LayerSteps:
    """What `layer` (a Keras layer) did to `layer_input`, giving `layer_output` (both without the
    batch axis): ConvSteps, PoolSteps, Conv1DSteps, Pool1DSteps, DenseSteps, ... or
    GenericSteps with a note when the explainer has no animation for it. Raises ExplainError
    when the arrays do not fit the layer.
    """
    layer_type = type(layer).__name__
    if isinstance(layer_input, (list, tuple)):
        if len(layer_input) != 1:
            first = np.asarray(layer_input[0]) if layer_input else np.zeros(0, np.float32)
            return generic_steps(layer, first, layer_output, (
                f"This {layer_type} layer combines {len(layer_input)} inputs; the explainer "
                f"animates layers with one input only. {NO_ANIMATION}"))
        layer_input = layer_input[0]
    if layer_type == "Conv2D":
        return explain_conv(layer, layer_input, layer_output)
    if layer_type in ("MaxPooling2D", "AveragePooling2D"):
        return explain_pool(layer, layer_input, layer_output)
    if layer_type in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        return explain_global_pool(layer, layer_input, layer_output)
    if layer_type == "Conv1D":
        return explain_conv1d(layer, layer_input, layer_output)
    if layer_type in ("MaxPooling1D", "AveragePooling1D"):
        return explain_pool1d(layer, layer_input, layer_output)
    if layer_type in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
        return explain_global_pool1d(layer, layer_input, layer_output)
    if layer_type in ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"):
        return explain_activation(layer, layer_input, layer_output)
    if layer_type == "BatchNormalization":
        return explain_batchnorm(layer, layer_input, layer_output)
    if layer_type in DROPOUT_LAYERS:
        return DropoutSteps(name=layer.name, layer_type=layer_type,
                            input=np.asarray(layer_input), output=np.asarray(layer_output),
                            rate=float(getattr(layer, "rate", 0.0)))
    if layer_type == "Flatten":
        return explain_flatten(layer, layer_input, layer_output)
    if layer_type == "Dense":
        return explain_dense(layer, layer_input, layer_output)
    if layer_type == "InputLayer":
        return InputSteps(name=layer.name, layer_type=layer_type, input=np.asarray(layer_input),
                          output=np.asarray(layer_output))
    if layer_type in _NESTED_MODEL_TYPES and hasattr(layer, "layers"):
        return generic_steps(layer, layer_input, layer_output,
                             nested_network_note(layer, layer_output))
    return generic_steps(layer, layer_input, layer_output, _no_animation_note(layer_type))
