"""`cnnviz explain`: the explainer's pictures and numbers from the command line.

    cnnviz explain MODEL --data SOURCE [--split S] [--index I] [--layer NAME] --out DIR
        writes, for the layer (or every layer): its steps, feature maps and filters as PNG,
        and the sliding-window animation of convolution and pooling layers as a GIF.
    cnnviz explain MODEL --data SOURCE [--index I] --layer NAME --position Y,X [--filter K] --json
        prints that one output value worked out (input window, kernel, products, per-channel
        sums, bias, value before and after the activation) as JSON, for anyone to check.
        For a 1-D layer (Conv1D, 1-D pooling) the position is one step: --position T.

MODEL is a spec (.json, random weights) or a saved model (.keras, .h5); SOURCE is a data
source as for `cnnviz train` or an image file; --index I is example I (from 0) of the data
`cnnviz evaluate` measures (all of a folder or of MNIST's t10k files; t10k image 7 is
--index 7; series 7 of a UCR folder's TEST file), or of --split S. The pictures are drawn
by the app's own
widgets on Qt's offscreen platform, so they look exactly like the Explain view
(explain_pictures.py, imported only for --out: the JSON path never imports Qt).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, add_series_options, load_model_argument, model_takes_sequences,
    start_tensorflow, with_series_options,
)
from cnnviz.core.errors import CnnvizError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


class ExplainCliError(CnnvizError):
    """A problem with `cnnviz explain`'s arguments, shown as one line."""


def add_explain_parser(commands: Any) -> None:
    """Register the `explain` sub-command on an argparse sub-parsers object."""
    explain = commands.add_parser(
        "explain",
        prog="cnnviz explain",
        usage="cnnviz explain MODEL --data SOURCE [--split all|test|validation|train] "
              "[--index I] [--layer NAME] (--out DIR | --position Y,X|T [--filter K] --json)",
        help="write the explainer's pictures (PNG, GIF) or print one step as JSON",
        description="Run one input through a model and explain a layer (or every layer): "
                    "PNG pictures and a GIF animation in --out DIR, or one output value worked "
                    "out as JSON with --position and --json.")
    explain.add_argument("model", metavar="MODEL", help="a spec (.json) or a saved model (.keras, .h5)")
    explain.add_argument("--data", required=True, metavar="SOURCE",
                         help="an image file, or a data source: " + DATA_HELP)
    explain.add_argument("--split", default=None, choices=("all", "test", "validation", "train"),
                         help="which part --index counts in (default: the data `cnnviz "
                              "evaluate` measures: all of a source with no test part, such as "
                              "a folder or MNIST's t10k files, else its test split, such as a "
                              "UCR folder's TEST file)")
    explain.add_argument("--index", type=int, default=0, metavar="I",
                         help="which image or series of that part, from 0 (t10k image 7 is "
                              "--index 7; default 0)")
    explain.add_argument("--layer", metavar="NAME", help="the layer to explain (default: every layer)")
    explain.add_argument("--out", metavar="DIR", help="folder for the PNG and GIF files")
    explain.add_argument("--position", metavar="Y,X|T",
                         help="with --json: the output cell to work out (row,column of a 2-D "
                              "layer; one step T of a 1-D layer)")
    explain.add_argument("--filter", type=int, default=0, metavar="K",
                         help="with --json: the filter (conv), channel (pooling) or unit (dense)")
    explain.add_argument("--json", action="store_true", help="print one step as JSON")
    explain.add_argument("--max-frames", type=int, default=400, metavar="N",
                         help="at most this many frames per GIF (default 400)")
    explain.add_argument("--trust", action="store_true",
                         help="allow a saved model that contains Python code (Lambda layers)")
    add_series_options(explain)


def _position(text: str | None) -> tuple[int, ...] | None:
    """(Y, X) for a 2-D layer or (T,) for a 1-D one; None when not given."""
    if text is None:
        return None
    try:
        position = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        position = ()
    if len(position) not in (1, 2):
        raise ExplainCliError(f"--position {text}: write it as Y,X for a 2-D layer (for "
                              "example 3,5), or as one step T for a 1-D layer (for example "
                              "12).")
    return position


def _check_arguments(args: argparse.Namespace) -> None:
    if args.json:
        if args.position is None and args.layer is None:
            raise ExplainCliError("--json needs --layer NAME (and --position Y,X for a 2-D "
                                  "layer, or T for a 1-D one).")
        if args.out:
            raise ExplainCliError("Use either --out DIR (pictures) or --json (numbers), not both.")
    elif not args.out:
        raise ExplainCliError("Give --out DIR for the pictures, or --layer, --position and --json "
                              "for the numbers of one step.")
    elif args.position is not None:
        raise ExplainCliError("--position goes with --json.")
    if args.index < 0:
        raise ExplainCliError("--index must be 0 or more.")
    if args.max_frames < 2:
        raise ExplainCliError("--max-frames must be at least 2.")


# ----------------------------------------------------------------------------- loading

def load_input(source: str, index: int, input_shape: tuple[int, ...],
                split_name: str | None = None, args: argparse.Namespace | None = None,
                sequence_input: bool = False
                ) -> tuple[np.ndarray, int | None, list[str] | None, str]:
    """(input, label, class names, description) from an image file or a data source:
    example `index` of `split_name` (None: the split `cnnviz evaluate` measures by default).
    An image is scaled to [0, 1]; a series is given as stored (z-normalised if asked)."""
    from cnnviz.core.data.input_images import dataset_input, image_file_to_input
    from cnnviz.core.data.split_choice import available_splits, measured_split, split_phrase

    if Path(source).suffix.lower() in IMAGE_SUFFIXES:
        if sequence_input:
            raise ExplainCliError(f"{Path(source).name} is a picture, but this model is a 1-D "
                                  "network that takes signals. Give --data a time-series "
                                  "source (a UCR folder, a .ts, .tsv, .arff or .csv file, or "
                                  "gunpoint-sample).")
        image = image_file_to_input(source, input_shape)
        return image, None, None, f"the image {Path(source).name}"
    from cnnviz.core.data.data_fit import fit_problem, load_options_for
    from cnnviz.core.data.datasets import load_dataset

    options = load_options_for(input_shape)
    if args is not None:
        options = with_series_options(options, args)
    dataset = load_dataset(source, options)
    problem = fit_problem(dataset, input_shape, sequence_input)
    if problem:
        raise ExplainCliError(problem)
    try:
        split = measured_split(dataset, split_name)
    except CnnvizError:
        choices = " or ".join(f"--split {name}" for name in available_splits(dataset))
        problem = (f"{dataset.name} has a test part of its own, so --split all does not apply"
                   if split_name == "all" else f"{dataset.name} has no {split_name} images")
        raise ExplainCliError(problem + (f"; use {choices}." if choices else ".")) from None
    count = dataset.split(split).count
    phrase = split_phrase(dataset, split)
    if index >= count:
        raise ExplainCliError(f"--index {index}: {phrase} are numbered 0 to {count - 1:,}.")
    if dataset.is_series:
        data = dataset.split(split)
        image = np.asarray(data.images([index])[0], np.float32)  # type: ignore[union-attr]
        label = int(data.labels()[index])  # type: ignore[union-attr]
        what = "series"
    else:
        image, label = dataset_input(dataset, split, index)
        what = "image"
    name = dataset.class_names[label] if 0 <= label < len(dataset.class_names) else str(label)
    return image, label, list(dataset.class_names), f"{what} #{index} of {phrase} (label {name})"


def _layer_position(forward: Any, name: str) -> int:
    names = [record.name for record in forward.layers]
    if name in names:
        return names.index(name)
    raise ExplainCliError(f"There is no layer named {name!r}; the layers are: {', '.join(names)}.")


# ----------------------------------------------------------------------------- JSON

def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def dumps_one_key_per_line(result: dict[str, Any]) -> str:
    """JSON with one key per line and each array on its line: readable, and still plain JSON."""
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in result.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _frame_1d(steps: Any, position: tuple[int, ...] | None, index: int) -> Any:
    """The frame of a Conv1D or 1-D pooling layer at step position[0], filter/channel index."""
    if position is None or len(position) != 1:
        given = "" if position is None else f" (not {','.join(map(str, position))})"
        raise ExplainCliError(f"{steps.name} is a {steps.layer_type} layer along a sequence: "
                              f"give --position T, one step{given}.")
    steps_out, channels = steps.output.shape[:2]
    if not 0 <= position[0] < steps_out:
        raise ExplainCliError(f"--position {position[0]} is outside {steps.name}'s output of "
                              f"{steps_out:,} steps (0–{steps_out - 1}).")
    if not 0 <= index < channels:
        what = "filter" if steps.kind == "conv1d" else "channel"
        raise ExplainCliError(f"--filter {index}: {steps.name} has {channels} {what}s "
                              f"(0 to {channels - 1}).")
    return steps.frame(position[0], index)


def frame_json(steps: Any, position: tuple[int, ...] | None, index: int) -> dict[str, Any]:
    """One worked-out step of a layer as a JSON-ready dict."""
    import dataclasses

    from cnnviz.core.errors import ExplainError

    kind = steps.kind
    if kind in ("conv1d", "pool1d"):
        frame = _frame_1d(steps, position, index)
    elif kind in ("conv", "pool"):
        if position is None or len(position) != 2:
            raise ExplainCliError(f"{steps.name} is a {steps.layer_type} layer: give "
                                  "--position Y,X (row and column).")
        height, width = steps.output.shape[:2]
        if not (0 <= position[0] < height and 0 <= position[1] < width):
            raise ExplainCliError(f"--position {position[0]},{position[1]} is outside {steps.name}'s "
                                  f"{height}×{width} output (rows 0–{height - 1}, columns 0–{width - 1}).")
        channels = steps.output.shape[2]
        if not 0 <= index < channels:
            what = "filter" if kind == "conv" else "channel"
            raise ExplainCliError(f"--filter {index}: {steps.name} has {channels} {what}s "
                                  f"(0 to {channels - 1}).")
        frame = steps.frame(position[0], position[1], index)
    elif kind == "dense":
        units = steps.output.shape[0]
        if not 0 <= index < units:
            raise ExplainCliError(f"--filter {index}: {steps.name} has {units} units (0 to {units - 1}).")
        frame = steps.frame(index, top_k=min(16, steps.kernel.shape[0]))
    else:
        raise ExplainCliError(f"{steps.name} ({steps.layer_type}) has no single step to print; "
                              "--json works for Conv2D, Conv1D, pooling and Dense layers.")
    try:
        fields = dataclasses.asdict(frame)
    except ExplainError as exc:  # pragma: no cover - frame() already checked
        raise ExplainCliError(str(exc)) from None
    return {"layer": steps.name, "type": steps.layer_type, **_jsonable(fields)}


def cmd_explain(args: argparse.Namespace) -> int:
    """Run `cnnviz explain`; returns the exit code. Raises CnnvizError for problems the user can fix."""
    _check_arguments(args)
    position = _position(args.position)
    out = None
    if args.out:
        from cnnviz.core.atomic_save import writable_folder_problem

        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ExplainCliError(f"--out {out} is a file; give a folder.")
        problem = writable_folder_problem(out)  # before the model and data are loaded
        if problem:
            raise ExplainCliError(f"--out {out}: {problem} Choose another folder.")
    start_tensorflow()
    from cnnviz.core.explain.activations import ActivationProbe
    from cnnviz.core.explain.forward_pass import layer_steps

    model, trained = load_model_argument(args.model, args.trust)
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    sequence_input = model_takes_sequences(model)
    if not (len(input_shape) == 3 or len(input_shape) == 2 and sequence_input):
        raise ExplainCliError(f"The explainer works on image models (height, width, channels) "
                              f"and 1-D models (steps, channels); this model's input has "
                              f"shape {input_shape}.")
    image, label, class_names, description = load_input(args.data, args.index, input_shape,
                                                         args.split, args, sequence_input)
    probe = ActivationProbe(model)
    forward = probe.run(image)
    if not trained:
        print("note: a spec has random weights; train it (cnnviz train) to see what it learns",
              file=sys.stderr)
    if args.json:
        steps = layer_steps(probe, forward, _layer_position(forward, args.layer))
        result = {"model": Path(args.model).name, "input": description,
                  **frame_json(steps, position, args.filter)}
        print(dumps_one_key_per_line(result))
        return EXIT_OK
    positions = ([_layer_position(forward, args.layer)] if args.layer
                 else list(range(len(forward.layers))))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExplainCliError(f"Cannot create the folder {out}: {exc.strerror or exc}.") from None
    from cnnviz.cli.explain_pictures import write_pictures

    written = write_pictures(probe, forward, positions, out, class_names, label, args.max_frames,
                             report=lambda text: print(text, file=sys.stderr, flush=True))
    print(f"Explained {description}:")
    for path in written:
        print(f"  {path}")
    return EXIT_OK
