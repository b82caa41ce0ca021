"""Signals for the UI tests of 1-D models: a tiny split of (steps, channels) series, a dataset
holding it, and a small Conv1D classifier, built with Keras as a user would build one."""

from __future__ import annotations

import numpy as np

from cnnviz.core.data.data_splits import DataSplit, Indices
from cnnviz.core.data.dataset_types import Dataset

STEPS, CHANNELS, CLASSES = 40, 2, 3


class SignalSplit(DataSplit):
    """Float32 series (N, steps, channels) with labels, as a time-series split gives them:
    `images` returns the values as stored (no scaling)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x.astype(np.float32), y.astype(np.int64)
        self.count = int(x.shape[0])
        self.image_shape = (int(x.shape[1]), int(x.shape[2]))

    def labels(self) -> np.ndarray:
        return self.y.copy()

    def images(self, indices: Indices) -> np.ndarray:
        return self.x[self._checked_indices(indices)].copy()

    def subset(self, indices: Indices) -> "SignalSplit":
        chosen = self._checked_indices(indices)
        return SignalSplit(self.x[chosen], self.y[chosen])

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False):
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((self.x, self.y.astype(np.int32)))
        if shuffle:
            data = data.shuffle(self.count, seed=seed)
        if repeat:
            data = data.repeat()
        return data.batch(batch_size)


def waves(count: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sines of three frequencies (the class) with noise, two channels, far from [0, 1]."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % CLASSES
    t = np.linspace(0, 2 * np.pi, STEPS)
    x = np.stack([np.stack([3 * np.sin((k + 1) * t + rng.uniform(0, 6)),
                            -2 + np.cos((k + 1) * t)], 1) for k in labels])
    x += rng.normal(0, 0.2, x.shape)
    return x.astype(np.float32), labels


def signal_dataset(count: int = 30) -> Dataset:
    x, y = waves(count)
    split = SignalSplit(x, y)
    return Dataset(name="waves", description="three kinds of wave", class_names=["slow",
                   "medium", "fast"], input_shape=(STEPS, CHANNELS), train=split,
                   validation=None, test=split, noun="series")


def conv1d_model(seed: int = 1):
    """Conv1D (causal, dilated) → MaxPooling1D → Conv1D → GlobalAveragePooling1D → Dense."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((STEPS, CHANNELS)),
        keras.layers.Conv1D(4, 5, padding="causal", dilation_rate=2, activation="relu",
                            name="conv1d"),
        keras.layers.MaxPooling1D(2, name="max_pooling1d"),
        keras.layers.Conv1D(6, 3, activation="relu", name="conv1d_1"),
        keras.layers.GlobalAveragePooling1D(name="global_average_pooling1d"),
        keras.layers.Dense(CLASSES, activation="softmax", name="dense"),
    ], name="waves_cnn")
