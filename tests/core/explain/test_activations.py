"""ActivationProbe: every layer's output for one image equals Keras's own sub-model outputs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz.core.explain.activations import ActivationProbe, conv1d_kernels, conv_kernels
from cnnviz.core.model.builder import build_model
from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.frames import ConvSteps, DenseSteps, GenericSteps, InputSteps
from cnnviz.core.model.presets import preset_spec

RTOL, ATOL = 1e-4, 1e-5


def keras_output_of(model, tensor, image: np.ndarray) -> np.ndarray:
    """What Keras itself computes for `tensor` of `model` on one image."""
    sub = keras.Model(model.inputs[0], tensor)
    return keras.ops.convert_to_numpy(sub(image[None], training=False))[0]


@pytest.fixture(scope="module")
def mnist_model():
    keras.utils.set_random_seed(11)
    return build_model(preset_spec("mnist_cnn"))


@pytest.fixture(scope="module")
def branch_model():
    """input → two convolutions side by side → Add → ReLU → pooling → Dense softmax, plus a
    plain keras.ops multiply (an operation that is not a layer) feeding the pooling."""
    keras.utils.set_random_seed(12)
    image = keras.Input((9, 9, 2), name="image")
    wide = keras.layers.Conv2D(3, 3, padding="same", name="wide")(image)
    narrow = keras.layers.Conv2D(3, 1, name="narrow")(image)
    added = keras.layers.Add(name="add")([wide, narrow])
    relu = keras.layers.ReLU(name="relu")(added)
    doubled = relu * 2.0
    pooled = keras.layers.MaxPooling2D(2, padding="same", name="pool")(doubled)
    flat = keras.layers.Flatten(name="flatten")(pooled)
    probabilities = keras.layers.Dense(4, activation="softmax", name="classes")(flat)
    return keras.Model(image, probabilities)


def test_mnist_cnn_every_layer_equals_keras(mnist_model):
    image = np.random.default_rng(0).uniform(size=(28, 28, 1)).astype(np.float32)
    probe = ActivationProbe(mnist_model)
    forward = probe.run(image)
    assert [r.name for r in forward.layers] == [layer.name for layer in mnist_model.layers]
    assert [r.index for r in forward.layers] == list(range(len(mnist_model.layers)))
    previous = image
    for record, layer in zip(forward.layers, mnist_model.layers):
        assert record.layer_type == type(layer).__name__
        assert len(record.inputs) == 1
        np.testing.assert_array_equal(record.inputs[0], previous)
        np.testing.assert_allclose(record.output, keras_output_of(mnist_model, layer.output, image),
                                   rtol=RTOL, atol=ATOL)
        previous = record.output
    expected = keras.ops.convert_to_numpy(mnist_model(image[None], training=False))[0]
    np.testing.assert_allclose(forward.probabilities, expected, rtol=RTOL, atol=ATOL)
    assert forward.probabilities.shape == (10,)
    assert forward.index_of("dense_1") == 5


def test_mnist_cnn_steps_reproduce_the_forward_pass(mnist_model):
    image = np.random.default_rng(1).uniform(size=(28, 28, 1)).astype(np.float32)
    probe = ActivationProbe(mnist_model)
    forward = probe.run(image)
    kinds = [probe.steps(forward, i).kind for i in range(len(forward.layers))]
    assert kinds == ["conv", "pool", "conv", "flatten", "dense", "dense"]
    conv = probe.steps(forward, 2)
    assert isinstance(conv, ConvSteps)
    corners = [(0, 0, 0), (10, 10, 63), (5, 7, 31)]
    np.testing.assert_allclose([conv.frame(*c).output for c in corners],
                               [forward.layers[2].output[c] for c in corners], rtol=RTOL, atol=ATOL)
    dense = probe.steps(forward, 5)
    assert isinstance(dense, DenseSteps) and dense.softmax is not None
    np.testing.assert_allclose(dense.softmax.probabilities, forward.probabilities,
                               rtol=RTOL, atol=ATOL)
    with pytest.raises(ExplainError, match="has 6 layers"):
        probe.steps(forward, 6)


def test_branching_functional_model_maps_every_input_to_its_producer(branch_model):
    image = np.random.default_rng(2).normal(size=(9, 9, 2)).astype(np.float32)
    probe = ActivationProbe(branch_model)
    forward = probe.run(image)
    records = {r.name: r for r in forward.layers}
    assert list(records) == [layer.name for layer in branch_model.layers]
    for layer in branch_model.layers:
        if type(layer).__name__ != "InputLayer":
            np.testing.assert_allclose(records[layer.name].output,
                                       keras_output_of(branch_model, layer.output, image),
                                       rtol=RTOL, atol=ATOL)
    add = records["add"]
    assert len(add.inputs) == 2
    np.testing.assert_array_equal(add.inputs[0], records["wide"].output)
    np.testing.assert_array_equal(add.inputs[1], records["narrow"].output)
    np.testing.assert_array_equal(records["wide"].inputs[0], image)
    np.testing.assert_array_equal(records["narrow"].inputs[0], image)
    # the pooling reads relu * 2, a tensor no layer outputs: fetched all the same
    np.testing.assert_allclose(records["pool"].inputs[0], records["relu"].output * 2.0,
                               rtol=RTOL, atol=ATOL)
    steps = [probe.steps(forward, r.index) for r in forward.layers]
    by_name = {s.name: s for s in steps}
    assert isinstance(by_name["image"], InputSteps)
    np.testing.assert_array_equal(by_name["image"].output, image)
    assert isinstance(by_name["add"], GenericSteps) and "combines 2 inputs" in by_name["add"].note
    assert by_name["wide"].kind == "conv" and by_name["pool"].kind == "pool"
    np.testing.assert_allclose(by_name["narrow"].frame(4, 4, 2).output,
                               records["narrow"].output[4, 4, 2], rtol=RTOL, atol=ATOL)
    expected = keras.ops.convert_to_numpy(branch_model(image[None], training=False))[0]
    np.testing.assert_allclose(forward.probabilities, expected, rtol=RTOL, atol=ATOL)


def test_wrong_image_shape_says_what_was_expected(mnist_model):
    probe = ActivationProbe(mnist_model)
    with pytest.raises(ExplainError, match=r"expects an image of 28×28×1 .* got one of 32×32×3"):
        probe.run(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ExplainError, match=r"image\[\.\.\., None\]"):
        probe.run(np.zeros((28, 28), np.float32))
    with pytest.raises(ExplainError, match="not numbers"):
        probe.run(np.full((28, 28, 1), np.nan, np.float32))


def test_a_model_without_an_input_shape_is_refused():
    with pytest.raises(ExplainError, match="input size"):
        ActivationProbe(keras.Sequential([keras.layers.Dense(2)]))


def test_probe_runs_from_worker_threads(mnist_model):
    probe = ActivationProbe(mnist_model)
    images = [np.random.default_rng(seed).uniform(size=(28, 28, 1)).astype(np.float32)
              for seed in range(4)]
    expected = [probe.run(image).probabilities for image in images]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = probe.run(images[i]).probabilities

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(4):
        np.testing.assert_allclose(results[i], expected[i], rtol=RTOL, atol=ATOL)


def test_conv_kernels_are_copies_of_every_conv2d_kernel(mnist_model):
    kernels = conv_kernels(mnist_model)
    assert list(kernels) == ["conv2d", "conv2d_1"]
    assert kernels["conv2d"].shape == (3, 3, 1, 32) and kernels["conv2d_1"].shape == (3, 3, 32, 64)
    layer = mnist_model.get_layer("conv2d_1")
    np.testing.assert_array_equal(kernels["conv2d_1"], layer.kernel.numpy())
    kernels["conv2d_1"][...] = 0
    assert np.abs(layer.kernel.numpy()).sum() > 0


def test_small_vgg_batchnorm_and_dropout_steps_reproduce_the_forward_pass():
    keras.utils.set_random_seed(13)
    model = build_model(preset_spec("small_vgg_cifar10"))
    rng = np.random.default_rng(3)
    for layer in model.layers:  # moving statistics far from the fresh 0 and 1
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(0, 1, beta.shape),
                               rng.normal(0, 1, mean.shape), rng.uniform(0.5, 3, variance.shape)])
    image = rng.uniform(size=(32, 32, 3)).astype(np.float32)
    probe = ActivationProbe(model)
    forward = probe.run(image)
    kinds = [probe.steps(forward, i).kind for i in range(len(forward.layers))]
    assert kinds == (["conv", "batchnorm", "conv", "batchnorm", "pool", "dropout"] * 3
                     + ["flatten", "dense", "dropout", "dense"])
    for index, kind in enumerate(kinds):
        steps = probe.steps(forward, index)
        if kind == "batchnorm":
            np.testing.assert_allclose(steps.input * steps.scale + steps.shift, steps.output,
                                       rtol=RTOL, atol=ATOL)
        elif kind == "dropout":
            np.testing.assert_array_equal(steps.output, steps.input)
        elif kind == "conv":
            np.testing.assert_allclose(steps.frame(0, 0, 0).output, steps.output[0, 0, 0],
                                       rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------------- 1-D models

@pytest.fixture(scope="module")
def signal_model():
    """A 1-D stack with every sequence layer kind: (40, 6) signals → one sigmoid unit."""
    keras.utils.set_random_seed(14)
    return keras.Sequential([
        keras.Input((40, 6)),
        keras.layers.Conv1D(8, 3, activation="relu", name="c1"),
        keras.layers.Conv1D(8, 3, padding="causal", dilation_rate=2, name="causal"),
        keras.layers.MaxPooling1D(3, name="pool"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Conv1D(16, 5, strides=2, padding="same", activation="tanh", name="c3"),
        keras.layers.AveragePooling1D(2, padding="same", name="avg"),
        keras.layers.Dropout(0.5, name="drop"),
        keras.layers.GlobalAveragePooling1D(name="gap"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])


def test_1d_model_every_layer_is_a_steps_by_channels_map_equal_to_keras(signal_model):
    signal = np.random.default_rng(20).normal(size=(40, 6)).astype(np.float32)
    probe = ActivationProbe(signal_model)
    forward = probe.run(signal)
    assert [r.name for r in forward.layers] == [layer.name for layer in signal_model.layers]
    shapes = [r.output.shape for r in forward.layers]
    assert shapes == [(38, 8), (38, 8), (12, 8), (12, 8), (6, 16), (3, 16), (3, 16), (16,), (1,)]
    previous = signal
    for record, layer in zip(forward.layers, signal_model.layers):
        np.testing.assert_array_equal(record.inputs[0], previous)
        np.testing.assert_allclose(record.output, keras_output_of(signal_model, layer.output,
                                                                  signal), rtol=RTOL, atol=ATOL)
        previous = record.output
    expected = keras.ops.convert_to_numpy(signal_model(signal[None], training=False))[0]
    np.testing.assert_allclose(forward.probabilities, expected, rtol=RTOL, atol=ATOL)
    assert probe.input_steps(forward).input.shape == (40, 6)


def test_1d_model_steps_reproduce_every_value_of_the_forward_pass(signal_model):
    rng = np.random.default_rng(21)
    norm = signal_model.get_layer("norm")
    norm.set_weights([rng.uniform(0.5, 2, 8), rng.normal(0, 1, 8), rng.normal(0, 1, 8),
                      rng.uniform(0.5, 3, 8)])
    signal = rng.normal(size=(40, 6)).astype(np.float32)
    probe = ActivationProbe(signal_model)
    forward = probe.run(signal)
    steps = [probe.steps(forward, i) for i in range(len(forward.layers))]
    assert [s.kind for s in steps] == ["conv1d", "conv1d", "pool1d", "batchnorm", "conv1d",
                                       "pool1d", "dropout", "global_pool1d", "dense"]
    for s in steps:
        if s.kind in ("conv1d", "pool1d"):
            out_steps, count = s.output.shape
            values = [s.frame(t, k).output for t in range(out_steps) for k in range(count)]
            np.testing.assert_allclose(values, s.output.reshape(-1), rtol=RTOL, atol=ATOL)
    assert (steps[1].padding, steps[1].dilation, steps[1].pad_left) == ("causal", 2, 4)
    np.testing.assert_allclose(steps[3].input * steps[3].scale + steps[3].shift, steps[3].output,
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(steps[7].output, steps[7].input.mean(axis=0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(steps[8].frame(0).output, forward.probabilities[0], rtol=RTOL,
                               atol=ATOL)


def test_signals_and_images_given_to_the_wrong_model_say_what_was_expected(signal_model,
                                                                          mnist_model):
    with pytest.raises(ExplainError, match=r"expects a signal of 40×6 \(steps × channels\), but "
                                           r"got an image of 28×28×1"):
        ActivationProbe(signal_model).run(np.zeros((28, 28, 1), np.float32))
    with pytest.raises(ExplainError, match=r"expects an image of 28×28×1 \(height × width × "
                                           r"channels\), but got a signal of 150×1"):
        ActivationProbe(mnist_model).run(np.zeros((150, 1), np.float32))
    with pytest.raises(ExplainError, match=r"expects a signal of 40×6 .* got one of 40×5"):
        ActivationProbe(signal_model).run(np.zeros((40, 5), np.float32))
    one_channel = keras.Sequential([keras.Input((30, 1)), keras.layers.Conv1D(2, 3)])
    with pytest.raises(ExplainError, match=r"series\[:, None\]"):
        ActivationProbe(one_channel).run(np.zeros(30, np.float32))


def test_conv1d_kernels_are_copies_of_every_conv1d_kernel(signal_model):
    kernels = conv1d_kernels(signal_model)
    assert list(kernels) == ["c1", "causal", "c3"]
    assert [k.shape for k in kernels.values()] == [(3, 6, 8), (3, 8, 8), (5, 8, 16)]
    layer = signal_model.get_layer("c3")
    np.testing.assert_array_equal(kernels["c3"], layer.kernel.numpy())
    kernels["c3"][...] = 0
    assert np.abs(layer.kernel.numpy()).sum() > 0
    assert conv_kernels(signal_model) == {}


def test_the_keras_tutorials_sequence_classifier_is_explained_at_every_step():
    """The 1-D example of Keras's Sequential guide (105,729 parameters), built with Keras."""
    keras.utils.set_random_seed(15)
    model = keras.Sequential([
        keras.Input((64, 100)),
        keras.layers.Conv1D(64, 3, activation="relu"),
        keras.layers.Conv1D(64, 3, activation="relu"),
        keras.layers.MaxPooling1D(3),
        keras.layers.Conv1D(128, 3, activation="relu"),
        keras.layers.Conv1D(128, 3, activation="relu"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    assert model.count_params() == 105_729
    signal = np.random.default_rng(22).normal(size=(64, 100)).astype(np.float32)
    probe = ActivationProbe(model)
    forward = probe.run(signal)
    steps = [probe.steps(forward, i) for i in range(len(forward.layers))]
    assert [s.kind for s in steps] == ["conv1d", "conv1d", "pool1d", "conv1d", "conv1d",
                                       "global_pool1d", "dropout", "dense"]
    assert [s.output.shape for s in steps] == [(62, 64), (60, 64), (20, 64), (18, 128),
                                               (16, 128), (128,), (128,), (1,)]
    for s, layer in zip(steps, model.layers):
        np.testing.assert_allclose(s.output, keras_output_of(model, layer.output, signal),
                                   rtol=RTOL, atol=ATOL)
        if s.kind in ("conv1d", "pool1d"):
            out_steps, count = s.output.shape
            values = [s.frame(t, k).output for t in range(out_steps) for k in range(count)]
            np.testing.assert_allclose(values, s.output.reshape(-1), rtol=RTOL, atol=ATOL)
