"""A pre-built base as one layer of a spec (PretrainedBase): the builder's instant shapes and
counts equal Keras's for the model built from the spec, frozen and not; the block computes
what the base computes; it survives a JSON round trip; a missing file is prepared again;
it trains through the ordinary engine with the base left alone; bad cases read well."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.errors import CnnvizError, SpecError
from cnnviz.core.model.builder import build_model, weight_count
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.training.engine import TrainConfig, train
from cnnviz.core.transfer.base_blocks import (
    describe_base, ensure_base_blocks, prepare_base_block,
)
from cnnviz.core.transfer.bases import open_base
from cnnviz.core.transfer.transfer_model import TransferError
from tests.core.transfer.test_transfer_model import SAMPLE_MODEL, summary_counts, tiny_dataset


def head_spec(base: LayerSpec, input_shape=(28, 28, 1), classes: int = 3) -> ModelSpec:
    return ModelSpec(input_shape, [
        copy.deepcopy(base), LayerSpec.new("GlobalAveragePooling2D"), LayerSpec.make("Dense", units=16,
                                                                      activation="relu"),
        LayerSpec.make("Dropout", rate=0.2),
        LayerSpec.make("Dense", units=classes, activation="softmax")], "transfer_head")


@pytest.mark.parametrize("frozen", [True, False])
def test_every_row_and_the_totals_equal_keras(mobilenet: LayerSpec, frozen: bool) -> None:
    spec = head_spec(mobilenet)
    spec.layers[0].trainable = not frozen
    report = analyze(spec)
    assert report.ok, report.error_message()
    model = build_model(spec)
    rows = [(r.name, r.output_shape, r.trainable, r.non_trainable) for r in report.layers]
    keras_rows = [(layer.name, tuple(layer.output.shape[1:]), weight_count(layer.trainable_weights),
                   weight_count(layer.non_trainable_weights)) for layer in model.layers]
    assert rows == keras_rows
    assert (report.trainable_params, report.non_trainable_params) == summary_counts(model)
    assert report.layers[0].output_shape == (1, 1, 1280)
    if frozen:
        assert report.layers[0].trainable == 0 and report.layers[0].frozen


def test_batch_normalization_stays_frozen_when_the_base_is_not(mobilenet: LayerSpec) -> None:
    import keras

    spec = head_spec(mobilenet)
    spec.layers[0].trainable = True
    block = build_model(spec).layers[0]
    norms = [layer for layer in block._flatten_layers(include_self=False)
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and not any(layer.trainable for layer in norms)
    assert any(layer.trainable for layer in block.layers if "conv" in layer.name.lower())
    assert mobilenet.params["non_trainable_weights"] == sum(
        weight_count(layer.weights) for layer in norms)


def test_the_spec_round_trips_through_json(mobilenet: LayerSpec) -> None:
    spec = head_spec(mobilenet)
    again = ModelSpec.from_json(spec.to_json())
    assert again == spec
    assert again.layers[0].trainable is False
    assert again.layer_names()[0] == "pretrained_base"
    assert "mobilenet_v2 (random weights), cut at 'out_relu', 32×32" == describe_base(mobilenet)


def test_a_model_file_base_computes_what_the_file_computes(home: Path) -> None:
    import keras

    base = prepare_base_block(str(SAMPLE_MODEL), input_channels=1, folder=home)
    assert base.params["weights"] == "file" and base.params["cut"] == "flatten"
    assert base.params["input_size"] == [28, 28]
    spec = ModelSpec((28, 28, 1), [base, LayerSpec.make("Dense", units=2)])
    model = build_model(spec)
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    original = open_base(SAMPLE_MODEL).model
    cut = keras.Model(original.inputs, original.get_layer("flatten").output)
    np.testing.assert_allclose(model.layers[0](images), cut(images), rtol=1e-5, atol=1e-5)


def test_an_application_block_applies_the_networks_own_preprocessing(mobilenet) -> None:
    import keras

    block = keras.models.load_model(mobilenet.params["block_file"])
    images = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    # What cnnviz's data gives (0..1, grey) → MobileNetV2's preprocess_input on 0..255 colour.
    as_base_expects = np.repeat(images * 255.0, 3, axis=-1) / 127.5 - 1.0
    first_conv = block.get_layer("Conv1")
    probe = keras.Model(block.input, first_conv.input)
    np.testing.assert_allclose(probe(images), as_base_expects, rtol=1e-5, atol=1e-4)


def test_a_missing_file_is_prepared_again_and_builds(mobilenet: LayerSpec, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path))
    spec = head_spec(mobilenet)
    spec.layers[0].params["block_file"] = str(tmp_path / "gone.keras")
    with pytest.raises(SpecError, match="prepared file of the pre-built base 'pretrained_base' "
                                        "is missing"):
        build_model(spec)
    ready = ensure_base_blocks(spec)
    path = Path(ready.layers[0].params["block_file"])
    assert path.is_file() and path.parent == tmp_path / "bases"
    assert build_model(ready).count_params() == analyze(ready).total_params


def test_a_base_that_changed_since_is_named(mobilenet: LayerSpec, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path))
    spec = head_spec(mobilenet)
    spec.layers[0].params["block_file"] = str(tmp_path / "gone.keras")
    spec.layers[0].params["output_shape"] = [2, 2, 1280]
    with pytest.raises(CnnvizError, match="no longer matches the spec"):
        ensure_base_blocks(spec)


def test_it_trains_with_the_engine_and_a_frozen_base_does_not_move(mobilenet) -> None:
    spec = head_spec(mobilenet, input_shape=(32, 32, 1), classes=2)
    model = build_model(spec)
    before = [np.array(w) for w in model.layers[0].weights]
    head_before = np.array(model.layers[-1].weights[0])
    result = train(model, tiny_dataset(32, 1), TrainConfig(epochs=1, batch_size=16))
    assert result.epochs_done == 1
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.layers[0].weights))
    assert not np.array_equal(head_before, np.array(model.layers[-1].weights[0]))


def test_bad_cases_read_well(mobilenet: LayerSpec, home: Path) -> None:
    colour = head_spec(mobilenet, input_shape=(32, 32, 3))
    assert "prepared for grey images (1 channel) but gets colour images" in \
        analyze(colour).error_message()
    sequence = head_spec(mobilenet, input_shape=(100, 1))
    assert "needs an image" in analyze(sequence).error_message()
    unprepared = head_spec(LayerSpec.new("PretrainedBase"))
    assert "not been prepared yet" in analyze(unprepared).error_message()
    with pytest.raises(TransferError, match="no layer called 'nowhere'"):
        prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                           cut="nowhere", folder=home)


def test_a_deleted_file_is_prepared_again_under_the_same_name(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path))
    base = prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32))
    path = Path(base.params["block_file"])
    path.unlink()
    ready = ensure_base_blocks(head_spec(base))
    assert ready.layers[0].params["block_file"] == str(path) and path.is_file()
    assert [p.name for p in (tmp_path / "bases").iterdir()] == [path.name]


def test_a_spec_whose_figures_were_changed_by_hand_is_refused(mobilenet: LayerSpec) -> None:
    spec = head_spec(mobilenet)
    spec.layers[0].params["trainable_weights"] += 1
    with pytest.raises(SpecError, match="does not match what the spec says"):
        build_model(spec)
