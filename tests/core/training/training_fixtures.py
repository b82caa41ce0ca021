"""Tiny in-memory datasets and models for the training-engine tests.

`ArrayData` satisfies the same duck-typed contract as `cnnviz.core.data.datasets.Dataset`
(train / validation / test splits with `tf_dataset`, class names, input shape), built from
numpy arrays, so the engine's tests do not depend on the real loaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer


class ArraySplit:
    """One split from arrays: uint8 images are scaled to float32 in [0, 1]; float images are
    passed through unchanged (so a test can inject inf)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        assert len(images) == len(labels)
        self.x = images
        self.y = np.asarray(labels, dtype=np.int64)
        self.count = len(images)
        self.tf_dataset_calls: list[dict[str, Any]] = []

    def labels(self) -> np.ndarray:
        return self.y

    def images(self, indices: Sequence[int]) -> np.ndarray:
        return self.x[np.asarray(indices)]

    def float_images(self) -> np.ndarray:
        if self.x.dtype == np.uint8:
            return self.x.astype(np.float32) / 255.0
        return self.x.astype(np.float32)

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> Any:
        import tensorflow as tf

        self.tf_dataset_calls.append({"batch_size": batch_size, "shuffle": shuffle, "seed": seed})
        ds = tf.data.Dataset.from_tensor_slices((self.float_images(), self.y.astype(np.int32)))
        if shuffle:
            ds = ds.shuffle(self.count, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclass
class ArrayData:
    """A whole dataset from arrays, shaped like `cnnviz.core.data.datasets.Dataset`."""

    class_names: list[str]
    input_shape: tuple[int, int, int]
    train: ArraySplit
    validation: ArraySplit | None
    test: ArraySplit | None
    name: str = "test arrays"
    description: str = "in-memory test data"
    report: Any = field(default=None)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def asymmetric_images(count: int, size: int = 8, channels: int = 1,
                      seed: int = 0) -> np.ndarray:
    """uint8 images with random noise plus a bright left half, so a left-right flip shows."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(count, size, size, channels), dtype=np.uint8)
    images[:, :, : size // 2, :] += 150
    return images


def make_data(num_classes: int = 3, train: int = 240, validation: int = 60, test: int = 60,
              size: int = 8, channels: int = 1, seed: int = 0,
              validation_labels: int | None = None) -> ArrayData:
    """A learnable toy problem: each class brightens its own row band of the image.

    `validation_labels`: give every validation example this label (a class the training
    data never shows, for runs whose validation loss must only get worse).
    """
    rng = np.random.default_rng(seed)

    def split(n: int, fixed_label: int | None = None, offset: int = 0) -> ArraySplit:
        labels = rng.integers(0, num_classes, size=n)
        images = rng.integers(0, 80, size=(n, size, size, channels), dtype=np.uint8)
        band = max(1, size // num_classes)
        for i, label in enumerate(labels):
            images[i, label * band % size: label * band % size + band] += 150
        if fixed_label is not None:
            labels = np.full(n, fixed_label)
        return ArraySplit(images, labels)

    train_split = split(train)
    if validation_labels is not None:
        # Training never sees this class, so the validation loss can only grow.
        keep = train_split.y != validation_labels
        train_split = ArraySplit(train_split.x[keep], train_split.y[keep])
    return ArrayData(
        class_names=[f"class {i}" for i in range(num_classes)],
        input_shape=(size, size, channels),
        train=train_split,
        validation=split(validation, validation_labels) if validation else None,
        test=split(test) if test else None,
    )


def layer(layer_type: str, **params: Any) -> LayerSpec:
    return normalize_layer(LayerSpec.make(layer_type, **params))


def tiny_spec(units: int = 3, activation: str = "softmax", size: int = 8,
              channels: int = 1) -> ModelSpec:
    """Conv(4, 3×3) → pool → Flatten → Dense(units): a few hundred weights."""
    return ModelSpec((size, size, channels), [
        layer("Conv2D", filters=4, kernel_size=[3, 3], activation="relu"),
        layer("MaxPooling2D", pool_size=[2, 2]),
        layer("Flatten"),
        layer("Dense", units=units, activation=activation),
    ], name="tiny")


def tiny_model(units: int = 3, activation: str = "softmax", size: int = 8,
               channels: int = 1, seed: int = 1) -> Any:
    """`tiny_spec` built with Keras, with seeded initial weights."""
    import keras

    from cnnviz.core.model.builder import build_model

    keras.utils.set_random_seed(seed)
    return build_model(tiny_spec(units, activation, size, channels))
