"""`cnnviz export-code SPEC [-o OUT.py]`: a runnable Keras script that builds a spec's model
(written as text; no TensorFlow is imported)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cnnviz.cli.common import EXIT_OK, CliError, load_spec_file


def add_export_code_parser(commands: Any) -> None:
    """Register the `export-code` sub-command on an argparse sub-parsers object."""
    export = commands.add_parser(
        "export-code",
        prog="cnnviz export-code",
        help="print a runnable Python/Keras script that builds a model spec",
        description="Print a runnable Python script that builds the model of a spec with Keras.",
    )
    export.add_argument("spec", metavar="SPEC", help="a model spec (.json)")
    export.add_argument("-o", "--output", metavar="OUT.py", help="write the script to this file")


def cmd_export_code(spec_text: str, output: str | None = None) -> int:
    """Print, or write to `output`, a runnable Keras script for a spec. Returns the exit code."""
    from cnnviz.core.model.shapes import analyze

    spec = load_spec_file(spec_text)
    problem = analyze(spec).error_message()
    if problem:
        # The script would fail as soon as it ran; say why now instead.
        raise CliError(problem)
    from cnnviz.core.model.codegen import export_python

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
