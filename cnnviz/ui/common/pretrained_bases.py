"""What the builder and the Transfer page share about pre-built bases: the weights status
sentence, the short label of a PretrainedBase layer, the standard head put on a base, and the
background work that prepares a base (core.transfer.base_blocks) with its progress.

No widgets here: the builder's base dialog and the Transfer page's chooser show these.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.model.spec_params import PRETRAINED_BASE

# Parameters of each application without its classifier top, as Keras counts them (they do
# not depend on the input size; tests check MobileNetV2's against Keras).
APPLICATION_PARAMETERS = {
    "mobilenet_v2": 2_257_984, "mobilenet_v3_small": 939_120, "efficientnet_b0": 4_049_571,
    "resnet50": 23_587_712, "vgg16": 14_714_688,
}
ERROR_COLOR = "#b3261e"
ZERO_WIDTH_SPACE = "\u200b"
DEFAULT_CLASSES = 10
HEAD_UNITS, HEAD_DROPOUT = 128, 0.2

Report = Callable[[str, int, int], None]


def error_text(message: str) -> str:
    """A message as red rich text (a style sheet would stop the label's font following the
    zoom)."""
    return f"<span style='color:{ERROR_COLOR}'>{html.escape(message)}</span>"


def breakable(text: str) -> str:
    """Long file names and folders that may wrap after _ / - and . (a label never breaks a
    word otherwise, and a 60-letter weights file name would be clipped)."""
    for mark in "_/-.":
        text = text.replace(mark, mark + ZERO_WIDTH_SPACE)
    return text


def weights_status(name: str, size: int) -> tuple[bool, str]:
    """(cached?, a sentence naming the ImageNet weights file and its folder)."""
    from cnnviz.core.transfer.bases import keras_models_dir, weights_file_for

    file_name, _url, _ = weights_file_for(name, size)
    folder = keras_models_dir()
    if (folder / file_name).is_file():
        return True, f"ImageNet weights: on this computer ({file_name} in {folder})."
    return False, (f"ImageNet weights: not on this computer. Download puts {file_name} in "
                   f"{folder}. Offline, random weights still let you explore the network.")


def show_download_progress(bar: Any, done: int, total: int) -> None:
    """A QProgressBar showing the megabytes downloaded; busy while the total is unknown."""
    if total > 0:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * done / total))
        bar.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
    else:
        bar.setRange(0, 0)
        bar.setFormat("")


def network_title(source: str) -> str:
    """'MobileNetV2' for an application name, the file's name for a model file."""
    from cnnviz.core.transfer.bases import APPLICATIONS

    app = APPLICATIONS.get(source)
    return app.title if app is not None else Path(source).name


def base_label(layer: LayerSpec) -> str:
    """The one-line name of a PretrainedBase row: 'MobileNetV2 · cut at out_relu'; for a
    base kept from a saved model, 'frozen_base (saved weights)'."""
    from cnnviz.core.transfer.base_blocks import saved_base_name

    source = str(layer.params.get("source", ""))
    cut = str(layer.params.get("cut") or "")
    saved = saved_base_name(source, cut)
    if saved is not None:
        return f"{saved} (saved weights)"
    title = network_title(source)
    return f"{title} · cut at {cut}" if cut else title


def block_file_missing(layer: LayerSpec) -> bool:
    """Whether a PretrainedBase layer's prepared file is not on this computer."""
    block = str(layer.params.get("block_file") or "")
    return layer.type == PRETRAINED_BASE and bool(block) and not Path(block).is_file()


def missing_bases(spec: ModelSpec) -> list[int]:
    """The rows of the bases whose prepared file is missing."""
    return [row for row, layer in enumerate(spec.layers) if block_file_missing(layer)]


def head_layers(base: LayerSpec, classes: int, head_units: int = HEAD_UNITS,
                dropout: float = HEAD_DROPOUT) -> list[LayerSpec]:
    """The head put on a base: GlobalAveragePooling2D when the base gives a feature map,
    Dense(head_units) relu when > 0, Dropout when > 0, Dense(classes) softmax."""
    layers: list[LayerSpec] = []
    if len(base.params.get("output_shape") or []) == 3:
        layers.append(LayerSpec.new("GlobalAveragePooling2D"))
    elif len(base.params.get("output_shape") or []) > 1:
        layers.append(LayerSpec.new("Flatten"))
    if head_units > 0:
        layers.append(LayerSpec.make("Dense", units=int(head_units), activation="relu"))
    if dropout > 0:
        layers.append(LayerSpec.make("Dropout", rate=round(float(dropout), 4)))
    layers.append(LayerSpec.make("Dense", units=int(classes), activation="softmax"))
    return layers


@dataclass(frozen=True)
class BaseChoice:
    """What to prepare: an application name or a model file, "imagenet" or "random"
    weights (a file brings its own), the square input size, and the cut (None: the
    network's default)."""

    source: str
    weights: str = "imagenet"
    size: int = 96
    cut: str | None = None

    @staticmethod
    def of_layer(layer: LayerSpec) -> "BaseChoice":
        p = layer.params
        return BaseChoice(str(p["source"]), str(p["weights"]),
                          int((p.get("input_size") or [96])[0]), p.get("cut") or None)


def prepare_work(choice: BaseChoice, channels: int, fetch: Callable[..., Any] | None = None
                 ) -> Callable[[Report], LayerSpec]:
    """The background work preparing `choice` for images of `channels` channels: reports the
    download's bytes (when ImageNet weights are fetched), then "Preparing…"; returns the
    frozen PretrainedBase layer."""

    def work(report: Report) -> LayerSpec:
        from cnnviz.core.transfer.base_blocks import prepare_base_block

        title = network_title(choice.source)
        report(f"Preparing {title}…", 0, 0)

        def progress(stage: str, done: int, total: int) -> None:
            report(stage, done, total)
            if total > 0 and done >= total:
                report(f"Preparing {title}…", 0, 0)

        return prepare_base_block(choice.source, weights=choice.weights,
                                  input_size=(choice.size, choice.size),
                                  input_channels=channels, cut=choice.cut,
                                  on_progress=progress, fetch=fetch)

    return work


def transfer_spec(base: LayerSpec, input_shape: tuple[int, ...], classes: int,
                  head_units: int = HEAD_UNITS, dropout: float = HEAD_DROPOUT,
                  name: str = "transfer") -> ModelSpec:
    """A whole model: the input, the frozen base, the head."""
    frozen = LayerSpec(base.type, dict(base.params), base.name, trainable=False)
    return ModelSpec(tuple(input_shape), [frozen, *head_layers(frozen, classes, head_units,
                                                               dropout)], name)
