"""Named architectures to start from: the classic tutorial CNNs, LeNet-5, a small VGG, the
Keras guide's 1-D sequence classifier and a small fully convolutional network for signals.

Each preset is a function returning a fresh ModelSpec, so editing one never changes
the next. `PRESETS` lists them for menus; `preset_spec(key)` builds one by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from cnnviz.core.errors import SpecError
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer

DEFAULT_PRESET = "mnist_cnn"
# The bundled example image folder ("folder-sample") as the Train view loads it by default:
# 64×64 colour images of 3 classes (cat, frog, ship). A test checks this against the sample.
IMAGE_FOLDER_SIDE = 64
IMAGE_FOLDER_CLASSES = 3
# The bundled signal sample, GunPoint (UCR archive): univariate series of 150 steps, 2 classes.
GUNPOINT_STEPS = 150
GUNPOINT_CLASSES = 2


def canonical_layer(layer_type: str, **params: Any) -> LayerSpec:
    """A layer in canonical form (every parameter present), as a loaded spec would have it."""
    return normalize_layer(LayerSpec.make(layer_type, **params))


def mnist_cnn() -> ModelSpec:
    """The Keras tutorial CNN for MNIST digits: 515,146 parameters."""
    return ModelSpec((28, 28, 1), [
        canonical_layer("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
        canonical_layer("MaxPooling2D", pool_size=[2, 2]),
        canonical_layer("Conv2D", filters=64, kernel_size=[3, 3], activation="relu"),
        canonical_layer("Flatten"),
        canonical_layer("Dense", units=64, activation="relu"),
        canonical_layer("Dense", units=10, activation="softmax"),
    ], name="mnist_cnn")


def dense_baseline() -> ModelSpec:
    """No convolutions at all: the plain dense network CNNs are compared with (101,770)."""
    return ModelSpec((28, 28, 1), [
        canonical_layer("Flatten"),
        canonical_layer("Dense", units=128, activation="relu"),
        canonical_layer("Dense", units=10, activation="softmax"),
    ], name="dense_baseline")


def image_folder_cnn() -> ModelSpec:
    """A small CNN for a folder of colour photos, shaped for the bundled example folder (cat,
    frog, ship) as the Train view loads it: 64×64 colour images (the folder loader's default
    size), three conv + pooling blocks and one softmax score per class (3)."""
    layers: list[LayerSpec] = []
    for filters in (16, 32, 64):
        layers.append(canonical_layer("Conv2D", filters=filters, kernel_size=[3, 3], activation="relu"))
        layers.append(canonical_layer("MaxPooling2D", pool_size=[2, 2]))
    layers += [
        canonical_layer("Flatten"),
        canonical_layer("Dense", units=64, activation="relu"),
        canonical_layer("Dense", units=IMAGE_FOLDER_CLASSES, activation="softmax"),
    ]
    return ModelSpec((IMAGE_FOLDER_SIDE, IMAGE_FOLDER_SIDE, 3), layers, name="image_folder_cnn")


def lenet5() -> ModelSpec:
    """LeNet-5 (LeCun et al., 1998) adapted to 28×28 digits: 'same' padding on the first conv
    stands in for the original's 32×32 input."""
    return ModelSpec((28, 28, 1), [
        canonical_layer("Conv2D", filters=6, kernel_size=[5, 5], padding="same", activation="tanh"),
        canonical_layer("AveragePooling2D", pool_size=[2, 2]),
        canonical_layer("Conv2D", filters=16, kernel_size=[5, 5], activation="tanh"),
        canonical_layer("AveragePooling2D", pool_size=[2, 2]),
        canonical_layer("Flatten"),
        canonical_layer("Dense", units=120, activation="tanh"),
        canonical_layer("Dense", units=84, activation="tanh"),
        canonical_layer("Dense", units=10, activation="softmax"),
    ], name="lenet5")


def small_vgg_cifar10() -> ModelSpec:
    """Three VGG blocks (two 3×3 convs, batch norm, pooling, dropout) for CIFAR-10."""
    layers: list[LayerSpec] = []
    for filters, rate in ((32, 0.2), (64, 0.3), (128, 0.4)):
        for _ in range(2):
            layers.append(canonical_layer("Conv2D", filters=filters, kernel_size=[3, 3],
                                 padding="same", activation="relu"))
            layers.append(canonical_layer("BatchNormalization"))
        layers.append(canonical_layer("MaxPooling2D", pool_size=[2, 2]))
        layers.append(canonical_layer("Dropout", rate=rate))
    layers += [
        canonical_layer("Flatten"),
        canonical_layer("Dense", units=128, activation="relu"),
        canonical_layer("Dropout", rate=0.5),
        canonical_layer("Dense", units=10, activation="softmax"),
    ]
    return ModelSpec((32, 32, 3), layers, name="small_vgg_cifar10")


def keras_sequence_1d() -> ModelSpec:
    """The 1-D example of the Keras guide to the Sequential model ("sequence classification
    with 1D convolutions"): 64 steps of 100 channels, two blocks of Conv1D, global average
    pooling and one sigmoid unit; 105,729 parameters. The guide compiles it with rmsprop and
    binary cross-entropy; cnnviz's trainer picks binary cross-entropy for one sigmoid unit."""
    return ModelSpec((64, 100), [
        canonical_layer("Conv1D", filters=64, kernel_size=3, activation="relu"),
        canonical_layer("Conv1D", filters=64, kernel_size=3, activation="relu"),
        canonical_layer("MaxPooling1D", pool_size=3),
        canonical_layer("Conv1D", filters=128, kernel_size=3, activation="relu"),
        canonical_layer("Conv1D", filters=128, kernel_size=3, activation="relu"),
        canonical_layer("GlobalAveragePooling1D"),
        canonical_layer("Dropout", rate=0.5),
        canonical_layer("Dense", units=1, activation="sigmoid"),
    ], name="keras_sequence_1d")


def signal_fcn() -> ModelSpec:
    """The fully convolutional network of Wang, Yan and Oates (2017), "Time series
    classification from scratch with deep neural networks: a strong baseline", with a quarter
    of its filters (32, 64, 32 instead of 128, 256, 128), shaped for the bundled GunPoint
    sample: 150 steps of one channel, 2 classes. Three blocks of Conv1D ('same' padding,
    kernels 8, 5, 3), batch normalisation (momentum 0.9) and ReLU, then global average
    pooling and softmax; 17,346 parameters."""
    layers: list[LayerSpec] = []
    for filters, kernel in ((32, 8), (64, 5), (32, 3)):
        layers.append(canonical_layer("Conv1D", filters=filters, kernel_size=kernel,
                                      padding="same"))
        # Momentum 0.9 (Keras's default is 0.99): GunPoint gives 5 batches an epoch, and the
        # running statistics must follow weights that still move, or the trained model
        # scores far below its training accuracy in inference mode (65-99 % on the test
        # series over five seeds with 0.99; 93-100 % with 0.9, README).
        layers.append(canonical_layer("BatchNormalization", momentum=0.9))
        layers.append(canonical_layer("Activation", activation="relu"))
    layers += [
        canonical_layer("GlobalAveragePooling1D"),
        canonical_layer("Dense", units=GUNPOINT_CLASSES, activation="softmax"),
    ]
    return ModelSpec((GUNPOINT_STEPS, 1), layers, name="signal_fcn")


@dataclass(frozen=True)
class Preset:
    """A named architecture for menus: its key, title, one-line description and factory."""

    key: str
    title: str
    description: str
    factory: Callable[[], ModelSpec]


PRESETS: dict[str, Preset] = {
    preset.key: preset for preset in (
        Preset("mnist_cnn", "MNIST CNN (Keras tutorial)",
               "Two convolutions and a pooling layer for 28×28 digits; 515,146 parameters.",
               mnist_cnn),
        Preset("dense_baseline", "Dense baseline (no convolutions)",
               "Flatten and two Dense layers for 28×28 digits; 101,770 parameters.",
               dense_baseline),
        Preset("image_folder_cnn", "Image-folder CNN (example folder: cat, frog, ship)",
               "Three conv + pooling blocks for 64×64 colour photos of 3 classes, shaped for "
               "the bundled example image folder; 171,299 parameters. For your own folder, "
               "set the last Dense layer's units to its number of classes.",
               image_folder_cnn),
        Preset("lenet5", "LeNet-5",
               "LeCun's 1998 digit recogniser: tanh convolutions with average pooling.",
               lenet5),
        Preset("small_vgg_cifar10", "Small VGG for CIFAR-10",
               "Three VGG blocks with batch norm and dropout for 32×32 colour images.",
               small_vgg_cifar10),
        Preset("keras_sequence_1d", "1-D sequence classifier (Keras guide)",
               "The Keras guide's Conv1D example for sequences of 64 steps × 100 channels, "
               "ending in one sigmoid unit for two classes; 105,729 parameters. The guide "
               "trains it with RMSprop: pick RMSprop in the Train view to match.",
               keras_sequence_1d),
        Preset("signal_fcn", "Signal FCN (GunPoint: 150 steps, 2 classes)",
               "A small fully convolutional network for time series (Wang et al., 2017, with "
               "a quarter of the filters): three Conv1D + batch norm + ReLU blocks and global "
               "average pooling, shaped for the bundled GunPoint sample; 17,346 parameters. "
               "For your own signals, set the input and the last Dense layer's units.",
               signal_fcn),
    )
}


def preset_spec(key: str) -> ModelSpec:
    """A fresh spec of the preset called `key`. Raises SpecError for an unknown key."""
    try:
        preset = PRESETS[key]
    except KeyError:
        raise SpecError(
            f"Unknown preset '{key}'. Available presets: {', '.join(PRESETS)}."
        ) from None
    return preset.factory()
