"""Bases for transfer learning and feature extraction: Keras's pre-built image networks or
any model file cnnviz opens.

`open_base(name_or_path, weights="imagenet"|"random", input_shape=None, on_progress=None)`
returns a `Base`: the Keras model (an application without its classifier top, or the opened
model whole), its input shape, a note on its weights, and `preprocess`, which turns images
with values 0..255 (any size, grey or colour) into what the model expects.

ImageNet weights come from Keras's own cache, `<keras home>/models` ($KERAS_HOME or
~/.keras), under the very file names Keras uses, so a file Keras downloaded is found here and
the other way round. A missing file is downloaded by Keras's own `urlretrieve` with progress
reported in bytes; offline, the error names the file, its address and the folder to put it
in, and the architecture is still there with `weights="random"`. A file in the cache whose
hash is not the published one is refused, naming the expected hash.
TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cnnviz.core.data.keras_downloads import keras_home
from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    import keras

__all__ = [
    "APPLICATIONS", "Application", "Base", "BaseError", "WeightsFileError", "ProgressCallback",
    "Fetch", "application_names", "is_application_name", "keras_models_dir", "weights_file_for",
    "open_base",
]

ProgressCallback = Callable[[str, int, int], None]
# fetch(url, target, report) downloads url into target, calling report(done, total) in bytes.
Fetch = Callable[[str, Path, Callable[[int, int], None]], None]

WEIGHTS = ("imagenet", "random")
# Caffe-style preprocessing (ResNet50, VGG16): RGB → BGR, then these ImageNet means subtracted.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


class BaseError(CnnvizError):
    """A base cannot be opened: unknown name, bad input size, weights not available."""


class WeightsFileError(BaseError):
    """ImageNet weights are missing (offline) or the cached file is the wrong one.
    `path` is where the file belongs; `url` where Keras downloads it from."""

    def __init__(self, message: str, path: Path, url: str) -> None:
        super().__init__(message)
        self.path = path
        self.url = url


@dataclass(frozen=True)
class Application:
    """One Keras application: its constructor, input sizes, weights file and preprocessing.

    `preprocess_mode` is what its `preprocess_input` does: "tf" scales 0..255 to -1..1,
    "caffe" swaps RGB to BGR and subtracts the ImageNet means, "inside" means the network
    starts with its own rescaling layers and `preprocess_input` passes the values through.
    """

    name: str
    title: str
    constructor: str              # attribute of keras.applications
    module: str                   # keras.applications.<module>.preprocess_input
    default_size: int
    min_size: int
    weights_url_folder: str
    file_hash: str | None         # as Keras checks it (md5 here); None when Keras has none
    preprocess_mode: str          # "tf" | "caffe" | "inside"
    weights_file_template: str    # {size} → the size the weights were made for

    def weights_file(self, size: int) -> str:
        """The no-top ImageNet weights file Keras uses for a square input of `size`."""
        return self.weights_file_template.format(size=self._weights_size(size))

    def _weights_size(self, size: int) -> int:
        # MobileNetV2 has weights for these sizes and loads the 224 ones for any other.
        if self.name == "mobilenet_v2":
            return size if size in (96, 128, 160, 192, 224) else 224
        return self.default_size

    def weights_url(self, size: int) -> str:
        return self.weights_url_folder + self.weights_file(size)


_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
APPLICATIONS: dict[str, Application] = {app.name: app for app in (
    Application("mobilenet_v2", "MobileNetV2", "MobileNetV2", "mobilenet_v2", 224, 32,
                _KERAS_APPS + "mobilenet_v2/", None, "tf",
                "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5"),
    Application("mobilenet_v3_small", "MobileNetV3Small", "MobileNetV3Small", "mobilenet_v3",
                224, 32, _KERAS_APPS + "mobilenet_v3/", "d3e8ec802a04aa4fc771ee12a9a9b836",
                "inside", "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"),
    Application("efficientnet_b0", "EfficientNetB0", "EfficientNetB0", "efficientnet", 224, 32,
                "https://storage.googleapis.com/keras-applications/",
                "50bc09e76180e00e4465e1a485ddc09d", "inside", "efficientnetb0_notop.h5"),
    Application("resnet50", "ResNet50", "ResNet50", "resnet50", 224, 32,
                _KERAS_APPS + "resnet/", "4d473c1dd8becc155b73f8504c6f6626", "caffe",
                "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    Application("vgg16", "VGG16", "VGG16", "vgg16", 224, 32, _KERAS_APPS + "vgg16/",
                "6d6bbae143d832006294945121d1f1fc", "caffe",
                "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
)}


@dataclass
class Base:
    """A network to build on.

    model: for an application, the network without its classifier top (its last conv block
        is the output); for a model file, the whole opened model (cut it at a layer).
    preprocess(images): images as floats 0..255, shape (n, h, w, c), any size and 1 or 3
        channels → float32 inputs for `model`: resized bilinearly to `input_shape`, grey
        converted to colour (or colour to grey), then the network's own scaling.
    preprocess_mode: "tf", "caffe" or "inside" for applications (see Application), "unit"
        for a model file (values scaled to 0..1, as cnnviz feeds every model it trains).
    """

    model: "keras.Model"
    name: str
    preprocess: Callable[[np.ndarray], np.ndarray]
    input_shape: tuple[int, int, int]
    weights_note: str
    kind: str                      # "application" | "file"
    preprocess_mode: str
    application: Application | None = None
    path: Path | None = None
    notes: list[str] = field(default_factory=list)


def application_names() -> tuple[str, ...]:
    """The application names open_base knows, e.g. ("mobilenet_v2", ...)."""
    return tuple(APPLICATIONS)


def is_application_name(text: str) -> bool:
    return text.strip().lower().replace("-", "_") in APPLICATIONS


def keras_models_dir() -> Path:
    """Where Keras caches application weights: <keras home>/models."""
    return keras_home() / "models"


def weights_file_for(name: str, size: int | None = None) -> tuple[str, str, str | None]:
    """(file name, download address, expected hash or None) of an application's no-top
    ImageNet weights for a square input of `size` (default: its default size)."""
    app = _application(name)
    size = size or app.default_size
    return app.weights_file(size), app.weights_url(size), app.file_hash


def _application(name: str) -> Application:
    key = name.strip().lower().replace("-", "_")
    if key not in APPLICATIONS:
        raise BaseError(f"'{name}' is neither a model file nor a network cnnviz knows; "
                        f"choose one of: {', '.join(APPLICATIONS)}.")
    return APPLICATIONS[key]


# ---------------------------------------------------------------- weights


def _urlretrieve_fetch(url: str, target: Path, report: Callable[[int, int], None]) -> None:
    """Keras's own download (keras.utils.get_file calls the same urlretrieve)."""
    from keras.src.utils import file_utils

    def hook(block: int, block_size: int, total: int) -> None:
        done = block * block_size
        report(min(done, total) if total > 0 else done, max(total, 0))

    file_utils.urlretrieve(url, str(target), hook)


def _hash_of(path: Path, expected: str) -> str:
    from keras.src.utils import file_utils

    algorithm = "sha256" if len(expected) == 64 else "md5"
    return str(file_utils.hash_file(str(path), algorithm=algorithm))


def _weights_path(app: Application, size: int, on_progress: ProgressCallback | None,
                  fetch: Fetch | None) -> Path:
    """The cached weights file, checked, downloading it when missing."""
    file_name, url = app.weights_file(size), app.weights_url(size)
    folder = keras_models_dir()
    target = folder / file_name
    if target.is_file():
        if app.file_hash and _hash_of(target, app.file_hash) != app.file_hash:
            raise WeightsFileError(
                f"{target} is not the right file for {app.title}: its MD5 hash is "
                f"{_hash_of(target, app.file_hash)}, expected {app.file_hash}. Delete it and "
                f"download {url} again, or use random weights.", target, url)
        return target
    partial = target.with_name(target.name + ".part")
    stage = f"Downloading {file_name}"

    def report(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(stage, done, total)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        report(0, 0)
        (fetch or _urlretrieve_fetch)(url, partial, report)
        if app.file_hash and _hash_of(partial, app.file_hash) != app.file_hash:
            raise WeightsFileError(
                f"The downloaded {file_name} is damaged: its MD5 hash is not {app.file_hash}. "
                f"Try again, or use random weights.", target, url)
        os.replace(partial, target)
    except WeightsFileError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:  # offline, server error, disk full: one message for all
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise WeightsFileError(
            f"The ImageNet weights of {app.title} are not on this computer and could not be "
            f"downloaded ({str(reason)[:120]}). Download {file_name} from {url} and put it in "
            f"{folder}, or use the network with random weights.", target, url) from None
    return target


# ---------------------------------------------------------------- opening


def _square_size(app: Application, input_shape: tuple[int, ...] | None) -> tuple[int, int, int]:
    if input_shape is None:
        return app.default_size, app.default_size, 3
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 2:
        shape = (*shape, 3)
    if len(shape) != 3 or shape[2] != 3:
        raise BaseError(f"{app.title} takes colour images, shaped height × width × 3; got "
                        f"{'×'.join(str(d) for d in shape)}. Grey images are converted for it.")
    if min(shape[:2]) < app.min_size:
        raise BaseError(f"{app.title} takes images of at least {app.min_size}×{app.min_size}; "
                        f"{shape[0]}×{shape[1]} is too small. Resize the images to "
                        f"{app.min_size}×{app.min_size} or more.")
    return shape[0], shape[1], shape[2]


def _resized_rgb(images: np.ndarray, shape: tuple[int, int, int]) -> Any:
    """Images 0..255 → float32 tensor of `shape`, grey → colour, bilinear like Keras."""
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    if x.shape.rank == 3:
        x = x[..., tf.newaxis]
    channels = int(x.shape[-1])
    if channels == 1 and shape[2] == 3:
        x = tf.tile(x, (1, 1, 1, 3))
    elif channels == 4:
        x = x[..., :3]
    if channels >= 3 and shape[2] == 1:
        from cnnviz.core.data.data_fit import LUMA_WEIGHTS

        x = tf.reduce_sum(x[..., :3] * tf.constant(LUMA_WEIGHTS, tf.float32), axis=-1,
                          keepdims=True)
    if tuple(x.shape[1:3]) != shape[:2]:
        x = tf.image.resize(x, shape[:2], method="bilinear")
    return x


def _application_preprocess(app: Application,
                            shape: tuple[int, int, int]) -> Callable[[np.ndarray], np.ndarray]:
    import importlib

    preprocess_input = importlib.import_module(
        f"keras.applications.{app.module}").preprocess_input

    def preprocess(images: np.ndarray) -> np.ndarray:
        # A writable copy: preprocess_input works in place on NumPy arrays.
        x = np.array(_resized_rgb(images, shape), dtype=np.float32)
        return np.asarray(preprocess_input(x), dtype=np.float32)

    return preprocess


def _file_preprocess(shape: tuple[int, int, int]) -> Callable[[np.ndarray], np.ndarray]:
    def preprocess(images: np.ndarray) -> np.ndarray:
        # As cnnviz feeds every model it trains or opens: pixels scaled to 0..1.
        return np.asarray(_resized_rgb(images, shape), dtype=np.float32) / 255.0

    return preprocess


def _open_application(app: Application, weights: str, input_shape: tuple[int, ...] | None,
                      on_progress: ProgressCallback | None, fetch: Fetch | None,
                      input_tensor: Any = None) -> Base:
    import keras

    shape = _square_size(app, input_shape)
    weights_note = "random weights"
    weights_arg: str | None = None
    if weights == "imagenet":
        weights_arg = str(_weights_path(app, shape[0] if shape[0] == shape[1] else 0,
                                        on_progress, fetch))
        weights_note = "ImageNet weights"
    constructor = getattr(keras.applications, app.constructor)
    try:
        model = constructor(include_top=False, weights=weights_arg, input_shape=shape,
                            input_tensor=input_tensor)
    except (OSError, ValueError) as exc:
        path = Path(weights_arg) if weights_arg else keras_models_dir()
        raise WeightsFileError(
            f"{path.name} could not be read as {app.title}'s weights ({str(exc)[:120]}). "
            f"Delete it and download {app.weights_url(shape[0])} again, or use random weights.",
            path, app.weights_url(shape[0])) from None
    notes: list[str] = []
    if weights == "imagenet" and app.name == "mobilenet_v2" and \
            (shape[0] != shape[1] or shape[0] not in (96, 128, 160, 192, 224)):
        notes.append(f"MobileNetV2's ImageNet weights were made for 96 to 224 pixels square; "
                     f"they work at {shape[0]}×{shape[1]}, less well.")
    return Base(model, app.name, _application_preprocess(app, shape), shape, weights_note,
                "application", app.preprocess_mode, app, None, notes)


def _open_file(path: Path, trust: bool) -> Base:
    from cnnviz.core.inspect.model_files import open_model

    opened = open_model(path, trust=trust)
    model = opened.model
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(d is None for d in shape):
        raise BaseError(f"{path.name} does not take images of a fixed size (its input is "
                        f"{shape}); a base for transfer learning needs one.")
    image_shape = (int(shape[0]), int(shape[1]), int(shape[2]))
    return Base(model, path.stem, _file_preprocess(image_shape), image_shape,
                f"the weights stored in {path.name}", "file", "unit", None, path,
                list(opened.notes))


def open_base(name_or_path: str | Path, *, weights: str = "imagenet",
              input_shape: tuple[int, ...] | None = None,
              on_progress: ProgressCallback | None = None,
              trust: bool = False, fetch: Fetch | None = None,
              input_tensor: Any = None) -> Base:
    """Open a base: a Keras application by name or a model file.

    Args:
        name_or_path: an application name (see APPLICATIONS, e.g. "mobilenet_v2") or a model
            file cnnviz opens (.keras, .h5, architecture .json).
        weights: "imagenet" (from Keras's cache, downloaded when missing) or "random";
            ignored for a model file, which brings its own.
        input_shape: (height, width[, 3]) to build an application at; default its own size
            (224×224). A model file's input is its own.
        on_progress: on_progress(stage, bytes_done, bytes_total) while weights download.
        trust: open a model file that contains Python code (Lambda layers).
        fetch: how to download (default: Keras's urlretrieve); tests pass an offline one.
        input_tensor: build an application on this Keras tensor (of input_shape), so the
            layers before it and the network are one flat model (base_blocks uses it).
    Raises:
        BaseError (unknown name, bad size), WeightsFileError (missing offline: names the file,
        its address and the folder; a wrong cached file: names its expected hash),
        ModelFileError for a model file that cannot be opened.
    """
    text = str(name_or_path)
    if weights not in WEIGHTS:
        raise BaseError(f"weights must be 'imagenet' or 'random'; got {weights!r}.")
    path = Path(text).expanduser()
    looks_like_file = path.suffix.lower() in (".keras", ".h5", ".hdf5", ".json") or \
        os.sep in text or path.exists()
    if looks_like_file and not is_application_name(text):
        return _open_file(path, trust)
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", text):
        raise BaseError(f"'{text}' is neither a model file nor a network cnnviz knows.")
    return _open_application(_application(text), weights, input_shape, on_progress, fetch,
                             input_tensor)
