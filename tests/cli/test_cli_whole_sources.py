"""`cnnviz evaluate` and `cnnviz explain` on sources that are a test set themselves, checked
against Keras's own `model.evaluate` on the same files: a folder of PNGs in class folders,
MNIST-style t10k IDX files, an .npz with only x and y, and CIFAR-10's test_batch alone."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnnviz.cli import main
from tests.core.data.dataset_fixtures import (
    cifar_batch_bytes,
    cifar_meta_bytes,
    digits,
    write_idx_folder,
)
from tests.core.data.test_whole_sources import SIZE, keras_listing, write_png_classes


def saved_model(folder, input_shape, classes: int, seed: int):
    """A small random-weight CNN saved as .keras (its answers vary, so a misaligned label
    or a missing image changes the loss)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(classes, activation="softmax"),
    ])
    path = folder / "model.keras"
    model.save(path)
    return path


def keras_scores(model_path, x, y) -> tuple[float, float]:
    """(loss, accuracy) from Keras's model.evaluate on images in [0, 1]."""
    import keras

    model = keras.models.load_model(model_path)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    return float(loss), float(accuracy)


def evaluate_cli(capsys, model_path, source, *extra) -> tuple[str, float, float]:
    """(split line, loss, accuracy) that `cnnviz evaluate` prints."""
    assert main(["evaluate", str(model_path), "--data", str(source), *extra]) == 0
    out = capsys.readouterr().out
    split = next(line for line in out.splitlines() if line.startswith("split: "))
    loss = float(re.search(r"^loss: (\S+)$", out, re.MULTILINE).group(1))
    accuracy = float(out.strip().splitlines()[-1].split(": ")[1])
    return split, loss, accuracy


def assert_matches_keras(printed: tuple[str, float, float], expected: tuple[float, float]):
    _, loss, accuracy = printed
    # printed to 4 decimals; float32 sums in another order may move the last digit
    assert loss == pytest.approx(expected[0], abs=2e-4)
    assert accuracy == pytest.approx(expected[1], abs=1e-4)


def test_folder_of_class_folders_is_evaluated_whole_like_keras(tmp_path, capsys):
    import keras

    root = write_png_classes(tmp_path / "photos", {"dogs": 30, "cats": 25, "birds": 20})
    model = saved_model(tmp_path, (SIZE, SIZE, 3), 3, seed=5)
    printed = evaluate_cli(capsys, model, root)
    assert printed[0] == "split: all 75 images of photos"
    ds = keras.utils.image_dataset_from_directory(
        str(root), labels="inferred", shuffle=False, image_size=(SIZE, SIZE), verbose=False)
    x = np.concatenate([x.numpy() for x, _ in ds]) / 255.0
    y = np.concatenate([y.numpy() for _, y in ds])
    assert_matches_keras(printed, keras_scores(model, x, y))
    # --split still picks a part that exists: the seeded validation carve of 8 images
    split, _, _ = evaluate_cli(capsys, model, root, "--split", "validation")
    assert split == "split: the 8 validation images of photos (folder)"


def test_t10k_files_are_evaluated_whole_like_keras(tmp_path, capsys):
    arrays = write_idx_folder(tmp_path / "mnist", train=None, test=300)
    images, labels = arrays["t10k"]
    model = saved_model(tmp_path, (28, 28, 1), 10, seed=6)
    printed = evaluate_cli(capsys, model, tmp_path / "mnist", "--batch-size", "64")
    assert printed[0] == "split: all 300 digits of mnist"
    assert_matches_keras(printed, keras_scores(model, images[..., None] / 255.0, labels))
    split, _, _ = evaluate_cli(capsys, model, tmp_path / "mnist", "--split", "test")
    assert split == "split: the 60 test digits of mnist (IDX)"


def test_xy_npz_is_evaluated_whole_like_keras(tmp_path, capsys):
    x, y = digits(120, seed=8)
    np.savez(tmp_path / "mine.npz", x=x, y=y)
    model = saved_model(tmp_path, (28, 28, 1), 10, seed=7)
    printed = evaluate_cli(capsys, model, tmp_path / "mine.npz")
    assert printed[0] == "split: all 120 images of mine.npz"
    assert_matches_keras(printed, keras_scores(model, x[..., None] / 255.0, y))


def test_cifar_test_batch_alone_is_evaluated_whole_like_keras(tmp_path, capsys):
    batch, pixels, labels = cifar_batch_bytes(200, seed=3)
    (tmp_path / "test_batch").write_bytes(batch)
    (tmp_path / "batches.meta").write_bytes(cifar_meta_bytes())
    model = saved_model(tmp_path, (32, 32, 3), 10, seed=8)
    printed = evaluate_cli(capsys, model, tmp_path / "test_batch")
    assert printed[0] == "split: all 200 images of test_batch"
    x = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1) / 255.0
    assert_matches_keras(printed, keras_scores(model, x, labels))


def test_split_all_on_a_source_with_a_test_part_names_the_choices(tmp_path, capsys):
    write_idx_folder(tmp_path / "both", train=30, test=10)
    model = saved_model(tmp_path, (28, 28, 1), 10, seed=9)
    assert main(["evaluate", str(model), "--data", str(tmp_path / "both"),
                 "--split", "all"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has a test part of its own" in err and "--split test" in err and "\n" not in err


def explained_window(capsys, model, source, *extra) -> tuple[np.ndarray, str]:
    """The whole input image (the window of a conv as large as the image) and its caption."""
    assert main(["explain", str(model), "--data", str(source), *extra, "--layer", "whole",
                 "--position", "0,0", "--json"]) == 0
    frame = json.loads(capsys.readouterr().out)
    return np.asarray(frame["window"]), frame["input"]


@pytest.fixture
def whole_image_model(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2D(1, 28, name="whole"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "look.keras")
    return tmp_path / "look.keras"


def test_explain_index_7_of_t10k_is_t10k_image_7(tmp_path, capsys, whole_image_model):
    arrays = write_idx_folder(tmp_path / "mnist", train=None, test=300)
    images, labels = arrays["t10k"]
    window, caption = explained_window(capsys, whole_image_model, tmp_path / "mnist",
                                       "--index", "7")
    np.testing.assert_array_equal((window[..., 0] * 255).round().astype(np.uint8), images[7])
    assert caption == f"image #7 of all 300 digits of mnist (label {labels[7]})"
    # --split test counts in the carved test part: its image 7 is t10k image 247
    window, caption = explained_window(capsys, whole_image_model, tmp_path / "mnist",
                                       "--split", "test", "--index", "7")
    np.testing.assert_array_equal((window[..., 0] * 255).round().astype(np.uint8), images[247])
    assert main(["explain", str(whole_image_model), "--data", str(tmp_path / "mnist"),
                 "--index", "300", "--layer", "whole", "--position", "0,0", "--json"]) == 2
    assert "all 300 digits of mnist are numbered 0 to 299" in capsys.readouterr().err


def test_explain_index_of_a_folder_is_keras_order(tmp_path, capsys):
    import keras

    root = write_png_classes(tmp_path / "photos", {"b": 6, "a": 5})
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)),
                              keras.layers.Conv2D(1, SIZE, name="whole"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "look.keras")
    _, _, pixels = keras_listing(root)
    window, caption = explained_window(capsys, tmp_path / "look.keras", root, "--index", "7")
    np.testing.assert_array_equal((window * 255).round().astype(np.uint8), pixels[7])
    assert caption == "image #7 of all 11 images of photos (label b)"
