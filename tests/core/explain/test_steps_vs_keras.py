"""Every number the explainer shows equals what Keras computes for that layer.

Each test builds one small Keras layer with random weights (fixed seeds), runs it on a random
input, and checks the numpy step-by-step explanation of core/steps.py against Keras: for
Conv2D and pooling every output position and filter/channel.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz.core.errors import ExplainError
from cnnviz.core.explain.activation_functions import activation_function, known_activations
from cnnviz.core.explain.frames import (
    ActivationSteps, BatchNormSteps, ConvSteps, DenseSteps, DropoutSteps, FlattenSteps,
    GenericSteps, GlobalPoolSteps, InputSteps, PoolSteps, softmax_steps,
)
from cnnviz.core.explain.steps import explain_layer
from cnnviz.core.explain.steps_spatial import padding_for

RTOL, ATOL = 1e-4, 1e-5


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


def padded_with_nan(x: np.ndarray, steps, size: tuple[int, int]) -> np.ndarray:
    """The input padded by hand with NaN on every side the layer's windows can reach."""
    out_h, out_w = steps.output.shape[:2]
    bottom = max((out_h - 1) * steps.strides[0] + size[0] - x.shape[0] - steps.pad_top, 0)
    right = max((out_w - 1) * steps.strides[1] + size[1] - x.shape[1] - steps.pad_left, 0)
    widths = ((steps.pad_top, bottom), (steps.pad_left, right)) + ((0, 0),) * (x.ndim - 2)
    return np.pad(x.astype(np.float64), widths, constant_values=np.nan)


# ----------------------------------------------------------------------------- padding

@pytest.mark.parametrize("size, kernel, stride, expected", [
    (7, 3, 1, (7, 1)),   # total 2: one each side
    (7, 4, 1, (7, 1)),   # total 3: the extra zero goes to the bottom/right
    (8, 2, 1, (8, 0)),   # total 1: all of it at the bottom/right
    (8, 2, 2, (4, 0)),   # strides tile exactly: no padding
    (7, 2, 3, (3, 0)),   # total 1 (2·3 + 2 − 7)
    (9, 3, 2, (5, 1)),
])
def test_same_padding_is_tensorflows(size, kernel, stride, expected):
    assert padding_for(size, kernel, stride, "same") == expected
    assert padding_for(size, kernel, stride, "valid")[1] == 0


# ----------------------------------------------------------------------------- Conv2D

CONV_KERNELS = [(3, 3), (2, 2), (4, 4), (1, 1)]
CONV_STRIDES = [(1, 1), (2, 2), (1, 2)]
CONV_ACTIVATIONS = ["relu", None, "tanh", "sigmoid", "gelu", "leaky_relu", "softmax", "elu"]
CONV_CASES = [
    (kernel, strides, padding)
    for kernel, strides, padding in itertools.product(CONV_KERNELS, CONV_STRIDES, ("valid", "same"))
] + [((2, 2), (3, 3), "valid"), ((2, 2), (3, 3), "same"), ((3, 2), (2, 1), "same")]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d_every_position_and_filter_matches_keras(case):
    kernel_size, strides, padding = CONV_CASES[case]
    activation = CONV_ACTIVATIONS[case % len(CONV_ACTIVATIONS)]
    use_bias = case % 3 != 2
    rng = np.random.default_rng(100 + case)
    x = rng.normal(0, 1, (7, 8, 3)).astype(np.float32)
    settings = dict(filters=4, kernel_size=kernel_size, strides=strides, padding=padding,
                    use_bias=use_bias)
    layer = keras.layers.Conv2D(activation=activation, **settings)
    linear = keras.layers.Conv2D(activation=None, **settings)
    weights = random_weights(layer, x.shape, rng)
    keras_out = run_layer(layer, x, weights)
    keras_pre = run_layer(linear, x, weights)

    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, ConvSteps) and steps.kind == "conv"
    assert steps.strides == strides and steps.padding == padding
    assert steps.activation == (activation or "linear")
    close(steps.kernel, weights[0])
    close(steps.bias, weights[1] if use_bias else np.zeros(4))
    close(steps.pre_activation, keras_pre)

    padded = padded_with_nan(x, steps, kernel_size)
    kh, kw = kernel_size
    out_h, out_w, filters = keras_out.shape
    frames = [steps.frame(y, x_, f)
              for y in range(out_h) for x_ in range(out_w) for f in range(filters)]
    index = np.array([(fr.out_y, fr.out_x, fr.filter) for fr in frames])
    assert [tuple(i) for i in index] == list(itertools.product(range(out_h), range(out_w),
                                                                range(filters)))
    expected = np.stack([padded[y * strides[0]:y * strides[0] + kh,
                                x_ * strides[1]:x_ * strides[1] + kw] for y, x_, _ in index])
    windows = np.stack([fr.window for fr in frames])
    insides = np.stack([fr.inside for fr in frames])
    np.testing.assert_array_equal(insides, ~np.isnan(expected[..., 0]))
    np.testing.assert_array_equal(windows, np.nan_to_num(expected, nan=0.0))
    tops = np.array([(fr.top, fr.left) for fr in frames])
    np.testing.assert_array_equal(tops, index[:, :2] * strides - (steps.pad_top, steps.pad_left))
    kernels = np.stack([fr.kernel for fr in frames])
    np.testing.assert_array_equal(kernels, np.moveaxis(weights[0], 3, 0)[index[:, 2]])
    products = np.stack([fr.products for fr in frames])
    np.testing.assert_array_equal(products, windows * kernels)
    sums = np.stack([fr.channel_sums for fr in frames])
    close(sums, products.sum(axis=(1, 2)))
    biases = np.array([fr.bias for fr in frames])
    pre = np.array([fr.pre_activation for fr in frames])
    close(sums.sum(axis=1) + biases, pre)
    close(pre, keras_pre.reshape(-1))
    close(np.array([fr.output for fr in frames]), keras_out.reshape(-1))
    assert {fr.activation for fr in frames} == {activation or "linear"}


def test_conv2d_frame_outside_the_output_is_a_readable_error():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 6, 2)).astype(np.float32)
    layer = keras.layers.Conv2D(3, 3, name="edges")
    steps = explain_layer(layer, x, run_layer(layer, x))
    for position in [(4, 0, 0), (0, -1, 0), (0, 0, 3), (1.5, 0, 0)]:
        with pytest.raises(ExplainError, match="'edges' has a 4×4 output with 3 filters"):
            steps.frame(*position)


@pytest.mark.parametrize("settings, reason", [
    (dict(dilation_rate=2), "dilation_rate"),
    (dict(groups=2), "groups"),
    (dict(activation=lambda t: t * 2.0), "not a built-in Keras activation"),
])
def test_conv2d_the_explainer_cannot_animate_says_why(settings, reason):
    x = np.random.default_rng(2).normal(size=(7, 7, 4)).astype(np.float32)
    layer = keras.layers.Conv2D(4, 3, **settings)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and steps.kind == "generic"
    assert reason in steps.note and "output maps only" in steps.note


def test_channels_first_layers_are_generic():
    layer = keras.layers.MaxPooling2D(2, data_format="channels_first")
    x = np.ones((3, 4, 4), np.float32)
    steps = explain_layer(layer, x, np.ones((3, 2, 2), np.float32))
    assert isinstance(steps, GenericSteps) and "channels_first" in steps.note


# ----------------------------------------------------------------------------- pooling

POOL_CASES = list(itertools.product(
    ("max", "average"), ("valid", "same"),
    [((2, 2), None), ((3, 3), (2, 2)), ((2, 3), (1, 1)), ((2, 2), (3, 3)), ((3, 2), (2, 1))]))


@pytest.mark.parametrize("mode, padding, sizes", POOL_CASES)
def test_pooling_every_position_and_channel_matches_keras(mode, padding, sizes):
    pool_size, strides = sizes
    rng = np.random.default_rng(POOL_CASES.index((mode, padding, sizes)))
    x = rng.normal(0, 1, (7, 9, 3)).astype(np.float32)
    cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    keras_out = run_layer(layer, x)

    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, PoolSteps) and steps.kind == "pool" and steps.mode == mode
    assert steps.pool_size == pool_size and steps.strides == (strides or pool_size)
    padded = padded_with_nan(x, steps, pool_size)
    (ph, pw), (sy, sx) = pool_size, steps.strides
    out_h, out_w, channels = keras_out.shape
    frames = [steps.frame(y, x_, c)
              for y in range(out_h) for x_ in range(out_w) for c in range(channels)]
    expected = np.stack([padded[y * sy:y * sy + ph, x_ * sx:x_ * sx + pw, c]
                         for y in range(out_h) for x_ in range(out_w) for c in range(channels)])
    windows = np.stack([fr.window for fr in frames])
    insides = np.stack([fr.inside for fr in frames])
    np.testing.assert_array_equal(insides, ~np.isnan(expected))
    np.testing.assert_array_equal(windows, np.nan_to_num(expected, nan=0.0))
    counts = np.array([fr.count for fr in frames])
    np.testing.assert_array_equal(counts, insides.sum(axis=(1, 2)))
    outputs = np.array([fr.output for fr in frames])
    close(outputs, keras_out.reshape(-1))
    if mode == "max":
        picked = np.array([windows[i][fr.picked] for i, fr in enumerate(frames)])
        np.testing.assert_array_equal(picked, np.nanmax(expected, axis=(1, 2)))
        assert all(insides[i][fr.picked] for i, fr in enumerate(frames))
    else:
        assert all(fr.picked is None for fr in frames)
        close(outputs, np.nanmean(expected, axis=(1, 2)))
    if padding == "same":
        assert counts.min() < ph * pw, "an odd input with 'same' padding must reach the border"


def test_pool_frame_outside_the_output_is_a_readable_error():
    layer = keras.layers.MaxPooling2D(2, name="pool")
    x = np.zeros((5, 5, 2), np.float32)
    steps = explain_layer(layer, x, run_layer(layer, x))
    with pytest.raises(ExplainError, match="'pool' has a 2×2 output with 2 channels"):
        steps.frame(0, 0, 2)
    with pytest.raises(ExplainError, match="row 2, column 0"):
        steps.frame(2, 0, 0)


# ----------------------------------------------------------------------------- global pooling

@pytest.mark.parametrize("cls, keepdims", [
    (keras.layers.GlobalMaxPooling2D, False), (keras.layers.GlobalAveragePooling2D, False),
    (keras.layers.GlobalMaxPooling2D, True),
])
def test_global_pooling_matches_keras_and_points_at_each_maximum(cls, keepdims):
    x = np.random.default_rng(3).normal(size=(5, 6, 4)).astype(np.float32)
    layer = cls(keepdims=keepdims)
    keras_out = run_layer(layer, x)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, GlobalPoolSteps) and steps.kind == "global_pool"
    values = keras_out.reshape(-1)
    if steps.mode == "max":
        assert len(steps.picked) == 4
        close([x[r, c, channel] for channel, (r, c) in enumerate(steps.picked)], values)
        close(values, x.max(axis=(0, 1)))
    else:
        assert steps.mode == "average" and steps.picked == []
        close(values, x.mean(axis=(0, 1)))


# ----------------------------------------------------------------------------- activations

def test_every_numpy_activation_equals_keras_over_a_wide_range():
    values = np.concatenate([np.linspace(-60, 60, 481), np.linspace(-4, 4, 161),
                             [0.0, -0.0, 1e-8, -1e-8]]).astype(np.float32)
    assert {"relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu", "linear",
            "softplus", "softsign", "swish", "silu", "gelu", "hard_sigmoid",
            "exponential"} <= set(known_activations())
    for name in known_activations():
        ours = activation_function(name)(values if name != "exponential" else values / 10)
        theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(
            values if name != "exponential" else values / 10))
        assert ours.dtype == np.float32, name
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=name)
    assert activation_function("leaky_relu")(np.array([-1.0], np.float32))[0] == np.float32(-0.2)
    assert activation_function("no_such_function") is None


@pytest.mark.parametrize("name", sorted(known_activations()))
def test_activation_layer_curve_and_values_match_keras(name):
    x = np.random.default_rng(4).normal(0, 3, (4, 5, 3)).astype(np.float32)
    layer = keras.layers.Activation(name)
    keras_out = run_layer(layer, x)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, ActivationSteps) and steps.kind == "activation"
    assert steps.function == keras.activations.get(name).__name__  # "swish" is Keras's "silu"
    close(activation_function(name)(x), keras_out)
    if name == "leaky_relu":
        assert steps.parameters == {"negative_slope": 0.2}
    if name == "softmax":  # mixes a vector: no curve, and a 3-D input has no single softmax
        assert steps.curve_x.size == 0 and steps.softmax is None
        return
    assert steps.curve_x.min() <= x.min() and steps.curve_x.max() >= x.max()
    assert steps.curve_x.min() <= -1 and steps.curve_x.max() >= 1
    assert np.all(np.diff(steps.curve_x) > 0)
    close(steps.curve_y, keras.ops.convert_to_numpy(keras.activations.get(name)(steps.curve_x)))


@pytest.mark.parametrize("make, function, parameters", [
    (lambda: keras.layers.ReLU(), "relu", {"negative_slope": 0.0, "threshold": 0.0}),
    (lambda: keras.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5), "relu",
     {"negative_slope": 0.1, "max_value": 1.5, "threshold": 0.5}),
    (lambda: keras.layers.ReLU(negative_slope=0.1), "leaky_relu", {"negative_slope": 0.1}),
    (lambda: keras.layers.ReLU(max_value=6.0), "relu", {"max_value": 6.0}),
    (lambda: keras.layers.LeakyReLU(), "leaky_relu", {"negative_slope": 0.3}),
    (lambda: keras.layers.LeakyReLU(negative_slope=0.05), "leaky_relu", {"negative_slope": 0.05}),
    (lambda: keras.layers.ELU(alpha=0.7), "elu", {"alpha": 0.7}),
])
def test_activation_layers_with_settings_draw_keras_curve(make, function, parameters):
    x = np.random.default_rng(5).normal(0, 4, (3, 3, 2)).astype(np.float32)
    layer = make()
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, ActivationSteps) and steps.function == function
    assert parameters.items() <= steps.parameters.items()
    assert steps.curve_x.min() <= x.min() and steps.curve_x.max() >= x.max()
    close(steps.curve_y, keras.ops.convert_to_numpy(make()(steps.curve_x[None]))[0])


def test_softmax_layer_on_a_vector_spells_out_its_steps():
    logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0], np.float32)
    layer = keras.layers.Softmax()
    keras_out = run_layer(layer, logits)
    steps = explain_layer(layer, logits, keras_out)
    assert isinstance(steps, ActivationSteps) and steps.function == "softmax"
    soft = steps.softmax
    close(soft.logits, logits)
    close(soft.shifted, logits - 3.0)
    close(soft.exponentials, np.exp(logits - 3.0))
    close(soft.total, np.exp(logits - 3.0).sum())
    close(soft.probabilities, keras_out)


def test_softmax_steps_stay_finite_for_huge_logits():
    logits = np.array([1000.0, 998.0, -1000.0], np.float32)
    soft = softmax_steps(logits)
    assert soft.shifted.max() == 0 and np.all(np.isfinite(soft.exponentials))
    close(soft.probabilities, keras.ops.convert_to_numpy(keras.activations.softmax(logits[None]))[0])
    close(soft.probabilities.sum(), 1.0)


def test_activation_layer_with_a_custom_function_is_generic():
    x = np.ones((2, 2, 1), np.float32)
    layer = keras.layers.Activation(lambda t: t * 3.0)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and "not a built-in Keras activation" in steps.note


# ----------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("center, scale, shape", [
    (True, True, (4, 5, 3)), (False, True, (4, 5, 3)), (True, False, (6,)),
])
def test_batchnorm_inference_formula_matches_keras(center, scale, shape):
    rng = np.random.default_rng(6)
    x = rng.normal(2, 3, shape).astype(np.float32)
    layer = keras.layers.BatchNormalization(center=center, scale=scale, epsilon=1e-2)
    channels = shape[-1]
    layer.build((None,) + shape)
    weights = []
    if scale:
        weights.append(rng.uniform(0.5, 2.0, channels).astype(np.float32))     # gamma
    if center:
        weights.append(rng.normal(0, 1, channels).astype(np.float32))          # beta
    mean = rng.normal(2, 1, channels).astype(np.float32)
    variance = rng.uniform(0.2, 5.0, channels).astype(np.float32)
    keras_out = run_layer(layer, x, weights + [mean, variance])
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, BatchNormSteps) and steps.kind == "batchnorm"
    close(steps.moving_mean, mean)
    close(steps.moving_variance, variance)
    assert steps.epsilon == pytest.approx(1e-2)
    close(steps.gamma, weights[0] if scale else np.ones(channels))
    close(steps.beta, weights[-1] if center else np.zeros(channels))
    close(x * steps.scale + steps.shift, keras_out)
    close(steps.gamma * (x - mean) / np.sqrt(variance + 1e-2) + steps.beta, keras_out)


# ----------------------------------------------------------------------------- dropout, flatten

@pytest.mark.parametrize("layer", [keras.layers.Dropout(0.4), keras.layers.SpatialDropout2D(0.25)])
def test_dropout_is_the_identity_at_inference(layer):
    x = np.random.default_rng(7).normal(size=(4, 4, 3)).astype(np.float32)
    keras_out = run_layer(layer, x)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, DropoutSteps) and steps.kind == "dropout"
    assert steps.rate == pytest.approx(layer.rate)
    np.testing.assert_array_equal(steps.output, x)
    np.testing.assert_array_equal(steps.input, x)


def test_flatten_source_of_every_output_value_is_kerass_order():
    x = np.random.default_rng(8).normal(size=(3, 4, 5)).astype(np.float32)
    layer = keras.layers.Flatten()
    keras_out = run_layer(layer, x)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, FlattenSteps) and steps.kind == "flatten"
    sources = [steps.source_of(i) for i in range(keras_out.size)]
    np.testing.assert_array_equal([x[s] for s in sources], keras_out)
    assert steps.source_of(4 * 5 + 2 * 5 + 3) == (1, 2, 3)  # (y * W + x) * C + c


# ----------------------------------------------------------------------------- dense

@pytest.mark.parametrize("activation, use_bias", [
    ("relu", True), ("softmax", True), (None, False), ("sigmoid", True), ("tanh", False),
])
def test_dense_every_unit_matches_keras_and_contributions_add_up(activation, use_bias):
    rng = np.random.default_rng(9)
    x = rng.normal(size=12).astype(np.float32)
    settings = dict(units=5, use_bias=use_bias)
    layer = keras.layers.Dense(activation=activation, **settings)
    linear = keras.layers.Dense(activation=None, **settings)
    weights = random_weights(layer, x.shape, rng)
    keras_out = run_layer(layer, x, weights)
    keras_pre = run_layer(linear, x, weights)
    steps = explain_layer(layer, x, keras_out)
    assert isinstance(steps, DenseSteps) and steps.kind == "dense"
    assert steps.activation == (activation or "linear")
    close(steps.pre_activation, keras_pre)
    for top_k in (0, 3, 12, 50):
        frames = [steps.frame(unit, top_k) for unit in range(5)]
        k = min(top_k, 12)
        for unit, fr in enumerate(frames):
            assert fr.unit == unit and len(fr.top_indices) == k and fr.rest_count == 12 - k
            assert len(set(fr.top_indices.tolist())) == k
            np.testing.assert_array_equal(fr.top_inputs, x[fr.top_indices])
            np.testing.assert_array_equal(fr.top_weights, weights[0][fr.top_indices, unit])
            np.testing.assert_array_equal(fr.top_products, fr.top_inputs * fr.top_weights)
            sizes = np.abs(fr.top_products)
            assert np.all(np.diff(sizes) <= 0), "largest contribution first"
            others = np.delete(np.abs(x * weights[0][:, unit]), fr.top_indices)
            assert others.size == 0 or sizes.size == 0 or others.max() <= sizes.min()
            close(fr.top_products.sum() + fr.rest_sum + fr.bias, fr.pre_activation)
        close([fr.pre_activation for fr in frames], keras_pre)
        close([fr.output for fr in frames], keras_out)
        close([fr.bias for fr in frames], weights[1] if use_bias else np.zeros(5))
    if activation == "softmax":
        close(steps.softmax.logits, keras_pre)
        close(steps.softmax.probabilities, keras_out)
    else:
        assert steps.softmax is None
    with pytest.raises(ExplainError, match="has 5 units"):
        steps.frame(5)


def test_dense_on_an_image_is_generic_and_says_add_flatten():
    x = np.ones((3, 3, 2), np.float32)
    layer = keras.layers.Dense(4)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and "Flatten" in steps.note


# ----------------------------------------------------------------------------- the rest

def test_input_layer_and_unknown_layers():
    x = np.random.default_rng(10).normal(size=(4, 4, 2)).astype(np.float32)
    steps = explain_layer(keras.layers.InputLayer(shape=(4, 4, 2)), x, x)
    assert isinstance(steps, InputSteps) and steps.kind == "input"
    layer = keras.layers.UpSampling2D(2)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and "UpSampling2D" in steps.note
    assert steps.output.shape == (8, 8, 2)
    steps = explain_layer(keras.layers.Add(), [x, x], x + x)
    assert isinstance(steps, GenericSteps) and "combines 2 inputs" in steps.note


def test_batchnorm_over_another_axis_is_generic():
    x = np.random.default_rng(11).normal(size=(3, 4, 5)).astype(np.float32)
    layer = keras.layers.BatchNormalization(axis=1)
    steps = explain_layer(layer, x, run_layer(layer, x))
    assert isinstance(steps, GenericSteps) and "axis" in steps.note
