"""Sources with no test part of their own are the evaluation set itself, all of it.

A folder of class folders, an .npz with only x/y, MNIST's t10k files alone and CIFAR-10's
test_batch alone: `Dataset.whole` holds every image in the source's own order (the folder
in the order Keras's `image_dataset_from_directory(shuffle=False)` lists it), evaluate and
explain measure it by default, and training still splits as it did.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.data.input_images import dataset_input, explain_split
from cnnviz.core.data.split_choice import available_splits, measured_split, split_phrase
from cnnviz.core.errors import DatasetError
from tests.core.data.dataset_fixtures import (
    cifar_batch_bytes,
    cifar_meta_bytes,
    digits,
    write_idx_folder,
    write_tar_gz,
)

SIZE = 12


def write_png_classes(root, counts: dict[str, int], seed: int = 0, nested: bool = False):
    """root/<class>/<name>.png with random pixels, in an order the file names do not sort in;
    with nested=True a class also has sub-folders "a", "a-b" and "a/x" (Keras sorts them as
    path strings: a, a-b, a/x)."""
    rng = np.random.default_rng(seed)
    for class_name, count in counts.items():
        for n in range(count):
            name = f"{(n * 7919) % 1000:04d}_{n}.png"
            folder = root / class_name
            if nested and n % 4:
                folder = folder / ("a", "a-b", "a/x")[n % 4 - 1]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(
                folder / name)
    return root


def keras_listing(folder):
    """(file paths, labels, pixels uint8) as Keras reads the folder, unshuffled."""
    import keras

    ds = keras.utils.image_dataset_from_directory(
        str(folder), labels="inferred", label_mode="int", shuffle=False,
        image_size=(SIZE, SIZE), batch_size=64, verbose=False)
    pixels = np.concatenate([x.numpy() for x, _ in ds]).round().astype(np.uint8)
    labels = np.concatenate([y.numpy() for _, y in ds])
    return list(ds.file_paths), labels, pixels


@pytest.mark.parametrize("nested", [False, True])
def test_folder_without_test_is_whole_in_keras_order(tmp_path, nested):
    root = write_png_classes(tmp_path / "photos", {"dogs": 9, "cats": 7, "birds": 5},
                             nested=nested)
    data = load_dataset(str(root), LoadOptions(target_size=(SIZE, SIZE)))
    paths, labels, pixels = keras_listing(root)
    assert data.whole is not None and data.whole.count == 21
    assert data.whole.paths == paths
    # The scanned headers come along, so the whole set decodes as fast as the training part.
    assert data.whole.files_for_tensorflow == 21
    np.testing.assert_array_equal(data.whole.labels(), labels)
    np.testing.assert_array_equal(data.whole.images(range(21)), pixels)
    # Training splits as before: a seeded validation carve of the same 21 images.
    assert data.train.count + data.validation.count == 21 and data.test is None
    assert sorted(data.train.paths + data.validation.paths) == sorted(paths)
    assert measured_split(data) == "all" == explain_split(data)
    assert split_phrase(data, "all") == "all 21 images of photos"
    image, label = dataset_input(data, "all", 7)
    np.testing.assert_array_equal((image * 255).round().astype(np.uint8), pixels[7])
    assert label == labels[7]


def test_folder_with_train_and_val_is_whole_train_then_val(tmp_path):
    write_png_classes(tmp_path / "set" / "train", {"a": 4, "b": 3}, seed=1)
    write_png_classes(tmp_path / "set" / "val", {"a": 2, "b": 2}, seed=2)
    data = load_dataset(str(tmp_path / "set"), LoadOptions(target_size=(SIZE, SIZE)))
    train_paths, _, _ = keras_listing(tmp_path / "set" / "train")
    val_paths, _, _ = keras_listing(tmp_path / "set" / "val")
    assert data.whole.paths == train_paths + val_paths
    assert (data.train.count, data.validation.count, data.test) == (7, 4, None)
    assert available_splits(data) == ["all", "validation", "train"]


def test_folder_with_test_has_no_whole_and_measures_test(tmp_path):
    write_png_classes(tmp_path / "set" / "train", {"a": 4, "b": 3}, seed=1)
    write_png_classes(tmp_path / "set" / "test", {"a": 2, "b": 2}, seed=2)
    data = load_dataset(str(tmp_path / "set"), LoadOptions(target_size=(SIZE, SIZE)))
    assert data.whole is None and data.split("all") is None
    assert measured_split(data) == "test"
    with pytest.raises(DatasetError, match=r"has a test part of its own.*Choose test \(4\), validation"):
        measured_split(data, "all")


def test_limit_and_validation_do_not_touch_whole(tmp_path):
    root = write_png_classes(tmp_path / "photos", {"x": 6, "y": 6})
    data = load_dataset(str(root), LoadOptions(target_size=(SIZE, SIZE), limit=5))
    assert data.train.count + data.validation.count == 5
    assert data.whole.count == 12


def test_npz_with_only_x_and_y_is_whole(tmp_path):
    x, y = digits(40, 3)
    np.savez(tmp_path / "mine.npz", x=x, y=y)
    data = load_dataset(str(tmp_path / "mine.npz"))
    np.testing.assert_array_equal(data.whole.images(range(40))[..., 0], x)
    np.testing.assert_array_equal(data.whole.labels(), y)
    assert data.train.count + data.validation.count == 40 and data.test is None
    assert data.class_names == [str(d) for d in range(10)]
    assert split_phrase(data, "all") == "all 40 images of mine.npz"


def test_npz_with_x_but_no_y_says_what_it_needs(tmp_path):
    x, _ = digits(4)
    np.savez(tmp_path / "half.npz", x=x)
    with pytest.raises(DatasetError, match=r"or just x and y"):
        load_dataset(str(tmp_path / "half.npz"))


def test_t10k_alone_is_whole_and_image_7_is_index_7(tmp_path):
    arrays = write_idx_folder(tmp_path / "t10k", train=None, test=300)
    images, labels = arrays["t10k"]
    data = load_dataset(str(tmp_path / "t10k"))
    assert data.whole.count == 300
    np.testing.assert_array_equal(data.whole.images([7])[0, ..., 0], images[7])
    np.testing.assert_array_equal(data.whole.labels(), labels)
    # training keeps its 80/20 carve with its note
    assert data.test.count == 60 and data.train.count + data.validation.count == 240
    assert any("evaluating measures all 300" in note for note in data.report.notes)
    assert split_phrase(data, "all") == "all 300 digits of t10k"
    assert split_phrase(data, "test") == "the 60 test digits of t10k (IDX)"


def test_mnist_sample_and_full_idx_folders_keep_their_test_part(tmp_path):
    write_idx_folder(tmp_path / "both", train=30, test=10)
    assert load_dataset(str(tmp_path / "both")).whole is None
    sample = load_dataset("mnist-sample")
    assert sample.whole is None and measured_split(sample) == "test"
    assert split_phrase(sample, "test") == "the 2,000 test digits of MNIST sample"


def cifar_expected(data: bytes, labels) -> tuple[np.ndarray, np.ndarray]:
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(labels)


@pytest.mark.parametrize("form", ["file", "folder", "archive"])
def test_cifar_test_batch_alone_is_whole(tmp_path, form):
    batch, pixels, labels = cifar_batch_bytes(50, seed=4)
    members = {"test_batch": batch, "batches.meta": cifar_meta_bytes()}
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, content in members.items():
        (folder / name).write_bytes(content)
    source = {"file": folder / "test_batch", "folder": folder,
              "archive": write_tar_gz(tmp_path / "cifar-10-python.tar.gz", members)}[form]
    data = load_dataset(str(source))
    x, y = cifar_expected(pixels, labels)
    assert data.whole.count == 50 and data.class_names[0] == "airplane"
    np.testing.assert_array_equal(data.whole.images(range(50)), x)
    np.testing.assert_array_equal(data.whole.labels(), y)
    assert data.test.count == 10 and data.train.count + data.validation.count == 40
    assert measured_split(data) == "all"


def test_full_cifar_has_no_whole(tmp_path):
    from tests.core.data.dataset_fixtures import cifar_members, write_cifar_folder

    data = load_dataset(str(write_cifar_folder(tmp_path / "c", cifar_members(per_batch=3))))
    assert data.whole is None and measured_split(data) == "test"


def test_adapting_a_dataset_adapts_its_whole(tmp_path):
    from cnnviz.core.data.data_fit import adapt_dataset

    arrays = write_idx_folder(tmp_path / "t10k", train=None, test=20)
    data = adapt_dataset(load_dataset(str(tmp_path / "t10k")), (14, 14, 3))
    assert data.whole.image_shape == (14, 14, 3) and data.whole.count == 20
    np.testing.assert_array_equal(data.whole.labels(), arrays["t10k"][1])
