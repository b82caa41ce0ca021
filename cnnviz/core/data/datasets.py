"""One `Dataset` result for every data source: Keras downloads, local files, folders, samples.

    load_dataset("mnist-sample")                     # bundled, offline
    load_dataset("cifar10", on_progress=show)        # Keras's cache, downloading on first use
    load_dataset("~/photos", LoadOptions(target_size=(96, 96), color_mode="rgb"))
    load_dataset("~/UCR/GunPoint", LoadOptions(z_normalize=True))   # time series

A source is a name from SOURCE_NAMES or a path: an image folder (one subfolder per class,
optionally inside train/ val/ test/), a folder of IDX files, Keras's mnist.npz, CIFAR-10's
cifar-10-python.tar.gz or its extracted folder; or time series: a UCR/UEA folder holding
NAME_TRAIN.* and NAME_TEST.* (.ts, .tsv, .arff), one such file, a CSV with one series per
row, or an .npz of series. Every failure a user can cause raises DatasetError with a
message that says what to do. The readers live in dataset_files.py, image_folders.py,
keras_downloads.py, time_series.py and bundled_samples.py; this module picks one and
applies the options all sources share (limit, validation split).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Callable

import numpy as np

from cnnviz.core.data import bundled_samples, keras_downloads, time_series
from cnnviz.core.data.data_splits import DataSplit, FileSplit
from cnnviz.core.data.dataset_files import (
    CIFAR_BATCH_FILES, IDX_NAME, find_cifar_batches_folder, find_idx_files, read_cifar_archive,
    read_cifar_file, read_cifar_folder, read_idx_folder, read_npz)
from cnnviz.core.data.dataset_types import COLOR_MODES, Dataset, LoadOptions, SourceParts
from cnnviz.core.errors import DatasetError
from cnnviz.core.data.image_decoding import ImageProblem, probe_image
from cnnviz.core.data.image_folders import load_image_folder

__all__ = ["load_dataset", "SOURCE_NAMES"]

ProgressCallback = Callable[[str, int, int], None]

SOURCE_NAMES: tuple[str, ...] = keras_downloads.KERAS_SOURCE_NAMES + bundled_samples.SAMPLE_NAMES
# Spellings people type for the same sources.
_ALIASES = {"fashion-mnist": "fashion_mnist", "fashionmnist": "fashion_mnist",
            "cifar-10": "cifar10", "cifar_10": "cifar10", "mnist_sample": "mnist-sample",
            "cifar10_sample": "cifar10-sample", "cifar-10-sample": "cifar10-sample",
            "folder_sample": "folder-sample", "gunpoint_sample": "gunpoint-sample",
            "gunpoint": "gunpoint-sample"}
_COLOR_ALIASES = {"rgb": "rgb", "color": "rgb", "colour": "rgb", "grayscale": "grayscale",
                  "greyscale": "grayscale", "gray": "grayscale", "grey": "grayscale"}
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", "_archive")
MAX_TARGET_SIDE = 2048


def _checked_options(options: LoadOptions | None) -> LoadOptions:
    """A copy of the options with values normalised, or DatasetError naming the bad one."""
    options = options or LoadOptions()
    color_mode = _COLOR_ALIASES.get(str(options.color_mode).strip().lower())
    if color_mode not in COLOR_MODES:
        raise DatasetError(f"Colour mode '{options.color_mode}' is not known: "
                           "use 'rgb' or 'grayscale'.")
    target = options.target_size
    if target is not None:
        try:
            height, width = (int(v) for v in target)
        except (TypeError, ValueError):
            raise DatasetError(f"Target size {target!r} should be two numbers: "
                               "(height, width).") from None
        if not (1 <= height <= MAX_TARGET_SIDE and 1 <= width <= MAX_TARGET_SIDE):
            raise DatasetError(f"Target size {height}×{width} is out of range: each side must be "
                               f"between 1 and {MAX_TARGET_SIDE} pixels.")
        target = (height, width)
    split = float(options.validation_split)
    if not 0.0 <= split < 1.0:
        raise DatasetError(f"Validation split {split:g} must be at least 0 and below 1 "
                           "(0.1 keeps a tenth of the training data aside).")
    if options.limit is not None and int(options.limit) < 1:
        raise DatasetError(f"Limit {options.limit} must be at least 1 training example.")
    label_column = options.label_column
    label_column = str(label_column).strip() or None if label_column is not None else None
    return LoadOptions(target_size=target, color_mode=color_mode, validation_split=split,
                       seed=int(options.seed),
                       limit=None if options.limit is None else int(options.limit),
                       label_column=label_column, z_normalize=bool(options.z_normalize))


def _unknown_source(source: str) -> DatasetError:
    close = difflib.get_close_matches(source.lower(), SOURCE_NAMES, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return DatasetError(f"Unknown data source '{source}'.{hint} Use one of: "
                        f"{', '.join(SOURCE_NAMES)}, or the path of an image folder, IDX folder, "
                        ".npz file, CIFAR-10 archive/folder, or time-series file or folder "
                        "(.ts, .tsv, .arff, .csv).")


def _looks_like_path(source: str) -> bool:
    return any(mark in source for mark in ("/", "\\", "~", ".")) or os.path.isabs(source)


def _read_folder(folder: Path, options: LoadOptions,
                 on_progress: ProgressCallback | None) -> SourceParts:
    if find_idx_files(folder):
        return read_idx_folder(folder, on_progress=on_progress)
    if time_series.find_series_pair(folder) is not None:
        return time_series.read_series_folder(folder, options)
    batches = find_cifar_batches_folder(folder)
    if batches is not None:
        return read_cifar_folder(batches, on_progress)
    return load_image_folder(folder, options.target_size, options.color_mode, options.seed,
                             on_progress=on_progress)


def _read_file(path: Path, options: LoadOptions,
               on_progress: ProgressCallback | None) -> SourceParts:
    lower = path.name.lower()
    if lower.endswith(".npz"):
        return read_npz(path, options=options)
    if time_series.is_series_file(path):
        return time_series.read_series_file(path, options)
    if IDX_NAME.match(path.name):
        raise DatasetError(f"{path.name} is one IDX file; pass the folder that holds it together "
                           "with its images/labels partner files.")
    if lower.endswith(_TAR_SUFFIXES) or (lower.endswith(".gz") and "cifar" in lower):
        return read_cifar_archive(path, on_progress)
    if lower in CIFAR_BATCH_FILES:
        return read_cifar_file(path, on_progress)
    try:
        probe_image(path)
        is_image = True
    except (ImageProblem, OSError):
        is_image = False
    if is_image:
        raise DatasetError(f"{path.name} is a single image. Pass a folder with one subfolder per "
                           "class (photos/cats/, photos/dogs/, ...) instead.")
    raise DatasetError(f"cnnviz cannot read {path.name} as a dataset. Use an image folder, "
                       "a folder of IDX files, Keras's mnist.npz, cifar-10-python.tar.gz, or a "
                       "time-series file (.ts, .tsv, .arff, .csv).")


def _read_source(source: str, options: LoadOptions,
                 on_progress: ProgressCallback | None) -> SourceParts:
    key = source.strip().lower()
    key = _ALIASES.get(key, key)
    # Names win over same-named files in the current folder; "./mnist" reaches the folder.
    if key in keras_downloads.KERAS_SOURCE_NAMES:
        return keras_downloads.load_keras_source(key, on_progress)
    if key == "mnist-sample":
        return bundled_samples.load_mnist_sample(on_progress)
    if key == "cifar10-sample":
        return bundled_samples.load_cifar10_sample(on_progress)
    if key == "gunpoint-sample":
        return bundled_samples.load_gunpoint_sample(options)
    if key == "folder-sample":
        return bundled_samples.load_folder_sample(options.target_size, options.color_mode,
                                                  options.seed, on_progress)
    path = Path(source).expanduser()
    if not path.exists():
        if not _looks_like_path(source):
            raise _unknown_source(source)
        parent = path.parent if str(path.parent) not in ("", ".") else Path.cwd()
        hint = "" if parent.is_dir() else f" (the folder {parent} does not exist either)"
        raise DatasetError(f"No file or folder at '{source}'{hint}. Check the path.")
    try:
        if path.is_dir():
            return _read_folder(path, options, on_progress)
        return _read_file(path, options, on_progress)
    except PermissionError as exc:
        raise DatasetError(f"cnnviz is not allowed to read {exc.filename or path}.") from None


def _seeded_indices(count: int, take: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random choice of `take` of `count` indices, and the rest (both sorted)."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[:take]), np.sort(order[take:])


def _held_out(train: DataSplit, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded choice of `size` validation examples (and the rest), keeping every class
    that has at least two training examples in both parts where the size allows: 5 of 50
    series of two classes must not all be one class."""
    held_out, kept = _seeded_indices(train.count, size, seed)
    labels = train.labels()
    counts = np.bincount(labels)
    eligible = np.flatnonzero(counts >= 2)
    if size < len(eligible):
        return held_out, kept
    held = set(int(i) for i in held_out)
    rest = set(int(i) for i in kept)
    order = np.random.default_rng(seed + 1).permutation(train.count)
    for cls in eligible:
        if any(labels[i] == cls for i in held):
            continue
        take = next(int(i) for i in order if int(i) in rest and labels[i] == cls)
        held_counts = np.bincount(labels[list(held)], minlength=len(counts))
        # One exists: the held examples cover fewer classes than there are of them.
        give = next(int(i) for i in order if int(i) in held
                    and (held_counts[labels[i]] > 1 or counts[labels[i]] < 2))
        held.remove(give)
        rest.add(give)
        rest.remove(take)
        held.add(take)
    return np.array(sorted(held), dtype=np.int64), np.array(sorted(rest), dtype=np.int64)


def _description(parts: SourceParts, dataset: Dataset) -> str:
    counts = [f"{split.count:,} {role}" for role, split in
              (("train", dataset.train), ("validation", dataset.validation), ("test", dataset.test))
              if split is not None]
    origin = f" ({parts.origin_note})" if parts.origin_note else ""
    if dataset.is_series:
        steps, channels = dataset.input_shape
        return (f"{dataset.name}: {' / '.join(counts)} {parts.noun}, {steps:,} steps × "
                f"{channels} channel{'' if channels == 1 else 's'}, "
                f"{dataset.num_classes} classes{origin}")
    height, width, channels = dataset.input_shape
    colour = "grayscale" if channels == 1 else "RGB"
    return (f"{dataset.name}: {' / '.join(counts)} {parts.noun}, {height}×{width} {colour}, "
            f"{dataset.num_classes} classes{origin}")


def _assemble(parts: SourceParts, options: LoadOptions) -> Dataset:
    """Apply limit and validation split, check labels against class names, describe."""
    report = parts.report
    train, validation = parts.train, parts.validation
    if options.limit is not None and train.count > options.limit:
        chosen, _ = _seeded_indices(train.count, options.limit, options.seed)
        report.notes.append(f"Using {options.limit:,} of the {train.count:,} training examples "
                            "(limit).")
        train = train.subset(chosen)
    if validation is None and options.validation_split > 0:
        size = int(round(train.count * options.validation_split))
        size = min(max(size, 1), train.count - 1)
        if size >= 1:
            held_out, kept = _held_out(train, size, options.seed)
            validation, train = train.subset(held_out), train.subset(kept)
        else:
            report.notes.append("Too few training examples to set some aside for validation.")
    for split in (train, validation, parts.test, parts.whole):
        if split is not None and split.count:
            top = int(split.labels().max())
            if top >= len(parts.class_names):
                raise DatasetError(f"{parts.name} has label {top}, but only "
                                   f"{len(parts.class_names)} class names.")
    requested = options.target_size
    if requested is not None and not isinstance(train, FileSplit) and not train.is_series \
            and tuple(requested) != train.image_shape[:2]:
        height, width = train.image_shape[:2]
        report.notes.append(f"The target size applies to image folders only; {parts.name} keeps "
                            f"its own {height}×{width} images.")
    dataset = Dataset(name=parts.name, description="", class_names=list(parts.class_names),
                      input_shape=train.image_shape, train=train, validation=validation,
                      test=parts.test, report=report, whole=parts.whole, noun=parts.noun,
                      source_label=parts.source_label or parts.name)
    dataset.description = _description(parts, dataset)
    return dataset


def load_dataset(source: str, options: LoadOptions | None = None,
                 on_progress: ProgressCallback | None = None) -> Dataset:
    """Load a named source or a path into a Dataset.

    source: one of SOURCE_NAMES ("mnist", "fashion_mnist", "cifar10", "mnist-sample",
    "cifar10-sample", "folder-sample") or a path (image folder, IDX folder, .npz,
    CIFAR-10 .tar.gz or folder). on_progress(stage_text, done, total) reports downloads
    in bytes and scans in files; it is called from the loading thread.
    Raises DatasetError with a message for the user.
    """
    checked = _checked_options(options)
    parts = _read_source(str(source), checked, on_progress)
    return _assemble(parts, checked)
