"""`cnnviz sweep`: hyperparameter search on Optuna, one trained model per trial.

    cnnviz sweep SPEC [SPEC ...] --data SOURCE --epochs N [--param NAME=V1,V2,... ...]
        [--train-sizes N1,N2,...] (--grid | --random K | --bayes K) [--prune] [--workers N]
        [--storage URL] [--study NAME] [--grace SECONDS]

One line per finished trial as it ends, then a table of every trial, the parameter
importances when there are enough trials, and the best trial last. Running the same command
again continues a stopped sweep; other machines join it with the same --storage and --study.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path
from typing import Any

from cnnviz.cli.common import DATA_HELP, EXIT_OK, CliError, load_spec_file, start_tensorflow
from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.sweep_heartbeat import MIN_GRACE_PERIOD

MAX_WORKERS = 64


def add_sweep_parser(commands: Any) -> None:
    """Register the `sweep` sub-command on an argparse sub-parsers object."""
    sweep = commands.add_parser(
        "sweep",
        prog="cnnviz sweep",
        usage="cnnviz sweep SPEC [SPEC ...] --data SOURCE --epochs N [--param NAME=V1,V2,... ...]"
              " [--train-sizes N1,N2,...] (--grid | --random K | --bayes K) [--prune]"
              " [--workers N] [--storage URL] [--study NAME] [--grace SECONDS] [--no-record]",
        help="search hyperparameters: train one model per trial and name the best",
        description="Train one model per trial of an Optuna study and print a line per trial, "
                    "a table, and the best trial last. Run the same command again to continue "
                    "a stopped sweep.",
    )
    sweep.add_argument("specs", nargs="+", metavar="SPEC", help="model specs (.json); several "
                       "specs make the model itself a dimension")
    sweep.add_argument("--data", required=True, metavar="SOURCE", help=DATA_HELP)
    sweep.add_argument("--epochs", type=int, required=True, metavar="N",
                       help="epochs per trial (unless --param epochs=... varies it)")
    sweep.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...",
                       help="a dimension: a training setting (learning_rate, batch_size, "
                            "optimizer, epochs, momentum, early_stopping, patience, seed) or "
                            "LAYER.PARAM of the spec (conv2d_1.filters, dropout.rate)")
    sweep.add_argument("--train-sizes", metavar="N1,N2,...",
                       help="training-set sizes to try (seeded subsets, each inside the next)")
    search = sweep.add_mutually_exclusive_group(required=True)
    search.add_argument("--grid", action="store_true", help="every combination")
    search.add_argument("--random", type=int, metavar="K", help="K random combinations")
    search.add_argument("--bayes", type=int, metavar="K",
                        help="K trials chosen by Optuna's TPE from the results so far")
    sweep.add_argument("--prune", action="store_true",
                       help="stop hopeless trials early (median of the trials so far, by "
                            "validation accuracy per epoch)")
    sweep.add_argument("--workers", type=int, default=1, metavar="N",
                       help="local processes that share the trials (default 1)")
    sweep.add_argument("--storage", metavar="URL",
                       help="where the study lives: postgresql://..., mysql://..., "
                            "sqlite:///FILE or FILE.journal (default: sweeps.journal in "
                            "cnnviz's data folder)")
    sweep.add_argument("--study", metavar="NAME",
                       help="the sweep's name (default: from the specs and the data)")
    sweep.add_argument("--grace", type=float, metavar="SECONDS",
                       help="a running trial whose worker (on any machine) has sent no "
                            "heartbeat for this long is marked failed and tried again; kept "
                            "with the study for every worker (default 120)")
    sweep.add_argument("--no-record", action="store_true",
                       help="do not record the trials in the run store (cnnviz runs)")
    sweep.add_argument("--batch-size", type=int, default=64, metavar="B",
                       help="batch size unless --param batch_size=... varies it (default 64)")
    sweep.add_argument("--lr", type=float, default=0.001, metavar="X",
                       help="learning rate unless --param learning_rate=... varies it")
    sweep.add_argument("--val-split", type=float, default=0.1, metavar="F",
                       help="share of the training data held back for validation (default 0.1)")
    sweep.add_argument("--limit", type=int, metavar="N",
                       help="load at most N training examples")
    sweep.add_argument("--seed", type=int, default=1337, metavar="S",
                       help="seed of the split, the subsets and the shuffling (default 1337)")


def _sizes(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"--train-sizes {text}: write whole numbers separated by commas, "
                       "for example 300,600,1800.") from None


def _default_name(specs: list[str], data: str) -> str:
    stems = "+".join(Path(spec).stem for spec in specs)
    return f"{stems}@{Path(data).name or data}"


def _plan(args: argparse.Namespace) -> Any:
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.experiments.sweep import plan_sweep
    from cnnviz.core.training.engine import TrainConfig

    if not 1 <= args.epochs <= 1000:
        raise CliError("--epochs must be a whole number from 1 to 1000.")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise CliError(f"--workers must be from 1 to {MAX_WORKERS}.")
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1.")
    if not 0 <= args.val_split < 1:
        raise CliError("--val-split must be at least 0 and less than 1, for example 0.1.")
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1.")
    if args.grace is not None and not args.grace >= MIN_GRACE_PERIOD:
        raise CliError(f"--grace must be at least {MIN_GRACE_PERIOD:g} seconds.")
    if args.study is not None and not args.study.strip():
        raise CliError("--study needs a name.")
    specs: dict[str, Any] = {}
    for text in args.specs:
        label = Path(text).stem
        while label in specs:
            label += "'"
        specs[label] = load_spec_file(text)
    sampler = "grid" if args.grid else "random" if args.random is not None else "bayes"
    trials = args.random if args.random is not None else args.bayes or 0
    return plan_sweep(args.study or _default_name(args.specs, args.data), specs, args.data,
                      LoadOptions(validation_split=args.val_split, seed=args.seed,
                                  limit=args.limit),
                      TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                                  learning_rate=args.lr, seed=args.seed),
                      args.param, _sizes(args.train_sizes), sampler, trials, args.prune,
                      args.seed)


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={_value(value)}" for key, value in params.items())


def _trial_line(result: Any) -> str:
    score = f"val_accuracy {result.val_accuracy:.4f}" if result.val_accuracy is not None else ""
    took = f"{result.duration:.1f} s" if result.duration is not None else ""
    parts = [f"trial {result.number}", result.state, score, _params_text(result.params), took]
    return " · ".join(part for part in parts if part)


def print_trial(result: Any) -> None:
    """One line on stdout for a finished trial, as it ends."""
    print(_trial_line(result), flush=True)


def _table(rows: list[Any], names: list[str]) -> list[str]:
    head = ["trial", "state", "val_accuracy", *names, "seconds"]
    body = [[str(r.number), r.state,
             f"{r.val_accuracy:.4f}" if r.val_accuracy is not None else "-",
             *[_value(r.params[n]) if n in r.params else "-" for n in names],
             f"{r.duration:.1f}" if r.duration is not None else "-"] for r in rows]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in [head, *body]]


def _run_store(record: bool) -> Any:
    """The user's run store, where each trial is recorded as a run tagged with the sweep;
    None when recording is off or the store cannot be opened (the sweep goes on)."""
    from cnnviz.core.experiments.recording import recording_enabled
    from cnnviz.core.experiments.run_store import RunStore

    if not record or not recording_enabled():
        return None
    try:
        return RunStore()
    except CnnvizError as exc:
        print(f"note: {exc} The trials are not recorded.", file=sys.stderr)
        return None


def _worker_process(plan: Any, storage: str | None, record: bool) -> None:
    """One of --workers N: take trials until none is left, printing a line per trial."""
    from cnnviz.core.experiments.sweep import run_worker
    from cnnviz.quiet import quiet_tensorflow

    with quiet_tensorflow(verbose=False):
        run_worker(plan, storage, recorder=_run_store(record), on_trial=print_trial)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run `cnnviz sweep`; returns the exit code. Raises CnnvizError for problems the user
    can fix."""
    plan = _plan(args)
    from cnnviz.core.experiments.sweep import (
        IMPORTANCE_MIN_TRIALS, accuracy_by_dimension, best_trial, importances, open_study,
        results, run_worker,
    )
    from cnnviz.core.experiments.sweep_heartbeat import set_grace_period
    from cnnviz.core.experiments.sweep_storage import storage_label

    study = open_study(plan, args.storage)  # creates and plans it, or finds it unreachable
    if args.grace is not None:
        set_grace_period(study, args.grace)
    print(f"sweep '{plan.name}' in {storage_label(args.storage)}: "
          f"{len(plan.grid()) if plan.sampler == 'grid' else plan.trials} trials "
          f"({plan.sampler}), {args.workers} worker{'s' if args.workers != 1 else ''}",
          file=sys.stderr)
    if args.workers == 1:
        start_tensorflow()
        run_worker(plan, args.storage, recorder=_run_store(not args.no_record),
                   on_trial=print_trial)
    else:
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=_worker_process,
                                   args=(plan, args.storage, not args.no_record))
                   for _ in range(args.workers)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if any(worker.exitcode for worker in workers):
            raise CliError("A worker process stopped with an error; run the same command "
                           "again to continue the sweep.")
    rows = [row for row in results(study) if row.state != "waiting"]
    print()
    for line in _table(rows, list(plan.search_space())):
        print(line)
    by_dimension = accuracy_by_dimension(rows, list(plan.search_space()))
    if any(len(values) > 1 for values in by_dimension.values()):
        print()
    for name, values in by_dimension.items():
        if len(values) > 1:  # one value is no comparison
            print(f"val_accuracy by {name}: " + " · ".join(
                f"{_value(v.value)} mean {v.mean_accuracy:.4f} best {v.best_accuracy:.4f} "
                f"({v.trials})" for v in values))
    found = importances(study)
    if found is None:
        print(f"\nparameter importances: after {IMPORTANCE_MIN_TRIALS} complete trials")
    else:
        print("\nparameter importances: " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()))
    best = best_trial(study)
    if best is None:
        raise CliError("No trial finished, so there is no best trial.")
    print(f"best: trial {best.number} · val_accuracy {best.val_accuracy:.4f} · "
          f"{_params_text(best.params)}")
    return EXIT_OK
