"""1-D models through the training engine: the same numbers as plain Keras, signal
augmentation (jitter, scaling) on training batches only, and the checks in words about
signals. Tiny Conv1D models on short random signals."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.data.series_split import SeriesSplit
from cnnviz.core.errors import TrainingError
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer
from cnnviz.core.training.augmentation import (
    AugmentConfig,
    evaluation_dataset,
    training_dataset,
)
from cnnviz.core.training.checks import check_model_fits_data
from cnnviz.core.training.engine import TrainConfig, evaluate_test, loss_for, train
from tests.core.training.training_fixtures import make_data

STEPS = 40


def signals(count: int, channels: int = 1, classes: int = 2, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    """Class k is a sine of frequency k + 1 plus noise: easy to learn, different per class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count)
    t = np.linspace(0, 2 * np.pi, STEPS, dtype=np.float32)
    x = np.sin((labels[:, None] + 1) * t[None, :])[:, :, None].repeat(channels, axis=2)
    x = x + rng.normal(scale=0.3, size=x.shape)
    return x.astype(np.float32), labels.astype(np.int64)


def series_data(channels: int = 1, classes: int = 2, train_count: int = 64,
                validation_count: int = 32, test_count: int = 32) -> Dataset:
    parts = [SeriesSplit(*signals(n, channels, classes, seed)) if n else None
             for seed, n in enumerate((train_count, validation_count, test_count))]
    return Dataset("waves", "sines", [f"f{k + 1}" for k in range(classes)], (STEPS, channels),
                   parts[0], parts[1], parts[2], noun="series")


def conv1d_model(channels: int = 1, units: int = 1, activation: str = "sigmoid", seed: int = 3):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((STEPS, channels)),
        keras.layers.Conv1D(4, 5, activation="relu", padding="causal", dilation_rate=2),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(units, activation=activation),
    ])


def conv1d_spec(steps: int = 150, channels: int = 1, classes_units: int = 1) -> ModelSpec:
    layers = [LayerSpec.make("Conv1D", filters=4, kernel_size=3, activation="relu"),
              LayerSpec.make("GlobalAveragePooling1D"),
              LayerSpec.make("Dense", units=classes_units,
                             activation="sigmoid" if classes_units == 1 else "softmax")]
    return ModelSpec(input_shape=(steps, channels),
                     layers=[normalize_layer(layer) for layer in layers])


# ---------------------------------------------------------------- same numbers as Keras


@pytest.mark.parametrize("classes, units, activation, keras_loss", [
    (2, 1, "sigmoid", "binary_crossentropy"),
    (3, 3, "softmax", "sparse_categorical_crossentropy"),
])
def test_a_conv1d_model_trains_exactly_as_plain_keras_fit(classes, units, activation,
                                                          keras_loss):
    import keras

    data = series_data(channels=2, classes=classes, validation_count=16)
    ours, theirs = conv1d_model(2, units, activation), conv1d_model(2, units, activation)
    theirs.set_weights(ours.get_weights())
    assert loss_for(ours) == keras_loss
    # One batch per epoch: the shuffled order cannot change the gradient.
    config = TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=64, epochs=4, seed=1)
    result = train(ours, data, config)

    x, y = data.train.x, data.train.labels()
    theirs.compile(keras.optimizers.Adam(0.01), keras_loss, metrics=["accuracy"])
    history = theirs.fit(x, y.astype(np.float32) if units == 1 else y, batch_size=64, epochs=4,
                         shuffle=False, verbose=0).history
    for mine, plain in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, plain, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=1e-4)
    np.testing.assert_allclose(result.history["accuracy"], history["accuracy"], atol=1e-6)
    # Validation at each epoch's end is Keras's own evaluate on the validation series.
    val_loss, val_accuracy = theirs.evaluate(
        data.validation.x, data.validation.labels().astype(np.float32) if units == 1
        else data.validation.labels(), verbose=0)
    assert result.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-4)
    assert result.history["val_accuracy"][-1] == pytest.approx(val_accuracy, abs=1e-6)
    metrics = evaluate_test(ours, data)
    guessed = (ours.predict(data.test.x, verbose=0)[:, 0] > 0.5 if units == 1
               else ours.predict(data.test.x, verbose=0).argmax(axis=1))
    assert metrics["accuracy"] == pytest.approx(np.mean(guessed == data.test.labels()))


def test_sine_waves_are_learned_with_live_reports():
    data = series_data(train_count=128)
    model = conv1d_model()
    epochs: list[int] = []
    batches: list[tuple[int, int]] = []
    result = train(model, data, TrainConfig(learning_rate=0.01, batch_size=16, epochs=8, seed=2,
                                            batch_report_interval=0.0),
                   on_batch=lambda e, b, n, logs: batches.append((e, b)),
                   on_epoch=lambda e, logs: epochs.append(e))
    assert epochs == list(range(8)) and len(batches) == 8 * 8
    assert evaluate_test(model, data)["accuracy"] >= 0.9
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_stop_within_one_batch_on_signals():
    data = series_data(train_count=128)
    model = conv1d_model()
    seen: list[int] = []
    result = train(model, data, TrainConfig(batch_size=16, epochs=3, batch_report_interval=0.0),
                   on_batch=lambda e, b, n, logs: seen.append(b),
                   should_stop=lambda: len(seen) >= 3)
    assert result.stopped and int(model.optimizer.iterations) == 3


# ---------------------------------------------------------------- signal augmentation


def one_batch(dataset) -> np.ndarray:
    return next(iter(dataset))[0].numpy()


def test_scaling_multiplies_each_series_by_one_factor_of_the_asked_spread():
    split = SeriesSplit(*signals(400, channels=3))
    augmented = one_batch(training_dataset(split, 400, AugmentConfig(scaling=0.2), seed=4))
    original = one_batch(training_dataset(split, 400, None, seed=4))  # the same shuffled order
    ratio = augmented / original
    factors = ratio[:, 0, 0]
    np.testing.assert_allclose(ratio, np.broadcast_to(factors[:, None, None], ratio.shape),
                               rtol=1e-4)  # one factor for all steps and channels of a series
    assert factors.mean() == pytest.approx(1.0, abs=0.04)
    assert factors.std() == pytest.approx(0.2, rel=0.15)


def test_jitter_adds_noise_of_the_asked_deviation_fresh_in_every_epoch():
    split = SeriesSplit(*signals(200, channels=2))
    dataset = training_dataset(split, 200, AugmentConfig(jitter=0.5), seed=4)
    first, second = one_batch(dataset), one_batch(dataset)  # two epochs of one batch each
    original = one_batch(training_dataset(split, 200, None, seed=4))
    noise = first - original
    assert noise.mean() == pytest.approx(0.0, abs=0.02)
    assert noise.std() == pytest.approx(0.5, rel=0.05)
    # Shuffled differently too, so compare sorted values: the noise is new each epoch.
    assert not np.allclose(np.sort(first.ravel()), np.sort(second.ravel()))


def test_signal_augmentation_never_reaches_the_evaluation_series():
    data = series_data(validation_count=32)
    model = conv1d_model()
    config = TrainConfig(epochs=2, batch_size=32, seed=5,
                         augment=AugmentConfig(jitter=3.0, scaling=0.5))
    result = train(model, data, config)
    clean = model.evaluate(evaluation_dataset(data.validation, 32, True), verbose=0,
                           return_dict=True)
    assert result.history["val_loss"][-1] == pytest.approx(clean["loss"], rel=1e-5)
    plain = one_batch(evaluation_dataset(data.validation, 32))
    np.testing.assert_array_equal(plain, data.validation.x)
    # Nothing of the augmentation is in the model itself.
    assert [type(layer).__name__ for layer in model.layers][0] == "Conv1D"


def test_image_augmentation_on_signals_and_signal_augmentation_on_images_are_refused():
    with pytest.raises(TrainingError, match="this data is signals. Use jitter or scaling"):
        train(conv1d_model(), series_data(),
              TrainConfig(epochs=1, augment=AugmentConfig(flip=True)))
    images = make_data(train=32, validation=0, test=0)
    from tests.core.training.training_fixtures import tiny_model

    with pytest.raises(TrainingError, match="this data is images"):
        train(tiny_model(), images, TrainConfig(epochs=1, augment=AugmentConfig(jitter=0.1)))


@pytest.mark.parametrize("changes, words", [
    ({"jitter": -0.1}, "jitter must be a number from 0 to 10"),
    ({"scaling": 2.0}, "scaling must be a number from 0 to 1"),
    ({"jitter": float("nan")}, "jitter"),
])
def test_impossible_signal_augmentation_is_a_readable_error(changes, words):
    with pytest.raises(TrainingError, match=words):
        train(conv1d_model(), series_data(),
              TrainConfig(epochs=1, augment=AugmentConfig(**changes)))


# ---------------------------------------------------------------- checks in words


def six_channel_data(steps: int = 150) -> Dataset:
    x = np.zeros((4, steps, 6), np.float32)
    split = SeriesSplit(x, np.array([0, 1, 0, 1]))
    return Dataset("six", "six channels", ["a", "b"], (steps, 6), split, None, split,
                   noun="series")


def test_a_one_channel_model_on_six_channel_signals_is_explained_and_fixed():
    problems = check_model_fits_data(conv1d_spec(150, 1), six_channel_data())
    assert len(problems) == 1
    problem = problems[0]
    assert "signals with 1 channel (150 steps × 1)" in problem.message
    assert "6 channels (150 steps × 6)" in problem.message
    assert problem.fix_label == "Change the model's input to (150, 6)"
    fixed = problem.fix(conv1d_spec(150, 1))
    assert tuple(fixed.input_shape) == (150, 6)
    assert check_model_fits_data(fixed, six_channel_data()) == []


def test_a_keras_conv1d_model_on_six_channels_is_named_in_plain_words():
    problems = check_model_fits_data(conv1d_model(1), series_data(channels=6))
    assert [p.severity for p in problems] == ["error"]
    assert "signals with 1 channel" in problems[0].message
    assert "6 channels" in problems[0].message and "images" not in problems[0].message


def test_a_1d_model_given_images_and_a_2d_model_given_signals_have_no_input_fix():
    images = make_data(train=8, validation=0, test=0)  # 8×8×1 images
    problems = check_model_fits_data(conv1d_spec(150, 1), images)
    assert "1-D network taking signals of 150 steps × 1 channel" in problems[0].message
    assert "8×8×1 images" in problems[0].message and problems[0].fix is None

    image_spec = ModelSpec(input_shape=(8, 8, 1), layers=[normalize_layer(layer) for layer in (
        LayerSpec.make("Conv2D", filters=2, kernel_size=3), LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=1, activation="sigmoid"))])
    problems = check_model_fits_data(image_spec, six_channel_data())
    assert "these are signals (150 steps × 6 channels)" in problems[0].message
    assert problems[0].fix is None


def test_a_model_ending_on_a_sequence_is_called_a_sequence_and_fixed_with_pooling():
    spec = conv1d_spec(150, 6)
    spec.layers = [spec.layers[0]]  # Conv1D(4, 3) only: its output is 148 steps × 4
    problems = check_model_fits_data(spec, six_channel_data())
    assert "The model's output is a sequence of 148 steps × 4 channels" in problems[0].message
    assert "volume" not in problems[0].message
    assert problems[0].fix_label == "Add GlobalAveragePooling1D and Dense(1, sigmoid) at the end"
    fixed = problems[0].fix(spec)
    assert [layer.type for layer in fixed.layers][-2:] == ["GlobalAveragePooling1D", "Dense"]
    assert check_model_fits_data(fixed, six_channel_data()) == []


def test_a_dense_layer_on_a_sequence_acts_per_step_so_the_fix_adds_pooling():
    spec = conv1d_spec(150, 6)
    spec.layers = [spec.layers[0], normalize_layer(LayerSpec.make("Dense", units=1,
                                                                  activation="sigmoid"))]
    problems = check_model_fits_data(spec, six_channel_data())
    assert "a sequence of 148 steps × 1 channel," in problems[0].message
    fixed = problems[0].fix(spec)
    assert check_model_fits_data(fixed, six_channel_data()) == []
