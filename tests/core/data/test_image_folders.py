"""Image folders through the real loader: layouts, formats and modes, skipped files, errors,
huge images, and streaming from disk with tf.data."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.data_splits import FileSplit
from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.errors import DatasetError
from tests.core.data.dataset_fixtures import save_image, write_image_folder

NO_VALIDATION = LoadOptions(validation_split=0)


def colours_by_class(split, class_names):
    """{class name: set of mean grey levels} over a whole split."""
    pixels = split.images(range(split.count))
    out: dict[str, set[int]] = {}
    for label, image in zip(split.labels(), pixels):
        out.setdefault(class_names[label], set()).add(int(round(image.mean())))
    return out


def test_one_subfolder_per_class_gives_sorted_classes_and_streaming_split(tmp_path):
    write_image_folder(tmp_path / "pets", {"dogs": 4, "cats": 5, "birds": 3})
    data = load_dataset(str(tmp_path / "pets"), NO_VALIDATION)
    assert data.class_names == ["birds", "cats", "dogs"]
    assert isinstance(data.train, FileSplit)
    assert data.class_counts() == {"birds": 3, "cats": 5, "dogs": 4}
    assert data.input_shape == (64, 64, 3)  # the folder default
    assert (data.validation, data.test, data.name) == (None, None, "pets (folder)")
    # write_image_folder paints class k with grey 40 + 60k: every label must match its pixels.
    assert colours_by_class(data.train, data.class_names) == {
        "birds": {40}, "cats": {100}, "dogs": {160}}
    assert data.report.resized == 12 and data.report.skipped == 0


def test_binary_folder_labels_are_0_and_1_in_keras_order(tmp_path):
    import keras

    root = write_image_folder(tmp_path / "binary", {"Zebra": 3, "apple": 3})
    ours = load_dataset(str(root), NO_VALIDATION)
    assert set(ours.train.labels()) == {0, 1}
    reference = keras.utils.image_dataset_from_directory(root, image_size=(16, 20), shuffle=False,
                                                        verbose=False)
    assert ours.class_names == reference.class_names == ["Zebra", "apple"]
    keras_labels = np.concatenate([y.numpy() for _, y in reference])
    keras_label_of = dict(zip(reference.file_paths, keras_labels))
    ours_label_of = dict(zip(ours.train.paths, ours.train.labels()))
    assert {p: keras_label_of[p] for p in ours.train.paths} == ours_label_of


def test_train_val_test_folders_are_used_as_given(tmp_path):
    for split, count in (("train", 6), ("val", 2), ("test", 3)):
        write_image_folder(tmp_path / "d" / split, {"a": count, "b": count})
    data = load_dataset(str(tmp_path / "d"))  # validation_split 0.1 must not carve: val/ exists
    assert (data.train.count, data.validation.count, data.test.count) == (12, 4, 6)
    assert all(p.split("/")[-3] == "test" for p in data.test.paths)


def test_folders_beside_train_are_ignored_with_a_note(tmp_path):
    write_image_folder(tmp_path / "d" / "train", {"a": 3, "b": 3})
    write_image_folder(tmp_path / "d" / "extras", {"a": 2, "b": 2})
    data = load_dataset(str(tmp_path / "d"), NO_VALIDATION)
    assert data.train.count == 6
    assert data.report.notes == ["Folders beside train/ were ignored: extras."]


def test_validation_folder_may_be_called_validation(tmp_path):
    write_image_folder(tmp_path / "d" / "train", {"a": 3, "b": 3})
    write_image_folder(tmp_path / "d" / "validation", {"a": 1, "b": 1})
    assert load_dataset(str(tmp_path / "d")).validation.count == 2


def test_train_and_test_only_carves_validation_from_train(tmp_path):
    write_image_folder(tmp_path / "d" / "train", {"a": 10, "b": 10})
    write_image_folder(tmp_path / "d" / "test", {"a": 2, "b": 2})
    data = load_dataset(str(tmp_path / "d"), LoadOptions(validation_split=0.25))
    assert (data.train.count, data.validation.count, data.test.count) == (15, 5, 4)
    assert not set(data.train.paths) & set(data.validation.paths)


def test_test_folder_with_a_class_train_lacks_is_an_error(tmp_path):
    write_image_folder(tmp_path / "d" / "train", {"a": 2, "b": 2})
    write_image_folder(tmp_path / "d" / "test", {"a": 1, "c": 1})
    with pytest.raises(DatasetError, match="test/ has class folders that train/ does not: c"):
        load_dataset(str(tmp_path / "d"))


def make_mixed_folder(root):
    """Every mode and format the issue names, at several sizes, in two classes."""
    transparent = Image.new("RGBA", (30, 30), (0, 0, 255, 0))
    transparent.paste((0, 0, 255, 255), (10, 10, 20, 20))
    (root / "a").mkdir(parents=True)
    transparent.save(root / "a" / "rgba_mostly_transparent.png")
    save_image(root / "a" / "gray.png", (28, 28), "L", 128)
    save_image(root / "a" / "palette.gif", (40, 30), "P", (0, 200, 0))
    save_image(root / "a" / "photo.jpg", (64, 64), "RGB", (250, 0, 0))
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 255, 0, 255] + [0, 0, 0] * 254)
    (root / "b").mkdir()
    palette.save(root / "b" / "palette_transparent.png", transparency=1)
    save_image(root / "b" / "bitmap.bmp", (33, 17), "RGB", (10, 20, 30))
    Image.fromarray(np.full((12, 12), 65535, np.uint16)).save(root / "b" / "sixteen_bit.png")
    save_image(root / "b" / "la.png", (8, 8), "LA", (0, 0))
    return root


def test_mixed_modes_sizes_and_formats_all_load(tmp_path):
    root = make_mixed_folder(tmp_path / "mixed")
    data = load_dataset(str(root), LoadOptions(target_size=(32, 32), validation_split=0))
    assert data.train.count == 8 and data.report.skipped == 0
    assert data.report.resized == 8  # no file is 32×32
    by_name = dict(zip((p.rsplit("/", 1)[1] for p in data.train.paths), range(8)))
    pixels = {name: data.train.images([i])[0] for name, i in by_name.items()}
    assert pixels["rgba_mostly_transparent.png"][0, 0].tolist() == [255, 255, 255]  # laid on white
    assert pixels["rgba_mostly_transparent.png"][16, 16].tolist() == [0, 0, 255]
    assert pixels["palette_transparent.png"][5, 5].tolist() == [255, 255, 255]
    assert pixels["la.png"][0, 0].tolist() == [255, 255, 255]
    assert pixels["gray.png"][3, 3].tolist() == [128, 128, 128]
    assert pixels["sixteen_bit.png"][3, 3].tolist() == [255, 255, 255]  # 65535 scaled to 255
    assert pixels["palette.gif"][3, 3].tolist() == [0, 200, 0]
    assert abs(int(pixels["photo.jpg"][3, 3, 0]) - 250) <= 3
    assert pixels["bitmap.bmp"][3, 3].tolist() == [10, 20, 30]


def test_grayscale_and_target_size_options(tmp_path):
    root = make_mixed_folder(tmp_path / "mixed")
    data = load_dataset(str(root), LoadOptions(target_size=(24, 40), color_mode="grayscale",
                                               validation_split=0))
    assert data.input_shape == (24, 40, 1)
    assert data.train.images(range(3)).shape == (3, 24, 40, 1)
    assert "24×40 grayscale" in data.description


def test_unreadable_and_non_image_files_are_skipped_and_counted(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 3, "b": 3})
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "a" / "empty.jpg").write_bytes(b"")
    good = (root / "b" / "000.png").read_bytes()
    (root / "b" / "cut.png").write_bytes(good[: len(good) // 2])
    (root / "b" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: not even counted
    data = load_dataset(str(root), NO_VALIDATION)
    assert data.train.count == 6
    assert data.report.skipped == 3
    reasons = "\n".join(data.report.skipped_examples)
    assert "notes.txt: not an image" in reasons and "empty.jpg: not an image" in reasons
    assert "cut.png: damaged image" in reasons
    assert data.report.lines()[0] == "Skipped 3 files that could not be read as images:"


def test_empty_class_is_an_error_naming_it(tmp_path):
    root = write_image_folder(tmp_path / "d", {"cats": 3, "dogs": 3})
    (root / "birds").mkdir()
    with pytest.raises(DatasetError, match="class folder 'birds' has no readable images"):
        load_dataset(str(root))


def test_class_with_only_unreadable_files_is_empty_too(tmp_path):
    root = write_image_folder(tmp_path / "d", {"cats": 3, "dogs": 3})
    (root / "birds").mkdir()
    (root / "birds" / "readme.txt").write_text("soon")
    with pytest.raises(DatasetError, match="'birds' has no readable images"):
        load_dataset(str(root))


def test_fewer_than_two_classes_is_an_error(tmp_path):
    write_image_folder(tmp_path / "d", {"cats": 3})
    with pytest.raises(DatasetError, match="only one class folder \\('cats'\\).*at least two"):
        load_dataset(str(tmp_path / "d"))


def test_folder_without_images_is_an_error(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "d" / name).mkdir(parents=True)
        (tmp_path / "d" / name / "x.txt").write_text("text")
    with pytest.raises(DatasetError, match="No images found.*none of its 2 files could be read"):
        load_dataset(str(tmp_path / "d"))


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="No images found .*it is empty"):
        load_dataset(str(tmp_path / "empty"))


def test_images_without_class_folders_explain_the_layout(tmp_path):
    for n in range(3):
        save_image(tmp_path / "flat" / f"{n}.png")
    with pytest.raises(DatasetError, match="3 loose files but no class subfolders.*own subfolder"):
        load_dataset(str(tmp_path / "flat"))


def test_huge_jpeg_is_resized_not_fatal_and_reported(tmp_path):
    root = write_image_folder(tmp_path / "d", {"small": 2, "tiny": 2})
    Image.new("RGB", (10_000, 10_000), (0, 90, 180)).save(root / "small" / "huge.jpg", quality=50)
    data = load_dataset(str(root), LoadOptions(target_size=(32, 32), validation_split=0))
    assert data.train.count == 5 and data.report.resized == 5
    assert any("very large image (up to 10,000×10,000 pixels)" in n for n in data.report.notes)
    huge = data.train.images([data.train.paths.index(str(root / "small" / "huge.jpg"))])[0]
    assert huge.shape == (32, 32, 3) and np.abs(huge.astype(int) - [0, 90, 180]).max() <= 4


def test_huge_png_past_pillows_warning_limit_loads_quietly(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 2, "b": 2})
    Image.new("L", (10_000, 10_000), 77).save(root / "a" / "scan.png")  # 100 million pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        data = load_dataset(str(root), LoadOptions(target_size=(16, 16), validation_split=0))
        scan = data.train.images([data.train.paths.index(str(root / "a" / "scan.png"))])[0]
    assert scan.shape == (16, 16, 3) and scan.min() == scan.max() == 77


def test_image_beyond_pillows_safety_limit_is_skipped_with_a_reason(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 2, "b": 2})
    # A BMP header claiming 15,000×15,000 pixels (225 million): Pillow refuses such a bomb.
    width = height = 15_000
    row = (width * 3 + 3) // 4 * 4
    header = (b"BM" + struct.pack("<IHHI", 54 + row * height, 0, 0, 54)
              + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height, 0, 0, 0, 0))
    (root / "a" / "bomb.bmp").write_bytes(header + bytes(1000))
    data = load_dataset(str(root), NO_VALIDATION)
    assert data.train.count == 4 and data.report.skipped == 1
    assert "bomb.bmp: too large to load safely" in data.report.skipped_examples[0]


def test_files_are_decoded_when_used_not_when_loaded(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 2, "b": 2})
    data = load_dataset(str(root), LoadOptions(target_size=(8, 8), validation_split=0))
    first = data.train.paths[0]
    dataset = data.train.tf_dataset(batch_size=4)
    save_image(tmp_path / "d" / first, (20, 16), "RGB", (1, 2, 3))  # repainted after loading
    x, _ = next(iter(dataset))
    assert np.allclose(x.numpy()[0, 0, 0], np.array([1, 2, 3]) / 255.0)
    assert data.train.images([0])[0, 0, 0].tolist() == [1, 2, 3]


def test_file_broken_after_loading_becomes_blank_and_is_reported(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 2, "b": 2})
    data = load_dataset(str(root), LoadOptions(target_size=(8, 8), validation_split=0))
    broken = data.train.paths[1]
    (tmp_path / "d" / broken).write_bytes(b"garbage")
    batches = list(data.train.tf_dataset(batch_size=3))
    assert [len(y) for _, y in batches] == [3, 1]  # the epoch completes
    assert float(batches[0][0][1].numpy().max()) == 0.0
    assert any(broken in note and "blank image" in note for note in data.report.notes)
    list(data.train.tf_dataset(batch_size=3))  # a second epoch does not repeat the note
    assert sum(broken in note for note in data.report.notes) == 1


def test_folder_tf_dataset_is_float_in_0_1_with_int32_labels_and_covers_an_epoch(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 7, "b": 6})
    data = load_dataset(str(root), LoadOptions(target_size=(10, 12), color_mode="grayscale",
                                               validation_split=0))
    batches = list(data.train.tf_dataset(batch_size=4, shuffle=True, seed=3))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 10, 12, 1)] * 3 + [(1, 10, 12, 1)]
    assert all(x.dtype.name == "float32" and y.dtype.name == "int32" for x, y in batches)
    x_all = np.concatenate([x.numpy() for x, _ in batches])
    y_all = np.concatenate([y.numpy() for _, y in batches])
    assert 0.0 <= x_all.min() and x_all.max() <= 1.0
    assert sorted(y_all.tolist()) == sorted(data.train.labels().tolist())
    # Each image's grey level still matches its label after shuffling (40/255 vs 100/255).
    assert np.allclose(x_all.mean(axis=(1, 2, 3)), np.where(y_all == 0, 40, 100) / 255.0, atol=0.01)
    repeated = data.train.tf_dataset(batch_size=4, repeat=True).take(9)
    assert len(list(repeated)) == 9


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    root = write_image_folder(tmp_path / "d", {"a": 10, "b": 10})
    first = load_dataset(str(root), LoadOptions(validation_split=0.2, seed=1))
    again = load_dataset(str(root), LoadOptions(validation_split=0.2, seed=1))
    other = load_dataset(str(root), LoadOptions(validation_split=0.2, seed=2))
    assert first.validation.paths == again.validation.paths
    assert set(first.validation.paths) != set(other.validation.paths)
    assert first.validation.count == 4 and first.train.count == 16
