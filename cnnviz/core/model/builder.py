"""ModelSpec → Keras model and back, model files, summaries of any Keras model.

`build_model` turns a checked spec into a `keras.Sequential`. `load_model_file` reads
.keras/.h5 files and turns every failure into one readable `ModelFileError`.
`summarize_keras_model` describes any Keras model in the same `StackReport` form the
editor uses; `model_tensors` reads any model's input and output tensors safely. The way
back (`model_to_spec`, `unsupported_layers`) lives in spec_from_keras.py, Python export
(`export_python`) in codegen.py.

Keras is imported inside the functions: importing this module stays instant.
"""

from __future__ import annotations

import math
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnviz.core.atomic_save import remove_stale_temporaries, save_file_atomically
from cnnviz.core.errors import ModelFileError, SpecError, UntrustedModelError
from cnnviz.core.model.codegen import keras_model_name
from cnnviz.core.model.model_file_limits import check_model_file_sizes
from cnnviz.core.model.shapes import LayerReport, StackReport, analyze
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.core.model.spec import (
    LayerSpec,
    ModelSpec,
    check_layer_count,
    normalize_layer,
)

if TYPE_CHECKING:
    import keras

__all__ = [
    "build_model", "load_failure_message", "load_model_file", "model_tensors", "save_model_file",
    "summarize_keras_model", "weight_count",
]

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


# ---------------------------------------------------------------- spec → Keras


def _keras_regularizer(value: dict[str, float] | None) -> Any:
    """The simplest Keras regulariser equal to {"l1": a, "l2": b} (L1, L2 or L1L2)."""
    from keras import regularizers

    if not value:
        return None
    l1, l2 = value.get("l1", 0.0), value.get("l2", 0.0)
    if l1 and l2:
        return regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return regularizers.L1(l1)
    if l2:
        return regularizers.L2(l2)
    return None


def _keras_layer(layer: LayerSpec, name: str) -> Any:
    """One Keras layer from a normalised LayerSpec (parameter names are Keras's own)."""
    from keras import layers

    kwargs: dict[str, Any] = {}
    for key, value in layer.params.items():
        if key == "kernel_regularizer":
            value = _keras_regularizer(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    keras_layer = getattr(layers, layer.type)(name=name, **kwargs)
    if not layer.trainable:
        keras_layer.trainable = False
    return keras_layer


def _pretrained_base_block(layer: LayerSpec, name: str) -> Any:
    """A prepared base, loaded from the Keras file core.transfer.base_blocks saved (its
    preprocessing, the network cut at a layer, its weights; BatchNormalization frozen so it
    always runs in inference mode). Frozen as a whole when the spec freezes it."""
    import keras

    path = Path(layer.params["block_file"])
    if not path.is_file():
        raise SpecError(f"The prepared file of the pre-built base '{name}' is missing "
                        f"({path}). Choose the base again with 'Pre-built base…' in the "
                        f"builder, or run the command again to prepare it.")
    try:
        block = load_model_file(path)
    except ModelFileError as exc:
        raise SpecError(f"The pre-built base '{name}' cannot be loaded: {exc} Choose the base "
                        f"again with 'Pre-built base…' in the builder.") from None
    block = keras.Model(block.input, block.output, name=name)
    # The builder shows the measured figures the spec holds; a file or a spec changed by hand
    # since must not make it show other numbers than Keras's.
    measured = (list(layer.params["output_shape"]), layer.params["trainable_weights"],
                layer.params["non_trainable_weights"])
    actual = ([int(d) for d in block.output.shape[1:]], weight_count(block.trainable_weights),
              weight_count(block.non_trainable_weights))
    if measured != actual:
        raise SpecError(f"The prepared file of the pre-built base '{name}' ({path.name}) does "
                        f"not match what the spec says about it (output {actual[0]}, spec "
                        f"{measured[0]}; {actual[1] + actual[2]:,} weights, spec "
                        f"{measured[1] + measured[2]:,}). Choose the base again with "
                        f"'Pre-built base…' in the builder.")
    if not layer.trainable:
        block.trainable = False
    return block


def build_model(spec: ModelSpec) -> "keras.Model":
    """Build the spec as a `keras.Sequential` whose layer names are `spec.layer_names()`.

    Raises SpecError (the same sentence the editor shows) when `analyze(spec)` finds a
    problem, so Keras never gets to throw its own error, or when the spec has more than
    MAX_LAYERS layers.
    """
    check_layer_count(len(spec.layers))
    report = analyze(spec)
    if not report.ok:
        raise SpecError(report.error_message())
    names = spec.layer_names()
    for name in names:
        if "/" in name:
            raise SpecError(f"Layer name '{name}' contains '/', which Keras does not allow.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecError(f"Two layers are both named '{repeated[0]}'; layer names must be unique.")

    import keras

    stack: list[Any] = [keras.Input(shape=tuple(spec.input_shape))]
    for layer, name in zip(spec.layers, names):
        checked = normalize_layer(layer)
        if checked.type == PRETRAINED_BASE:
            stack.append(_pretrained_base_block(checked, name))
        else:
            stack.append(_keras_layer(checked, name))
    return keras.Sequential(stack, name=keras_model_name(spec))


# ---------------------------------------------------------------- files


def refused_for_code(exc: BaseException, trust: bool) -> bool:
    """Whether Keras's safe mode refused the file for the Python code in it."""
    text = str(exc)
    return not trust and ("safe_mode" in text or "Lambda" in text)


def load_failure_message(path: Path, exc: BaseException, trust: bool) -> str:
    """One sentence saying why a model file would not load."""
    text = str(exc)
    custom = re.search(r"Could not locate (?:class|function) '([^']+)'", text) or re.search(
        r"Unknown (?:layer|object|activation|loss|metric)[^:]*: '([^']+)'", text)
    if custom:
        name = custom.group(1).split(">")[-1]  # drop a registered package prefix
        return (f"{path.name} uses custom code ('{name}') that is not stored in the "
                f"file, so cnnviz cannot rebuild the model.")
    if refused_for_code(exc, trust):
        return (f"{path.name} contains Python code (a Lambda layer), which could do anything "
                f"on your computer, so cnnviz refuses it in safe mode.")
    if "No model config" in text:
        return f"{path.name} holds no model architecture (perhaps only weights)."
    if isinstance(exc, KeyError) and "config.json" in text:
        return f"{path.name} is a zip archive, but not a Keras model (it has no config.json)."
    if isinstance(exc, PermissionError):
        return f"Cannot read {path.name}: permission denied."
    # h5py reports damaged HDF5 data as plain OSError; zip members fail CRC or inflate checks.
    if isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error, OSError)):
        return (f"{path.name} is damaged or is not a Keras model file (it may be truncated "
                f"by an interrupted download or copy).")
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    # Keras quotes a damaged file's bytes; keep control and direction characters out.
    first_line = "".join(ch if ch.isprintable() else "?" for ch in first_line)
    if len(first_line) > 160:
        first_line = first_line[:157] + "..."
    return f"Cannot load {path.name} as a Keras model: {first_line}"


def load_model_file(path: str | Path, trust: bool = False) -> "keras.Model":
    """Load a .keras or .h5 model without compiling it.

    Files with Python code in them (Lambda layers) are refused (UntrustedModelError) unless
    `trust` is True. Raises ModelFileError with a one-sentence message for every kind of bad
    file, including one that declares absurd sizes (model_file_limits), before Keras reads it.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"No such file: {path}.")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; cnnviz opens .keras and .h5 model files.")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelFileError(
            f"{path.name} is not a Keras model file; cnnviz opens .keras and .h5 files.")
    # Keras reports a damaged .keras archive as "File not found"; say what is really wrong.
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path.name} is damaged or is not a Keras model file (a .keras file is a zip "
            f"archive; this one may be truncated by an interrupted download or copy).")
    check_model_file_sizes(path)
    remove_stale_temporaries(path)  # what a killed save of this file left beside it

    import keras

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=not trust)
    except Exception as exc:  # any failure inside Keras/h5py is a bad file to the user
        error = UntrustedModelError if refused_for_code(exc, trust) else ModelFileError
        raise error(load_failure_message(path, exc, trust)) from exc
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{path.name} holds a {type(model).__name__}, not a Keras model.")
    return model


def save_model_file(model: "keras.Model", path: str | Path) -> Path:
    """Save a model as .keras (the default) or .h5, atomically.

    Keras writes to a temporary file in the same folder, which then replaces `path`, so an
    interrupted save never leaves a broken model behind. Returns the path written; a path
    without a suffix gets ".keras". Raises ModelFileError if the file cannot be written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".keras")
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelFileError(f"{path.name}: save the model as a .keras file (or .h5 for the "
                             f"older format).")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; choose a file name ending in {suffix}.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ModelFileError(f"Cannot save {path.name}: the folder {folder} does not exist.")
    # Renaming over a file ignores its own permissions, so honour a read-only file by hand.
    if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
        raise ModelFileError(f"Cannot save: {path} is read-only. The file there is unchanged.")
    # Keras picks the format from the suffix, so the temporary file keeps it; a temporary a
    # killed save left behind is removed first (save_file_atomically).
    try:
        save_file_atomically(path, model.save)
    except OSError as exc:
        raise ModelFileError(f"Cannot save {path}: {exc.strerror or exc}.") from exc
    except Exception as exc:  # h5py/Keras failures: still one readable sentence
        raise ModelFileError(f"Cannot save {path.name}: {exc}") from exc
    return path


# ---------------------------------------------------------------- summaries


def _shape_or_none(get: Any) -> tuple[Any, ...] | None:
    """The shape (without batch) of a layer's only input/output, or None if it has several."""
    try:
        tensor = get()
    except (AttributeError, ValueError, RuntimeError):  # unbuilt, or used more than once
        return None
    if not hasattr(tensor, "shape"):
        return None
    return tuple(tensor.shape[1:])


def weight_count(weights: list[Any]) -> int:
    """How many numbers a list of Keras weights holds (as model.summary() counts them)."""
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def model_tensors(model: "keras.Model") -> tuple[list[Any], list[Any]]:
    """The model's input and output tensors; both empty for a model never built (Keras
    raises instead of answering for those)."""
    try:
        return list(model.inputs or []), list(model.outputs or [])
    except (AttributeError, ValueError):
        return [], []


def summarize_keras_model(model: "keras.Model") -> StackReport:
    """A StackReport for any Keras model, as `model.summary()` would describe it.

    One row per layer (nested models count as one row): name, class name, output shape
    without the batch dimension (None where it varies or the layer is used several times)
    and trainable/non-trainable parameter counts. Raises ModelFileError if the model was
    never built, since its sizes are then unknown.
    """
    if not model.built:
        raise ModelFileError(
            f"The model '{model.name}' has no input shape yet, so its layer sizes are unknown.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    input_shape = tuple(inputs[0].shape[1:]) if inputs else ()
    report = StackReport(input_shape)
    rows = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for index, layer in enumerate(rows):
        row = LayerReport(
            index, layer.name, type(layer).__name__,
            _shape_or_none(lambda: layer.input), _shape_or_none(lambda: layer.output),
        )
        row.trainable = weight_count(layer.trainable_weights)
        row.non_trainable = weight_count(layer.non_trainable_weights)
        row.params = row.trainable + row.non_trainable
        row.frozen = not layer.trainable
        if row.output_shape is None:
            row.warning = "Used more than once or has several outputs; shapes vary per use."
        report.layers.append(row)
    return report
