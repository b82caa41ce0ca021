"""A layer's features for a dataset: computed batch-wise, cached on disk, exported.

    extract_features(model, ["conv2d_1", "dense"], dataset, "test", cache=FeatureCache(
        base=model_file_identity(path), source="mnist-sample"))  → one Features per layer

Each image's activation at a layer becomes one row of numbers: the layer's output flattened,
or, when that is longer than MAX_FLATTENED values (a big convolution map), averaged over the
positions to one number per channel ("global average"); `Features.reduction` says which.
All layers asked for are computed in one pass over the data, one compiled predict call
per batch; a `FeatureExtractor` held per base keeps its cut models between calls. Work is reported through plain
callables, `on_progress(done, total)` after each batch and `should_stop()` before it, so a
background worker wraps them without this module knowing about threads.

Results are cached in the user data folder (`feature_cache/`), one `.npz` per base, layer,
data source, split, limit and reduction; the data is fingerprinted by its labels and a few
of its images, so a changed file is not mistaken for the old one. A cache file that cannot
be read or does not match its key is recomputed and overwritten, never trusted. The cache
is kept under FeatureCache.size_limit (2 GiB by default): after a write, the files used
longest ago are removed (core.transfer.caches).

`preprocess`, when given, takes a batch of images as a float32 tensor of 0..255 values
(batch, H, W, C) and returns the model's input (a pre-built network's own
`preprocess_input`, resizing included); it runs eagerly, one batch at a time. Without it the
images are scaled to 0..1, as cnnviz trains its own models. Signals (1-D data) go to the
model as stored; `preprocess` is for images only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnviz.core.atomic_save import save_file_atomically, save_text_atomically
from cnnviz.core.data.data_splits import DataSplit
from cnnviz.core.data.dataset_types import SPLIT_NAMES, Dataset
from cnnviz.core.data.split_choice import measured_split
from cnnviz.core.errors import CnnvizError
from cnnviz.core.transfer.caches import (
    DEFAULT_FEATURE_CACHE_LIMIT, feature_cache_folder, mark_used, trim_to_limit,
)

if TYPE_CHECKING:
    import keras

__all__ = [
    "MAX_FLATTENED", "REDUCTIONS", "FeatureError", "FeatureExtractionStopped", "Features",
    "FeatureCache", "FeatureExtractor", "Preprocess", "application_identity", "model_file_identity",
    "layer_names", "find_layer", "sample_indices",
    "extract_features", "save_features_npz", "save_coordinates_csv", "load_features_npz",
]

# A layer output longer than this per image is averaged over its positions ("auto").
MAX_FLATTENED = 4096
# "auto": flattened up to MAX_FLATTENED values, else averaged; or one of them always.
REDUCTIONS = ("auto", "flattened", "global average")
CACHE_FORMAT = 1
FINGERPRINT_IMAGES = 8

Preprocess = Callable[[Any], Any]  # float32 0..255 images (b, H, W, C) → the model's input
ProgressCallback = Callable[[int, int], None]
StopCallback = Callable[[], bool]


class FeatureError(CnnvizError):
    """Features cannot be computed: no such layer, data the model does not take, ..."""


class FeatureExtractionStopped(FeatureError):
    """should_stop() asked to stop before every batch was computed."""


@dataclass
class Features:
    """One layer's features for a set of images.

    values: float32 (n, d), one row per image; labels: int64 (n,) class numbers;
    indices: int64 (n,) each row's example number in the split it came from.
    """

    values: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    layer: str
    base: str  # the base's name as shown ("mnist_cnn_small.keras", "mobilenet_v2")
    reduction: str  # "flattened" or "global average"
    layer_shape: tuple[int, ...]  # one image's output at the layer, before the reduction
    class_names: list[str] = field(default_factory=list)
    from_cache: bool = False

    @property
    def count(self) -> int:
        return int(self.values.shape[0])

    def row_of(self, example_index: int) -> int:
        """The row holding this example number. Raises FeatureError if it is not here."""
        rows = np.flatnonzero(self.indices == int(example_index))
        if rows.size == 0:
            raise FeatureError(f"Image {example_index} is not among the {self.count:,} "
                               f"images whose features were computed.")
        return int(rows[0])

    def reduction_text(self) -> str:
        """How each image's numbers were made, in words."""
        shape = "×".join(str(d) for d in self.layer_shape)
        if self.reduction == "global average":
            return (f"{self.values.shape[1]:,} numbers per image: the {shape} output of "
                    f"{self.layer} averaged over its positions (one per channel)")
        return f"{self.values.shape[1]:,} numbers per image: the {shape} output of " \
               f"{self.layer}, flattened"


@dataclass(frozen=True)
class FeatureCache:
    """Where and under what names features are cached.

    base: the base's identity (model_file_identity or application_identity); source: the data
    source as the user named it ("mnist-sample", a path); folder: None →
    caches.feature_cache_folder().
    size_limit: after a file is written, the files used longest ago are removed until the
    folder's cache files total at most this many bytes (caches.trim_to_limit).
    """

    base: str
    source: str
    folder: Path | None = None
    # How inputs are prepared when it is not the base's own way ("resized to 224×224"):
    # part of the key, so features of differently prepared inputs never mix.
    preparation: str = ""
    size_limit: int = DEFAULT_FEATURE_CACHE_LIMIT

    def path_for(self, key_text: str) -> Path:
        folder = self.folder if self.folder is not None else feature_cache_folder()
        digest = hashlib.sha256(key_text.encode("utf-8")).hexdigest()[:32]
        return folder / f"features-{digest}.npz"


# ---------------------------------------------------------------- identities


def model_file_identity(path: str | os.PathLike[str]) -> str:
    """A model file's cache identity: the SHA-256 of its bytes (a file saved again after more
    training is another base). Raises OSError if it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"model file sha256:{digest.hexdigest()}"


def application_identity(name: str, weights: str) -> str:
    """A Keras application's cache identity: its name and weights ("imagenet", "random").
    Random weights differ on every build, so the caller should not cache them."""
    return f"keras application {name} weights {weights}"


def _data_identity(source: str, split_name: str, data: DataSplit, indices: np.ndarray) -> str:
    """The data part of a cache key: source, split, shape, chosen images and a fingerprint
    of their labels and a few evenly spaced images."""
    path = Path(source)
    where = str(path.resolve()) if path.exists() else source
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.labels()[indices]).tobytes())
    digest.update(np.ascontiguousarray(indices).tobytes())
    if indices.size:
        picks = np.unique(np.linspace(0, indices.size - 1, FINGERPRINT_IMAGES).astype(np.int64))
        digest.update(np.ascontiguousarray(data.images(indices[picks])).tobytes())
    shape = "x".join(str(d) for d in data.image_shape)
    return f"{where} | {split_name} | {shape} | {indices.size} | {digest.hexdigest()}"


# ---------------------------------------------------------------- layers


def layer_names(model: "keras.Model") -> list[str]:
    """The names of the model's layers that give features (not its input layer)."""
    return [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]


def find_layer(model: "keras.Model", name: str) -> Any:
    """The layer called `name`. Raises FeatureError naming the closest names if absent."""
    import difflib

    names = layer_names(model)
    for layer in model.layers:
        if layer.name == name and type(layer).__name__ != "InputLayer":
            return layer
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    listed = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    raise FeatureError(f"The model has no layer called '{name}'.{hint} Its layers are: "
                       f"{listed}.")


def _output_shape(layer: Any) -> tuple[int, ...]:
    shape = tuple(layer.output.shape[1:])
    if any(d is None for d in shape):
        raise FeatureError(f"Layer {layer.name} has an output of no fixed size "
                           f"({shape}); pick a layer after the input size is known.")
    return tuple(int(d) for d in shape)


def _reduction_for(shape: tuple[int, ...], requested: str) -> str:
    if requested not in REDUCTIONS:
        raise FeatureError(f"There is no reduction called '{requested}': use "
                           f"{', '.join(REDUCTIONS)}.")
    if len(shape) < 2:  # a vector already: nothing to average over
        return "flattened"
    if requested == "auto":
        return "flattened" if int(np.prod(shape)) <= MAX_FLATTENED else "global average"
    return requested


# ---------------------------------------------------------------- the data


def sample_indices(count: int, limit: int | None, seed: int = 0) -> np.ndarray:
    """Which example numbers to use: all of them, or `limit` drawn at random (seeded, so the
    same every time) and sorted. A folder is stored class by class, so the first `limit`
    images would often be one class only."""
    if limit is None or limit >= count:
        return np.arange(count, dtype=np.int64)
    if limit < 1:
        raise FeatureError("The limit must be at least 1 image.")
    chosen = np.random.default_rng(seed).choice(count, size=int(limit), replace=False)
    return np.sort(chosen).astype(np.int64)


def _checked_split(dataset: Dataset, split: str | None) -> tuple[str, DataSplit]:
    name = measured_split(dataset, split)  # raises DatasetError naming the splits it has
    data = dataset.split(name)
    if data is None or data.count == 0:
        raise FeatureError(f"{dataset.name} has no {name} images.")
    return name, data


def _dims(shape: Sequence[Any]) -> str:
    return "×".join("any" if d is None else str(d) for d in shape)


def _input_problem(model: "keras.Model", batch: Any) -> str | None:
    """Why a prepared batch does not fit the model's input, or None."""
    expected = tuple(model.inputs[0].shape[1:])
    got = tuple(int(d) for d in batch.shape[1:])
    if len(expected) == len(got) and all(e is None or int(e) == g
                                         for e, g in zip(expected, got)):
        return None
    return (f"The model takes inputs of {_dims(expected)}, but the prepared images are "
            f"{_dims(got)}. Resize them to the model's input (the command line's --adapt, "
            f"or a preprocess that resizes) or pick data of that size.")


# ---------------------------------------------------------------- extraction


class FeatureExtractor:
    """A base with its models cut at layers, kept between calls. Hold one per base (a view
    does) and asking again for the same layers, on other data or another split, builds no
    new Keras model and traces nothing again; `extract_features` alone makes a fresh one."""

    def __init__(self, model: "keras.Model") -> None:
        self.model = model
        self._cut_models: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}

    def cut_model(self, layers: list[Any], reductions: list[str]) -> Any:
        """A model from the base's input to these layers' outputs, each reduced (averaged
        over positions or not) and flattened to one row per image."""
        import keras

        key = (tuple(layer.name for layer in layers), tuple(reductions))
        if key not in self._cut_models:
            outputs = []
            for layer, kind in zip(layers, reductions):
                value = layer.output
                if kind == "global average":
                    value = keras.ops.mean(value, axis=tuple(range(1, len(value.shape) - 1)))
                size = int(np.prod([int(d) for d in value.shape[1:]]))
                outputs.append(keras.ops.reshape(value, (-1, size)))
            self._cut_models[key] = keras.Model(self.model.inputs, outputs)
        return self._cut_models[key]

    def extract(self, layers: str | Sequence[str], dataset: Dataset, split: str | None = None,
                **options: Any) -> list[Features]:
        """extract_features(self.model, ...) with this extractor's cut models."""
        return extract_features(self.model, layers, dataset, split, extractor=self, **options)



def extract_features(model: "keras.Model", layers: str | Sequence[str], dataset: Dataset,
                     split: str | None = None, *, base_name: str = "",
                     preprocess: Preprocess | None = None, reduction: str = "auto",
                     batch_size: int = 128, limit: int | None = None,
                     cache: FeatureCache | None = None,
                     on_progress: ProgressCallback | None = None,
                     should_stop: StopCallback | None = None,
                     extractor: FeatureExtractor | None = None) -> list[Features]:
    """The features of each layer in `layers` for one split of `dataset`, in that order.

    split: "all", "test", "validation", "train" or None (the split evaluate measures);
    limit: at most this many images (a seeded random choice, see sample_indices);
    reduction: "auto", "flattened" or "global average" (see MAX_FLATTENED).
    Layers found in `cache` are read from it; the others are computed in one pass over the
    data, batch by batch, and written to it. on_progress(done, total) counts images after
    each batch; should_stop() is asked before each. Both run on the calling thread.
    extractor: reuse its cut models (see FeatureExtractor); None makes a fresh one.

    Raises FeatureError for a missing layer or split, data the model does not take, or a
    stop; DatasetError for a split the dataset lacks.
    """
    wanted = [layers] if isinstance(layers, str) else list(layers)
    if not wanted:
        raise FeatureError("Pick at least one layer.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise FeatureError(f"The batch size must be a whole number of at least 1; "
                           f"got {batch_size!r}.")
    if split is not None and split not in SPLIT_NAMES:
        raise FeatureError(f"There is no split called '{split}': use "
                           f"{', '.join(SPLIT_NAMES)}.")
    found = [find_layer(model, name) for name in wanted]
    shapes = [_output_shape(layer) for layer in found]
    reductions = [_reduction_for(shape, reduction) for shape in shapes]
    split_name, data = _checked_split(dataset, split)
    indices = sample_indices(data.count, limit)
    labels = data.labels()[indices]
    name = base_name or getattr(model, "name", "model")

    keys: list[str] = []
    results: list[Features | None] = [None] * len(wanted)
    if cache is not None:
        data_id = _data_identity(cache.source, split_name, data, indices)
        keys = [f"cnnviz features {CACHE_FORMAT} | {cache.base} | {cache.preparation} | "
                f"{layer} | {kind} | {data_id}" for layer, kind in zip(wanted, reductions)]
        results = [_read_cache(cache.path_for(key), key, indices, labels) for key in keys]
    missing = [i for i, result in enumerate(results) if result is None]
    if missing:
        cut = (extractor or FeatureExtractor(model)).cut_model(
            [found[i] for i in missing], [reductions[i] for i in missing])
        computed = _compute(model, cut, data, indices, preprocess, batch_size, on_progress,
                            should_stop)
        for position, values in zip(missing, computed):
            features = Features(values=values, labels=labels, indices=indices,
                                layer=wanted[position], base=name,
                                reduction=reductions[position], layer_shape=shapes[position])
            if cache is not None:
                _write_cache(cache.path_for(keys[position]), keys[position], features,
                             cache.size_limit)
            results[position] = features
    elif on_progress is not None:
        on_progress(indices.size, indices.size)
    out: list[Features] = []
    for position, result in enumerate(results):
        assert result is not None
        result.base, result.layer_shape = name, shapes[position]
        result.class_names = list(dataset.class_names)
        out.append(result)
    return out


def _compute(model: "keras.Model", cut: Any, data: DataSplit, indices: np.ndarray,
             preprocess: Preprocess | None, batch_size: int,
             on_progress: ProgressCallback | None,
             should_stop: StopCallback | None) -> list[np.ndarray]:
    """Run the data through the cut model `cut` (one pass, every layer at once). Each
    batch is one call of the same compiled predict function `model.predict` uses."""
    import tensorflow as tf

    selected = data if indices.size == data.count else data.subset(indices)
    pipeline = selected.tf_dataset(batch_size, shuffle=False)
    input_rank = len(model.inputs[0].shape)
    total = int(indices.size)
    done = 0
    buffers: list[np.ndarray] = []
    for x, _ in pipeline:
        if should_stop is not None and should_stop():
            raise FeatureExtractionStopped(
                f"Feature extraction stopped after {done:,} of {total:,} images.")
        if preprocess is not None and not data.is_series:
            # The pipeline gives 0..1; a base's own preprocessing expects 0..255. It runs
            # eagerly, so a preprocess written with numpy works as well as one in TensorFlow.
            x = tf.convert_to_tensor(preprocess(tf.round(x * 255.0)), dtype=tf.float32)
        if len(x.shape) != input_rank and input_rank == 2 and len(x.shape) == 4:
            x = tf.reshape(x, (tf.shape(x)[0], -1))  # a dense model on flat vectors
        if done == 0:
            problem = _input_problem(model, x)
            if problem:
                raise FeatureError(problem)
        size = int(x.shape[0])
        if 0 < done and size < batch_size:
            # The short last batch padded to the full size: the predict function is not
            # traced again for one batch (inference treats each image on its own).
            padding = [(0, batch_size - size)] + [(0, 0)] * (len(x.shape) - 1)
            x = tf.pad(x, padding)
        got = cut.predict_on_batch(x)
        rows = [row[:size] for row in (list(got) if isinstance(got, (list, tuple)) else [got])]
        if not buffers:
            buffers = [np.empty((total, int(r.shape[1])), dtype=np.float32) for r in rows]
        for buffer, row in zip(buffers, rows):
            buffer[done:done + size] = row
        done += size
        if on_progress is not None:
            on_progress(done, total)
    if done != total:
        raise FeatureError(f"The data gave {done:,} images instead of {total:,}.")
    return buffers


# ---------------------------------------------------------------- cache


def _read_cache(path: Path, key: str, indices: np.ndarray, labels: np.ndarray
                ) -> Features | None:
    """The cached features at `path` if the file is whole and matches `key`, else None (a
    damaged or foreign file is removed so it is written afresh)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            ok = (str(stored["cache_key"]) == key
                  and np.array_equal(stored["indices"], indices)
                  and np.array_equal(stored["labels"], labels))
            values = np.asarray(stored["features"])
            ok = ok and values.dtype == np.float32 and values.ndim == 2 \
                and values.shape[0] == indices.size and bool(np.isfinite(values).all())
            if not ok:
                raise ValueError("the cache file does not match")
            features = Features(values=values, labels=labels, indices=indices,
                                layer=str(stored["layer"]), base=str(stored["base"]),
                                reduction=str(stored["reduction"]), layer_shape=(),
                                from_cache=True)
    except Exception:  # any damage at all: recompute, never trust
        path.unlink(missing_ok=True)
        return None
    mark_used(path)  # eviction goes by last use
    return features


def _write_cache(path: Path, key: str, features: Features, size_limit: int) -> None:
    """Write one cache file atomically, then trim the cache to `size_limit` bytes (the
    files used longest ago go first, never this one); a cache that cannot be written is
    only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_features_npz(path, features, extra={"cache_key": np.array(key)})
    except (OSError, CnnvizError):
        return
    trim_to_limit(path.parent, size_limit, keep=path)


# ---------------------------------------------------------------- export


def save_features_npz(path: str | os.PathLike[str], features: Features,
                      extra: dict[str, np.ndarray] | None = None) -> None:
    """Write features, labels, indices, layer, base, reduction and class_names to an .npz,
    atomically. Raises OSError when the file cannot be written."""
    arrays: dict[str, np.ndarray] = {
        "features": np.asarray(features.values, dtype=np.float32),
        "labels": np.asarray(features.labels, dtype=np.int64),
        "indices": np.asarray(features.indices, dtype=np.int64),
        "layer": np.array(features.layer), "base": np.array(features.base),
        "reduction": np.array(features.reduction),
        "class_names": np.array(features.class_names, dtype=str),
    }
    arrays.update(extra or {})

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]

    save_file_atomically(path, write)


def load_features_npz(path: str | os.PathLike[str]) -> Features:
    """Read an .npz written by save_features_npz. Raises FeatureError if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return Features(values=np.asarray(stored["features"]),
                            labels=np.asarray(stored["labels"]),
                            indices=np.asarray(stored["indices"]),
                            layer=str(stored["layer"]), base=str(stored["base"]),
                            reduction=str(stored["reduction"]), layer_shape=(),
                            class_names=[str(n) for n in stored["class_names"]])
    except (OSError, KeyError, ValueError) as exc:
        raise FeatureError(f"{path} is not a features file written by cnnviz ({exc}).") \
            from None


def save_coordinates_csv(path: str | os.PathLike[str], features: Features,
                         coordinates: np.ndarray) -> None:
    """Write one row per image, "index,label,x,y" (example number, class number, map
    position), atomically. Raises FeatureError when the sizes differ; SpecError when the
    file cannot be written."""
    coordinates = np.asarray(coordinates)
    if coordinates.shape != (features.count, 2):
        raise FeatureError(f"{features.count:,} images need {features.count:,} map "
                           f"positions, got an array of shape {coordinates.shape}.")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["index", "label", "x", "y"])
    for index, label, (x, y) in zip(features.indices, features.labels, coordinates):
        writer.writerow([int(index), int(label), f"{float(x):.6g}", f"{float(y):.6g}"])
    save_text_atomically(path, text.getvalue())
