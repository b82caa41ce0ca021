"""Spec JSON in and out, every way a spec file can be wrong, and analyze's error marking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cnnviz.core.errors import CnnvizError, SpecError
from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import (
    FORMAT_VERSION, LayerSpec, ModelSpec, load_spec, save_spec,
)

SAMPLE_MODELS = Path(__file__).resolve().parents[3] / "sample_models"


def small_spec() -> ModelSpec:
    return ModelSpec((8, 8, 1), [
        LayerSpec.make("Conv2D", filters=4, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=2, activation="softmax"),
    ], name="small")


def spec_dict(*layers: dict, **top) -> dict:
    data = {"format": "cnnviz-model-spec", "format_version": 1, "name": "t",
            "input_shape": [8, 8, 1], "layers": list(layers)}
    data.update(top)
    return data


def spec_error(data) -> str:
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict(data)
    return str(info.value)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("key", list(PRESETS))
def test_json_round_trip_keeps_every_preset(key: str) -> None:
    spec = preset_spec(key)
    assert ModelSpec.from_json(spec.to_json()) == spec


def test_round_trip_keeps_names_regularizers_and_optional_strides(tmp_path: Path) -> None:
    spec = ModelSpec((30, 20, 3), [
        LayerSpec.make("Conv2D", name="edges", filters=8, kernel_size=[4, 2], strides=[2, 1],
                       padding="same", use_bias=False,
                       kernel_regularizer={"l1": 0.001, "l2": 0.01}),
        LayerSpec.make("MaxPooling2D", pool_size=[3, 3], strides=None),
        LayerSpec.make("AveragePooling2D", pool_size=[2, 2], strides=[1, 1]),
        LayerSpec.make("GlobalAveragePooling2D"),
        LayerSpec.make("BatchNormalization", momentum=0.9, epsilon=1e-5),
        LayerSpec.make("Dropout", rate=0.25),
        LayerSpec.make("Dense", units=3, activation="sigmoid"),
    ], name="round trip")
    path = tmp_path / "spec.json"
    save_spec(spec, path)
    loaded = load_spec(path)
    assert loaded == spec
    assert loaded.layer_names()[0] == "edges"
    assert loaded.layers[0].params["kernel_regularizer"] == {"l1": 0.001, "l2": 0.01}
    assert loaded.layers[1].params["strides"] is None


def test_missing_params_get_keras_defaults() -> None:
    spec = ModelSpec.from_dict(spec_dict({"type": "Conv2D", "params": {"filters": 5}}))
    assert spec.layers[0].params == {
        "filters": 5, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
        "activation": "linear", "use_bias": True, "kernel_regularizer": None,
    }


@pytest.mark.parametrize("key", list(PRESETS))
def test_bundled_sample_specs_equal_the_presets(key: str) -> None:
    # sample_models/make_specs.py writes these; a stale file would open a different model.
    assert load_spec(SAMPLE_MODELS / f"{key}.json") == preset_spec(key)


def test_unknown_preset_is_a_readable_error() -> None:
    with pytest.raises(SpecError, match="Unknown preset 'alexnet'.*mnist_cnn"):
        preset_spec("alexnet")


def test_presets_are_fresh_copies() -> None:
    spec = preset_spec("mnist_cnn")
    spec.layers.pop()
    assert len(preset_spec("mnist_cnn").layers) == 6


# ---------------------------------------------------------------- every error path


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(SpecError) as info:
        ModelSpec.from_json('{"input_shape": [28, 28, 1],\n "layers": [}')
    assert "not valid JSON" in str(info.value)
    assert "line 2" in str(info.value)


def test_json_that_is_not_an_object() -> None:
    with pytest.raises(SpecError, match="must be a JSON object"):
        ModelSpec.from_json("[1, 2, 3]")


def test_unknown_top_level_key() -> None:
    assert "Unknown key 'optimiser'" in spec_error(spec_dict(optimiser="adam"))


def test_other_json_format_is_named() -> None:
    assert "'keras-model' file, not a cnnviz model spec" in spec_error(
        spec_dict(format="keras-model"))


def test_missing_input_shape() -> None:
    data = spec_dict()
    del data["input_shape"]
    assert "no 'input_shape'" in spec_error(data)


@pytest.mark.parametrize("shape, words", [
    ([28], "[height, width, channels] for images"),
    ([28, 28, 1, 1], "[steps, channels] for sequences, like [150, 1]"),
    ([28, "28", 1], "[height, width, channels] for images"),
    ([0, 28, 1], "height and width must be from 1"),
    ([28, 28, 100], "channels must be from 1 to 64"),
    ([0, 1], "steps must be from 1 to 65,536"),
    ([70000, 1], "steps must be from 1 to 65,536"),
    ([150, 0], "channels must be from 1 to 2,048"),
    ([150, 1.5], "[steps, channels] for sequences"),
])
def test_bad_input_shape(shape, words: str) -> None:
    assert words in spec_error(spec_dict(input_shape=shape))


def test_newer_format_version_asks_to_update() -> None:
    message = spec_error(spec_dict(format_version=FORMAT_VERSION + 1))
    assert "newer cnnviz" in message and "Update cnnviz" in message


def test_empty_model_name() -> None:
    assert "'name' must be a non-empty string" in spec_error(spec_dict(name="  "))


def test_layers_must_be_a_list_of_objects() -> None:
    assert "'layers' must be a list" in spec_error(spec_dict(layers={"type": "Dense"}))
    assert "Layer 1: must be an object" in spec_error(spec_dict("Dense"))


def test_unknown_layer_key() -> None:
    message = spec_error(spec_dict({"type": "Dense", "units": 10}))
    assert "Layer 1: unknown key 'units'" in message


def test_unknown_layer_type_lists_the_known_ones() -> None:
    message = spec_error(spec_dict({"type": "Flatten"}, {"type": "Conv3D"}))
    assert message.startswith("Layer 2 (Conv3D): Unknown layer type 'Conv3D'")
    assert "Conv2D" in message and "Dense" in message


def test_unknown_parameter_lists_the_real_ones() -> None:
    message = spec_error(spec_dict({"type": "Dense", "params": {"neurons": 10}}))
    assert "Dense has no parameter 'neurons'" in message and "units" in message


@pytest.mark.parametrize("params, words", [
    ({"filters": 0}, "'filters' must be a whole number from 1 to 4096, but is 0"),
    ({"filters": 3.5}, "'filters' must be a whole number"),
    ({"filters": True}, "'filters' must be a whole number"),
    ({"kernel_size": [3, 3, 3]}, "'kernel_size' must be two whole numbers"),
    ({"kernel_size": [65, 3]}, "from 1 to 64"),
    ({"padding": "full"}, "'padding' must be one of 'valid', 'same'"),
    ({"activation": "swish"}, "'activation' must be one of"),
    ({"use_bias": "yes"}, "'use_bias' must be true or false"),
    ({"kernel_regularizer": {"l3": 1}}, "'kernel_regularizer' must be null or"),
    ({"kernel_regularizer": {"l2": -0.1}}, "'kernel_regularizer' must be null or"),
])
def test_out_of_range_conv_values(params: dict, words: str) -> None:
    message = spec_error(spec_dict({"type": "Conv2D", "params": params}))
    assert message.startswith("Layer 1 (Conv2D): ")
    assert words in message


def test_strides_of_zero_explain_why() -> None:
    message = spec_error(spec_dict({"type": "MaxPooling2D", "params": {"strides": [0, 2]}}))
    assert "'strides' of 0 would never move the window" in message


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, float("nan")])
def test_dropout_rate_must_stay_below_one(rate: float) -> None:
    message = spec_error(spec_dict({"type": "Dropout", "params": {"rate": rate}}))
    assert "'rate' must be a number from 0 below 1" in message


def test_duplicate_layer_names() -> None:
    message = spec_error(spec_dict({"type": "Flatten", "name": "x"},
                                   {"type": "Dense", "name": "x"}))
    assert "Two layers are both named 'x'" in message


def test_layer_name_with_slash_is_refused() -> None:
    message = spec_error(spec_dict({"type": "Flatten", "name": "a/b"}))
    assert "'name' must be letters, digits" in message


def test_keras_shorthands_are_accepted() -> None:
    # kernel_size=3 and activation=null are what Keras users write.
    spec = ModelSpec.from_dict(spec_dict(
        {"type": "Conv2D", "params": {"kernel_size": 5, "activation": None}}))
    assert spec.layers[0].params["kernel_size"] == [5, 5]
    assert spec.layers[0].params["activation"] == "linear"


# ---------------------------------------------------------------- files


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="No such file"):
        load_spec(tmp_path / "nothing.json")


def test_load_folder_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a folder"):
        load_spec(tmp_path)
    binary = tmp_path / "photo.json"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(SpecError, match="not a text"):
        load_spec(binary)


def test_non_ascii_paths_work(tmp_path: Path) -> None:
    folder = tmp_path / "modèles ü 数字"
    folder.mkdir()
    path = folder / "réseau ✓.json"
    save_spec(small_spec(), path)
    assert load_spec(path) == small_spec()
    with pytest.raises(SpecError) as info:
        load_spec(folder / "für später.json")
    assert "für später.json" in str(info.value)


def test_save_refuses_a_read_only_file_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o444)
    try:
        with pytest.raises(SpecError, match="read-only"):
            save_spec(small_spec(), path)
        assert path.read_text(encoding="utf-8") == "old"
    finally:
        path.chmod(0o644)


def test_save_into_a_vanished_folder(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    folder.rmdir()  # e.g. a USB stick pulled out after the dialog closed
    with pytest.raises(SpecError, match="does not exist"):
        save_spec(small_spec(), folder / "spec.json")


def test_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "spec.json"
    save_spec(preset_spec("lenet5"), path)
    before = path.read_text(encoding="utf-8")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(SpecError, match="No space left on device"):
        save_spec(small_spec(), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == before
    assert load_spec(path) == preset_spec("lenet5")
    assert [p.name for p in tmp_path.iterdir()] == ["spec.json"]  # no temp file left over


def test_spec_errors_are_cnnviz_errors() -> None:
    # The GUI and CLI catch CnnvizError to show a message instead of a traceback.
    assert issubclass(SpecError, CnnvizError)


# ---------------------------------------------------------------- analyze marks the first bad layer


def stack(input_shape, *layers: LayerSpec) -> ModelSpec:
    return ModelSpec(input_shape, list(layers))


def only_error(spec: ModelSpec, index: int) -> str:
    """The error of layer `index`, checking it is the first and later layers have no shape."""
    report = analyze(spec)
    assert not report.ok
    assert report.first_error is report.layers[index]
    assert all(row.output_shape is not None for row in report.layers[:index])
    assert all(row.output_shape is None for row in report.layers[index:])
    assert all(row.error is None for row in report.layers[index + 1:])
    assert report.output_shape is None
    return report.layers[index].error


def test_kernel_larger_than_input() -> None:
    spec = stack((4, 4, 1), LayerSpec.make("Conv2D", kernel_size=[5, 5]), LayerSpec.make("Flatten"))
    message = only_error(spec, 0)
    assert "5×5 kernel is larger than its 4×4 input" in message
    assert "padding='same'" in message
    assert analyze(spec).error_message().startswith("Layer 1 (Conv2D 'conv2d'): its 5×5 kernel")


def test_same_padding_allows_a_kernel_larger_than_the_input() -> None:
    spec = stack((4, 4, 1), LayerSpec.make("Conv2D", kernel_size=[5, 5], padding="same"))
    assert analyze(spec).output_shape == (4, 4, 32)


def test_dense_on_a_volume_needs_flatten() -> None:
    spec = stack((8, 8, 1), LayerSpec.make("Conv2D", filters=2), LayerSpec.make("Dense", units=3))
    message = only_error(spec, 1)
    assert "Dense needs a flat vector" in message and "volume of 6×6×2" in message
    assert "Add a Flatten" in message


def test_pooling_that_shrinks_the_map_to_nothing() -> None:
    spec = stack((5, 5, 1),
                 LayerSpec.make("Conv2D", kernel_size=[3, 3]),   # 3×3
                 LayerSpec.make("MaxPooling2D", pool_size=[2, 2]),  # 1×1
                 LayerSpec.make("AveragePooling2D", pool_size=[2, 2]),  # nothing left
                 LayerSpec.make("Flatten"))
    message = only_error(spec, 2)
    assert "2×2 pool window is larger than its 1×1 input" in message
    assert "shrink to nothing" in message


def test_strides_of_zero_built_in_code() -> None:
    # The editor builds LayerSpecs directly, without from_dict's checks.
    bad = LayerSpec("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [0, 1]})
    message = only_error(stack((8, 8, 1), LayerSpec.make("Flatten"), bad), 1)
    assert "'strides' of 0 would never move the window" in message


@pytest.mark.parametrize("rate", [1.0, -0.5])
def test_dropout_rate_outside_zero_to_one(rate: float) -> None:
    spec = stack((8, 8, 1), LayerSpec.make("Flatten"), LayerSpec("Dropout", {"rate": rate}),
                 LayerSpec.make("Dense", units=2))
    assert "'rate' must be a number from 0 below 1" in only_error(spec, 1)


def test_conv_after_flatten() -> None:
    spec = stack((8, 8, 1), LayerSpec.make("Flatten"), LayerSpec.make("Conv2D"),
                 LayerSpec.make("Dense", units=2))
    message = only_error(spec, 1)
    assert "Conv2D needs an image-shaped input" in message
    assert "a flat vector of 64 values" in message


def test_bad_input_shape_is_reported_before_layers() -> None:
    report = analyze(stack((0, 8, 1), LayerSpec.make("Flatten")))
    assert not report.ok
    assert report.error_message().startswith("Input: Input height and width")


def test_a_hundred_layer_stack_analyses() -> None:
    layers = []
    for _ in range(50):
        layers.append(LayerSpec.make("Conv2D", filters=8, padding="same", activation="relu"))
        layers.append(LayerSpec.make("BatchNormalization"))
    report = analyze(stack((32, 32, 3), *layers))
    assert report.ok and len(report.layers) == 100
    assert all(row.output_shape == (32, 32, 8) for row in report.layers)
    first_conv = 3 * 3 * 3 * 8 + 8
    later_conv = 3 * 3 * 8 * 8 + 8
    assert report.total_params == first_conv + 49 * later_conv + 50 * 4 * 8
    assert report.layers[-1].name == "batch_normalization_49"


def test_json_on_disk_is_readable_by_people(tmp_path: Path) -> None:
    # Specs are meant to be read and diffed: indented, UTF-8, with the format marker.
    path = tmp_path / "s.json"
    save_spec(ModelSpec((8, 8, 1), [LayerSpec.make("Flatten", name="übersicht")], "ü"), path)
    text = path.read_text(encoding="utf-8")
    assert "übersicht" in text and "\n  " in text
    assert json.loads(text)["format"] == "cnnviz-model-spec"


def test_saving_keeps_the_file_mode_or_follows_the_umask(tmp_path):
    import os
    import stat

    spec = preset_spec("mnist_cnn")
    fresh = tmp_path / "fresh.json"
    umask = os.umask(0o022)
    try:
        save_spec(spec, fresh)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not mkstemp's private 0600
    shared = tmp_path / "shared.json"
    shared.write_text("{}")
    shared.chmod(0o664)
    save_spec(spec, shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664
