"""One split of a dataset (train, validation or test), in memory or streamed from disk.

Every kind answers the same questions: how many examples, their labels, a few of them as
they are stored (uint8 pixels of images, float32 values of signals: previews, the explainer,
galleries), and a batched `tf.data.Dataset` of (float32 inputs, int32 labels) for Keras.
`ArraySplit` holds images in memory; `FileSplit` holds only file paths and decodes images
as batches are drawn, so memory stays bounded; `series_split.SeriesSplit` holds signals.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable, Sequence, Union, cast

import numpy as np

from cnnviz.core.data.image_decoding import (ImageHeader, ImageProblem, PixelFormat,
                                             decode_unresized, white_backdrop_table)

if TYPE_CHECKING:
    import tensorflow as tf

DecodeFailureHandler = Callable[[str, str], None]
Indices = Union[Sequence[int], np.ndarray]  # example numbers: a list or an int array


class DataSplit(ABC):
    """A labelled set of examples of one shape: images (ArraySplit, FileSplit) or signals
    (series_split.SeriesSplit).

    `image_shape` is one example's shape: (height, width, channels) for images,
    (steps, channels) for signals.
    """

    count: int
    image_shape: tuple[int, ...]

    @abstractmethod
    def labels(self) -> np.ndarray:
        """Class indices, int64, shape (count,)."""

    @abstractmethod
    def images(self, indices: Indices) -> np.ndarray:
        """These examples as stored: uint8 pixels (len(indices), H, W, C) for images,
        float32 values (len(indices), steps, channels) for signals."""

    def examples(self, indices: Indices) -> np.ndarray:
        """The same as `images`, under a name that suits signals too."""
        return self.images(indices)

    @property
    def is_series(self) -> bool:
        """True for signals, shaped (steps, channels); False for images."""
        return len(self.image_shape) == 2

    @abstractmethod
    def subset(self, indices: Indices) -> "DataSplit":
        """A split of just these examples, in this order (no pixels are copied for files)."""

    @abstractmethod
    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        """Batches of (x float32, y int32 shape (b,)), prefetched: images scaled to [0, 1],
        shape (b, H, W, C); signals as stored, shape (b, steps, channels)."""

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

    Files are decoded a batch at a time inside the tf.data pipeline, the way Keras's
    `image_dataset_from_directory` does: TensorFlow's decoders read the files whose header
    (`ImageHeader.pixel_format`, from the folder scan) shows they give Pillow's pixels, in
    parallel; every other file goes through Pillow (`decode_unresized`) in the same
    pipeline. Both are resized with `tf.image.resize` (bilinear, as Keras's pipeline) and
    rounded to uint8, so `tf_dataset` and `images` (previews, the explainer) give the same
    pixels. A file that passed the loader's header check but fails to decode later
    (truncated data, say) becomes a blank image and is reported once through
    `on_decode_failure`, so one bad photo cannot stop an epoch halfway.
    """

    def __init__(self, paths: Sequence[str], labels: Sequence[int] | np.ndarray,
                 image_size: tuple[int, int], channels: int,
                 on_decode_failure: DecodeFailureHandler | None = None,
                 _failures: _FailureLog | None = None,
                 headers: Sequence[ImageHeader | None] | None = None) -> None:
        self._paths = np.asarray([str(p) for p in paths], dtype=object)
        self._y = np.asarray(labels, dtype=np.int64).reshape(-1)
        if self._y.shape != (len(self._paths),):
            raise ValueError("paths and labels must have the same length")
        if channels not in (1, 3):
            raise ValueError("channels must be 1 or 3")
        if headers is not None and len(headers) != len(self._paths):
            raise ValueError("paths and headers must have the same length")
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.channels = channels
        self.count = len(self._paths)
        self.image_shape = (self.image_size[0], self.image_size[1], channels)
        self._failures = _failures or _FailureLog(on_decode_failure)
        # Per file: the PixelFormat TensorFlow decodes (0: Pillow) and (height, width).
        self._formats = np.zeros(self.count, dtype=np.int32)
        self._sizes = np.full((self.count, 2), -1, dtype=np.int64)
        for row, header in enumerate(headers or ()):
            if header is not None:
                self._formats[row] = int(header.pixel_format or 0)
                self._sizes[row] = (header.height, header.width)

    @property
    def paths(self) -> list[str]:
        """The image files, in split order."""
        return list(self._paths)

    @property
    def files_for_tensorflow(self) -> int:
        """How many files TensorFlow's decoders read; the rest go through Pillow."""
        return int(np.count_nonzero(self._formats))

    def labels(self) -> np.ndarray:
        return self._y.copy()

    def _same_files(self, index_array: np.ndarray | slice, image_size: tuple[int, int],
                    channels: int) -> "FileSplit":
        paths = cast(Sequence[str], self._paths[index_array])
        split = FileSplit(paths, self._y[index_array], image_size,
                          channels, _failures=self._failures)
        split._formats = self._formats[index_array]
        split._sizes = self._sizes[index_array]
        return split

    def subset(self, indices: Indices) -> "FileSplit":
        return self._same_files(self._checked_indices(indices), self.image_size, self.channels)

    def at_size(self, image_size: tuple[int, int], channels: int) -> "FileSplit":
        """The same files (and failure reports) decoded to another size and colour count."""
        return self._same_files(slice(None), image_size, channels)

    def _decode_unresized(self, path: bytes | np.ndarray) -> np.ndarray:
        """Pillow's decode of one file (blank, and reported once, when it cannot be read)."""
        raw = path.item() if isinstance(path, np.ndarray) else path  # eager: a 0-d array
        name = bytes(raw).decode("utf-8", "surrogateescape")
        try:
            return decode_unresized(name, self.image_size, self.channels)
        except ImageProblem as problem:
            self._failures.record(name, str(problem))
        except OSError as exc:  # deleted or unreadable since the scan
            self._failures.record(name, f"could not be read ({exc.strerror or exc})")
        return np.zeros(self.image_shape, dtype=np.uint8)

    def _encoded_paths(self, index_array: np.ndarray | slice = slice(None)) -> list[bytes]:
        return [p.encode("utf-8", "surrogateescape") for p in self._paths[index_array]]

    def _batch_decoder(self) -> Callable[["tf.Tensor", "tf.Tensor"], "tf.Tensor"]:
        """decode(paths, formats) -> uint8 (n, H, W, C), for use in tf.data or eagerly."""
        return _batch_decoder(self.image_size, self.channels, self._formats, self._sizes,
                              self._decode_unresized)

    def images(self, indices: Indices) -> np.ndarray:
        import tensorflow as tf

        index_array = self._checked_indices(indices)
        out = np.empty((len(index_array),) + self.image_shape, dtype=np.uint8)
        decode = self._batch_decoder()
        for start in range(0, len(index_array), _IMAGES_PER_CALL):
            chunk = index_array[start:start + _IMAGES_PER_CALL]
            out[start:start + len(chunk)] = decode(
                tf.constant(self._encoded_paths(chunk), dtype=tf.string),
                tf.constant(self._formats[chunk])).numpy()
        return out

    def tf_dataset(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
                   repeat: bool = False) -> "tf.data.Dataset":
        import tensorflow as tf

        _check_batch_size(batch_size)
        decode = self._batch_decoder()

        def load(paths: tf.Tensor, formats: tf.Tensor,
                 labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return tf.cast(decode(paths, formats), tf.float32) / 255.0, labels

        # Only (path, format, label) triples are shuffled; pixels exist for the few batches
        # in flight.
        dataset = tf.data.Dataset.from_tensor_slices(
            (tf.constant(self._encoded_paths(), dtype=tf.string), tf.constant(self._formats),
             tf.constant(self._y.astype(np.int32))))
        if shuffle:
            dataset = dataset.shuffle(self.count, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(int(batch_size))
        # No autograph: these functions use tf.cond themselves, and converting them would
        # cost a second each time a dataset is made.
        dataset = dataset.map(tf.autograph.experimental.do_not_convert(load),
                              num_parallel_calls=tf.data.AUTOTUNE)
        if repeat:
            dataset = dataset.repeat()
        return dataset.prefetch(tf.data.AUTOTUNE)


_IMAGES_PER_CALL = 256


def _pillow_luma(rgb: "tf.Tensor") -> "tf.Tensor":
    """uint8 (h, w, 3) -> (h, w, 1) with Pillow's integer formula for RGB -> L."""
    import tensorflow as tf

    weighted = tf.cast(rgb, tf.int32) * tf.constant([19595, 38470, 7471], dtype=tf.int32)
    luma = tf.bitwise.right_shift(tf.reduce_sum(weighted, axis=-1, keepdims=True) + 0x8000, 16)
    return tf.cast(luma, tf.uint8)


def _tf_decode(data: "tf.Tensor", pixel_format: PixelFormat, channels: int) -> "tf.Tensor":
    """One file's bytes to uint8 (h, w, channels), converted exactly as Pillow converts."""
    import tensorflow as tf

    if pixel_format is PixelFormat.GRAY:
        gray = tf.io.decode_png(data, channels=1)
        return gray if channels == 1 else tf.image.grayscale_to_rgb(gray)
    if pixel_format is PixelFormat.JPEG_GRAY:
        gray = tf.io.decode_jpeg(data, channels=1, dct_method="INTEGER_ACCURATE")
        return gray if channels == 1 else tf.image.grayscale_to_rgb(gray)
    if pixel_format is PixelFormat.JPEG_COLOR:
        # Pillow's libjpeg uses the accurate integer DCT (TF's default is the fast one, up
        # to 6 levels off). A colour JPEG read as grayscale is its luma channel, as in
        # Pillow's draft mode.
        return tf.io.decode_jpeg(data, channels=channels, dct_method="INTEGER_ACCURATE")
    if pixel_format is PixelFormat.COLOR_ALPHA:
        rgba = tf.cast(tf.io.decode_png(data, channels=4), tf.int32)
        table = tf.constant(white_backdrop_table().reshape(-1))
        rgb = tf.gather(table, rgba[:, :, :3] * 256 + rgba[:, :, 3:])
    else:
        rgb = tf.io.decode_png(data, channels=3)
    return rgb if channels == 3 else _pillow_luma(rgb)


def _batch_decoder(image_size: tuple[int, int], channels: int, formats: np.ndarray,
                   sizes: np.ndarray, decode_unresized_file: Callable[[bytes | np.ndarray], np.ndarray]
                   ) -> Callable[["tf.Tensor", "tf.Tensor"], "tf.Tensor"]:
    """A TF function decoding a batch of files (see FileSplit) to uint8 (n, H, W, C)."""
    import tensorflow as tf

    height, width = image_size
    shape = (height, width, channels)
    present = sorted(int(f) for f in np.unique(formats) if f > 0)
    fast = formats > 0
    # Files the scan saw at the target size need no resize; one changed since is caught
    # by ensure_shape and goes through Pillow like any other file TF cannot read.
    resize_needed = bool(np.any(sizes[fast] != (height, width)))

    def to_size(pixels: tf.Tensor) -> tf.Tensor:
        resized = tf.image.resize(pixels, (height, width), method="bilinear")
        return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)

    def sized(pixels: tf.Tensor) -> tf.Tensor:
        if not resize_needed:
            return tf.ensure_shape(pixels, shape)
        pixels.set_shape((None, None, channels))
        same = tf.logical_and(tf.shape(pixels)[0] == height, tf.shape(pixels)[1] == width)
        return tf.cond(same, lambda: tf.ensure_shape(pixels, shape), lambda: to_size(pixels))

    branch_of_format = tf.constant(
        [present.index(code) if code in present else 0 for code in range(max(PixelFormat) + 1)],
        dtype=tf.int32)

    def decode_one(position: tf.Tensor, path: tf.Tensor,
                   pixel_format: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        data = tf.io.read_file(path)
        branches = {code: (lambda code=code: sized(_tf_decode(data, PixelFormat(code),
                                                                channels)))
                    for code in present}
        if len(branches) == 1:
            return position, branches[present[0]]()
        return position, tf.switch_case(tf.gather(branch_of_format, pixel_format),
                                        [branches[code] for code in present])

    def pillow_one(path: tf.Tensor) -> tf.Tensor:
        pixels = tf.numpy_function(decode_unresized_file, [path], tf.uint8, stateful=False)
        pixels.set_shape((None, None, channels))
        same = tf.logical_and(tf.shape(pixels)[0] == height, tf.shape(pixels)[1] == width)
        return tf.cond(same, lambda: tf.ensure_shape(pixels, shape), lambda: to_size(pixels))

    def decode(paths: tf.Tensor, pixel_formats: tf.Tensor) -> tf.Tensor:
        count = tf.shape(paths)[0]
        decoded = tf.zeros((count,) + shape, tf.uint8)
        done = tf.zeros((count,), tf.bool)
        if present:
            chosen = tf.cast(tf.where(pixel_formats > 0)[:, 0], tf.int32)
            # A file TF cannot decode (damaged, or changed since the scan) is dropped here
            # and read by Pillow below, which decodes it or reports it.
            attempts = tf.data.Dataset.from_tensor_slices(
                (chosen, tf.gather(paths, chosen), tf.gather(pixel_formats, chosen))
            ).map(tf.autograph.experimental.do_not_convert(decode_one),
                  num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=False).ignore_errors()
            nothing = tf.data.Dataset.from_tensors(
                (tf.zeros((0,), tf.int32), tf.zeros((0,) + shape, tf.uint8)))
            positions, pixels = attempts.batch(tf.cast(tf.maximum(count, 1), tf.int64)) \
                .concatenate(nothing).take(1).get_single_element()
            decoded = tf.tensor_scatter_nd_update(decoded, positions[:, None], pixels)
            done = tf.tensor_scatter_nd_update(done, positions[:, None],
                                               tf.ones_like(positions, tf.bool))
        rest = tf.cast(tf.where(tf.logical_not(done))[:, 0], tf.int32)

        def with_pillow() -> tf.Tensor:
            pixels = tf.map_fn(pillow_one, tf.gather(paths, rest),
                               fn_output_signature=tf.TensorSpec(shape, tf.uint8))
            return tf.tensor_scatter_nd_update(decoded, rest[:, None], pixels)

        return tf.cond(tf.size(rest) > 0, with_pillow, lambda: decoded)

    return decode
