"""What the commands share: exit codes, file checks, reading specs and models, and starting
TensorFlow (its start-up noise is kept out of the output by cnnviz.quiet, entered by the front
door around every command).

Nothing here imports TensorFlow, Keras or Qt at module level.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    import argparse

    from cnnviz.core.data.dataset_types import Dataset, LoadOptions
    from cnnviz.core.model.spec import ModelSpec

EXIT_OK = 0
EXIT_UNEXPECTED = 1  # an error cnnviz did not foresee: its traceback is in a log file
EXIT_USER_ERROR = 2  # same as argparse's usage errors
EXIT_INTERRUPTED = 130

SPEC_SUFFIXES = (".json",)
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


# What --data takes, for every command that loads data.
DATA_HELP = ("mnist, fashion_mnist, cifar10, mnist-sample, cifar10-sample, folder-sample, "
             "gunpoint-sample, or a path: an image folder, an IDX folder, a .npz file, a "
             "CIFAR-10 archive or folder, a UCR/UEA time-series folder (NAME_TRAIN and "
             "NAME_TEST files) or one .ts, .tsv or .arff file, or a CSV with one series per row")


class CliError(CnnvizError):
    """A problem with the command line's arguments or files, shown as one line."""


# ---------------------------------------------------------------- files


def check_chart_path(path: Path) -> None:
    """Refuse a --plot path that is not .png/.svg or cannot be written, before any work."""
    from cnnviz.core.atomic_save import writable_target_problem

    if path.suffix.lower() not in (".png", ".svg"):
        raise CliError(f"--plot {path}: the chart is saved as a .png or .svg file.")
    problem = writable_target_problem(path)
    if problem:
        raise CliError(f"--plot {path}: {problem}")


def existing_file(path_text: str) -> Path:
    """The path if it names a readable file; CliError otherwise."""
    path = Path(path_text)
    if not path.exists():
        raise CliError(f"No such file: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a file.")
    if not os.access(path, os.R_OK):
        raise CliError(f"Cannot read {path}: permission denied.")
    return path


def unknown_suffix(path: Path, expected: Sequence[str]) -> CliError:
    """The error for a file whose extension no command reads."""
    kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
    return CliError(f"{path}: cnnviz cannot read {kind}; expected {', '.join(expected)}.")


def read_spec(path: Path) -> "ModelSpec":
    """load_spec, with the file's name in messages that do not already say which file."""
    from cnnviz.core.errors import SpecError
    from cnnviz.core.model.spec import load_spec

    try:
        return load_spec(path)
    except SpecError as exc:
        if str(path) in str(exc):
            raise
        raise SpecError(f"{path}: {exc}") from None


def load_spec_file(path_text: str) -> "ModelSpec":
    """The spec in a .json file; CliError for a saved model or any other kind of file."""
    path = existing_file(path_text)
    if path.suffix.lower() not in SPEC_SUFFIXES:
        if path.suffix.lower() in MODEL_SUFFIXES:
            raise CliError(f"{path} is a saved Keras model; this command needs a model spec (.json).")
        raise unknown_suffix(path, SPEC_SUFFIXES)
    return read_spec(path)


def is_architecture_json(path: Path) -> bool:
    """Whether a .json file is Keras's model.to_json() output rather than a cnnviz spec."""
    from cnnviz.core.inspect.model_files import is_architecture_json as is_keras_json

    return is_keras_json(path)


def load_model_argument(path_text: str, trust: bool, weights: str | None = None
                        ) -> tuple[Any, bool]:
    """(keras model, trained?) for a MODEL argument: a saved model (.keras, .h5), an
    architecture JSON from model.to_json() (with the weights file beside it, if any), or a
    cnnviz spec (.json, random weights)."""
    path = existing_file(path_text)
    suffix = path.suffix.lower()
    if suffix in SPEC_SUFFIXES and not is_architecture_json(path):
        from cnnviz.core.model.builder import build_model

        return build_model(with_prepared_bases(read_spec(path))), False
    if suffix not in SPEC_SUFFIXES + MODEL_SUFFIXES:
        raise unknown_suffix(path, SPEC_SUFFIXES + MODEL_SUFFIXES)
    from cnnviz.core.inspect.model_files import open_model, suggest_weights_file

    if weights is None and suffix in SPEC_SUFFIXES:
        found = suggest_weights_file(path)
        weights = str(found) if found else None
    opened = open_model(path, weights_path=weights, trust=trust)
    for note in opened.notes:
        print(f"note: {note}", file=sys.stderr)
    return opened.model, not (opened.kind == "json" and opened.weights_path is None)


def with_prepared_bases(spec: "ModelSpec", on_progress: Any = None) -> "ModelSpec":
    """The spec with every pre-built base's prepared file present: a missing one (a spec
    from another computer, a cleared data folder) is prepared again, with a line on stderr
    and download progress through on_progress(stage, done, total) (None: a line per stage)."""
    from cnnviz.core.model.spec_params import PRETRAINED_BASE

    missing = [layer for layer in spec.layers if layer.type == PRETRAINED_BASE
               and not Path(str(layer.params.get("block_file", ""))).is_file()]
    if not missing:
        return spec
    from cnnviz.core.transfer.base_blocks import describe_base, ensure_base_blocks

    for layer in missing:
        print(f"preparing the pre-built base {describe_base(layer)} (its prepared file is "
              f"not on this computer)", file=sys.stderr, flush=True)
    report = on_progress or (lambda text, done=0, total=0: None)
    return ensure_base_blocks(spec, on_progress=report)


# ---------------------------------------------------------------- time series


def add_series_options(parser: Any) -> None:
    """--label-column and --z-normalize, for commands that load time series."""
    parser.add_argument("--label-column", metavar="COLUMN",
                        help="time-series CSV: the column holding the labels, by header name, "
                             "number from 1, 'first' or 'last' (default: the first or last "
                             "column, whichever reads as labels)")
    parser.add_argument("--z-normalize", action="store_true",
                        help="time series: rescale each series (each channel) to mean 0 and "
                             "standard deviation 1")


def with_series_options(options: "LoadOptions", args: "argparse.Namespace") -> "LoadOptions":
    """`options` with the command line's --label-column and --z-normalize."""
    import dataclasses

    label_column = getattr(args, "label_column", None)
    if label_column is not None and not label_column.strip():
        raise CliError("--label-column needs a column: a header name, a number from 1, "
                       "'first' or 'last'.")
    return dataclasses.replace(options, label_column=label_column,
                               z_normalize=bool(getattr(args, "z_normalize", False)))


def model_takes_sequences(model: Any) -> bool:
    """Whether a Keras model is a 1-D network (Conv1D, 1-D pooling ...): its input is
    (steps, channels) signals, never a picture."""
    from cnnviz.core.data.data_fit import takes_sequences

    return takes_sequences(type(layer).__name__ for layer in model.layers)


# ---------------------------------------------------------------- TensorFlow


def start_tensorflow() -> None:
    """Import TensorFlow and make its first tensor, so its start-up (filtered by
    cnnviz.quiet, which the front door entered) is over before progress is printed."""
    import tensorflow as tf

    tf.constant(0.0)


class TrainingProgress:
    """Progress lines of a training command on stderr: a live line on a terminal (loading,
    downloads, batches), one line per epoch otherwise (`cnnviz train`, `cnnviz transfer`)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.live = sys.stderr.isatty()
        self.started = time.monotonic()

    def stage(self, text: str, done: int = 0, total: int = 0) -> None:
        if total > 100_000:
            text = f"{text} {done / 1e6:.1f}/{total / 1e6:.1f} MB"
        if self.live:
            print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)
        elif not total or done >= total:
            print(text, file=sys.stderr, flush=True)

    def batch(self, epoch: int, batch: int, batches: int, logs: dict[str, float]) -> None:
        if self.live:
            acc = f" accuracy {logs['accuracy']:.3f}" if "accuracy" in logs else ""
            print(f"\r\033[Kepoch {epoch + 1}/{self.epochs} batch {batch + 1}/{batches} "
                  f"loss {logs.get('loss', float('nan')):.4f}{acc}", end="", file=sys.stderr,
                  flush=True)

    def epoch(self, epoch: int, logs: dict[str, float]) -> None:
        parts = [f"epoch {epoch + 1}/{self.epochs}"]
        parts += [f"{key} {value:.4f}" for key, value in logs.items()
                  if key in ("loss", "accuracy", "val_loss", "val_accuracy")]
        parts.append(f"{time.monotonic() - self.started:.1f} s of training")
        prefix = "\r\033[K" if self.live else ""
        print(prefix + " · ".join(parts), file=sys.stderr, flush=True)


def parse_size(option: str, text: str | None) -> tuple[int, int] | None:
    """`--size 64x64` (or 64×64) as (height, width); None when not given. CliError when
    it is not two whole numbers from 4 to 2048."""
    if not text:
        return None
    try:
        height, width = (int(part) for part in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise CliError(f"{option} {text}: write it as HxW, for example 64x64.") from None
    if not (4 <= height <= 2048 and 4 <= width <= 2048):
        raise CliError(f"{option} {text}: height and width must be between 4 and 2048.")
    return height, width


def fitted_dataset(dataset: "Dataset", input_shape: tuple[int | None, ...],
                   sequence_input: bool, adapt: bool) -> "Dataset":
    """The dataset as the model takes it: unchanged when it fits, converted with --adapt
    (resized, grayscale ↔ colour) when it can be; else CliError saying what does not fit."""
    from cnnviz.core.data.data_fit import adapt_dataset, can_adapt, fit_problem

    problem = fit_problem(dataset, input_shape, sequence_input)
    if not problem:
        return dataset
    adaptable = can_adapt(dataset, input_shape, sequence_input)
    if not adapt:
        hint = (" Add --adapt to resize the images and convert them between grayscale "
                "and colour." if adaptable else "")
        raise CliError(f"The data does not fit the model: {problem}{hint}")
    if not adaptable:
        raise CliError(f"The data does not fit the model, and --adapt cannot convert it: "
                       f"{problem}")
    return adapt_dataset(dataset, input_shape)
