"""Input pipelines for training and evaluation, and random augmentation of training images.

Augmentation uses Keras's preprocessing layers (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation) inside the tf.data pipeline of the training split only: validation and
test images are never changed, and the layers are not part of the model, so a saved model
holds only what was built. TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnviz.core.errors import TrainingError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf


@dataclass
class AugmentConfig:
    """Random changes to training images (0 / False = off).

    rotation: up to this fraction of a full turn either way (0.05 = ±18°), as Keras's
    RandomRotation. zoom: in or out by up to this fraction (0.1 = ±10 %). translation:
    shift by up to this fraction of the height and width. flip: mirror left-right at random.
    """

    flip: bool = False
    rotation: float = 0.0
    zoom: float = 0.0
    translation: float = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.flip or self.rotation or self.zoom or self.translation)


def validate_augment(augment: AugmentConfig) -> None:
    """Raise TrainingError when an augmentation amount is out of range."""
    limits = (("rotation", augment.rotation, 0.5, "of a full turn (0.5 = ±180°)"),
              ("zoom", augment.zoom, 0.9, "(0.1 = ±10 %)"),
              ("translation", augment.translation, 1.0, "of the image size (0.1 = ±10 %)"))
    for name, value, top, unit in limits:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or not 0.0 <= value <= top):
            raise TrainingError(
                f"The augmentation {name} must be a number from 0 to {top:g} {unit}; "
                f"got {value!r}.")


def build_augmenter(augment: AugmentConfig, seed: int | None = None) -> "keras.Sequential | None":
    """The Keras preprocessing layers for `augment`, in one Sequential; None when all are off."""
    if not augment.enabled:
        return None
    validate_augment(augment)
    from keras import Sequential, layers

    def layer_seed(offset: int) -> int | None:
        return None if seed is None else seed + offset

    stack: list[Any] = []
    if augment.flip:
        stack.append(layers.RandomFlip("horizontal", seed=layer_seed(1)))
    if augment.rotation:
        stack.append(layers.RandomRotation(augment.rotation, seed=layer_seed(2)))
    if augment.zoom:
        stack.append(layers.RandomZoom(augment.zoom, seed=layer_seed(3)))
    if augment.translation:
        stack.append(layers.RandomTranslation(augment.translation, augment.translation,
                                              seed=layer_seed(4)))
    return Sequential(stack, name="augmentation")


def training_dataset(split: Any, batch_size: int, augment: AugmentConfig | None = None,
                     binary_labels: bool = False, seed: int | None = None) -> "tf.data.Dataset":
    """Shuffled batches of the training split, augmented if asked, labels float32 if binary."""
    dataset = split.tf_dataset(batch_size, shuffle=True, seed=seed)
    augmenter = build_augmenter(augment, seed) if augment is not None else None
    return _map_batches(dataset, augmenter, binary_labels)


def evaluation_dataset(split: Any, batch_size: int,
                       binary_labels: bool = False) -> "tf.data.Dataset":
    """Batches of a validation or test split in order, never augmented."""
    return _map_batches(split.tf_dataset(batch_size, shuffle=False), None, binary_labels)


def _map_batches(dataset: "tf.data.Dataset", augmenter: Any,
                 binary_labels: bool) -> "tf.data.Dataset":
    if augmenter is None and not binary_labels:
        return dataset  # the split's own pipeline, untouched: nothing to add per batch
    import tensorflow as tf

    def prepare(images: Any, labels: Any) -> tuple[Any, Any]:
        if augmenter is not None:
            images = augmenter(images, training=True)
        if binary_labels:
            labels = tf.cast(labels, tf.float32)  # binary cross-entropy compares floats
        return images, labels

    # A sequential map on purpose: with parallel calls the random layers' seed state is read
    # by several batches at once, and neighbouring batches get identical "random" changes.
    # It still runs ahead of training, on tf.data's own thread, thanks to the prefetch.
    return dataset.map(prepare).prefetch(tf.data.AUTOTUNE)
