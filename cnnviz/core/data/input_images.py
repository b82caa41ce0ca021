"""The one image the explainer steps through: a dataset example, a drawing or an image file.

Every source ends as float32 (H, W, C) in [0, 1], the way training images reach the model.
A drawing is normalised the way MNIST digits were (cropped, scaled into a 20×20 box, centred
by mass in 28×28); an image file is decoded and resized exactly like the images of a folder
dataset (`image_decoding.decode_image`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.data.image_decoding import ImageProblem, decode_image, probe_image
from cnnviz.core.data.split_choice import measured_split, split_phrase
from cnnviz.core.errors import ExplainError
from cnnviz.core.formatting import dims_text

# MNIST: "normalized to fit in a 20x20 pixel box ... centered in a 28x28 image by computing
# the center of mass of the pixels".
MNIST_BOX_FRACTION = 20 / 28
# A pixel counts as ink above this (anything an 8-bit image would not round to black).
INK_THRESHOLD = 1 / 255
# Less ink than this fraction of the canvas (in fully white pixels) is a stray click.
MIN_INK_FRACTION = 0.0005
# Decoding a file at full size must fit in this much memory (JPEGs are decoded at 1/2, 1/4
# or 1/8 size, so only PNG-like formats ever come near it): a 10,000 × 10,000 grayscale
# PNG fits, the same picture in colour (400 MB in Pillow) gets a clear "too large" instead.
MAX_DECODE_BYTES = 200 * 2**20
_DRAFTABLE_FORMATS = frozenset({"JPEG", "MPO"})
_ONE_BYTE_MODES = frozenset({"1", "L", "P"})
_WIDE_GRAY_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def prepare_drawing(ink: np.ndarray, size: tuple[int, int] = (28, 28)) -> np.ndarray:
    """A drawing as a model input, normalised the way the MNIST digits were.

    ink: float array (H, W) (or (H, W, 1)) in [0, 1], 1 = ink (white strokes on black).
    The ink is cropped to its bounding box, scaled with anti-aliasing (aspect ratio kept) so
    its longer side fills a box of 20/28 of `size`, and shifted by whole pixels so its centre
    of mass sits at pixel (height/2, width/2), as in MNIST. Returns float32 (height, width, 1)
    in [0, 1].
    Raises ExplainError for an empty (or nearly empty) drawing.
    """
    array = np.asarray(ink, dtype=np.float32)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"ink must be a 2-D array, got shape {array.shape}")
    array = np.clip(np.nan_to_num(array), 0.0, 1.0)
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size}")
    array[array <= INK_THRESHOLD] = 0.0  # below what an 8-bit image could show
    if array.sum() < max(1.0, MIN_INK_FRACTION * array.size):
        raise ExplainError("Draw something first: the canvas is empty. Draw a digit with the "
                           "left mouse button, as large as the canvas allows.")

    rows = np.flatnonzero(array.max(axis=1) > 0)
    cols = np.flatnonzero(array.max(axis=0) > 0)
    crop = array[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]

    box_h = max(1, round(height * MNIST_BOX_FRACTION))
    box_w = max(1, round(width * MNIST_BOX_FRACTION))
    scale = min(box_h / crop.shape[0], box_w / crop.shape[1])
    new_h = min(box_h, max(1, round(crop.shape[0] * scale)))
    new_w = min(box_w, max(1, round(crop.shape[1] * scale)))
    # Shrinking averages the area each output pixel covers (anti-aliasing, no ringing, ink
    # kept); a tiny drawing is enlarged smoothly instead of in blocks.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    patch_image = Image.fromarray(crop, mode="F").resize((new_w, new_h), resample)
    patch = np.clip(np.asarray(patch_image, dtype=np.float32), 0.0, 1.0)

    mass = float(patch.sum())
    if mass <= 0.0:  # only possible for vanishingly faint ink
        centre_y, centre_x = (new_h - 1) / 2, (new_w - 1) / 2
    else:
        centre_y = float((patch.sum(axis=1) * np.arange(new_h)).sum() / mass)
        centre_x = float((patch.sum(axis=0) * np.arange(new_w)).sum() / mass)
    # A whole-pixel shift, as MNIST did: the digit stays crisp and its box stays 20×20, and
    # the centre of mass lands within half a pixel of (height/2, width/2) in pixel indices,
    # where MNIST's digits have theirs ((13.98, 14.01) on average over its test images, with
    # the ±0.29 spread of whole-pixel shifts).
    top = int(np.floor(height / 2 - centre_y + 0.5))
    left = int(np.floor(width / 2 - centre_x + 0.5))
    # A very lopsided drawing (a heavy blob at the end of a long thin line) would be pushed
    # partly out of the field; keeping all of it beats centring it exactly.
    top = min(max(top, 0), height - new_h)
    left = min(max(left, 0), width - new_w)

    out = np.zeros((height, width), dtype=np.float32)
    out[top:top + new_h, left:left + new_w] = patch
    return out[:, :, np.newaxis]


def _decode_cost(path: Path, size: tuple[int, int], channels: int) -> tuple[int, int, int]:
    """(width, height, bytes) that decode_image will hold while decoding this file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            width, height = img.size
            if img.format in _DRAFTABLE_FORMATS:
                # Only configures the decoder (no pixels are read): JPEG shrinks while decoding.
                img.draft("L" if channels == 1 else "RGB", (size[1], size[0]))
            pixels = img.size[0] * img.size[1]
            mode = img.mode
            alpha = mode in _ALPHA_MODES or "transparency" in img.info
    if mode in _WIDE_GRAY_MODES:
        # + the float64 arrays `_to_8bit_gray` scales through
        per_pixel = (2 if mode.startswith("I;16") else 4) + 26
    else:
        per_pixel = 1 if mode in _ONE_BYTE_MODES else 4  # Pillow keeps RGB as 4 bytes
        if alpha and mode not in ("RGBA",):
            per_pixel += 4  # converted to RGBA before shrinking
        elif mode == "1":
            per_pixel += 1
        elif not alpha and mode not in ("L", "RGB"):
            per_pixel += 4  # palette, CMYK, ... converted to RGB before shrinking
    return width, height, pixels * per_pixel


def image_file_to_input(path: str | Path, input_shape: Sequence[int]) -> np.ndarray:
    """An image file as a model input: float32 (H, W, C) in [0, 1] for input_shape (H, W, C).

    Converted to grayscale (C = 1) or RGB (C = 3) and resized exactly like the images of a
    folder dataset; transparent areas become white. Raises ExplainError naming the file when
    it is missing, not an image, damaged, or too large to decode safely.
    """
    height, width, channels = (int(d) for d in input_shape)
    if channels not in (1, 3):
        raise ExplainError(f"The model takes images with {channels} channels; an image file can "
                           "only become a grayscale (1 channel) or RGB (3 channel) input.")
    file = Path(path)
    name = file.name or str(file)
    if not file.exists():
        raise ExplainError(f"{name}: there is no such file.")
    if not file.is_file():
        raise ExplainError(f"{name} is a folder, not an image file.")
    try:
        header = probe_image(file)
        full_w, full_h, cost = _decode_cost(file, (height, width), channels)
    except ImageProblem as problem:
        if str(problem).startswith("too large"):
            raise ExplainError(
                f"{name} is too large to open safely (more than "
                f"{2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels). Shrink it with an image editor "
                "first.") from None
        raise ExplainError(f"{name} cannot be used: {problem}.") from None
    except OSError as exc:
        raise ExplainError(f"{name} could not be read ({exc.strerror or exc}).") from None
    if cost > MAX_DECODE_BYTES:
        raise ExplainError(
            f"{name} is {full_w:,}×{full_h:,} pixels: shrinking it would need about "
            f"{cost / 2**20:,.0f} MB of memory. Make it smaller in an image editor, or save it "
            f"as JPEG (large JPEGs are read at reduced size).")
    try:
        pixels = decode_image(file, (height, width), channels)
    except ImageProblem as problem:
        raise ExplainError(f"{name} cannot be used ({header.format}): {problem}.") from None
    except OSError as exc:
        raise ExplainError(f"{name} could not be read ({exc.strerror or exc}).") from None
    return pixels.astype(np.float32) / 255.0


def explain_split(dataset: Dataset) -> str:
    """The split to explain, the same one `cnnviz evaluate` measures by default: all of a
    source that has no test part (see Dataset.whole), else "test", else "validation", else
    "train"."""
    return measured_split(dataset)


def dataset_input(dataset: Dataset, split_name: str, index: int) -> tuple[np.ndarray, int]:
    """Example `index` (from 0) of a split as (float32 (H, W, C) in [0, 1], class index), or
    for a split of signals (float32 (steps, channels) as stored, class index).

    Raises ExplainError when the split is missing or the index is out of range.
    """
    split = dataset.split(split_name)
    if split is None or split.count == 0:
        raise ExplainError(f"{dataset.name} has no {split_name} images.")
    if not 0 <= int(index) < split.count:
        raise ExplainError(f"There is no image #{int(index)}: {split_phrase(dataset, split_name)}"
                           f" are numbered 0 to {split.count - 1:,}.")
    example = split.images([int(index)])[0].astype(np.float32)
    # A signal (steps, channels) reaches the model as stored; pixels are scaled to [0, 1].
    image = example if example.ndim == 2 else example / np.float32(255.0)
    label = int(split.labels()[int(index)])
    return image, label


def _channel_words(channels: int | None) -> str:
    if channels == 1:
        return "grayscale"
    if channels == 3:
        return "colour"
    return f"{channels} channels"


def _signal_text(shape: Sequence[int | None]) -> str:
    steps, channels = shape
    steps_text = "any number of" if steps is None else f"{steps:,}"
    channels_text = "any number of channels" if channels is None else (
        f"{channels} channel{'s' if channels != 1 else ''}")
    return f"{steps_text} steps × {channels_text}"


def input_mismatch(image_shape: Sequence[int], model_input_shape: Sequence[int | None]
                   ) -> str | None:
    """Why images of `image_shape` cannot go into a model taking `model_input_shape`, or None.

    Both are (height, width, channels), or (steps, channels) for signals; None in the
    model's shape accepts any size. A signal for an image model (or the reverse) is named so.
    """
    image = tuple(int(d) for d in image_shape)
    model = tuple(None if d is None else int(d) for d in model_input_shape)
    if len(image) == len(model) and all(m is None or m == i for i, m in zip(image, model)):
        return None
    if len(image) == 2 and len(model) == 3:
        return (f"The model takes {dims_text(model)} images, but these are signals of "
                f"{_signal_text(image)}. A signal needs a 1-D model (an input of steps × "
                "channels); build one, or load images.")
    if len(image) == 3 and len(model) == 2:
        return (f"The model is a 1-D network taking signals of {_signal_text(model)}, but "
                f"these are {dims_text(image)} images. Load a time-series dataset (such as "
                "the GunPoint sample), or build a 2-D model for images.")
    if len(image) == 2 and len(model) == 2:
        return (f"The model takes signals of {_signal_text(model)}, but these are signals of "
                f"{_signal_text(image)}.")
    if len(image) != 3 or len(model) != 3:
        return (f"The model expects inputs shaped {dims_text(model)}, but these images "
                f"are {dims_text(image)}.")
    expected = dims_text(model)
    if model[2] is not None and model[2] != image[2]:
        expected += f" ({_channel_words(model[2])})"
    return (f"The model expects {expected} images, but these are {dims_text(image)} "
            f"({_channel_words(image[2])}).")
