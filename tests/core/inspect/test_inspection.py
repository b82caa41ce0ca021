"""inspect_model and weight_stats against Keras's own numbers, on chains, branching graphs and
models the explainer or the evaluation cannot use."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.model.builder import build_model
from cnnviz.core.errors import ModelFileError
from cnnviz.core.inspect.inspection import (
    LayerInfo, ModelInfo, WeightStats, inspect_model, weight_stats,
)
from cnnviz.core.inspect.model_files import open_model
from cnnviz.core.model.presets import preset_spec

KERAS2 = Path(__file__).resolve().parents[2] / "data" / "keras2"

pytestmark = [
    pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning"),
]


def count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def branching_model():
    """image → left, right → Add → Concatenate(with left) → pooled → Dense softmax."""
    import keras
    from keras import layers

    image = keras.Input((8, 8, 3), name="image")
    left = layers.Conv2D(4, 3, padding="same", activation="relu", name="left")(image)
    right = layers.Conv2D(4, 1, name="right")(image)
    added = layers.Add(name="added")([left, right])
    normed = layers.BatchNormalization(name="normed")(added)
    joined = layers.Concatenate(name="joined")([normed, left])
    pooled = layers.GlobalAveragePooling2D(name="pooled")(joined)
    dropped = layers.Dropout(0.5, name="dropped")(pooled)
    scores = layers.Dense(5, name="scores")(dropped)
    probabilities = layers.Softmax(name="probabilities")(scores)
    return keras.Model(image, probabilities, name="branches")


def test_mnist_cnn_equals_keras_counts_per_layer() -> None:
    model = build_model(preset_spec("mnist_cnn"))
    info = inspect_model(model)
    assert isinstance(info, ModelInfo) and all(isinstance(r, LayerInfo) for r in info.layers)
    assert [row.name for row in info.layers] == [layer.name for layer in model.layers]
    for row, layer in zip(info.layers, model.layers):
        assert row.layer_type == type(layer).__name__
        assert row.output_shape == tuple(layer.output.shape[1:])
        assert row.params == layer.count_params()
        assert row.trainable_params == count(layer.trainable_weights)
    assert [row.activation for row in info.layers] == [
        "relu", None, "relu", None, "relu", "softmax"]
    assert info.total_params == model.count_params() == 515_146
    assert (info.trainable_params, info.non_trainable_params) == (515_146, 0)
    assert info.input_shapes == [(28, 28, 1)] and info.output_shapes == [(10,)]
    # A Sequential lists no InputLayer row; its first layer is fed by the input.
    assert info.layers[0].inbound == info.input_names and len(info.input_names) == 1
    assert [row.inbound for row in info.layers[1:]] == [[row.name] for row in info.layers[:-1]]
    assert info.is_chain
    assert (info.explain_problem, info.evaluate_problem, info.num_classes) == (None, None, 10)
    assert info.output_activation == "softmax"


def test_frozen_and_batchnorm_layers_split_trainable_like_keras() -> None:
    model = build_model(preset_spec("small_vgg_cifar10"))
    model.layers[0].trainable = False
    info = inspect_model(model)
    for row, layer in zip(info.layers, model.layers):
        assert row.trainable_params == count(layer.trainable_weights), row.name
        assert row.non_trainable_params == count(layer.non_trainable_weights), row.name
    assert info.layers[0].trainable_params == 0 and info.layers[0].params > 0
    assert info.trainable_params == count(model.trainable_weights)
    assert info.non_trainable_params == count(model.non_trainable_weights) > 0
    assert info.total_params == model.count_params()


def test_branching_model_in_topological_order_with_inbound_layers() -> None:
    model = branching_model()
    info = inspect_model(model)
    rows = {row.name: row for row in info.layers}
    assert [row.name for row in info.layers][0] == "image"
    assert {name: row.inbound for name, row in rows.items()} == {
        "image": [], "left": ["image"], "right": ["image"], "added": ["left", "right"],
        "normed": ["added"], "joined": ["normed", "left"], "pooled": ["joined"],
        "dropped": ["pooled"], "scores": ["dropped"], "probabilities": ["scores"]}
    position = {row.name: i for i, row in enumerate(info.layers)}
    for row in info.layers:  # every layer comes after the layers feeding it
        assert all(position[source] < position[row.name] for source in row.inbound)
    assert rows["image"].layer_type == "InputLayer" and rows["image"].output_shape == (8, 8, 3)
    assert rows["joined"].output_shape == (8, 8, 8) and rows["added"].output_shape == (8, 8, 4)
    assert rows["probabilities"].activation == "softmax" and rows["left"].activation == "relu"
    for row in info.layers:
        layer = model.get_layer(row.name)
        assert row.params == layer.count_params()
        assert row.output_shape == tuple(layer.output.shape[1:])
    assert not info.is_chain
    assert info.output_names == ["probabilities"]
    # Softmax after Dense, seen through the layer graph: a 5-class classifier.
    assert (info.explain_problem, info.evaluate_problem, info.num_classes) == (None, None, 5)


def test_shared_layer_lists_all_its_inputs_and_no_single_shape() -> None:
    import keras
    from keras import layers

    small, large = keras.Input((4, 4, 2), name="small"), keras.Input((6, 6, 2), name="large")
    shared = layers.Conv2D(3, 3, name="shared")
    pooled = [layers.GlobalMaxPooling2D(name=f"pool_{i}")(shared(x))
              for i, x in enumerate((small, large))]
    model = keras.Model([small, large], layers.Add(name="sum")(pooled))
    info = inspect_model(model)
    row = next(r for r in info.layers if r.name == "shared")
    assert row.inbound == ["small", "large"] and row.output_shape is None
    assert row.params == 3 * 3 * 2 * 3 + 3
    assert not info.is_chain


def test_functional_chain_is_a_chain() -> None:
    import keras
    from keras import layers

    image = keras.Input((5, 5, 1), name="pixels")
    x = layers.Conv2D(2, 3, name="conv")(image)
    x = layers.Flatten(name="flat")(x)
    model = keras.Model(image, layers.Dense(1, activation="sigmoid", name="yes_no")(x))
    info = inspect_model(model)
    assert [(r.name, r.inbound) for r in info.layers] == [
        ("pixels", []), ("conv", ["pixels"]), ("flat", ["conv"]), ("yes_no", ["flat"])]
    assert info.is_chain
    # One sigmoid unit: a two-class (yes/no) classifier.
    assert (info.evaluate_problem, info.num_classes) == (None, 2)


def test_two_inputs_and_non_image_inputs_cannot_be_explained() -> None:
    import keras
    from keras import layers

    image, extra = keras.Input((6, 6, 1), name="image"), keras.Input((3,), name="extra")
    merged = layers.Concatenate(name="merged")([layers.Flatten(name="flat")(image), extra])
    two_inputs = keras.Model([image, extra], layers.Dense(4, activation="softmax")(merged))
    info = inspect_model(two_inputs)
    assert "2 inputs" in info.explain_problem
    assert info.input_shapes == [(6, 6, 1), (3,)] and info.input_names == ["image", "extra"]
    assert next(r for r in info.layers if r.name == "merged").inbound == ["flat", "extra"]
    assert info.evaluate_problem is None  # still a classifier

    vector = keras.Sequential([keras.Input((20,)), layers.Dense(3, activation="softmax")])
    assert "not an image" in inspect_model(vector).explain_problem
    assert "20 numbers" in inspect_model(vector).explain_problem
    any_size = keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(2, 3),
                                 layers.GlobalAveragePooling2D(),
                                 layers.Dense(2, activation="softmax")])
    assert "any size" in inspect_model(any_size).explain_problem


@pytest.mark.parametrize("units, activation, problem, classes", [
    (1, None, "single number", None),
    (1, "sigmoid", None, 2),
    (10, "softmax", None, 10),
    (10, None, None, 10),        # logits (TensorFlow's tutorials): output_activation "linear"
    (4, "sigmoid", "own sigmoid", None),
    (4, "tanh", "last activation is tanh", None),
])
def test_classifier_outputs(units: int, activation: str | None, problem: str | None,
                            classes: int | None) -> None:
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((4, 4, 1)), layers.Flatten(),
                              layers.Dense(units, activation=activation)])
    info = inspect_model(model)
    assert info.num_classes == classes
    if problem is None:
        assert info.evaluate_problem is None
    else:
        assert problem in info.evaluate_problem
    assert info.output_activation == (activation or "linear")
    assert info.explain_problem is None


def test_two_outputs_and_image_outputs_cannot_be_evaluated() -> None:
    import keras
    from keras import layers

    image = keras.Input((8, 8, 1), name="image")
    flat = layers.Flatten()(image)
    two = keras.Model(image, [layers.Dense(3, activation="softmax", name="kind")(flat),
                              layers.Dense(1, name="size")(flat)])
    info = inspect_model(two)
    assert "2 outputs" in info.evaluate_problem and info.num_classes is None
    assert info.output_shapes == [(3,), (1,)] and info.output_names == ["kind", "size"]
    mask = keras.Model(image, layers.Conv2D(2, 1, activation="softmax")(image))
    assert "8 × 8 × 2" in inspect_model(mask).evaluate_problem


def test_nested_model_is_one_row() -> None:
    import keras
    from keras import layers

    block = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.Flatten()],
                             name="block")
    image = keras.Input((6, 6, 1), name="image")
    model = keras.Model(image, layers.Dense(3, activation="softmax", name="out")(block(image)))
    info = inspect_model(model)
    assert [(r.name, r.layer_type, r.inbound) for r in info.layers] == [
        ("image", "InputLayer", []), ("block", "Sequential", ["image"]),
        ("out", "Dense", ["block"])]
    assert info.layers[1].params == block.count_params() and info.layers[1].output_shape == (32,)
    assert info.total_params == model.count_params()


def test_keras2_file_is_inspected_with_its_graph() -> None:
    info = inspect_model(open_model(KERAS2 / "functional_cnn.h5").model)
    assert [(r.name, r.inbound) for r in info.layers] == [
        ("image", []), ("left", ["image"]), ("right", ["image"]), ("added", ["left", "right"]),
        ("joined", ["added", "left"]), ("pooled", ["joined"]), ("scores", ["pooled"]),
        ("probabilities", ["scores"])]
    assert (info.num_classes, info.evaluate_problem, info.explain_problem) == (3, None, None)
    sequential = inspect_model(open_model(KERAS2 / "sequential_cnn.h5").model)
    assert sequential.is_chain and [r.name for r in sequential.layers] == [
        "conv", "norm", "pool", "flat", "drop", "probabilities"]


def test_inspect_model_never_reads_weight_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    model = branching_model()

    def refuse(*args, **kwargs):
        raise AssertionError("inspect_model read a weight value")

    for name in ("numpy", "__array__", "value"):
        monkeypatch.setattr(keras.Variable, name, property(refuse) if name == "value"
                            else refuse)
    info = inspect_model(model)
    assert info.total_params == model.count_params()


def test_unbuilt_model_is_refused() -> None:
    import keras

    with pytest.raises(ModelFileError, match="no input shape"):
        inspect_model(keras.Sequential([keras.layers.Dense(2)]))


# ---------------------------------------------------------------- weights


def test_weight_stats_equal_numpy() -> None:
    model = branching_model()
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.weights])
    left = weight_stats(model.get_layer("left"), bins=7)
    assert [(s.layer, s.name, s.shape, s.count) for s in left] == [
        ("left", "kernel", (3, 3, 3, 4), 108), ("left", "bias", (4,), 4)]
    for stats, weight in zip(left, model.get_layer("left").weights):
        values = weight.numpy().astype(np.float64)
        assert isinstance(stats, WeightStats)
        assert stats.min == values.min() and stats.max == values.max()
        assert stats.mean == pytest.approx(values.mean(), rel=1e-12)
        assert stats.std == pytest.approx(values.std(), rel=1e-12)
        histogram, edges = np.histogram(values, bins=7)
        np.testing.assert_array_equal(stats.histogram, histogram)
        np.testing.assert_allclose(stats.bin_edges, edges)
        assert stats.histogram.sum() == stats.count and stats.nonfinite == 0

    normed = weight_stats(model.get_layer("normed"))
    assert [(s.name, s.trainable) for s in normed] == [
        ("gamma", True), ("beta", True), ("moving_mean", False), ("moving_variance", False)]
    assert all(len(s.histogram) == 40 and len(s.bin_edges) == 41 for s in normed)
    assert weight_stats(model.get_layer("added")) == []


def test_weight_stats_leave_out_values_that_are_not_numbers() -> None:
    import keras

    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    kernel = np.arange(6, dtype="float32").reshape(2, 3)
    kernel[0, 0], kernel[1, 2] = np.nan, np.inf
    layer.kernel.assign(kernel)
    stats = weight_stats(layer, bins=4)[0]
    assert stats.nonfinite == 2 and stats.count == 6 and stats.histogram.sum() == 4
    assert (stats.min, stats.max, stats.mean) == (1.0, 4.0, 2.5)
    constant = weight_stats(layer, bins=4)[1]  # a zero bias: one value, still a histogram
    assert (constant.min, constant.max, constant.std) == (0.0, 0.0, 0.0)
    assert constant.histogram.sum() == 3
