"""Command-line front door: the GUI by default, plus `summary`, `export-code`, `train`, `explain`.

    cnnviz                     open the app
    cnnviz FILE.json           open the app with that model spec loaded
    cnnviz summary FILE        print a Keras-style summary of a spec (.json) or saved model (.keras/.h5)
    cnnviz export-code SPEC    print (or write with -o) a runnable Keras script for a spec
    cnnviz train SPEC --data SOURCE --epochs N --out MODEL.keras   train and save (cli_train.py)
    cnnviz explain MODEL --data SOURCE --out DIR     the explainer's pictures (cli_explain.py)
    cnnviz evaluate MODEL --data SOURCE   accuracy, per-class scores, confusion matrix (cli_evaluate.py)

Start-up speed matters, so this module imports neither TensorFlow, Keras nor Qt at the
top: each command imports what it needs. `summary` of a spec is pure arithmetic and never
imports TensorFlow. Any problem a user can cause (a missing file, bad JSON, a kernel
larger than its input) is printed as one line "cnnviz: <message>" on stderr with exit
code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, TYPE_CHECKING, Iterator, Sequence

from cnnviz import __version__
from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:  # for type hints only; importing these at run time costs nothing here
    from cnnviz.core.model.shapes import StackReport

EXIT_OK = 0
EXIT_USER_ERROR = 2  # same as argparse's usage errors
EXIT_INTERRUPTED = 130

SPEC_SUFFIXES = (".json",)
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
COMMANDS = ("summary", "export-code", "train", "explain", "evaluate")

# Keras stores float32 weights: 4 bytes per parameter (used for the "(1.97 MB)" figures).
BYTES_PER_PARAM = 4

USAGE = """\
cnnviz [-h] [--version] [FILE.json]
       cnnviz summary [--trust] FILE
       cnnviz export-code SPEC [-o OUT.py]
       cnnviz train SPEC --data SOURCE --epochs N [--batch-size B] [--optimizer NAME] [--lr X]
                    [--val-split F] [--augment] --out MODEL.keras [--history FILE.csv]
       cnnviz explain MODEL --data SOURCE [--index I] [--layer NAME] --out DIR
       cnnviz explain MODEL --data SOURCE [--index I] --layer NAME --position Y,X [--filter K] --json
       cnnviz evaluate MODEL --data SOURCE [--split test|validation|train] [--batch-size B] [--adapt]"""


class CliError(CnnvizError):
    """A problem with the command line's arguments or files, shown as one line."""


# ---------------------------------------------------------------- arguments


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnviz",
        usage=USAGE,
        description="See inside convolutional neural networks. Without a command, opens the app "
                    "(optionally with a model spec FILE.json loaded).",
    )
    parser.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    summary = commands.add_parser(
        "summary",
        prog="cnnviz summary",
        help="print layers, output shapes and parameter counts, like Keras's model.summary()",
        description="Print a Keras-style summary of a model spec (.json, no TensorFlow needed) "
                    "or of a saved Keras model (.keras, .h5).",
    )
    summary.add_argument("file", metavar="FILE", help="a model spec (.json) or a saved model (.keras, .h5)")
    summary.add_argument(
        "--trust", action="store_true",
        help="allow loading a saved model that contains Python code (Lambda layers); "
             "only for files you trust",
    )
    export = commands.add_parser(
        "export-code",
        prog="cnnviz export-code",
        help="print a runnable Python/Keras script that builds a model spec",
        description="Print a runnable Python script that builds the model of a spec with Keras.",
    )
    export.add_argument("spec", metavar="SPEC", help="a model spec (.json)")
    export.add_argument("-o", "--output", metavar="OUT.py", help="write the script to this file")
    from cnnviz.cli.train import add_train_parser

    add_train_parser(commands)
    from cnnviz.cli.explain import add_explain_parser

    add_explain_parser(commands)
    from cnnviz.cli.evaluate import add_evaluate_parser

    add_evaluate_parser(commands)
    return parser


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse argv; a first argument that is not a command or an option is a file for the GUI."""
    parser = _build_parser()
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


# ---------------------------------------------------------------- files


def _existing_file(path_text: str) -> Path:
    """The path if it names a readable file; CliError otherwise."""
    path = Path(path_text)
    if not path.exists():
        raise CliError(f"No such file: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a file.")
    if not os.access(path, os.R_OK):
        raise CliError(f"Cannot read {path}: permission denied.")
    return path


def _unknown_suffix(path: Path, expected: Sequence[str]) -> CliError:
    kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
    return CliError(f"{path}: cnnviz cannot read {kind}; expected {', '.join(expected)}.")


def _prepare_tensorflow() -> None:
    """Keep TensorFlow's start-up logs out of the CLI's output (call before importing it)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Keras reports through absl (e.g. "Compiled the loaded model, but ..."): warnings only
    # confuse a student reading a summary, so show errors only.
    logging.getLogger("absl").setLevel(logging.ERROR)


@contextlib.contextmanager
def _tensorflow_noise_hidden() -> Iterator[None]:
    """Hide TensorFlow's native start-up logs and Keras's warnings while loading a model.

    TensorFlow 2.21 writes notes such as "oneDNN custom operations are on" and "failed call
    to cuInit" from C++ straight to file descriptor 2, before it reads TF_CPP_MIN_LOG_LEVEL,
    so the variable alone does not stop them. They go to a temporary file instead. If
    something unexpected fails (not a CnnvizError, which we report in one line), the hidden
    text is written back so nothing useful for a bug report is lost.
    """
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no stderr at all (e.g. pythonw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
        return
    expected = False
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
            expected = True
        except CnnvizError:
            expected = True
            raise
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            if not expected:
                sink.seek(0)
                os.write(2, sink.read())


# ---------------------------------------------------------------- summary table


def readable_memory_size(size_bytes: float) -> str:
    """Bytes as Keras's summary writes them: '1.97 MB', '0.00 B' (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size_bytes / 1024 < 1:
            return f"{size_bytes:.2f} {unit}"
        size_bytes /= 1024
    return f"{size_bytes:.2f} PB"


def format_summary(report: "StackReport", model_name: str) -> str:
    """A table like Keras's model.summary(): an Input row, one row per layer, then the totals.

    When a layer is invalid the table stops at that layer (marked "error") and has no
    totals; the caller prints the layer's message.
    """
    from cnnviz.core.model.shapes import format_shape

    rows: list[tuple[str, str, str]] = []
    input_shape = "(error)" if report.input_error else format_shape(tuple(report.input_shape))
    rows.append(("input (InputLayer)", input_shape, "0"))
    if not report.input_error:
        for layer in report.layers:
            if layer.error:
                rows.append((f"{layer.name} ({layer.type})", "(error)", "-"))
                break
            rows.append((f"{layer.name} ({layer.type})", format_shape(layer.output_shape),
                         f"{layer.params:,}"))
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(minimum, *(len(row[i]) + 3 for row in rows))
              for i, minimum in enumerate((33, 26, 13))]

    def line(cells: tuple[str, str, str]) -> str:
        return (" " + cells[0].ljust(widths[0] - 1) + cells[1].ljust(widths[1])
                + cells[2].rjust(widths[2])).rstrip()

    total_width = sum(widths) + 1
    out = [f'Model: "{model_name}"', "_" * total_width, line(headers), "=" * total_width]
    out.extend(line(row) for row in rows)
    out.append("=" * total_width)
    if report.ok:
        for label, count in (("Total", report.total_params),
                             ("Trainable", report.trainable_params),
                             ("Non-trainable", report.non_trainable_params)):
            out.append(f" {label} params: {count:,} ({readable_memory_size(count * BYTES_PER_PARAM)})")
        out.append("_" * total_width)
    return "\n".join(out)


# ---------------------------------------------------------------- commands


def _read_spec(path: Path):  # -> ModelSpec
    """load_spec, with the file's name in messages that do not already say which file."""
    from cnnviz.core.errors import SpecError
    from cnnviz.core.model.spec import load_spec

    try:
        return load_spec(path)
    except SpecError as exc:
        if str(path) in str(exc):
            raise
        raise SpecError(f"{path}: {exc}") from None


def _load_spec_file(path_text: str):  # -> ModelSpec
    path = _existing_file(path_text)
    if path.suffix.lower() not in SPEC_SUFFIXES:
        if path.suffix.lower() in MODEL_SUFFIXES:
            raise CliError(f"{path} is a saved Keras model; this command needs a model spec (.json).")
        raise _unknown_suffix(path, SPEC_SUFFIXES)
    return _read_spec(path)


def cmd_summary(path_text: str, trust: bool = False) -> int:
    """Print the summary table of a spec or saved model. Returns the exit code."""
    path = _existing_file(path_text)
    suffix = path.suffix.lower()
    if suffix in SPEC_SUFFIXES:
        from cnnviz.core.model.shapes import analyze

        spec = _read_spec(path)
        report, name = analyze(spec), spec.name
    elif suffix in MODEL_SUFFIXES:
        _prepare_tensorflow()
        with _tensorflow_noise_hidden():
            from cnnviz.core.model.builder import load_model_file, summarize_keras_model

            model = load_model_file(path, trust=trust)
            report, name = summarize_keras_model(model), model.name
    else:
        raise _unknown_suffix(path, SPEC_SUFFIXES + MODEL_SUFFIXES)
    print(format_summary(report, name))
    problem = report.error_message()
    if problem:
        sys.stdout.flush()  # the table first, then the message, when both go to a terminal
        raise CliError(problem)
    return EXIT_OK


def cmd_export_code(spec_text: str, output: str | None = None) -> int:
    """Print, or write to `output`, a runnable Keras script for a spec. Returns the exit code."""
    from cnnviz.core.model.shapes import analyze

    spec = _load_spec_file(spec_text)
    problem = analyze(spec).error_message()
    if problem:
        # The script would fail as soon as it ran; say why now instead.
        raise CliError(problem)
    from cnnviz.core.model.codegen import export_python  # writes text; imports no TensorFlow

    code = export_python(spec)
    if output is None:
        sys.stdout.write(code if code.endswith("\n") else code + "\n")
        return EXIT_OK
    from cnnviz.core.atomic_save import save_text_atomically

    target = Path(output)
    if target.is_dir():
        raise CliError(f"{target} is a folder; give a file name such as {target / 'model.py'}.")
    save_text_atomically(target, code)
    print(f"Wrote {target}")
    return EXIT_OK


def load_model_argument(path_text: str, trust: bool, weights: str | None = None
                        ) -> tuple[Any, bool]:
    """(keras model, trained?) for a MODEL argument: a saved model (.keras, .h5), an
    architecture JSON from model.to_json() (with the weights file beside it, if any), or a
    cnnviz spec (.json, random weights)."""
    path = _existing_file(path_text)
    suffix = path.suffix.lower()
    if suffix in SPEC_SUFFIXES and not _is_architecture_json(path):
        from cnnviz.core.model.builder import build_model

        return build_model(_read_spec(path)), False
    if suffix not in SPEC_SUFFIXES + MODEL_SUFFIXES:
        raise _unknown_suffix(path, SPEC_SUFFIXES + MODEL_SUFFIXES)
    from cnnviz.core.inspect.model_files import open_model, suggest_weights_file

    if weights is None and suffix in SPEC_SUFFIXES:
        found = suggest_weights_file(path)
        weights = str(found) if found else None
    opened = open_model(path, weights_path=weights, trust=trust)
    for note in opened.notes:
        print(f"note: {note}", file=sys.stderr)
    return opened.model, not (opened.kind == "json" and opened.weights_path is None)


def _is_architecture_json(path: Path) -> bool:
    from cnnviz.core.inspect.model_files import is_architecture_json

    return is_architecture_json(path)


def cmd_gui(path_text: str | None) -> int:
    """Open the app, optionally with a spec loaded. A bad file is reported before Qt starts."""
    if path_text is not None:
        path = _existing_file(path_text)
        suffix = path.suffix.lower()
        if suffix in MODEL_SUFFIXES:
            pass  # a saved model opens in the app's Inspect view, which reports a bad file
        elif suffix in SPEC_SUFFIXES and _is_architecture_json(path):
            pass  # model.to_json() output: opened as a model, not as a spec
        else:
            _load_spec_file(path_text)  # checks the file now: a clear message, not a dialog
        path_text = str(path)
    try:
        from cnnviz.ui.app import run_app
    except ImportError as exc:
        raise CliError(f"Cannot start the app: {exc}. Reinstall with: pip install -e .") from None
    return int(run_app(path_text) or 0)


# ---------------------------------------------------------------- entry point


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
        from cnnviz.cli.train import cmd_train

        return cmd_train(args)
    if args.command == "explain":
        from cnnviz.cli.explain import cmd_explain

        return cmd_explain(args)
    if args.command == "evaluate":
        from cnnviz.cli.evaluate import cmd_evaluate

        return cmd_evaluate(args)
    return cmd_gui(args.file)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 a problem the user can fix)."""
    _tolerant_streams()
    args = _parse_args(sys.argv[1:] if argv is None else argv)
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
