"""The editor's instant arithmetic must equal what Keras builds, layer by layer.

If these fail, the shapes and parameter counts a student sees while editing are wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnviz.core.errors import SpecError
from cnnviz.core.model.builder import build_model
from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.shapes import StackReport, analyze
from cnnviz.core.model.spec import ModelSpec, normalize_layer
from tests.core.model.stack_generator import misfit_layer, random_stacks, random_stacks_1d

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


# ---------------------------------------------------------------- 1-D


RANDOM_STACKS_1D = 200
MISFITS = 120


def test_sequence_presets_have_the_published_parameter_counts() -> None:
    # The Keras guide's Conv1D example prints 105,729 in model.summary().
    report = analyze(preset_spec("keras_sequence_1d"))
    assert report.total_params == 105_729
    assert [row.output_shape for row in report.layers] == [
        (62, 64), (60, 64), (20, 64), (18, 128), (16, 128), (128,), (128,), (1,)]
    assert analyze(preset_spec("signal_fcn")).total_params == 17_346


def test_random_1d_stacks_equal_keras() -> None:
    import keras

    seen_types: set[str] = set()
    seen: set[str] = set()
    stacks = random_stacks_1d(seed=14, count=RANDOM_STACKS_1D)
    for number, (spec, expected_shapes) in enumerate(stacks):
        if number % 25 == 0:
            keras.backend.clear_session()
        report = assert_matches_keras(spec)
        assert [row.output_shape for row in report.layers] == expected_shapes, spec.name
        for layer, row in zip(spec.layers, report.layers):
            seen_types.add(layer.type)
            p = layer.params
            if layer.type in ("Conv1D", "MaxPooling1D", "AveragePooling1D"):
                seen.add("padding=" + p["padding"])
                window = p.get("kernel_size") or p["pool_size"]
                seen.add("even window" if window % 2 == 0 else "odd window")
                if p["strides"] and p["strides"] > 1:
                    seen.add("strides")
                if p["strides"] and p["strides"] > window:
                    seen.add("strides beyond the window")
            if p.get("dilation_rate", 1) > 1:
                seen.add("dilation")
                if p["padding"] == "causal":
                    seen.add("causal dilation")
            if p.get("kernel_regularizer"):
                seen.add("regularizer")
            if p.get("use_bias") is False:
                seen.add("no bias")
            if layer.type in ("BatchNormalization", "Dense", "Flatten", "Dropout"):
                seen.add(f"{layer.type} on {len(row.input_shape)}-D")
            if layer.type == "Conv1D" and p["padding"] != "valid" and \
                    p["kernel_size"] > row.input_shape[0]:
                seen.add("kernel longer than the sequence")
    assert seen_types == {
        "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D",
        "GlobalAveragePooling1D", "BatchNormalization", "Dropout", "Flatten", "Dense",
        "Activation",
    }
    assert seen >= {"padding=valid", "padding=same", "padding=causal", "even window",
                    "odd window", "strides", "strides beyond the window", "dilation",
                    "causal dilation", "regularizer", "no bias", "BatchNormalization on 2-D",
                    "Dense on 2-D", "Flatten on 2-D", "Dropout on 2-D", "Dense on 1-D",
                    "kernel longer than the sequence"}


def _keras_fails_to_add(spec: ModelSpec, layer) -> bool:
    """Whether Keras itself refuses `layer` after the (valid) stack `spec`."""
    import keras

    model = build_model(spec)
    kwargs = {key: tuple(value) if isinstance(value, list) else value
              for key, value in layer.params.items()}
    try:
        getattr(keras.layers, layer.type)(**kwargs)(model.outputs[0])
    except ValueError:
        return True
    return False


def test_refusals_in_random_stacks_are_keras_failures_too() -> None:
    import keras

    rng = np.random.default_rng(41)
    prefixes = [spec for spec, _ in random_stacks_1d(seed=5, count=MISFITS // 2)]
    prefixes += [spec for spec, _ in random_stacks(seed=6, count=MISFITS // 2)]
    kinds: set[str] = set()
    for number, spec in enumerate(prefixes):
        if number % 25 == 0:
            keras.backend.clear_session()
        shape = analyze(spec).output_shape
        assert shape is not None
        misfit = normalize_layer(misfit_layer(rng, shape))
        bad = spec.copy()
        bad.layers.append(misfit)
        report = analyze(bad)
        error = report.layers[-1].error
        assert error is not None, (spec.name, misfit)
        assert report.first_error is report.layers[-1]
        assert _keras_fails_to_add(spec, misfit), (spec.name, misfit, error)
        with pytest.raises(SpecError, match="Layer"):
            build_model(bad)  # the editor's sentence, never a Keras traceback
        kinds.add(f"{misfit.type} on {len(shape)}-D")
        if "leaves nothing" in error or "so nothing is left" in error:
            kinds.add("too long")
        if "cannot do both" in error:
            kinds.add("strides and dilation")
    assert kinds >= {"Conv2D on 2-D", "MaxPooling2D on 2-D", "GlobalAveragePooling2D on 2-D",
                     "Conv1D on 3-D", "Conv1D on 1-D", "MaxPooling1D on 3-D", "too long",
                     "strides and dilation"}
