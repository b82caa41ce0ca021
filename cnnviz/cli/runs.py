"""`cnnviz runs`: the training runs recorded in the experiments database (runs.sqlite in the
user's data folder, CNNVIZ_HOME when set).

    cnnviz runs                          newest first, one line each
    cnnviz runs show ID                  everything about one run, with its history
    cnnviz runs compare ID ID ... [--plot FILE.png|.svg]   settings and results side by side
    cnnviz runs export FILE.csv          one row per run
    cnnviz runs export-tensorboard DIR [ID ...]   for TensorBoard's HParams dashboard
    cnnviz runs delete ID [ID ...]       remove runs

Draws with matplotlib's Agg backend (no Qt, no display) and imports no TensorFlow.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from cnnviz.cli.common import EXIT_OK, check_chart_path
from cnnviz.core.errors import CnnvizError


class RunsCliError(CnnvizError):
    """A problem with `cnnviz runs`'s arguments, shown as one line."""




def add_runs_parser(commands: Any) -> None:
    """Register the `runs` sub-command (and its actions) on an argparse sub-parsers object."""
    runs = commands.add_parser(
        "runs", prog="cnnviz runs",
        usage="cnnviz runs [show ID | compare ID ID ... [--plot FILE] | export FILE.csv | "
              "export-tensorboard DIR [ID ...] | delete ID ...]",
        help="list, show, compare, export or delete the recorded training runs",
        description="Every training run (from the app or `cnnviz train`) is recorded in "
                    "runs.sqlite in the cnnviz data folder (CNNVIZ_HOME when set). Without an "
                    "action, lists them newest first.")
    runs.add_argument("--sweep", metavar="NAME", help="only the runs of this sweep")
    runs.add_argument("--tag", metavar="TAG", help="only the runs with this tag")
    runs.add_argument("--limit", type=int, metavar="N", help="only the newest N runs")
    actions = runs.add_subparsers(dest="action", metavar="ACTION", title="actions")
    show = actions.add_parser("show", prog="cnnviz runs show", help="everything about one run")
    show.add_argument("run_id", type=int, metavar="ID")
    compare = actions.add_parser("compare", prog="cnnviz runs compare",
                                 help="settings and results of runs side by side")
    compare.add_argument("run_ids", type=int, nargs="+", metavar="ID")
    compare.add_argument("--plot", metavar="FILE",
                         help="also draw their loss and accuracy curves to FILE (.png or .svg)")
    export = actions.add_parser("export", prog="cnnviz runs export",
                                help="write one CSV row per run")
    export.add_argument("file", metavar="FILE.csv")
    board = actions.add_parser(
        "export-tensorboard", prog="cnnviz runs export-tensorboard",
        help="write the runs to the folder DIR for TensorBoard's HParams dashboard",
        description="Write the runs (the given IDs, else every run, or those of --sweep/--tag "
                    "given before the action) to the folder DIR for TensorBoard: each run's "
                    "settings as hyperparameters, its per-epoch curves and its final "
                    "metrics. Open it with: tensorboard --logdir DIR")
    board.add_argument("folder", metavar="DIR")
    board.add_argument("run_ids", type=int, nargs="*", metavar="ID")
    delete = actions.add_parser("delete", prog="cnnviz runs delete", help="remove runs")
    delete.add_argument("run_ids", type=int, nargs="+", metavar="ID")


def cmd_runs(args: argparse.Namespace) -> int:
    """Run `cnnviz runs`; returns the exit code. Raises CnnvizError for problems the user can fix."""
    from cnnviz.core.experiments.run_store import RunStore

    action = getattr(args, "action", None)
    if action == "compare" and args.plot:
        check_chart_path(Path(args.plot))
    if action == "export" and Path(args.file).suffix.lower() != ".csv":
        raise RunsCliError(f"{args.file}: the runs are exported as a .csv file.")
    with RunStore() as store:
        if action == "show":
            print(_show(store.get(args.run_id)))
        elif action == "compare":
            records = [store.get(run_id) for run_id in dict.fromkeys(args.run_ids)]
            print(_compare(records))
            if args.plot:
                written = plot_curves(records, Path(args.plot))
                print(f"Drew the curves to {written}")
        elif action == "export":
            count = store.export_csv(Path(args.file))
            print(f"Wrote {count} run{'s' if count != 1 else ''} to {args.file}")
        elif action == "export-tensorboard":
            _export_tensorboard(store, args)
        elif action == "delete":
            store.delete(args.run_ids)
            ids = ", ".join(str(i) for i in dict.fromkeys(args.run_ids))
            print(f"Deleted run{'s' if len(args.run_ids) > 1 else ''} {ids}.")
        else:
            if args.limit is not None and args.limit < 1:
                raise RunsCliError("--limit must be at least 1.")
            records = store.runs(sweep=args.sweep, tag=args.tag, limit=args.limit)
            if not records:
                print(f"No runs recorded yet in {store.path}. Train a model (in the app or "
                      f"with `cnnviz train`) and it appears here.")
            else:
                print(_table(records))
    return EXIT_OK


def _export_tensorboard(store: Any, args: argparse.Namespace) -> None:
    from cnnviz.core.experiments.tensorboard_export import export_tensorboard

    ids = list(dict.fromkeys(args.run_ids)) or [
        r.id for r in store.runs(sweep=args.sweep, tag=args.tag, limit=args.limit)]
    if not ids:
        raise RunsCliError("There are no runs to export yet: train a model (in the app or "
                           "with `cnnviz train`) and it is recorded.")
    written = export_tensorboard([store.get(run_id) for run_id in ids], Path(args.folder))
    print(f"Wrote {len(written)} run{'s' if len(written) != 1 else ''} to {args.folder} for "
          f"TensorBoard's HParams dashboard; open it with: tensorboard --logdir {args.folder}")


# ---------------------------------------------------------------- text


def _number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _percent(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{100 * value:.1f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _align(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                               for i, cell in enumerate(row)).rstrip() for row in rows)


def _table(records: list[Any]) -> str:
    rows = [["ID", "NAME", "STATUS", "STARTED", "EPOCHS", "TIME", "DATA", "TRAIN", "VAL ACC",
             "TEST ACC", "SWEEP"]]
    for r in records:
        name = r.name if len(r.name) <= 28 else r.name[:27] + "…"
        rows.append([str(r.id), name, r.status, _when(r.started_at), str(r.epochs_done),
                     _duration(r.duration), r.data_source, f"{r.train_count:,}",
                     _percent(r.final.get("val_accuracy")),
                     _percent(r.final.get("test_accuracy")), r.sweep or ""])
    return _align(rows, right={0, 4, 5, 7, 8, 9})


def _show(r: Any) -> str:
    lines = [f"Run {r.id}: {r.name}",
             f"  status       {r.status}",
             f"  started      {_when(r.started_at)} · {_duration(r.duration)}",
             f"  model        {r.model_name} ({r.param_count:,} parameters)",
             f"  data         {r.data_source}: {r.train_count:,} training, "
             f"{r.validation_count:,} validation, {r.test_count:,} test"]
    if r.sweep:
        lines.append(f"  sweep        {r.sweep}")
    lines.append("  settings     " + ", ".join(f"{k} {_number(v)}" for k, v in r.settings.items()))
    if r.final:
        lines.append("  final        " + ", ".join(f"{k} {_number(v)}" for k, v in r.final.items()))
    lines.append(f"  saved model  {r.model_path or '-'}")
    if r.tags:
        lines.append(f"  tags         {' '.join(r.tags)}")
    if r.notes:
        lines.append(f"  notes        {r.notes}")
    if r.history:
        keys = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                if any(k in row for row in r.history)]
        rows = [["epoch"] + keys]
        rows += [[str(i + 1)] + [_number(row.get(k)) for k in keys]
                 for i, row in enumerate(r.history)]
        lines += ["", _align(rows, right=set(range(len(keys) + 1)))]
    return "\n".join(lines)


def _compare(records: list[Any]) -> str:
    settings: list[str] = []
    for r in records:
        settings += [k for k in r.settings if k not in settings]
    metrics = ("accuracy", "loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss")
    rows = [["", *(f"run {r.id}" for r in records)],
            ["name", *(r.name for r in records)],
            ["status", *(r.status for r in records)],
            ["model", *(f"{r.model_name} ({r.param_count:,})" for r in records)],
            ["data", *(f"{r.data_source} ({r.train_count:,})" for r in records)],
            ["epochs trained", *(str(r.epochs_done) for r in records)],
            ["time", *(_duration(r.duration) for r in records)]]
    rows += [[k, *(_number(r.settings.get(k)) for r in records)] for k in settings]
    rows += [[f"final {k}", *(_number(r.final.get(k)) for r in records)] for k in metrics]
    return _align(rows, right=set())


# ---------------------------------------------------------------- plot


def plot_curves(records: list[Any], path: Path) -> Path:
    """Overlaid loss and accuracy curves of the runs (training solid, validation dashed, one
    colour per run), saved as PNG or SVG by the file's suffix. Returns the path."""
    import matplotlib
    from matplotlib.figure import Figure   # no pyplot: no GUI backend, Agg/SVG canvases only
    from matplotlib.ticker import MaxNLocator

    from cnnviz.core.atomic_save import save_file_atomically

    figure = Figure(figsize=(11, 4.5), dpi=120, layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    colours = matplotlib.colormaps["tab10"].colors
    for index, r in enumerate(records):
        colour = colours[index % len(colours)]
        epochs = list(range(1, len(r.history) + 1))
        for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            for prefix, style, label in (("", "-", "training"), ("val_", "--", "validation")):
                values = [row.get(prefix + key, math.nan) for row in r.history]
                if any(not math.isnan(v) for v in values):
                    axes.plot(epochs, values, style, color=colour, linewidth=2.2, marker="o",
                              markersize=4, label=f"run {r.id} {r.name} ({label})")
    for axes, title in ((loss_axes, "Loss"), (accuracy_axes, "Accuracy")):
        axes.set_title(title, fontsize=14)
        axes.set_xlabel("epoch", fontsize=12)
        axes.grid(True, alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(labelsize=11)
    accuracy_axes.legend(fontsize=9, loc="lower right")
    fmt = path.suffix.lower().lstrip(".")
    save_file_atomically(path, lambda target: figure.savefig(target, format=fmt))
    return path
