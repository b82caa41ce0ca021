"""`cnnviz train`: train a spec (or a saved model) on a dataset from the command line.

Progress goes to stderr; stdout gets the result, and its last line is the test accuracy,
so `cnnviz train ... | tail -1` is a number a script can read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, MODEL_SUFFIXES, SPEC_SUFFIXES, add_series_options, existing_file,
    TrainingProgress, read_spec, start_tensorflow, unknown_suffix, with_prepared_bases,
    parse_size, with_series_options,
)
from cnnviz.core.errors import CnnvizError


class TrainCliError(CnnvizError):
    """A problem with `cnnviz train`'s arguments, shown as one line."""


# A typo guard: long published runs (a ResNet on CIFAR-10) take 200-300 epochs; 100,000 is a
# slip of the finger that would run for days. For more, train again from the saved model.
MAX_EPOCHS = 1000


def add_train_parser(commands: Any) -> None:
    """Register the `train` sub-command on an argparse sub-parsers object."""
    train = commands.add_parser(
        "train",
        prog="cnnviz train",
        usage="cnnviz train SPEC --data SOURCE --epochs N --out MODEL.keras [options]",
        help="train a model spec on a dataset and save the trained model",
        description="Train a model spec (.json) or a saved model (.keras, .h5) on a dataset, "
                    "print progress on stderr, save the model, and print the test accuracy last.",
    )
    train.add_argument("spec", metavar="SPEC", help="a model spec (.json) or a saved model (.keras, .h5)")
    train.add_argument("--data", required=True, metavar="SOURCE", help=DATA_HELP)
    train.add_argument("--epochs", type=int, required=True, metavar="N",
                       help="passes over the training data")
    train.add_argument("--batch-size", type=int, default=64, metavar="B",
                       help="images or series per training step (default 64)")
    train.add_argument("--optimizer", default="adam", choices=("adam", "sgd", "rmsprop"),
                       help="default adam; sgd uses momentum 0.9")
    train.add_argument("--lr", type=float, default=None, metavar="X",
                       help="learning rate (default 0.001; 0.01 for sgd)")
    train.add_argument("--val-split", type=float, default=0.1, metavar="F",
                       help="share of the training data held back for validation (default "
                            "0.1; 0 keeps it all for training, for small sets such as GunPoint)")
    train.add_argument("--augment", action="store_true",
                       help="random changes to the training data only: flips, small rotations, "
                            "zooms and shifts of images; jitter (noise of 0.03) and scaling "
                            "(one factor per series, spread 0.1) of time series")
    train.add_argument("--size", metavar="HxW", help="image folders: resize every image to H×W (default 64x64)")
    train.add_argument("--grayscale", action="store_true", help="image folders: load as grayscale")
    add_series_options(train)
    train.add_argument("--seed", type=int, default=1337, metavar="S",
                       help="seed of the validation split, the shuffling and the augmentation "
                            "(default 1337); the starting weights stay random")
    train.add_argument("--out", required=True, metavar="MODEL.keras", help="where to save the trained model")
    train.add_argument("--history", metavar="FILE.csv", help="also write the per-epoch history as CSV")
    train.add_argument("--trust", action="store_true",
                       help="allow a saved model that contains Python code (Lambda layers)")
    train.add_argument("--no-record", action="store_true",
                       help="do not record this run in the experiments database (`cnnviz "
                            "runs`); CNNVIZ_RECORD_RUNS=0 turns recording off for every run")
    train.add_argument("--name", metavar="NAME",
                       help="the run's name in `cnnviz runs` (default: the spec's file name)")


def _check_arguments(args: argparse.Namespace) -> None:
    if args.epochs < 1:
        raise TrainCliError("--epochs must be at least 1.")
    if args.epochs > MAX_EPOCHS:
        raise TrainCliError(f"--epochs {args.epochs:,} is more than cnnviz trains in one run "
                            f"({MAX_EPOCHS:,}); to train longer, train the saved model again.")
    if args.batch_size < 1:
        raise TrainCliError("--batch-size must be at least 1.")
    if args.lr is not None and not (0 < args.lr <= 10):
        raise TrainCliError("--lr must be a positive number such as 0.001.")
    if not 0 <= args.val_split < 1:
        raise TrainCliError("--val-split must be at least 0 and less than 1, for example 0.1.")
    out = Path(args.out)
    if out.is_dir():
        raise TrainCliError(f"--out {out} is a folder; give a file name such as {out / 'model.keras'}.")
    if out.suffix.lower() not in (".keras", ".h5"):
        raise TrainCliError(f"--out {out}: the model is saved as a .keras file (or .h5).")
    # Found now, not after training, so the trained model is never lost to a bad path.
    _check_writable("--out", out)
    if args.history:
        _check_writable("--history", Path(args.history))


def _check_writable(option: str, path: Path) -> None:
    from cnnviz.core.atomic_save import writable_target_problem

    problem = writable_target_problem(path)
    if problem:
        raise TrainCliError(f"{option} {path}: {problem} Choose another place before training.")


def _recorder(args: argparse.Namespace, spec: Any, spec_path: Path) -> Any:
    """The run store's recorder for this run, or None (--no-record, CNNVIZ_RECORD_RUNS=0, or
    a store that cannot be opened: then a note says why and training goes on)."""
    if args.no_record:
        return None
    from cnnviz.core.experiments.recording import open_recorder

    spec_json = spec.to_json() if spec is not None else None
    recorder, problem = open_recorder(args.name or spec_path.stem, args.data, spec_json)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return recorder


def cmd_train(args: argparse.Namespace) -> int:
    """Run `cnnviz train`; returns the exit code. Raises CnnvizError for problems the user can fix."""
    _check_arguments(args)
    spec_path = existing_file(args.spec)
    suffix = spec_path.suffix.lower()
    if suffix not in SPEC_SUFFIXES + MODEL_SUFFIXES:
        raise unknown_suffix(spec_path, SPEC_SUFFIXES + MODEL_SUFFIXES)
    spec = read_spec(spec_path) if suffix in SPEC_SUFFIXES else None

    progress = TrainingProgress(args.epochs)
    start_tensorflow()
    from cnnviz.core.model.builder import build_model, load_model_file, save_model_file
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.training.augmentation import SIGNAL_JITTER, SIGNAL_SCALING, AugmentConfig
    from cnnviz.core.training.engine import TrainConfig, evaluate_test, train
    from cnnviz.core.training.checks import check_model_fits_data

    options = with_series_options(
        LoadOptions(target_size=parse_size("--size", args.size),
                    color_mode="grayscale" if args.grayscale else "rgb",
                    validation_split=args.val_split, seed=args.seed), args)
    dataset = load_dataset(args.data, options, on_progress=progress.stage)
    if progress.live:
        print("\r\033[K", end="", file=sys.stderr)
    print(dataset.description, file=sys.stderr)
    if dataset.report.skipped:
        print(f"skipped {dataset.report.skipped} file(s) that are not readable images", file=sys.stderr)
    for note in dataset.report.notes:
        print(f"note: {note}", file=sys.stderr)
    if spec is not None:
        spec = with_prepared_bases(spec, on_progress=progress.stage)
        if progress.live:
            print("\r\033[K", end="", file=sys.stderr)
    model = build_model(spec) if spec is not None else load_model_file(spec_path, trust=args.trust)
    problems = [problem for problem in check_model_fits_data(spec if spec is not None else model, dataset)
                if problem.severity == "error"]
    if problems:
        fix = f" Fix: {problems[0].fix_label}." if problems[0].fix_label else ""
        raise TrainCliError(f"The model does not fit the data: {problems[0].message}{fix}")
    learning_rate = args.lr if args.lr is not None else (0.01 if args.optimizer == "sgd" else 0.001)
    if not args.augment:
        augment = AugmentConfig()
    elif dataset.is_series:
        augment = AugmentConfig(jitter=SIGNAL_JITTER, scaling=SIGNAL_SCALING)
    else:
        augment = AugmentConfig(flip=True, rotation=0.1 / 3.6, zoom=0.1, translation=0.1)
    config = TrainConfig(optimizer=args.optimizer, learning_rate=learning_rate,
                         batch_size=args.batch_size, epochs=args.epochs, augment=augment,
                         seed=args.seed)
    recorder = _recorder(args, spec, spec_path)
    progress.started = time.monotonic()  # the times printed are training time only
    result = train(model, dataset, config, on_batch=progress.batch, on_epoch=progress.epoch,
                   recorder=recorder)
    print(f"trained for {time.monotonic() - progress.started:.1f} s", file=sys.stderr)
    if result.stop_reason:
        print(f"training ended early: {result.stop_reason}", file=sys.stderr)
    written = save_model_file(model, args.out)
    print(f"Saved the trained model to {written}")
    if recorder is not None:
        recorder.model_saved(Path(written).resolve())
    if args.history:
        from cnnviz.core.training.history import TrainingHistory

        history = TrainingHistory()
        for index in range(result.epochs_done):
            history.add_epoch({key: values[index] for key, values in result.history.items()
                               if index < len(values)})
        history.save_csv(args.history)
        print(f"Wrote the history to {args.history}")
    if dataset.test is None or dataset.test.count < 1:
        raise TrainCliError(f"The model was trained and saved, but this data has no test "
                            f"{dataset.noun}, so there is no test accuracy to print.")
    metrics = evaluate_test(model, dataset)
    if recorder is not None:
        recorder.test_measured(metrics)
        if recorder.problem:
            print(f"note: {recorder.problem}", file=sys.stderr)
        elif recorder.run_id is not None:
            print(f"recorded as run {recorder.run_id} (see: cnnviz runs show "
                  f"{recorder.run_id})", file=sys.stderr)
    print(f"test loss: {metrics['loss']:.4f}")
    print(f"test accuracy: {metrics['accuracy']:.4f}")
    return EXIT_OK
