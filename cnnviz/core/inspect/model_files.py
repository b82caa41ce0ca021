"""Open saved Keras models (.keras, .h5 from Keras 3 or Keras 2, architecture JSON + weights).

`open_model(path, weights_path=None, trust=False)` returns an `OpenedModel`: the uncompiled
`keras.Model` plus what the user should know about it (`notes`). Every file that cannot be
opened raises a `ModelFileError` whose message is one readable sentence (the subclasses
below live in model_file_errors.py):

- `UntrustedModelError`: the model carries Python code (a Lambda layer) or names a custom
  class in a Python module; Keras's safe mode refuses it, and it opens with `trust=True`
  ("I trust this file" in the GUI, `--trust` on the command line).
- `CustomCodeError`: the model needs custom Python code that is not in the file and that
  cnnviz cannot find, so trusting the file would not help either.

The architecture (config.json of a .keras archive, the `model_config` of an .h5 file, or the
JSON itself) is read first and cheaply (model_file_reading), so messages can name the offending
layers (model_file_errors).
Keras is imported inside the functions: importing this module stays instant.
"""

from __future__ import annotations

import importlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnviz.core.atomic_save import remove_stale_temporaries
from cnnviz.core.errors import ModelFileError
from cnnviz.core.inspect.model_file_errors import (
    CustomCodeError, first_line, importable_module, load_failure, weights_mismatch,
)
from cnnviz.core.inspect.model_file_reading import (
    LayerEntry, check_declared_sizes, is_model_config, is_spec_data, keras_version_of,
    layer_entries, read_json, read_model_config,
)

if TYPE_CHECKING:
    import keras

__all__ = [
    "MODEL_FILE_SUFFIXES", "WEIGHTS_FILE_SUFFIXES",
    "OpenedModel", "is_architecture_json", "open_model", "suggest_weights_file",
]

MODEL_FILE_SUFFIXES = (".keras", ".h5", ".hdf5", ".json")
# A weights file for an architecture JSON: Keras 3 `.weights.h5`, a Keras 2 `save_weights`
# .h5, or a whole saved model (.h5/.keras) whose weights are taken.
WEIGHTS_FILE_SUFFIXES = (".weights.h5", ".h5", ".hdf5", ".keras")


@dataclass
class OpenedModel:
    """A model opened from a file, and what the user should know about it."""

    model: "keras.Model"
    path: Path
    kind: str                        # "keras" | "h5" | "json"
    weights_path: Path | None        # the weights file used with an architecture JSON
    trusted: bool                    # opened with trust=True
    notes: list[str] = field(default_factory=list)


def is_architecture_json(path: str | Path) -> bool:
    """True if `path` holds a Keras model architecture as written by `model.to_json()`
    (Keras 3 or Keras 2); False for a cnnviz spec JSON, any other file, or a missing one."""
    try:
        data = read_json(Path(path))
    except ModelFileError:
        return False
    return is_model_config(data) and not is_spec_data(data)


def suggest_weights_file(json_path: str | Path) -> Path | None:
    """The weights file lying beside an architecture JSON (model.json → model.weights.h5,
    model.h5, model_weights.h5 ...), or None. Nothing is loaded; the caller offers it."""
    json_path = Path(json_path)
    stem = json_path.stem
    for name in (f"{stem}.weights.h5", f"{stem}_weights.h5", f"{stem}.h5", f"{stem}.hdf5",
                 f"{stem}.keras"):
        candidate = json_path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def _model_from_json_config(config: dict[str, Any], custom_objects: dict[str, Any],
                            trust: bool) -> Any:
    """Build (without weights) the model an architecture JSON describes, Keras 3 or 2."""
    import keras

    if "module" in config:  # Keras 3 `to_json`
        return keras.saving.deserialize_keras_object(
            config, custom_objects=custom_objects, safe_mode=not trust)
    # Keras 2 (tf.keras) `to_json`: the legacy reader Keras uses for old .h5 files.
    from keras.src.legacy.saving import saving_utils
    from keras.src.saving import serialization_lib

    with serialization_lib.SafeModeScope(not trust):
        return saving_utils.model_from_config(config, custom_objects=custom_objects)


# ---------------------------------------------------------------- opening


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".json": "json"}[suffix]


def _check_path(path: Path, what: str, suffixes: tuple[str, ...]) -> None:
    if not path.exists():
        raise ModelFileError(f"No such file: {path}.")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a {what}.")
    if not path.name.lower().endswith(suffixes):
        shown = ", ".join(s for s in suffixes if s != ".hdf5")
        raise ModelFileError(f"{path.name} is not a {what}; cnnviz opens {shown} files.")


def _trusted_custom_objects(path: Path, entries: list[LayerEntry]) -> dict[str, Any]:
    """With trust: import the modules the file names for its custom classes."""
    found: dict[str, Any] = {}
    for entry in entries:
        module_name = importable_module(entry)
        if module_name is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or the module's own code failing
            raise CustomCodeError(
                f"{path.name} uses the custom layer '{entry.name}' ({entry.class_name}) from "
                f"the Python module {module_name}, which cannot be imported here "
                f"({type(exc).__name__}: {first_line(str(exc), 100)}).", [entry.name]) from exc
        cls = getattr(module, entry.class_name, None)
        if cls is not None:
            found[entry.registered_name or entry.class_name] = cls
            found[entry.class_name] = cls
    return found


def _sequential_in_one_pass(path: Path, config: dict[str, Any] | None,
                            custom_objects: dict[str, Any], trust: bool) -> Any:
    """A plain .keras Sequential model, loaded with its layers built once; None if the file
    is anything else (then `keras.models.load_model` reads it).

    Keras's own `Sequential.from_config` adds the layers one by one and rebuilds the whole
    stack after each, calling every layer n²/2 times: for 50 layers that is most of the
    time `load_model` takes. Building the same layers once gives the same model (the last
    rebuild is the only one that remains) with the same weights, loaded by `load_weights`,
    which reads the archive's model.weights.h5 and fails on any missing or misfitting weight.
    """
    if not (config and config.get("module") == "keras" and config.get("class_name") == "Sequential"
            and config.get("registered_name") is None and isinstance(config.get("config"), dict)):
        return None
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: info for info in archive.infolist()}
    # Assets (vocabularies, ...), other weight layouts, or compressed weights (which could
    # expand to anything when extracted; Keras stores them as they are): leave to Keras.
    if set(members) != {"metadata.json", "config.json", "model.weights.h5"} or \
            members["model.weights.h5"].compress_type != zipfile.ZIP_STORED:
        return None
    import keras

    try:  # Keras's internal scope for objects shared between layers; without it, use Keras
        from keras.src.saving.serialization_lib import ObjectSharingScope
    except ImportError:
        return None
    inner = config["config"]
    layer_configs = inner.get("layers")
    if not isinstance(layer_configs, list) or not all(
            isinstance(c, dict) and "module" in c for c in layer_configs):
        return None
    with ObjectSharingScope(), keras.saving.CustomObjectScope(custom_objects):
        layers = [keras.saving.deserialize_keras_object(c, custom_objects=custom_objects,
                                                        safe_mode=not trust)
                  for c in layer_configs]
        # As Sequential.from_config, but the constructor adds them all, then builds once.
        model = keras.Sequential(layers, name=inner.get("name"))
        build_input_shape = inner.get("build_input_shape")
        if not model.built and isinstance(build_input_shape, (tuple, list)) and build_input_shape:
            model.build(build_input_shape)
        build_config = config.get("build_config")
        if build_config and not model.built:
            model.build_from_config(build_config)
    # Keras reads an archive member by seeking inside the zip stream, which is slow; the
    # weights file on its own is read directly (as load_model does with big models).
    with tempfile.TemporaryDirectory(prefix="cnnviz-open-") as folder:
        with zipfile.ZipFile(path) as archive:
            archive.extract("model.weights.h5", folder)
        model.load_weights(Path(folder) / "model.weights.h5")
    return model


def _load(path: Path, kind: str, trust: bool, entries: list[LayerEntry],
          config: dict[str, Any] | None) -> Any:
    import keras

    custom_objects = _trusted_custom_objects(path, entries) if trust else {}
    if kind == "keras" and not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path.name} is damaged or is not a Keras model file (a .keras file is a zip "
            f"archive; this one may be truncated by an interrupted download or copy).")
    try:
        if kind == "json":
            assert config is not None
            return _model_from_json_config(config, custom_objects, trust)
        if kind == "keras":
            model = _sequential_in_one_pass(path, config, custom_objects, trust)
            if model is not None:
                return model
        return keras.models.load_model(path, custom_objects=custom_objects or None,
                                       compile=False, safe_mode=not trust)
    except ModelFileError:
        raise
    except Exception as exc:  # any failure inside Keras/h5py is a bad file to the user
        raise load_failure(path, kind, exc, trust, entries) from exc


def _load_weights(model: Any, weights: Path, architecture: Path) -> None:
    _check_path(weights, "weights file", WEIGHTS_FILE_SUFFIXES)
    if weights.suffix.lower() == ".keras" and not zipfile.is_zipfile(weights):
        raise ModelFileError(f"{weights.name} is damaged or is not a Keras file.")
    try:
        model.load_weights(weights)
    except Exception as exc:
        text = str(exc)
        if isinstance(exc, (OSError, EOFError, zipfile.BadZipFile)) or "truncated" in text \
                or "file signature" in text:
            raise ModelFileError(f"{weights.name} is damaged or is not a weights file (it may "
                                 f"be truncated by an interrupted download or copy).") from exc
        raise weights_mismatch(weights, architecture, exc) from exc


def open_model(path: str | Path, weights_path: str | Path | None = None,
               trust: bool = False) -> OpenedModel:
    """Open a .keras or .h5 model (Keras 3, or Keras 2 / tf.keras), or an architecture JSON
    (`model.to_json()`) with an optional weights file, uncompiled.

    Args:
        path: the model file.
        weights_path: weights to load into the model (needed for a JSON to be more than
            random numbers; for a .keras/.h5 model they replace the stored weights).
        trust: allow Python code in the file (Lambda layers) and importing the modules its
            custom classes name. Only for files whose source the user trusts.
    Returns:
        An OpenedModel; its `notes` say what the user should know (random weights, old format).
    Raises:
        UntrustedModelError if safe mode refuses the model (opens with trust=True);
        CustomCodeError if it needs code that is not available; ModelFileError for every
        other bad file (missing, damaged, truncated, not a model, a cnnviz spec, weights that
        do not fit), each with one readable sentence.
    """
    path = Path(path)
    _check_path(path, "Keras model file", MODEL_FILE_SUFFIXES)
    kind = _kind_of(path)
    notes: list[str] = []
    if kind == "json":
        data = read_json(path)
        if is_spec_data(data):
            raise ModelFileError(
                f"{path.name} is a cnnviz model spec, not a saved Keras model; open it as a "
                f"spec (File → Open…, or `cnnviz summary {path.name}`).")
        if not is_model_config(data):
            raise ModelFileError(
                f"{path.name} is JSON, but not a Keras model architecture (the kind "
                f"model.to_json() writes).")
        config: dict[str, Any] | None = data
    else:
        if kind == "h5" and path.name.lower().endswith(".weights.h5"):
            raise ModelFileError(
                f"{path.name} holds only weights, no model architecture; open the model's "
                f"architecture (.json) and choose this file as its weights.")
        config = read_model_config(path, kind)
        remove_stale_temporaries(path)  # what a killed save of this file left beside it
    if config:
        check_declared_sizes(config, path.name)
    entries = list(layer_entries(config)) if config else []

    model = _load(path, kind, trust, entries, config)
    import keras

    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{path.name} holds a {type(model).__name__}, not a Keras model.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not model.built or not inputs:
        raise ModelFileError(
            f"{path.name} does not say what input the model '{model.name}' takes, so its layer "
            f"sizes are unknown.")

    weights = Path(weights_path) if weights_path is not None else None
    if weights is not None:
        _load_weights(model, weights, path)
        if kind != "json":
            notes.append(f"The weights stored in {path.name} were replaced by those in "
                         f"{weights.name}.")
    elif kind == "json":
        beside = suggest_weights_file(path)
        hint = f" ({beside.name} lies beside it: open it as the weights)" if beside else ""
        notes.append(f"No weights file: the weights are random, so predictions mean nothing"
                     f"{hint}.")
    version = keras_version_of(path, kind, config)
    if version and version.split(".")[0] in ("1", "2"):
        notes.append(f"Saved by Keras {version} (tf.keras), an older format; read by Keras "
                     f"{keras.__version__}.")
    if trust:
        lambdas = [entry.name for entry in entries if entry.class_name == "Lambda"]
        if lambdas:
            notes.append(f"Opened as trusted: the Python code in {', '.join(lambdas)} runs "
                         f"whenever the model is used.")
    return OpenedModel(model=model, path=path, kind=kind, weights_path=weights, trusted=trust,
                       notes=notes)
