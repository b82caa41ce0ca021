"""Named architectures to start from: the classic tutorial CNNs, LeNet-5 and a small VGG.

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
