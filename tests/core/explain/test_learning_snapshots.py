"""Learning snapshots: copies of kernels and the pinned input's maps, per epoch, within a cap."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.explain.learning_snapshots import (
    EpochSnapshot, LearningHistory, class_probabilities,
    snapshot_label, take_snapshot,
)


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Conv2D(3, 2, name="conv_b"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(5, activation="softmax", name="out"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    return model


def pinned_image() -> np.ndarray:
    return np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8, 1)


# ----------------------------------------------------------------------------- probabilities


def test_a_sigmoid_output_becomes_two_classes():
    np.testing.assert_allclose(class_probabilities(np.array([0.8], np.float32)), [0.2, 0.8],
                               atol=1e-7)
    np.testing.assert_allclose(class_probabilities(np.array([[0.25]])), [0.75, 0.25])


def test_a_softmax_output_is_kept_and_logits_go_through_softmax():
    probs = np.array([0.1, 0.7, 0.2], np.float32)
    np.testing.assert_allclose(class_probabilities(probs), probs, atol=1e-7)
    logits = np.array([2.0, -1.0, 0.5])
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(class_probabilities(logits), expected)
    sigmoid = 1 / (1 + np.exp(2.0))                           # one value outside [0, 1]: a logit
    np.testing.assert_allclose(class_probabilities(np.array([-2.0])), [1 - sigmoid, sigmoid])


def test_class_probabilities_refuses_maps():
    with pytest.raises(ValueError):
        class_probabilities(np.zeros((4, 4, 2)))


# ----------------------------------------------------------------------------- take_snapshot


def test_snapshot_kernels_equal_the_weights_and_are_copies(tiny_model):
    snapshot = take_snapshot(tiny_model, pinned_image(), 0, {})
    assert list(snapshot.kernels) == ["conv_a", "conv_b"]
    for name, kernel in snapshot.kernels.items():
        np.testing.assert_array_equal(kernel, tiny_model.get_layer(name).get_weights()[0])
    before = {k: v.copy() for k, v in snapshot.kernels.items()}
    maps_before = {k: v.copy() for k, v in snapshot.feature_maps.items()}
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype(np.float32)
    y = np.arange(16) % 5
    tiny_model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    trained = tiny_model.get_layer("conv_a").get_weights()[0]
    assert not np.allclose(trained, before["conv_a"])  # training did move the weights...
    for name in before:                                # ...but not the snapshot's copies
        np.testing.assert_array_equal(snapshot.kernels[name], before[name])
    for name in maps_before:
        np.testing.assert_array_equal(snapshot.feature_maps[name], maps_before[name])


def test_snapshot_maps_equal_keras_sub_model_outputs(tiny_model):
    import keras

    image = pinned_image()
    from cnnviz.core.explain.activations import ActivationProbe

    probe = ActivationProbe(tiny_model)
    snapshot = take_snapshot(tiny_model, image, 2, {"loss": 1.5, "note": "text"}, probe=probe)
    assert snapshot.epoch == 2 and snapshot.logs == {"loss": 1.5}
    assert list(snapshot.feature_maps) == ["conv_a", "pool", "conv_b", "flat", "out"]
    for layer in tiny_model.layers:
        sub = keras.Model(tiny_model.inputs[0], layer.output)
        expected = np.asarray(sub(image[None]))[0]
        assert snapshot.feature_maps[layer.name].shape == expected.shape
        np.testing.assert_allclose(snapshot.feature_maps[layer.name], expected, atol=1e-5)
    final = np.asarray(tiny_model(image[None]))[0]
    np.testing.assert_allclose(snapshot.probabilities, final, atol=1e-5)


def test_snapshot_accepts_a_gray_image_without_channel_axis(tiny_model):
    snapshot = take_snapshot(tiny_model, pinned_image()[..., 0], 1)
    expected = take_snapshot(tiny_model, pinned_image()[None], 1)
    assert snapshot.feature_maps["conv_a"].shape == (6, 6, 4)
    np.testing.assert_allclose(snapshot.feature_maps["out"], expected.feature_maps["out"])


def test_a_sigmoid_model_snapshot_has_two_class_probabilities():
    import keras

    model = keras.Sequential([keras.Input(shape=(6, 6, 3)), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    image = np.full((6, 6, 3), 0.5, np.float32)
    snapshot = take_snapshot(model, image, 0)
    p = float(np.asarray(model(image[None]))[0, 0])
    np.testing.assert_allclose(snapshot.probabilities, [1 - p, p], atol=1e-6)
    assert snapshot.kernels[model.layers[0].name].shape == (3, 3, 3, 2)


def test_a_1d_model_snapshot_keeps_conv1d_kernels_and_sequence_maps():
    import keras

    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        keras.Input(shape=(20, 1)),
        keras.layers.Conv1D(4, 5, padding="causal", activation="relu", name="wave"),
        keras.layers.MaxPooling1D(2, name="pool"),
        keras.layers.GlobalAveragePooling1D(name="gap"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])
    series = np.sin(np.linspace(0, 6, 20)).astype(np.float32)
    snapshot = take_snapshot(model, series, 0)           # (steps,) gets its channel axis
    assert list(snapshot.kernels) == ["wave"] and snapshot.kernels["wave"].shape == (5, 1, 4)
    np.testing.assert_array_equal(snapshot.kernels["wave"], model.get_layer("wave").kernel.numpy())
    assert {name: m.shape for name, m in snapshot.feature_maps.items()} == {
        "wave": (20, 4), "pool": (10, 4), "gap": (4,), "out": (3,)}
    final = np.asarray(model(series[None, :, None]))[0]
    np.testing.assert_allclose(snapshot.probabilities, final, atol=1e-5)


def test_any_probe_with_the_activation_probe_shape_is_used_and_its_arrays_copied(tiny_model):
    from types import SimpleNamespace

    maps = np.ones((6, 6, 4), np.float32)
    seen: list[tuple] = []

    class FakeProbe:
        def run(self, image):
            seen.append(image.shape)
            return SimpleNamespace(layers=[
                SimpleNamespace(name="input_layer", layer_type="InputLayer", output=image),
                SimpleNamespace(name="conv_a", layer_type="Conv2D", output=maps),
                SimpleNamespace(name="out", layer_type="Dense", output=np.array([0.9])),
            ], probabilities=np.array([0.9], np.float32))

    snapshot = take_snapshot(tiny_model, pinned_image()[..., 0], 4, probe=FakeProbe())
    assert seen == [(8, 8, 1)]                       # the channel axis was put back
    assert list(snapshot.feature_maps) == ["conv_a", "out"]   # not the image itself
    maps[:] = 5.0
    assert snapshot.feature_maps["conv_a"].max() == 1.0       # a copy, not the probe's array
    np.testing.assert_allclose(snapshot.probabilities, [0.1, 0.9], atol=1e-6)


def test_a_functional_model_snapshot_skips_the_input_layer():
    import keras

    inputs = keras.Input(shape=(5, 5, 1))
    x = keras.layers.Conv2D(2, 3, name="c")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="d")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    snapshot = take_snapshot(model, np.ones((5, 5, 1), np.float32), 0)
    assert list(snapshot.kernels) == ["c"]
    assert "c" in snapshot.feature_maps and inputs.name not in snapshot.feature_maps
    assert all(np.ndim(m) in (1, 3) for m in snapshot.feature_maps.values())
    np.testing.assert_allclose(snapshot.probabilities,
                               np.asarray(model(np.ones((1, 5, 5, 1))))[0], atol=1e-6)


def test_snapshot_of_the_mnist_preset(tiny_model):
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.presets import preset_spec

    model = build_model(preset_spec("mnist_cnn"))
    snapshot = take_snapshot(model, np.zeros((28, 28, 1), np.float32), 0)
    assert snapshot.is_random_start
    assert [k.shape for k in snapshot.kernels.values()] == [(3, 3, 1, 32), (3, 3, 32, 64)]
    assert snapshot.feature_maps[model.layers[0].name].shape == (26, 26, 32)
    assert snapshot.probabilities.shape == (10,)
    assert abs(float(snapshot.probabilities.sum()) - 1.0) < 1e-5


def test_snapshots_keep_every_epoch_of_a_real_training_run():
    import keras

    from cnnviz.core.explain.activations import ActivationProbe

    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Conv2D(3, 3, name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    image = pinned_image()
    probe = ActivationProbe(model)   # built once, run at every epoch
    history = LearningHistory(planned_epochs=2)
    history.add(take_snapshot(model, image, 0, {}, probe))
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: history.add(
            take_snapshot(model, image, epoch + 1, logs, probe)))
    x = np.random.default_rng(1).random((32, 8, 8, 1)).astype(np.float32)
    model.fit(x, (x.mean(axis=(1, 2, 3)) > 0.5).astype(int), epochs=2, batch_size=8, verbose=0,
              callbacks=[record])
    assert history.epochs() == [0, 1, 2]
    assert history.at(0).logs == {} and set(history.at(2).logs) >= {"loss", "accuracy"}
    kernels = [history.at(e).kernels["c"] for e in (0, 1, 2)]
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])
    np.testing.assert_array_equal(kernels[2], model.get_layer("c").get_weights()[0])
    np.testing.assert_allclose(history.at(2).probabilities, np.asarray(model(image[None]))[0],
                               atol=1e-5)
    assert history.label(2).startswith("after epoch 2 of 2 · accuracy")


# ----------------------------------------------------------------------------- history


def fake_snapshot(epoch: int, map_bytes: int = 4000, logs: dict | None = None) -> EpochSnapshot:
    return EpochSnapshot(
        epoch=epoch,
        kernels={"conv": np.full((3, 3, 1, 2), epoch, np.float32)},            # 72 bytes
        feature_maps={"conv": np.full(map_bytes // 4, epoch, np.float32)},
        probabilities=np.array([0.5, 0.5], np.float32),                       # 8 bytes
        logs=logs or {},
    )


def test_history_keeps_epochs_in_order_and_replaces_the_same_epoch():
    history = LearningHistory()
    assert history.latest() is None and history.epochs() == []
    for epoch in (0, 2, 1):
        history.add(fake_snapshot(epoch))
    assert history.epochs() == [0, 1, 2]
    replacement = fake_snapshot(1, logs={"loss": 0.3})
    history.add(replacement)
    assert history.epochs() == [0, 1, 2] and history.at(1) is replacement
    assert history.latest().epoch == 2
    assert history.nbytes == 3 * (4000 + 72 + 8)
    with pytest.raises(KeyError):
        history.at(7)
    history.clear()
    assert len(history) == 0 and history.nbytes == 0


def test_the_cap_drops_oldest_maps_but_keeps_the_random_start_and_the_newest():
    per_snapshot = 4000 + 72 + 8
    history = LearningHistory(max_bytes=4 * per_snapshot + 5 * (72 + 8))
    for epoch in range(4):
        history.add(fake_snapshot(epoch))
    assert history.dropped == 0
    history.add(fake_snapshot(4))        # 5 snapshots: one set of maps must go, epoch 1's
    assert history.dropped == 1
    assert history.at(1).feature_maps == {} and history.at(1).feature_maps_dropped
    assert history.at(1).kernels["conv"][0, 0, 0, 0] == 1   # kernels and logs stay
    assert [bool(history.at(e).feature_maps) for e in history.epochs()] == [
        True, False, True, True, True]
    history.add(fake_snapshot(5))
    history.add(fake_snapshot(6))
    assert history.dropped == 3
    assert [bool(history.at(e).feature_maps) for e in history.epochs()] == [
        True, False, False, False, True, True, True]
    assert history.nbytes <= history.max_bytes
    np.testing.assert_array_equal(history.at(0).feature_maps["conv"], 0)  # the random start


def test_a_tiny_cap_never_drops_the_first_or_newest_maps():
    history = LearningHistory(max_bytes=1)
    for epoch in range(3):
        history.add(fake_snapshot(epoch))
    assert [bool(history.at(e).feature_maps) for e in history.epochs()] == [True, False, True]
    assert history.dropped == 1


def test_labels_say_random_start_and_epoch_of_planned_with_the_best_figure():
    history = LearningHistory(planned_epochs=5)
    history.add(fake_snapshot(0))
    history.add(fake_snapshot(3, logs={"loss": 0.25, "accuracy": 0.9, "val_accuracy": 0.97}))
    history.add(fake_snapshot(4, logs={"loss": 0.2}))
    assert history.label(0).startswith("random start")
    assert history.label(3) == "after epoch 3 of 5 · val_accuracy 0.97"
    assert history.label(4) == "after epoch 4 of 5 · loss 0.200"
    assert snapshot_label(fake_snapshot(7)) == "after epoch 7"
