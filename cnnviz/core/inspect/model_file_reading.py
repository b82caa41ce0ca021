"""Reading a saved model's architecture cheaply, before Keras loads it: the model config inside
a .keras archive, an .h5 file or an architecture JSON, the layers it names (nested ones
included), whether Keras itself provides them, and the Keras version that wrote the file.
Used by model_files.open_model.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from cnnviz.core.errors import ModelFileError
from cnnviz.core.model.model_file_limits import check_model_file_sizes
from cnnviz.core.model.spec import FORMAT_NAME

_JSON_READ_LIMIT = 64 * 1024 * 1024  # an architecture JSON is kilobytes; beyond this it is data
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


@dataclass
class LayerEntry:
    """One layer named in a saved model's config (nested layers included)."""

    name: str
    class_name: str
    module: str | None
    registered_name: str | None


def is_model_config(data: Any) -> bool:
    """Whether parsed JSON is a Keras model config (class_name and a list of layers)."""
    return (isinstance(data, dict) and isinstance(data.get("class_name"), str)
            and isinstance(data.get("config"), dict)
            and isinstance(data["config"].get("layers"), list))


def layer_entries(config: Any) -> Iterator[LayerEntry]:
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
        raw_config = child.get("config")
        child_config = raw_config if isinstance(raw_config, dict) else {}
        yield LayerEntry(
            name=str(child.get("name") or child_config.get("name") or child["class_name"]),
            class_name=child["class_name"],
            module=child.get("module") if isinstance(child.get("module"), str) else None,
            registered_name=(child.get("registered_name")
                             if isinstance(child.get("registered_name"), str) else None),
        )
        yield from layer_entries(child)


def is_builtin_layer(entry: LayerEntry) -> bool:
    """Whether Keras itself provides this layer class."""
    if entry.module is not None:
        return entry.module == "keras" or entry.module.startswith("keras.")
    if entry.registered_name and entry.registered_name != entry.class_name:
        return False  # "package>Name": registered custom code
    import keras

    return entry.class_name in _MODEL_CLASSES or hasattr(keras.layers, entry.class_name)


# Far beyond any real layer (VGG16's widest has 4,096 units), and a declared input of more than
# 2**31 numbers per example: sizes only a damaged or hostile file declares. Building such a
# layer makes TensorFlow try to allocate terabytes, retry for seconds and fail in its own words.
MAX_DECLARED_UNITS = 1_000_000
MAX_DECLARED_INPUT_VALUES = 2**31


def _declared_sizes(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(key, value) for every units/filters/batch shape declared anywhere in a config."""
    if depth > 64:  # read_json already refuses deeper files; this keeps the walk bounded
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("units", "filters", "batch_shape", "batch_input_shape"):
                yield key, value
            yield from _declared_sizes(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _declared_sizes(item, depth + 1)


def check_declared_sizes(config: dict[str, Any], file_name: str) -> None:
    """ModelFileError when the config declares a layer or an input no computer could hold."""
    for key, value in _declared_sizes(config):
        if key in ("units", "filters"):
            if isinstance(value, int) and not isinstance(value, bool) \
                    and value > MAX_DECLARED_UNITS:
                raise ModelFileError(
                    f"{file_name} declares a layer with {value:,} {key}, far more than any "
                    "real model has; the file is damaged or was not written by Keras.")
        elif isinstance(value, list):
            values = 1
            for dim in value:
                if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0:
                    values *= dim
            if values > MAX_DECLARED_INPUT_VALUES:
                raise ModelFileError(
                    f"{file_name} declares an input of {values:,} numbers per example, more "
                    "than any computer could hold; the file is damaged or was not written by "
                    "Keras.")


def read_model_config(path: Path, kind: str) -> dict[str, Any] | None:
    """The model config stored in the file, or None if it cannot be read cheaply.

    Raises ModelFileError, before reading anything, for a .keras archive or an .h5 file that
    declares sizes no model has (a zip bomb): see model_file_limits.
    """
    if kind in ("keras", "h5"):
        check_model_file_sizes(path)
    try:
        if kind == "keras":
            with zipfile.ZipFile(path) as archive:
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


def keras_version_of(path: Path, kind: str, config: dict[str, Any] | None) -> str | None:
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


def read_json(path: Path) -> Any:
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
    except RecursionError:
        raise ModelFileError(f"{path.name} is nested too deeply to be a model architecture "
                             f"(it is damaged or made to crash the reader).") from None


def is_spec_data(data: Any) -> bool:
    """Whether parsed JSON is a cnnviz spec rather than a Keras architecture."""
    return isinstance(data, dict) and (
        data.get("format") == FORMAT_NAME or ("input_shape" in data and "layers" in data
                                              and "class_name" not in data))
