"""Open saved Keras models (.keras, .h5 from Keras 3 or Keras 2, architecture JSON + weights).

`open_model(path, weights_path=None, trust=False)` returns an `OpenedModel`: the uncompiled
`keras.Model` plus what the user should know about it (`notes`). Every file that cannot be
opened raises a `ModelFileError` whose message is one readable sentence:

- `UntrustedModelError`: the model carries Python code (a Lambda layer) or names a custom
  class in a Python module; Keras's safe mode refuses it, and it opens with `trust=True`
  ("I trust this file" in the GUI, `--trust` on the command line).
- `CustomCodeError`: the model needs custom Python code that is not in the file and that
  cnnviz cannot find, so trusting the file would not help either.

The architecture (config.json of a .keras archive, the `model_config` of an .h5 file, or the
JSON itself) is read first and cheaply, so messages can name the offending layers.
Keras is imported inside the functions: importing this module stays instant.
"""

from __future__ import annotations

import importlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from cnnviz.core.builder import _load_failure
from cnnviz.core.errors import ModelFileError
from cnnviz.core.spec import FORMAT_NAME

if TYPE_CHECKING:
    import keras

__all__ = [
    "MODEL_FILE_SUFFIXES", "WEIGHTS_FILE_SUFFIXES", "UntrustedModelError", "CustomCodeError",
    "OpenedModel", "is_architecture_json", "open_model", "suggest_weights_file",
]

MODEL_FILE_SUFFIXES = (".keras", ".h5", ".hdf5", ".json")
# A weights file for an architecture JSON: Keras 3 `.weights.h5`, a Keras 2 `save_weights`
# .h5, or a whole saved model (.h5/.keras) whose weights are taken.
WEIGHTS_FILE_SUFFIXES = (".weights.h5", ".h5", ".hdf5", ".keras")
_JSON_READ_LIMIT = 64 * 1024 * 1024  # an architecture JSON is kilobytes; beyond this it is data
_MODEL_CLASSES = ("Sequential", "Functional", "Model")
# What tf.keras (Keras 2) made of raw TensorFlow calls in a functional model.
_TF_OP_LAYERS = ("TFOpLambda", "SlicingOpLambda")
_TRUST_HINT = "tick \"I trust this file\" (or use --trust) only if you trust where it came from"


class UntrustedModelError(ModelFileError):
    """The model carries Python code (Lambda layers) or names a custom class in a Python
    module. Safe mode refuses it; it opens with trust=True. `layers` names the layers."""

    def __init__(self, message: str, layers: list[str] | None = None) -> None:
        super().__init__(message)
        self.layers = list(layers or [])


class CustomCodeError(ModelFileError):
    """The model needs custom Python code (a layer class, activation, ...) that is neither in
    the file nor importable here; trusting the file would not help."""

    def __init__(self, message: str, layers: list[str] | None = None) -> None:
        super().__init__(message)
        self.layers = list(layers or [])


@dataclass
class OpenedModel:
    """A model opened from a file, and what the user should know about it."""

    model: "keras.Model"
    path: Path
    kind: str                        # "keras" | "h5" | "json"
    weights_path: Path | None        # the weights file used with an architecture JSON
    trusted: bool                    # opened with trust=True
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading the architecture


@dataclass
class _LayerEntry:
    name: str
    class_name: str
    module: str | None
    registered_name: str | None


def _is_model_config(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("class_name"), str)
            and isinstance(data.get("config"), dict)
            and isinstance(data["config"].get("layers"), list))


def _layer_entries(config: Any) -> Iterator[_LayerEntry]:
    """Every layer config inside a model config, nested models and wrappers included."""
    if not isinstance(config, dict):
        return
    inner = config.get("config")
    if not isinstance(inner, dict):
        return
    children = list(inner.get("layers") or []) if isinstance(inner.get("layers"), list) else []
    if isinstance(inner.get("layer"), dict):  # TimeDistributed, Bidirectional, ...
        children.append(inner["layer"])
    for child in children:
        if not isinstance(child, dict) or not isinstance(child.get("class_name"), str):
            continue
        child_config = child.get("config") if isinstance(child.get("config"), dict) else {}
        yield _LayerEntry(
            name=str(child.get("name") or child_config.get("name") or child["class_name"]),
            class_name=child["class_name"],
            module=child.get("module") if isinstance(child.get("module"), str) else None,
            registered_name=(child.get("registered_name")
                             if isinstance(child.get("registered_name"), str) else None),
        )
        yield from _layer_entries(child)


def _is_builtin(entry: _LayerEntry) -> bool:
    """Whether Keras itself provides this layer class."""
    if entry.module is not None:
        return entry.module == "keras" or entry.module.startswith("keras.")
    if entry.registered_name and entry.registered_name != entry.class_name:
        return False  # "package>Name": registered custom code
    import keras

    return entry.class_name in _MODEL_CLASSES or hasattr(keras.layers, entry.class_name)


def _read_config(path: Path, kind: str) -> dict[str, Any] | None:
    """The model config stored in the file, or None if it cannot be read cheaply."""
    try:
        if kind == "keras":
            with zipfile.ZipFile(path) as archive:
                if archive.getinfo("config.json").file_size > _JSON_READ_LIMIT:
                    return None  # not an architecture; Keras's own checks will say so
                data = json.loads(archive.read("config.json"))
        elif kind == "h5":
            import h5py

            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
                if raw is None:
                    return None
                data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except Exception:  # damaged files are diagnosed by the real load
        return None
    return data if isinstance(data, dict) else None


def _keras_version(path: Path, kind: str, config: dict[str, Any] | None) -> str | None:
    """The Keras version that wrote the file, when the file says."""
    try:
        if kind == "keras":
            with zipfile.ZipFile(path) as archive:
                value = json.loads(archive.read("metadata.json")).get("keras_version")
        elif kind == "h5":
            import h5py

            with h5py.File(path, "r") as handle:
                value = handle.attrs.get("keras_version")
        else:
            value = (config or {}).get("keras_version")
    except Exception:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- JSON files


def _read_json(path: Path) -> Any:
    """The parsed JSON in `path`. Raises ModelFileError for unreadable or invalid JSON."""
    try:
        if path.stat().st_size > _JSON_READ_LIMIT:
            raise ModelFileError(f"{path.name} is {path.stat().st_size // 2**20} MB, far too "
                                 f"large for a model architecture JSON.")
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise ModelFileError(f"Cannot read {path.name}: permission denied.") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{path.name} is not a text (JSON) file.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot read {path.name}: {exc.strerror or exc}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}), so it holds no model architecture.") from None


def _is_spec_data(data: Any) -> bool:
    return isinstance(data, dict) and (
        data.get("format") == FORMAT_NAME or ("input_shape" in data and "layers" in data
                                              and "class_name" not in data))


def is_architecture_json(path: str | Path) -> bool:
    """True if `path` holds a Keras model architecture as written by `model.to_json()`
    (Keras 3 or Keras 2); False for a cnnviz spec JSON, any other file, or a missing one."""
    try:
        data = _read_json(Path(path))
    except ModelFileError:
        return False
    return _is_model_config(data) and not _is_spec_data(data)


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


# ---------------------------------------------------------------- failures


def _names(entries: list[_LayerEntry]) -> str:
    shown = [f"'{entry.name}'" for entry in entries[:4]]
    more = f" and {len(entries) - 4} more" if len(entries) > 4 else ""
    return ", ".join(shown) + more


def _importable_module(entry: _LayerEntry) -> str | None:
    """The Python module a custom class says it lives in, if cnnviz could import it."""
    if entry.module and entry.module not in ("__main__", "builtins") and not _is_builtin(entry):
        return entry.module
    return None


def _custom_failure(path: Path, entries: list[_LayerEntry], exc: BaseException,
                    trust: bool) -> ModelFileError:
    """The error for a model whose custom classes Keras could not find."""
    text = str(exc)
    custom = [entry for entry in entries if not _is_builtin(entry)]
    found = re.search(r"Could not locate (?:class|function) '([^']+)'", text) or re.search(
        r"Unknown (?:layer|object|activation|loss|metric|initializer|regularizer)[^:]*: "
        r"'?([^'.\s]+)", text)
    missing = found.group(1).split(">")[-1] if found else None
    if custom:
        what = f"custom layer{'s' if len(custom) > 1 else ''} {_names(custom)} (" + ", ".join(
            sorted({entry.class_name for entry in custom})) + ")"
    else:
        what = f"the custom object '{missing}'" if missing else "custom code"
    names = [entry.name for entry in custom]
    tf_ops = [entry for entry in custom if entry.class_name in _TF_OP_LAYERS]
    if tf_ops:
        return CustomCodeError(
            f"{path.name} applies TensorFlow operations directly ({_names(tf_ops)}), which "
            f"tf.keras (Keras 2) could save but Keras 3 cannot rebuild; re-save the model "
            f"from Keras 2 with those operations written as Keras layers.", names)
    modules = sorted({m for m in (_importable_module(entry) for entry in custom) if m})
    if modules and not trust:
        return UntrustedModelError(
            f"{path.name} uses the {what}, whose Python code is not in the file but in the "
            f"module {', '.join(modules)}; importing it runs that code, so cnnviz does so only "
            f"if you trust the file: {_TRUST_HINT}.", names)
    return CustomCodeError(
        f"{path.name} uses the {what}, whose Python code is not stored in the file and is not "
        f"available here, so cnnviz cannot rebuild the model (trusting the file would not "
        f"help).", names)


def _failure(path: Path, kind: str, exc: BaseException, trust: bool,
             entries: list[_LayerEntry]) -> ModelFileError:
    """One readable error for any exception Keras or h5py raised while loading."""
    text = str(exc)
    if "safe_mode" in text and not trust:
        lambdas = [entry for entry in entries if entry.class_name == "Lambda"]
        if lambdas:
            which = f"Lambda layer{'s' if len(lambdas) > 1 else ''} {_names(lambdas)}"
        else:
            which = "a Lambda layer or a Python function"
        return UntrustedModelError(
            f"{path.name} contains Python code ({which}) that would run on your computer when "
            f"the model is used, so cnnviz refuses it in safe mode; {_TRUST_HINT}.",
            [entry.name for entry in lambdas])
    if re.search(r"Could not locate (class|function)|Unknown (layer|object|activation|loss|"
                 r"metric|initializer|regularizer)|cannot be imported", text):
        return _custom_failure(path, entries, exc, trust)
    if kind == "keras" and "Expected a model.weights" in text:
        return ModelFileError(
            f"{path.name} has no weights inside (the archive lacks model.weights.h5); it is "
            f"damaged or was not completely written.")
    if kind == "keras" and "could not be loaded" in text:
        found = re.search(r"A total of (\d+) objects? could not be loaded.*?for object "
                          r"<\w+ name=([^,>]+)", text, re.S)
        which = (f" (for {found.group(1)} part{'s' if found.group(1) != '1' else ''} of the "
                 f"model, e.g. layer '{found.group(2)}')" if found else "")
        return ModelFileError(
            f"{path.name} is damaged: some of its stored weights are missing or do not fit "
            f"the layers{which}.")
    if kind == "h5" and path.name.lower().endswith(".weights.h5") or "No model config" in text:
        return ModelFileError(
            f"{path.name} holds only weights, no model architecture; open the model's "
            f"architecture (.json) and choose this file as its weights.")
    if kind == "json":
        return ModelFileError(f"{path.name} is not a valid Keras model architecture: "
                              f"{_first_line(text)}")
    return ModelFileError(_load_failure(path, exc, trust))


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _weights_mismatch(weights: Path, architecture: Path, exc: BaseException) -> ModelFileError:
    text = str(exc)
    detail = ""
    found = re.search(r"named (\S+?)\)?\s*for weight (\S+)\. Weight expects shape (\([^)]*\))\. "
                      r"Received saved weight with shape (\([^)]*\))", text)
    if found:
        detail = (f": layer '{found.group(1)}' needs {found.group(2)} of shape "
                  f"{found.group(3)}, the file has {found.group(4)}")
    else:
        found = re.search(r"for object <\w+ name=([^,>]+).*?variable\.shape=(\([^)]*\)), "
                          r"Received: value\.shape=(\([^)]*\))", text, re.S)
        if found:
            detail = (f": layer '{found.group(1)}' needs a weight of shape {found.group(2)}, "
                      f"the file has {found.group(3)}")
        elif re.search(r"layer count mismatch|contains \d+ layers", text, re.I):
            detail = f" ({_first_line(text)})"
    if detail or re.search(r"shape|mismatch|could not be loaded", text, re.I):
        return ModelFileError(f"The weights in {weights.name} do not fit the architecture "
                              f"in {architecture.name}{detail or ''}.")
    return ModelFileError(f"Cannot read weights from {weights.name}: {_first_line(text)}")


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


def _trusted_custom_objects(path: Path, entries: list[_LayerEntry]) -> dict[str, Any]:
    """With trust: import the modules the file names for its custom classes."""
    found: dict[str, Any] = {}
    for entry in entries:
        module_name = _importable_module(entry)
        if module_name is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or the module's own code failing
            raise CustomCodeError(
                f"{path.name} uses the custom layer '{entry.name}' ({entry.class_name}) from "
                f"the Python module {module_name}, which cannot be imported here "
                f"({type(exc).__name__}: {_first_line(str(exc), 100)}).", [entry.name]) from exc
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


def _load(path: Path, kind: str, trust: bool, entries: list[_LayerEntry],
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
        raise _failure(path, kind, exc, trust, entries) from exc


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
        raise _weights_mismatch(weights, architecture, exc) from exc


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
        data = _read_json(path)
        if _is_spec_data(data):
            raise ModelFileError(
                f"{path.name} is a cnnviz model spec, not a saved Keras model; open it as a "
                f"spec (File → Open…, or `cnnviz summary {path.name}`).")
        if not _is_model_config(data):
            raise ModelFileError(
                f"{path.name} is JSON, but not a Keras model architecture (the kind "
                f"model.to_json() writes).")
        config: dict[str, Any] | None = data
    else:
        if kind == "h5" and path.name.lower().endswith(".weights.h5"):
            raise ModelFileError(
                f"{path.name} holds only weights, no model architecture; open the model's "
                f"architecture (.json) and choose this file as its weights.")
        config = _read_config(path, kind)
    entries = list(_layer_entries(config)) if config else []

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
    version = _keras_version(path, kind, config)
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
