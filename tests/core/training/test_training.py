"""The training engine: losses, optimizers, live reports, pause/stop/continue, NaN, early
stopping, keep-best checkpoints, augmentation and bad settings. Tiny models on 8×8 images."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from cnnviz.core.training.augmentation import evaluation_dataset, training_dataset
from cnnviz.core.errors import CnnvizError, TrainingError
from cnnviz.core.training.augmentation import AugmentConfig
from cnnviz.core.training.engine import TrainConfig, TrainResult, evaluate_test, loss_for, train
from tests.core.training.training_fixtures import (
    ArrayData, ArraySplit, asymmetric_images, make_data, tiny_model, tiny_spec,
)

FAST = dict(batch_size=32, learning_rate=0.01)


def weights_differ(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def val_loss_now(model, data) -> float:
    """The model's loss on the raw (never augmented) validation images, right now."""
    binary = loss_for(model) == "binary_crossentropy"
    results = model.evaluate(evaluation_dataset(data.validation, 64, binary), verbose=0,
                             return_dict=True)
    return float(results["loss"])


# ---------------------------------------------------------------- loss and optimizers


@pytest.mark.parametrize("classes, units, activation, loss", [
    (2, 1, "sigmoid", "binary_crossentropy"),
    (3, 3, "softmax", "sparse_categorical_crossentropy"),
])
def test_loss_follows_the_output_and_accuracy_is_right(classes, units, activation, loss):
    data = make_data(num_classes=classes)
    model = tiny_model(units, activation)
    assert loss_for(model) == loss
    result = train(model, data, TrainConfig(epochs=2, **FAST))
    # In reading order (Keras itself sorts them), so CSV columns come out that way too.
    assert list(result.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(values) == 2 for values in result.history.values())
    assert result.epochs_done == 2 and not result.stopped

    # The reported accuracy is the real one: compare with our own count on the test images.
    metrics = evaluate_test(model, data)
    predictions = model.predict(data.test.float_images(), verbose=0)
    if units == 1:
        guessed = (predictions[:, 0] > 0.5).astype(int)
    else:
        guessed = predictions.argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(float(np.mean(guessed == data.test.y)), abs=1e-6)
    assert metrics["accuracy"] > 0.8  # the toy problem is easy: training really happened


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_each_optimizer_compiles_and_trains(optimizer):
    data = make_data(train=64, validation=0, test=0)
    model = tiny_model()
    before = model.get_weights()
    config = TrainConfig(optimizer=optimizer.upper() if optimizer == "adam" else optimizer,
                         learning_rate=0.005, momentum=0.8, batch_size=32, epochs=1)
    result = train(model, data, config)
    assert type(model.optimizer).__name__.lower() == optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)
    if optimizer == "sgd":
        assert model.optimizer.momentum == pytest.approx(0.8)
    assert int(model.optimizer.iterations) == 2
    assert weights_differ(before, model.get_weights())
    assert set(result.history) == {"loss", "accuracy"}  # no validation split, no val_*


# ---------------------------------------------------------------- reports


def test_on_batch_every_batch_with_interval_zero():
    data = make_data(train=100, validation=20, test=0)
    reports, epochs = [], []
    train(tiny_model(), data, TrainConfig(epochs=2, batch_size=32, batch_report_interval=0.0),
          on_batch=lambda e, b, n, logs: reports.append((e, b, n, dict(logs))),
          on_epoch=lambda e, logs: epochs.append((e, logs)))
    assert [(e, b) for e, b, _, _ in reports] == [(e, b) for e in range(2) for b in range(4)]
    assert {n for _, _, n, _ in reports} == {4}  # ceil(100 / 32)
    assert all({"loss", "accuracy"} <= set(logs) for *_, logs in reports)
    assert [e for e, _ in epochs] == [0, 1]
    assert all({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(logs) for _, logs in epochs)


def test_on_batch_throttled_but_last_batch_of_each_epoch_always_reported():
    data = make_data(train=100, validation=0, test=0)
    reports = []
    train(tiny_model(), data, TrainConfig(epochs=3, batch_size=16, batch_report_interval=1e6),
          on_batch=lambda e, b, n, logs: reports.append((e, b)))
    # The very first batch (so progress shows at once), then only each epoch's last (7 per epoch).
    assert reports == [(0, 0), (0, 6), (1, 6), (2, 6)]


# ---------------------------------------------------------------- stop, pause, continue


def test_stop_within_one_batch_keeps_the_weights():
    data = make_data(train=200)
    model = tiny_model()
    before = model.get_weights()
    reports, epoch_logs = [], []
    result = train(model, data, TrainConfig(epochs=5, batch_report_interval=0.0, **FAST),
                   on_batch=lambda e, b, n, logs: reports.append(b),
                   on_epoch=lambda e, logs: epoch_logs.append(logs),
                   should_stop=lambda: len(reports) >= 3)
    assert int(model.optimizer.iterations) == 3  # asked after batch 3: not one batch more
    assert reports == [0, 1, 2]
    assert result.stopped and "stopped by user" in result.stop_reason
    assert "after batch 3 of 7" in result.stop_reason
    assert result.epochs_done == 1
    assert weights_differ(before, model.get_weights())  # trained weights kept, not reset
    # The cut-short epoch is reported without validation figures (none were measured).
    assert len(epoch_logs) == 1 and "val_loss" not in epoch_logs[0]


def test_stop_requested_before_start_trains_nothing():
    model = tiny_model()
    result = train(model, make_data(), TrainConfig(epochs=2, **FAST), should_stop=lambda: True,
                   initial_epoch=4)
    assert result.stopped and result.epochs_done == 4 and result.history == {}
    assert getattr(model, "optimizer", None) is None  # never even compiled


class PauseDriver:
    """Pauses from inside on_batch after `pause_after` batches, then lets a helper thread look
    at the engine while it is paused and either resume or stop it."""

    def __init__(self, model, pause_after: int, then: str) -> None:
        self.model, self.pause_after, self.then = model, pause_after, then
        self.paused = threading.Event()
        self.stop = threading.Event()
        self.enough_polls = threading.Event()
        self.polls = 0
        self.reports: list[tuple[int, int]] = []
        self.observed: list[tuple[int, int]] = []  # (optimizer steps, reports) while paused
        self.thread = threading.Thread(target=self._helper, daemon=True)

    def on_batch(self, epoch, batch, batches, logs) -> None:
        self.reports.append((epoch, batch))
        if len(self.reports) == self.pause_after:
            self.paused.set()
            self.thread.start()

    def is_paused(self) -> bool:
        if self.paused.is_set():
            self.polls += 1
            if self.polls in (5, 15):
                self.enough_polls.set()
        return self.paused.is_set()

    def _look(self) -> None:
        self.observed.append((int(self.model.optimizer.iterations.numpy()), len(self.reports)))

    def _helper(self) -> None:
        for _ in range(2):  # look twice, ten polls (~0.2 s) apart
            if not self.enough_polls.wait(30):
                break  # the engine never waited; the test fails on `observed`
            self.enough_polls.clear()
            self._look()
        if self.then == "stop":
            self.stop.set()
        else:
            self.paused.clear()


def test_pause_waits_between_batches_then_resumes():
    data = make_data(train=160, validation=0, test=0)
    model = tiny_model()
    driver = PauseDriver(model, pause_after=2, then="resume")
    result = train(model, data, TrainConfig(epochs=2, batch_report_interval=0.0, **FAST),
                   on_batch=driver.on_batch, is_paused=driver.is_paused)
    driver.thread.join(5)
    # While paused nothing moved: two looks, both after exactly two batches.
    assert driver.observed == [(2, 2), (2, 2)]
    assert driver.polls >= 15
    # Then training went on to the end.
    assert not result.stopped and result.epochs_done == 2
    assert driver.reports == [(e, b) for e in range(2) for b in range(5)]
    assert int(model.optimizer.iterations) == 10


def test_stop_while_paused_ends_training():
    data = make_data(train=160, validation=0, test=0)
    model = tiny_model()
    driver = PauseDriver(model, pause_after=2, then="stop")
    result = train(model, data, TrainConfig(epochs=3, batch_report_interval=0.0, **FAST),
                   on_batch=driver.on_batch, is_paused=driver.is_paused,
                   should_stop=driver.stop.is_set)
    driver.thread.join(5)
    assert driver.observed == [(2, 2), (2, 2)]
    assert result.stopped and "stopped by user" in result.stop_reason
    assert int(model.optimizer.iterations) == 2


def test_train_more_epochs_after_a_stop_continues_numbering_and_optimizer():
    data = make_data(train=96)
    model = tiny_model()
    seen: list[tuple[int, int]] = []
    # Stop exactly at the end of the first epoch (3 batches of 32).
    first = train(model, data, TrainConfig(epochs=4, batch_report_interval=0.0, **FAST),
                  on_batch=lambda e, b, n, logs: seen.append((e, b)),
                  should_stop=lambda: len(seen) >= 3)
    assert first.stopped and first.epochs_done == 1
    epochs: list[int] = []
    later = train(model, data, TrainConfig(epochs=2, **FAST), initial_epoch=first.epochs_done,
                  on_epoch=lambda e, logs: epochs.append(e))
    assert epochs == [1, 2]
    assert later.first_epoch == 1 and later.epochs_done == 3 and not later.stopped
    # Same settings: the optimizer was not rebuilt, its step count runs on.
    assert int(model.optimizer.iterations) == 9
    whole = first.merged_with(later)
    assert whole.epochs_done == 3 and whole.first_epoch == 0
    assert len(whole.history["loss"]) == 3
    assert math.isnan(whole.history["val_loss"][0])  # the stopped epoch was not validated
    assert whole.history["val_loss"][1:] == later.history["val_loss"]


def test_changing_only_the_learning_rate_keeps_the_optimizer_state():
    data = make_data(train=64, validation=0, test=0)
    model = tiny_model()
    train(model, data, TrainConfig(epochs=1, **FAST))
    optimizer = model.optimizer
    train(model, data, TrainConfig(epochs=1, batch_size=32, learning_rate=0.002), initial_epoch=1)
    assert model.optimizer is optimizer and int(optimizer.iterations) == 4
    assert float(optimizer.learning_rate) == pytest.approx(0.002)
    train(model, data, TrainConfig(optimizer="sgd", epochs=1, **FAST), initial_epoch=2)
    assert type(model.optimizer).__name__ == "SGD"  # another optimizer: compiled afresh


# ---------------------------------------------------------------- NaN


def test_nan_loss_stops_and_suggests_a_lower_learning_rate():
    data = make_data(train=160)
    model = tiny_model()
    reports = []
    result = train(model, data, TrainConfig(optimizer="sgd", learning_rate=1e30, epochs=3,
                                            batch_size=32),
                   on_batch=lambda e, b, n, logs: reports.append((b, logs["loss"])))
    assert result.stopped and "learning rate" in result.stop_reason
    assert "NaN" in result.stop_reason or "infinite" in result.stop_reason
    assert result.epochs_done == 1  # not three epochs of NaN
    assert int(model.optimizer.iterations) < 5
    assert not math.isfinite(reports[-1][1])  # the bad batch was reported too


def test_infinite_loss_stops_at_the_first_batch():
    from cnnviz.core.model.builder import build_model

    import keras

    # Huge (finite) inputs through a linear conv overflow the scores, so the loss is infinite
    # from the first batch whatever the initial weights (the labels cover every class).
    images = np.full((64, 8, 8, 1), 1e38, dtype=np.float32)
    data = ArrayData(["a", "b", "c"], (8, 8, 1), ArraySplit(images, np.arange(64) % 3),
                     None, None)
    spec = tiny_spec()
    spec.layers[0].params["activation"] = "linear"
    keras.utils.set_random_seed(1)
    model = build_model(spec)
    result = train(model, data, TrainConfig(epochs=2, **FAST))
    assert result.stopped and "infinite" in result.stop_reason
    assert "learning rate" in result.stop_reason and "epoch 1, batch 1" in result.stop_reason
    assert int(model.optimizer.iterations) == 1


# ---------------------------------------------------------------- early stopping, checkpoint


def test_early_stopping_stops_and_restores_the_best_weights():
    # Validation images all belong to class 2, which training never shows: val_loss only grows.
    data = make_data(train=96, validation=40, validation_labels=2)
    model = tiny_model()
    result = train(model, data, TrainConfig(epochs=10, early_stopping=True, monitor="val_loss",
                                            patience=1, restore_best=True, **FAST))
    assert result.stopped and "early stopping" in result.stop_reason
    assert result.epochs_done == 2
    assert result.history["val_loss"][1] > result.history["val_loss"][0]
    assert any("epoch 1" in note for note in result.notes)
    assert val_loss_now(model, data) == pytest.approx(result.history["val_loss"][0], rel=1e-5)


def test_keep_best_checkpoint_is_written_and_loadable(tmp_path):
    from cnnviz.core.model.builder import load_model_file

    data = make_data(train=96, validation=40, validation_labels=2)
    model = tiny_model()
    path = tmp_path / "best.keras"
    result = train(model, data, TrainConfig(epochs=3, checkpoint_path=str(path), **FAST))
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]  # no temporary left
    best = load_model_file(path)
    best.compile(loss="sparse_categorical_crossentropy")
    # The file holds epoch 1's weights (lowest val_loss), the model itself those of epoch 3.
    assert val_loss_now(best, data) == pytest.approx(result.history["val_loss"][0], rel=1e-5)
    assert val_loss_now(model, data) == pytest.approx(result.history["val_loss"][-1], rel=1e-5)
    assert str(path) in " ".join(result.notes)


def test_tensorboard_logs_are_written_or_the_missing_package_is_named(tmp_path):
    import importlib.util

    logs = tmp_path / "tb"
    model = tiny_model()
    config = TrainConfig(epochs=1, tensorboard_dir=str(logs), **FAST)
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(TrainingError, match="pip install tensorboard"):
            train(model, make_data(train=64), config)
        assert getattr(model, "optimizer", None) is None  # refused before training
    else:
        train(model, make_data(train=64), config)
        assert any(p.is_file() for p in logs.rglob("*tfevents*"))


# ---------------------------------------------------------------- augmentation


def _image_keys(images: np.ndarray) -> set[bytes]:
    return {np.ascontiguousarray(image).tobytes() for image in images}


def test_flip_augmentation_changes_training_batches_but_not_evaluation_batches():
    images = asymmetric_images(64)
    split = ArraySplit(images, np.zeros(64, dtype=np.int64))
    originals = _image_keys(split.float_images())
    mirrored = _image_keys(split.float_images()[:, :, ::-1, :])
    augmented = np.concatenate([x.numpy() for x, _ in training_dataset(
        split, 16, AugmentConfig(flip=True), seed=3)])
    keys = [np.ascontiguousarray(image).tobytes() for image in augmented]
    assert all(key in originals or key in mirrored for key in keys)  # a flip, nothing else
    flipped = sum(key not in originals for key in keys)
    assert 0 < flipped < 64  # at random: some, not all
    evaluated = np.concatenate([x.numpy() for x, _ in evaluation_dataset(split, 16)])
    np.testing.assert_array_equal(evaluated, split.float_images())


def test_augmentation_reaches_training_only_and_is_not_saved_in_the_model():
    data = make_data(train=96, validation=40)
    data.validation = ArraySplit(asymmetric_images(40, seed=4), data.validation.y)
    runs = {}
    for name, augment in (("plain", AugmentConfig()), ("again", AugmentConfig()),
                          ("flip", AugmentConfig(flip=True))):
        model = tiny_model()
        layers_before = [layer.name for layer in model.layers]
        result = train(model, data, TrainConfig(epochs=1, seed=7, augment=augment, **FAST))
        assert [layer.name for layer in model.layers] == layers_before
        runs[name] = (model, result)
    plain, again, flip = (runs[k][0].get_weights() for k in ("plain", "again", "flip"))
    assert not weights_differ(plain, again)  # the same seed trains the same weights...
    assert weights_differ(plain, flip)  # ...so this difference is the flips
    # Validation saw the raw images: its loss equals evaluating them unchanged.
    model, result = runs["flip"]
    assert val_loss_now(model, data) == pytest.approx(result.history["val_loss"][-1], rel=1e-5)


def test_binary_labels_become_floats_and_stay_unaugmented_for_evaluation():
    split = ArraySplit(asymmetric_images(20), np.array([0, 1] * 10))
    x, y = next(iter(evaluation_dataset(split, 20, binary_labels=True)))
    assert y.dtype.name == "float32" and y.numpy().tolist() == [0.0, 1.0] * 10
    np.testing.assert_array_equal(x.numpy(), split.float_images())


# ---------------------------------------------------------------- bad settings


@pytest.mark.parametrize("changes, words", [
    ({"batch_size": 0}, "batch size"),
    ({"batch_size": 2.5}, "batch size"),
    ({"optimizer": "adamw"}, "Unknown optimizer"),
    ({"epochs": 0}, "epochs"),
    ({"learning_rate": 0.0}, "learning rate"),
    ({"learning_rate": -0.1}, "learning rate"),
    ({"learning_rate": float("nan")}, "learning rate"),
    ({"momentum": 1.5}, "momentum"),
    ({"monitor": "val_acc"}, "val_acc"),
    ({"patience": -1}, "patience"),
    ({"checkpoint_path": "best.h5"}, ".keras"),
    ({"checkpoint_path": "/no/such/folder/best.keras"}, "does not exist"),
    ({"augment": AugmentConfig(rotation=-1.0)}, "rotation"),
    ({"augment": AugmentConfig(zoom=1.0)}, "zoom"),
])
def test_impossible_settings_raise_a_readable_training_error(changes, words):
    config = TrainConfig(**{**dict(epochs=1, **FAST), **changes})
    model = tiny_model()
    with pytest.raises(TrainingError) as info:
        train(model, make_data(train=32), config)
    assert isinstance(info.value, CnnvizError)
    assert words in str(info.value)
    assert getattr(model, "optimizer", None) is None  # refused before compiling or training


def test_negative_initial_epoch_is_refused():
    with pytest.raises(TrainingError, match="first epoch"):
        train(tiny_model(), make_data(train=32), TrainConfig(epochs=1), initial_epoch=-1)


def test_model_that_does_not_fit_the_data_is_refused_before_training():
    data = make_data(num_classes=2, size=8)
    model = tiny_model(units=10)
    with pytest.raises(TrainingError, match="2 classes"):
        train(model, data, TrainConfig(epochs=1))
    with pytest.raises(TrainingError, match="16×16×3"):
        train(tiny_model(units=2), make_data(num_classes=2, size=16, channels=3),
              TrainConfig(epochs=1))


def test_evaluate_test_without_test_split_is_a_readable_error():
    data = make_data(test=0)
    with pytest.raises(TrainingError, match="no test images"):
        evaluate_test(tiny_model(), data)


def test_merged_history_fills_missing_keys_with_nan():
    first = TrainResult({"loss": [1.0, 0.9]}, 2, True, "stopped by user", 0)
    later = TrainResult({"loss": [0.8], "val_loss": [0.7]}, 3, False, None, 2, ["note"])
    whole = first.merged_with(later)
    assert whole.history["loss"] == [1.0, 0.9, 0.8]
    assert math.isnan(whole.history["val_loss"][0]) and whole.history["val_loss"][2] == 0.7
    assert (whole.epochs_done, whole.stopped, whole.stop_reason) == (3, False, None)
    assert whole.notes == ["note"]


# ---------------------------------------------------------------- with the real loaders


def test_tutorial_cnn_learns_the_bundled_mnist_sample():
    import keras

    from cnnviz.core.model.builder import build_model
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.model.presets import mnist_cnn
    from cnnviz.core.training.checks import check_model_fits_data

    data = load_dataset("mnist-sample", LoadOptions(limit=600))
    assert check_model_fits_data(mnist_cnn(), data) == []
    keras.utils.set_random_seed(2)
    model = build_model(mnist_cnn())
    epochs = []
    result = train(model, data, TrainConfig(epochs=2, batch_size=32, seed=2),
                   on_epoch=lambda e, logs: epochs.append(logs))
    assert result.epochs_done == 2 and not result.stopped
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[-1])
    metrics = evaluate_test(model, data)
    assert metrics["accuracy"] > 0.6  # from 600 digits in two epochs; chance is 0.1


def test_a_keep_best_checkpoint_in_a_read_only_folder_is_refused_before_training(tmp_path):
    """Issue 13: found at the first improvement, after an epoch of training, it was."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    model = tiny_model()
    try:
        config = TrainConfig(epochs=1, checkpoint_path=str(locked / "best.keras"), **FAST)
        with pytest.raises(TrainingError, match="read-only"):
            train(model, make_data(train=32), config)
    finally:
        locked.chmod(0o755)
    assert getattr(model, "optimizer", None) is None  # refused before compiling or training
