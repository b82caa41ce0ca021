"""A ModelSpec as a plain, runnable Keras script in tutorial style.

The script builds exactly the model `build_model(spec)` builds (same layers, arguments and
names), prints its summary and compiles it with a loss that fits the last layer. Only
arguments that differ from Keras's defaults are written, so it reads like a tutorial.

A pre-built base (PretrainedBase) is rebuilt by Keras itself, not read from cnnviz's
prepared file: the same preprocessing layers (×255, resizing, grey → colour, the network's
own scaling), `keras.applications.<Network>(include_top=False, ...)` or
`keras.models.load_model(path)`, the cut at a layer, BatchNormalization frozen. The
script then runs on a computer without cnnviz.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cnnviz import __version__
from cnnviz.core.errors import SpecError
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer
from cnnviz.core.model.spec_params import PRETRAINED_BASE, default_params

# What the generated script needs to know of each Keras application cnnviz offers as a base:
# (its constructor in keras.applications, how its preprocess_input scales pixels: "tf" to
# -1..1, "caffe" RGB → BGR minus the ImageNet means, "inside" the network does it itself).
# core.transfer.bases.APPLICATIONS is the source of truth (tests check these equal it);
# core.model sits below core.transfer, so it cannot import it.
BASE_APPLICATIONS: dict[str, tuple[str, str]] = {
    "mobilenet_v2": ("MobileNetV2", "tf"),
    "mobilenet_v3_small": ("MobileNetV3Small", "inside"),
    "efficientnet_b0": ("EfficientNetB0", "inside"),
    "resnet50": ("ResNet50", "caffe"),
    "vgg16": ("VGG16", "caffe"),
}
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)  # = core.transfer.bases.CAFFE_BGR_MEAN
LUMA_WEIGHTS = (0.299, 0.587, 0.114)         # = core.data.data_fit.LUMA_WEIGHTS
FILE_BASE_PART_NAME = "frozen_base"          # = core.transfer.transfer_model.BASE_PART_NAME

# Arguments Keras requires (no default there), written positionally like the tutorials do.
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "Conv2D": ("filters", "kernel_size"),
    "Conv1D": ("filters", "kernel_size"),
    "Dense": ("units",),
    "Dropout": ("rate",),
    "Activation": ("activation",),
    "AveragePooling2D": ("pool_size",),
    "AveragePooling1D": ("pool_size",),
    "MaxPooling1D": ("pool_size",),  # as the Keras tutorial writes MaxPooling1D(3)
}
# Every other parameter's spec default is Keras's own default, so "equal to the spec
# default" means "leave it out".
_REGRESSION_LOSSES = {"mse", "mean_squared_error", "mae", "mean_absolute_error", "huber"}


def keras_model_name(spec: ModelSpec) -> str:
    """The spec's name as Keras accepts it (Keras refuses '/' in names)."""
    return spec.name.replace("/", "_") or "model"


def _python_string(text: str) -> str:
    """A double-quoted Python literal; JSON string syntax is valid Python, and JSON escapes
    every control character, so no name can break out of its line."""
    return json.dumps(text, ensure_ascii=False)


def _python_value(value: Any) -> str:
    """Python source for one argument value (pairs as tuples, strings double-quoted)."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_python_value(v) for v in value) + ")"
    if isinstance(value, str):
        return _python_string(value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return repr(value)


def _regularizer_source(value: dict[str, float]) -> str:
    l1, l2 = value.get("l1", 0.0), value.get("l2", 0.0)
    if l1 and l2:
        return f"regularizers.L1L2(l1={l1!r}, l2={l2!r})"
    if l1:
        return f"regularizers.L1({l1!r})"
    return f"regularizers.L2({l2!r})"


def _layer_source(layer: LayerSpec, name: str) -> list[str]:
    """`layers.Conv2D(32, (3, 3), activation="relu", name="conv2d"),` for one layer, as lines
    indented for the Sequential list; one argument per line when it would not fit in 99."""
    if layer.type == PRETRAINED_BASE:
        return [f"        {_base_variable(name)},  # the pre-built base made above"]
    defaults = default_params(layer.type)
    positional = _POSITIONAL.get(layer.type, ())
    args = [_python_value(layer.params[key]) for key in positional]
    for key, value in layer.params.items():
        if key in positional or value == defaults[key]:
            continue
        if key == "kernel_regularizer":
            args.append(f"kernel_regularizer={_regularizer_source(value)}")
        else:
            args.append(f"{key}={_python_value(value)}")
    args.append(f"name={_python_string(name)}")
    if not layer.trainable:
        args.append("trainable=False")  # frozen: training leaves its weights alone
    indent = " " * 8
    one_line = f"{indent}layers.{layer.type}({', '.join(args)}),"
    if len(one_line) <= 99:
        return [one_line]
    return [f"{indent}layers.{layer.type}(", *(f"{indent}    {arg}," for arg in args),
            f"{indent}),"]


def _base_variable(name: str) -> str:
    """A Python name for the variable holding a base block (the layer's name, made an
    identifier)."""
    variable = re.sub(r"\W", "_", name, flags=re.ASCII)
    return variable if variable[:1].isalpha() else "base_" + variable


def _base_source(layer: LayerSpec, name: str) -> list[str]:
    """Lines building a pre-built base as one Keras model named `name`: what
    core.transfer.base_blocks prepares, written with Keras alone."""
    p = layer.params
    source, weights = str(p["source"]), str(p["weights"])
    height, width = (int(d) for d in p["input_size"])
    channels, cut = int(p["input_channels"]), str(p["cut"])
    variable = _base_variable(name)
    images = f"{variable}_images"
    application = BASE_APPLICATIONS.get(source.strip().lower().replace("-", "_"))
    resize = (f'x = layers.Resizing({height}, {width}, interpolation="bilinear", '
              f'name="resize_for_base")(x)')
    lines = [f"# The pre-built base {_python_string(name)}: "
             + (application[0] if application else "a saved model")
             + f", cut at {_python_string(cut)}."]
    if application is None:
        lines += [
            f"saved_model = keras.models.load_model({_python_string(source)})",
            "# It takes images scaled to 0..1, like cnnviz's, at its own size:",
            f'{images} = keras.Input(shape=(None, None, {channels}), name="images")',
            f"x = {images}",
            resize,
        ]
        if channels == 1:
            lines += [
                "if saved_model.inputs[0].shape[-1] == 3:  # it takes colour: copy grey into R, G, B",
                '    x = layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])',
            ]
        elif channels == 3:
            lines += [
                "if saved_model.inputs[0].shape[-1] == 1:  # it takes grey: weigh R, G, B",
                '    to_grey = layers.Dense(1, use_bias=False, trainable=False, '
                'name="rgb_to_grey")',
                "    x = to_grey(x)",
                f"    to_grey.set_weights([np.array({[[w] for w in LUMA_WEIGHTS]}, "
                'dtype="float32")])',
            ]
        lines += [
            f"# Cut: keep the saved model up to {_python_string(cut)}; its output feeds "
            "the head.",
            "cut_model = keras.Model(",
            f"    saved_model.inputs, saved_model.get_layer({_python_string(cut)}).output,",
            f"    name={_python_string(FILE_BASE_PART_NAME)},",
            ")",
            f"{variable} = keras.Model({images}, cut_model(x), name={_python_string(name)})",
        ]
        inner = "cut_model.layers"
    else:
        network, mode = application
        lines += [
            f"# {network} was trained on colour pictures with pixel values 0..255; cnnviz",
            "# gives images scaled to 0..1, so the same steps come first, as layers:",
            f'{images} = keras.Input(shape=(None, None, {channels}), name="images")',
            f'x = layers.Rescaling(255.0, name="to_0_255")({images})',
            resize,
        ]
        if channels == 1:
            lines += ["# Grey images: the one channel copied into red, green and blue.",
                      'x = layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])']
        if mode == "tf":
            lines += [f"# {network}'s own preprocess_input: 0..255 scaled to -1..1.",
                      'x = layers.Rescaling(1.0 / 127.5, offset=-1.0, '
                      'name="scale_to_minus1_1")(x)']
        elif mode == "caffe":
            lines += [
                f"# {network}'s own preprocess_input: RGB → BGR, minus the ImageNet mean "
                "colour.",
                'to_bgr = layers.Dense(3, trainable=False, name="rgb_to_bgr_minus_mean")',
                "x = to_bgr(x)",
                "to_bgr.set_weights([",
                '    np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype="float32"),',
                f'    -np.array({list(CAFFE_BGR_MEAN)}, dtype="float32"),',
                "])",
            ]
        else:
            lines.append(f"# {network} scales 0..255 itself (its first layers do).")
        random = weights != "imagenet"
        lines += [
            f"network = keras.applications.{network}(",
            "    include_top=False,  # without its ImageNet classifier: the head replaces it",
            '    weights=None,  # random starting weights' if random else
            '    weights="imagenet",  # downloaded by Keras the first time',
            f"    input_shape=({height}, {width}, 3),",
            "    input_tensor=x,",
            ")",
            f"# Cut: keep the network up to {_python_string(cut)}; its output feeds the head.",
            f"{variable} = keras.Model(",
            f"    {images}, network.get_layer({_python_string(cut)}).output,",
            f"    name={_python_string(name)},",
            ")",
        ]
        inner = f"{variable}.layers"
    lines += [
        "# BatchNormalization layers stay frozen (they keep the statistics learned before),",
        "# even when the rest is fine-tuned, as Keras's transfer-learning guide advises.",
        f"for layer in {inner}:",
        "    if isinstance(layer, layers.BatchNormalization):",
        "        layer.trainable = False",
    ]
    if not layer.trainable:
        lines.append(f"{variable}.trainable = False  # frozen: training leaves the base alone")
    return lines + [""]


def _needs_numpy(layer: LayerSpec) -> bool:
    """Whether a base's code sets weights from NumPy arrays (colour conversions)."""
    source = str(layer.params["source"]).strip().lower().replace("-", "_")
    if source in BASE_APPLICATIONS:
        return BASE_APPLICATIONS[source][1] == "caffe"
    return int(layer.params["input_channels"]) == 3


def _final_activation(layers: list[LayerSpec]) -> str:
    """The function applied last to the output values (Dropout and Flatten keep values)."""
    for layer in reversed(layers):
        if layer.type in ("Dropout", "Flatten"):
            continue
        return layer.params.get("activation", "linear") if layer.type in (
            "Dense", "Conv2D", "Conv1D", "Activation") else "linear"
    return "linear"


def _suggest_loss(layers: list[LayerSpec], output_shape: tuple[int, ...]) -> tuple[str, str, str]:
    """(loss source, comment explaining it or "", metrics source) for the model's output."""
    activation = _final_activation(layers)
    flat = len(output_shape) == 1
    units = output_shape[0] if flat else 0
    if activation == "softmax" and units > 1:
        return '"sparse_categorical_crossentropy"', "", '["accuracy"]'
    if activation == "sigmoid" and units == 1:
        return '"binary_crossentropy"', "", '["accuracy"]'
    if activation == "sigmoid" and units > 1:
        return ('"binary_crossentropy"',
                "# Several sigmoid outputs: each is its own yes/no answer (multi-label).",
                '["accuracy"]')
    if activation == "linear" and units > 1:
        return ("keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
                "# The last layer has no softmax, so its outputs are raw scores (logits).",
                '["accuracy"]')
    if activation == "linear" and units == 1:
        return ('"mean_squared_error"',
                "# One plain output: treated as predicting a number (regression).",
                '["mae"]')
    return ('"mean_squared_error"',
            "# The output does not look like a class prediction, so mean squared error is a\n"
            "# neutral choice. Change it to suit your labels.",
            '["mae"]')


def _labels_hint(loss: str, output_shape: tuple[int, ...]) -> str:
    if loss == '"sparse_categorical_crossentropy"' or "SparseCategorical" in loss:
        return f"integer class labels 0..{output_shape[0] - 1}"
    if loss == '"binary_crossentropy"':
        return "labels 0 or 1" if output_shape == (1,) else "0/1 labels, one per output"
    return "targets shaped like the output " + str(output_shape)


def export_python(spec: ModelSpec, optimizer: str = "adam", loss: str | None = None) -> str:
    """A standalone Keras script that builds, summarises and compiles the spec's model.

    Args:
        spec: a valid spec (the same one `build_model` accepts).
        optimizer: a Keras optimizer name, e.g. "adam" or "sgd".
        loss: a Keras loss name; None picks one that fits the last layer.
    Returns:
        Python source text. Raises SpecError if the spec is invalid or the names are not
        plain identifiers Keras knows.
    """
    report = analyze(spec)
    if not report.ok:
        raise SpecError(report.error_message())
    for what, value in (("optimizer", optimizer), ("loss", loss)):
        if value is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value):
            raise SpecError(f"The {what} must be a Keras name like 'adam'; got {value!r}.")
    layers = [normalize_layer(layer) for layer in spec.layers]
    names = spec.layer_names()
    output_shape = report.output_shape or tuple(spec.input_shape)
    if loss is None:
        loss_source, loss_comment, metrics = _suggest_loss(layers, output_shape)
    else:
        loss_source, loss_comment = _python_string(loss), ""
        metrics = '["mae"]' if loss in _REGRESSION_LOSSES else '["accuracy"]'
    needs_regularizers = any(layer.params.get("kernel_regularizer") for layer in layers)
    shape = ", ".join(str(d) for d in spec.input_shape)
    if len(spec.input_shape) == 2:
        data_lines = [
            "# series into x_train, a NumPy array of shape (N, steps, channels) = "
            f"(N, {shape}),",
            f"# and {_labels_hint(loss_source, output_shape)} into y_train;",
        ]
    else:
        data_lines = [
            f"# images into x_train, a NumPy array of shape (N, {shape}) with values scaled",
            f"# to 0..1, and {_labels_hint(loss_source, output_shape)} into y_train;",
        ]

    lines = [
        f"# Model {_python_string(spec.name)}, exported by cnnviz {__version__}.",
        "#",
        "# Run this file to build the model and print its summary. To train it, load your",
        *data_lines,
        "# then uncomment the model.fit(...) line at the end.",
        "import keras",
        "from keras import layers",
    ]
    if needs_regularizers:
        lines.append("from keras import regularizers")
    bases = [(layer, name) for layer, name in zip(layers, names)
             if layer.type == PRETRAINED_BASE]
    if any(_needs_numpy(layer) for layer, _ in bases):
        lines.insert(lines.index("import keras"), "import numpy as np")
    lines.append("")
    for layer, name in bases:
        lines += _base_source(layer, name)
    lines += ["model = keras.Sequential(", "    ["]
    lines.append(f"        keras.Input(shape=({shape})),")
    for layer, name in zip(layers, names):
        lines += _layer_source(layer, name)
    lines += [
        "    ],",
        f"    name={_python_string(keras_model_name(spec))},",
        ")",
        "model.summary()",
        "",
    ]
    if loss_comment:
        lines += loss_comment.splitlines()
    lines += [
        "model.compile(",
        f"    optimizer={_python_string(optimizer)},",
        f"    loss={loss_source},",
        f"    metrics={metrics},",
        ")",
        "",
        "# model.fit(x_train, y_train, epochs=5, batch_size=32, validation_split=0.1)",
    ]
    return "\n".join(lines) + "\n"
