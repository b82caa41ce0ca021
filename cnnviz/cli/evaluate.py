"""`cnnviz evaluate`: how well a saved model classifies a dataset's split.

stdout gets the data description, the loss, a per-class precision/recall table, the
confusion matrix, and LAST the accuracy (`cnnviz evaluate ... | tail -1` is a number a
script can read). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, add_series_options, load_model_argument, model_takes_sequences,
    fitted_dataset, start_tensorflow, with_series_options,
)
from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    from cnnviz.core.inspect.evaluation import Evaluation

# Wider than this, the confusion matrix numbers its columns instead of naming them.
MAX_MATRIX_WIDTH = 100


class EvaluateCliError(CnnvizError):
    """A problem with `cnnviz evaluate`'s arguments or its model/data pairing, one line."""


def add_evaluate_parser(commands: Any) -> None:
    """Register the `evaluate` sub-command on an argparse sub-parsers object."""
    evaluate = commands.add_parser(
        "evaluate",
        prog="cnnviz evaluate",
        usage="cnnviz evaluate MODEL --data SOURCE [--split all|test|validation|train] "
              "[--batch-size B] [--adapt] [--label-column COLUMN] [--z-normalize] [--trust]",
        help="measure a saved model on a dataset: accuracy, per-class scores, confusion matrix",
        description="Evaluate a saved model (.keras, .h5) or a spec (.json, random weights) on "
                    "a dataset. A source with no test part of its own (a folder of class "
                    "folders, MNIST's t10k files, an .npz with only x and y, CIFAR-10's "
                    "test_batch, one time-series file) is measured whole; otherwise its test "
                    "split (a UCR folder's NAME_TEST file). Prints the loss, "
                    "precision and recall per class, the confusion matrix, and the accuracy "
                    "last.",
    )
    evaluate.add_argument("model", metavar="MODEL",
                          help="a saved model (.keras, .h5) or a model spec (.json)")
    evaluate.add_argument("--data", required=True, metavar="SOURCE", help=DATA_HELP)
    evaluate.add_argument("--split", default=None,
                          choices=("all", "test", "validation", "train"),
                          help="which part to measure on (default: all of a source that has "
                               "no test part, else its test split)")
    evaluate.add_argument("--batch-size", type=int, default=256, metavar="B",
                          help="images or series per step (default 256)")
    evaluate.add_argument("--adapt", action="store_true",
                          help="resize the images and convert grayscale/RGB to fit the model")
    add_series_options(evaluate)
    evaluate.add_argument("--trust", action="store_true",
                          help="allow a saved model that contains Python code (Lambda layers)")


# ---------------------------------------------------------------- output


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def format_class_table(result: "Evaluation") -> str:
    """Precision, recall and support per class, one row each, aligned."""
    name_width = max([len("class")] + [len(name) for name in result.class_names])
    header = f"{'class'.ljust(name_width)}  precision  recall  support"
    rows = [header]
    for index, name in enumerate(result.class_names):
        rows.append(f"{name.ljust(name_width)}  {_number(result.precision[index]):>9}  "
                    f"{_number(result.recall[index]):>6}  {int(result.support[index]):>7,}")
    return "\n".join(rows)


def format_confusion(result: "Evaluation") -> str:
    """The confusion matrix: one row per true class, one column per predicted class.

    Columns carry the class names when they fit in MAX_MATRIX_WIDTH characters, otherwise
    their numbers, and each row then starts with its class's number too.
    """
    names = list(result.class_names)
    cell = max(len(f"{int(result.confusion.max(initial=0)):,}"), 3)
    named = max(len(n) for n in names) + 1
    numbered = (len(names) * (max(cell, named) + 1) + named) > MAX_MATRIX_WIDTH
    if numbered:
        columns = [str(i) for i in range(len(names))]
        rows = [f"{i} {name}" for i, name in enumerate(names)]
    else:
        columns, rows = names, names
    width = max(cell, *(len(c) for c in columns))
    label_width = max(len("true \\ predicted"), *(len(r) for r in rows))
    lines = ["confusion matrix (rows: true class, columns: predicted class)",
             "true \\ predicted".ljust(label_width) + "".join(f" {c:>{width}}" for c in columns)]
    for label, counts in zip(rows, result.confusion):
        lines.append(label.ljust(label_width)
                     + "".join(f" {int(count):>{width},}" for count in counts))
    return "\n".join(lines)


class _Progress:
    """Progress on stderr: a live line on a terminal, one line per stage otherwise."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()

    def show(self, text: str, finished: bool) -> None:
        if self.live:
            print(f"\r\033[K{text}", end="\n" if finished else "", file=sys.stderr, flush=True)
        elif finished:
            print(text, file=sys.stderr, flush=True)

    def loading(self, text: str, done: int = 0, total: int = 0) -> None:
        download = total > 100_000  # bytes: only a download takes long enough to report
        if download:
            text = f"{text} {done / 1e6:.1f}/{total / 1e6:.1f} MB"
        if self.live:
            self.show(text, finished=False)
        elif download and done >= total:
            # Piped output stays quiet while reading files, so a mismatch is one line.
            print(text, file=sys.stderr, flush=True)

    def clear(self) -> None:
        """Remove a live line, so what follows starts at the left edge."""
        if self.live:
            print("\r\033[K", end="", file=sys.stderr, flush=True)

    def evaluating(self, done: int, total: int) -> None:
        self.show(f"evaluating: {done:,}/{total:,} images", finished=done >= total)


# ---------------------------------------------------------------- command


def _chosen_split(dataset: Any, requested: str | None) -> str:
    """The split to measure (see split_choice.measured_split); a missing one is an error
    that names the --split choices this data has."""
    from cnnviz.core.data.split_choice import available_splits, measured_split

    try:
        return measured_split(dataset, requested)
    except CnnvizError:
        present = available_splits(dataset)
        choices = " or ".join(f"--split {name}" for name in present)
        problem = (f"{dataset.name} has a test part of its own, so --split all does not "
                   "apply" if requested == "all" else f"{dataset.name} has no {requested} {dataset.noun}")
        raise EvaluateCliError(problem + (f"; use {choices}." if choices else ".")) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run `cnnviz evaluate`; returns the exit code. Raises CnnvizError for user problems."""
    if args.batch_size < 1:
        raise EvaluateCliError("--batch-size must be at least 1.")
    progress = _Progress()
    start_tensorflow()
    model, trained = load_model_argument(args.model, args.trust)
    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.inspect.evaluation import evaluate_model
    from cnnviz.core.training.checks import keras_io_shapes

    try:
        input_shape, _ = keras_io_shapes(model)
    except ValueError as exc:
        raise EvaluateCliError(str(exc)) from None
    sequence_input = model_takes_sequences(model)
    options = with_series_options(load_options_for(input_shape), args)
    dataset = load_dataset(args.data, options, on_progress=progress.loading)
    progress.clear()
    if dataset.report.skipped:
        print(f"skipped {dataset.report.skipped} file(s) that are not readable images",
              file=sys.stderr)
    dataset = fitted_dataset(dataset, input_shape, sequence_input, args.adapt)
    split_name = _chosen_split(dataset, args.split)

    if not trained:
        print(f"note: {args.model} is a spec, so the model has random weights; expect chance-"
              f"level accuracy.", file=sys.stderr)
    result = evaluate_model(model, dataset, split_name, batch_size=args.batch_size,
                            on_progress=progress.evaluating)
    from cnnviz.core.data.split_choice import split_phrase

    print(dataset.description)
    print(f"split: {split_phrase(dataset, split_name)}")
    print(f"loss: {result.loss:.4f}")
    print()
    print(format_class_table(result))
    print()
    print(format_confusion(result))
    print()
    print(f"accuracy: {result.accuracy:.4f}")
    return EXIT_OK
