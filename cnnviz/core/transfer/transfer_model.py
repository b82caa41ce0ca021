"""Transfer learning: cut a base at a layer, freeze it, add a head, train, then fine-tune.

`build_transfer_model(base, image_shape, num_classes, cut=None, head_units=128, dropout=0.2,
resize=False)` returns a `TransferModel` whose Keras model takes the images as cnnviz feeds
every model (values 0..1, the data's own size) and holds, in order:

1. the base's preprocessing as plain Keras layers (so the saved model reopens in cnnviz in
   safe mode and evaluates as trained): ×255, bilinear resizing (only with resize=True),
   grey → colour, and the application's own scaling ("tf": to -1..1; "caffe": RGB → BGR
   minus the ImageNet means, one frozen Dense on the channels);
2. the base cut at `cut`, as one nested model, frozen, called with training=False as
   Keras's transfer-learning guide does; because Keras 3 overrides that flag with fit's
   training=True, fine-tuning also keeps BatchNormalization layers frozen, which is what
   keeps them in inference mode (their statistics never move);
3. the head: global average pooling when the cut leaves a feature map, Dense(head_units,
   relu) when head_units > 0, Dropout, Dense(classes, softmax).

`train_transfer` trains it with the ordinary engine (live charts, checks, pause and stop
work as for any model), then optionally unfreezes the top K base layers and trains again at
a lower learning rate (default a tenth). TensorFlow/Keras are imported inside functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from cnnviz.core.errors import CnnvizError
from cnnviz.core.model.builder import weight_count
from cnnviz.core.transfer.bases import CAFFE_BGR_MEAN, Base
from cnnviz.core.training.engine import TrainConfig, TrainResult, TrainingRecorder

if TYPE_CHECKING:
    import keras

__all__ = [
    "TransferError", "TransferModel", "TransferResult", "POOLING_LAYER_TYPES",
    "default_cut_layer", "build_transfer_model", "parameter_counts", "freeze_base",
    "unfreeze_top_layers", "base_layer_count", "train_transfer", "check_cut", "cut_base",
    "preprocessing_layers",
]

POOLING_LAYER_TYPES = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                       "MaxPooling2D", "AveragePooling2D")
BASE_PART_NAME = "frozen_base"


class TransferError(CnnvizError):
    """A transfer model cannot be made or trained as asked (bad cut, size, fine-tuning)."""


@dataclass
class TransferModel:
    """A base cut, frozen and topped with a new head.

    model: the whole Keras model (input: images 0..1 of the data's size).
    base_part: the nested model holding the base up to the cut (its layers are the ones
        fine-tuning unfreezes, counted from the top).
    """

    model: "keras.Model"
    base_part: "keras.Model"
    base_name: str
    cut_layer: str
    notes: list[str] = field(default_factory=list)


@dataclass
class TransferResult:
    """What train_transfer did: the frozen-base run and the fine-tuning run (if any)."""

    frozen: TrainResult
    fine_tuned: TrainResult | None
    fine_tune_layers: int = 0
    fine_tune_learning_rate: float | None = None


# ---------------------------------------------------------------- cutting


def _layer_names(model: "keras.Model") -> list[str]:
    return [layer.name for layer in model.layers]


def default_cut_layer(base: Base) -> str:
    """Where to cut by default: an application's last layer (its last conv block; pooling
    is added after it); a model file's last pooling or Flatten layer, else its last layer
    giving a feature map."""
    layers = base.model.layers
    if base.kind == "application":
        return str(layers[-1].name)
    for layer in reversed(layers[:-1]):
        if type(layer).__name__ in POOLING_LAYER_TYPES:
            return str(layer.name)
    for layer in reversed(layers[:-1]):
        if len(layer.output.shape) == 4:
            return str(layer.name)
    raise TransferError(f"{base.name} has no pooling, Flatten or convolution layer to cut at; "
                        f"name a layer to cut at.")


def check_cut(base: Base, cut: str) -> None:
    names = _layer_names(base.model)
    if cut not in names:
        shown = ", ".join(names[-6:])
        raise TransferError(f"{base.name} has no layer called '{cut}'. Its last layers are: "
                            f"{shown}.")
    import keras

    layer = base.model.get_layer(cut)
    if isinstance(layer, keras.layers.InputLayer):
        raise TransferError(f"'{cut}' is {base.name}'s input: cut after at least one layer.")
    output_layer = base.model.layers[-1]
    if base.kind == "file" and layer is output_layer:
        raise TransferError(
            f"'{cut}' is {base.name}'s output layer, its old class scores; cut before it, "
            f"for example at '{default_cut_layer(base)}'.")
    try:
        keras.Model(base.model.inputs, layer.output)
    except Exception:  # a layer that is not on the way from the input to the output
        raise TransferError(f"'{cut}' is not on the way from {base.name}'s input to its "
                            f"output, so it cannot be cut there.") from None


def cut_base(base: Base, cut: str) -> "keras.Model":
    import keras

    layer = base.model.get_layer(cut)
    if layer is base.model.layers[-1] and base.kind == "application":
        part = keras.Model(base.model.inputs, base.model.outputs[0], name=BASE_PART_NAME)
    else:
        part = keras.Model(base.model.inputs, layer.output, name=BASE_PART_NAME)
    return part


# ---------------------------------------------------------------- preprocessing as layers


def _size_text(shape: tuple[int, ...]) -> str:
    colour = {1: "grey", 3: "colour"}.get(shape[2], f"{shape[2]}-channel")
    return f"{shape[0]}×{shape[1]} {colour}"


def preprocessing_layers(x: Any, base: Base, image_shape: tuple[int, int, int],
                          resize: bool, notes: list[str]) -> Any:
    """Keras layers doing what base.preprocess does, on images scaled 0..1."""
    import keras
    import numpy as np

    target = base.input_shape
    # A model file takes 0..1 as given; resizing and colour conversion are linear, so they
    # need no scaling around them.
    if base.preprocess_mode != "unit":
        x = keras.layers.Rescaling(255.0, name="to_0_255")(x)
    if image_shape[:2] != target[:2]:
        if not resize:
            raise TransferError(
                f"{base.name} takes {target[0]}×{target[1]} images; these are "
                f"{image_shape[0]}×{image_shape[1]}. Resizing them to {target[0]}×{target[1]} "
                f"is offered: turn on resizing (--resize on the command line).")
        x = keras.layers.Resizing(target[0], target[1], interpolation="bilinear",
                                  name="resize_for_base")(x)
        notes.append(f"Images are resized from {image_shape[0]}×{image_shape[1]} to "
                     f"{target[0]}×{target[1]} for {base.name}.")
    if image_shape[2] == 1 and target[2] == 3:
        x = keras.layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])
        notes.append(f"Grey images are copied into the three colour channels {base.name} "
                     f"takes.")
    elif image_shape[2] == 3 and target[2] == 1:
        from cnnviz.core.data.data_fit import LUMA_WEIGHTS

        to_grey = keras.layers.Dense(1, use_bias=False, trainable=False, name="rgb_to_grey")
        x = to_grey(x)
        to_grey.set_weights([np.asarray(LUMA_WEIGHTS, np.float32).reshape(3, 1)])
    elif image_shape[2] != target[2]:
        raise TransferError(f"{base.name} takes {_size_text(target)} images; these have "
                            f"{image_shape[2]} channels, which cannot be converted.")
    if base.preprocess_mode == "tf":
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_to_minus1_1")(x)
    elif base.preprocess_mode == "caffe":
        to_bgr = keras.layers.Dense(3, trainable=False, name="rgb_to_bgr_minus_mean")
        x = to_bgr(x)
        swap = np.zeros((3, 3), np.float32)
        swap[0, 2] = swap[1, 1] = swap[2, 0] = 1.0  # output channel j = input channel 2 - j
        to_bgr.set_weights([swap, -np.asarray(CAFFE_BGR_MEAN, np.float32)])
    return x


# ---------------------------------------------------------------- building


def build_transfer_model(base: Base, image_shape: tuple[int, ...], num_classes: int,
                         cut: str | None = None, head_units: int = 128,
                         dropout: float = 0.2, resize: bool = False) -> TransferModel:
    """The base cut at `cut` (default: default_cut_layer), frozen, with a new head.

    Args:
        base: from open_base.
        image_shape: the data's (height, width, channels).
        num_classes: the data's classes (2 or more); the head ends in a softmax over them.
        cut: the base layer whose output the head reads.
        head_units: units of the head's hidden Dense layer (0: none).
        dropout: the head's dropout rate, 0 up to (not including) 1.
        resize: resize images to the base's input size when they differ.
    Raises:
        TransferError for a cut that does not exist or is the output, a size the base
        cannot take without resizing, impossible head settings.
    """
    import keras

    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 3:
        raise TransferError("Transfer learning here works on images (height × width × "
                            "channels); this data is not images.")
    if num_classes < 2:
        raise TransferError(f"The data needs at least 2 classes to learn; it has {num_classes}.")
    if not isinstance(head_units, int) or isinstance(head_units, bool) or head_units < 0:
        raise TransferError(f"The head's units must be a whole number, 0 or more; got "
                            f"{head_units!r}.")
    if not 0 <= dropout < 1:
        raise TransferError(f"The dropout rate must be at least 0 and below 1; got {dropout!r}.")
    cut = cut or default_cut_layer(base)
    check_cut(base, cut)
    notes: list[str] = []
    base_part = cut_base(base, cut)
    freeze_base(base_part)

    inputs = keras.Input(shape=shape, name="images")
    x = preprocessing_layers(inputs, base, (shape[0], shape[1], shape[2]), resize, notes)
    # training=False: BatchNormalization keeps its ImageNet statistics, even when fine-tuned.
    x = base_part(x, training=False)
    rank = len(x.shape)
    if rank == 4:
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    elif rank != 2:
        x = keras.layers.Flatten(name="head_flatten")(x)
    if head_units > 0:
        x = keras.layers.Dense(head_units, activation="relu", name="head_dense")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head_classes")(x)
    model = keras.Model(inputs, outputs, name=f"transfer_{base.name}")
    return TransferModel(model, base_part, base.name, cut, notes + list(base.notes))


def parameter_counts(model: "keras.Model") -> tuple[int, int]:
    """(trainable, non-trainable) parameters, counted as Keras's model.summary() counts."""
    return weight_count(model.trainable_weights), weight_count(model.non_trainable_weights)


def freeze_base(base_part: "keras.Model") -> None:
    """Freeze every layer of the base."""
    base_part.trainable = False


def base_layer_count(transfer: TransferModel) -> int:
    """How many layers the cut base has (its input not counted)."""
    import keras

    return sum(not isinstance(layer, keras.layers.InputLayer)
               for layer in transfer.base_part.layers)


def unfreeze_top_layers(transfer: TransferModel, count: int) -> None:
    """Make the top `count` base layers trainable (the rest stay frozen). BatchNormalization
    layers among them stay frozen, so they run in inference mode and keep their ImageNet
    statistics. Compile again afterwards (train_transfer does).

    Raises TransferError when count is below 1 or more than the base has.
    """
    import keras

    total = base_layer_count(transfer)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise TransferError(f"The number of base layers to fine-tune must be 1 or more; got "
                            f"{count!r}.")
    if count > total:
        raise TransferError(f"The base ({transfer.base_name}, cut at '{transfer.cut_layer}') "
                            f"has {total} layers; it cannot fine-tune {count}. Choose "
                            f"{total} or fewer.")
    layers = [layer for layer in transfer.base_part.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    transfer.base_part.trainable = True
    for layer in layers[:-count]:
        layer.trainable = False
    for layer in layers[-count:]:
        # Keras 3 passes fit's training=True down into a nested model whatever the call
        # said, so training=False alone would let BatchNormalization update its statistics
        # on the new data; a frozen BatchNormalization layer always runs in inference mode.
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def train_transfer(transfer: TransferModel, data: Any, config: TrainConfig,
                   fine_tune_layers: int = 0, fine_tune_epochs: int = 0,
                   fine_tune_learning_rate: float | None = None,
                   on_batch: Any = None, on_epoch: Any = None,
                   should_stop: Callable[[], bool] | None = None,
                   is_paused: Callable[[], bool] | None = None,
                   recorder: TrainingRecorder | None = None,
                   fine_tune_recorder: TrainingRecorder | None = None,
                   on_phase: Callable[[str], None] | None = None) -> TransferResult:
    """Train the head on the frozen base with the engine for config.epochs; then, when
    fine_tune_layers > 0, unfreeze that many top base layers and train fine_tune_epochs more
    at fine_tune_learning_rate (default config.learning_rate / 10), epochs numbered on.

    The callables and recorders are the engine's (see engine.train); on_phase("frozen" |
    "fine-tune") is told when each phase starts. A stop during the first phase skips the
    second. Raises TransferError / TrainingError for impossible settings, before training.
    """
    from cnnviz.core.training.engine import compile_for_training, train, validate_config

    fine_config: TrainConfig | None = None
    if fine_tune_layers:
        if fine_tune_layers > base_layer_count(transfer) or fine_tune_layers < 0:
            unfreeze_top_layers(transfer, fine_tune_layers)  # raises the readable error
        if not isinstance(fine_tune_epochs, int) or fine_tune_epochs < 1:
            raise TransferError("Fine-tuning needs 1 or more epochs.")
        rate = fine_tune_learning_rate if fine_tune_learning_rate is not None \
            else config.learning_rate / 10
        fine_config = replace(config, epochs=fine_tune_epochs, learning_rate=rate)
        validate_config(fine_config)
    freeze_base(transfer.base_part)
    compile_for_training(transfer.model, config)  # trainable flags changed: compile again
    if on_phase:
        on_phase("frozen")
    frozen = train(transfer.model, data, config, on_batch, on_epoch, should_stop, is_paused,
                   recorder=recorder)
    if fine_config is None or frozen.stopped:
        return TransferResult(frozen, None)
    unfreeze_top_layers(transfer, fine_tune_layers)
    compile_for_training(transfer.model, fine_config)
    if on_phase:
        on_phase("fine-tune")
    fine = train(transfer.model, data, fine_config, on_batch, on_epoch, should_stop, is_paused,
                 initial_epoch=frozen.epochs_done, recorder=fine_tune_recorder)
    return TransferResult(frozen, fine, fine_tune_layers, fine_config.learning_rate)
