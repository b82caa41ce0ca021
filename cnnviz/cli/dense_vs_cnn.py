"""`cnnviz dense-vs-cnn`: the tutorial's experiment "Dense vs CNN with less data".

    cnnviz dense-vs-cnn [--data mnist-sample] [--epochs N] [--sizes 300,600,...]
        [--plot FILE.png|svg] [--no-record]

Trains the dense baseline and the tutorial CNN at each training-set size (seeded subsets,
each inside the next; the same epochs and test set), prints one line per training as it
ends, then a table of test accuracy per size, and saves the chart with --plot. Each training
is recorded in the run store, tagged "dense-vs-cnn <date time>" (see `cnnviz runs --tag`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cnnviz.cli.common import DATA_HELP, EXIT_OK, CliError, check_chart_path, start_tensorflow


def add_dense_vs_cnn_parser(commands: Any) -> None:
    """Register the `dense-vs-cnn` sub-command on an argparse sub-parsers object."""
    from cnnviz.core.experiments.data_size_study import DEFAULT_EPOCHS, DEFAULT_SIZES

    sizes = ",".join(str(size) for size in DEFAULT_SIZES)
    command = commands.add_parser(
        "dense-vs-cnn",
        prog="cnnviz dense-vs-cnn",
        usage="cnnviz dense-vs-cnn [--data SOURCE] [--epochs N] [--sizes N1,N2,...] "
              "[--plot FILE.png|.svg] [--no-record]",
        help="the tutorial's experiment: a dense net and a CNN trained on less and less data",
        description="Train the dense baseline and the tutorial CNN on training sets of "
                    "several sizes, measure both on the same test images, and print the test "
                    "accuracy per size: the CNN stays ahead even with little data.",
    )
    command.add_argument("--data", default="mnist-sample", metavar="SOURCE",
                         help=f"28×28 digits with a test part (default mnist-sample). {DATA_HELP}")
    command.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, metavar="N",
                         help=f"epochs for every training (default {DEFAULT_EPOCHS})")
    command.add_argument("--sizes", default=sizes, metavar="N1,N2,...",
                         help=f"training-set sizes (default {sizes})")
    command.add_argument("--plot", metavar="FILE",
                         help="save the chart of test accuracy against training-set size "
                              "(.png or .svg)")
    command.add_argument("--no-record", action="store_true",
                         help="do not record the trainings in the run store (cnnviz runs)")
    command.add_argument("--seed", type=int, default=1337, metavar="S",
                         help="seed of the subsets, the starting weights and the shuffling "
                              "(default 1337)")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"--sizes {text}: write whole numbers separated by commas, for "
                       "example 300,600,1800.") from None
    if not sizes:
        raise CliError("--sizes needs at least one training-set size, such as 300,600,1800.")
    return sizes


def training_line(point: Any) -> str:
    """One line for a finished training."""
    run = f" · run #{point.run_id}" if point.run_id is not None else ""
    return (f"{point.label:<5} · {point.size:>6,} images · test accuracy "
            f"{point.test_accuracy:.1%} · loss {point.test_loss:.3f} · "
            f"{point.seconds:.1f} s{run}")


def table_lines(result: Any) -> list[str]:
    rows = result.table()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def cmd_dense_vs_cnn(args: argparse.Namespace) -> int:
    """Run `cnnviz dense-vs-cnn`; returns the exit code. Raises CnnvizError for problems the
    user can fix."""
    from cnnviz.core.experiments.data_size_study import (
        check_study_data, load_study_data, plan_study, run_study, save_chart,
    )

    plan = plan_study(_sizes(args.sizes), args.epochs, args.data, seed=args.seed)
    plot = Path(args.plot) if args.plot else None
    if plot is not None:
        check_chart_path(plot)
    data = load_study_data(plan)
    check_study_data(plan, data)
    start_tensorflow()
    print(f"dense-vs-cnn on {plan.data_source}: {len(plan.trainings())} trainings of "
          f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''} "
          f"(sizes {', '.join(f'{s:,}' for s in plan.sizes)})", file=sys.stderr, flush=True)
    result = run_study(plan, data, record=not args.no_record,
                       on_point=lambda point, _model: print(training_line(point), flush=True))
    if result.recording_problem:
        print(f"note: {result.recording_problem}", file=sys.stderr)
    print()
    print(f"Test accuracy on {result.test_count:,} test images:")
    for line in table_lines(result):
        print(line)
    print(f"\n{len(result.points)} trainings in {result.seconds:.0f} s"
          + (f"; recorded with the tag '{result.tag}'" if not args.no_record
             and any(p.run_id is not None for p in result.points) else ""))
    if plot is not None:
        save_chart(result, plot)
        print(f"chart saved to {plot}")
    return EXIT_OK
