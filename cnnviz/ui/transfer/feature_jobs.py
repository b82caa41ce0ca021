"""The Feature extraction view's work, without Qt: what a base choice opens to, which data it
reads, and the maps of the chosen layers. Everything here runs on a worker thread and reports
through `report(stage, done, total)` (cnnviz.ui.common.workers).

A base is one of: the model opened in Inspect, the builder's last trained model, a sample
model file, any model file, or a Keras application (ImageNet weights from Keras's cache, or
random). Model files are fed as cnnviz trains them (pixels 0..1, the data fitted to the model
when the user allows it); applications prepare their inputs themselves (their own
`preprocess_input`, resizing included). Features are cached on disk (core FeatureCache) for
every base with a lasting identity: a model file's bytes, an application's ImageNet weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz.core.errors import CnnvizError

Report = Callable[[str, int, int], None]

OPENED, TRAINED, SAMPLE, FILE, APPLICATION = "opened", "trained", "sample", "file", "application"
DEFAULT_LIMIT = 2000
DEFAULT_LAYER_COUNT = 3
PROGRESS_INTERVAL = 0.05   # seconds: at most 20 progress signals a second
THUMBNAIL_SIDE = 64     # hover and neighbour images are kept at most this many pixels a side
# Layers that only pass their input on, or reshape it: a poor default for "what it learned".
_PASS_THROUGH = {"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
                 "GaussianNoise", "GaussianDropout", "BatchNormalization", "Activation", "ReLU",
                 "ZeroPadding2D", "ZeroPadding1D", "Rescaling", "Normalization", "Reshape",
                 "Permute"}


class FeatureViewError(CnnvizError):
    """The chosen base and data cannot give features: a model that is not one, data that
    does not fit, nothing chosen."""


@dataclass(frozen=True)
class BaseChoice:
    """What the user picked: `kind` (OPENED, TRAINED, SAMPLE, FILE, APPLICATION), a file
    path or an application name in `name`, and for an application its weights."""

    kind: str
    name: str = ""
    weights: str = "imagenet"


@dataclass
class OpenedBase:
    """A base ready for extraction: the Keras model, its name as shown, how its input is
    prepared (None: 0..1 as cnnviz trains), its cache identity (None: not cached)."""

    model: Any
    name: str
    choice: BaseChoice
    preprocess: Any = None
    identity: str | None = None
    application: bool = False
    note: str = ""
    extractor: Any = None   # core FeatureExtractor, kept while the base is chosen

    def layer_names(self) -> list[str]:
        from cnnviz.core.transfer.features import layer_names

        return layer_names(self.model)


@dataclass
class MapResult:
    """The maps of one computation, what they came from and the images to show."""

    maps: list[Any]                  # core LayerMap, one per layer, in the order asked
    dataset: Any                     # the data as fed (fitted to the model when it had to be)
    split: str
    thumbnails: np.ndarray | None    # uint8 (n, h, w, c) in the features' row order; None: signals
    notes: list[str] = field(default_factory=list)

    @property
    def class_names(self) -> list[str]:
        return list(self.dataset.class_names)


def weights_status(application: str) -> tuple[bool, str]:
    """(the ImageNet weights are on this computer, a sentence saying so or where to put them)."""
    from cnnviz.core.transfer.bases import keras_models_dir, weights_file_for

    file_name, url, _ = weights_file_for(application)
    folder = keras_models_dir()
    if (folder / file_name).is_file():
        return True, "ImageNet weights (cached)"
    return False, (f"ImageNet weights not on this computer: {file_name}, put it in {folder} "
                   f"(from {url}), or use random weights.")


def open_choice(choice: BaseChoice, workspace: Any, report: Report) -> OpenedBase:
    """Open the base the user chose (worker thread). Raises CnnvizError subclasses whose
    message says what is wrong: nothing opened, not a model, weights missing offline."""
    from cnnviz.core.transfer.features import (
        FeatureExtractor,
        application_identity,
        model_file_identity,
    )

    if choice.kind == OPENED:
        opened = workspace.opened.opened
        if opened is None:
            raise FeatureViewError("No model is open in the Inspect view. Open one there "
                                   "(File → Open…), or choose another base.")
        path = Path(opened.path)
        identity = model_file_identity(path) if opened.kind != "json" or \
            opened.weights_path is not None else None
        base = OpenedBase(opened.model, path.name, choice, identity=identity,
                          note=f"the model opened in Inspect ({path.name})")
    elif choice.kind == TRAINED:
        model = workspace.run.model
        if model is None:
            raise FeatureViewError("No model has been trained yet. Train one in the Train "
                                   "view, or choose another base.")
        base = OpenedBase(model, "the trained model", choice,
                          note="the model last trained in the Train view (not cached: it "
                               "lives in memory only)")
    elif choice.kind in (SAMPLE, FILE):
        if not choice.name:
            raise FeatureViewError("Choose a model file first.")
        base = _open_model_file(Path(choice.name), choice, report)
    elif choice.kind == APPLICATION:
        from cnnviz.core.transfer.bases import open_base

        report(f"Building {choice.name}…", 0, 0)
        opened_base = open_base(choice.name, weights=choice.weights,
                                on_progress=lambda stage, done, total: report(stage, done, total))
        imagenet = choice.weights == "imagenet"
        # Random weights differ on every build: nothing worth caching.
        base = OpenedBase(opened_base.model, opened_base.name, choice, opened_base.preprocess,
                          application_identity(opened_base.name, choice.weights)
                          if imagenet else None, application=True,
                          note=f"{opened_base.name}, {opened_base.weights_note}")
    else:
        raise FeatureViewError(f"Unknown kind of base: {choice.kind}.")
    if not base.layer_names():
        raise FeatureViewError(f"{base.name} has no layers to take features from.")
    base.extractor = FeatureExtractor(base.model)
    return base


def _open_model_file(path: Path, choice: BaseChoice, report: Report) -> OpenedBase:
    from cnnviz.core.inspect.model_files import open_model
    from cnnviz.core.transfer.features import model_file_identity

    if not path.is_file():
        raise FeatureViewError(f"There is no file {path}.")
    report(f"Opening {path.name}…", 0, 0)
    opened = open_model(path)   # raises ModelFileError with a readable message
    trained = opened.kind != "json" or opened.weights_path is not None
    note = f"{path.name}" + ("" if trained else ": an architecture without weights, so its "
                                                "features show what an untrained network sees")
    return OpenedBase(opened.model, path.name, choice,
                      identity=model_file_identity(path) if trained else None, note=note)


def default_layers(base: OpenedBase, count: int = DEFAULT_LAYER_COUNT) -> list[str]:
    """`count` layers spread from the first to the last (pass-through layers skipped when
    enough others remain), so the maps show the classes separating deeper."""
    layers = [layer for layer in base.model.layers if type(layer).__name__ != "InputLayer"]
    kept = [layer for layer in layers if type(layer).__name__ not in _PASS_THROUGH]
    if len(kept) >= count:
        layers = kept
    if len(layers) <= count:
        return [layer.name for layer in layers]
    positions = np.unique(np.round(np.linspace(0, len(layers) - 1, count)).astype(int))
    return [layers[int(i)].name for i in positions]


def load_sample(source: str, base: OpenedBase | None, report: Report) -> Any:
    """A bundled sample (or any source name/path) loaded at the size a model file takes."""
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    options = LoadOptions()
    if base is not None and not base.application:
        from cnnviz.core.data.data_fit import load_options_for
        from cnnviz.core.training.checks import keras_io_shapes

        try:
            options = load_options_for(keras_io_shapes(base.model)[0])
        except ValueError:
            pass
    return load_dataset(source, options, on_progress=report)


def fitted_dataset(base: OpenedBase, dataset: Any, adapt: bool) -> tuple[Any, str]:
    """The data as the base takes it, and how it was prepared ("" when as it is).
    Raises FeatureViewError naming what does not fit (and whether fitting can help)."""
    if base.application:
        if dataset.is_series:
            raise FeatureViewError(f"{base.name} takes images; this data is time series.")
        return dataset, ""
    from cnnviz.core.data.data_fit import adapt_dataset, can_adapt, fit_problem, takes_sequences
    from cnnviz.core.training.checks import keras_io_shapes

    try:
        input_shape, _ = keras_io_shapes(base.model)
    except ValueError as exc:
        raise FeatureViewError(str(exc)) from None
    sequence_input = takes_sequences(type(layer).__name__ for layer in base.model.layers)
    problem = fit_problem(dataset, input_shape, sequence_input)
    if not problem:
        return dataset, ""
    adaptable = can_adapt(dataset, input_shape, sequence_input)
    if not adaptable:
        raise FeatureViewError(f"The data does not fit {base.name}: {problem}")
    if not adapt:
        raise FeatureViewError(f"The data does not fit {base.name}: {problem} Tick “Fit the "
                               f"images to the model” to resize and convert them.")
    shape = "×".join(str(d) for d in input_shape[1:] if d is not None)
    return adapt_dataset(dataset, input_shape), f"fitted to {shape}"


def compute_maps(base: OpenedBase, dataset: Any, source: str, split: str | None,
                 layers: list[str], limit: int | None, adapt: bool, use_cache: bool,
                 report: Report) -> MapResult:
    """Every chosen layer's features for the data, PCA maps and class separation (worker
    thread). report("Computing features", done, total) after every batch."""
    from cnnviz.core.data.split_choice import measured_split
    from cnnviz.core.transfer.feature_maps import layer_maps
    from cnnviz.core.transfer.features import FeatureCache

    if not layers:
        raise FeatureViewError("Tick at least one layer.")
    data, preparation = fitted_dataset(base, dataset, adapt)
    split_name = measured_split(data, split)
    cache = FeatureCache(base.identity, source, preparation=preparation) \
        if use_cache and base.identity is not None else None
    report("Computing features", 0, 0)
    maps = layer_maps(base.model, layers, data, split_name, base_name=base.name,
                      preprocess=base.preprocess, limit=limit, cache=cache,
                      on_progress=throttled(report, "Computing features"),
                      extractor=base.extractor)
    report("Reading the images", 0, 0)
    thumbnails = thumbnails_of(data.split(split_name), maps[0].features.indices)
    notes = [f"images {preparation}"] if preparation else []
    return MapResult(maps, data, split_name, thumbnails, notes)


def throttled(report: Report, stage: str, interval: float = PROGRESS_INTERVAL
              ) -> Callable[[int, int], None]:
    """on_progress(done, total) passing at most one report per `interval` seconds on to
    report(stage, done, total), and always the last. A cancelled task stops at the next
    report passed on (BackgroundTask raises there): one batch after at most `interval`."""
    last = [-interval]

    def on_progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= interval:
            last[0] = now
            report(stage, done, total)

    return on_progress


def thumbnails_of(split: Any, indices: np.ndarray) -> np.ndarray | None:
    """The images at `indices` as uint8, shrunk to at most THUMBNAIL_SIDE a side (one in
    every k pixels); None for signals."""
    if split.is_series:
        return None
    images = split.images(np.asarray(indices, dtype=np.int64))
    step = max(1, int(np.ceil(max(images.shape[1:3]) / THUMBNAIL_SIDE)))
    images = images[:, ::step, ::step, :]
    return np.ascontiguousarray(np.clip(images, 0, 255).astype(np.uint8))


def tsne_maps(maps: list[Any], report: Report) -> list[Any]:
    """t-SNE maps of the same features, one per layer (worker thread)."""
    from cnnviz.core.transfer.feature_maps import tsne_map

    out = []
    for number, layer_map in enumerate(maps):
        report(f"t-SNE of {layer_map.features.layer}", number, len(maps))
        out.append(tsne_map(layer_map.features.values))
    report("t-SNE", len(maps), len(maps))
    return out


def download_weights(application: str, report: Report, fetch: Any = None) -> str:
    """Download an application's ImageNet weights into Keras's cache (worker thread); the
    progress is in bytes. fetch: how to download (core bases.Fetch; None: Keras's own).
    Returns the status sentence afterwards. Raises WeightsFileError offline or for a
    damaged file, naming the file and where it belongs."""
    from cnnviz.core.transfer.bases import open_base

    open_base(application, weights="imagenet", fetch=fetch,
              on_progress=lambda stage, done, total: report(stage, done, total))
    return weights_status(application)[1]
