"""A pre-built base as one layer of a model spec (`PretrainedBase`), so the builder edits the
head on top of it like any other stack.

`prepare_base_block(source, weights=..., input_size=(96, 96), input_channels=1, cut=None)`
opens the base (open_base: a Keras application or a model file), cuts it at a layer (default:
default_cut_layer), puts the base's own preprocessing in front as plain Keras layers (×255,
resizing to input_size, grey → colour, the application's scaling: the same layers as
build_transfer_model), freezes its BatchNormalization layers (so they always run in inference
mode, as Keras's transfer-learning guide asks), measures it and saves it as a Keras file in
the user's data folder. It returns the LayerSpec that stands for it: what it is (source,
weights, size, channels, cut), the file, and the measured output shape and weight counts, so
shapes.analyze stays instant and TensorFlow-free and builder.build_model loads the file.

`ensure_base_blocks(spec)` prepares again the bases whose file is missing (a spec from another
computer, a cleared data folder), from what the spec says they are.
TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cnnviz.core.errors import CnnvizError
from cnnviz.core.model.builder import save_model_file, weight_count
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer
from cnnviz.core.model.spec_params import PRETRAINED_BASE, default_params
from cnnviz.core.transfer.bases import (
    Fetch, ProgressCallback, is_application_name, open_base,
)
from cnnviz.core.transfer.transfer_model import (
    check_cut, cut_base, preprocessing_layers, default_cut_layer,
)
from cnnviz.core.user_folders import user_data_folder

if TYPE_CHECKING:
    import keras

__all__ = ["DEFAULT_INPUT_SIZE", "base_blocks_folder", "prepare_base_block",
           "ensure_base_blocks", "describe_base", "saved_base_name", "BASE_OUTPUT_LAYER",
           "BASE_END_LAYER"]

# MobileNetV2's smallest size with ImageNet weights: fast enough to train on a laptop in class.
DEFAULT_INPUT_SIZE = (96, 96)


def base_blocks_folder() -> Path:
    """Where prepared bases are saved: <data folder>/bases (not created here)."""
    return user_data_folder() / "bases"


def _file_identity(source: str) -> str:
    """A model file's path, size and time, so an edited file is prepared again."""
    path = Path(source).expanduser().resolve()
    try:
        stat = path.stat()
    except OSError:
        return str(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _block_path(folder: Path, source: str, weights: str, size: tuple[int, int],
                channels: int, cut: str | None) -> Path:
    identity = _file_identity(source) if not is_application_name(source) else source
    key = json.dumps([identity, weights, list(size), channels, cut or ""])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    stem = source if is_application_name(source) else Path(source).stem
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:40]
    return folder / f"{safe}-{weights}-{size[0]}x{size[1]}x{channels}-{digest}.keras"


def _freeze_batch_normalization(model: "keras.Model") -> None:
    import keras

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def _build_block(source: str, weights: str, size: tuple[int, int], channels: int,
                 cut: str | None, on_progress: ProgressCallback | None, trust: bool,
                 fetch: Fetch | None) -> tuple["keras.Model", str, str]:
    """(the block, the cut layer's name, a title) for the given base."""
    import keras

    inputs = keras.Input(shape=(None, None, channels), name="images")
    notes: list[str] = []
    if is_application_name(source):
        # Opened once to learn its preprocessing and check the cut, then built on the
        # preprocessed tensor, so the block is one flat model (Grad-CAM reaches its layers).
        probe = open_base(source, weights=weights, input_shape=size, on_progress=on_progress,
                          fetch=fetch)
        x = preprocessing_layers(inputs, probe, (0, 0, channels), True, notes)
        base = open_base(source, weights=weights, input_shape=size, fetch=fetch,
                         input_tensor=x)
        cut = cut or default_cut_layer(base)
        check_cut(base, cut)
        output = base.model.get_layer(cut).output
        title = base.application.title if base.application else source
    else:
        base = open_base(source, trust=trust)
        cut = cut or default_cut_layer(base)
        check_cut(base, cut)
        x = preprocessing_layers(inputs, base, (0, 0, channels), True, notes)
        output = cut_base(base, cut)(x)
        title = base.name
    block = keras.Model(inputs, output, name="pretrained_base")
    _freeze_batch_normalization(block)
    return block, cut, title


def prepare_base_block(source: str, *, weights: str = "imagenet",
                       input_size: tuple[int, int] | None = None, input_channels: int = 1,
                       cut: str | None = None, folder: Path | None = None,
                       on_progress: ProgressCallback | None = None, trust: bool = False,
                       fetch: Fetch | None = None, name: str | None = None) -> LayerSpec:
    """The PretrainedBase layer for a base, its file saved (reused when already there).

    Args:
        source: an application name ("mobilenet_v2", ...) or a model file.
        weights: "imagenet" or "random" for an application; a model file brings its own
            ("file" is used whatever is given).
        input_size: (height, width) an application's images are resized to (default 96×96);
            a model file always takes its own input size.
        input_channels: the channels of the images the model will get (1 or 3).
        cut: the base layer to cut at (default: default_cut_layer).
        folder: where to save the file (default: base_blocks_folder()).
        on_progress: on_progress(stage, done, total) while ImageNet weights download.
    Raises:
        BaseError / WeightsFileError (open_base), TransferError (a bad cut, channels that
        cannot be converted), ModelFileError (the file cannot be saved).
    """
    is_application = is_application_name(source)
    if not is_application:
        # A model file takes its own input size; the images are resized to it.
        weights = "file"
        probe = open_base(source, trust=trust)
        input_size = (probe.input_shape[0], probe.input_shape[1])
    size = tuple(int(d) for d in (input_size or DEFAULT_INPUT_SIZE))
    size2 = (size[0], size[1])
    folder = folder or base_blocks_folder()
    block, cut_name, _ = _build_block(source, weights, size2, input_channels, cut, on_progress,
                                      trust, fetch)
    # Named after the cut layer itself (not "the default"), so a base prepared again from
    # what its spec says finds or writes the very same file.
    path = _block_path(folder, source, weights, size2, input_channels, cut_name)
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        save_model_file(block, path)
    params = default_params(PRETRAINED_BASE)
    params.update(
        source=str(Path(source).expanduser().resolve()) if not is_application else source,
        weights=weights, input_size=list(size2), input_channels=input_channels, cut=cut_name,
        block_file=str(path), output_shape=[int(d) for d in block.output.shape[1:]],
        trainable_weights=weight_count(block.trainable_weights),
        non_trainable_weights=weight_count(block.non_trainable_weights))
    return normalize_layer(LayerSpec(PRETRAINED_BASE, params, name, trainable=False))


# A network kept from a saved model (spec_with_bases) is saved ending in two no-op layers and
# cut at the first: a model file's output layer cannot be a cut (for a classifier that is its
# old class scores), and a nested network cannot be one either (Keras names its inner output).
BASE_OUTPUT_LAYER, BASE_END_LAYER = "base_output", "base_end"


def saved_base_name(source: str, cut: str) -> str | None:
    """The network's name for a base kept from a saved model (spec_with_bases: a file
    <network>-<16 hex digits>.keras cut at BASE_OUTPUT_LAYER); None for any other base."""
    stem, _, digest = Path(source).stem.rpartition("-")
    if (cut != BASE_OUTPUT_LAYER or not stem or len(digest) != 16
            or any(ch not in "0123456789abcdef" for ch in digest)):
        return None
    return stem


def describe_base(layer: LayerSpec) -> str:
    """One line for a PretrainedBase layer: 'MobileNetV2 (ImageNet), cut at out_relu, 96×96'."""
    p = layer.params
    size = p["input_size"]
    saved = saved_base_name(str(p["source"]), str(p.get("cut") or ""))
    if saved is not None:
        return f"{saved}, kept from a saved model with its weights, {size[0]}×{size[1]}"
    source = p["source"] if is_application_name(p["source"]) else Path(p["source"]).name
    weights = {"imagenet": "ImageNet", "random": "random weights", "file": "its own weights"}
    return (f"{source} ({weights.get(p['weights'], p['weights'])}), cut at "
            f"'{p['cut']}', {size[0]}×{size[1]}")


def ensure_base_blocks(spec: ModelSpec, on_progress: ProgressCallback | None = None,
                       fetch: Fetch | None = None, trust: bool = False) -> ModelSpec:
    """The spec with every PretrainedBase's file present: a missing one is prepared again
    from what the layer says it is (in base_blocks_folder(); the returned spec names the new
    file). Raises as prepare_base_block, and CnnvizError when the base prepared again no
    longer matches the spec's measurements (the model file it came from changed)."""
    out = spec.copy()
    for index, layer in enumerate(out.layers):
        if layer.type != PRETRAINED_BASE or Path(layer.params.get("block_file", "")).is_file():
            continue
        p = normalize_layer(layer).params
        fresh = prepare_base_block(
            p["source"], weights=p["weights"], input_size=(p["input_size"][0],
                                                           p["input_size"][1]),
            input_channels=p["input_channels"], cut=p["cut"] or None,
            on_progress=on_progress, trust=trust, fetch=fetch, name=layer.name)
        measured = ("output_shape", "trainable_weights", "non_trainable_weights")
        if p["output_shape"] and any(fresh.params[k] != p[k] for k in measured):
            raise CnnvizError(
                f"The pre-built base '{spec.layer_names()[index]}' ({describe_base(layer)}) "
                f"was prepared again but no longer matches the spec (output "
                f"{fresh.params['output_shape']}, was {p['output_shape']}); the network it "
                f"comes from has changed. Choose the base again in the builder.")
        out.layers[index] = LayerSpec(PRETRAINED_BASE, fresh.params, layer.name,
                                      layer.trainable)
    return out
