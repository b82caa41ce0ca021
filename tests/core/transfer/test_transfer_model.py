"""Cutting, freezing, heads and fine-tuning: counts equal Keras's summary, the frozen base
does not move, fine-tuning moves only the top layers and keeps BatchNormalization's
statistics, the saved model reopens and predicts the same, and bad input reads well."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.training.engine import TrainConfig
from cnnviz.core.transfer.bases import open_base
from cnnviz.core.transfer.transfer_model import (
    TransferError, base_layer_count, build_transfer_model, parameter_counts, train_transfer,
    unfreeze_top_layers,
)

SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


def stripes(count: int, size: int, channels: int, seed: int = 0) -> ArraySplit:
    """Two classes a network tells apart easily: bright rows on top or at the bottom."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    x = rng.integers(0, 60, (count, size, size, channels), dtype=np.uint8)
    for i, label in enumerate(labels):
        x[i, : size // 2] if label == 0 else x[i, size // 2:]
        (x[i, : size // 2] if label == 0 else x[i, size // 2:])[...] = 230
    return ArraySplit(x, labels)


def tiny_dataset(size: int, channels: int, count: int = 48) -> Dataset:
    train, test = stripes(count, size, channels), stripes(count // 2, size, channels, seed=1)
    return Dataset("stripes", "stripes", ["top", "bottom"], (size, size, channels), train,
                   None, test)


def summary_counts(model) -> tuple[int, int]:
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)

    def number(label: str) -> int:
        return int(re.search(label + r" params: ([\d,]+)", text).group(1).replace(",", ""))

    return number("Trainable"), number("Non-trainable")


def test_sample_model_cut_at_flatten_with_counts_equal_to_keras_summary():
    base = open_base(SAMPLE_MODEL)
    transfer = build_transfer_model(base, (28, 28, 1), 3, head_units=16, dropout=0.3)
    assert transfer.cut_layer == "flatten"  # the last pooling/Flatten layer, not the old top
    counts = parameter_counts(transfer.model)
    assert counts == summary_counts(transfer.model)
    convs = 3 * 3 * 1 * 16 + 16 + 3 * 3 * 16 * 32 + 32
    assert counts == (800 * 16 + 16 + 16 * 3 + 3, convs)
    unfreeze_top_layers(transfer, 3)  # max_pooling2d_1, flatten and conv2d_1
    assert parameter_counts(transfer.model) == summary_counts(transfer.model)
    assert parameter_counts(transfer.model)[1] == 3 * 3 * 1 * 16 + 16


def test_application_gets_pooling_and_fine_tuning_counts_equal_keras_summary():
    base = open_base("mobilenet_v2", weights="random", input_shape=(32, 32))
    transfer = build_transfer_model(base, (32, 32, 3), 4, head_units=0)
    names = [layer.name for layer in transfer.model.layers]
    assert names[-3:] == ["head_pool", "head_dropout", "head_classes"]
    assert "scale_to_minus1_1" in names  # MobileNetV2's own preprocessing, as a layer
    assert parameter_counts(transfer.model) == summary_counts(transfer.model)
    assert parameter_counts(transfer.model)[0] == 1280 * 4 + 4
    unfreeze_top_layers(transfer, 10)
    trainable, frozen = parameter_counts(transfer.model)
    assert (trainable, frozen) == summary_counts(transfer.model)
    assert trainable > 1280 * 4 + 4 and frozen > 0


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet50"])
def test_in_model_preprocessing_equals_the_bases_preprocess(name):
    import keras

    base = open_base(name, weights="random", input_shape=(32, 32))
    transfer = build_transfer_model(base, (24, 24, 1), 2, resize=True)
    last = "scale_to_minus1_1" if name == "mobilenet_v2" else "rgb_to_bgr_minus_mean"
    front = keras.Model(transfer.model.inputs, transfer.model.get_layer(last).output)
    pixels = np.random.default_rng(3).integers(0, 256, (3, 24, 24, 1)).astype(np.float32)
    np.testing.assert_allclose(front.predict(pixels / 255.0, verbose=0),
                               base.preprocess(pixels), atol=1e-3)


def test_bad_cuts_sizes_and_fine_tuning_are_refused_readably():
    base = open_base(SAMPLE_MODEL)
    with pytest.raises(TransferError, match="no layer called 'conv9'"):
        build_transfer_model(base, (28, 28, 1), 3, cut="conv9")
    with pytest.raises(TransferError, match="output layer"):
        build_transfer_model(base, (28, 28, 1), 3, cut="dense")
    with pytest.raises(TransferError, match="takes 28×28 images; these are 32×32.*offered"):
        build_transfer_model(base, (32, 32, 3), 3)
    transfer = build_transfer_model(base, (28, 28, 1), 3, cut="max_pooling2d")
    assert base_layer_count(transfer) == 2
    with pytest.raises(TransferError, match="has 2 layers; it cannot fine-tune 5"):
        unfreeze_top_layers(transfer, 5)


def test_frozen_base_stays_put_and_fine_tuning_moves_only_the_top_layers(tmp_path):
    import keras

    from cnnviz.core.inspect.model_files import open_model

    keras.utils.set_random_seed(7)
    base = open_base("mobilenet_v2", weights="random", input_shape=(32, 32))
    data = tiny_dataset(32, 1)
    transfer = build_transfer_model(base, (32, 32, 1), 2, head_units=8)
    part = transfer.base_part
    before = [w.numpy().copy() for w in part.weights]
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=0.01, seed=1)
    frozen_only = train_transfer(transfer, data, config)
    assert frozen_only.fine_tuned is None
    for old, new in zip(before, part.weights):
        np.testing.assert_array_equal(old, new.numpy())

    top = [layer for layer in part.layers if not isinstance(layer, keras.layers.InputLayer)][-3:]
    assert [type(layer).__name__ for layer in top] == ["Conv2D", "BatchNormalization", "ReLU"]
    result = train_transfer(transfer, data, config, fine_tune_layers=3, fine_tune_epochs=1)
    assert result.fine_tuned is not None and result.fine_tuned.first_epoch == 1
    assert result.fine_tune_learning_rate == pytest.approx(0.001)
    moved = {w.path: not np.array_equal(old, w.numpy()) for old, w in zip(before, part.weights)}
    # Only the top conv learns; BatchNormalization stays in inference mode (its statistics
    # and scale never change) and nothing below the top 3 layers moves.
    assert [path for path, changed in moved.items() if changed] == [top[0].kernel.path]

    path = tmp_path / "transfer.keras"
    transfer.model.save(path)
    reopened = open_model(path).model  # safe mode: only plain Keras layers inside
    x = data.test.tf_dataset(24).take(1).get_single_element()[0]
    np.testing.assert_allclose(reopened.predict(x, verbose=0),
                               transfer.model.predict(x, verbose=0), atol=1e-5)
