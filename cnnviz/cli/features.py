"""`cnnviz features`: a layer's features for a dataset, as files and a map.

    cnnviz features MODEL --data SOURCE --layer NAME --out DIR [--split S]
                    [--method pca|tsne] [--limit N]

writes DIR/features.npz (features, labels, indices, layer, base, reduction, class_names),
DIR/coordinates.csv (index, label, x, y) and DIR/map.png (the images as points coloured by
class, with a legend). Several layers (`--layer a --layer b` or `--layer a,b`) are computed
in one pass and drawn side by side; their files are then named features-LAYER.npz and
coordinates-LAYER.csv. stdout gets one line per layer: how its numbers were made and how
well its classes separate (nearest-neighbour accuracy), which grows deeper in a trained
network. Features are cached in the user data folder (core.transfer.features); --no-cache
computes them afresh. Draws with matplotlib's Agg backend: no Qt.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, add_series_options, existing_file, load_model_argument,
    fitted_dataset, model_takes_sequences, start_tensorflow, with_series_options,
)
from cnnviz.core.errors import CnnvizError

DEFAULT_LIMIT = 2000  # enough for a readable map; t-SNE on more takes minutes


class FeaturesCliError(CnnvizError):
    """A problem with `cnnviz features`'s arguments or its model/data pairing, one line."""


def add_features_parser(commands: Any) -> None:
    """Register the `features` sub-command on an argparse sub-parsers object."""
    features = commands.add_parser(
        "features",
        prog="cnnviz features",
        usage="cnnviz features MODEL --data SOURCE --layer NAME [--layer NAME ...] --out DIR "
              "[--split all|test|validation|train] [--method pca|tsne] [--limit N] "
              "[--batch-size B] [--adapt] [--no-cache] [--trust]",
        help="a layer's features for a dataset: .npz, 2-D map coordinates (CSV) and a map PNG",
        description="Run a dataset through a model up to a layer and keep each image's "
                    "numbers there (flattened, or averaged over positions for big "
                    "convolution maps). Writes features.npz, coordinates.csv and map.png (PCA "
                    "or t-SNE, points coloured by class) to --out, and prints how well the "
                    "classes separate at each layer.")
    features.add_argument("model", metavar="MODEL",
                          help="a saved model (.keras, .h5), a model spec (.json), or a Keras "
                               "application: mobilenet_v2, mobilenet_v3_small, efficientnet_b0, "
                               "resnet50, vgg16")
    features.add_argument("--data", required=True, metavar="SOURCE", help=DATA_HELP)
    features.add_argument("--layer", required=True, action="append", metavar="NAME",
                          help="the layer whose output to take; repeat it (or separate names "
                               "with commas) for several layers side by side")
    features.add_argument("--out", required=True, metavar="DIR",
                          help="folder for features.npz, coordinates.csv and map.png")
    features.add_argument("--split", default=None,
                          choices=("all", "test", "validation", "train"),
                          help="which part of the data (default: the part `cnnviz evaluate` "
                               "measures)")
    features.add_argument("--method", default="pca", choices=("pca", "tsne"),
                          help="how to lay the features out in 2-D: pca (at once, default) or "
                               "tsne (slower; keeps neighbours together)")
    features.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                          help=f"at most N images, picked at random but the same every time "
                               f"(default {DEFAULT_LIMIT:,}); 0 for all")
    features.add_argument("--batch-size", type=int, default=128, metavar="B",
                          help="images per step (default 128)")
    features.add_argument("--adapt", action="store_true",
                          help="resize the images and convert grayscale/RGB to fit the model")
    features.add_argument("--no-cache", action="store_true",
                          help="compute the features afresh instead of reading them from the "
                               "cache in the user data folder")
    features.add_argument("--weights", default="imagenet", choices=("imagenet", "random"),
                          help="an application's weights: imagenet (from Keras's cache, "
                               "downloaded when missing) or random (offline, for exploring)")
    features.add_argument("--size", type=int, default=0, metavar="N",
                          help="an application's input size N×N (default: its own, 224)")
    features.add_argument("--trust", action="store_true",
                          help="allow a saved model that contains Python code (Lambda layers)")
    add_series_options(features)


# ---------------------------------------------------------------- the base


@dataclass
class FeatureBase:
    """What feature extraction needs of a base: the model, its name, how its input is
    prepared (None: 0..1 scaling, as cnnviz trains), and its cache identity (None: no cache,
    e.g. random weights)."""

    model: Any
    name: str
    preprocess: Any
    identity: str | None
    trained: bool
    application: bool = False     # a Keras application: its preprocess resizes and converts


def open_feature_base(args: argparse.Namespace) -> FeatureBase:
    """The base named on the command line: a Keras application by name (ImageNet weights from
    Keras's cache, or random), or a model file cnnviz can open (saved model, architecture
    JSON, or spec with random weights)."""
    from cnnviz.core.transfer.bases import WeightsFileError, is_application_name, open_base
    from cnnviz.core.transfer.features import application_identity, model_file_identity

    if is_application_name(args.model):
        size = (args.size, args.size) if args.size else None
        try:
            base = open_base(args.model, weights=args.weights, input_shape=size,
                             on_progress=_download_progress)
        except WeightsFileError as exc:
            raise FeaturesCliError(f"{exc} (Add --weights random.)") from None
        print(f"base: {base.name}, {base.input_shape[0]}×{base.input_shape[1]}×"
              f"{base.input_shape[2]} input, {base.weights_note}", file=sys.stderr)
        # Random weights differ on every build: nothing to cache.
        identity = application_identity(base.name, args.weights) \
            if args.weights == "imagenet" else None
        return FeatureBase(model=base.model, name=base.name, preprocess=base.preprocess,
                           identity=identity, trained=args.weights == "imagenet",
                           application=True)
    model, trained = load_model_argument(args.model, args.trust)
    path = existing_file(args.model)
    return FeatureBase(model=model, name=path.name, preprocess=None,
                       identity=model_file_identity(path) if trained else None,
                       trained=trained)


def _download_progress(stage: str, done: int, total: int) -> None:
    if total <= 0 or not sys.stderr.isatty():
        return
    print(f"\r\033[K{stage}: {done / 1e6:.1f} of {total / 1e6:.1f} MB", end="",
          file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


# ---------------------------------------------------------------- output


def _layer_list(values: list[str]) -> list[str]:
    names = [name.strip() for value in values for name in value.split(",")]
    names = [name for name in names if name]
    if not names:
        raise FeaturesCliError("--layer needs a layer name.")
    return list(dict.fromkeys(names))  # repeated names once


def _file_part(layer: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", layer) or "layer"


def _progress(done: int, total: int) -> None:
    text = f"features: {done:,}/{total:,} images"
    if sys.stderr.isatty():
        print(f"\r\033[K{text}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    elif done >= total:
        print(text, file=sys.stderr, flush=True)


def draw_maps(layer_maps: list[Any], class_names: list[str], title: str, path: Path) -> None:
    """One scatter plot per layer, side by side, points coloured by class with one legend;
    saved as PNG atomically (matplotlib's Agg canvas: no display needed)."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend

    from cnnviz.core.atomic_save import save_file_atomically

    count = len(layer_maps)
    # Up to three in a row; four as 2×2 rather than three and a lonely one.
    columns = count if count <= 3 else math.ceil(count / math.ceil(count / 3))
    rows = (count + columns - 1) // columns
    figure = Figure(figsize=(4.6 * columns + 1.8, 4.6 * rows + 0.6), dpi=110,
                    layout="constrained")
    figure.suptitle(title, fontsize=13)
    axes_grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    palette = matplotlib.colormaps["tab10" if len(class_names) <= 10 else "tab20"]
    points = max(4.0, min(24.0, 12000.0 / max(1, layer_maps[0].features.count)))
    handles = []
    for axes, layer_map in zip(axes_grid, layer_maps):
        xy = layer_map.map.coordinates
        labels = layer_map.features.labels
        handles = []
        for number, name in enumerate(class_names):
            chosen = labels == number
            colour = palette(number % palette.N)
            handles.append(axes.scatter(xy[chosen, 0], xy[chosen, 1], s=points, color=colour,
                                        alpha=0.75, linewidths=0, label=name))
        axes.set_title(f"{layer_map.features.layer}\nnearest-neighbour accuracy "
                       f"{layer_map.separation:.0%}", fontsize=11)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_xlabel(layer_map.map.note, fontsize=8)
    for axes in axes_grid[count:]:
        axes.set_visible(False)
    figure.legend(handles=handles, loc="outside right center", fontsize=9, markerscale=2.5,
                  title="class", frameon=False)
    save_file_atomically(path, lambda target: figure.savefig(target, format="png"))


# ---------------------------------------------------------------- command


def load_dataset_for_application(args: argparse.Namespace) -> Any:
    """The data as it is: an application's preprocess resizes and converts every image."""
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    dataset = load_dataset(args.data, with_series_options(LoadOptions(), args))
    if dataset.is_series:
        raise FeaturesCliError(f"{args.model} takes images; this data is time series.")
    return dataset


def _fitting_dataset(args: argparse.Namespace, model: Any) -> Any:
    """The data, loaded at the model's size when it is a folder; converted with --adapt;
    otherwise a FeaturesCliError saying what does not fit."""
    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.training.checks import keras_io_shapes

    try:
        input_shape, _ = keras_io_shapes(model)
    except ValueError as exc:
        raise FeaturesCliError(str(exc)) from None
    sequence_input = model_takes_sequences(model)
    options = with_series_options(load_options_for(input_shape), args)
    dataset = load_dataset(args.data, options)
    dataset = fitted_dataset(dataset, input_shape, sequence_input, args.adapt)
    return dataset


def cmd_features(args: argparse.Namespace) -> int:
    """Run `cnnviz features`; returns the exit code. Raises CnnvizError for user problems."""
    from cnnviz.core.atomic_save import writable_target_problem

    if args.batch_size < 1:
        raise FeaturesCliError("--batch-size must be at least 1.")
    if args.limit < 0:
        raise FeaturesCliError("--limit must be 0 (all images) or more.")
    layers = _layer_list(args.layer)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FeaturesCliError(f"Cannot make the folder {out}: {exc.strerror or exc}.") from None
    problem = writable_target_problem(out / "map.png")
    if problem:
        raise FeaturesCliError(f"--out {out}: {problem}")

    start_tensorflow()
    base = open_feature_base(args)
    from cnnviz.core.transfer.feature_maps import layer_maps
    from cnnviz.core.transfer.features import (
        FeatureCache, find_layer, save_coordinates_csv, save_features_npz,
    )

    for name in layers:  # a wrong name is reported before the data is loaded
        find_layer(base.model, name)
    if not base.trained and not base.application:
        print(f"note: {args.model} is a spec, so the model has random weights; its features "
              f"show what an untrained network sees.", file=sys.stderr)
    dataset = load_dataset_for_application(args) if base.application else \
        _fitting_dataset(args, base.model)
    cache = None if args.no_cache or base.identity is None else \
        FeatureCache(base.identity, args.data)
    maps = layer_maps(base.model, layers, dataset, args.split, method=args.method,
                      base_name=base.name, preprocess=base.preprocess,
                      batch_size=args.batch_size, limit=args.limit or None, cache=cache,
                      on_progress=_progress)

    from cnnviz.core.data.split_choice import SPLIT_WORDS, measured_split, split_phrase

    split = measured_split(dataset, args.split)
    count = maps[0].features.count
    print(dataset.description)
    print(f"images: {count:,} of {split_phrase(dataset, split)}")
    written: list[Path] = []
    for layer_map in maps:
        features = layer_map.features
        suffix = "" if len(maps) == 1 else f"-{_file_part(features.layer)}"
        npz, csv_path = out / f"features{suffix}.npz", out / f"coordinates{suffix}.csv"
        save_features_npz(npz, features)
        save_coordinates_csv(csv_path, features, layer_map.map.coordinates)
        written += [npz, csv_path]
        cached = " (from the cache)" if features.from_cache else ""
        print(f"{features.layer}: {features.reduction_text()}{cached}; nearest-neighbour "
              f"accuracy {layer_map.separation:.1%}")
    map_path = out / "map.png"
    part = "" if split == "all" else f" ({SPLIT_WORDS.get(split, split)} split)"
    draw_maps(maps, list(dataset.class_names),
              f"{base.name} on {dataset.name}{part}: {maps[0].map.note.split(':')[0]} map "
              f"of {count:,} {dataset.noun or 'images'}", map_path)
    written.append(map_path)
    print("wrote " + ", ".join(str(path) for path in written))
    return EXIT_OK
