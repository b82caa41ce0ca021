"""Frozen layers (trainable=False) in a spec: saved, built, read back and exported, and the
trainable / non-trainable counts the editor shows equal Keras's for random stacks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cnnviz.core.errors import SpecError
from cnnviz.core.model import spec_edits
from cnnviz.core.model.builder import build_model, load_model_file, save_model_file
from cnnviz.core.model.codegen import export_python
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.model.spec_from_keras import model_to_spec
from tests.core.model.stack_generator import random_stacks, random_stacks_1d
from tests.core.model.test_shapes_vs_keras import assert_matches_keras


def _count(weights: list) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def _small_spec() -> ModelSpec:
    return ModelSpec((8, 8, 1), [
        LayerSpec.make("Conv2D", filters=4, kernel_size=[3, 3]),
        LayerSpec.make("BatchNormalization"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=3),
    ], "small")


def _freeze_randomly(spec: ModelSpec, rng: np.random.Generator) -> ModelSpec:
    frozen = [i for i in range(len(spec.layers)) if rng.random() < 0.4]
    return spec_edits.set_trainable(spec, frozen, False)


def test_random_stacks_with_random_frozen_layers_count_like_keras() -> None:
    import keras

    rng = np.random.default_rng(16)
    stacks = [s for s, _ in random_stacks(seed=1603, count=40)]
    stacks += [s for s, _ in random_stacks_1d(seed=1604, count=20)]
    frozen_seen = frozen_bn_seen = 0
    for number, spec in enumerate(stacks):
        if number % 20 == 0:
            keras.backend.clear_session()
        spec = _freeze_randomly(spec, rng)
        report = assert_matches_keras(spec)  # totals equal trainable_weights / non_trainable
        model = build_model(spec)
        for row, layer, keras_layer in zip(report.layers, spec.layers, model.layers):
            assert keras_layer.trainable == layer.trainable
            assert row.frozen == (not layer.trainable)
            assert row.trainable == _count(keras_layer.trainable_weights), spec.name
            assert row.non_trainable == _count(keras_layer.non_trainable_weights), spec.name
            if row.frozen and row.params:
                frozen_seen += 1
                assert row.trainable == 0
                frozen_bn_seen += layer.type == "BatchNormalization"
    assert frozen_seen > 20 and frozen_bn_seen > 0  # the sample really freezes weights


def test_frozen_batch_norm_has_no_trainable_weights_and_unfrozen_keeps_moving_stats() -> None:
    spec = _small_spec()
    bn_frozen = spec_edits.set_trainable(spec, [1], False)
    assert (analyze(spec).layers[1].trainable, analyze(spec).layers[1].non_trainable) == (8, 8)
    assert (analyze(bn_frozen).layers[1].trainable,
            analyze(bn_frozen).layers[1].non_trainable) == (0, 16)
    assert_matches_keras(bn_frozen)


def test_json_writes_trainable_only_for_frozen_layers_and_reads_it_back() -> None:
    spec = _small_spec()
    plain = json.loads(spec.to_json())
    assert all("trainable" not in layer for layer in plain["layers"])  # old specs unchanged
    frozen = spec_edits.set_trainable(spec, [0, 1], False)
    data = json.loads(frozen.to_json())
    assert [layer.get("trainable") for layer in data["layers"]] == [False, False, None, None]
    back = ModelSpec.from_json(frozen.to_json())
    assert back == frozen
    assert [layer.trainable for layer in back.layers] == [False, False, True, True]
    data["layers"][2]["trainable"] = True  # written out by hand: accepted
    assert ModelSpec.from_dict(data).layers[2].trainable


def test_a_trainable_value_that_is_not_a_boolean_is_refused_readably() -> None:
    data = json.loads(_small_spec().to_json())
    data["layers"][0]["trainable"] = "no"
    with pytest.raises(SpecError, match=r"Layer 1 \(Conv2D\): 'trainable' must be true or false"):
        ModelSpec.from_dict(data)


def test_edits_keep_the_frozen_flag_and_leave_the_input_alone() -> None:
    spec = spec_edits.set_trainable(_small_spec(), [0], False)
    before = spec.to_json()
    assert not spec_edits.duplicate_layer(spec, 0).layers[1].trainable
    assert not spec_edits.move_layer(spec, 0, 2).layers[2].trainable
    assert not spec_edits.insert_layer(spec, 4, spec.layers[0]).layers[4].trainable
    assert not spec_edits.set_param(spec, 0, "filters", 8).layers[0].trainable
    thawed = spec_edits.set_trainable(spec, range(4), True)
    assert all(layer.trainable for layer in thawed.layers)
    assert spec.to_json() == before


def test_saved_model_reads_back_as_the_same_frozen_spec(tmp_path) -> None:
    spec = spec_edits.set_trainable(_small_spec(), [0, 1], False)
    path = save_model_file(build_model(spec), tmp_path / "frozen.keras")
    model = load_model_file(path)
    assert [layer.trainable for layer in model.layers] == [False, False, True, True]
    assert model_to_spec(model) == spec


def test_exported_code_freezes_the_same_layers() -> None:
    spec = spec_edits.set_trainable(_small_spec(), [1], False)
    script = export_python(spec)
    lines = [line for line in script.splitlines() if "trainable=False" in line]
    assert len(lines) == 1 and "layers.BatchNormalization(" in lines[0]
    namespace: dict = {}
    exec(compile(script.split("\nmodel.compile(")[0], "exported", "exec"), namespace)
    model = namespace["model"]
    report = analyze(spec)
    assert _count(model.trainable_weights) == report.trainable_params
    assert _count(model.non_trainable_weights) == report.non_trainable_params
