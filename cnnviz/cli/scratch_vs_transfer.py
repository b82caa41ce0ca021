"""`cnnviz scratch-vs-transfer`: the run pair "from scratch vs transfer".

    cnnviz scratch-vs-transfer [BASE] [--data SOURCE] [--epochs N] [--limit 600]
        [--plot FILE.png|svg] [--no-record]

The same network (BASE cut at its default layer, the same new head) is trained twice on the
same data, epochs and seed: from scratch (fresh weights, everything trainable), then transfer
(BASE's own weights, frozen). Epochs go to stderr; stdout has one line per run as it is
measured, then which one is ahead. Both runs are recorded in the run store with one tag,
"scratch-vs-transfer <date time>" (see `cnnviz runs --tag`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cnnviz.cli.common import DATA_HELP, EXIT_OK, check_chart_path, start_tensorflow


def add_scratch_vs_transfer_parser(commands: Any) -> None:
    """Register the `scratch-vs-transfer` sub-command on an argparse sub-parsers object."""
    from cnnviz.core.experiments.scratch_vs_transfer import (
        DEFAULT_DATA, DEFAULT_EPOCHS, DEFAULT_LIMIT,
    )

    command = commands.add_parser(
        "scratch-vs-transfer",
        prog="cnnviz scratch-vs-transfer",
        usage="cnnviz scratch-vs-transfer [BASE] [--data SOURCE] [--epochs N] [--limit N] "
              "[--plot FILE.png|.svg] [--no-record]",
        help="one network trained twice: from scratch, and on a frozen pretrained base",
        description="Train the same network twice on the same data: once from scratch (random "
                    "weights, every layer learning) and once by transfer (BASE's pretrained "
                    "layers frozen, only a new head learning). Prints each run's test accuracy "
                    "and which is ahead. BASE is a saved model (default the bundled digit "
                    "model sample_models/mnist_cnn_small.keras) or one of: mobilenet_v2, "
                    "mobilenet_v3_small, efficientnet_b0, resnet50, vgg16 (ImageNet weights).",
    )
    command.add_argument("base", nargs="?", default=None, metavar="BASE",
                         help="a saved model or a Keras application name (default the bundled "
                              "digit model)")
    command.add_argument("--data", default=DEFAULT_DATA, metavar="SOURCE",
                         help=f"images with a test part (default {DEFAULT_DATA}; fashion_mnist "
                              f"downloads the real story: digits → clothes). {DATA_HELP}")
    command.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, metavar="N",
                         help=f"epochs for each run (default {DEFAULT_EPOCHS})")
    command.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                         help=f"training examples, a tenth kept for validation (default "
                              f"{DEFAULT_LIMIT}); 0 for all")
    command.add_argument("--plot", metavar="FILE",
                         help="save the chart of validation accuracy per epoch (.png or .svg)")
    command.add_argument("--no-record", action="store_true",
                         help="do not record the runs in the run store (cnnviz runs)")
    command.add_argument("--seed", type=int, default=1337, metavar="S",
                         help="seed of the subset, the starting weights and the shuffling "
                              "(default 1337)")


def run_line(run: Any) -> str:
    """One line for a measured run."""
    recorded = f" · run #{run.run_id}" if run.run_id is not None else ""
    return (f"{run.label:<22} · test accuracy {run.test_accuracy:.1%} · loss "
            f"{run.test_loss:.3f} · {run.trainable_parameters:,} trainable parameters · "
            f"{run.seconds:.1f} s{recorded}")


def cmd_scratch_vs_transfer(args: argparse.Namespace) -> int:
    """Run `cnnviz scratch-vs-transfer`; returns the exit code. Raises CnnvizError for
    problems the user can fix."""
    from cnnviz.core.experiments.scratch_vs_transfer import (
        load_pair_data, open_pair_base, plan_pair, run_pair, save_chart, story_note,
    )

    plan = plan_pair(args.base, args.data, args.epochs, args.limit or None, seed=args.seed)
    plot = Path(args.plot) if args.plot else None
    if plot is not None:
        check_chart_path(plot)
    start_tensorflow()
    data = load_pair_data(plan)
    base = open_pair_base(plan, data.input_shape)
    print(f"scratch-vs-transfer: {base.name} on {plan.data_source}, {data.train.count:,} "
          f"training and {data.test.count if data.test else 0:,} test examples, "
          f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''} each", file=sys.stderr,
          flush=True)
    print(f"note: {story_note(plan)}", file=sys.stderr, flush=True)

    def epoch_line(kind: str, epoch: int, logs: dict[str, float]) -> None:
        parts = [f"{kind} epoch {epoch + 1}/{plan.epochs}"]
        parts += [f"{key} {logs[key]:.4f}" for key in ("loss", "accuracy", "val_accuracy")
                  if key in logs]
        print(" · ".join(parts), file=sys.stderr, flush=True)

    result = run_pair(plan, data, base, on_epoch=epoch_line, record=not args.no_record,
                      on_run=lambda run, _model: print(run_line(run), flush=True))
    if result.recording_problem:
        print(f"note: {result.recording_problem}", file=sys.stderr)
    print()
    print(f"cut at '{result.cut_layer}'; measured on {result.test_count:,} test images. "
          f"{result.verdict()}".rstrip())
    recorded = not args.no_record and any(r.run_id is not None for r in result.runs.values())
    print(f"2 runs in {result.seconds:.0f} s"
          + (f"; recorded with the tag '{result.tag}'" if recorded else ""))
    if plot is not None:
        save_chart(result, plot)
        print(f"chart saved to {plot}")
    return EXIT_OK
