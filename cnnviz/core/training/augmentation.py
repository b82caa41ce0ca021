"""Input pipelines for training and evaluation, and random augmentation of training data.

Images are augmented by Keras's preprocessing layers (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation); signals (batches shaped (batch, steps, channels)) by jitter (additive
Gaussian noise) and scaling (one random factor per series), the two simplest of Um et al.'s
(2017) time-series augmentations. Either runs inside the tf.data pipeline of the training
split only: validation and test data are never changed, and nothing is added to the model,
so a saved model holds only what was built. TensorFlow/Keras are imported inside functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnviz.core.errors import TrainingError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf


# The amounts the app and `cnnviz train --augment` use for signals (Um et al. 2017 used a
# noise of 0.03 and a scaling deviation of 0.1 on z-normalised sensor data).
SIGNAL_JITTER = 0.03
SIGNAL_SCALING = 0.1


@dataclass
class AugmentConfig:
    """Random changes to training data (0 / False = off).

    For images: rotation up to this fraction of a full turn either way (0.05 = ±18°), as
    Keras's RandomRotation; zoom in or out by up to this fraction (0.1 = ±10 %); translation
    by up to this fraction of the height and width; flip mirrors left-right at random.

    For signals: jitter adds Gaussian noise of this standard deviation to every value (in
    the data's own units: 0.03 of a z-normalised series); scaling multiplies each series
    (all its steps and channels) by one random factor drawn from a normal distribution of
    mean 1 and this standard deviation.
    """

    flip: bool = False
    rotation: float = 0.0
    zoom: float = 0.0
    translation: float = 0.0
    jitter: float = 0.0
    scaling: float = 0.0

    @property
    def image_enabled(self) -> bool:
        return bool(self.flip or self.rotation or self.zoom or self.translation)

    @property
    def signal_enabled(self) -> bool:
        return bool(self.jitter or self.scaling)

    @property
    def enabled(self) -> bool:
        return self.image_enabled or self.signal_enabled


def validate_augment(augment: AugmentConfig) -> None:
    """Raise TrainingError when an augmentation amount is out of range."""
    limits = (("rotation", augment.rotation, 0.5, "of a full turn (0.5 = ±180°)"),
              ("zoom", augment.zoom, 0.9, "(0.1 = ±10 %)"),
              ("translation", augment.translation, 1.0, "of the image size (0.1 = ±10 %)"),
              ("jitter", augment.jitter, 10.0, "(the noise's standard deviation, such as 0.03)"),
              ("scaling", augment.scaling, 1.0,
               "(the standard deviation of the factor, such as 0.1)"))
    for name, value, top, unit in limits:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or not 0.0 <= value <= top):
            raise TrainingError(
                f"The augmentation {name} must be a number from 0 to {top:g} {unit}; "
                f"got {value!r}.")


def check_augment_fits(augment: AugmentConfig, series: bool) -> None:
    """Raise TrainingError when the augmentation is for the other kind of data: image
    changes on signals, or jitter and scaling on images."""
    if series and augment.image_enabled:
        raise TrainingError("Flips, rotations, zooms and shifts change images, but this data "
                            "is signals. Use jitter or scaling to augment signals, or turn "
                            "augmentation off.")
    if not series and augment.signal_enabled:
        raise TrainingError("Jitter and scaling change signals, but this data is images. Use "
                            "flips, rotations, zooms or shifts to augment images, or turn "
                            "augmentation off.")


def build_augmenter(augment: AugmentConfig, seed: int | None = None) -> "keras.Sequential | None":
    """The Keras preprocessing layers for `augment`'s image changes, in one Sequential; None
    when they are all off."""
    if not augment.image_enabled:
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


class SignalAugmenter:
    """Jitter and scaling of a batch of signals (batch, steps, channels), as a callable.

    Its random numbers come from one tf.random.Generator (seeded when `seed` is given), whose
    state lives on across epochs, so every batch of every epoch gets fresh changes.
    """

    def __init__(self, jitter: float, scaling: float, seed: int | None = None) -> None:
        import tensorflow as tf

        self.jitter = float(jitter)
        self.scaling = float(scaling)
        self.generator = (tf.random.Generator.from_seed(seed) if seed is not None
                          else tf.random.Generator.from_non_deterministic_state())

    def __call__(self, signals: Any, training: bool = True) -> Any:
        import tensorflow as tf

        if not training:
            return signals
        batch = tf.shape(signals)[0]
        if self.scaling:
            factors = self.generator.normal((batch, 1, 1), mean=1.0, stddev=self.scaling,
                                            dtype=signals.dtype)
            signals = signals * factors
        if self.jitter:
            signals = signals + self.generator.normal(tf.shape(signals), stddev=self.jitter,
                                                      dtype=signals.dtype)
        return signals


def build_signal_augmenter(augment: AugmentConfig,
                           seed: int | None = None) -> SignalAugmenter | None:
    """The jitter and scaling of `augment` as one callable; None when both are off."""
    if not augment.signal_enabled:
        return None
    validate_augment(augment)
    return SignalAugmenter(augment.jitter, augment.scaling, seed)


def is_series_dataset(dataset: "tf.data.Dataset") -> bool:
    """Whether batches of this dataset are signals: (batch, steps, channels), not images."""
    return len(dataset.element_spec[0].shape) == 3


def training_dataset(split: Any, batch_size: int, augment: AugmentConfig | None = None,
                     binary_labels: bool = False, seed: int | None = None) -> "tf.data.Dataset":
    """Shuffled batches of the training split, augmented if asked, labels float32 if binary.

    Raises TrainingError when the augmentation is for the other kind of data (image changes
    on signals, jitter or scaling on images).
    """
    dataset = split.tf_dataset(batch_size, shuffle=True, seed=seed)
    augmenter: Any = None
    if augment is not None and augment.enabled:
        series = is_series_dataset(dataset)
        check_augment_fits(augment, series)
        augmenter = (build_signal_augmenter(augment, seed) if series
                     else build_augmenter(augment, seed))
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
