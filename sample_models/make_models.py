"""Train the small sample models with cnnviz's own core and save them beside this script.

    python sample_models/make_models.py                      # all three: ~4 minutes, 2 CPU cores
    python sample_models/make_models.py lenet5 --out /tmp/m  # one of them, somewhere else

For each model this writes `<key>.keras` (the architecture and the trained weights) and
`<key>.json` (its spec, as the builder opens it), then prints its test accuracy measured on
the saved file. The steps are the ones the app takes: load a bundled sample, build the spec,
`train` with a fixed seed, save. Seeds are fixed (weights, shuffling, dropout, augmentation)
and TensorFlow's op determinism is switched on, so a rerun on the same machine and versions
gives the same weights; other CPUs or TensorFlow versions may differ slightly.

Why these models: the presets `mnist_cnn` (515,146 parameters) and `small_vgg_cifar10`
(552,362) would make files of 2 MB and more, so two samples are the same ideas made small
enough for a download and for the explainer's eye (16 to 64 filters per layer); LeNet-5
(61,706) is small already and is trained as its preset stands.
The files leave out the optimizer's state (it would triple their size and the inspector
and explainer never read it); training one further in the app starts a fresh optimizer.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cnnviz.core.training.augmentation import AugmentConfig
from cnnviz.core.model.presets import canonical_layer as _layer, lenet5
from cnnviz.core.model.spec import LayerSpec, ModelSpec, save_spec
from cnnviz.core.training.engine import TrainConfig

SEED = 2024
DATA_SEED = 1337          # which training images are held out for validation
VALIDATION_SPLIT = 0.1
MAX_FILE_BYTES = 2_000_000
FOLDER = Path(__file__).resolve().parent


def mnist_cnn_small() -> ModelSpec:
    """Two 3×3 convolutions with max pooling, dropout, one softmax layer: 12,810 parameters.

    The Keras "simple MNIST convnet" with half its filters: small enough that every one of
    the 16 + 32 feature maps fits on screen in the explainer.
    """
    return ModelSpec((28, 28, 1), [
        _layer("Conv2D", filters=16, kernel_size=[3, 3], activation="relu"),
        _layer("MaxPooling2D", pool_size=[2, 2]),
        _layer("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
        _layer("MaxPooling2D", pool_size=[2, 2]),
        _layer("Flatten"),
        _layer("Dropout", rate=0.3),
        _layer("Dense", units=10, activation="softmax"),
    ], name="mnist_cnn_small")


def cifar10_vgg_small() -> ModelSpec:
    """Three VGG blocks of 16, 32 and 64 filters and global average pooling: 73,626 parameters.

    The preset `small_vgg_cifar10` at half width, with global average pooling instead of
    Flatten + Dense(128) (which alone holds 262,272 of that preset's parameters). Batch
    normalisation follows each convolution; its momentum is 0.9 rather than Keras's 0.99
    because 85 batches per epoch are too few for the slower running averages to settle.
    """
    layers: list[LayerSpec] = []
    for filters, rate in ((16, 0.1), (32, 0.2), (64, 0.3)):
        for _ in range(2):
            layers.append(_layer("Conv2D", filters=filters, kernel_size=[3, 3],
                                 padding="same", activation="relu"))
            layers.append(_layer("BatchNormalization", momentum=0.9))
        layers.append(_layer("MaxPooling2D", pool_size=[2, 2]))
        layers.append(_layer("Dropout", rate=rate))
    layers += [
        _layer("GlobalAveragePooling2D"),
        _layer("Dense", units=10, activation="softmax"),
    ]
    return ModelSpec((32, 32, 3), layers, name="cifar10_vgg_small")


@dataclass(frozen=True)
class Phase:
    """Epochs trained at one learning rate (a later phase continues the same optimizer)."""

    epochs: int
    learning_rate: float


@dataclass(frozen=True)
class SampleModel:
    """One sample model: file stem, spec, bundled data and how it is trained."""

    key: str
    spec: Callable[[], ModelSpec]
    data: str
    phases: tuple[Phase, ...]
    batch_size: int = 64
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @property
    def epochs(self) -> int:
        return sum(phase.epochs for phase in self.phases)


SAMPLE_MODELS: dict[str, SampleModel] = {model.key: model for model in (
    SampleModel("mnist_cnn_small", mnist_cnn_small, "mnist-sample",
                (Phase(8, 1e-3), Phase(4, 2e-4))),
    SampleModel("lenet5", lenet5, "mnist-sample", (Phase(8, 1e-3), Phase(4, 2e-4))),
    SampleModel("cifar10_vgg_small", cifar10_vgg_small, "cifar10-sample",
                (Phase(20, 1e-3), Phase(8, 2e-4)), batch_size=32,
                augment=AugmentConfig(flip=True, translation=0.1)),
)}


def accuracy_of(model: Any, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> float:
    """The share of uint8 `images` whose highest output is the label, by plain `model(x)`
    calls on images scaled to [0, 1] as training saw them."""
    import keras

    right = 0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].astype(np.float32) / 255.0
        scores = keras.ops.convert_to_numpy(model(x, training=False))
        right += int(np.sum(scores.argmax(axis=1) == labels[start:start + batch_size]))
    return right / len(images)


def _report_epoch(epoch: int, total: int, logs: dict[str, float], started: float) -> None:
    shown = " · ".join(f"{key} {value:.4f}" for key, value in logs.items()
                       if key in ("loss", "accuracy", "val_loss", "val_accuracy"))
    print(f"  epoch {epoch + 1}/{total} · {shown} · {time.monotonic() - started:.0f} s",
          flush=True)


def make(sample: SampleModel, folder: Path) -> dict[str, Any]:
    """Train one sample model and write <key>.keras and <key>.json into `folder`.

    Returns what the README lists: parameters, file size, epochs, test accuracy of the
    saved file. Raises RuntimeError if the file is too large or does not round-trip.
    """
    import keras
    import tensorflow as tf

    from cnnviz.core.model.builder import build_model, load_model_file, save_model_file
    from cnnviz.core.model.spec_from_keras import model_to_spec
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.training.engine import train

    tf.config.experimental.enable_op_determinism()
    data = load_dataset(sample.data, LoadOptions(validation_split=VALIDATION_SPLIT,
                                                 seed=DATA_SEED))
    print(f"{sample.key}: {data.description}", flush=True)
    spec = sample.spec()
    keras.utils.set_random_seed(SEED)  # the initial weights and the dropout masks
    model = build_model(spec)
    config = TrainConfig(batch_size=sample.batch_size, augment=sample.augment, seed=SEED)
    started, done = time.monotonic(), 0
    for number, phase in enumerate(sample.phases, start=1):
        last = number == len(sample.phases)
        # The last phase keeps the weights of its epoch with the lowest validation loss.
        phase_config = replace(config, epochs=phase.epochs, learning_rate=phase.learning_rate,
                               early_stopping=last, monitor="val_loss",
                               patience=phase.epochs, restore_best=True)
        result = train(model, data, phase_config, initial_epoch=done,
                       on_epoch=lambda e, logs: _report_epoch(e, sample.epochs, logs, started))
        if result.stopped and result.stop_reason and "early stopping" not in result.stop_reason:
            raise RuntimeError(f"{sample.key}: training stopped: {result.stop_reason}")
        for note in result.notes:
            print(f"  {note}", flush=True)
        done = result.epochs_done
    seconds = time.monotonic() - started

    # A fresh, uncompiled copy: the file then holds the weights without the optimizer state.
    plain = build_model(spec)
    plain.set_weights(model.get_weights())
    path = save_model_file(plain, folder / f"{sample.key}.keras")
    save_spec(spec, folder / f"{sample.key}.json")
    size = path.stat().st_size
    if size >= MAX_FILE_BYTES:
        raise RuntimeError(f"{path.name} is {size:,} bytes; sample models must stay under 2 MB.")
    saved = load_model_file(path)
    if model_to_spec(saved) != spec:
        raise RuntimeError(f"{path.name} does not turn back into its spec {sample.key}.json.")
    accuracy = accuracy_of(saved, data.test.images(range(data.test.count)), data.test.labels())
    row = {"key": sample.key, "params": int(saved.count_params()), "bytes": size,
           "data": data.name, "epochs": done, "seconds": seconds, "test_accuracy": accuracy}
    print(f"  wrote {path} ({size:,} bytes) and {sample.key}.json; trained {done} epochs in "
          f"{seconds:.0f} s; test accuracy of the saved file: {accuracy:.4f}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", metavar="KEY",
                        help=f"models to make (default: all): {', '.join(SAMPLE_MODELS)}")
    parser.add_argument("--out", type=Path, default=FOLDER,
                        help="folder for the .keras and .json files (default: beside this script)")
    args = parser.parse_args(argv)
    unknown = [key for key in args.keys if key not in SAMPLE_MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose from {', '.join(SAMPLE_MODELS)}")
    if not args.out.is_dir():
        parser.error(f"the folder {args.out} does not exist")
    rows = [make(SAMPLE_MODELS[key], args.out) for key in (args.keys or SAMPLE_MODELS)]
    print("\n| model | parameters | file size | data | epochs | test accuracy |")
    print("|---|---:|---:|---|---:|---:|")
    for row in rows:
        print(f"| `{row['key']}` | {row['params']:,} | {math.ceil(row['bytes'] / 1024):,} KB | "
              f"{row['data']} | {row['epochs']} | {row['test_accuracy']:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
