"""The front door, load_dataset: named sources, bundled samples, options, splits, tf.data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.data import bundled_samples
from cnnviz.core.data.datasets import SOURCE_NAMES, load_dataset
from cnnviz.core.data.data_splits import ArraySplit, FileSplit
from cnnviz.core.data.dataset_types import Dataset, LoadOptions
from cnnviz.core.errors import DatasetError
from tests.core.data.dataset_fixtures import save_image, write_idx_folder

CIFAR10_ORDER = ["airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck"]


def test_source_names_are_the_ones_the_cli_and_gui_offer():
    assert SOURCE_NAMES == ("mnist", "fashion_mnist", "cifar10",
                            "mnist-sample", "cifar10-sample", "folder-sample", "gunpoint-sample")


def test_importing_datasets_loads_neither_tensorflow_nor_qt():
    code = ("import sys, cnnviz.core.data.datasets; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ bad sources and options


def test_unknown_source_name_lists_the_valid_ones_and_guesses():
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnsit")
    message = str(caught.value)
    assert "Unknown data source 'mnsit'. Did you mean 'mnist'?" in message
    assert all(name in message for name in SOURCE_NAMES)


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "photos"
    with pytest.raises(DatasetError, match=r"No file or folder at '.*nowhere/photos' \(the folder "
                                           r".*nowhere does not exist either\)"):
        load_dataset(str(missing))


def test_missing_file_in_existing_folder(tmp_path):
    with pytest.raises(DatasetError, match=r"No file or folder at '.*mnist.npz'. Check the path."):
        load_dataset(str(tmp_path / "mnist.npz"))


def test_single_image_asks_for_a_class_folder(tmp_path):
    save_image(tmp_path / "cat.png")
    with pytest.raises(DatasetError, match="cat.png is a single image.*one subfolder per class"):
        load_dataset(str(tmp_path / "cat.png"))


def test_unknown_file_type(tmp_path):
    (tmp_path / "data.xlsx").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="cannot read data.xlsx as a dataset"):
        load_dataset(str(tmp_path / "data.xlsx"))


@pytest.mark.parametrize("options, message", [
    (LoadOptions(color_mode="sepia"), "Colour mode 'sepia' is not known"),
    (LoadOptions(target_size=(0, 10)), "Target size 0×10 is out of range"),
    (LoadOptions(target_size="big"), "should be two numbers"),
    (LoadOptions(validation_split=1.0), "Validation split 1 must be at least 0 and below 1"),
    (LoadOptions(validation_split=-0.1), "must be at least 0"),
    (LoadOptions(limit=0), "Limit 0 must be at least 1"),
])
def test_bad_options_are_explained(options, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("mnist-sample", options)


# ------------------------------------------------------------------ bundled samples


def test_mnist_sample_is_the_mnist_test_split_8000_train_2000_test():
    data = load_dataset("mnist-sample", LoadOptions(validation_split=0))
    assert (data.name, data.input_shape, data.num_classes) == ("MNIST sample", (28, 28, 1), 10)
    assert (data.train.count, data.validation, data.test.count) == (8_000, None, 2_000)
    assert data.description == ("MNIST sample: 8,000 train / 2,000 test digits, 28×28 grayscale, "
                                "10 classes (from the MNIST test split)")
    # Known facts of MNIST's t10k file: its first label is a 7, then 2, 1, 0, 4; the last is a 6.
    assert data.train.labels()[:5].tolist() == [7, 2, 1, 0, 4]
    assert data.test.labels()[-1] == 6
    assert sum(data.class_counts("test").values()) == 2_000
    assert min(data.class_counts("train").values()) > 600  # every digit well represented
    digit = data.train.images([0])[0]
    assert digit.dtype == np.uint8 and digit.max() == 255 and digit[0, 0, 0] == 0


def test_mnist_sample_with_default_options_carves_validation():
    data = load_dataset("mnist-sample")
    assert (data.train.count, data.validation.count, data.test.count) == (7_200, 800, 2_000)
    assert "7,200 train / 800 validation / 2,000 test digits" in data.description


def test_cifar10_sample_has_official_class_order_and_counts():
    data = load_dataset("cifar10-sample", LoadOptions(validation_split=0))
    assert data.class_names == CIFAR10_ORDER
    assert (data.train.count, data.test.count, data.input_shape) == (3_000, 1_000, (32, 32, 3))
    assert isinstance(data.train, ArraySplit)
    assert set(data.class_counts("train").values()) == {300}
    assert set(data.class_counts("test").values()) == {100}
    assert len(set(data.train.labels()[:20].tolist())) > 3  # classes are mixed, not in runs
    pixels = data.train.images(range(50))
    assert pixels.shape == (50, 32, 32, 3) and 60 < pixels.mean() < 200 and pixels.std() > 30


def test_folder_sample_goes_through_the_folder_loader():
    data = load_dataset("folder-sample", LoadOptions(validation_split=0))
    assert isinstance(data.train, FileSplit)
    assert data.class_names == ["cat", "frog", "ship"]
    assert data.class_counts() == {"cat": 40, "frog": 40, "ship": 40}
    suffixes = {Path(p).suffix for p in data.train.paths}
    assert suffixes == {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
    assert data.report.skipped == 0 and 0 < data.report.resized < 120


def test_bundled_samples_fit_the_10_mb_budget_and_carry_credits():
    root = bundled_samples.samples_dir()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total <= 10 * 1024 * 1024
    credits = (root / "CREDITS.md").read_text()
    for credit in ("Yann LeCun", "Corinna Cortes", "CC BY-SA 3.0", "Alex Krizhevsky", "Vinod Nair",
                   "Geoffrey Hinton", "Learning Multiple Layers of Features from Tiny Images"):
        assert credit in credits


def test_a_missing_sample_says_to_reinstall(monkeypatch, tmp_path):
    monkeypatch.setattr(bundled_samples, "samples_dir", lambda: tmp_path)
    with pytest.raises(DatasetError, match="missing from this installation.*Reinstall"):
        load_dataset("cifar10-sample")


# ------------------------------------------------------------------ shared options


def test_validation_is_carved_from_train_seeded_and_disjoint(tmp_path):
    write_idx_folder(tmp_path / "m", train=100, test=10)
    one = load_dataset(str(tmp_path / "m"), LoadOptions(validation_split=0.2, seed=5))
    same = load_dataset(str(tmp_path / "m"), LoadOptions(validation_split=0.2, seed=5))
    other = load_dataset(str(tmp_path / "m"), LoadOptions(validation_split=0.2, seed=6))
    assert (one.train.count, one.validation.count, one.test.count) == (80, 20, 10)
    np.testing.assert_array_equal(one.validation.images(range(20)),
                                  same.validation.images(range(20)))
    assert not np.array_equal(one.validation.images(range(20)), other.validation.images(range(20)))
    # Train and validation together are exactly the original 100 training examples.
    pool = load_dataset(str(tmp_path / "m"), LoadOptions(validation_split=0)).train
    together = np.concatenate([one.train.images(range(80)), one.validation.images(range(20))])
    assert sorted(img.tobytes() for img in together) == sorted(
        img.tobytes() for img in pool.images(range(100)))


def test_limit_caps_training_examples_before_validation(tmp_path):
    write_idx_folder(tmp_path / "m", train=100, test=10)
    data = load_dataset(str(tmp_path / "m"), LoadOptions(limit=30, validation_split=0.1))
    assert (data.train.count, data.validation.count, data.test.count) == (27, 3, 10)
    assert any("Using 30 of the 100 training examples" in n for n in data.report.notes)


def test_target_size_for_a_fixed_size_source_is_explained_not_applied():
    data = load_dataset("mnist-sample", LoadOptions(target_size=(64, 64)))
    assert data.input_shape == (28, 28, 1)
    assert data.report.notes == ["The target size applies to image folders only; MNIST sample "
                                 "keeps its own 28×28 images."]
    assert load_dataset("mnist-sample", LoadOptions(target_size=(28, 28))).report.notes == []


def test_class_counts_cover_every_class_and_absent_splits_are_empty():
    data = load_dataset("mnist-sample", LoadOptions(validation_split=0))
    assert list(data.class_counts("train")) == data.class_names
    assert data.class_counts("validation") == {}
    with pytest.raises(ValueError):
        data.class_counts("holdout")


def test_dataset_is_plain_data():
    data = load_dataset("mnist-sample")
    assert isinstance(data, Dataset) and data.num_classes == len(data.class_names) == 10
    assert data.report.lines() == []


# ------------------------------------------------------------------ tf.data for Keras


def test_array_tf_dataset_batches_scaled_floats_and_int32_labels():
    data = load_dataset("mnist-sample", LoadOptions(limit=100, validation_split=0))
    batches = list(data.train.tf_dataset(batch_size=32))
    assert [tuple(x.shape) for x, _ in batches] == [(32, 28, 28, 1)] * 3 + [(4, 28, 28, 1)]
    x, y = batches[0]
    assert (x.dtype.name, y.dtype.name, tuple(y.shape)) == ("float32", "int32", (32,))
    np.testing.assert_allclose(x.numpy(), data.train.images(range(32)) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), data.train.labels()[:32])
    assert float(x.numpy().min()) == 0.0 and float(x.numpy().max()) == 1.0


def test_array_tf_dataset_shuffles_by_seed_and_repeats():
    split = load_dataset("cifar10-sample", LoadOptions(limit=64, validation_split=0)).train

    def labels(dataset):
        return np.concatenate([y.numpy() for _, y in dataset]).tolist()

    plain = labels(split.tf_dataset(batch_size=16))
    shuffled = labels(split.tf_dataset(batch_size=16, shuffle=True, seed=7))
    assert shuffled != plain and sorted(shuffled) == sorted(plain)
    assert labels(split.tf_dataset(batch_size=16, shuffle=True, seed=7)) == shuffled
    assert len(list(split.tf_dataset(batch_size=16, repeat=True).take(10))) == 10


def test_keras_trains_on_it_for_a_few_steps():
    import keras

    data = load_dataset("mnist-sample", LoadOptions(limit=256))
    model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(data.num_classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(data.train.tf_dataset(64, shuffle=True, seed=1), epochs=2, verbose=0,
                        shuffle=False, validation_data=data.validation.tf_dataset(64))
    assert history.history["loss"][1] < history.history["loss"][0]
