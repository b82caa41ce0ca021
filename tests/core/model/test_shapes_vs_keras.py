"""The editor's instant arithmetic must equal what Keras builds, layer by layer.

If these fail, the shapes and parameter counts a student sees while editing are wrong.
"""

from __future__ import annotations

import math

import pytest

from cnnviz.core.model.builder import build_model
from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.shapes import StackReport, analyze
from cnnviz.core.model.spec import ModelSpec
from tests.core.model.stack_generator import random_stacks

RANDOM_STACKS = 240


def _weight_total(weights: list) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def assert_matches_keras(spec: ModelSpec) -> StackReport:
    """Build `spec` in Keras and compare every layer with analyze(spec)."""
    report = analyze(spec)
    assert report.ok, report.error_message()
    model = build_model(spec)
    assert len(model.layers) == len(report.layers)
    for row, layer in zip(report.layers, model.layers):
        where = f"{spec.name} layer {row.index} ({row.type} '{row.name}')"
        assert row.name == layer.name, where
        assert row.output_shape == tuple(layer.output.shape[1:]), where
        assert row.params == layer.count_params(), where
    assert report.trainable_params == _weight_total(model.trainable_weights), spec.name
    assert report.non_trainable_params == _weight_total(model.non_trainable_weights), spec.name
    assert report.total_params == model.count_params(), spec.name
    return report


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_shapes_and_counts_equal_keras(key: str) -> None:
    assert_matches_keras(preset_spec(key))


def test_tutorial_presets_have_the_published_parameter_counts() -> None:
    # The numbers printed by model.summary() in the Keras / TensorFlow tutorials.
    assert analyze(preset_spec("mnist_cnn")).total_params == 515_146
    assert analyze(preset_spec("dense_baseline")).total_params == 101_770
    assert analyze(preset_spec("lenet5")).total_params == 61_706
    assert analyze(preset_spec("small_vgg_cifar10")).total_params < 600_000
    # Not a tutorial's: shaped for the bundled example folder (64×64 colour, 3 classes).
    assert analyze(preset_spec("image_folder_cnn")).total_params == 171_299


def test_random_stacks_equal_keras() -> None:
    import keras

    stacks = random_stacks(seed=20240611, count=RANDOM_STACKS)
    seen_types: set[str] = set()
    seen: set[str] = set()
    for number, (spec, expected_shapes) in enumerate(stacks):
        if number % 25 == 0:
            keras.backend.clear_session()  # keeps layer bookkeeping from piling up
        report = assert_matches_keras(spec)
        # The generator's own textbook formulas agree too (guards the generator itself).
        assert [row.output_shape for row in report.layers] == expected_shapes, spec.name
        for layer in spec.layers:
            seen_types.add(layer.type)
            p = layer.params
            if layer.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
                seen.add("padding=" + p["padding"])
                window = p.get("kernel_size") or p["pool_size"]
                if window[0] != window[1]:
                    seen.add("non-square window")
                if window[0] % 2 == 0:
                    seen.add("even window")
                if p["strides"] and p["strides"] != [1, 1]:
                    seen.add("strides")
            if p.get("kernel_regularizer"):
                seen.add("regularizer")
            if p.get("use_bias") is False:
                seen.add("no bias")
            if layer.type == "BatchNormalization":
                position = report.layers[spec.layers.index(layer)].input_shape
                seen.add(f"batchnorm on {len(position)}-D")
        if spec.input_shape[0] != spec.input_shape[1]:
            seen.add("non-square input")
    # The sample must really cover what it claims to, or the comparison proves little.
    assert seen_types == {
        "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
        "GlobalAveragePooling2D", "BatchNormalization", "Dropout", "Flatten", "Dense",
        "Activation",
    }
    assert seen >= {"padding=valid", "padding=same", "non-square window", "even window",
                    "strides", "regularizer", "no bias", "batchnorm on 3-D",
                    "batchnorm on 1-D", "non-square input"}
