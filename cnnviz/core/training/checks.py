"""Does this model fit this data? Checked before training, with one-click fixes for specs.

`check_model_fits_data` compares a model's input shape, output size and output activation
with a dataset's example shape — (height, width, channels) images or (steps, channels)
signals — and classes. Each problem is a `Mismatch` with a sentence a
student understands and, for a `ModelSpec`, a pure function that returns the fixed spec.
Nothing here imports TensorFlow at module level; for a keras.Model only its attributes
are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from cnnviz.core.data.data_fit import image_fit_problem, takes_sequences
from cnnviz.core.errors import SpecError
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer
from cnnviz.core.model.spec_edits import set_input_shape
from cnnviz.core.model.spec_params import check_input_shape

if TYPE_CHECKING:
    import keras

# Layers that pass values through unchanged at prediction time (Flatten of a flat vector too),
# so the output activation is decided by a layer before them.
_PASS_THROUGH = ("Dropout", "Flatten")
# Keras layers with the same property, by class name.
_KERAS_PASS_THROUGH = ("Dropout", "Flatten", "Reshape", "InputLayer", "SpatialDropout2D",
                       "GaussianNoise", "GaussianDropout", "AlphaDropout")


@dataclass
class Mismatch:
    """One way the model does not fit the data.

    severity is "error" when training would fail or learn nonsense, "warning" when it trains
    but something is worth knowing (raw scores instead of probabilities). `fix` is a pure
    function ModelSpec → ModelSpec (None when there is no obvious fix, or for a keras.Model).
    """

    message: str
    fix_label: str | None = None
    fix: Callable[[ModelSpec], ModelSpec] | None = None
    severity: str = "error"


def output_activation_for(num_classes: int) -> tuple[int, str]:
    """(units, activation) the last layer needs: (1, 'sigmoid') for two classes,
    else (n, 'softmax')."""
    return (1, "sigmoid") if num_classes == 2 else (num_classes, "softmax")


def check_model_fits_data(model_or_spec: "ModelSpec | keras.Model", dataset: Any) -> list[Mismatch]:
    """Everything about the model that does not fit `dataset`, most basic first; [] if all fits.

    Checks the input shape against the images, that the spec itself is valid, that the output
    is one score per class (or one sigmoid unit for two classes), and that the output
    activation makes probabilities. `dataset` needs `input_shape`, `num_classes`, `class_names`.
    """
    if isinstance(model_or_spec, ModelSpec):
        return _check_spec(model_or_spec, dataset)
    return _check_keras_model(model_or_spec, dataset)


# ---------------------------------------------------------------- words


def _image_kind(channels: int) -> str:
    return {1: "grayscale", 3: "colour", 4: "colour with transparency"}.get(
        channels, f"{channels} channels")


def _shape_text(shape: Sequence[Any]) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def _input_text(shape: Sequence[int]) -> str:
    """An input shape as the builder writes it: (150, 6) for signals, 28×28×1 for images."""
    if len(shape) == 2:
        return f"({shape[0]}, {shape[1]})"
    return _shape_text(shape)


def _classes_text(num_classes: int, class_names: Sequence[str]) -> str:
    names = [str(n) for n in class_names][:5]
    more = ", …" if len(class_names) > 5 else ""
    listed = f" ({', '.join(names)}{more})" if names else ""
    return f"{num_classes} classes{listed}"


def _input_message(model_shape: Sequence[Any], data_shape: Sequence[int],
                   sequence_model: bool) -> str:
    if len(data_shape) == 2 or sequence_model:  # signals, or a 1-D model: data_fit words it
        return (image_fit_problem(data_shape, model_shape, sequence_model or None)
                or "The model's input does not fit the data.")
    text = (f"The model expects {_shape_text(model_shape)} images, but the data's images are "
            f"{_shape_text(data_shape)}")
    if len(model_shape) == 3 and model_shape[2] is not None and model_shape[2] != data_shape[2]:
        text += f" ({_image_kind(data_shape[2])}, not {_image_kind(model_shape[2])})"
    return text + "."


def _output_description(shape: Sequence[Any]) -> str:
    """A model output that is not flat, in words: a sequence or a volume."""
    if len(shape) == 2:
        steps, channels = ("?" if d is None else f"{d:,}" for d in shape)
        return f"a sequence of {steps} steps × {channels} channel{'' if channels == '1' else 's'}"
    return f"a {_shape_text(shape)} volume"


def _flat_output_advice(shape: Sequence[Any] | None, units: int) -> tuple[str, str]:
    """(what to add, in a sentence; the fix's label) to end a model on one score per class."""
    plural = "s" if units != 1 else ""
    if shape is not None and len(shape) == 2:
        return (f"End the model with GlobalAveragePooling1D (or Flatten) and a Dense layer of "
                f"{units} unit{plural}.", "GlobalAveragePooling1D")
    return f"End the model with Flatten and a Dense layer of {units} unit{plural}.", "Flatten"


def _output_problem(units: int, activation: str | None, num_classes: int,
                    class_names: Sequence[str]) -> tuple[str, str, str] | None:
    """(kind, message, severity) of what is wrong with a flat output of `units`; None if fine.

    kind is "units" (wrong number of outputs) or "activation" (right size, wrong function).
    """
    classes = _classes_text(num_classes, class_names)
    if num_classes == 2 and units not in (1, 2) or num_classes > 2 and units != num_classes:
        if num_classes == 2:
            need = "For two classes, use one output with a sigmoid activation."
        else:
            need = f"It needs one output per class: {num_classes} units with softmax."
        return ("units", f"The model ends with {units} output{'s' if units != 1 else ''}, "
                         f"but the data has {classes}. {need}", "error")
    wanted = "sigmoid" if units == 1 else "softmax"
    if activation == wanted:
        return None
    if activation == "linear":
        return ("activation",
                f"The last layer has no activation ('linear'), so it gives raw scores, not "
                f"probabilities. cnnviz can still train it, but predictions will not read as "
                f"percentages. Use {wanted} on the last layer.", "warning")
    what = f"'{activation}'" if activation else "no activation"
    why = ("one probability between 0 and 1" if units == 1
           else "probabilities that add up to 1")
    return ("activation",
            f"The last layer uses {what}, but to give {why} it needs {wanted}.", "error")


# ---------------------------------------------------------------- specs


def _output_site(spec: ModelSpec) -> int | None:
    """Index of the layer whose activation is the model's output activation (skipping Dropout)."""
    for index in range(len(spec.layers) - 1, -1, -1):
        if spec.layers[index].type not in _PASS_THROUGH:
            return index
    return None


def _spec_output_activation(spec: ModelSpec) -> str | None:
    site = _output_site(spec)
    if site is None:
        return None
    layer = spec.layers[site]
    if layer.type in ("Dense", "Conv2D", "Conv1D", "Activation"):
        activation = layer.get("activation")
        return activation if isinstance(activation, str) else None
    return None


def _last_dense(spec: ModelSpec) -> int | None:
    """Index of the last Dense layer if only Dropout/Flatten/Activation layers follow it."""
    for index in range(len(spec.layers) - 1, -1, -1):
        layer_type = spec.layers[index].type
        if layer_type == "Dense":
            return index
        if layer_type not in _PASS_THROUGH + ("Activation",):
            return None
    return None


def _append_output(spec: ModelSpec, reducer: str, units: int, activation: str) -> ModelSpec:
    """A copy ending in `reducer` (Flatten or GlobalAveragePooling1D) and a Dense output.

    Used when the output is not flat: a Dense layer on a sequence or a volume acts on each
    step or pixel alone (as in Keras), so resizing it would not make one score per class.
    """
    new = spec.copy()
    new.layers.append(normalize_layer(LayerSpec.make(reducer)))
    new.layers.append(normalize_layer(LayerSpec.make("Dense", units=units,
                                                     activation=activation)))
    return new


def _set_output(spec: ModelSpec, units: int | None, activation: str) -> ModelSpec:
    """A copy whose output has `units` outputs (None: leave the size) and `activation`.

    Changes the last Dense layer (and a trailing Activation layer, which then decides the
    activation while the Dense becomes linear, so nothing is applied twice). Without a
    usable Dense layer at the end, appends one (after a Flatten if the output is an image).
    """
    new = spec.copy()
    dense = _last_dense(new)
    if dense is None:
        if units is None:  # right size, but a pooling layer ends the model
            new.layers.append(normalize_layer(LayerSpec.make("Activation", activation=activation)))
            return new
        report = analyze(new)
        if report.output_shape is not None and len(report.output_shape) != 1:
            new.layers.append(normalize_layer(LayerSpec.make("Flatten")))
        new.layers.append(normalize_layer(
            LayerSpec.make("Dense", units=units, activation=activation)))
        return new
    layer = new.layers[dense]
    layer.params = dict(layer.params)
    if units is not None:
        layer.params["units"] = units
    trailing = [i for i in range(dense + 1, len(new.layers)) if new.layers[i].type == "Activation"]
    if trailing:
        layer.params["activation"] = "linear"
        for index in trailing:
            new.layers[index].params = {**new.layers[index].params, "activation": activation}
    else:
        layer.params["activation"] = activation
    return new


def _check_spec(spec: ModelSpec, dataset: Any) -> list[Mismatch]:
    problems: list[Mismatch] = []
    num_classes = int(dataset.num_classes)
    data_shape = tuple(int(d) for d in dataset.input_shape)
    if num_classes < 2:
        problems.append(Mismatch(
            f"The data has only {num_classes} class; a classifier needs at least two."))
    if tuple(spec.input_shape) != data_shape:
        layer_types = [layer.type for layer in spec.layers]
        sequence_model = len(spec.input_shape) == 2 or takes_sequences(layer_types)
        fix: Callable[[ModelSpec], ModelSpec] | None = None
        label: str | None = None
        # A 1-D network cannot take images nor a 2-D one signals: a new input shape alone
        # would not make it fit, so there is no one-click fix then.
        if sequence_model == (len(data_shape) == 2):
            try:
                check_input_shape(list(data_shape))
                fix = lambda s, shape=data_shape: set_input_shape(s, shape)  # noqa: E731
                label = f"Change the model's input to {_input_text(data_shape)}"
            except SpecError:  # images too large for a spec: no one-click fix
                pass
        problems.append(Mismatch(_input_message(spec.input_shape, data_shape, sequence_model),
                                 label, fix))
    report = analyze(spec)
    if not report.ok:
        problems.append(Mismatch(f"The model has a problem: {report.error_message()}"))
        return problems
    if num_classes < 2:
        return problems
    units_needed, activation_needed = output_activation_for(num_classes)
    shape = report.output_shape
    if shape is None or len(shape) != 1:
        described = ("the input itself" if not spec.layers
                     else _output_description(shape or ()))
        advice, reducer = _flat_output_advice(shape, units_needed)
        problems.append(Mismatch(
            f"The model's output is {described}, but it must be one score per class "
            f"({_classes_text(num_classes, dataset.class_names)}). {advice}",
            f"Add {reducer} and Dense({units_needed}, {activation_needed}) at the end",
            lambda s: _append_output(s, reducer, units_needed, activation_needed)))
        return problems
    problem = _output_problem(shape[0], _spec_output_activation(spec), num_classes,
                              dataset.class_names)
    if problem is None:
        return problems
    kind, message, severity = problem
    if kind == "units":
        label = ("Use one sigmoid unit for two classes" if num_classes == 2
                 else f"Make the last Dense layer {num_classes} units with softmax")
        problems.append(Mismatch(message, label,
                                 lambda s: _set_output(s, units_needed, activation_needed),
                                 severity))
    else:
        wanted = "sigmoid" if shape[0] == 1 else "softmax"
        problems.append(Mismatch(message, f"Use {wanted} on the last layer",
                                 lambda s: _set_output(s, None, wanted), severity))
    return problems


# ---------------------------------------------------------------- Keras models


def keras_output_activation(model: "keras.Model") -> str | None:
    """The name of the function that makes a Keras model's output ('softmax', 'linear', ...).

    Skips layers that pass values through (Dropout, Flatten); None when the last real layer
    has no activation (e.g. a pooling layer) or the model has no layers.
    """
    for layer in reversed(model.layers):
        name = type(layer).__name__
        if name in _KERAS_PASS_THROUGH:
            continue
        if name == "Softmax":
            return "softmax"
        function = getattr(layer, "activation", None)
        if function is None:
            return None
        return getattr(function, "__name__", None)
    return None


def keras_io_shapes(model: "keras.Model") -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(input shape, output shape) of a one-input, one-output model, without the batch axis.

    Raises ValueError (with a readable message) when the model has no known shapes or
    several inputs or outputs.
    """
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(f"The model '{model.name}' has no fixed input shape yet, so cnnviz "
                         f"cannot check it against the data.")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError("cnnviz trains models with exactly one input and one output.")
    return tuple(inputs[0].shape[1:]), tuple(outputs[0].shape[1:])


def _check_keras_model(model: "keras.Model", dataset: Any) -> list[Mismatch]:
    problems: list[Mismatch] = []
    num_classes = int(dataset.num_classes)
    data_shape = tuple(int(d) for d in dataset.input_shape)
    if num_classes < 2:
        problems.append(Mismatch(
            f"The data has only {num_classes} class; a classifier needs at least two."))
    try:
        input_shape, output_shape = keras_io_shapes(model)
    except ValueError as exc:
        return problems + [Mismatch(str(exc))]
    if len(input_shape) != len(data_shape) or any(
            m is not None and m != d for m, d in zip(input_shape, data_shape)):
        sequence_model = takes_sequences(type(layer).__name__ for layer in model.layers)
        message = _input_message(input_shape, data_shape, sequence_model)
        if len(data_shape) == 3 and not sequence_model:
            message += " Change the model's input in the builder."
        problems.append(Mismatch(message))
    if num_classes < 2:
        return problems
    units_needed, _ = output_activation_for(num_classes)
    if len(output_shape) != 1 or output_shape[0] is None:
        problems.append(Mismatch(
            f"The model's output is {_output_description(output_shape)}, but it must be one "
            f"score per class ({_classes_text(num_classes, dataset.class_names)})."))
        return problems
    problem = _output_problem(int(output_shape[0]), keras_output_activation(model),
                              num_classes, dataset.class_names)
    if problem is not None:
        problems.append(Mismatch(problem[1], severity=problem[2]))
    return problems
