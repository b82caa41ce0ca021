"""Keras's activation functions in numpy, so the explainer can show each value's way through them.

`activation_function(name)` returns the numpy twin of `keras.activations.get(name)` (the
defaults of Keras 3's functions: leaky_relu's negative_slope is 0.2, gelu is the exact erf
form, not the tanh approximation). The results are float32, as Keras computes them; they
match Keras to float round-off. No TensorFlow here.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

ActivationFunction = Callable[[np.ndarray], np.ndarray]

# keras.activations.selu's constants (Klambauer et al., 2017), as TensorFlow's tf.nn.selu uses them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LEAKY_RELU_SLOPE = 0.2  # keras.activations.leaky_relu's default (the LeakyReLU layer's is 0.3)


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def linear(x: np.ndarray) -> np.ndarray:
    return _f32(x).copy()


def relu(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.maximum(_f32(x), np.float32(0.0)))


def relu6(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.clip(_f32(x), np.float32(0.0), np.float32(6.0)))


def relu_with(negative_slope: float = 0.0, max_value: float | None = None,
              threshold: float = 0.0) -> ActivationFunction:
    """The ReLU *layer*'s function (keras.layers.ReLU): slope below `threshold`, capped at
    `max_value`. Follows keras.src.activations.ReLU.static_call step by step."""

    def function(x: np.ndarray) -> np.ndarray:
        x = _f32(x)
        if negative_slope != 0.0 and max_value is None and threshold == 0:
            return leaky_relu_with(negative_slope)(x)
        if negative_slope != 0.0:
            negative_part = np.maximum(-x + np.float32(threshold), np.float32(0.0))
        else:
            negative_part = None
        if threshold != 0:
            y = np.where(x > np.float32(threshold), x, np.float32(0.0))
        else:
            y = np.maximum(x, np.float32(0.0))
        if max_value is not None:
            y = np.clip(y, np.float32(0.0), np.float32(max_value))
        if negative_part is not None:
            y = y - np.float32(negative_slope) * negative_part
        return _f32(y)

    return function


def leaky_relu_with(negative_slope: float) -> ActivationFunction:
    """x where x > 0, else negative_slope * x (tf.nn.leaky_relu)."""

    def function(x: np.ndarray) -> np.ndarray:
        x = _f32(x)
        return _f32(np.where(x > 0, x, np.float32(negative_slope) * x))

    return function


def elu_with(alpha: float = 1.0) -> ActivationFunction:
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def function(x: np.ndarray) -> np.ndarray:
        x = _f32(x)
        negative = np.expm1(np.minimum(x, 0).astype(np.float64)) * alpha
        return _f32(np.where(x > 0, x, negative))

    return function


def selu(x: np.ndarray) -> np.ndarray:
    x = _f32(x)
    negative = SELU_ALPHA * np.expm1(np.minimum(x, 0).astype(np.float64))
    return _f32(SELU_SCALE * np.where(x > 0, x.astype(np.float64), negative))


def _sigmoid64(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow, in float64."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.asarray(np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return _f32(_sigmoid64(_f32(x)))


def tanh(x: np.ndarray) -> np.ndarray:
    return _f32(np.tanh(_f32(x).astype(np.float64)))


def softplus(x: np.ndarray) -> np.ndarray:
    return _f32(np.logaddexp(0.0, _f32(x).astype(np.float64)))


def softsign(x: np.ndarray) -> np.ndarray:
    x = _f32(x)
    return _f32(x / (np.float32(1.0) + np.abs(x)))


def silu(x: np.ndarray) -> np.ndarray:
    x64 = _f32(x).astype(np.float64)
    return _f32(x64 * _sigmoid64(x64))


def _erfc64(z: np.ndarray) -> np.ndarray:
    """erfc in float64 with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev
    fit), which is float32's own precision; numpy has no erf and SciPy is not a dependency."""
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    value = t * np.exp(poly)
    return np.asarray(np.where(z >= 0, value, 2.0 - value))


def gelu(x: np.ndarray) -> np.ndarray:
    """keras.activations.gelu (approximate=False): 0.5 * x * (1 + erf(x / sqrt(2)))."""
    x64 = _f32(x).astype(np.float64)
    return _f32(0.5 * x64 * _erfc64(-x64 / np.sqrt(2.0)))


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, a straight line between."""
    x = _f32(x)
    return _f32(np.clip(x + np.float32(3.0), np.float32(0.0), np.float32(6.0)) / np.float32(6.0))


def hard_silu(x: np.ndarray) -> np.ndarray:
    x = _f32(x)
    return _f32(x * hard_sigmoid(x))


def mish(x: np.ndarray) -> np.ndarray:
    x64 = _f32(x).astype(np.float64)
    return _f32(x64 * np.tanh(np.logaddexp(0.0, x64)))


def exponential(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(np.exp(_f32(x)))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so exp never overflows."""
    x = _f32(x)
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return _f32(exponentials / exponentials.sum(axis=-1, keepdims=True))


_FUNCTIONS: dict[str, ActivationFunction] = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu_with(LEAKY_RELU_SLOPE),
    "elu": elu_with(1.0),
    "selu": selu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "swish": silu,
    "gelu": gelu,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "mish": mish,
    "exponential": exponential,
    "softmax": softmax,
}

#: Functions that act on each value alone (softmax mixes a whole vector, so it has no curve).
ELEMENTWISE = frozenset(_FUNCTIONS) - {"softmax"}


def known_activations() -> tuple[str, ...]:
    """Every Keras activation name `activation_function` knows."""
    return tuple(_FUNCTIONS)


def activation_function(name: str) -> ActivationFunction | None:
    """The numpy twin of `keras.activations.get(name)` (float32 in, float32 out), with Keras 3's
    default arguments; None for a name the explainer cannot recompute."""
    return _FUNCTIONS.get(name)


def sample_curve(function: ActivationFunction, values: np.ndarray,
                 points: int = 241) -> tuple[np.ndarray, np.ndarray]:
    """The function drawn over a range covering `values` (and at least −1…1), 5 % margin."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    low = min(float(finite.min()), -1.0) if finite.size else -1.0
    high = max(float(finite.max()), 1.0) if finite.size else 1.0
    margin = 0.05 * (high - low)
    curve_x = np.linspace(low - margin, high + margin, points).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        curve_y = function(curve_x)
    return curve_x, _f32(curve_y)


def keras_activation_name(function: object) -> str | None:
    """The name of a layer's Keras activation (`layer.activation`) if it is one of Keras's own
    built-in functions that `activation_function` knows; None for anything else (a custom
    function, a lambda). A missing activation is "linear"."""
    if function is None:
        return "linear"
    name = getattr(function, "__name__", None)
    if not isinstance(name, str) or name not in _FUNCTIONS:
        return None
    import keras

    try:
        genuine = keras.activations.get(name)
    except (ValueError, TypeError):
        return None
    return name if genuine is function else None
