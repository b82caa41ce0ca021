"""A split of signals (time series) held in memory: float32 (N, steps, channels) and labels.

Unlike images, signals are not scaled: `tf_dataset` yields the values as stored (already
z-normalised per series when the loader was asked to), and `images`/`examples` give those
same float32 values for previews, the explainer and galleries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cnnviz.core.data.data_splits import DataSplit, Indices

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["SeriesSplit"]


class SeriesSplit(DataSplit):
    """Signals x float32 (N, steps, channels) with integer labels y (N,)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        if x.ndim != 3 or x.dtype != np.float32:
            raise ValueError(f"x must be float32 (N, steps, channels), got {x.dtype} {x.shape}")
        if y.shape != (x.shape[0],):
            raise ValueError(f"y must have shape ({x.shape[0]},), got {y.shape}")
        self._x = x
        self._y = y.astype(np.int64, copy=False)
        self.count = int(x.shape[0])
        self.image_shape = (int(x.shape[1]), int(x.shape[2]))

    @property
    def x(self) -> np.ndarray:
        """All signals, float32 (N, steps, channels) (read-only use, please)."""
        return self._x

    @property
    def steps(self) -> int:
        return self.image_shape[0]

    @property
    def channels(self) -> int:
        return self.image_shape[1]

    def labels(self) -> np.ndarray:
        return self._y.copy()

    def images(self, indices: Indices) -> np.ndarray:
        """The values of these series, float32 (len(indices), steps, channels)."""
        return np.array(self._x[self._checked_indices(indices)], dtype=np.float32)

    def subset(self, indices: Indices) -> "SeriesSplit":
        index_array = self._checked_indices(indices)
        return SeriesSplit(self._x[index_array], self._y[index_array])

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        import tensorflow as tf

        if int(batch_size) < 1:
            raise ValueError("batch_size must be at least 1")
        values = tf.constant(self._x)
        labels = tf.constant(self._y.astype(np.int32))
        # As ArraySplit: shuffle and batch indices, then gather the values of one batch.
        dataset = tf.data.Dataset.range(self.count)
        if shuffle:
            dataset = dataset.shuffle(self.count, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(int(batch_size))
        if repeat:
            dataset = dataset.repeat()

        def gather(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return tf.gather(values, index), tf.gather(labels, index)

        dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)
