"""Every number the 1-D explainer shows equals what Keras computes for that layer.

Each test builds one small Keras layer (keras.layers.Conv1D, MaxPooling1D, ...) with random
weights, runs it once on a random (steps, channels) input, and checks the numpy step-by-step
explanation of core/explain/steps_1d.py against Keras at every output step and every
filter or channel: the window (with its padding marked), the kernel, the products, the sums,
the bias, the value before and after the activation.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.frames import (
    ActivationSteps, BatchNormSteps, ConvFrame, DenseSteps, DropoutSteps, FlattenSteps,
    GenericSteps, InputSteps, PoolFrame,
)
from cnnviz.core.explain.frames_1d import (
    Conv1DFrame, Conv1DSteps, GlobalPool1DSteps, Pool1DFrame, Pool1DSteps,
)
from cnnviz.core.explain.steps import explain_layer
from cnnviz.core.explain.steps_1d import sequence_padding

RTOL, ATOL = 1e-4, 1e-5
STEPS, CHANNELS, FILTERS = 17, 3, 3


def close(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64),
                               rtol=rtol, atol=atol)


def run_layer(layer, x: np.ndarray, weights: list[np.ndarray] | None = None) -> np.ndarray:
    """The layer's Keras output for one input (no batch axis), after setting `weights`."""
    if not layer.built:
        layer.build((None,) + x.shape)
    if weights is not None:
        layer.set_weights(weights)
    return keras.ops.convert_to_numpy(layer(x[None], training=False))[0]


def random_weights(layer, x_shape: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    layer.build((None,) + x_shape)
    return [rng.normal(0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()]


def nan_padded(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """The sequence padded by hand with NaN: a NaN in a window marks a padding cell."""
    widths = ((before, after),) + ((0, 0),) * (x.ndim - 1)
    return np.pad(x.astype(np.float64), widths, constant_values=np.nan)


# ----------------------------------------------------------------------------- padding

@pytest.mark.parametrize("steps, span, stride, padding, expected", [
    (10, 3, 1, "valid", (8, 0, 0)),
    (10, 3, 2, "valid", (4, 0, 0)),     # the last window ends at step 7: step 8, 9 unread
    (10, 3, 1, "same", (10, 1, 1)),
    (10, 4, 1, "same", (10, 1, 2)),     # an even window: the extra zero goes after
    (10, 3, 3, "same", (4, 1, 1)),      # total (4 − 1)·3 + 3 − 10 = 2
    (10, 5, 1, "same", (10, 2, 2)),     # a kernel of 3 with dilation 2 spans 5 steps
    (10, 5, 1, "causal", (10, 4, 0)),   # dilation·(kernel − 1) zeros, all before
    (10, 3, 3, "causal", (4, 2, 0)),
    (1, 7, 1, "causal", (1, 6, 0)),
])
def test_sequence_padding_is_kerass(steps, span, stride, padding, expected):
    assert sequence_padding(steps, span, stride, padding) == expected


# ----------------------------------------------------------------------------- Conv1D

ACTIVATIONS = ["relu", None, "tanh", "sigmoid", "gelu", "leaky_relu", "softmax", "elu", "selu"]
# Keras refuses strides > 1 together with dilation_rate > 1, so those pairs cannot be built.
CONV1D_CASES = [
    (kernel, stride, dilation, padding)
    for kernel, stride, dilation, padding in itertools.product(
        range(1, 8), range(1, 4), (1, 2), ("valid", "same", "causal"))
    if stride == 1 or dilation == 1
]


@pytest.mark.parametrize("kernel_size, stride, dilation, padding", CONV1D_CASES)
def test_conv1d_every_step_and_filter_matches_keras(kernel_size, stride, dilation, padding):
    case = CONV1D_CASES.index((kernel_size, stride, dilation, padding))
    activation = ACTIVATIONS[case % len(ACTIVATIONS)]
    use_bias = case % 4 != 3
    rng = np.random.default_rng(200 + case)
    x = rng.normal(0, 1, (STEPS, CHANNELS)).astype(np.float32)
    settings = dict(filters=FILTERS, kernel_size=kernel_size, strides=stride, padding=padding,
                    dilation_rate=dilation, use_bias=use_bias)
    layer = keras.layers.Conv1D(activation=activation, **settings)
    linear = keras.layers.Conv1D(activation=None, **settings)
    weights = random_weights(layer, x.shape, rng)
    keras_out = run_layer(layer, x, weights)
    keras_pre = run_layer(linear, x, weights)

    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, Conv1DSteps) and steps.kind == "conv1d"
    assert (steps.strides, steps.dilation, steps.padding) == (stride, dilation, padding)
    assert steps.activation == (activation or "linear")
    span = dilation * (kernel_size - 1) + 1
    assert steps.span == span and steps.kernel_size == kernel_size
    if padding == "causal":
        assert (steps.pad_left, steps.pad_right) == (dilation * (kernel_size - 1), 0)
    elif padding == "valid":
        assert (steps.pad_left, steps.pad_right) == (0, 0)
    close(steps.kernel, weights[0])
    close(steps.bias, weights[1] if use_bias else np.zeros(FILTERS))
    close(steps.pre_activation, keras_pre)

    out_steps = keras_out.shape[0]
    frames = [steps.frame(t, f) for t in range(out_steps) for f in range(FILTERS)]
    index = np.array([(fr.out_t, fr.filter) for fr in frames])
    assert [tuple(i) for i in index] == list(itertools.product(range(out_steps), range(FILTERS)))
    cells = np.stack([fr.input_steps for fr in frames])
    starts = index[:, 0] * stride - steps.pad_left
    np.testing.assert_array_equal([fr.start for fr in frames], starts)
    np.testing.assert_array_equal(cells, starts[:, None] + np.arange(kernel_size) * dilation)
    padded = nan_padded(x, steps.pad_left, steps.pad_right)
    expected = padded[cells + steps.pad_left]          # (frames, k, C); IndexError if too short
    windows = np.stack([fr.window for fr in frames])
    insides = np.stack([fr.inside for fr in frames])
    np.testing.assert_array_equal(insides, ~np.isnan(expected[..., 0]))
    np.testing.assert_array_equal(insides, (cells >= 0) & (cells < STEPS))
    np.testing.assert_array_equal(windows, np.nan_to_num(expected, nan=0.0))
    kernels = np.stack([fr.kernel for fr in frames])
    np.testing.assert_array_equal(kernels, np.moveaxis(weights[0], 2, 0)[index[:, 1]])
    products = np.stack([fr.products for fr in frames])
    np.testing.assert_array_equal(products, windows * kernels)
    sums = np.stack([fr.channel_sums for fr in frames])
    close(sums, products.sum(axis=1))
    biases = np.array([fr.bias for fr in frames])
    close(biases, (weights[1] if use_bias else np.zeros(FILTERS))[index[:, 1]])
    # the written sum itself (channel sums + bias) is Keras's value before the activation
    close(sums.sum(axis=1) + biases, keras_pre.reshape(-1))
    close([fr.pre_activation for fr in frames], keras_pre.reshape(-1))
    close([fr.output for fr in frames], keras_out.reshape(-1))
    assert {fr.activation for fr in frames} == {activation or "linear"}
    # padding is drawn exactly when some window reaches it
    assert insides.all() == (steps.pad_left == steps.pad_right == 0)


def test_conv1d_causal_output_never_reads_a_later_step():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 2)).astype(np.float32)
    layer = keras.layers.Conv1D(2, 4, padding="causal", dilation_rate=2)
    steps = explain_layer(layer, x, run_layer(layer, x))
    for t in range(12):
        frame = steps.frame(t, 1)
        assert frame.input_steps[-1] == t     # the kernel's last cell reads step t itself
        assert frame.input_steps.tolist() == [t - 6, t - 4, t - 2, t]
        assert frame.inside.tolist() == [s >= 0 for s in frame.input_steps]


def field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_1d_frames_use_the_2d_frames_names_for_the_same_numbers():
    """`cnnviz explain --json` prints a frame's fields: a 1-D frame has the 2-D frame's keys,
    with one position (out_t, start, input_steps) where a 2-D frame has two."""
    assert field_names(Conv1DFrame) - {"out_t", "start", "input_steps"} == \
        field_names(ConvFrame) - {"out_y", "out_x", "top", "left"}
    assert field_names(Pool1DFrame) - {"out_t", "start", "input_steps"} == \
        field_names(PoolFrame) - {"out_y", "out_x", "top", "left"}
    x = np.random.default_rng(4).normal(size=(8, 2)).astype(np.float32)
    layer = keras.layers.Conv1D(2, 3, padding="same")
    frame = explain_layer(layer, x, run_layer(layer, x)).frame(0, 1)
    printed = json.loads(json.dumps({key: value.tolist() if isinstance(value, np.ndarray)
                                     else value for key, value in dataclasses.asdict(frame).items()}))
    assert printed["input_steps"] == [-1, 0, 1] and printed["inside"] == [False, True, True]
    assert printed["window"][0] == [0.0, 0.0] and len(printed["channel_sums"]) == 2


def test_conv1d_frame_outside_the_output_is_a_readable_error():
    x = np.random.default_rng(1).normal(size=(9, 2)).astype(np.float32)
    layer = keras.layers.Conv1D(4, 3, name="wiggles")
    steps = explain_layer(layer, x, run_layer(layer, x))
    for position in [(7, 0), (-1, 0), (0, 4), (1.5, 0), (True, 0)]:
        with pytest.raises(ExplainError, match="'wiggles' has an output of 7 steps with 4 filters"):
            steps.frame(*position)


@pytest.mark.parametrize("settings, reason", [
    (dict(groups=2), "groups"),
    (dict(activation=lambda t: t * 2.0), "not a built-in Keras activation"),
])
def test_conv1d_the_explainer_cannot_animate_says_why(settings, reason):
    x = np.random.default_rng(2).normal(size=(10, 4)).astype(np.float32)
    layer = keras.layers.Conv1D(4, 3, **settings)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and steps.kind == "generic"
    assert reason in steps.note and "output maps only" in steps.note


def test_channels_first_1d_layers_are_generic():
    x = np.ones((3, 8), np.float32)   # channels first: 3 channels of 8 steps
    for layer, out in [(keras.layers.MaxPooling1D(2, data_format="channels_first"), (3, 4)),
                       (keras.layers.GlobalAveragePooling1D(data_format="channels_first"), (3,))]:
        steps = explain_layer(layer, x, np.ones(out, np.float32))
        assert isinstance(steps, GenericSteps) and "channels_first" in steps.note


def test_conv1d_given_arrays_that_do_not_fit_says_so():
    x = np.zeros((8, 2), np.float32)
    layer = keras.layers.Conv1D(3, 3, name="c1")
    out = run_layer(layer, x)
    with pytest.raises(ExplainError, match=r"'c1' needs its input as steps × channels"):
        explain_layer(layer, np.zeros((8, 8, 2), np.float32), out)
    with pytest.raises(ExplainError, match="expects 2 input channels, but its input has 5"):
        explain_layer(layer, np.zeros((8, 5), np.float32), out)
    with pytest.raises(ExplainError, match=r"makes \(6, 3\) from a \(8, 2\) input"):
        explain_layer(layer, x, out[:5])


# ----------------------------------------------------------------------------- pooling

POOL_CASES = list(itertools.product(
    ("max", "average"), ("valid", "same"), range(1, 5), (None, 1, 2, 3)))


@pytest.mark.parametrize("mode, padding, pool_size, stride", POOL_CASES)
def test_pooling_1d_every_step_and_channel_matches_keras(mode, padding, pool_size, stride):
    rng = np.random.default_rng(300 + POOL_CASES.index((mode, padding, pool_size, stride)))
    x = rng.normal(0, 1, (11, CHANNELS)).astype(np.float32)
    cls = keras.layers.MaxPooling1D if mode == "max" else keras.layers.AveragePooling1D
    layer = cls(pool_size=pool_size, strides=stride, padding=padding)
    keras_out = run_layer(layer, x)

    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, Pool1DSteps) and steps.kind == "pool1d" and steps.mode == mode
    assert steps.pool_size == pool_size and steps.strides == (stride or pool_size)
    padded = nan_padded(x, steps.pad_left, steps.pad_right)
    out_steps = keras_out.shape[0]
    frames = [steps.frame(t, c) for t in range(out_steps) for c in range(CHANNELS)]
    cells = np.stack([fr.input_steps for fr in frames])
    starts = np.repeat(np.arange(out_steps) * steps.strides - steps.pad_left, CHANNELS)
    np.testing.assert_array_equal(cells, starts[:, None] + np.arange(pool_size))
    channels = np.tile(np.arange(CHANNELS), out_steps)
    expected = padded[cells + steps.pad_left, channels[:, None]]
    windows = np.stack([fr.window for fr in frames])
    insides = np.stack([fr.inside for fr in frames])
    np.testing.assert_array_equal(insides, ~np.isnan(expected))
    np.testing.assert_array_equal(windows, np.nan_to_num(expected, nan=0.0))
    counts = np.array([fr.count for fr in frames])
    np.testing.assert_array_equal(counts, insides.sum(axis=1))
    outputs = np.array([fr.output for fr in frames])
    close(outputs, keras_out.reshape(-1))
    if mode == "max":
        picked = np.array([fr.picked for fr in frames])
        np.testing.assert_array_equal(windows[np.arange(len(frames)), picked],
                                      np.nanmax(expected, axis=1))
        assert insides[np.arange(len(frames)), picked].all(), "the max is never a padding cell"
    else:
        assert all(fr.picked is None for fr in frames)
        close(outputs, np.nanmean(expected, axis=1))   # Keras divides by the real cells only


def test_average_pooling_same_divides_by_the_real_cells_only():
    x = np.arange(1, 6, dtype=np.float32)[:, None]        # 1 2 3 4 5
    layer = keras.layers.AveragePooling1D(pool_size=2, padding="same")
    steps = explain_layer(layer, x, run_layer(layer, x))
    last = steps.frame(2, 0)                              # the window over 5 and a zero
    assert last.inside.tolist() == [True, False] and last.count == 1
    assert last.output == pytest.approx(5.0) == steps.output[2, 0]


def test_pool_1d_frame_outside_the_output_is_a_readable_error():
    layer = keras.layers.MaxPooling1D(2, name="squash")
    x = np.zeros((7, 2), np.float32)
    steps = explain_layer(layer, x, run_layer(layer, x))
    with pytest.raises(ExplainError, match="'squash' has an output of 3 steps with 2 channels"):
        steps.frame(0, 2)
    with pytest.raises(ExplainError, match="no value at step 3, channel 0"):
        steps.frame(3, 0)


# ----------------------------------------------------------------------------- global pooling

@pytest.mark.parametrize("cls, keepdims", [
    (keras.layers.GlobalMaxPooling1D, False), (keras.layers.GlobalAveragePooling1D, False),
    (keras.layers.GlobalMaxPooling1D, True), (keras.layers.GlobalAveragePooling1D, True),
])
def test_global_pooling_1d_matches_keras_and_points_at_each_maximum(cls, keepdims):
    x = np.random.default_rng(3).normal(size=(13, 5)).astype(np.float32)
    layer = cls(keepdims=keepdims)
    keras_out = run_layer(layer, x)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, GlobalPool1DSteps) and steps.kind == "global_pool1d"
    values = keras_out.reshape(-1)
    if steps.mode == "max":
        assert len(steps.picked) == 5
        close([x[step, channel] for channel, step in enumerate(steps.picked)], values)
        close(values, x.max(axis=0))
    else:
        assert steps.mode == "average" and steps.picked == []
        close(values, x.mean(axis=0))


# --------------------------------------------------------------- the rest on (steps, channels)

def test_elementwise_layers_work_on_a_sequence():
    rng = np.random.default_rng(6)
    x = rng.normal(1, 2, (9, 4)).astype(np.float32)

    layer = keras.layers.Activation("tanh")
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, ActivationSteps) and steps.function == "tanh"
    close(steps.curve_y, np.tanh(steps.curve_x))

    for dropout in (keras.layers.Dropout(0.5), keras.layers.SpatialDropout1D(0.3)):
        steps = explain_layer(dropout, x, run_layer(dropout, x))
        assert isinstance(steps, DropoutSteps)
        np.testing.assert_array_equal(steps.output, x)

    norm = keras.layers.BatchNormalization(epsilon=1e-2)
    norm.build((None, 9, 4))
    weights = [rng.uniform(0.5, 2, 4), rng.normal(0, 1, 4), rng.normal(0, 1, 4),
               rng.uniform(0.2, 3, 4)]
    keras_out = run_layer(norm, x, [w.astype(np.float32) for w in weights])
    steps = explain_layer(norm, x, keras_out)
    assert isinstance(steps, BatchNormSteps)
    close(x * steps.scale + steps.shift, keras_out)

    flatten = keras.layers.Flatten()
    keras_out = run_layer(flatten, x)
    steps = explain_layer(flatten, x, keras_out)
    assert isinstance(steps, FlattenSteps)
    np.testing.assert_array_equal([x[steps.source_of(i)] for i in range(x.size)], keras_out)
    assert steps.source_of(2 * 4 + 3) == (2, 3)           # step · channels + channel


def test_dense_after_flattening_a_sequence_and_dense_on_each_step():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    dense = keras.layers.Dense(4, activation="softmax")
    flat = x.reshape(-1)
    weights = random_weights(dense, flat.shape, rng)
    keras_out = run_layer(dense, flat, weights)
    steps = explain_layer(dense, flat, keras_out)
    assert isinstance(steps, DenseSteps)
    close([steps.frame(unit).output for unit in range(4)], keras_out)
    per_step = keras.layers.Dense(2)
    steps = explain_layer(per_step, x, run_layer(per_step, x))
    assert isinstance(steps, GenericSteps) and "Flatten" in steps.note
    assert steps.output.shape == (6, 2)


def test_upsampling_1d_and_a_1d_input_layer():
    x = np.random.default_rng(8).normal(size=(5, 2)).astype(np.float32)
    layer = keras.layers.UpSampling1D(3)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and "UpSampling1D" in steps.note
    assert steps.output.shape == (15, 2)
    steps = explain_layer(keras.layers.InputLayer(shape=(5, 2)), x, x)
    assert isinstance(steps, InputSteps) and steps.input.shape == (5, 2)
