"""Spec ⇄ Keras conversion, model files, summaries of any model, and the exported script."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.model.builder import build_model, load_model_file, summarize_keras_model
from cnnviz.core.model.codegen import export_python
from cnnviz.core.model.spec_from_keras import model_to_spec, unsupported_layers
from cnnviz.core.errors import (
    CnnvizError, ModelFileError, SpecError, UnsupportedLayerError, UntrustedModelError,
)
from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from tests.core.model.stack_generator import random_stacks, random_stacks_1d

# Keras's own saving code trips a NumPy 2 notice; it is not ours and changes nothing.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def canonical(spec: ModelSpec) -> ModelSpec:
    """The spec as it comes back from Keras: pooling strides equal to the pool size are the
    default, which Keras stores explicitly and cnnviz writes as null."""
    out = spec.copy()
    for layer in out.layers:
        if layer.params.get("strides") is not None and layer.params.get("pool_size") == \
                layer.params["strides"]:
            layer.params["strides"] = None
    return out


def sigmoid_spec() -> ModelSpec:
    """Two classes as one sigmoid unit, with the layers the builder adds (relu written out)."""
    return ModelSpec((16, 16, 3), [
        LayerSpec.new("Conv2D"), LayerSpec.new("MaxPooling2D"), LayerSpec.new("Flatten"),
        LayerSpec.new("Dense"), LayerSpec.make("Dense", units=1, activation="sigmoid"),
    ], name="two_classes")


def regularized_spec() -> ModelSpec:
    return ModelSpec((12, 10, 2), [
        LayerSpec.make("Conv2D", filters=3, kernel_size=[4, 2], strides=[2, 1], padding="same",
                       use_bias=False, kernel_regularizer={"l1": 0.01, "l2": 0.0}),
        LayerSpec.make("AveragePooling2D", pool_size=[3, 2], strides=[1, 2]),
        LayerSpec.make("BatchNormalization", momentum=0.9, epsilon=1e-5),
        LayerSpec.make("Conv2D", filters=2, kernel_regularizer={"l1": 0.0, "l2": 0.02},
                       activation="elu"),
        LayerSpec.make("GlobalMaxPooling2D", name="pool"),
        LayerSpec.make("Dropout", rate=0.1),
        LayerSpec.make("Dense", units=4, kernel_regularizer={"l1": 0.001, "l2": 0.002},
                       name="sortie_é"),
    ], name="régularisé \"v2\"")


# ---------------------------------------------------------------- spec → Keras


def test_build_model_uses_spec_names_and_keras_classes() -> None:
    spec = preset_spec("mnist_cnn")
    model = build_model(spec)
    assert model.name == "mnist_cnn"
    assert [layer.name for layer in model.layers] == spec.layer_names()
    assert [type(layer).__name__ for layer in model.layers] == [x.type for x in spec.layers]
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1)
    assert model.count_params() == 515_146


def test_regularizers_become_the_simplest_keras_class() -> None:
    import keras

    model = build_model(regularized_spec())
    l1, l2, both = (model.get_layer(n).kernel_regularizer for n in ("conv2d", "conv2d_1",
                                                                     "sortie_é"))
    assert type(l1) is keras.regularizers.L1 and float(l1.l1) == pytest.approx(0.01)
    assert type(l2) is keras.regularizers.L2 and float(l2.l2) == pytest.approx(0.02)
    assert type(both) is keras.regularizers.L1L2
    assert (both.l1, both.l2) == pytest.approx((0.001, 0.002))
    # Regularised models really add their penalty to the loss.
    assert len(model.losses) == 3


def test_invalid_spec_gives_the_editor_message_not_a_keras_traceback() -> None:
    spec = ModelSpec((8, 8, 1), [LayerSpec.make("Conv2D"), LayerSpec.make("Dense", units=2)])
    with pytest.raises(SpecError) as info:
        build_model(spec)
    assert str(info.value) == analyze(spec).error_message()
    assert "Add a Flatten" in str(info.value)


# ---------------------------------------------------------------- Keras → spec


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_round_trip(key: str) -> None:
    spec = preset_spec(key)
    assert model_to_spec(build_model(spec)) == spec


def test_random_stacks_round_trip() -> None:
    import keras

    for number, (spec, _) in enumerate(random_stacks(seed=7, count=60)):
        if number % 20 == 0:
            keras.backend.clear_session()
        model = build_model(spec)
        assert unsupported_layers(model) == [], spec.name
        back = model_to_spec(model)
        assert back == canonical(spec), spec.name
        assert back.layer_names() == spec.layer_names()


def test_functional_chain_with_activation_layers_is_numerically_identical() -> None:
    import keras
    from keras import layers

    inputs = keras.Input((10, 9, 2), name="picture")
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    x = layers.ReLU(name="relu")(x)
    x = layers.MaxPooling2D(2, strides=1, name="pool")(x)
    x = layers.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(6, name="scores")(x)
    x = layers.ELU(name="elu")(x)
    x = layers.Dense(3, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    original = keras.Model(inputs, outputs, name="chain")

    spec = model_to_spec(original)
    assert spec.input_shape == (10, 9, 2)
    assert [(x.type, x.name) for x in spec.layers] == [
        ("Conv2D", "conv"), ("Activation", "relu"), ("MaxPooling2D", "pool"),
        ("Activation", "leaky"), ("Flatten", "flat"), ("Dense", "scores"),
        ("Activation", "elu"), ("Dense", "logits"), ("Activation", "probabilities")]
    assert [x.params["activation"] for x in spec.layers if x.type == "Activation"] == [
        "relu", "leaky_relu", "elu", "softmax"]
    assert spec.layers[2].params["strides"] == [1, 1]

    rebuilt = build_model(spec)
    rebuilt.set_weights(original.get_weights())
    images = np.random.default_rng(0).normal(size=(5, 10, 9, 2)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict(images, verbose=0),
                               original.predict(images, verbose=0), rtol=1e-6, atol=1e-6)


def test_unsupported_layers_are_all_named_with_reasons() -> None:
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((16, 16, 3)),
        layers.Conv2D(4, 3, dilation_rate=2, name="dilated"),
        layers.Conv2D(4, 3, name="fine"),
        layers.Lambda(lambda t: t * 2.0, name="double"),
        layers.LeakyReLU(name="leaky"),  # slope 0.3, unlike the 'leaky_relu' function's 0.2
        layers.Flatten(name="flat"),
        layers.Dense(8, bias_regularizer=keras.regularizers.L2(0.1), name="biased"),
        layers.Dense(4, activation="gelu", name="gelu_head"),
        layers.Dense(2, name="frozen", trainable=False),  # a frozen layer is supported
    ], name="odd")
    problems = {name: (kind, why) for name, kind, why in unsupported_layers(model)}
    assert set(problems) == {"dilated", "double", "leaky", "biased", "gelu_head"}
    assert problems["dilated"] == ("Conv2D", "has dilation_rate [2, 2]; cnnviz convolutions "
                                             "are not dilated")
    assert problems["double"][0] == "Lambda" and "Python code" in problems["double"][1]
    assert "0.3" in problems["leaky"][1]
    assert "bias regulariser" in problems["biased"][1]
    assert "'gelu'" in problems["gelu_head"][1]

    with pytest.raises(UnsupportedLayerError) as info:
        model_to_spec(model)
    message = str(info.value)
    assert "5 parts cannot be represented" in message
    for name, (kind, _) in problems.items():
        assert f"'{name}' ({kind})" in message
    assert "'fine'" not in message and "'flat'" not in message and "'frozen'" not in message


def test_branching_functional_model_is_refused_naming_the_fork_and_the_join() -> None:
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1), name="image")
    left = layers.Conv2D(2, 3, name="left")(inputs)
    right = layers.Conv2D(2, 3, name="right")(inputs)
    joined = layers.Add(name="join")([left, right])
    outputs = layers.Dense(2, name="head")(layers.Flatten(name="flat")(joined))
    model = keras.Model(inputs, outputs)
    problems = {name: (kind, why) for name, kind, why in unsupported_layers(model)}
    assert set(problems) == {"image", "join"}
    assert "branches" in problems["image"][1]
    assert problems["join"][0] == "Add"
    assert "2 inputs" in problems["join"][1] and "cnnviz has no Add layer" in problems["join"][1]
    with pytest.raises(UnsupportedLayerError, match="'join' \\(Add\\)"):
        model_to_spec(model)


def test_model_parts_a_spec_cannot_hold_are_refused() -> None:
    import keras
    from keras import layers

    # Keras lets Dense work on every pixel of a volume; cnnviz's Dense needs a flat vector.
    # Each layer is judged on its own input, so the first such layer does not hide the second.
    per_pixel = keras.Sequential([
        keras.Input((4, 4, 3)), layers.Dense(2, name="per_pixel"), layers.Flatten(),
        layers.Dense(3, name="fine"), layers.Reshape((3, 1, 1), name="reshape"),
        layers.Dense(2, name="again"),
    ])
    problems = unsupported_layers(per_pixel)
    assert [(name, kind) for name, kind, _ in problems] == [
        ("per_pixel", "Dense"), ("reshape", "Reshape"), ("again", "Dense")]
    assert "Add a Flatten" in problems[0][2] and "Add a Flatten" in problems[2][2]
    assert "cnnviz has no Reshape layer" in problems[1][2]

    vector_input = keras.Sequential([keras.Input((20,)), layers.Dense(2)])
    [(_, kind, why)] = unsupported_layers(vector_input)
    assert kind == "InputLayer" and "(height, width, channels)" in why

    class Custom(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(UnsupportedLayerError, match="subclassed model"):
        model_to_spec(Custom())


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_model_loads_back_to_the_same_spec(tmp_path: Path, suffix: str) -> None:
    spec = regularized_spec()
    path = tmp_path / f"model{suffix}"
    build_model(spec).save(path)
    model = load_model_file(path)
    assert model_to_spec(model) == canonical(spec)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="No such file"):
        load_model_file(tmp_path / "none.keras")


def test_wrong_kind_of_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    with pytest.raises(ModelFileError, match="opens .keras and .h5"):
        load_model_file(notes)
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model_file(tmp_path)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_text_file_with_a_model_suffix(tmp_path: Path, suffix: str) -> None:
    fake = tmp_path / f"fake{suffix}"
    fake.write_text("this is not a model\n", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model_file(fake)
    assert f"fake{suffix} is damaged or is not a Keras model file" in str(info.value)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_truncated_file(tmp_path: Path, suffix: str) -> None:
    whole = tmp_path / f"whole{suffix}"
    build_model(preset_spec("lenet5")).save(whole)
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # an interrupted download
    with pytest.raises(ModelFileError, match="damaged"):
        load_model_file(cut)


def test_corrupted_keras_archives(tmp_path: Path) -> None:
    import zipfile

    whole = tmp_path / "whole.keras"
    build_model(preset_spec("dense_baseline")).save(whole)
    data = bytearray(whole.read_bytes())
    for i in range(200, len(data) // 2, 7):  # flipped bits inside the archive's members
        data[i] ^= 0xFF
    flipped = tmp_path / "flipped.keras"
    flipped.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="flipped.keras is damaged"):
        load_model_file(flipped)
    other_zip = tmp_path / "photos.keras"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("cat.txt", "not a model")
    with pytest.raises(ModelFileError, match="zip archive, but not a Keras model"):
        load_model_file(other_zip)


def test_weights_only_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "model.weights.h5"
    build_model(preset_spec("dense_baseline")).save_weights(path)
    with pytest.raises(ModelFileError, match="no model architecture"):
        load_model_file(path)


def test_lambda_model_is_refused_unless_trusted(tmp_path: Path) -> None:
    import keras
    from keras import layers

    path = tmp_path / "lambda.keras"
    keras.Sequential([keras.Input((4, 4, 1)), layers.Lambda(lambda t: t + 1.0, name="plus_one"),
                      layers.Flatten(name="flat")]).save(path)
    with pytest.raises(UntrustedModelError) as info:
        load_model_file(path)
    message = str(info.value)
    assert "contains Python code" in message and "safe mode" in message
    # The core names no front end's way to trust: the CLI adds --trust, the app its button.
    assert "--trust" not in message and "I trust this file" not in message
    assert "\n" not in message  # one sentence, not a traceback
    trusted = load_model_file(path, trust=True)
    assert [layer.name for layer in trusted.layers] == ["plus_one", "flat"]
    with pytest.raises(UnsupportedLayerError, match="'plus_one' \\(Lambda\\)"):
        model_to_spec(trusted)


def test_file_errors_are_cnnviz_errors() -> None:
    assert issubclass(ModelFileError, CnnvizError)
    assert issubclass(UnsupportedLayerError, CnnvizError)


# ---------------------------------------------------------------- summaries of any model


def test_summary_of_a_spec_model_equals_analyze() -> None:
    spec = preset_spec("small_vgg_cifar10")
    summary = summarize_keras_model(build_model(spec))
    expected = analyze(spec)
    assert summary.input_shape == (32, 32, 3)
    assert [(r.name, r.type, r.output_shape, r.trainable, r.non_trainable)
            for r in summary.layers] == [
        (r.name, r.type, r.output_shape, r.trainable, r.non_trainable)
        for r in expected.layers]
    assert summary.non_trainable_params == 896


def test_summary_of_a_model_cnnviz_cannot_edit() -> None:
    import keras
    from keras import layers

    inputs = keras.Input((12, 12, 3))
    x = layers.SeparableConv2D(8, 3, name="separable")(inputs)
    skip = layers.Conv2D(8, 3, name="skip")(inputs)
    x = layers.Concatenate(name="concat")([x, skip])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    inner = keras.Sequential([keras.Input((16,)), layers.Dense(4), layers.BatchNormalization()],
                             name="head")
    model = keras.Model(inputs, inner(x))
    summary = summarize_keras_model(model)
    rows = {r.name: r for r in summary.layers}
    assert list(rows) == ["separable", "skip", "concat", "gap", "head"]
    assert rows["separable"].type == "SeparableConv2D"
    assert rows["separable"].output_shape == (10, 10, 8)
    assert rows["concat"].output_shape == (10, 10, 16)
    assert rows["head"].type == "Sequential"
    assert (rows["head"].trainable, rows["head"].non_trainable) == (16 * 4 + 4 + 8, 8)
    assert summary.total_params == model.count_params()
    for row in summary.layers:
        assert row.params == model.get_layer(row.name).count_params()


def test_summary_of_an_unbuilt_model_is_a_readable_error() -> None:
    import keras

    with pytest.raises(ModelFileError, match="no input shape"):
        summarize_keras_model(keras.Sequential([keras.layers.Dense(2)]))


# ---------------------------------------------------------------- exported Python


def logits_spec() -> ModelSpec:
    return ModelSpec((6, 6, 1), [LayerSpec.make("Flatten"), LayerSpec.make("Dense", units=5)],
                     name="logits")


DUMP_MODEL = """
import json as _json
print("CNNVIZ-RESULT " + _json.dumps({
    "name": model.name,
    "input": list(model.inputs[0].shape[1:]),
    "layers": [[type(layer).__name__, layer.get_config()] for layer in model.layers],
    "params": model.count_params(),
    "loss": model.loss if isinstance(model.loss, str) else
            [type(model.loss).__name__, getattr(model.loss, "from_logits", None)],
}))
"""

RUN_ALL = """
import runpy, sys
for path in sys.argv[1:]:
    runpy.run_path(path, run_name="__main__")
"""


def test_exported_scripts_run_and_build_the_same_models(tmp_path: Path) -> None:
    specs = [preset_spec(key) for key in PRESETS] + [regularized_spec(), logits_spec(),
                                                      sigmoid_spec()]
    specs += [spec for spec, _ in random_stacks(seed=99, count=4)]
    specs += [spec for spec, _ in random_stacks_1d(seed=98, count=6)]
    paths = []
    for number, spec in enumerate(specs):
        script = export_python(spec)
        assert "cnnviz" not in script.split("import keras", 1)[1]  # runs without cnnviz
        path = tmp_path / f"exported_{number}.py"
        path.write_text(script + DUMP_MODEL, encoding="utf-8")
        paths.append(str(path))
    runner = tmp_path / "run_all.py"
    runner.write_text(RUN_ALL, encoding="utf-8")
    # One interpreter for every script: importing TensorFlow once keeps this test fast.
    done = subprocess.run([sys.executable, str(runner), *paths], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines()
               if line.startswith("CNNVIZ-RESULT ")]
    assert len(results) == len(specs)

    for spec, result in zip(specs, results):
        model = build_model(spec)
        expected_layers = json.loads(json.dumps(
            [[type(layer).__name__, layer.get_config()] for layer in model.layers]))
        assert result["name"] == model.name
        assert result["input"] == list(spec.input_shape)
        assert result["layers"] == expected_layers, spec.name
        assert result["params"] == model.count_params() == analyze(spec).total_params
    losses = {spec.name: result["loss"] for spec, result in zip(specs, results)}
    assert losses["mnist_cnn"] == "sparse_categorical_crossentropy"
    assert losses["image_folder_cnn"] == "sparse_categorical_crossentropy"
    assert losses["two_classes"] == "binary_crossentropy"
    assert losses["logits"] == ["SparseCategoricalCrossentropy", True]
    assert losses["keras_sequence_1d"] == "binary_crossentropy"  # as the Keras guide compiles it
    assert losses["signal_fcn"] == "sparse_categorical_crossentropy"


def test_export_reads_like_a_tutorial() -> None:
    script = export_python(preset_spec("mnist_cnn"))
    assert script.startswith("# Model \"mnist_cnn\", exported by cnnviz")
    assert "import keras\nfrom keras import layers\n" in script
    assert "from keras import regularizers" not in script
    assert '        keras.Input(shape=(28, 28, 1)),\n' in script
    assert 'layers.Conv2D(32, (3, 3), activation="relu", name="conv2d"),' in script
    assert 'layers.MaxPooling2D(name="max_pooling2d"),' in script  # (2, 2) is Keras's default
    assert 'layers.Dense(10, activation="softmax", name="dense_1"),' in script
    assert "integer class labels 0..9" in script
    assert "\n# model.fit(x_train, y_train" in script
    assert "model.summary()" in script
    compile(script, "exported.py", "exec")

    regularized = export_python(regularized_spec(), optimizer="sgd")
    assert "from keras import regularizers" in regularized
    assert "kernel_regularizer=regularizers.L1(0.01)" in regularized
    assert "kernel_regularizer=regularizers.L1L2(l1=0.001, l2=0.002)" in regularized
    assert 'optimizer="sgd"' in regularized
    assert "layers.AveragePooling2D((3, 2), strides=(1, 2)" in regularized
    assert "            kernel_regularizer=regularizers.L1(0.01),\n" in regularized
    assert max(len(line) for line in regularized.splitlines()) <= 99  # long calls are wrapped


def test_export_explains_its_loss_choice_when_it_is_not_obvious() -> None:
    logits = export_python(logits_spec())
    assert "raw scores (logits)" in logits
    one_number = ModelSpec((4, 4, 1), [LayerSpec.make("Flatten"), LayerSpec.make("Dense", units=1)])
    regression = export_python(one_number)
    assert 'loss="mean_squared_error"' in regression and "regression" in regression
    assert 'metrics=["mae"]' in regression
    chosen = export_python(preset_spec("mnist_cnn"), loss="categorical_crossentropy")
    assert 'loss="categorical_crossentropy"' in chosen


def test_export_refuses_invalid_specs_and_odd_names() -> None:
    bad = ModelSpec((4, 4, 1), [LayerSpec.make("Conv2D", kernel_size=[5, 5])])
    with pytest.raises(SpecError, match="kernel is larger"):
        export_python(bad)
    with pytest.raises(SpecError, match="optimizer must be a Keras name"):
        export_python(preset_spec("mnist_cnn"), optimizer='adam"); import os; #')


def test_exported_parameter_count_matches_the_layers_shown() -> None:
    # The count a student sees in the app is the one model.summary() will print.
    spec = preset_spec("lenet5")
    model = build_model(spec)
    assert sum(math.prod(w.shape) for w in model.weights) == analyze(spec).total_params
