"""The argparse front door: parse the command line, run one command, and turn every problem a
user can cause into one line "cnnviz: <message>" on stderr with exit code 2. Anything else (a
bug, or an input nobody foresaw) is one line too, with exit code 1: it names the log file in the
user's data folder (core.user_folders) that holds the full traceback; --verbose also prints it.

Every command runs inside `cnnviz.quiet.quiet_tensorflow`, so TensorFlow's start-up notes
and Keras's warnings stay off the terminal unless `--verbose` is given.

Start-up speed matters, so neither this module nor the command modules import TensorFlow,
Keras or Qt at the top: each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from cnnviz import __version__
from cnnviz.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USER_ERROR,
)
from cnnviz.cli.dense_vs_cnn import add_dense_vs_cnn_parser, cmd_dense_vs_cnn
from cnnviz.cli.attribution import add_attribution_parser, cmd_attribution
from cnnviz.cli.cache import add_cache_parser, cmd_cache
from cnnviz.cli.evaluate import add_evaluate_parser, cmd_evaluate
from cnnviz.cli.explain import add_explain_parser, cmd_explain
from cnnviz.cli.export_code import add_export_code_parser, cmd_export_code
from cnnviz.cli.features import add_features_parser, cmd_features
from cnnviz.cli.gui import cmd_gui
from cnnviz.cli.runs import add_runs_parser, cmd_runs
from cnnviz.cli.scratch_vs_transfer import (add_scratch_vs_transfer_parser,
                                            cmd_scratch_vs_transfer)
from cnnviz.cli.summary import add_summary_parser, cmd_summary
from cnnviz.cli.sweep import add_sweep_parser, cmd_sweep
from cnnviz.cli.train import add_train_parser, cmd_train
from cnnviz.cli.transfer import add_transfer_parser, cmd_transfer
from cnnviz.core.errors import CnnvizError, UntrustedModelError
from cnnviz.core.user_folders import logs_folder
from cnnviz.quiet import quiet_tensorflow

COMMANDS = ("summary", "export-code", "train", "explain", "evaluate", "runs", "sweep",
            "transfer", "dense-vs-cnn", "scratch-vs-transfer", "attribution", "features", "cache")

USAGE = """\
cnnviz [-h] [--version] [--verbose] [--presentation] [FILE]
       cnnviz summary [--trust] FILE
       cnnviz export-code SPEC [-o OUT.py]
       cnnviz train SPEC --data SOURCE --epochs N [--batch-size B] [--optimizer NAME] [--lr X]
                    [--val-split F] [--augment] [--size HxW] [--grayscale] [--seed S]
                    --out MODEL.keras [--history FILE.csv] [--trust] [--name NAME] [--no-record]
       cnnviz explain MODEL --data SOURCE [--split S] [--index I] [--layer NAME] --out DIR
                    [--max-frames N]
       cnnviz explain MODEL --data SOURCE [--split S] [--index I] --layer NAME --position Y,X
                    [--filter K] --json
       cnnviz evaluate MODEL --data SOURCE [--split all|test|validation|train] [--batch-size B]
                    [--adapt] [--trust]
       cnnviz runs [--sweep NAME] [--tag TAG] [--limit N]
       cnnviz runs show ID | compare ID ID ... [--plot FILE.png|.svg] | export FILE.csv
                    | delete ID [ID ...]
       cnnviz sweep SPEC [SPEC ...] --data SOURCE --epochs N [--param NAME=V1,V2,... ...]
                    [--train-sizes N1,N2,...] (--grid | --random K | --bayes K) [--prune]
                    [--workers N] [--storage URL] [--study NAME]
       cnnviz transfer BASE --data SOURCE --epochs N --out MODEL.keras [--cut LAYER]
                    [--head-units U] [--dropout R] [--fine-tune K --fine-tune-epochs M]
                    [--weights imagenet|random] [--resize [HxW]] [--limit N] [--no-record]
       cnnviz dense-vs-cnn [--data SOURCE] [--epochs N] [--sizes N1,N2,...]
                    [--plot FILE.png|.svg] [--no-record]
       cnnviz scratch-vs-transfer [BASE] [--data SOURCE] [--epochs N] [--limit N]
                    [--plot FILE.png|.svg] [--no-record]
       cnnviz attribution MODEL --data SOURCE [--split S] [--index I]
                    --method gradcam|saliency|integrated-gradients [--layer NAME] [--class K]
                    [--steps N] (--out DIR | --json)
       cnnviz features MODEL --data SOURCE --layer NAME [--layer NAME ...] --out DIR
                    [--split S] [--method pca|tsne] [--limit N] [--adapt] [--no-cache]
       cnnviz cache [clear [features|bases|all]]
every command also takes --verbose (show TensorFlow's start-up messages and Keras's warnings)"""

VERBOSE_HELP = ("show TensorFlow's start-up messages and Keras's warnings on the terminal "
                "(hidden by default)")
PRESENTATION_HELP = ("open the app in presentation mode: full screen, large type, thick lines "
                     "and high contrast, for a projector")


# The command line's way to trust a file; the app has its "I trust this file" button instead.
TRUST_HINT = (" Add --trust to the command to open it anyway, only if you trust where the file "
              "came from.")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="cnnviz",
        usage=USAGE,
        description="See inside convolutional neural networks. Without a command, opens the app "
                    "(optionally with FILE loaded: a model spec .json, or a saved model .keras, "
                    ".h5, which opens in the Inspect view).",
    )
    parser.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    _add_app_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    add_summary_parser(commands)
    add_export_code_parser(commands)
    add_train_parser(commands)
    add_explain_parser(commands)
    add_evaluate_parser(commands)
    add_runs_parser(commands)
    add_sweep_parser(commands)
    add_transfer_parser(commands)
    add_dense_vs_cnn_parser(commands)
    add_scratch_vs_transfer_parser(commands)
    add_attribution_parser(commands)
    add_features_parser(commands)
    add_cache_parser(commands)
    for command in commands.choices.values():
        # SUPPRESS: `cnnviz --verbose summary F` keeps the value the main parser set.
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)
    return parser


def _add_app_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    parser.add_argument("--presentation", action="store_true", help=PRESENTATION_HELP)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse argv; a first argument that is not a command or an option is a file for the GUI."""
    parser = build_parser()
    first_word = next((arg for arg in argv if not arg.startswith("-")), None)
    if first_word is not None and first_word not in COMMANDS \
            and not {"-h", "--help", "--version"} & set(argv):
        gui = argparse.ArgumentParser(prog="cnnviz", usage=USAGE)
        _add_app_options(gui)
        gui.add_argument("file", metavar="FILE")
        args = gui.parse_args(argv)
        args.command = None
        return args
    args = parser.parse_args(argv)
    if args.command is None:
        args.file = None
    return args


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tolerant_streams() -> None:
    """Never crash on a console that cannot show '×' or '—' (e.g. a Windows code page)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


def _run(args: argparse.Namespace) -> int:
    if args.command == "summary":
        return cmd_summary(args.file, trust=args.trust)
    if args.command == "export-code":
        return cmd_export_code(args.spec, args.output)
    if args.command == "train":
        return cmd_train(args)
    if args.command == "explain":
        return cmd_explain(args)
    if args.command == "evaluate":
        return cmd_evaluate(args)
    if args.command == "runs":
        return cmd_runs(args)
    if args.command == "sweep":
        return cmd_sweep(args)
    if args.command == "transfer":
        return cmd_transfer(args)
    if args.command == "dense-vs-cnn":
        return cmd_dense_vs_cnn(args)
    if args.command == "scratch-vs-transfer":
        return cmd_scratch_vs_transfer(args)
    if args.command == "attribution":
        return cmd_attribution(args)
    if args.command == "features":
        return cmd_features(args)
    if args.command == "cache":
        return cmd_cache(args)
    return cmd_gui(args.file, presentation=args.presentation)


def write_crash_log(argv: Sequence[str], exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a new file in the logs folder (or, if
    that cannot be written, the system's temporary folder). Returns its path, or None."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = (f"cnnviz {__version__} on Python {platform.python_version()} "
            f"({platform.platform()})\ncommand: cnnviz {' '.join(argv)}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    import tempfile

    for folder in (logs_folder, lambda: Path(tempfile.gettempdir())):
        try:
            path = folder() / f"cnnviz-crash-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8", errors="replace")
            return path
        except (OSError, RecursionError):
            continue
    return None


def unexpected_error_line(exc: BaseException, log: Path | None) -> str:
    """The one line shown for an error cnnviz did not foresee."""
    what = _one_line(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
    if len(what) > 160:
        what = what[:157] + "..."
    where = (f"the details are in {log}; please include that file when you report it"
             if log is not None else "no log file could be written")
    return (f"cnnviz: an unexpected error stopped the command ({what}). This is a bug in "
            f"cnnviz; {where}.")


def run_command_line(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 a problem the user can fix,
    1 an unexpected error, whose traceback goes to a log file)."""
    _tolerant_streams()
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        with quiet_tensorflow(verbose=args.verbose):
            return _run(args)
    except CnnvizError as exc:
        message = _one_line(str(exc)) or type(exc).__name__
        if isinstance(exc, UntrustedModelError):
            message += TRUST_HINT
    except BrokenPipeError:
        # `cnnviz summary model.json | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        message = _one_line(f"{where}{exc.strerror or exc}")
    except ImportError as exc:
        # A missing or broken TensorFlow/Keras/PySide6 install, not a bug in the user's files.
        message = _one_line(f"A required library failed to load ({exc}). "
                            f"Reinstall with: pip install -e .")
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # the catch-all: never a raw traceback on the terminal
        log = write_crash_log(argv, exc)
        if args.verbose:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        print(unexpected_error_line(exc, log), file=sys.stderr)
        return EXIT_UNEXPECTED
    print(f"cnnviz: {message}", file=sys.stderr)
    return EXIT_USER_ERROR
