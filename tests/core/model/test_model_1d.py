"""1-D models: sequence specs in JSON, their plain-language refusals, Keras both ways and the
exported script. (Shapes and parameter counts against Keras: test_shapes_vs_keras.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.errors import SpecError, UnsupportedLayerError
from cnnviz.core.model.builder import build_model, summarize_keras_model
from cnnviz.core.model.codegen import export_python
from cnnviz.core.model.layer_text import layer_summary
from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec, load_spec, save_spec
from cnnviz.core.model.spec_edits import set_input_shape, set_param
from cnnviz.core.model.spec_from_keras import model_to_spec, unsupported_layers
from tests.core.model.stack_generator import random_stacks_1d
from tests.core.model.test_builder import canonical

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def signal_spec() -> ModelSpec:
    return ModelSpec((40, 3), [
        LayerSpec.make("Conv1D", filters=6, kernel_size=5, padding="causal", dilation_rate=2,
                       activation="relu", kernel_regularizer={"l1": 0.0, "l2": 0.01}),
        LayerSpec.make("MaxPooling1D", pool_size=3, strides=2, padding="same"),
        LayerSpec.make("Conv1D", filters=4, kernel_size=4, strides=3, use_bias=False),
        LayerSpec.make("BatchNormalization"),
        LayerSpec.make("AveragePooling1D", pool_size=2, name="smooth"),
        LayerSpec.make("Dense", units=5, activation="tanh"),  # per step, as in Keras
        LayerSpec.make("GlobalMaxPooling1D"),
        LayerSpec.make("Dense", units=3, activation="softmax"),
    ], name="signals")


def error_of(spec: ModelSpec) -> str:
    message = analyze(spec).error_message()
    assert message is not None
    return message


# ---------------------------------------------------------------- the spec


def test_sequence_spec_round_trips_through_json(tmp_path) -> None:
    spec = signal_spec()
    path = tmp_path / "signals.json"
    save_spec(spec, path)
    back = load_spec(path)
    assert back == spec and back.input_shape == (40, 3)
    data = back.to_dict()
    assert data["input_shape"] == [40, 3]
    conv = data["layers"][0]["params"]
    assert (conv["kernel_size"], conv["strides"], conv["dilation_rate"], conv["padding"]) == (
        5, 1, 2, "causal")  # single numbers, as Keras writes kernel_size=5
    assert data["layers"][1]["params"]["strides"] == 2
    assert data["layers"][4]["params"]["strides"] is None  # the pool size (Keras's default)


def test_keras_one_element_lists_are_accepted_as_numbers() -> None:
    spec = ModelSpec.from_dict({"input_shape": [30, 2], "layers": [
        {"type": "Conv1D", "params": {"filters": 4, "kernel_size": [3], "strides": [2]}},
        {"type": "MaxPooling1D", "params": {"pool_size": [2], "strides": None}}]})
    assert spec.layers[0].params["kernel_size"] == 3 and spec.layers[0].params["strides"] == 2
    assert spec.layers[1].params["pool_size"] == 2
    assert analyze(spec).output_shape == (7, 4)


@pytest.mark.parametrize("params, words", [
    ({"kernel_size": [3, 3]}, "'kernel_size' must be a whole number from 1 to 64, like 3"),
    ({"kernel_size": 0}, "'kernel_size' must be a whole number from 1 to 64"),
    ({"strides": 0}, "'strides' of 0 would never move the window"),
    ({"dilation_rate": 65}, "'dilation_rate' must be a whole number from 1 to 64"),
    ({"padding": "full"}, "one of 'valid', 'same', 'causal'"),
])
def test_out_of_range_conv1d_values(params: dict, words: str) -> None:
    with pytest.raises(SpecError, match="Layer 1 \\(Conv1D\\)") as info:
        ModelSpec.from_dict({"input_shape": [30, 1], "layers": [
            {"type": "Conv1D", "params": params}]})
    assert words in str(info.value)


@pytest.mark.parametrize("layer_type", ["Conv2D", "MaxPooling1D", "AveragePooling2D"])
def test_causal_padding_is_for_conv1d_only(layer_type: str) -> None:
    shape = [30, 1] if layer_type.endswith("1D") else [8, 8, 1]
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({"input_shape": shape, "layers": [
            {"type": layer_type, "params": {"padding": "causal"}}]})
    assert str(info.value) == (f"Layer 1 ({layer_type}): 'causal' padding is for Conv1D only "
                               f"(it pads the start of a sequence). Use 'valid' or 'same'.")


def test_a_kernel_longer_than_the_sequence() -> None:
    spec = ModelSpec((3, 2), [LayerSpec.make("Conv1D", kernel_size=5)])
    assert error_of(spec) == (
        "Layer 1 (Conv1D 'conv1d'): a kernel of 5 on a sequence of 3 steps leaves nothing. "
        "Use padding='same' or 'causal', or a smaller kernel.")
    for padding in ("same", "causal"):  # both pad, so Keras keeps the 3 steps
        fine = set_param(spec, 0, "padding", padding)
        assert analyze(fine).output_shape == (3, 32)
    dilated = ModelSpec((4, 1), [LayerSpec.make("Conv1D", kernel_size=3, dilation_rate=2)])
    assert "a kernel of 3 with dilation 2 spans 5 steps, more than the sequence of 4 steps" in (
        error_of(dilated))
    one_step = ModelSpec((1, 1), [LayerSpec.make("MaxPooling1D")])
    assert "a pool window of 2 on a sequence of 1 step leaves nothing" in error_of(one_step)


def test_mixed_stacks_are_refused_in_plain_words() -> None:
    on_image = ModelSpec((28, 28, 1), [LayerSpec.make("Conv1D")])
    assert error_of(on_image) == (
        "Layer 1 (Conv1D 'conv1d'): Conv1D needs a sequence (steps × channels), but it gets an "
        "image-shaped volume of 28×28×1. Use Conv2D for images, or make the input a sequence "
        "(steps × channels).")
    on_signal = ModelSpec((150, 1), [LayerSpec.make("Conv1D", padding="same"),
                                     LayerSpec.make("MaxPooling2D")])
    assert error_of(on_signal) == (
        "Layer 2 (MaxPooling2D 'max_pooling2d'): MaxPooling2D needs an image (height × width × "
        "channels), but it gets a sequence of 150 steps × 32 channels. Use MaxPooling1D for "
        "sequences, or make the input an image (height × width × channels).")
    after_flatten = ModelSpec((150, 1), [LayerSpec.make("Flatten"),
                                         LayerSpec.make("GlobalAveragePooling1D")])
    assert ("GlobalAveragePooling1D needs a sequence (steps × channels), but it gets a flat "
            "vector of 150 values. Move it before the Flatten") in error_of(after_flatten)


def test_strides_and_dilation_together_are_refused_as_keras_does() -> None:
    spec = ModelSpec((20, 1), [LayerSpec.make("Conv1D", strides=2, dilation_rate=2)])
    assert "strides of 2 with a dilation of 2: Keras cannot do both in one layer" in error_of(spec)
    with pytest.raises(SpecError, match="cannot do both"):
        build_model(spec)


def test_switching_the_input_between_image_and_sequence() -> None:
    spec = set_input_shape(preset_spec("mnist_cnn"), (150, 1))
    assert spec.input_shape == (150, 1)
    assert "Conv2D needs an image" in error_of(spec)
    back = set_input_shape(spec, (28, 28, 1))
    assert back == preset_spec("mnist_cnn")
    with pytest.raises(SpecError, match="steps must be from 1"):
        set_input_shape(spec, (0, 1))


def test_layer_summaries_use_single_numbers() -> None:
    spec = signal_spec()
    assert layer_summary(spec.layers[0]) == "6 filters 5, dilation 2, padding causal, relu, " \
                                            "regularised"
    assert layer_summary(spec.layers[1]) == "3, stride 2, padding same"
    assert layer_summary(spec.layers[2]) == "4 filters 4, stride 3, no bias"
    assert layer_summary(LayerSpec.new("Conv1D")) == "32 filters 3, relu"


# ---------------------------------------------------------------- Keras both ways


def test_random_1d_stacks_round_trip_through_keras() -> None:
    import keras

    for number, (spec, _) in enumerate(random_stacks_1d(seed=3, count=60)):
        if number % 20 == 0:
            keras.backend.clear_session()
        model = build_model(spec)
        assert unsupported_layers(model) == [], spec.name
        back = model_to_spec(model)
        assert back == canonical(spec), spec.name


def test_a_keras_sequence_model_becomes_an_identical_spec() -> None:
    import keras
    from keras import layers

    inputs = keras.Input((50, 2), name="signal")
    x = layers.Conv1D(8, 5, padding="causal", dilation_rate=2, name="causal")(inputs)
    x = layers.ReLU(name="relu")(x)
    x = layers.MaxPooling1D(3, name="pool")(x)
    x = layers.Conv1D(6, (3,), strides=(2,), activation="elu", name="strided",
                      kernel_regularizer=keras.regularizers.L2(0.001))(x)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    outputs = layers.Dense(3, activation="softmax", name="scores")(x)
    original = keras.Model(inputs, outputs, name="seq")

    spec = model_to_spec(original)
    assert spec.input_shape == (50, 2)
    assert [(x.type, x.name) for x in spec.layers] == [
        ("Conv1D", "causal"), ("Activation", "relu"), ("MaxPooling1D", "pool"),
        ("Conv1D", "strided"), ("BatchNormalization", "norm"),
        ("GlobalAveragePooling1D", "gap"), ("Dense", "scores")]
    assert spec.layers[0].params["dilation_rate"] == 2
    assert spec.layers[2].params["strides"] is None
    assert spec.layers[3].params["kernel_regularizer"] == {"l1": 0.0, "l2": 0.001}
    summary = summarize_keras_model(original)
    report = analyze(spec)
    assert [r.output_shape for r in report.layers] == [r.output_shape for r in summary.layers]
    assert report.total_params == summary.total_params == original.count_params()

    rebuilt = build_model(spec)
    rebuilt.set_weights(original.get_weights())
    signals = np.random.default_rng(1).normal(size=(4, 50, 2)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict(signals, verbose=0),
                               original.predict(signals, verbose=0), rtol=1e-6, atol=1e-6)


def test_keras_sequence_models_a_spec_cannot_hold_are_refused() -> None:
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((32, 4)),
        layers.Conv1D(4, 3, groups=2, name="grouped"),
        layers.Conv1D(4, 3, name="fine"),
        layers.GlobalMaxPooling1D(keepdims=True, name="kept"),
        layers.Flatten(),
        layers.Dense(2),
    ], name="odd_signals")
    problems = {name: (kind, why) for name, kind, why in unsupported_layers(model)}
    assert set(problems) == {"grouped", "kept"}
    assert "2 groups" in problems["grouped"][1]
    assert "keepdims=True" in problems["kept"][1]
    with pytest.raises(UnsupportedLayerError, match="2 parts"):
        model_to_spec(model)

    any_length = keras.Sequential([keras.Input((None, 3)), layers.Conv1D(2, 3),
                                   layers.GlobalAveragePooling1D()])
    problems = unsupported_layers(any_length)
    assert problems[0][1] == "InputLayer" and "(steps, channels) sequence" in problems[0][2]
    assert all("varying size" in why for _, _, why in problems[1:])


# ---------------------------------------------------------------- exported Python


def test_export_of_the_keras_guide_example_reads_like_the_guide() -> None:
    script = export_python(preset_spec("keras_sequence_1d"), optimizer="rmsprop")
    assert "        keras.Input(shape=(64, 100)),\n" in script
    assert 'layers.Conv1D(64, 3, activation="relu", name="conv1d"),' in script
    assert 'layers.MaxPooling1D(3, name="max_pooling1d"),' in script
    assert 'layers.GlobalAveragePooling1D(name="global_average_pooling1d"),' in script
    assert 'layers.Dense(1, activation="sigmoid", name="dense"),' in script
    assert 'optimizer="rmsprop"' in script and 'loss="binary_crossentropy"' in script
    assert "(N, steps, channels) = (N, 64, 100)" in script and "labels 0 or 1" in script
    assert "images" not in script
    causal = export_python(signal_spec())
    assert ('        layers.Conv1D(\n            6,\n            5,\n'
            '            padding="causal",\n            dilation_rate=2,\n' in causal)
    assert "layers.MaxPooling1D(3, strides=2, padding=\"same\"" in causal
