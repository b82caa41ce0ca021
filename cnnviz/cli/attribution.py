"""`cnnviz attribution`: where the network looks, for one input.

    cnnviz attribution MODEL --data SOURCE [--split S] [--index I]
        --method gradcam|saliency|integrated-gradients [--layer NAME] [--class K] [--steps N]
        (--out DIR | --json)

Every map is the gradient of one class's score BEFORE the softmax (the predicted class, or
--class K). --json prints the map as a 2-D array under "map" (Grad-CAM at the conv layer's
resolution, the others at the input's; a 1-D model's map is one row over the steps) with the
class, its score, the method and the layer. --layer may name a conv layer inside a nested
network (a transfer model's base) as network/layer, or by its plain name when unique. --out DIR writes two PNG files: the map, and the
map over the input with a "less / more important" colour bar. The pictures are drawn with
matplotlib's Agg canvas: no Qt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz.cli.common import (
    DATA_HELP, EXIT_OK, add_series_options, load_model_argument, model_takes_sequences,
    start_tensorflow,
)
from cnnviz.cli.explain import dumps_one_key_per_line, load_input
from cnnviz.core.errors import CnnvizError


class AttributionCliError(CnnvizError):
    """A problem with `cnnviz attribution`'s arguments, shown as one line."""


def add_attribution_parser(commands: Any) -> None:
    """Register the `attribution` sub-command on an argparse sub-parsers object."""
    parser = commands.add_parser(
        "attribution",
        prog="cnnviz attribution",
        usage="cnnviz attribution MODEL --data SOURCE [--split all|test|validation|train] "
              "[--index I] --method gradcam|saliency|integrated-gradients [--layer NAME] "
              "[--class K] [--steps N] (--out DIR | --json)",
        help="where the network looks: a Grad-CAM or saliency map as PNG or JSON",
        description="Compute where the network looks for one input: Grad-CAM (Selvaraju et al. "
                    "2017) at a conv layer, a gradient saliency map (Simonyan et al. 2014) or "
                    "integrated gradients (Sundararajan et al. 2017, from a black baseline), "
                    "all from the class score before the softmax. --json prints the map as a "
                    "2-D array under \"map\": Grad-CAM at the conv layer's height × width, "
                    "saliency and integrated gradients at the input's. For a 1-D model (a "
                    "signal of steps × channels) the map is one value per step, given as a "
                    "2-D array with one row. --out DIR writes the map and the map over the "
                    "input as PNG files.")
    parser.add_argument("model", metavar="MODEL", help="a spec (.json) or a saved model (.keras, .h5)")
    parser.add_argument("--data", required=True, metavar="SOURCE",
                        help="an image file, or a data source: " + DATA_HELP)
    parser.add_argument("--split", default=None, choices=("all", "test", "validation", "train"),
                        help="which part --index counts in (default: the data `cnnviz "
                             "evaluate` measures)")
    parser.add_argument("--index", type=int, default=0, metavar="I",
                        help="which image or series of that part, from 0 (default 0)")
    parser.add_argument("--method", required=True,
                        choices=("gradcam", "saliency", "integrated-gradients"),
                        help="gradcam: a conv layer's maps weighed by their mean gradient; "
                             "saliency: the largest |gradient| over the input's channels; "
                             "integrated-gradients: gradients along the path from a black input")
    parser.add_argument("--layer", metavar="NAME",
                        help="Grad-CAM's conv layer (default: the last conv layer). A layer "
                             "inside a nested network, such as a transfer model's base, is "
                             "named network/layer (e.g. frozen_base/conv2d_1), or by its plain "
                             "name when no other layer has that name")
    parser.add_argument("--class", dest="class_index", type=int, default=None, metavar="K",
                        help="the class to explain, from 0 (default: the predicted class)")
    parser.add_argument("--steps", type=int, default=32, metavar="N",
                        help="integrated gradients: points on the path from black (default 32)")
    parser.add_argument("--out", metavar="DIR", help="folder for the two PNG files")
    parser.add_argument("--json", action="store_true", help="print the map and its class as JSON")
    parser.add_argument("--trust", action="store_true",
                        help="allow a saved model that contains Python code (Lambda layers)")
    add_series_options(parser)


def _check_arguments(args: argparse.Namespace) -> Path | None:
    if args.json == bool(args.out):
        raise AttributionCliError("Give either --out DIR (PNG pictures) or --json (the numbers), "
                                  "one of the two.")
    if args.index < 0:
        raise AttributionCliError("--index must be 0 or more.")
    if args.steps < 1:
        raise AttributionCliError("--steps must be at least 1.")
    if args.layer and args.method != "gradcam":
        raise AttributionCliError(f"--layer picks Grad-CAM's conv layer; {args.method} always "
                                  "works on the input, so leave --layer out.")
    if not args.out:
        return None
    from cnnviz.core.atomic_save import writable_folder_problem

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise AttributionCliError(f"--out {out} is a file; give a folder.")
    problem = writable_folder_problem(out)  # before the model and data are loaded
    if problem:
        raise AttributionCliError(f"--out {out}: {problem} Choose another folder.")
    return out


def cmd_attribution(args: argparse.Namespace) -> int:
    """Run `cnnviz attribution`; returns the exit code. Raises CnnvizError for problems the
    user can fix."""
    out = _check_arguments(args)
    start_tensorflow()
    from cnnviz.core.explain.attribution import Attribution

    model, trained = load_model_argument(args.model, args.trust)
    attribution = Attribution(model)
    sequence_input = model_takes_sequences(model)
    image, label, class_names, description = load_input(
        args.data, args.index, attribution.input_shape, args.split, args, sequence_input)
    result = attribution.compute(args.method, image, args.layer, args.class_index, args.steps)
    if not trained:
        print("note: a spec has random weights; train it (cnnviz train) for a map worth "
              "reading", file=sys.stderr)
    name = _class_name(class_names, result.class_index)
    if out is None:
        values = result.values[None] if result.values.ndim == 1 else result.values
        report: dict[str, Any] = {
            "model": Path(args.model).name, "input": description, "method": args.method,
            "layer": result.layer, "class": result.class_index, "class_name": name,
            "score": result.score, "predicted": result.predicted, "label": label,
        }
        if result.steps is not None:
            report.update(steps=result.steps, baseline=result.baseline)
        report["map"] = values.tolist()
        print(dumps_one_key_per_line(report))
        return EXIT_OK
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AttributionCliError(f"Cannot create the folder {out}: {exc.strerror or exc}.") from None
    stem = f"{Path(args.model).stem}_{args.index}_{args.method}"
    caption = (f"{result.title}{' at ' + result.layer if result.layer else ''}, class "
               f"{name} (score before softmax {result.score:.3g})")
    written = [_write_map(out / f"{stem}_map.png", result.values, caption),
               _write_overlay(out / f"{stem}_overlay.png", image, result.values, caption)]
    print(f"{caption}, for {description}:")
    for path in written:
        print(f"  {path}")
    return EXIT_OK


def _class_name(class_names: list[str] | None, index: int) -> str:
    if class_names and 0 <= index < len(class_names) and class_names[index] != str(index):
        return f"{index} ({class_names[index]})"
    return str(index)


# ----------------------------------------------------------------------------- pictures

def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _colour_bar(figure: Any, axes: Any, mappable: Any) -> None:
    bar = figure.colorbar(mappable, ax=axes, fraction=0.05, pad=0.02, ticks=[0, 1])
    bar.ax.set_yticklabels(["less\nimportant", "more\nimportant"], fontsize=8)


def _save(figure: Any, path: Path) -> Path:
    try:
        figure.savefig(path)
    except OSError as exc:
        raise AttributionCliError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path


def _write_map(path: Path, values: np.ndarray, caption: str) -> Path:
    """The map alone, at its own resolution (each cell one block, no smoothing)."""
    from cnnviz.core.explain.attribution import normalized

    figure = _figure(5.0, 4.2 if values.ndim == 2 else 2.0)
    axes = figure.add_subplot()
    shown = normalized(values)
    picture = axes.imshow(shown if shown.ndim == 2 else shown[None], cmap="inferno", vmin=0,
                          vmax=1, interpolation="nearest", aspect="auto" if shown.ndim == 1 else None)
    if values.ndim == 1:
        axes.set_yticks([])
        axes.set_xlabel("step")
    axes.set_title(caption, fontsize=8)
    _colour_bar(figure, axes, picture)
    return _save(figure, path)


def _write_overlay(path: Path, image: np.ndarray, values: np.ndarray, caption: str) -> Path:
    """The map over the input: heat mixed into the image, or shading under a signal's lines."""
    from cnnviz.core.explain.attribution import normalized, overlay_rgb, upsampled

    if values.ndim == 2:
        figure = _figure(5.0, 4.2)
        axes = figure.add_subplot()
        axes.imshow(overlay_rgb(image, values), interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        figure = _figure(8.0, 3.0)
        axes = figure.add_subplot()
        signal = np.asarray(image, np.float32)
        low, high = float(signal.min()), float(signal.max())
        strength = normalized(upsampled(values, (signal.shape[0],)))
        axes.imshow(strength[None], cmap="inferno", vmin=0, vmax=1, aspect="auto", alpha=0.6,
                    extent=(-0.5, signal.shape[0] - 0.5, low, high if high > low else low + 1))
        for channel in range(signal.shape[1]):
            axes.plot(signal[:, channel], color="black" if channel == 0 else None, linewidth=1.2)
        axes.set_xlabel("step")
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    axes.set_title(caption, fontsize=8)
    _colour_bar(figure, axes, ScalarMappable(Normalize(0, 1), "inferno"))
    return _save(figure, path)
