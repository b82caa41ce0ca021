"""`cnnviz transfer`: transfer learning from the command line.

A base (a saved model, or a Keras application by name such as mobilenet_v2) is cut at a
layer, frozen and given a new head, trained on a dataset with the ordinary engine, and
optionally fine-tuned. Progress goes to stderr; stdout's last line is the test accuracy.
Each phase (frozen base, fine-tuning) is recorded in the run store like `cnnviz train`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, TrainingProgress, parse_size, start_tensorflow,
)
from cnnviz.cli.train import MAX_EPOCHS
from cnnviz.core.errors import CnnvizError


class TransferCliError(CnnvizError):
    """A problem with `cnnviz transfer`'s arguments, shown as one line."""


def add_transfer_parser(commands: Any) -> None:
    """Register the `transfer` sub-command on an argparse sub-parsers object."""
    parser = commands.add_parser(
        "transfer",
        prog="cnnviz transfer",
        usage="cnnviz transfer BASE --data SOURCE --epochs N --out MODEL.keras [options]",
        help="train a new head on a frozen pre-built network (transfer learning)",
        description="Cut a base network at a layer, freeze it, add a new head for the data's "
                    "classes, train it (and optionally fine-tune the base's top layers), save "
                    "the model, and print the test accuracy last. BASE is a saved model "
                    "(.keras, .h5) or one of: mobilenet_v2, mobilenet_v3_small, "
                    "efficientnet_b0, resnet50, vgg16.",
    )
    parser.add_argument("base", metavar="BASE", help="a saved model or a Keras application name")
    parser.add_argument("--data", required=True, metavar="SOURCE", help=DATA_HELP)
    parser.add_argument("--epochs", type=int, required=True, metavar="N",
                        help="epochs of training the head on the frozen base")
    parser.add_argument("--out", required=True, metavar="MODEL.keras",
                        help="where to save the trained model")
    parser.add_argument("--cut", metavar="LAYER",
                        help="the base layer the head reads (default: the last pooling or "
                             "Flatten layer of a model file; an application's last block)")
    parser.add_argument("--head-units", type=int, default=128, metavar="U",
                        help="units of the head's hidden Dense layer (default 128; 0 for none)")
    parser.add_argument("--dropout", type=float, default=0.2, metavar="R",
                        help="the head's dropout rate (default 0.2)")
    parser.add_argument("--fine-tune", type=int, default=0, metavar="K",
                        help="afterwards, unfreeze the base's top K layers and train again")
    parser.add_argument("--fine-tune-epochs", type=int, default=0, metavar="M",
                        help="epochs of fine-tuning (needed with --fine-tune)")
    parser.add_argument("--fine-tune-lr", type=float, default=None, metavar="X",
                        help="fine-tuning learning rate (default: a tenth of --lr)")
    parser.add_argument("--weights", default="imagenet", choices=("imagenet", "random"),
                        help="an application's weights: imagenet (from Keras's cache, "
                             "downloaded when missing) or random (offline exploring)")
    parser.add_argument("--resize", nargs="?", const="base", metavar="HxW",
                        help="resize the images for the base: to a model file's input size, "
                             "or build an application at HxW (alone: its own 224×224)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="B",
                        help="images per training step (default 32)")
    parser.add_argument("--lr", type=float, default=0.001, metavar="X",
                        help="learning rate of the head (default 0.001, Adam)")
    parser.add_argument("--val-split", type=float, default=0.1, metavar="F",
                        help="share of the training data held back for validation (default 0.1)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="train on at most N examples (e.g. 600 for the classroom demo)")
    parser.add_argument("--size", metavar="HxW", help="image folders: load every image at H×W")
    parser.add_argument("--grayscale", action="store_true", help="image folders: load as grayscale")
    parser.add_argument("--seed", type=int, default=1337, metavar="S",
                        help="seed of the validation split and the shuffling (default 1337)")
    parser.add_argument("--trust", action="store_true",
                        help="allow a saved base model that contains Python code (Lambda layers)")
    parser.add_argument("--no-record", action="store_true",
                        help="do not record the runs in the experiments database (`cnnviz runs`)")
    parser.add_argument("--name", metavar="NAME",
                        help="the run's name in `cnnviz runs` (default: transfer-<base>)")


def _check_arguments(args: argparse.Namespace) -> None:
    if not 1 <= args.epochs <= MAX_EPOCHS:
        raise TransferCliError(f"--epochs must be between 1 and {MAX_EPOCHS:,}.")
    if args.batch_size < 1:
        raise TransferCliError("--batch-size must be at least 1.")
    if not 0 < args.lr <= 10:
        raise TransferCliError("--lr must be a positive number such as 0.001.")
    if args.fine_tune_lr is not None and not 0 < args.fine_tune_lr <= 10:
        raise TransferCliError("--fine-tune-lr must be a positive number such as 0.0001.")
    if args.head_units < 0:
        raise TransferCliError("--head-units must be 0 or more.")
    if not 0 <= args.dropout < 1:
        raise TransferCliError("--dropout must be at least 0 and below 1, for example 0.2.")
    if args.fine_tune < 0:
        raise TransferCliError("--fine-tune must be 0 or more layers.")
    if args.fine_tune and not 1 <= args.fine_tune_epochs <= MAX_EPOCHS:
        raise TransferCliError("--fine-tune needs --fine-tune-epochs M (1 or more).")
    if args.fine_tune_epochs and not args.fine_tune:
        raise TransferCliError("--fine-tune-epochs needs --fine-tune K (how many base layers).")
    if not 0 <= args.val_split < 1:
        raise TransferCliError("--val-split must be at least 0 and less than 1.")
    if args.limit is not None and args.limit < 1:
        raise TransferCliError("--limit must be at least 1.")
    out = Path(args.out)
    if out.is_dir():
        raise TransferCliError(f"--out {out} is a folder; give a file name such as "
                               f"{out / 'model.keras'}.")
    if out.suffix.lower() not in (".keras", ".h5"):
        raise TransferCliError(f"--out {out}: the model is saved as a .keras file (or .h5).")
    from cnnviz.core.atomic_save import writable_target_problem

    problem = writable_target_problem(out)
    if problem:  # found now, not after training
        raise TransferCliError(f"--out {out}: {problem} Choose another place before training.")


def _application_shape(args: argparse.Namespace, image_shape: tuple[int, ...],
                       min_size: int) -> tuple[int, int] | None:
    """The size to build an application at: --resize HxW, its own (bare --resize), or the
    data's own size when the application can take it (None: its default)."""
    if args.resize == "base":
        return None
    if args.resize:
        return parse_size("--resize", args.resize)
    height, width = int(image_shape[0]), int(image_shape[1])
    if min(height, width) >= min_size:
        return height, width
    # Too small: build at the minimum so the message can offer resizing to it.
    return min_size, min_size


def _recorder(args: argparse.Namespace, phase: str, tags: list[str]) -> Any:
    if args.no_record:
        return None
    from cnnviz.core.experiments.recording import open_recorder

    name = args.name or f"transfer-{Path(args.base).stem}"
    recorder, problem = open_recorder(f"{name} ({phase})", args.data, None, tags=tags)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return recorder


def cmd_transfer(args: argparse.Namespace) -> int:
    """Run `cnnviz transfer`; returns the exit code. Raises CnnvizError for problems the
    user can fix."""
    _check_arguments(args)
    progress = TrainingProgress(args.epochs + args.fine_tune_epochs)
    start_tensorflow()
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.model.builder import save_model_file
    from cnnviz.core.training.engine import TrainConfig, evaluate_test
    from cnnviz.core.transfer.bases import (
        APPLICATIONS, WeightsFileError, is_application_name, open_base,
    )
    from cnnviz.core.transfer.transfer_model import (
        base_layer_count, build_transfer_model, parameter_counts, train_transfer,
    )

    options = LoadOptions(target_size=parse_size("--size", args.size),
                          color_mode="grayscale" if args.grayscale else "rgb",
                          validation_split=args.val_split, seed=args.seed, limit=args.limit)
    dataset = load_dataset(args.data, options, on_progress=progress.stage)
    if progress.live:
        print("\r\033[K", end="", file=sys.stderr)
    print(dataset.description, file=sys.stderr)
    if dataset.is_series:
        raise TransferCliError("cnnviz transfer works on images; this data is time series.")

    if is_application_name(args.base):
        app = APPLICATIONS[args.base.strip().lower().replace("-", "_")]
        shape = _application_shape(args, dataset.input_shape, app.min_size)
        try:
            base = open_base(args.base, weights=args.weights, input_shape=shape,
                             on_progress=progress.stage)
        except WeightsFileError as exc:
            raise TransferCliError(f"{exc} (Add --weights random.)") from None
    else:
        base = open_base(args.base, trust=args.trust)
    print(f"base: {base.name}, {base.input_shape[0]}×{base.input_shape[1]}×"
          f"{base.input_shape[2]} input, {base.weights_note}", file=sys.stderr)
    transfer = build_transfer_model(base, dataset.input_shape, dataset.num_classes,
                                    cut=args.cut, head_units=args.head_units,
                                    dropout=args.dropout, resize=args.resize is not None)
    for note in transfer.notes:
        print(f"note: {note}", file=sys.stderr)
    trainable, frozen = parameter_counts(transfer.model)
    print(f"cut at '{transfer.cut_layer}' ({base_layer_count(transfer)} base layers, frozen): "
          f"{trainable:,} trainable and {frozen:,} non-trainable parameters", file=sys.stderr)

    config = TrainConfig(learning_rate=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                         seed=args.seed)
    tags = ["transfer", base.name]
    recorder = _recorder(args, "frozen base", tags)
    fine_recorder = _recorder(args, f"fine-tune {args.fine_tune}", tags) if args.fine_tune \
        else None

    def phase(name: str) -> None:
        if name == "fine-tune":
            counts = parameter_counts(transfer.model)
            print(f"fine-tuning the top {args.fine_tune} base layers: {counts[0]:,} trainable "
                  f"parameters", file=sys.stderr)

    progress.started = time.monotonic()
    result = train_transfer(transfer, dataset, config, fine_tune_layers=args.fine_tune,
                            fine_tune_epochs=args.fine_tune_epochs,
                            fine_tune_learning_rate=args.fine_tune_lr,
                            on_batch=progress.batch, on_epoch=progress.epoch,
                            recorder=recorder, fine_tune_recorder=fine_recorder,
                            on_phase=phase)
    print(f"trained for {time.monotonic() - progress.started:.1f} s", file=sys.stderr)
    last = result.fine_tuned or result.frozen
    if last.stop_reason:
        print(f"training ended early: {last.stop_reason}", file=sys.stderr)
    written = save_model_file(transfer.model, args.out)
    print(f"Saved the trained model to {written}")
    if dataset.test is None or dataset.test.count < 1:
        raise TransferCliError(f"The model was trained and saved, but this data has no test "
                               f"{dataset.noun}, so there is no test accuracy to print.")
    metrics = evaluate_test(transfer.model, dataset)
    for each in (recorder, fine_recorder):
        if each is None:
            continue
        each.model_saved(Path(written).resolve())
        if each is (fine_recorder or recorder):
            each.test_measured(metrics)
        if each.problem:
            print(f"note: {each.problem}", file=sys.stderr)
        elif each.run_id is not None:
            print(f"recorded as run {each.run_id} (see: cnnviz runs show {each.run_id})",
                  file=sys.stderr)
    print(f"test loss: {metrics['loss']:.4f}")
    print(f"test accuracy: {metrics['accuracy']:.4f}")
    return EXIT_OK
