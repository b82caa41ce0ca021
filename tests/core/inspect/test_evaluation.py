"""evaluate_model against Keras and against numbers worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.data_splits import ArraySplit, FileSplit
from cnnviz.core.data.dataset_types import Dataset, LoadOptions
from cnnviz.core.inspect.evaluation import EvaluationError, evaluate_model

SIZE = 12
CLASSES = ["top", "left", "bottom"]
FOLDER_NAMES = ["a_top", "b_left", "c_bottom"]  # sorted like the classes, as folders are


def pattern_images(labels: np.ndarray, seed: int) -> np.ndarray:
    """12×12 grayscale: a bright top, left or bottom half over dim noise."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, size=(len(labels), SIZE, SIZE, 1), dtype=np.uint8)
    for i, label in enumerate(labels):
        rows, cols = [(slice(0, 6), slice(None)), (slice(None), slice(0, 6)),
                      (slice(6, 12), slice(None))][int(label)]
        x[i, rows, cols] = rng.integers(120, 256)
    return x


def make_dataset(train: ArraySplit, test: ArraySplit | None, class_names: list[str],
                 validation: ArraySplit | None = None) -> Dataset:
    return Dataset(name="patterns", description="patterns", class_names=list(class_names),
                   input_shape=train.image_shape, train=train, validation=validation, test=test)


@pytest.fixture(scope="module")
def patterns() -> Dataset:
    rng = np.random.default_rng(3)
    y_train = rng.integers(0, 3, size=150)
    y_test = rng.integers(0, 3, size=70)  # 70 is not a multiple of the batch sizes used
    y_test_noisy = y_test.copy()
    flip = rng.random(70) < 0.25  # wrong labels, so the confusion matrix has mistakes in it
    y_test_noisy[flip] = (y_test[flip] + 1) % 3
    return make_dataset(ArraySplit(pattern_images(y_train, 1), y_train),
                        ArraySplit(pattern_images(y_test, 2), y_test_noisy), CLASSES)


def tiny_model(units: int, activation: str, input_shape=(SIZE, SIZE, 1)):
    import keras

    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(3, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(units, activation=activation),
    ])


def trained(model, dataset: Dataset, epochs: int = 3):
    """The model after a few epochs of the app's own training engine."""
    import keras

    from cnnviz.core.training.engine import TrainConfig, train

    keras.utils.set_random_seed(7)
    train(model, dataset, TrainConfig(learning_rate=0.01, batch_size=32, epochs=epochs, seed=1))
    return model


def keras_evaluate(model, split, binary: bool) -> dict[str, float]:
    from cnnviz.core.training.augmentation import evaluation_dataset

    return model.evaluate(evaluation_dataset(split, 32, binary), verbose=0, return_dict=True)


@pytest.fixture(scope="module")
def softmax_model(patterns):
    return trained(tiny_model(3, "softmax"), patterns)


# ---------------------------------------------------------------- against Keras


@pytest.mark.parametrize("activation", ["softmax", "linear"])
def test_loss_and_accuracy_equal_keras_evaluate(patterns, softmax_model, activation):
    model = softmax_model if activation == "softmax" else trained(tiny_model(3, "linear"),
                                                                  patterns, epochs=2)
    result = evaluate_model(model, patterns, "test", batch_size=16)
    expected = keras_evaluate(model, patterns.test, binary=False)
    assert result.count == 70 and result.split == "test"
    assert abs(result.accuracy - expected["accuracy"]) < 1e-6
    assert result.loss == pytest.approx(expected["loss"], rel=1e-5)
    assert 0.4 < result.accuracy < 1.0  # noisy labels: some right, some wrong
    # Probabilities, even for raw scores: each row sums to 1, predictions are their argmax.
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert result.probabilities.dtype == np.float32
    np.testing.assert_array_equal(result.predictions, result.probabilities.argmax(axis=1))


def test_confusion_matrix_and_scores_match_a_numpy_computation(patterns, softmax_model):
    result = evaluate_model(softmax_model, patterns, batch_size=32)
    x = patterns.test.images(range(70)).astype(np.float32) / 255.0
    predicted = softmax_model.predict(x, verbose=0).argmax(axis=1)
    truth = patterns.test.labels()
    expected = np.zeros((3, 3), dtype=np.int64)
    for t, p in zip(truth, predicted):
        expected[t, p] += 1
    np.testing.assert_array_equal(result.labels, truth)
    np.testing.assert_array_equal(result.predictions, predicted)
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.confusion.dtype == np.int64
    np.testing.assert_array_equal(result.support, np.bincount(truth, minlength=3))
    with np.errstate(invalid="ignore"):  # a class the untrained model never predicts: 0 / 0
        for k in range(3):
            assert result.precision[k] == pytest.approx(expected[k, k] / expected[:, k].sum(),
                                                        nan_ok=True)
            assert result.recall[k] == pytest.approx(expected[k, k] / expected[k, :].sum(),
                                                     nan_ok=True)
    assert result.correct == int(np.trace(expected))
    for t in range(3):
        for p in range(3):
            cell = result.cell_indices(t, p)
            np.testing.assert_array_equal(cell, np.flatnonzero((truth == t) & (predicted == p)))
    assert sum(len(result.cell_indices(t, p)) for t in range(3) for p in range(3)) == 70
    with pytest.raises(IndexError):
        result.cell_indices(3, 0)


@pytest.mark.parametrize("activation", ["sigmoid", "linear"])
def test_two_class_model_with_one_output(activation):
    rng = np.random.default_rng(5)
    y_train, y_test = rng.integers(0, 2, 120), rng.integers(0, 2, 50)
    y_test_noisy = np.where(rng.random(50) < 0.2, 1 - y_test, y_test)
    data = make_dataset(ArraySplit(pattern_images(y_train, 8), y_train),
                        ArraySplit(pattern_images(y_test, 9), y_test_noisy), ["top", "left"])
    model = trained(tiny_model(1, activation), data, epochs=2)
    result = evaluate_model(model, data, batch_size=16)
    expected = keras_evaluate(model, data.test, binary=True)
    assert abs(result.accuracy - expected["accuracy"]) < 1e-6
    assert result.loss == pytest.approx(expected["loss"], rel=1e-5)
    x = data.test.images(range(50)).astype(np.float32) / 255.0
    scores = model.predict(x, verbose=0)[:, 0]
    p = 1 / (1 + np.exp(-scores)) if activation == "linear" else scores
    assert result.probabilities.shape == (50, 2)
    np.testing.assert_allclose(result.probabilities[:, 1], p, atol=1e-6)
    np.testing.assert_allclose(result.probabilities[:, 0], 1 - p, atol=1e-6)
    np.testing.assert_array_equal(result.predictions, (p > 0.5).astype(int))
    assert result.top3.shape == (50, 2)  # only two classes to rank
    assert result.confusion.shape == (2, 2) and result.confusion.sum() == 50


# ---------------------------------------------------------------- by hand


def pixel_model():
    """Four pixels → four classes: class j's score is 8 × pixel j (pixels in [0, 1])."""
    import keras

    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax")])
    model.layers[-1].set_weights([np.eye(4, dtype=np.float32) * 8, np.zeros(4, np.float32)])
    return model


def pixel_images(rows: list[list[int]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.uint8).reshape(-1, 2, 2, 1)


@pytest.fixture(scope="module")
def hand_result():
    # Labels 0 0 0 1 1 2; the brightest pixel decides: predictions 0 0 1 1 1 1.
    x = pixel_images([[255, 0, 0, 0], [200, 0, 0, 0], [0, 90, 0, 0],
                      [0, 255, 0, 0], [0, 250, 0, 0], [0, 180, 0, 0]])
    y = np.array([0, 0, 0, 1, 1, 2])
    data = make_dataset(ArraySplit(x, y), ArraySplit(x, y), ["a", "b", "c", "d"])
    return evaluate_model(pixel_model(), data, batch_size=4)


def test_precision_and_recall_by_hand(hand_result):
    r = hand_result
    np.testing.assert_array_equal(r.confusion, [[2, 1, 0, 0], [0, 2, 0, 0], [0, 1, 0, 0],
                                                [0, 0, 0, 0]])
    assert r.precision[0] == 1.0           # 2 of the 2 predicted "a" are "a"
    assert r.precision[1] == 0.5           # 2 of the 4 predicted "b" are "b"
    assert math.isnan(r.precision[2])      # "c" was never predicted
    assert math.isnan(r.precision[3])
    assert r.recall[0] == pytest.approx(2 / 3)
    assert r.recall[1] == 1.0
    assert r.recall[2] == 0.0              # the one "c" was called "b"
    assert math.isnan(r.recall[3])         # no "d" examples at all
    np.testing.assert_array_equal(r.support, [3, 2, 1, 0])
    assert r.accuracy == pytest.approx(4 / 6)


def test_misclassified_most_confident_first(hand_result):
    # Example 2 ("a" called "b", pixel 90) and example 5 ("c" called "b", pixel 180):
    # the brighter pixel gives the more confident mistake.
    np.testing.assert_array_equal(hand_result.misclassified(), [5, 2])
    np.testing.assert_array_equal(hand_result.cell_indices(0, 1), [2])
    np.testing.assert_array_equal(hand_result.cell_indices(1, 1), [3, 4])
    assert len(hand_result.cell_indices(3, 3)) == 0


def test_top3_order_and_probabilities():
    x = pixel_images([[255, 128, 64, 0], [0, 10, 200, 100]])
    y = np.array([0, 2])
    data = make_dataset(ArraySplit(x, y), ArraySplit(x, y), ["a", "b", "c", "d"])
    result = evaluate_model(pixel_model(), data)
    np.testing.assert_array_equal(result.top3, [[0, 1, 2], [2, 3, 1]])
    scores = x.reshape(2, 4).astype(np.float64) / 255 * 8
    softmax = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.probabilities, softmax, atol=1e-6)
    np.testing.assert_allclose(result.top3_probabilities,
                               np.take_along_axis(softmax, result.top3, axis=1), atol=1e-6)
    assert (np.diff(result.top3_probabilities, axis=1) < 0).all()


# ---------------------------------------------------------------- streaming


def write_png_folder(root: Path, labels_per_split: dict[str, list[int]], seed: int = 4
                     ) -> dict[str, np.ndarray]:
    """root/<split>/<class>/*.png, 12×12 grayscale patterns; returns the pixels per split."""
    written = {}
    for split, labels in labels_per_split.items():
        images = pattern_images(np.asarray(labels), seed + len(split))
        for i, (image, label) in enumerate(zip(images, labels)):
            folder = root / split / FOLDER_NAMES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[:, :, 0]).save(folder / f"{i:03d}.png")
        written[split] = images
    return written


def test_folder_source_is_streamed_and_gives_the_in_memory_result(tmp_path, monkeypatch,
                                                                    softmax_model):
    from cnnviz.core.data.datasets import load_dataset

    write_png_folder(tmp_path, {"train": [0, 1, 2] * 3, "test": [0, 1, 2, 2, 1, 0, 0] * 3})
    folder = load_dataset(str(tmp_path), LoadOptions(target_size=(SIZE, SIZE),
                                                     color_mode="grayscale"))
    assert isinstance(folder.test, FileSplit) and folder.test.count == 21
    in_memory = make_dataset(folder.train, ArraySplit(folder.test.images(range(21)),
                                                      folder.test.labels()), folder.class_names)

    def read_whole(self, indices):
        raise AssertionError("evaluation must stream the files, not read the split whole")

    monkeypatch.setattr(FileSplit, "images", read_whole)
    progress: list[tuple[int, int]] = []
    streamed = evaluate_model(softmax_model, folder, batch_size=4,
                              on_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(4, 21), (8, 21), (12, 21), (16, 21), (20, 21), (21, 21)]
    monkeypatch.undo()
    expected = evaluate_model(softmax_model, in_memory, batch_size=4)
    np.testing.assert_array_equal(streamed.confusion, expected.confusion)
    np.testing.assert_allclose(streamed.probabilities, expected.probabilities, atol=1e-6)
    assert streamed.class_names == FOLDER_NAMES


# ---------------------------------------------------------------- refusals


def test_images_of_the_wrong_shape_are_refused(patterns):
    model = tiny_model(3, "softmax", input_shape=(16, 16, 3))
    with pytest.raises(EvaluationError, match=r"16×16×3 \(colour\).*12×12×1 \(grayscale\)"):
        evaluate_model(model, patterns)


@pytest.mark.parametrize("build, words", [
    (lambda keras: [keras.layers.Conv2D(3, 3)], "not a classifier"),
    (lambda keras: [keras.layers.Flatten(), keras.layers.Dense(3, activation="relu")],
     "not a classifier"),
    (lambda keras: [keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")],
     "4 class scores, but the data has 3 classes"),
    (lambda keras: [keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")],
     "data has 3 classes"),
])
def test_models_that_are_not_classifiers_for_this_data_are_refused(patterns, build, words):
    import keras

    model = keras.Sequential([keras.Input((SIZE, SIZE, 1)), *build(keras)])
    with pytest.raises(EvaluationError, match=words):
        evaluate_model(model, patterns)


def test_missing_or_empty_split_is_refused(patterns, softmax_model):
    no_test = make_dataset(patterns.train, None, CLASSES)
    with pytest.raises(EvaluationError, match=r"no test split\. Choose train \(150\)"):
        evaluate_model(softmax_model, no_test, "test")
    with pytest.raises(EvaluationError, match="has a test part of its own"):
        evaluate_model(softmax_model, no_test, "all")
    assert evaluate_model(softmax_model, no_test).split == "train"  # the only one there is
    empty = ArraySplit(np.zeros((0, SIZE, SIZE, 1), np.uint8), np.zeros(0, np.int64))
    with pytest.raises(EvaluationError, match="validation split of patterns is empty"):
        evaluate_model(softmax_model, make_dataset(patterns.train, None, CLASSES, empty),
                       "validation")
    with pytest.raises(EvaluationError, match="batch size"):
        evaluate_model(softmax_model, patterns, batch_size=0)
    result = evaluate_model(softmax_model, patterns, "train")  # the other splits still work
    assert result.count == 150 and result.split == "train"


def test_should_stop_ends_evaluation_between_batches(patterns, softmax_model):
    progress: list[int] = []
    with pytest.raises(EvaluationError, match="stopped after 32 of 70"):
        evaluate_model(softmax_model, patterns, batch_size=16,
                       on_progress=lambda done, total: progress.append(done),
                       should_stop=lambda: len(progress) >= 2)
    assert progress == [16, 32]


@pytest.mark.parametrize("input_shape", [(SIZE, SIZE), (SIZE * SIZE,)])
def test_models_taking_2d_or_flat_inputs_get_the_images_reshaped(patterns, input_shape):
    import keras

    from cnnviz.core.training.engine import TrainConfig, compile_for_training

    keras.utils.set_random_seed(4)
    layers = [keras.layers.Flatten()] if len(input_shape) == 2 else []
    model = keras.Sequential([keras.Input(input_shape), *layers,
                              keras.layers.Dense(3, activation="softmax")])
    result = evaluate_model(model, patterns, batch_size=32)
    compile_for_training(model, TrainConfig())
    x = patterns.test.images(range(70)).astype(np.float32) / 255.0
    expected = model.evaluate(x.reshape((70,) + input_shape), patterns.test.labels(), verbose=0,
                              return_dict=True)
    assert abs(result.accuracy - expected["accuracy"]) < 1e-6
    assert result.loss == pytest.approx(expected["loss"], rel=1e-5)
    flat = keras.Sequential([keras.Input((100,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(EvaluationError, match="flat list of 100 values.*12×12×1 = 144"):
        evaluate_model(flat, patterns)
