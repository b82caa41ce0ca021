"""Grad-CAM, saliency and integrated gradients equal the textbook definitions, computed here
with a plain GradientTape on real small Keras models (2-D and 1-D; softmax inside the last
Dense and as a layer of its own), and bad requests are refused in words."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from cnnviz.core.explain.attribution import (  # noqa: E402
    Attribution, AttributionError, normalized, upsampled,
)


def image_model_softmax_in_dense() -> "keras.Model":
    keras.utils.set_random_seed(1)
    inputs = keras.Input((10, 10, 2))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv_b")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(5, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs)


def image_model_softmax_layer() -> "keras.Model":
    keras.utils.set_random_seed(2)
    return keras.Sequential([
        keras.Input((9, 9, 1)),
        keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(4, name="logits"),
        keras.layers.Softmax(name="softmax"),
    ])


def sequence_model() -> "keras.Model":
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((24, 2)),
        keras.layers.Conv1D(4, 5, activation="relu", name="conv1d_a"),
        keras.layers.Conv1D(3, 3, activation="relu", name="conv1d_b"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, name="logits"),
        keras.layers.Activation("softmax", name="probabilities"),
    ])


def dense_only_model() -> "keras.Model":
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(3, activation="softmax", name="out")])


def textbook_logits(model: "keras.Model") -> "keras.Model":
    """The model up to the class scores before the softmax, written out for each case."""
    last = model.layers[-1]
    if isinstance(last, (keras.layers.Softmax, keras.layers.Activation)):
        return keras.Model(model.inputs[0], last.input)
    features = keras.Model(model.inputs[0], last.input)
    kernel, bias = last.get_weights()
    return lambda x: tf.matmul(features(x), kernel) + bias  # type: ignore[return-value]


def some_input(model: "keras.Model", seed: int = 0) -> np.ndarray:
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def textbook_gradcam(model, image, layer_name, class_index):
    """Selvaraju et al.: alpha_k = mean over space of d y^c / d A^k; ReLU(sum_k alpha_k A^k)."""
    layer = model.get_layer(layer_name)
    last = model.layers[-1]
    maps_model = keras.Model(model.inputs[0], [layer.output, last.input])
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        maps, head_input = maps_model(x)
        if isinstance(last, (keras.layers.Softmax, keras.layers.Activation)):
            logits = head_input
        else:
            kernel, bias = last.kernel, last.bias
            logits = tf.matmul(head_input, kernel) + bias
        score = logits[0, class_index]
    grads = tape.gradient(score, maps).numpy()[0]
    maps = maps.numpy()[0]
    spatial = tuple(range(grads.ndim - 1))
    alpha = grads.mean(axis=spatial)
    return np.maximum((maps * alpha).sum(axis=-1), 0.0), float(score)


def textbook_saliency(model, image, class_index):
    """Simonyan et al.: max over channels of |d S_c / d I|."""
    logits_of = textbook_logits(model)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = logits_of(x)[0, class_index]
    return np.abs(tape.gradient(score, x).numpy()[0]).max(axis=-1), float(score)


def textbook_integrated_gradients(model, image, class_index, steps):
    """Sundararajan et al., baseline 0: x * (1/m) sum_k dF(k/m x)/dx, summed over channels."""
    logits_of = textbook_logits(model)
    total = np.zeros_like(image)
    for k in range(1, steps + 1):
        point = tf.constant((k / steps * image)[None])
        with tf.GradientTape() as tape:
            tape.watch(point)
            score = logits_of(point)[0, class_index]
        total += tape.gradient(score, point).numpy()[0]
    return (image * total / steps).sum(axis=-1)


CASES = [
    ("2-D, softmax in Dense", image_model_softmax_in_dense, ["conv_a", "conv_b"]),
    ("2-D, Softmax layer", image_model_softmax_layer, ["conv"]),
    ("1-D, Activation softmax", sequence_model, ["conv1d_a", "conv1d_b"]),
]


@pytest.mark.parametrize("name,make,conv_layers", CASES, ids=[case[0] for case in CASES])
def test_every_map_equals_the_textbook_definition(name, make, conv_layers):
    model = make()
    attribution = Attribution(model)
    assert attribution.conv_layers() == conv_layers
    image = some_input(model)
    probabilities = model(image[None]).numpy()[0]
    predicted = int(np.argmax(probabilities))
    for class_index in (None, 0, attribution.class_count - 1):
        target = predicted if class_index is None else class_index
        for layer in [None, *conv_layers]:
            result = attribution.gradcam(image, layer, class_index)
            expected, score = textbook_gradcam(model, image, layer or conv_layers[-1], target)
            assert result.layer == (layer or conv_layers[-1])
            assert result.class_index == target and result.predicted == predicted
            assert result.values.shape == expected.shape
            assert expected.max() > 0 or class_index is not None
            np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-6)
            assert result.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        saliency = attribution.saliency(image, class_index)
        expected, score = textbook_saliency(model, image, target)
        assert saliency.values.shape == image.shape[:-1]  # the input's resolution
        np.testing.assert_allclose(saliency.values, expected, rtol=1e-4, atol=1e-7)
        assert saliency.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        integrated = attribution.integrated_gradients(image, class_index, steps=8)
        expected = textbook_integrated_gradients(model, image, target, 8)
        np.testing.assert_allclose(integrated.values, expected, rtol=1e-4, atol=1e-6)
        assert integrated.steps == 8 and "zero" in integrated.baseline


def test_scores_are_taken_before_the_softmax():
    for make in (image_model_softmax_in_dense, image_model_softmax_layer, sequence_model):
        model = make()
        image = some_input(model)
        attribution = Attribution(model)
        scores = [attribution.saliency(image, k).score for k in range(attribution.class_count)]
        softmax = np.exp(scores) / np.exp(scores).sum()
        np.testing.assert_allclose(softmax, model(image[None]).numpy()[0], rtol=1e-4)
        assert max(scores) - min(scores) > 1e-3  # distinct raw scores, not one probability


def test_gradcam_at_the_layer_resolution_and_saliency_at_the_input_resolution():
    model = image_model_softmax_in_dense()
    attribution = Attribution(model)
    image = some_input(model)
    assert attribution.gradcam(image, "conv_a").values.shape == (8, 8)
    assert attribution.gradcam(image).values.shape == (6, 6)
    assert attribution.saliency(image).values.shape == (10, 10)
    one_d = Attribution(sequence_model())
    signal = some_input(one_d.model)
    assert one_d.is_sequence
    assert one_d.gradcam(signal).values.shape == (18,)
    assert one_d.saliency(signal).values.shape == (24,)


def test_integrated_gradients_add_up_to_the_score_difference():
    model = image_model_softmax_layer()
    image = some_input(model, seed=5)
    result = Attribution(model).integrated_gradients(image, 1, steps=256)
    logits_of = textbook_logits(model)
    difference = float(logits_of(image[None])[0, 1] - logits_of(np.zeros_like(image)[None])[0, 1])
    assert float(result.values.sum()) == pytest.approx(difference, rel=0.05, abs=1e-3)


def test_a_model_without_a_conv_layer_gets_words_for_gradcam_and_a_saliency_map():
    model = dense_only_model()
    attribution = Attribution(model)
    image = some_input(model)
    with pytest.raises(AttributionError, match="no convolution layer.*saliency"):
        attribution.gradcam(image)
    expected, _ = textbook_saliency(model, image, 1)
    np.testing.assert_allclose(attribution.saliency(image, 1).values, expected, rtol=1e-4,
                               atol=1e-7)


def test_bad_layer_class_and_input_are_refused_in_words():
    model = image_model_softmax_in_dense()
    attribution = Attribution(model)
    image = some_input(model)
    with pytest.raises(AttributionError, match="no layer named 'conv_z'.*conv_a, conv_b"):
        attribution.gradcam(image, "conv_z")
    with pytest.raises(AttributionError, match="flatten is a Flatten layer.*conv_a, conv_b"):
        attribution.gradcam(image, "flatten")
    for bad in (5, -1):
        with pytest.raises(AttributionError, match=f"Class {bad} does not exist.*0 to 4"):
            attribution.saliency(image, bad)
    with pytest.raises(AttributionError, match=r"shape \(10, 10\).*\(10, 10, 2\)"):
        attribution.saliency(image[..., 0])
    with pytest.raises(AttributionError, match="Unknown method"):
        attribution.compute("smoothgrad", image)


def test_the_overlay_helpers_stretch_and_scale_the_map():
    small = np.array([[0.0, 1.0], [2.0, 4.0]], np.float32)
    big = upsampled(small, (4, 4))
    assert big.shape == (4, 4)
    assert big[0, 0] == pytest.approx(0.0) and big[-1, -1] == pytest.approx(4.0)
    assert big[0, 1] == pytest.approx(0.25)  # a quarter of the way from 0 to 1
    assert upsampled(np.array([1.0, 3.0]), (4,)).tolist() == pytest.approx([1.0, 1.5, 2.5, 3.0])
    np.testing.assert_allclose(normalized(np.array([-2.0, 1.0, 0.0])), [1.0, 0.5, 0.0])
    assert normalized(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_the_lesson_says_what_the_map_does_and_does_not_mean():
    from cnnviz.core.explain.lessons import attribution_lesson

    texts = {method: attribution_lesson(method).text()
             for method in ("gradcam", "saliency", "integrated-gradients")}
    assert len(set(texts.values())) == 3
    for method, text in texts.items():
        assert "before softmax" in text and "does not show" in text
        assert 60 <= len(text.split()) <= 180, method
    assert "convolution layer" in texts["gradcam"] and "black" in texts["integrated-gradients"]


def test_the_overlay_shows_the_input_where_the_map_is_zero_and_heat_where_it_peaks():
    from cnnviz.core.explain.attribution import heat_colours, overlay_rgb

    image = np.zeros((4, 4, 1), np.float32)
    image[:, 2:] = 1.0
    values = np.zeros((2, 2), np.float32)
    values[1, 1] = 3.0
    mixed = overlay_rgb(image, values, opacity=1.0)
    assert mixed.shape == (4, 4, 3) and mixed.dtype == np.uint8
    assert mixed[0, 0].tolist() == [0, 0, 0] and mixed[0, 3].tolist() == [255, 255, 255]
    assert mixed[3, 3].tolist() == heat_colours(np.array(1.0)).tolist()
    dark, bright = heat_colours(np.array([0.0, 1.0]))
    assert int(dark.sum()) < 60 < 500 < int(bright.sum())  # less important is darker


def textbook_nested_gradcam(model, image, path, class_index):
    """Grad-CAM by hand through nested networks: the outer layers called one by one in
    eager mode; a nested network as a plain keras.Model of its own graph from its input to
    [the conv layer, its output] (deeper levels: the same, recursively); the last Dense's
    logits written out. Dropout is skipped (inference)."""
    names = path.split("/")

    def run(network, x, names, tape):
        maps = None
        for layer in network.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.layers.Dropout):
                continue
            if layer is model.layers[-1]:
                return tf.matmul(x, layer.kernel) + layer.bias, maps
            if names and layer.name == names[0] and len(names) == 1:
                x = layer(x, training=False)
                maps = x
            elif names and layer.name == names[0]:
                x, maps = run(layer, x, names[1:], tape)
            else:
                x = layer(x, training=False)
        return x, maps

    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        logits, maps = run(model, x, names, tape)
        score = logits[0, class_index]
    grads = tape.gradient(score, maps).numpy()[0]
    maps = maps.numpy()[0]
    alpha = grads.mean(axis=tuple(range(grads.ndim - 1)))
    return np.maximum((maps * alpha).sum(axis=-1), 0.0), float(score), logits.numpy()[0]


def two_level_model() -> keras.Model:
    """A Sequential inside a Functional inside the model: conv layers at both levels."""
    keras.utils.set_random_seed(6)
    inner = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(3, 3, activation="relu", name="conv")],
                             name="inner")
    middle_in = keras.Input((8, 8, 1))
    y = inner(middle_in)
    y = keras.layers.Conv2D(4, 3, activation="relu", name="conv_m")(y)
    middle = keras.Model(middle_in, y, name="middle")
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="scale")(inputs)
    x = middle(x)
    x = keras.layers.Conv2D(2, 1, activation="relu", name="conv")(x)   # the same plain name
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs)


def test_gradcam_reaches_conv_layers_two_levels_deep_and_equals_the_textbook_tape():
    model = two_level_model()
    attribution = Attribution(model)
    assert attribution.conv_layers() == ["middle/inner/conv", "middle/conv_m", "conv"]
    image = some_input(model)
    before = model.predict(image[None], verbose=0)
    for path, size in (("middle/inner/conv", 6), ("middle/conv_m", 4)):
        for class_index in (0, 2):
            expected, score, logits = textbook_nested_gradcam(model, image, path, class_index)
            result = attribution.gradcam(image, path, class_index)
            assert result.layer == path and result.values.shape == (size, size)
            np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-6)
            assert result.score == pytest.approx(score, rel=1e-5, abs=1e-6)
            assert result.predicted == int(np.argmax(logits))
    # The plain name of a nested layer is enough when no other layer has it.
    assert attribution.gradcam(image, "conv_m").layer == "middle/conv_m"
    # The model itself is untouched: same predictions, same layers.
    np.testing.assert_array_equal(model.predict(image[None], verbose=0), before)
    assert [layer.name for layer in model.layers][1:] == ["scale", "middle", "conv",
                                                            "flatten", "out"]


def test_a_plain_name_two_layers_share_and_a_nested_non_conv_layer_are_refused_in_words():
    model = two_level_model()
    attribution = Attribution(model)
    image = some_input(model)
    assert attribution.gradcam(image, "conv").layer == "conv"   # the outer one is exact
    inner = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.MaxPooling2D(name="pool")], name="base_a")
    other = keras.Sequential([keras.Input((3, 3, 2)), keras.layers.Conv2D(2, 1, name="c")],
                             name="base_b")
    twice = keras.Sequential([keras.Input((8, 8, 1)), inner, other, keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    attribution = Attribution(twice)
    with pytest.raises(AttributionError, match="base_a/c, base_b/c.*full name"):
        attribution.gradcam(some_input(twice), "c")
    with pytest.raises(AttributionError, match="base_a/pool is a MaxPooling2D.*base_a/c"):
        attribution.gradcam(some_input(twice), "pool")
    assert attribution.gradcam(some_input(twice), "base_b/c").values.shape == (3, 3)


def test_a_transfer_model_on_a_sample_base_gets_gradcam_at_every_base_conv_layer():
    from pathlib import Path

    from cnnviz.core.transfer.bases import open_base
    from cnnviz.core.transfer.transfer_model import build_transfer_model

    keras.utils.set_random_seed(7)
    sample = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"
    transfer = build_transfer_model(open_base(sample), (28, 28, 1), 3, head_units=8)
    model = transfer.model
    attribution = Attribution(model)
    assert attribution.conv_layers() == ["frozen_base/conv2d", "frozen_base/conv2d_1"]
    assert attribution.default_layer() == "frozen_base/conv2d_1"
    image = some_input(model, seed=3)
    before = model.predict(image[None], verbose=0)
    for path in attribution.conv_layers():
        expected, score, _ = textbook_nested_gradcam(model, image, path, 1)
        result = attribution.gradcam(image, path, 1)
        np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-6)
        assert result.score == pytest.approx(score, rel=1e-5, abs=1e-6)
        assert float(result.values.max()) > 0   # a map with something in it
    np.testing.assert_array_equal(model.predict(image[None], verbose=0), before)


def test_mobilenet_v2_with_random_weights_gets_gradcam_inside_its_graph():
    """A base whose graph branches (residual adds): the map at an inner layer equals a tape
    through a plain sub-model of the base to that layer and its output."""
    from cnnviz.core.transfer.bases import open_base
    from cnnviz.core.transfer.transfer_model import build_transfer_model

    keras.utils.set_random_seed(8)
    base = open_base("mobilenet_v2", weights="random", input_shape=(32, 32, 3))
    transfer = build_transfer_model(base, (32, 32, 3), 3, head_units=0)
    model, part = transfer.model, transfer.base_part
    attribution = Attribution(model)
    assert "frozen_base/block_3_project" in attribution.conv_layers()
    image = some_input(model, seed=4)
    before = model.predict(image[None], verbose=0)
    result = attribution.gradcam(image, "block_3_project", 2)
    inner = keras.Model(part.inputs, [part.get_layer("block_3_project").output, part.outputs[0]])
    last = model.layers[-1]
    with tf.GradientTape() as tape:
        x = tf.constant(image[None])
        for layer in model.layers[1:]:
            if layer is part:
                maps, x = inner(x, training=False)
            elif layer is last:
                x = tf.matmul(x, last.kernel) + last.bias
            elif not isinstance(layer, keras.layers.Dropout):
                x = layer(x, training=False)
        score = x[0, 2]
    grads = tape.gradient(score, maps).numpy()[0]
    expected = np.maximum((maps.numpy()[0] * grads.mean(axis=(0, 1))).sum(axis=-1), 0.0)
    assert result.layer == "frozen_base/block_3_project" and result.values.shape == (4, 4)
    np.testing.assert_allclose(result.values, expected, rtol=1e-3, atol=1e-6 * float(
        np.abs(expected).max() + 1))
    assert result.score == pytest.approx(float(score), rel=1e-4)
    np.testing.assert_array_equal(model.predict(image[None], verbose=0), before)
