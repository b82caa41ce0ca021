"""Opening saved models: .keras, .h5 (Keras 3 and real Keras 2 files), architecture JSON with
and without weights, safe mode, and one readable sentence for every bad file."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.model.builder import build_model
from cnnviz.core.errors import CnnvizError, ModelFileError, UntrustedModelError
from cnnviz.core.inspect.model_files import (
    MODEL_FILE_SUFFIXES, OpenedModel, is_architecture_json, open_model, suggest_weights_file,
)
from cnnviz.core.inspect.model_file_errors import CustomCodeError
from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.spec import LayerSpec, ModelSpec

KERAS2 = Path(__file__).resolve().parents[2] / "data" / "keras2"

# Keras's own saving code trips a NumPy 2 notice, and Keras 2 configs make it warn about
# `input_shape` arguments; neither is ours and neither changes anything.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning"),
    pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match:UserWarning"),
    pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning"),
]


def tiny_spec() -> ModelSpec:
    return ModelSpec((6, 6, 1), [
        LayerSpec.make("Conv2D", filters=2, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("BatchNormalization"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dropout", rate=0.2),
        LayerSpec.make("Dense", units=3, activation="softmax"),
    ], name="tiny")


def randomized(model):
    """Weights that differ from a fresh initialisation, BatchNorm statistics included."""
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in w.path
                       else rng.normal(0, 0.5, w.shape).astype("float32")
                       for w in model.weights])
    return model


def tiny_model():
    return randomized(build_model(tiny_spec()))


def images(shape=(6, 6, 1), count=3) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (count, *shape)).astype("float32")


def outputs(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False))


def branching_model():
    import keras
    from keras import layers

    image = keras.Input((6, 6, 1), name="image")
    left = layers.Conv2D(2, 3, padding="same", name="left")(image)
    right = layers.Conv2D(2, 1, name="right")(image)
    added = layers.Add(name="added")([left, right])
    joined = layers.Concatenate(name="joined")([added, left])
    pooled = layers.GlobalAveragePooling2D(name="pooled")(joined)
    return randomized(keras.Model(image, layers.Dense(3, activation="softmax",
                                                      name="probabilities")(pooled)))


def assert_one_sentence(error: BaseException, file_name: str) -> str:
    message = str(error)
    assert isinstance(error, ModelFileError) and isinstance(error, CnnvizError)
    assert "\n" not in message and "Traceback" not in message
    assert file_name in message
    assert len(message) < 400
    return message


# ---------------------------------------------------------------- every way in


@pytest.mark.parametrize("suffix, kind", [(".keras", "keras"), (".h5", "h5")])
def test_saved_models_open_with_the_same_outputs(tmp_path: Path, suffix: str, kind: str) -> None:
    model = tiny_model()
    path = tmp_path / f"tiny{suffix}"
    model.save(path)
    opened = open_model(path)
    assert isinstance(opened, OpenedModel)
    assert (opened.path, opened.kind, opened.weights_path, opened.trusted, opened.notes) == (
        path, kind, None, False, [])
    assert [layer.name for layer in opened.model.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(outputs(opened.model, images()), outputs(model, images()),
                               rtol=1e-6, atol=1e-7)


def test_sequential_keras_file_equals_keras_load_model_exactly(tmp_path: Path) -> None:
    """Sequential .keras files are built in one pass (not Keras's rebuild after every layer):
    the result must be the very model `keras.models.load_model` gives."""
    import keras

    path = tmp_path / "lenet.keras"
    randomized(build_model(preset_spec("lenet5"))).save(path)
    ours = open_model(path).model
    reference = keras.models.load_model(path, compile=False)
    assert type(ours) is keras.Sequential
    assert ours.get_config() == reference.get_config()
    assert [w.path for w in ours.weights] == [w.path for w in reference.weights]
    for mine, theirs in zip(ours.weights, reference.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    x = images(tuple(reference.inputs[0].shape[1:]), 2)
    np.testing.assert_array_equal(outputs(ours, x), outputs(reference, x))
    # Built once: each layer was called once, not once per layer added after it.
    assert [len(layer._inbound_nodes) for layer in ours.layers] == [1] * len(ours.layers)


def test_functional_keras_file_with_branches_opens(tmp_path: Path) -> None:
    model = branching_model()
    path = tmp_path / "branches.keras"
    model.save(path)
    opened = open_model(path)
    assert [layer.name for layer in opened.model.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(outputs(opened.model, images()), outputs(model, images()),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("weights_name", ["tiny.weights.h5", "whole_model.h5", "whole.keras"])
def test_architecture_json_with_weights(tmp_path: Path, weights_name: str) -> None:
    model = tiny_model()
    architecture = tmp_path / "tiny.json"
    architecture.write_text(model.to_json(), encoding="utf-8")
    weights = tmp_path / weights_name
    if weights_name.endswith(".weights.h5"):
        model.save_weights(weights)
    else:
        model.save(weights)  # a whole saved model also provides weights
    opened = open_model(architecture, weights_path=weights)
    assert (opened.kind, opened.weights_path, opened.notes) == ("json", weights, [])
    np.testing.assert_allclose(outputs(opened.model, images()), outputs(model, images()),
                               rtol=1e-6, atol=1e-7)


def test_architecture_json_without_weights_has_random_weights_and_says_so(tmp_path: Path) -> None:
    model = tiny_model()
    architecture = tmp_path / "tiny.json"
    architecture.write_text(model.to_json(), encoding="utf-8")
    opened = open_model(architecture)
    assert opened.weights_path is None
    assert [layer.name for layer in opened.model.layers] == [layer.name for layer in model.layers]
    assert not np.allclose(opened.model.get_layer("dense").kernel.numpy(),
                           model.get_layer("dense").kernel.numpy())
    [note] = opened.notes
    assert "no weights file" in note.lower() and "random" in note
    assert suggest_weights_file(architecture) is None

    model.save_weights(tmp_path / "tiny.weights.h5")
    assert suggest_weights_file(architecture) == tmp_path / "tiny.weights.h5"
    assert "tiny.weights.h5 lies beside it" in open_model(architecture).notes[0]


def test_is_architecture_json(tmp_path: Path) -> None:
    architecture = tmp_path / "arch.json"
    architecture.write_text(tiny_model().to_json(), encoding="utf-8")
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(tiny_spec().to_json(), encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{ not json", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"class_name": "Dense", "config": {"units": 3}}), encoding="utf-8")
    model_file = tmp_path / "model.keras"
    tiny_model().save(model_file)
    assert is_architecture_json(architecture)
    assert is_architecture_json(KERAS2 / "functional_cnn.json")  # Keras 2 to_json
    for path in (spec_file, garbage, other, model_file, tmp_path / "missing.json", tmp_path):
        assert not is_architecture_json(path), path.name


def test_suffixes() -> None:
    assert MODEL_FILE_SUFFIXES == (".keras", ".h5", ".hdf5", ".json")


# ---------------------------------------------------------------- real Keras 2 files


@pytest.mark.parametrize("name", ["sequential_cnn", "functional_cnn"])
def test_keras2_h5_files_give_the_outputs_keras2_computed(name: str) -> None:
    opened = open_model(KERAS2 / f"{name}.h5")
    assert opened.kind == "h5"
    assert any("Keras 2.15.0" in note for note in opened.notes)
    expected = np.load(KERAS2 / f"{name}.expected.npy")
    np.testing.assert_allclose(outputs(opened.model, np.load(KERAS2 / "input.npy")), expected,
                               rtol=1e-5, atol=1e-6)


def test_keras2_architecture_json_with_keras2_weights() -> None:
    opened = open_model(KERAS2 / "functional_cnn.json",
                        weights_path=KERAS2 / "functional_cnn_weights.h5")
    assert opened.weights_path == KERAS2 / "functional_cnn_weights.h5"
    np.testing.assert_allclose(outputs(opened.model, np.load(KERAS2 / "input.npy")),
                               np.load(KERAS2 / "functional_cnn.expected.npy"),
                               rtol=1e-5, atol=1e-6)
    random = open_model(KERAS2 / "functional_cnn.json")
    assert "random" in random.notes[0]


def test_keras2_lambda_is_refused_then_opened_with_trust() -> None:
    path = KERAS2 / "lambda_cnn.h5"
    with pytest.raises(UntrustedModelError) as info:
        open_model(path)
    assert info.value.layers == ["rescale"]
    assert "'rescale'" in assert_one_sentence(info.value, "lambda_cnn.h5")
    opened = open_model(path, trust=True)
    assert opened.trusted
    np.testing.assert_allclose(outputs(opened.model, np.load(KERAS2 / "input.npy")),
                               np.load(KERAS2 / "lambda_cnn.expected.npy"), rtol=1e-5, atol=1e-6)


def test_keras2_tensorflow_operations_are_refused_by_name() -> None:
    for trust in (False, True):
        with pytest.raises(CustomCodeError) as info:
            open_model(KERAS2 / "tf_op_cnn.h5", trust=trust)
        message = assert_one_sentence(info.value, "tf_op_cnn.h5")
        assert "TensorFlow operations" in message and "'tf.math.multiply'" in message
        assert info.value.layers == ["tf.math.multiply", "tf.math.subtract"]


def test_keras2_fixture_files_are_small() -> None:
    files = list(KERAS2.glob("*.h5")) + list(KERAS2.glob("*.json"))
    assert len(files) == 6
    assert all(path.stat().st_size < 100_000 for path in files)


# ---------------------------------------------------------------- code in the file


def lambda_model():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((4,)), layers.Lambda(lambda t: t * 2.0 + 1.0,
                                                              name="double_plus_one"),
                             layers.Dense(2, name="out")])


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".json"])
def test_lambda_is_refused_in_safe_mode_and_opens_with_trust(tmp_path: Path, suffix: str) -> None:
    model = lambda_model()
    path = tmp_path / f"lambda{suffix}"
    if suffix == ".json":
        path.write_text(model.to_json(), encoding="utf-8")
    else:
        model.save(path)
    with pytest.raises(UntrustedModelError) as info:
        open_model(path)
    message = assert_one_sentence(info.value, path.name)
    assert "'double_plus_one'" in message and "Python code" in message
    # The core names neither front end's way to trust (the CLI and the app add their own).
    assert "I trust this file" not in message and "--trust" not in message
    assert info.value.layers == ["double_plus_one"]

    opened = open_model(path, trust=True)
    assert opened.trusted
    assert any("double_plus_one" in note for note in opened.notes)
    x = np.array([[0.0, 1.0, 2.0, 3.0]], dtype="float32")
    probe = opened.model.get_layer("double_plus_one")
    np.testing.assert_allclose(np.asarray(probe(x)), x * 2.0 + 1.0)


def test_registered_custom_layer_that_is_not_available_is_refused(tmp_path: Path) -> None:
    import keras
    from keras import layers

    package = f"cnnviz_test_{uuid.uuid4().hex[:8]}"

    @keras.saving.register_keras_serializable(package=package)
    class Triple(layers.Layer):
        def call(self, x):
            return x * 3.0

    Triple.__module__ = "__main__"  # defined in someone's training script

    path = tmp_path / "custom.keras"
    keras.Sequential([keras.Input((4,)), Triple(name="triple")]).save(path)
    (tmp_path / "custom.json").write_text(
        keras.Sequential([keras.Input((4,)), Triple(name="triple")]).to_json(), encoding="utf-8")
    del keras.saving.get_custom_objects()[f"{package}>Triple"]  # as in a fresh cnnviz

    for name in ("custom.keras", "custom.json"):
        for trust in (False, True):  # the code is not anywhere: trust cannot help
            with pytest.raises(CustomCodeError) as info:
                open_model(tmp_path / name, trust=trust)
            message = assert_one_sentence(info.value, name)
            assert not isinstance(info.value, UntrustedModelError)
            assert "'triple'" in message and "Triple" in message
            assert "not stored in the file" in message
            assert info.value.layers == ["triple"]


def test_custom_layer_from_a_module_opens_only_with_trust(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    module_name = f"cnnviz_custom_{uuid.uuid4().hex[:8]}"
    code_folder = tmp_path / "code"
    code_folder.mkdir()
    (code_folder / f"{module_name}.py").write_text(textwrap.dedent("""
        import keras

        class Shift(keras.layers.Layer):
            def call(self, x):
                return x + 5.0
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(code_folder))
    module = __import__(module_name)
    path = tmp_path / "shift.keras"
    keras.Sequential([keras.Input((3,)), module.Shift(name="shift")]).save(path)
    del sys.modules[module_name]  # a fresh cnnviz has not imported it

    with pytest.raises(UntrustedModelError) as info:
        open_model(path)
    message = assert_one_sentence(info.value, "shift.keras")
    assert module_name in message and "'shift'" in message and "if you trust" not in message
    assert "for a file you trust" in message
    assert module_name not in sys.modules  # refusing did not run the module

    opened = open_model(path, trust=True)
    assert module_name in sys.modules
    np.testing.assert_allclose(np.asarray(opened.model(np.zeros((1, 3), "float32"))), 5.0)

    del sys.modules[module_name]
    (code_folder / f"{module_name}.py").unlink()
    with pytest.raises(CustomCodeError, match=f"{module_name}, which cannot be imported"):
        open_model(path, trust=True)


# ---------------------------------------------------------------- bad files


def test_missing_folder_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="No such file"):
        open_model(tmp_path / "none.keras")
    with pytest.raises(ModelFileError, match="is a folder"):
        open_model(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"\.keras, \.h5, \.json"):
        open_model(notes)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_text_file_renamed_as_a_model(tmp_path: Path, suffix: str) -> None:
    fake = tmp_path / f"notes{suffix}"
    fake.write_text("these are my notes, not a model\n", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        open_model(fake)
    assert "is damaged or is not a Keras model file" in assert_one_sentence(info.value,
                                                                             fake.name)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_model_files(tmp_path: Path, suffix: str, keep: float) -> None:
    whole = tmp_path / f"whole{suffix}"
    tiny_model().save(whole)
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])  # an interrupted download
    with pytest.raises(ModelFileError) as info:
        open_model(cut)
    assert "damaged" in assert_one_sentence(info.value, cut.name)


@pytest.mark.parametrize("make", [tiny_model, branching_model])
@pytest.mark.parametrize("where", ["weights", "everywhere"])
def test_corrupt_keras_archives(tmp_path: Path, make, where: str) -> None:
    whole = tmp_path / "whole.keras"
    make().save(whole)
    data = bytearray(whole.read_bytes())
    start = len(data) // 2 if where == "weights" else 100  # weights fill the second half
    for i in range(start, len(data) - 200, 97):  # bits flipped by a bad disk or transfer
        data[i] ^= 0xFF
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as info:
        open_model(corrupt)
    assert "damaged" in assert_one_sentence(info.value, "corrupt.keras")


def rewrite_archive(source: Path, target: Path, change,
                    compression: int = zipfile.ZIP_STORED) -> None:
    """Copy a .keras archive, passing each member through change(name, data) → data or None."""
    with zipfile.ZipFile(source) as original, \
            zipfile.ZipFile(target, "w", compression=compression) as copy:
        for name in original.namelist():
            data = change(name, original.read(name))
            if data is not None:
                copy.writestr(name, data)


def test_recompressed_keras_archive_still_opens(tmp_path: Path) -> None:
    """Zipped again by some tool: compressed members go through Keras's own checked reader."""
    model = tiny_model()
    model.save(tmp_path / "original.keras")
    zipped = tmp_path / "zipped.keras"
    rewrite_archive(tmp_path / "original.keras", zipped, lambda name, data: data,
                    zipfile.ZIP_DEFLATED)
    np.testing.assert_allclose(outputs(open_model(zipped).model, images()),
                               outputs(model, images()), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", [tiny_model, branching_model])
def test_keras_archive_without_its_weights_entry(tmp_path: Path, make) -> None:
    whole = tmp_path / "whole.keras"
    make().save(whole)
    broken = tmp_path / "no_weights.keras"
    rewrite_archive(whole, broken, lambda name, data: None if "weights" in name else data)
    with pytest.raises(ModelFileError) as info:
        open_model(broken)
    message = assert_one_sentence(info.value, "no_weights.keras")
    assert "no weights inside" in message


@pytest.mark.parametrize("make, layer", [(tiny_model, "dense"),
                                         (branching_model, "probabilities")])
def test_keras_archive_missing_one_layers_weights(tmp_path: Path, make, layer: str) -> None:
    import h5py

    whole = tmp_path / "whole.keras"
    make().save(whole)

    def drop_dense(name: str, data: bytes) -> bytes:
        if name != "model.weights.h5":
            return data
        buffer = io.BytesIO(data)
        with h5py.File(buffer, "r+") as handle:  # entries are named by class: the last Dense
            del handle["layers/dense/vars"]
        return buffer.getvalue()

    broken = tmp_path / "partial.keras"
    rewrite_archive(whole, broken, drop_dense)
    with pytest.raises(ModelFileError) as info:
        open_model(broken)
    message = assert_one_sentence(info.value, "partial.keras")
    assert "weights are missing" in message and f"layer '{layer}'" in message


def test_zip_that_is_not_a_model(tmp_path: Path) -> None:
    photos = tmp_path / "photos.keras"
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("cat.txt", "not a model")
    with pytest.raises(ModelFileError) as info:
        open_model(photos)
    assert "not a Keras model" in assert_one_sentence(info.value, "photos.keras")


def test_garbage_architecture_json(tmp_path: Path) -> None:
    cases = {
        "broken.json": ("{ this is not json", "not valid JSON (line 1"),
        "list.json": ("[1, 2, 3]", "not a Keras model architecture"),
        "bad_layer.json": (json.dumps({"class_name": "Sequential", "config": {
            "name": "s", "layers": [{"class_name": "Conv2D",
                                     "config": {"filters": "many", "kernel_size": 3}}]}}),
            "not a valid Keras model architecture"),
        "no_input.json": (json.dumps({"class_name": "Sequential", "config": {
            "name": "s", "layers": [{"class_name": "Dense", "config": {"units": 3}}]}}),
            "does not say what input"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ModelFileError) as info:
            open_model(path)
        assert expected in assert_one_sentence(info.value, name), name
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ModelFileError, match="not a text"):
        open_model(binary)


def test_spec_json_points_to_opening_it_as_a_spec(tmp_path: Path) -> None:
    path = tmp_path / "my_cnn.json"
    path.write_text(preset_spec("mnist_cnn").to_json(), encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        open_model(path)
    message = assert_one_sentence(info.value, "my_cnn.json")
    assert "cnnviz model spec" in message and "open it as a spec" in message


@pytest.mark.parametrize("name", ["model.weights.h5", "keras2_weights.h5"])
def test_weights_only_file_opened_as_a_model(tmp_path: Path, name: str) -> None:
    if name == "keras2_weights.h5":
        path = KERAS2 / "functional_cnn_weights.h5"
    else:
        path = tmp_path / name
        tiny_model().save_weights(path)
    with pytest.raises(ModelFileError) as info:
        open_model(path)
    assert "holds only weights" in assert_one_sentence(info.value, path.name)


def test_weights_that_do_not_fit_the_architecture(tmp_path: Path) -> None:
    architecture = tmp_path / "tiny.json"
    architecture.write_text(tiny_model().to_json(), encoding="utf-8")
    other_spec = tiny_spec()
    other_spec.layers[0].params["filters"] = 4
    other = build_model(other_spec)
    for weights in (tmp_path / "other.weights.h5", tmp_path / "other.h5"):
        if weights.name.endswith(".weights.h5"):
            other.save_weights(weights)
        else:
            other.save(weights)
        with pytest.raises(ModelFileError) as info:
            open_model(architecture, weights_path=weights)
        message = assert_one_sentence(info.value, weights.name)
        assert "do not fit the architecture in tiny.json" in message
        assert "'conv2d'" in message and "(3, 3, 1, 4)" in message

    truncated = tmp_path / "cut.weights.h5"
    tiny_model().save_weights(truncated)
    truncated.write_bytes(truncated.read_bytes()[:3000])
    with pytest.raises(ModelFileError, match="cut.weights.h5 is damaged"):
        open_model(architecture, weights_path=truncated)
    with pytest.raises(ModelFileError, match="No such file"):
        open_model(architecture, weights_path=tmp_path / "absent.weights.h5")


# ---------------------------------------------------------------- unusual but valid models


def test_models_the_explainer_or_evaluation_cannot_use_still_open(tmp_path: Path) -> None:
    import keras
    from keras import layers

    image, extra = keras.Input((6, 6, 1), name="image"), keras.Input((3,), name="extra")
    merged = layers.Concatenate(name="merged")([layers.Flatten(name="flat")(image), extra])
    two_inputs = keras.Model([image, extra], layers.Dense(1, name="value")(merged))
    vector = keras.Sequential([keras.Input((20,)), layers.Dense(4, activation="softmax")])
    for number, model in enumerate((two_inputs, vector)):
        path = tmp_path / f"model_{number}.keras"
        model.save(path)
        opened = open_model(path)
        assert [t.shape for t in opened.model.inputs] == [t.shape for t in model.inputs]


def test_a_missing_custom_object_is_named_with_one_article(tmp_path: Path) -> None:
    """Issue 13: the message read "uses the the custom object 'swishy'"."""
    from cnnviz.core.inspect.model_file_errors import load_failure

    error = load_failure(tmp_path / "m.keras", "keras",
                         TypeError("Could not locate function 'swishy'. Make sure ..."),
                         trust=False, entries=[])
    assert "m.keras uses the custom object 'swishy', whose Python code" in str(error)
    assert "the the" not in str(error)


# ---------------------------------------------------------------- absurd declared sizes


@pytest.mark.parametrize("where, value, words", [
    ("units", 2**40, "1,099,511,627,776 units"),
    ("batch_shape", [None, 2**31, 2**31, 3], "numbers per example"),
])
def test_an_architecture_declaring_absurd_sizes_is_refused_before_tensorflow_builds_it(
        tmp_path: Path, where: str, value, words: str) -> None:
    config = json.loads(tiny_model().to_json())
    layers = config["config"]["layers"]
    if where == "units":
        next(layer for layer in layers if layer["class_name"] == "Dense")["config"]["units"] = value
    else:
        layers[0]["config"]["batch_shape"] = value
    path = tmp_path / "absurd.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError) as caught:
        open_model(path)
    assert words in assert_one_sentence(caught.value, "absurd.json")


def test_a_wide_real_layer_is_not_mistaken_for_an_absurd_one(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4096)])
    path = tmp_path / "wide.json"
    path.write_text(model.to_json())
    assert open_model(path).model.count_params() == 4 * 4096 + 4096
