"""Data that fits a model: which bundled sample suits its input, and adapting other images.

    fit_problem(dataset, (32, 32, 3))   → "The model expects 32×32×3 (colour) images, ..."
    adapt_dataset(dataset, (32, 32, 3)) → the same examples, resized and converted to RGB
    fit_problem(signals, (150, 1))      → "The model takes signals with 1 channel, ..."

Signals (a dataset shaped (steps, channels)) go into a 1-D model whose input is (steps,
channels); they are never resized or converted. A 2-D model input (a, b) is ambiguous on
its own (Keras's MNIST examples take (28, 28) pictures), so it is read as (steps, channels)
when the data are signals or the caller says the model is 1-D (`sequence_input`, see
`takes_sequences`), and as a grayscale picture otherwise.

Adapting is lazy: an array split is converted batch by batch as it is read, and an image
folder is decoded straight from its files at the model's size and colour mode (the same
decoder as loading the folder with that target size), so nothing is read whole.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from cnnviz.core.data.data_splits import DataSplit, FileSplit, Indices
from cnnviz.core.data.dataset_types import Dataset, LoadOptions
from cnnviz.core.data.input_images import input_mismatch
from cnnviz.core.formatting import dims_text

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["suggested_source", "fit_problem", "can_adapt", "adapt_dataset", "adapted_shape",
           "image_shape_for", "image_fit_problem", "load_options_for", "AdaptedSplit",
           "LUMA_WEIGHTS", "takes_sequences", "series_fit_problem"]

# The bundled samples by the image shape they have.
_SAMPLE_FOR_SHAPE: dict[tuple[int | None, ...], str] = {
    (28, 28, 1): "mnist-sample", (32, 32, 3): "cifar10-sample"}
# ITU-R 601-2 luma, as Pillow's convert("L") (which loads folders in grayscale) uses.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_CONVERTIBLE_CHANNELS = (1, 3)
# The bundled signal sample by the (steps, channels) it has; None: any number of steps.
_SERIES_SAMPLES: dict[tuple[int | None, ...], str] = {
    (150, 1): "gunpoint-sample", (None, 1): "gunpoint-sample"}


def takes_sequences(layer_types: Iterable[str]) -> bool:
    """Whether a model with layers of these Keras class names is a 1-D network (it has a
    Conv1D, a 1-D pooling or an UpSampling1D layer): its input is (steps, channels)."""
    return any(str(name).endswith("1D") for name in layer_types)


def _channels_text(channels: int | None) -> str:
    if channels is None:
        return "any number of channels"
    return f"{channels} channel{'' if channels == 1 else 's'}"


def _steps_text(steps: int | None) -> str:
    return "any number of" if steps is None else f"{steps:,}"


def series_fit_problem(series_shape: Sequence[int], input_shape: Sequence[Any]) -> str | None:
    """Why signals of series_shape (steps, channels) cannot go into this model input, or None.

    A 1-D input (steps, channels) takes them when both match (None matches anything); a
    flat input of n values takes them when steps × channels = n (they are flattened).
    """
    steps, channels = (int(d) for d in series_shape)
    model = _model_shape(input_shape)
    data_text = f"{steps:,} steps × {_channels_text(channels)}"
    if len(model) == 1:
        if model[0] is None or model[0] == steps * channels:
            return None
        return (f"The model takes a flat list of {model[0]:,} values, but these signals have "
                f"{data_text} = {steps * channels:,}.")
    if len(model) != 2:
        return (f"The model takes {dims_text(model)} images, but these are signals "
                f"({data_text}). A signal needs a 1-D model, whose input is (steps, "
                f"channels): ({steps}, {channels}) here.")
    model_steps, model_channels = model
    if model_channels is not None and model_channels != channels:
        return (f"The model takes signals with {_channels_text(model_channels)} "
                f"({_steps_text(model_steps)} steps × {model_channels}), but these signals "
                f"have {_channels_text(channels)} ({steps:,} steps × {channels}). Set the "
                f"model's input to ({model_steps or steps}, {channels}).")
    if model_steps is not None and model_steps != steps:
        return (f"The model takes signals of {model_steps:,} steps, but these have "
                f"{steps:,} steps. Set the model's input to ({steps}, {channels}), or use "
                "signals of its length.")
    return None


def _model_shape(input_shape: Sequence[Any]) -> tuple[int | None, ...]:
    """(H, W, C) from a model's input shape, dropping a leading batch axis if present."""
    shape = tuple(None if d is None else int(d) for d in input_shape)
    if len(shape) == 4:
        shape = shape[1:]
    return shape


def image_shape_for(input_shape: Sequence[Any]) -> tuple[int | None, ...] | None:
    """The (H, W, C) images a model input takes: a 3-D input as it is, a 2-D (H, W) input
    (Keras's MNIST examples) as one grayscale channel; None for a flat or other input."""
    shape = _model_shape(input_shape)
    if len(shape) == 2:
        return shape + (1,)
    return shape if len(shape) == 3 else None


def image_fit_problem(image_shape: Sequence[int], input_shape: Sequence[Any],
                      sequence_input: bool | None = None) -> str | None:
    """Why images of image_shape (H, W, C) cannot go into this model input, or None.

    A 2-D (H, W) input takes H×W×1 images, and a flat input of n values takes any images of
    n values in all (they are flattened), as evaluate_model feeds them. An example shape of
    two numbers is a signal (steps, channels): see series_fit_problem. sequence_input=True
    says the model is 1-D, so no image fits it.
    """
    if len(image_shape) == 2:
        return series_fit_problem(image_shape, input_shape)
    image = tuple(int(d) for d in image_shape)
    model = _model_shape(input_shape)
    if sequence_input and len(model) == 2:
        steps, channels = model
        return (f"The model is a 1-D network taking signals of {_steps_text(steps)} steps × "
                f"{_channels_text(channels)}, but these are {dims_text(image)} images. Give "
                "it time series (a .ts, .tsv, .arff or .csv file, or the GunPoint sample), or "
                "use a 2-D model for images.")
    if len(model) == 1:
        values = int(np.prod(image))
        if model[0] is None or model[0] == values:
            return None
        return (f"The model takes a flat list of {model[0]:,} values, but these images have "
                f"{dims_text(image)} = {values:,}.")
    wanted = image_shape_for(model)
    return input_mismatch(image, wanted if wanted is not None else model)


def suggested_source(input_shape: Sequence[Any], sequence_input: bool | None = None
                     ) -> str | None:
    """The bundled sample that fits this input: (28, 28, 1) → "mnist-sample",
    (32, 32, 3) → "cifar10-sample", a 1-D (150, 1) → "gunpoint-sample"; None for any
    other shape. sequence_input=True reads a 2-D input as (steps, channels) only."""
    try:
        model = _model_shape(input_shape)
        shape = None if sequence_input else image_shape_for(input_shape)
    except (TypeError, ValueError):
        return None
    image_sample = None if shape is None else _SAMPLE_FOR_SHAPE.get(shape)
    if image_sample is not None or sequence_input is False:
        return image_sample
    return _SERIES_SAMPLES.get(model) if len(model) == 2 else None


def fit_problem(dataset: Dataset, input_shape: Sequence[Any],
                sequence_input: bool | None = None) -> str | None:
    """A sentence saying how the dataset's examples do not fit this model input, or None.

    Only the example shape is compared (not the classes). sequence_input=True says the
    model is 1-D (see takes_sequences), so images do not fit it whatever their size.
    """
    return image_fit_problem(dataset.input_shape, input_shape, sequence_input)


def adapted_shape(image_shape: Sequence[int], input_shape: Sequence[Any]
                  ) -> tuple[int, int, int] | None:
    """The image shape adapt_dataset makes for this input: the model's height, width and
    channels (a size the model leaves open keeps the image's). None when it cannot adapt."""
    image = tuple(int(d) for d in image_shape)
    model = image_shape_for(input_shape)
    if len(image) != 3 or model is None:
        return None
    channels = image[2] if model[2] is None else model[2]
    if image[2] not in _CONVERTIBLE_CHANNELS or channels not in _CONVERTIBLE_CHANNELS:
        return None
    height = image[0] if model[0] is None else model[0]
    width = image[1] if model[1] is None else model[1]
    if height < 1 or width < 1:
        return None
    return (height, width, channels)


def can_adapt(dataset: Dataset, input_shape: Sequence[Any],
              sequence_input: bool | None = None) -> bool:
    """Whether resizing and grayscale↔RGB conversion can make the images fit this input
    (both sides have 1 or 3 channels). Signals are never converted, and images never go
    into a 1-D model (sequence_input=True)."""
    if dataset.is_series or sequence_input:
        return False
    try:
        return adapted_shape(dataset.input_shape, input_shape) is not None
    except (TypeError, ValueError):
        return False


def _colour_word(channels: int) -> str:
    return "grayscale" if channels == 1 else "RGB" if channels == 3 else f"{channels}-channel"


def _conversion_text(source: Sequence[int], target: Sequence[int]) -> str:
    changes = []
    if source[:2] != target[:2]:
        changes.append(f"resized from {source[0]}×{source[1]} to {target[0]}×{target[1]}")
    if source[2] != target[2]:
        changes.append(f"converted from {_colour_word(source[2])} to {_colour_word(target[2])}")
    return " and ".join(changes)


def adapt_pixels(images: "tf.Tensor | np.ndarray", shape: Sequence[int]) -> "tf.Tensor":
    """uint8-valued images (b, h, w, c) → uint8 (b, H, W, C) for shape (H, W, C).

    Colour becomes grayscale by LUMA_WEIGHTS and grayscale becomes colour by copying the
    channel; resizing is bilinear with antialiasing (shrinking averages, like Pillow's).
    """
    import tensorflow as tf

    height, width, channels = (int(d) for d in shape)
    x = tf.cast(images, tf.float32)
    source_channels = int(x.shape[-1])
    if source_channels == 3 and channels == 1:
        x = tf.reduce_sum(x * tf.constant(LUMA_WEIGHTS, tf.float32), axis=-1, keepdims=True)
    if tuple(x.shape[1:3]) != (height, width):
        x = tf.image.resize(x, (height, width), method="bilinear", antialias=True)
    if source_channels == 1 and channels == 3:
        x = tf.tile(x, (1, 1, 1, 3))
    return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)


class AdaptedSplit(DataSplit):
    """Another split's examples, resized and converted to image_shape as they are read."""

    def __init__(self, source: DataSplit, image_shape: tuple[int, int, int]) -> None:
        self.source = source
        self.count = source.count
        height, width, channels = (int(d) for d in image_shape)
        self.shape = (height, width, channels)
        self.image_shape = self.shape

    def labels(self) -> np.ndarray:
        return self.source.labels()

    def images(self, indices: Indices) -> np.ndarray:
        index_array = self._checked_indices(indices)
        original = self.source.images(index_array)
        if len(original) == 0:
            return np.empty((0,) + self.image_shape, dtype=np.uint8)
        return np.asarray(adapt_pixels(original, self.image_shape).numpy())

    def subset(self, indices: Indices) -> "AdaptedSplit":
        return AdaptedSplit(self.source.subset(self._checked_indices(indices)), self.shape)

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        import tensorflow as tf

        shape = self.image_shape

        def adapt(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            # Back to the exact 0..255 values first, so a batch equals images() / 255.
            pixels = tf.round(x * 255.0)
            return tf.cast(adapt_pixels(pixels, shape), tf.float32) / 255.0, y

        dataset = self.source.tf_dataset(batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
        return dataset.map(adapt, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
            tf.data.AUTOTUNE)


def _adapt_split(split: DataSplit, shape: tuple[int, int, int]) -> DataSplit:
    if tuple(split.image_shape) == shape:
        return split
    if type(split) is FileSplit:
        # Decode each file straight to the model's size and colours: one resize from the
        # original picture, exactly as if the folder had been loaded at that size.
        return split.at_size(shape[:2], shape[2])
    return AdaptedSplit(split, shape)


def adapt_dataset(dataset: Dataset, input_shape: Sequence[Any]) -> Dataset:
    """The dataset with every split's images resized and converted to the model's input.

    Nothing is converted up front: array splits convert each batch as it is read, and an
    image folder decodes its files at the new size. The description says what changed.
    Returns `dataset` itself when its images already fit. Raises ValueError when the
    conversion is impossible (see can_adapt).
    """
    source_shape = tuple(int(d) for d in dataset.input_shape)
    if dataset.is_series:
        if series_fit_problem(source_shape, input_shape) is None:
            return dataset
        raise ValueError(f"signals of {dims_text(source_shape)} cannot be adapted to a "
                         f"{dims_text(_model_shape(input_shape))} input")
    target = adapted_shape(source_shape, input_shape)
    if target is None:
        raise ValueError(f"cannot adapt {dims_text(source_shape)} images to a "
                         f"{dims_text(_model_shape(input_shape))} input")
    if target == source_shape:
        return dataset
    change = _conversion_text(source_shape, target)
    return dataclasses.replace(
        dataset,
        description=f"{dataset.description}; {change} for this model",
        input_shape=target,
        train=_adapt_split(dataset.train, target),
        validation=None if dataset.validation is None else _adapt_split(dataset.validation,
                                                                        target),
        test=None if dataset.test is None else _adapt_split(dataset.test, target),
        whole=None if dataset.whole is None else _adapt_split(dataset.whole, target),
    )


def load_options_for(input_shape: Sequence[Any]) -> LoadOptions:
    """Options that make an image folder decode at the model's size and colours (other
    sources ignore them), so the data fits the model without a second conversion."""
    height, width, channels = image_shape_for(input_shape) or (None, None, None)
    size = (int(height), int(width)) if height and width else None
    return LoadOptions(target_size=size, color_mode="grayscale" if channels == 1 else "rgb")
