"""The argparse front door: parse the command line, run one command, and turn every problem a
user can cause into one line "cnnviz: <message>" on stderr with exit code 2.

Start-up speed matters, so neither this module nor the command modules import TensorFlow,
Keras or Qt at the top: each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from cnnviz import __version__
from cnnviz.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR
from cnnviz.cli.evaluate import add_evaluate_parser, cmd_evaluate
from cnnviz.cli.explain import add_explain_parser, cmd_explain
from cnnviz.cli.export_code import add_export_code_parser, cmd_export_code
from cnnviz.cli.gui import cmd_gui
from cnnviz.cli.summary import add_summary_parser, cmd_summary
from cnnviz.cli.train import add_train_parser, cmd_train
from cnnviz.core.errors import CnnvizError

COMMANDS = ("summary", "export-code", "train", "explain", "evaluate")

USAGE = """\
cnnviz [-h] [--version] [FILE.json]
       cnnviz summary [--trust] FILE
       cnnviz export-code SPEC [-o OUT.py]
       cnnviz train SPEC --data SOURCE --epochs N [--batch-size B] [--optimizer NAME] [--lr X]
                    [--val-split F] [--augment] --out MODEL.keras [--history FILE.csv]
       cnnviz explain MODEL --data SOURCE [--index I] [--layer NAME] --out DIR
       cnnviz explain MODEL --data SOURCE [--index I] --layer NAME --position Y,X [--filter K] --json
       cnnviz evaluate MODEL --data SOURCE [--split test|validation|train] [--batch-size B] [--adapt]"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="cnnviz",
        usage=USAGE,
        description="See inside convolutional neural networks. Without a command, opens the app "
                    "(optionally with a model spec FILE.json loaded).",
    )
    parser.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    add_summary_parser(commands)
    add_export_code_parser(commands)
    add_train_parser(commands)
    add_explain_parser(commands)
    add_evaluate_parser(commands)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse argv; a first argument that is not a command or an option is a file for the GUI."""
    parser = build_parser()
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        gui = argparse.ArgumentParser(prog="cnnviz", usage=USAGE)
        gui.add_argument("file", metavar="FILE.json")
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
    return cmd_gui(args.file)


def run_command_line(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 a problem the user can fix)."""
    _tolerant_streams()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except CnnvizError as exc:
        message = _one_line(str(exc)) or type(exc).__name__
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
    print(f"cnnviz: {message}", file=sys.stderr)
    return EXIT_USER_ERROR
