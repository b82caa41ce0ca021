"""Feature extraction against Keras itself, on the bundled trained MNIST model and sample."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.errors import DatasetError
from cnnviz.core.transfer.features import (
    FeatureCache, FeatureError, FeatureExtractionStopped, extract_features, load_features_npz,
    model_file_identity, sample_indices, save_coordinates_csv, save_features_npz,
)
from tests.core.transfer.conftest import MODEL_FILE

LIMIT = 200


def keras_output(model, layer: str, images: np.ndarray) -> np.ndarray:
    import keras

    cut = keras.Model(model.inputs, model.get_layer(layer).output)
    return np.asarray(cut.predict(images.astype(np.float32) / 255.0, verbose=0))


def test_features_equal_keras_flattened_and_averaged(model, digits):
    pooled, conv = extract_features(model, ["max_pooling2d_1", "conv2d"], digits, "test",
                                    limit=LIMIT, batch_size=64)
    test = digits.split("test")
    assert pooled.indices.tolist() == sample_indices(test.count, LIMIT).tolist()
    assert np.array_equal(pooled.labels, test.labels()[pooled.indices])
    images = test.images(pooled.indices)

    expected = keras_output(model, "max_pooling2d_1", images)
    assert pooled.reduction == "flattened" and pooled.layer_shape == (5, 5, 32)
    np.testing.assert_allclose(pooled.values, expected.reshape(LIMIT, -1), rtol=1e-5, atol=1e-5)

    # 26×26×16 is more than MAX_FLATTENED numbers: one average per channel.
    expected = keras_output(model, "conv2d", images).mean(axis=(1, 2))
    assert conv.reduction == "global average" and conv.values.shape == (LIMIT, 16)
    np.testing.assert_allclose(conv.values, expected, rtol=1e-5, atol=1e-5)
    assert "averaged over its positions" in conv.reduction_text()
    assert conv.class_names == digits.class_names


def test_preprocess_gets_0_to_255_and_resizing_makes_data_fit(model):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 14, 14, 1), dtype=np.uint8)
    small = Dataset(name="small digits", description="", class_names=["a", "b"],
                    input_shape=(14, 14, 1), train=ArraySplit(x, rng.integers(0, 2, 40)),
                    validation=None, test=None)
    with pytest.raises(FeatureError, match="takes inputs of 28×28×1.*14×14×1"):
        extract_features(model, "flatten", small, "train")
    seen: list[float] = []

    def resize(images):
        seen.append(float(tf.reduce_max(images)))
        return tf.image.resize(images, (28, 28)) / 255.0

    features = extract_features(model, "flatten", small, "train", preprocess=resize)[0]
    expected = keras_output(model, "flatten", np.asarray(tf.image.resize(x, (28, 28))))
    np.testing.assert_allclose(features.values, expected.reshape(40, -1), rtol=1e-4, atol=1e-4)
    assert seen and seen[0] > 1.5  # pixel values, not 0..1


def test_missing_layer_and_split_are_explained(model, digits):
    with pytest.raises(FeatureError, match="no layer called 'conv2d_7'.*Did you mean conv2d"):
        extract_features(model, "conv2d_7", digits, "test", limit=10)
    with pytest.raises(DatasetError, match="no all split|measured by its parts"):
        extract_features(model, "dense", digits, "all", limit=10)


def test_progress_and_stop(model, digits):
    reports: list[tuple[int, int]] = []
    extract_features(model, "dense", digits, "validation", limit=150, batch_size=64,
                     on_progress=lambda done, total: reports.append((done, total)))
    assert reports == [(64, 150), (128, 150), (150, 150)]
    asked = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(FeatureExtractionStopped, match="after 128 of 150"):
        extract_features(model, "dense", digits, "validation", limit=150, batch_size=64,
                         should_stop=stop_after_two)


def test_cache_is_used_and_a_damaged_file_is_recomputed(model, digits, tmp_path):
    cache = FeatureCache(model_file_identity(MODEL_FILE), "mnist-sample", folder=tmp_path)
    first = extract_features(model, "dense", digits, "test", limit=LIMIT, cache=cache)[0]
    files = list(tmp_path.glob("features-*.npz"))
    assert not first.from_cache and len(files) == 1
    again = extract_features(model, "dense", digits, "test", limit=LIMIT, cache=cache)[0]
    assert again.from_cache and np.array_equal(again.values, first.values)

    files[0].write_bytes(files[0].read_bytes()[:300])  # a save cut short
    redone = extract_features(model, "dense", digits, "test", limit=LIMIT, cache=cache)[0]
    assert not redone.from_cache
    np.testing.assert_allclose(redone.values, first.values, rtol=1e-6)

    # Another file's features put in its place: the key inside does not match.
    other = extract_features(model, "flatten", digits, "test", limit=LIMIT, cache=cache)[0]
    flatten_file = next(p for p in tmp_path.glob("features-*.npz") if p != files[0])
    flatten_file.replace(files[0])
    assert not extract_features(model, "dense", digits, "test", limit=LIMIT,
                                cache=cache)[0].from_cache
    assert other.values.shape == (LIMIT, 800)

    # Another split, limit, or another model file is another key.
    assert not extract_features(model, "dense", digits, "validation", limit=LIMIT,
                                cache=cache)[0].from_cache
    assert not extract_features(model, "dense", digits, "test", limit=LIMIT + 1,
                                cache=cache)[0].from_cache
    retrained = FeatureCache("model file sha256:0000", "mnist-sample", folder=tmp_path)
    assert not extract_features(model, "dense", digits, "test", limit=LIMIT,
                                cache=retrained)[0].from_cache


def test_changed_data_under_the_same_name_is_not_taken_from_the_cache(model, tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 30)

    def dataset(x: np.ndarray) -> Dataset:
        return Dataset(name="mine", description="", class_names=[str(i) for i in range(10)],
                       input_shape=(28, 28, 1), train=ArraySplit(x, labels), validation=None,
                       test=None)

    x = rng.integers(0, 256, size=(30, 28, 28, 1), dtype=np.uint8)
    cache = FeatureCache("model file sha256:1111", str(tmp_path / "mine.npz"), folder=tmp_path)
    before = extract_features(model, "dense", dataset(x), "train", cache=cache)[0]
    changed = x.copy()
    changed[0] = 255 - changed[0]
    after = extract_features(model, "dense", dataset(changed), "train", cache=cache)[0]
    assert not after.from_cache
    assert not np.allclose(after.values[0], before.values[0])


def test_sample_indices_are_repeatable_sorted_and_spread():
    chosen = sample_indices(1000, 100)
    assert np.array_equal(chosen, sample_indices(1000, 100))
    assert np.all(np.diff(chosen) > 0) and chosen.max() > 800
    assert sample_indices(50, 100).tolist() == list(range(50))


def test_npz_and_csv_exports(model, digits, tmp_path):
    features = extract_features(model, "dense", digits, "test", limit=25, base_name="digits")[0]
    save_features_npz(tmp_path / "f.npz", features)
    with np.load(tmp_path / "f.npz", allow_pickle=False) as stored:
        assert set(stored.files) >= {"features", "labels", "indices", "layer", "base"}
        assert str(stored["layer"]) == "dense" and str(stored["base"]) == "digits"
        assert np.array_equal(stored["features"], features.values)
    back = load_features_npz(tmp_path / "f.npz")
    assert np.array_equal(back.indices, features.indices)
    assert back.class_names == digits.class_names

    xy = np.arange(50, dtype=np.float32).reshape(25, 2)
    save_coordinates_csv(tmp_path / "xy.csv", features, xy)
    with open(tmp_path / "xy.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["index", "label", "x", "y"]
    assert [int(r[0]) for r in rows[1:]] == features.indices.tolist()
    assert [int(r[1]) for r in rows[1:]] == features.labels.tolist()
    assert float(rows[3][2]) == 4.0 and float(rows[3][3]) == 5.0
    with pytest.raises(FeatureError, match="25 images need 25 map positions"):
        save_coordinates_csv(tmp_path / "bad.csv", features, xy[:10])
    assert not (tmp_path / "bad.csv").exists()


def test_signals_through_a_1d_network_are_averaged_over_steps():
    import keras

    rng = np.random.default_rng(2)
    from cnnviz.core.data.series_split import SeriesSplit

    signals = rng.normal(size=(24, 150, 1)).astype(np.float32)
    labels = np.arange(24) % 2
    split = SeriesSplit(signals, labels)
    data = Dataset(name="signals", description="", class_names=["a", "b"],
                   input_shape=(150, 1), train=split, validation=None, test=None,
                   noun="series")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((150, 1)),
                              keras.layers.Conv1D(64, 5, activation="relu", name="conv"),
                              keras.layers.GlobalAveragePooling1D(name="pool"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    conv = extract_features(model, "conv", data, "train")[0]
    assert conv.layer_shape == (146, 64) and conv.reduction == "global average"
    expected = keras_output(model, "conv", signals * 255.0).mean(axis=1)  # helper divides by 255
    np.testing.assert_allclose(conv.values, expected, rtol=1e-5, atol=1e-5)


def test_a_cache_file_with_bad_numbers_or_another_preparation_is_not_used(model, digits,
                                                                           tmp_path):
    cache = FeatureCache("model file sha256:2222", "mnist-sample", folder=tmp_path)
    extract_features(model, "dense", digits, "test", limit=50, cache=cache)
    path = next(tmp_path.glob("features-*.npz"))
    with np.load(path) as stored:
        arrays = dict(stored)
    arrays["features"] = np.full_like(arrays["features"], np.nan)  # its key still matches
    np.savez(path, **arrays)
    again = extract_features(model, "dense", digits, "test", limit=50, cache=cache)[0]
    assert not again.from_cache and np.isfinite(again.values).all()
    assert extract_features(model, "dense", digits, "test", limit=50,
                            cache=cache)[0].from_cache
    resized = FeatureCache("model file sha256:2222", "mnist-sample", folder=tmp_path,
                           preparation="resized to 28×28")
    assert not extract_features(model, "dense", digits, "test", limit=50,
                                cache=resized)[0].from_cache


def test_a_held_extractor_keeps_its_cut_model_and_agrees(model, digits):
    from cnnviz.core.transfer.features import FeatureExtractor

    held = FeatureExtractor(model)
    first = held.extract(["flatten", "dense"], digits, "test", limit=40)
    cut = held.cut_model([model.get_layer("flatten"), model.get_layer("dense")],
                         ["flattened", "flattened"])
    second = held.extract(["flatten", "dense"], digits, "validation", limit=40)
    assert held.cut_model([model.get_layer("flatten"), model.get_layer("dense")],
                          ["flattened", "flattened"]) is cut
    fresh = extract_features(model, ["flatten", "dense"], digits, "validation", limit=40)
    for mine, theirs in zip(second, fresh):
        np.testing.assert_allclose(mine.values, theirs.values, rtol=1e-6)
    assert not np.allclose(first[1].values, second[1].values)
