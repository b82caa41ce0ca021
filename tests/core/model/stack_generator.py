"""Random layer stacks that are valid by construction, for comparing cnnviz with Keras: on
images (random_stacks) and on sequences (random_stacks_1d), plus layers that cannot fit.

The generator tracks the shape as it goes, so every layer it picks fits its input; it
mixes every layer type and the awkward cases (even and non-square kernels, strides larger
than the window, 'same' padding on tiny maps, BatchNorm before and after Flatten).
"""

from __future__ import annotations

import numpy as np

from cnnviz.core.model.spec_params import ACTIVATIONS, CONV1D_PADDINGS, PADDINGS
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer

IMAGE_LAYERS = ("Conv2D", "Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                "BatchNormalization", "Dropout", "Activation", "Flatten",
                "GlobalMaxPooling2D", "GlobalAveragePooling2D")
VECTOR_LAYERS = ("Dense", "Dense", "Dense", "BatchNormalization", "Dropout", "Activation",
                 "Flatten")


def _pick(rng: np.random.Generator, options: tuple) -> object:
    return options[int(rng.integers(len(options)))]


def _pair(rng: np.random.Generator, low: int, high: int) -> list[int]:
    return [int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))]


def _regularizer(rng: np.random.Generator) -> dict[str, float] | None:
    kind = int(rng.integers(4))
    return [None, {"l1": 0.01, "l2": 0.0}, {"l1": 0.0, "l2": 0.001},
            {"l1": 0.0005, "l2": 0.02}][kind]


def _window(rng: np.random.Generator, h: int, w: int, largest: int) -> tuple[list[int], str]:
    """A window size and padding that fit an h × w map ('valid' only where it fits)."""
    window = _pair(rng, 1, largest)
    padding = str(_pick(rng, PADDINGS))
    if padding == "valid" and (window[0] > h or window[1] > w):
        if rng.random() < 0.5:
            padding = "same"  # a window larger than the map is fine with 'same'
        else:
            window = [min(window[0], h), min(window[1], w)]
    return window, padding


def _image_layer(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> LayerSpec:
    h, w, _ = shape
    if kind == "Conv2D":
        kernel, padding = _window(rng, h, w, 5)
        return LayerSpec.make(
            "Conv2D", filters=int(rng.integers(1, 9)), kernel_size=kernel,
            strides=_pair(rng, 1, 3), padding=padding,
            activation=str(_pick(rng, ACTIVATIONS)), use_bias=bool(rng.random() < 0.7),
            kernel_regularizer=_regularizer(rng))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        pool, padding = _window(rng, h, w, 3)
        strides = None if rng.random() < 0.5 else _pair(rng, 1, 3)
        return LayerSpec.make(kind, pool_size=pool, strides=strides, padding=padding)
    return _any_shape_layer(rng, kind)


def _any_shape_layer(rng: np.random.Generator, kind: str) -> LayerSpec:
    if kind == "Dense":
        return LayerSpec.make("Dense", units=int(rng.integers(1, 17)),
                              activation=str(_pick(rng, ACTIVATIONS)),
                              use_bias=bool(rng.random() < 0.7),
                              kernel_regularizer=_regularizer(rng))
    if kind == "BatchNormalization":
        return LayerSpec.make(kind, momentum=float(_pick(rng, (0.99, 0.9, 0.5))),
                              epsilon=float(_pick(rng, (0.001, 1e-5))))
    if kind == "Dropout":
        return LayerSpec.make(kind, rate=float(_pick(rng, (0.0, 0.1, 0.5, 0.9))))
    if kind == "Activation":
        return LayerSpec.make(kind, activation=str(_pick(rng, ACTIVATIONS)))
    return LayerSpec.make(kind)  # Flatten, global pooling


def _next_shape(layer: LayerSpec, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape, by the textbook formulas (independent of cnnviz's shapes.py)."""
    p = layer.params
    if layer.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
        window = p["kernel_size"] if layer.type == "Conv2D" else p["pool_size"]
        strides = p["strides"] or window
        channels = p["filters"] if layer.type == "Conv2D" else shape[2]
        sides = [-(-shape[i] // strides[i]) if p["padding"] == "same"
                 else (shape[i] - window[i]) // strides[i] + 1 for i in (0, 1)]
        return (sides[0], sides[1], channels)
    if layer.type == "Flatten":
        return (int(np.prod(shape)),)
    if layer.type.startswith("Global"):
        return (shape[2],)
    if layer.type == "Dense":
        return (p["units"],)
    return shape


def random_stack(rng: np.random.Generator, index: int) -> tuple[ModelSpec, list[tuple[int, ...]]]:
    """A valid random spec and the output shape of each of its layers."""
    shape: tuple[int, ...] = (int(rng.integers(1, 41)), int(rng.integers(1, 41)),
                              int(_pick(rng, (1, 2, 3, 4))))
    spec = ModelSpec(shape, [], name=f"random_{index}")
    shapes: list[tuple[int, ...]] = []
    for position in range(int(rng.integers(1, 9))):
        kind = str(_pick(rng, IMAGE_LAYERS if len(shape) == 3 else VECTOR_LAYERS))
        layer = (_image_layer(rng, kind, shape) if len(shape) == 3
                 else _any_shape_layer(rng, kind))
        layer = normalize_layer(layer)
        if rng.random() < 0.1:
            layer.name = f"my_layer_{position}"
        spec.layers.append(layer)
        shape = _next_shape(layer, shape)
        shapes.append(shape)
    if len(shape) == 1 and rng.random() < 0.6:  # most real stacks end in a classifier
        spec.layers.append(normalize_layer(LayerSpec.make(
            "Dense", units=int(rng.integers(1, 11)), activation="softmax")))
        shapes.append(_next_shape(spec.layers[-1], shape))
    return spec, shapes


def random_stacks(seed: int, count: int) -> list[tuple[ModelSpec, list[tuple[int, ...]]]]:
    """`count` random stacks from a seeded generator (the same every run)."""
    rng = np.random.default_rng(seed)
    return [random_stack(rng, i) for i in range(count)]


# ---------------------------------------------------------------- 1-D stacks

SEQUENCE_LAYERS = ("Conv1D", "Conv1D", "Conv1D", "MaxPooling1D", "AveragePooling1D",
                   "BatchNormalization", "Dropout", "Activation", "Flatten", "Dense",
                   "GlobalMaxPooling1D", "GlobalAveragePooling1D")


def _window_1d(rng: np.random.Generator, steps: int, largest: int,
               paddings: tuple[str, ...], dilation: int = 1) -> tuple[int, str]:
    """A window and padding that fit a sequence of `steps` ('valid' only where it fits)."""
    window = int(rng.integers(1, largest + 1))
    padding = str(_pick(rng, paddings))
    if padding == "valid" and dilation * (window - 1) + 1 > steps:
        if rng.random() < 0.5:
            padding = "same"
        else:
            window = max(1, (steps - 1) // dilation + 1)
    return window, padding


def _sequence_layer(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> LayerSpec:
    steps = shape[0]
    if kind == "Conv1D":
        dilation = int(_pick(rng, (1, 1, 2, 3)))
        strides = 1 if dilation > 1 else int(rng.integers(1, 4))  # Keras: not both above 1
        kernel, padding = _window_1d(rng, steps, 7, CONV1D_PADDINGS, dilation)
        return LayerSpec.make(
            "Conv1D", filters=int(rng.integers(1, 9)), kernel_size=kernel, strides=strides,
            padding=padding, dilation_rate=dilation, activation=str(_pick(rng, ACTIVATIONS)),
            use_bias=bool(rng.random() < 0.7), kernel_regularizer=_regularizer(rng))
    if kind in ("MaxPooling1D", "AveragePooling1D"):
        pool, padding = _window_1d(rng, steps, 4, PADDINGS)
        strides = None if rng.random() < 0.5 else int(rng.integers(1, 4))
        return LayerSpec.make(kind, pool_size=pool, strides=strides, padding=padding)
    return _any_shape_layer(rng, kind)


def _next_shape_1d(layer: LayerSpec, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape, by the textbook formulas (independent of cnnviz's shapes.py)."""
    p = layer.params
    if layer.type in ("Conv1D", "MaxPooling1D", "AveragePooling1D"):
        conv = layer.type == "Conv1D"
        window = p["kernel_size"] if conv else p["pool_size"]
        span = (p["dilation_rate"] if conv else 1) * (window - 1) + 1
        stride = p["strides"] or window
        steps = (-(-shape[0] // stride) if p["padding"] in ("same", "causal")
                 else (shape[0] - span) // stride + 1)
        return (steps, p["filters"] if conv else shape[1])
    if layer.type == "Dense" and len(shape) == 2:
        return (shape[0], p["units"])  # Keras's Dense acts on the last axis
    if layer.type.startswith("Global"):
        return (shape[1],)
    return _next_shape(layer, shape)


def random_stack_1d(rng: np.random.Generator,
                    index: int) -> tuple[ModelSpec, list[tuple[int, ...]]]:
    """A valid random spec on a sequence input and the output shape of each of its layers."""
    shape: tuple[int, ...] = (int(rng.integers(1, 121)), int(_pick(rng, (1, 2, 3, 6, 12))))
    spec = ModelSpec(shape, [], name=f"random_1d_{index}")
    shapes: list[tuple[int, ...]] = []
    for position in range(int(rng.integers(1, 9))):
        kind = str(_pick(rng, SEQUENCE_LAYERS if len(shape) == 2 else VECTOR_LAYERS))
        layer = normalize_layer(_sequence_layer(rng, kind, shape) if len(shape) == 2
                                else _any_shape_layer(rng, kind))
        if rng.random() < 0.1:
            layer.name = f"my_layer_{position}"
        spec.layers.append(layer)
        shape = _next_shape_1d(layer, shape)
        shapes.append(shape)
    if len(shape) == 1 and rng.random() < 0.6:
        spec.layers.append(normalize_layer(LayerSpec.make(
            "Dense", units=int(rng.integers(1, 11)), activation="softmax")))
        shapes.append(_next_shape_1d(spec.layers[-1], shape))
    return spec, shapes


def random_stacks_1d(seed: int, count: int) -> list[tuple[ModelSpec, list[tuple[int, ...]]]]:
    """`count` random 1-D stacks from a seeded generator (the same every run)."""
    rng = np.random.default_rng(seed)
    return [random_stack_1d(rng, i) for i in range(count)]


def misfit_layer(rng: np.random.Generator, shape: tuple[int, ...]) -> LayerSpec:
    """A layer that cannot follow `shape` (Keras fails to build it): a 2-D layer on a
    sequence, a 1-D layer on an image or a flat vector, a 'valid' window longer than the
    sequence, or strides and dilation both above 1."""
    options: list[str] = []
    if len(shape) == 2:
        options += ["Conv2D", "MaxPooling2D", "GlobalAveragePooling2D", "strides+dilation"]
        if shape[0] < 64:
            options += ["long kernel", "long dilated kernel", "long pool"]
    else:
        options += ["Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D"]
    kind = str(_pick(rng, tuple(options)))
    if kind == "long kernel":
        return LayerSpec.make("Conv1D", filters=2, kernel_size=int(rng.integers(shape[0] + 1, 65)))
    if kind == "long dilated kernel":
        dilation = int(rng.integers(2, 5))
        kernel = max(2, -(-shape[0] // dilation) + 1)  # spans more than the sequence
        return LayerSpec.make("Conv1D", filters=2, kernel_size=min(kernel, 64),
                              dilation_rate=dilation)
    if kind == "long pool":
        return LayerSpec.make(str(_pick(rng, ("MaxPooling1D", "AveragePooling1D"))),
                              pool_size=int(rng.integers(shape[0] + 1, 65)))
    if kind == "strides+dilation":
        return LayerSpec.make("Conv1D", filters=2, strides=int(rng.integers(2, 4)),
                              dilation_rate=int(rng.integers(2, 4)), padding="same")
    return LayerSpec.make(kind)
