"""`cnnviz summary FILE`: a Keras-style summary of a spec (pure arithmetic, no TensorFlow) or
of a saved model (.keras, .h5)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cnnviz.cli.common import (
    EXIT_OK, MODEL_SUFFIXES, SPEC_SUFFIXES, CliError, existing_file, read_spec, unknown_suffix,
)
from cnnviz.core.formatting import keras_shape, params_with_size

if TYPE_CHECKING:
    from cnnviz.core.model.shapes import StackReport
    from cnnviz.core.model.spec import ModelSpec


def add_summary_parser(commands: Any) -> None:
    """Register the `summary` sub-command on an argparse sub-parsers object."""
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


def _shape_cell(shape: tuple[Any, ...] | None) -> str:
    # The batch axis is given explicitly: a saved model's own shape may start with None.
    return keras_shape(None if shape is None else (None, *shape))


def format_summary(report: "StackReport", model_name: str,
                   descriptions: dict[str, tuple[str, str]] | None = None) -> str:
    """A table like Keras's model.summary(): an Input row, one row per layer, then the totals.

    `descriptions` maps a layer's name to (a sentence, the type shown in its row): a
    pre-built base's row names its network, and a line under the totals says what it is
    with its trainable and non-trainable counts.

    When a layer is invalid the table stops at that layer (marked "error") and has no
    totals; the caller prints the layer's message.
    """
    rows: list[tuple[str, str, str]] = []
    input_shape = "(error)" if report.input_error else _shape_cell(tuple(report.input_shape))
    rows.append(("input (InputLayer)", input_shape, "0"))
    if not report.input_error:
        for layer in report.layers:
            if layer.error:
                rows.append((f"{layer.name} ({layer.type})", "(error)", "-"))
                break
            kind = (descriptions or {}).get(layer.name, ("", layer.type))[1]
            rows.append((f"{layer.name} ({kind})", _shape_cell(layer.output_shape),
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
            out.append(f" {label} params: {params_with_size(count)}")
        for layer in report.layers:
            if layer.name in (descriptions or {}):
                state = ", frozen" if layer.frozen else ""
                out.append(f" {layer.name}: {descriptions[layer.name][0]}; "  # type: ignore[index]
                           f"{layer.trainable:,} trainable and {layer.non_trainable:,} "
                           f"non-trainable params{state}")
        out.append("_" * total_width)
    return "\n".join(out)


def base_descriptions(spec: "ModelSpec") -> dict[str, tuple[str, str]]:
    """Layer name → ("mobilenet_v2 (ImageNet), cut at ...", "pre-built mobilenet_v2") for
    the spec's pre-built bases (no TensorFlow: the spec holds what was measured)."""
    from pathlib import Path

    from cnnviz.core.model.spec_params import PRETRAINED_BASE
    from cnnviz.core.transfer.base_blocks import describe_base
    from cnnviz.core.transfer.bases import is_application_name

    found = {}
    for layer, name in zip(spec.layers, spec.layer_names()):
        if layer.type == PRETRAINED_BASE:
            source = str(layer.params.get("source", ""))
            network = source if is_application_name(source) else Path(source).name
            found[name] = (describe_base(layer), f"pre-built {network}")
    return found


def cmd_summary(path_text: str, trust: bool = False) -> int:
    """Print the summary table of a spec or saved model. Returns the exit code."""
    path = existing_file(path_text)
    suffix = path.suffix.lower()
    if suffix in SPEC_SUFFIXES:
        from cnnviz.core.model.shapes import analyze

        spec = read_spec(path)
        report, name = analyze(spec), spec.name
        descriptions = base_descriptions(spec)
    elif suffix in MODEL_SUFFIXES:
        from cnnviz.core.model.builder import load_model_file, summarize_keras_model

        model = load_model_file(path, trust=trust)
        report, name = summarize_keras_model(model), model.name
        descriptions = None
    else:
        raise unknown_suffix(path, SPEC_SUFFIXES + MODEL_SUFFIXES)
    print(format_summary(report, name, descriptions))
    problem = report.error_message()
    if problem:
        sys.stdout.flush()  # the table first, then the message, when both go to a terminal
        raise CliError(problem)
    return EXIT_OK
