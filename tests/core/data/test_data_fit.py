"""Data that fits a model: suggested samples, fit problems, and lazily adapted datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.data_fit import (
    AdaptedSplit, adapt_dataset, can_adapt, fit_problem, suggested_source,
)
from cnnviz.core.data.data_splits import ArraySplit, FileSplit
from cnnviz.core.data.dataset_types import Dataset, LoadOptions


def array_dataset(shape: tuple[int, int, int], counts=(12, 5, 7), seed: int = 0) -> Dataset:
    """Smooth random images (neighbouring pixels alike, as in photos) of one shape."""
    rng = np.random.default_rng(seed)
    splits = []
    for count in counts:
        coarse = rng.integers(0, 256, size=(count, 7, 7, shape[2])).astype(np.float32)
        smooth = np.stack([np.stack([np.asarray(Image.fromarray(c).resize(
            (shape[1], shape[0]), Image.Resampling.BICUBIC)) for c in image.transpose(2, 0, 1)],
            axis=-1) for image in coarse])
        x = np.clip(smooth, 0, 255).astype(np.uint8)
        splits.append(ArraySplit(x, rng.integers(0, 3, size=count)))
    return Dataset(name="shapes", description="shapes: 24 images", class_names=["a", "b", "c"],
                   input_shape=shape, train=splits[0], validation=splits[1], test=splits[2])


def pil_reference(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """What Pillow makes of each image: convert colour mode, then bilinear resize."""
    height, width, channels = shape
    out = []
    for image in images:
        picture = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
        picture = picture.convert("L" if channels == 1 else "RGB")
        picture = picture.resize((width, height), Image.Resampling.BILINEAR)
        array = np.asarray(picture)
        out.append(array[:, :, None] if channels == 1 else array)
    return np.stack(out)


def test_suggested_sources_for_the_bundled_samples():
    assert suggested_source((28, 28, 1)) == "mnist-sample"
    assert suggested_source([32, 32, 3]) == "cifar10-sample"
    assert suggested_source((None, 28, 28, 1)) == "mnist-sample"  # a Keras batch shape
    assert suggested_source((28, 28, 3)) is None
    assert suggested_source((64, 64, 3)) is None
    assert suggested_source((None, None, 1)) is None


def test_fit_problem_names_both_shapes_and_can_adapt_knows_the_channels():
    gray = array_dataset((28, 28, 1), counts=(2, 1, 1))
    assert fit_problem(gray, (28, 28, 1)) is None
    assert fit_problem(gray, (None, None, 1)) is None  # any size accepted
    problem = fit_problem(gray, (32, 32, 3))
    assert "32×32×3 (colour)" in problem and "28×28×1 (grayscale)" in problem
    assert "28×28×3" in fit_problem(gray, (28, 28, 3))
    assert can_adapt(gray, (32, 32, 3)) and can_adapt(gray, (14, 14, 1))
    assert can_adapt(gray, (None, None, 3))
    assert not can_adapt(gray, (28, 28, 4))
    assert not can_adapt(gray, (28, 28, 2))
    assert not can_adapt(gray, (784,))  # a flat input is not an image
    with pytest.raises(ValueError):
        adapt_dataset(gray, (28, 28, 4))


def test_adapt_grayscale_28_to_rgb_32_and_back():
    gray = array_dataset((28, 28, 1))
    rgb = adapt_dataset(gray, (32, 32, 3))
    assert rgb.input_shape == (32, 32, 3) and gray.input_shape == (28, 28, 1)
    assert "resized from 28×28 to 32×32" in rgb.description
    assert "converted from grayscale to RGB" in rgb.description
    assert rgb.description.startswith("shapes: 24 images")
    assert rgb.class_names == gray.class_names
    for name in ("train", "validation", "test"):
        before, after = gray.split(name), rgb.split(name)
        assert isinstance(after, AdaptedSplit) and after.image_shape == (32, 32, 3)
        assert after.count == before.count
        np.testing.assert_array_equal(after.labels(), before.labels())
    pixels = rgb.test.images(range(7))
    assert pixels.dtype == np.uint8 and pixels.shape == (7, 32, 32, 3)
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    reference = pil_reference(gray.test.images(range(7)), (32, 32, 3))
    assert np.abs(pixels.astype(int) - reference).max() <= 1

    back = adapt_dataset(rgb, (28, 28, 1))
    assert back.input_shape == (28, 28, 1)
    assert "resized from 32×32 to 28×28" in back.description
    assert "converted from RGB to grayscale" in back.description
    returned = back.test.images([0, 3])
    assert returned.shape == (2, 28, 28, 1)
    # Up and down again loses little: these images are smooth.
    original = gray.test.images([0, 3]).astype(float).ravel()
    assert np.corrcoef(returned.astype(float).ravel(), original)[0, 1] > 0.98


def test_colour_to_smaller_grayscale_matches_pillow():
    colour = array_dataset((32, 32, 3), seed=1)
    gray = adapt_dataset(colour, (28, 28, 1))
    pixels = gray.train.images(range(12))
    reference = pil_reference(colour.train.images(range(12)), (28, 28, 1))
    assert pixels.shape == (12, 28, 28, 1)
    assert np.abs(pixels.astype(int) - reference).max() <= 1
    # Brightness is Pillow's luma (0.299 R + 0.587 G + 0.114 B), not a plain channel mean.
    red = np.zeros((1, 32, 32, 3), np.uint8)
    red[..., 0] = 200
    only_red = Dataset("red", "red", ["a", "b"], (32, 32, 3), ArraySplit(red, np.array([0])),
                       None, None)
    assert adapt_dataset(only_red, (32, 32, 1)).train.images([0])[0, 5, 5, 0] == 60


def test_batches_are_converted_lazily_and_equal_images():
    gray = array_dataset((28, 28, 1))
    rgb = adapt_dataset(gray, (32, 32, 3))
    batches = list(rgb.train.tf_dataset(5))
    assert [int(x.shape[0]) for x, _ in batches] == [5, 5, 2]
    x = np.concatenate([b[0].numpy() for b in batches])
    y = np.concatenate([b[1].numpy() for b in batches])
    assert x.dtype == np.float32 and x.shape == (12, 32, 32, 3)
    np.testing.assert_allclose(x, rgb.train.images(range(12)) / 255.0, atol=1e-7)
    np.testing.assert_array_equal(y, gray.train.labels())
    # The adapted split wraps the original arrays: nothing was converted and stored up front.
    assert rgb.train.source is gray.train
    part = rgb.train.subset([4, 1])
    assert isinstance(part, AdaptedSplit) and part.count == 2
    np.testing.assert_array_equal(part.images([0, 1]), rgb.train.images([4, 1]))
    shuffled = next(iter(rgb.train.tf_dataset(12, shuffle=True, seed=3)))
    order = [int(np.flatnonzero(np.all(x == image, axis=(1, 2, 3)))[0])
             for image in shuffled[0].numpy()]
    np.testing.assert_array_equal(shuffled[1].numpy(), gray.train.labels()[order])


def test_adapt_keeps_a_dataset_that_already_fits():
    gray = array_dataset((28, 28, 1), counts=(2, 1, 1))
    assert adapt_dataset(gray, (28, 28, 1)) is gray
    assert adapt_dataset(gray, (None, None, 1)) is gray
    wider = adapt_dataset(gray, (None, 40, 1))  # an open height keeps the images' own
    assert wider.input_shape == (28, 40, 1)


def write_colour_folder(root: Path) -> None:
    rng = np.random.default_rng(2)
    for split, count in (("train", 4), ("test", 3)):
        for name in ("cats", "dogs"):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)
                Image.fromarray(image).save(folder / f"{i}.png")


def test_a_folder_stays_streamed_and_is_decoded_at_the_model_size(tmp_path):
    from cnnviz.core.data.datasets import load_dataset

    write_colour_folder(tmp_path)
    folder = load_dataset(str(tmp_path), LoadOptions(target_size=(20, 20), validation_split=0))
    assert folder.input_shape == (20, 20, 3) and isinstance(folder.test, FileSplit)
    adapted = adapt_dataset(folder, (28, 28, 1))
    assert isinstance(adapted.test, FileSplit) and adapted.test.image_shape == (28, 28, 1)
    assert adapted.test.paths == folder.test.paths
    np.testing.assert_array_equal(adapted.test.labels(), folder.test.labels())
    assert adapted.validation is None
    # Adapting read no pixels, and reading two images reads only those two files: the
    # others are unreadable now, and no failure is reported.
    hidden = [Path(p) for i, p in enumerate(folder.test.paths) if i not in (1, 4)]
    for path in hidden:
        path.rename(path.with_name(path.name + ".away"))
    pixels = adapted.test.images([1, 4])
    assert not any("could not be decoded" in note for note in folder.report.notes)
    for path in hidden:
        path.with_name(path.name + ".away").rename(path)
    # The same as loading the folder at the model's size in grayscale.
    direct = load_dataset(str(tmp_path), LoadOptions(target_size=(28, 28),
                                                     color_mode="grayscale", validation_split=0))
    np.testing.assert_array_equal(pixels, direct.test.images([1, 4]))
    x, _ = next(iter(adapted.test.tf_dataset(6)))
    np.testing.assert_allclose(x.numpy(), direct.test.images(range(6)) / 255.0, atol=1e-7)
    # Pillow's grayscale, resized as Keras's image_dataset_from_directory resizes.
    import tensorflow as tf

    gray = np.asarray(Image.open(adapted.test.paths[1]).convert("L"))[:, :, None]
    reference = tf.round(tf.image.resize(gray, (28, 28), method="bilinear")).numpy()
    np.testing.assert_array_equal(pixels[0], reference)


def test_an_adapted_dataset_evaluates_like_keras_on_the_converted_images():
    import keras

    from cnnviz.core.inspect.evaluation import evaluate_model
    from cnnviz.core.training.engine import TrainConfig, compile_for_training

    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 5, strides=3),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    gray = array_dataset((28, 28, 1))
    with pytest.raises(Exception, match="32×32×3"):
        evaluate_model(model, gray)
    adapted = adapt_dataset(gray, (32, 32, 3))
    result = evaluate_model(model, adapted, "train", batch_size=5)
    compile_for_training(model, TrainConfig())
    expected = model.evaluate(adapted.train.images(range(12)) / 255.0, gray.train.labels(),
                              verbose=0, return_dict=True)
    assert abs(result.accuracy - expected["accuracy"]) < 1e-6
    assert result.loss == pytest.approx(expected["loss"], rel=1e-5)


def test_models_taking_2d_or_flat_inputs():
    from cnnviz.core.data.data_fit import image_shape_for

    gray = array_dataset((28, 28, 1), counts=(2, 1, 1))
    assert image_shape_for((28, 28)) == (28, 28, 1) and image_shape_for((784,)) is None
    assert suggested_source((28, 28)) == "mnist-sample"
    assert fit_problem(gray, (28, 28)) is None
    assert fit_problem(gray, (784,)) is None  # flattened as it goes in
    assert "flat list of 3,072 values" in fit_problem(gray, (3072,))
    assert "32×32×1" in fit_problem(gray, (32, 32))
    assert adapt_dataset(gray, (32, 32)).input_shape == (32, 32, 1)
    assert not can_adapt(gray, (3072,))
