"""One split of a dataset (train, validation or test), in memory or streamed from disk.

Both kinds answer the same questions: how many examples, their labels, the uint8 pixels of a
few of them (previews, the explainer, galleries), and a batched `tf.data.Dataset` of
(float32 images in [0, 1], int32 labels) for Keras. `ArraySplit` holds arrays; `FileSplit`
holds only file paths and decodes images as batches are drawn, so memory stays bounded.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable, Sequence, Union

import numpy as np

from cnnviz.core.data.image_decoding import ImageProblem, decode_image

if TYPE_CHECKING:
    import tensorflow as tf

DecodeFailureHandler = Callable[[str, str], None]
Indices = Union[Sequence[int], np.ndarray]  # example numbers: a list or an int array


class DataSplit(ABC):
    """A labelled set of images of one shape; see ArraySplit and FileSplit."""

    count: int
    image_shape: tuple[int, int, int]

    @abstractmethod
    def labels(self) -> np.ndarray:
        """Class indices, int64, shape (count,)."""

    @abstractmethod
    def images(self, indices: Indices) -> np.ndarray:
        """uint8 pixels, shape (len(indices), H, W, C)."""

    @abstractmethod
    def subset(self, indices: Indices) -> "DataSplit":
        """A split of just these examples, in this order (no pixels are copied for files)."""

    @abstractmethod
    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        """Batches of (x float32 in [0, 1], shape (b, H, W, C); y int32, shape (b,)), prefetched."""

    def __len__(self) -> int:
        return self.count

    def _checked_indices(self, indices: Indices) -> np.ndarray:
        index_array = np.asarray(indices, dtype=np.int64).reshape(-1)
        if index_array.size and (index_array.min() < -self.count
                                 or index_array.max() >= self.count):
            raise IndexError(f"example index out of range for a split of {self.count}")
        return index_array


def _check_batch_size(batch_size: int) -> None:
    if int(batch_size) < 1:
        raise ValueError("batch_size must be at least 1")


class ArraySplit(DataSplit):
    """A split held in memory: x uint8 (N, H, W, C), y integer (N,)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        if x.ndim != 4 or x.dtype != np.uint8:
            raise ValueError(f"x must be uint8 (N, H, W, C), got {x.dtype} {x.shape}")
        if y.shape != (x.shape[0],):
            raise ValueError(f"y must have shape ({x.shape[0]},), got {y.shape}")
        self._x = x
        self._y = y.astype(np.int64, copy=False)
        self.count = int(x.shape[0])
        _, height, width, channels = (int(d) for d in x.shape)
        self.image_shape = (height, width, channels)

    @property
    def x(self) -> np.ndarray:
        """All images, uint8 (N, H, W, C) (read-only use, please)."""
        return self._x

    def labels(self) -> np.ndarray:
        return self._y.copy()

    def images(self, indices: Indices) -> np.ndarray:
        return np.asarray(self._x[self._checked_indices(indices)])

    def subset(self, indices: Indices) -> "ArraySplit":
        index_array = self._checked_indices(indices)
        return ArraySplit(self._x[index_array], self._y[index_array])

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        import tensorflow as tf

        _check_batch_size(batch_size)
        images = tf.constant(self._x)
        labels = tf.constant(self._y.astype(np.int32))
        # Shuffle and batch indices, then gather: the shuffle buffer holds integers, not
        # images, and scaling to float happens one batch at a time.
        dataset = tf.data.Dataset.range(self.count)
        if shuffle:
            dataset = dataset.shuffle(self.count, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(int(batch_size))
        if repeat:
            dataset = dataset.repeat()

        def gather(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            x = tf.cast(tf.gather(images, index), tf.float32) / 255.0
            return x, tf.gather(labels, index)

        dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)


class _FailureLog:
    """Remembers which files failed to decode, once each; shared by a split and its subsets."""

    def __init__(self, handler: DecodeFailureHandler | None) -> None:
        self._handler = handler
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # tf.data decodes on several threads at once

    def record(self, path: str, reason: str) -> None:
        with self._lock:
            if path in self._seen:
                return
            self._seen.add(path)
        if self._handler is not None:
            self._handler(path, reason)


class FileSplit(DataSplit):
    """A split of image files decoded on demand to image_size=(H, W) with 1 or 3 channels.

    A file that passed the loader's header check but fails to decode later (truncated JPEG
    data, say) becomes a blank image and is reported once through `on_decode_failure`,
    so one bad photo cannot stop an epoch halfway.
    """

    def __init__(self, paths: Sequence[str], labels: Sequence[int] | np.ndarray,
                 image_size: tuple[int, int], channels: int,
                 on_decode_failure: DecodeFailureHandler | None = None,
                 _failures: _FailureLog | None = None) -> None:
        self._paths = np.asarray([str(p) for p in paths], dtype=object)
        self._y = np.asarray(labels, dtype=np.int64).reshape(-1)
        if self._y.shape != (len(self._paths),):
            raise ValueError("paths and labels must have the same length")
        if channels not in (1, 3):
            raise ValueError("channels must be 1 or 3")
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.channels = channels
        self.count = len(self._paths)
        self.image_shape = (self.image_size[0], self.image_size[1], channels)
        self._failures = _failures or _FailureLog(on_decode_failure)

    @property
    def paths(self) -> list[str]:
        """The image files, in split order."""
        return list(self._paths)

    def labels(self) -> np.ndarray:
        return self._y.copy()

    def _decode(self, path: str) -> np.ndarray:
        try:
            return decode_image(path, self.image_size, self.channels)
        except ImageProblem as problem:
            self._failures.record(path, str(problem))
        except OSError as exc:  # deleted or unreadable since the scan
            self._failures.record(path, f"could not be read ({exc.strerror or exc})")
        return np.zeros(self.image_shape, dtype=np.uint8)

    def images(self, indices: Indices) -> np.ndarray:
        index_array = self._checked_indices(indices)
        out = np.empty((len(index_array),) + self.image_shape, dtype=np.uint8)
        for row, index in enumerate(index_array):
            out[row] = self._decode(self._paths[index])
        return out

    def subset(self, indices: Indices) -> "FileSplit":
        index_array = self._checked_indices(indices)
        return FileSplit(self._paths[index_array], self._y[index_array], self.image_size,
                         self.channels, _failures=self._failures)

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        import tensorflow as tf

        _check_batch_size(batch_size)
        shape = self.image_shape

        def decode_one(path: bytes) -> np.ndarray:
            return self._decode(path.decode("utf-8", "surrogateescape"))

        def load(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            image = tf.numpy_function(decode_one, [path], tf.uint8, stateful=False)
            image.set_shape(shape)
            return image, label

        def scale(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return tf.cast(images, tf.float32) / 255.0, labels

        # Only (path, label) pairs are shuffled; pixels exist for the few batches in flight.
        paths = [p.encode("utf-8", "surrogateescape") for p in self._paths]
        dataset = tf.data.Dataset.from_tensor_slices(
            (tf.constant(paths, dtype=tf.string), tf.constant(self._y.astype(np.int32))))
        if shuffle:
            dataset = dataset.shuffle(self.count, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.batch(int(batch_size))
        if repeat:
            dataset = dataset.repeat()
        dataset = dataset.map(scale, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)
