"""The explain views for activation, softmax, batch norm, dropout, flatten, dense, global
pooling and unknown layers: each shows the real numbers of its layer's steps.

Steps come from real Keras layers through `explain_layer` (the gold standard), and from
hand-made dataclasses where a view's arithmetic is checked on its own.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt

keras = pytest.importorskip("keras")

from cnnviz.core.explain import frames
from cnnviz.core.explain.lessons import RANDOM_WEIGHTS_NOTE, lesson_for
from cnnviz.core.explain.steps import explain_layer
from cnnviz.ui.explain.views.activation_view import ActivationView, activation_headline
from cnnviz.ui.explain.views.batchnorm_view import BatchNormView
from cnnviz.ui.explain.views.dense_view import DenseView
from cnnviz.ui.explain.views.flatten_view import FlattenView
from cnnviz.ui.explain.views.generic_view import GenericLayerView
from cnnviz.ui.explain.lesson_panel import LessonPanel
from cnnviz.ui.explain.views.softmax_view import SoftmaxView
from cnnviz.core.formatting import format_value
from cnnviz.ui.explain.views.vector_views import DropoutView, GlobalPoolView
from cnnviz.ui.explain.views.view_parts import ChannelPicker

CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


# ----------------------------------------------------------------------------- layers

def run_layer(layer, x: np.ndarray, weights: list[np.ndarray] | None = None):
    """(steps, keras output) of a real Keras layer on one input (no batch axis)."""
    if not layer.built:
        layer.build((None,) + x.shape)
    if weights is not None:
        layer.set_weights(weights)
    output = keras.ops.convert_to_numpy(layer(x[None], training=False))[0]
    return explain_layer(layer, x, output), output


def feature_maps(shape=(9, 9, 6), seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)


def activation_layer(function: str, x: np.ndarray):
    return run_layer(keras.layers.Activation(function), x)


def dense_layer(units: int, activation: str, x: np.ndarray, seed: int = 2):
    layer = keras.layers.Dense(units, activation=activation)
    layer.build((None, x.shape[0]))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.3, (x.shape[0], units)).astype(np.float32),
               rng.normal(0, 0.5, units).astype(np.float32)]
    return run_layer(layer, x, weights)


def batchnorm_layer(x: np.ndarray, seed: int = 3):
    layer = keras.layers.BatchNormalization(epsilon=1e-3)
    layer.build((None,) + x.shape)
    rng = np.random.default_rng(seed)
    channels = x.shape[-1]
    weights = [rng.uniform(0.5, 2.0, channels), rng.normal(0, 0.5, channels),
               rng.normal(0, 0.5, channels), rng.uniform(0.2, 2.0, channels)]
    return run_layer(layer, x, [w.astype(np.float32) for w in weights])


def show(qtbot, widget, size=(1000, 600)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def settle(qtbot) -> None:
    """Let new child widgets show and layouts settle before pointing the mouse at them."""
    qtbot.wait(20)


def numbers_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\s*(-?[\d.]+(?:e[+-]\d+)?)", text)
    assert match, f"{label!r} not in {text!r}"
    return float(match.group(1))


# ----------------------------------------------------------------------------- activation

def test_relu_view_counts_the_values_it_set_to_zero(qtbot):
    x = feature_maps()
    steps, output = activation_layer("relu", x)
    assert isinstance(steps, frames.ActivationSteps)
    view = show(qtbot, ActivationView())
    view.set_steps(steps)
    zeroed = int(np.sum((x != 0) & (output == 0)))
    assert zeroed == int(np.sum(x < 0)) and zeroed > 0
    percent = round(100 * zeroed / x.size)
    assert f"ReLU set {zeroed} of {x.size} values ({percent}%) to zero" in view.summary_text()
    view.set_channel(4)
    here = int(np.sum(x[:, :, 4] < 0))
    assert f"channel 4: {here} of 81 set to zero in this channel" in view.summary_text()


def test_pointing_at_a_value_follows_it_along_the_curve(qtbot):
    x = feature_maps()
    steps, output = activation_layer("relu", x)
    view = show(qtbot, ActivationView())
    view.set_steps(steps)
    view.set_channel(2)
    settle(qtbot)
    before_map = view.maps.maps[0]
    centre = before_map.cell_rect((3, 5)).center().toPoint()
    qtbot.mouseMove(before_map, centre)
    qtbot.waitUntil(lambda: view.curve.marked is not None)
    assert view.curve.marked == pytest.approx((x[3, 5, 2], output[3, 5, 2]))
    assert f"input[3, 5, 2] = {format_value(x[3, 5, 2])}" in view.summary_text()
    assert f"→  ReLU  →  {format_value(output[3, 5, 2])}" in view.summary_text()
    # The curve is the real function: its points lie on it.
    assert np.allclose(view.curve.curve_y, np.maximum(view.curve.curve_x, 0))
    assert len(view.curve.points) == x.size


@pytest.mark.parametrize("function", ["sigmoid", "tanh", "elu", "linear"])
def test_activation_headlines_use_the_layer_numbers(qtbot, function):
    x = feature_maps((6, 6, 3), seed=4) * 3
    steps, output = activation_layer(function, x)
    view = show(qtbot, ActivationView(), (700, 450))
    view.set_steps(steps)
    text = view.summary_text()
    if function in ("sigmoid", "tanh"):
        assert f"between {format_value(output.min())} and {format_value(output.max())}" in text
    elif function == "elu":
        assert f"the {int(np.sum(x < 0))} negative values of {x.size}" in text
    else:
        assert f"all {x.size} values passed through unchanged" in text
        assert np.array_equal(steps.output, x)


def test_many_values_are_thinned_on_the_curve_but_all_counted():
    before = np.linspace(-3, 3, 10_000).astype(np.float32)
    text = activation_headline("relu", before, np.maximum(before, 0))
    assert f"ReLU set {int(np.sum(before < 0)):,} of 10,000 values" in text
    from cnnviz.ui.explain.views.activation_view import MAX_POINTS, ActivationCurve

    curve = ActivationCurve()
    curve.set_data(before, np.maximum(before, 0), before, np.maximum(before, 0), "ReLU")
    assert MAX_POINTS <= len(curve.points) <= MAX_POINTS + 2
    assert curve.points[:, 0].min() == pytest.approx(-3)
    assert curve.points[:, 0].max() == pytest.approx(3)


def test_softmax_activation_shows_the_ladder_with_keras_probabilities(qtbot):
    logits = np.array([1.5, -0.3, 4.2, 0.0, 2.2, -1.1, 0.7, 3.9, -2.0, 0.4], np.float32)
    steps, output = activation_layer("softmax", logits)
    view = show(qtbot, ActivationView(), (700, 450))
    view.set_class_names(CLASSES)
    view.set_steps(steps)
    assert view.pages.currentWidget() is view.softmax_view
    text = view.summary_text()
    shown = [float(v) for v in re.findall(r"probability (\d\.\d+)", text)]
    np.testing.assert_allclose(shown, output, atol=1e-4)
    assert "two: logit 4.20" in text
    assert "probabilities sum to 1.0000" in text


# ----------------------------------------------------------------------------- softmax

def test_softmax_ladder_steps_are_the_real_arithmetic(qtbot):
    logits = np.array([2.0, 1.0, 0.1], np.float32)
    shifted = logits - logits.max()
    exponentials = np.exp(shifted)
    total = float(exponentials.sum())
    steps = frames.SoftmaxSteps(logits, shifted, exponentials, total, exponentials / total)
    view = show(qtbot, SoftmaxView(), (700, 450))
    view.set_steps(steps)
    view.set_class_names(["cat", "dog", "frog"])
    settle(qtbot)
    text = view.summary_text()
    assert "cat: logit 2.00 → shifted 0 → exp 1.00 → probability 0.6590" in text
    assert f"dog: logit 1.00 → shifted -1.00 → exp {format_value(np.exp(-1))}" in text
    assert f"total of exponentials = {format_value(total)}" in text
    # Clicking a row works that class out underneath.
    ladder = view.ladder
    qtbot.mouseClick(ladder, Qt.MouseButton.LeftButton, pos=ladder.row_rect(2).center().toPoint())
    assert view.detail.text().startswith("frog: e^(0.100 − 2.00) = e^(-1.90)")
    assert view.detail.text().endswith(f"= {exponentials[2] / total:.3f} "
                                       f"({100 * exponentials[2] / total:.1f}%)")


# ----------------------------------------------------------------------------- dense

def test_dense_view_sum_of_contributions_is_the_pre_activation(qtbot):
    x = np.random.default_rng(5).normal(0, 1, 40).astype(np.float32)
    steps, output = dense_layer(12, "relu", x)
    view = show(qtbot, DenseView(), (700, 450))
    view.set_steps(steps)
    unit = int(np.argmax(output))
    assert view.unit() == unit                       # the most active unit by default
    frame = view.frame
    kernel, bias = steps.kernel, steps.bias
    z = float(x @ kernel[:, unit] + bias[unit])
    total = float(np.sum(frame.top_products)) + frame.rest_sum + frame.bias
    assert total == pytest.approx(z, abs=1e-4)
    assert frame.pre_activation == pytest.approx(z, abs=1e-4)
    products = x * kernel[:, unit]
    largest = np.argsort(-np.abs(products))[:8]
    assert list(frame.top_indices) == list(largest)
    text = view.summary_text()
    for index in largest:
        assert (f"input[{index}] = {format_value(x[index])} × {format_value(kernel[index, unit])}"
                f" = {format_value(products[index])}") in text
    assert f"+ 32 other inputs sum to {format_value(frame.rest_sum)}" in text
    assert f"+ bias {format_value(bias[unit])}" in text
    assert f"= pre-activation z {format_value(z)}" in text
    assert f"→ ReLU → output  {format_value(output[unit])}" in text
    # The numbers shown add up (to their rounding) to the pre-activation shown.
    shown = [float(v) for v in re.findall(r"= (-?[\d.]+)$", text, re.M)[:8]]
    shown_sum = sum(shown) + numbers_after("sum to", text) + numbers_after("bias", text)
    assert shown_sum == pytest.approx(numbers_after("pre-activation z", text), abs=0.02)


def test_dense_view_picks_units_and_spells_softmax_out(qtbot):
    x = np.random.default_rng(6).normal(0, 1, 24).astype(np.float32)
    steps, output = dense_layer(10, "softmax", x)
    view = show(qtbot, DenseView(), (700, 450))
    view.set_class_names(CLASSES)
    view.set_steps(steps)
    answer = int(np.argmax(output))
    assert view.unit() == answer
    assert f"({CLASSES[answer]})" in view.headline.text()
    assert "the network's answer" in view.headline.text()
    assert view.tabs.isTabVisible(1)
    assert (f"→ softmax over all 10 units → probability  {format_value(output[answer])}"
            in view.summary_text())
    other = (answer + 3) % 10
    view.unit_box.setCurrentIndex(other)
    assert view.frame.unit == other
    z = float(x @ steps.kernel[:, other] + steps.bias[other])
    assert f"= pre-activation z {format_value(z)}" in view.summary_text()
    assert "the network's answer" not in view.headline.text()
    view.softmax_link.linkActivated.emit("softmax")
    assert view.tabs.currentWidget() is view.softmax_view
    ladder_text = view.softmax_view.summary_text()
    shown = [float(v) for v in re.findall(r"probability (\d\.\d+)", ladder_text)]
    np.testing.assert_allclose(shown, output, atol=1e-4)
    # A hidden layer has no softmax tab.
    hidden, _ = dense_layer(6, "tanh", x)
    view.set_steps(hidden)
    assert not view.tabs.isTabVisible(1) and view.tabs.currentIndex() == 0


# ----------------------------------------------------------------------------- batch norm

def test_batchnorm_view_formula_uses_the_learned_numbers(qtbot):
    x = feature_maps((7, 7, 5), seed=7)
    steps, output = batchnorm_layer(x)
    view = show(qtbot, BatchNormView(), (700, 450))
    view.set_steps(steps)
    layer_weights = (steps.gamma, steps.beta, steps.moving_mean, steps.moving_variance)
    for channel in (0, 3):
        view.set_channel(channel)
        gamma, beta, mean, variance = (float(w[channel]) for w in layer_weights)
        slope, intercept = view.slope_and_intercept()
        assert slope == pytest.approx(gamma / np.sqrt(variance + 1e-3), rel=1e-5)
        assert intercept == pytest.approx(beta - mean * slope, rel=1e-4, abs=1e-6)
        np.testing.assert_allclose(x[:, :, channel] * slope + intercept, output[:, :, channel],
                                   rtol=1e-4, atol=1e-5)
        text = view.summary_text()
        assert f"= {format_value(gamma)} · (x " in text
        assert f"√({format_value(variance)} + 0.001)" in text
        sign = "−" if intercept < 0 else "+"
        line = f"Channel {channel}:  y = {format_value(slope)}·x {sign} "
        assert line + format_value(abs(intercept)) in text
        # The worked example is the largest value of the channel, and y is Keras's output.
        y, x_pos = np.unravel_index(np.argmax(np.abs(x[:, :, channel])), x.shape[:2])
        assert f"input[{y}, {x_pos}, {channel}]" in text
        assert text.endswith(f"= {format_value(output[y, x_pos, channel])}")
    assert view.table.rowCount() == 5
    assert view.table.item(2, 1).text() == format_value(steps.gamma[2])
    assert view.table.item(2, 4).text() == format_value(steps.moving_variance[2])
    # Choosing a channel in the table selects it everywhere.
    view.table.setCurrentCell(4, 0)
    assert view.channel() == 4 and view.picker.value() == 4 and view.maps.channel() == 4


def test_batchnorm_on_a_vector_explains_one_unit(qtbot):
    x = np.random.default_rng(8).normal(0, 1, 12).astype(np.float32)
    steps, output = batchnorm_layer(x)
    view = show(qtbot, BatchNormView(), (700, 450))
    view.set_steps(steps)
    view.set_channel(5)
    assert view.summary_text().startswith("Unit 5:")
    assert view.summary_text().endswith(f"= {format_value(output[5])}")


# ----------------------------------------------------------------------------- dropout

def test_dropout_view_shows_identity_and_explains_training(qtbot):
    x = feature_maps((8, 8, 4), seed=9)
    steps, output = run_layer(keras.layers.Dropout(0.3), x)
    assert isinstance(steps, frames.DropoutSteps)
    view = show(qtbot, DropoutView(), (700, 450))
    view.set_steps(steps)
    assert np.array_equal(view.maps.channel_values(0), view.maps.channel_values(1))
    text = view.summary_text()
    assert f"all {x.size} values pass through unchanged (output = input)" in text
    assert "silence about 30% of the values" in text and "= 1.43" in text
    silenced = int(np.sum(view.maps.channel_values(2) == 0))
    assert f"Example draw: {silenced} of 64 values" in text and 5 < silenced < 40
    # A dropout that changed values (a bug, or training mode) is not called an identity.
    changed = frames.DropoutSteps("d", "Dropout", x, x * 2, rate=0.3)
    view.set_steps(changed)
    assert "unchanged" in view.summary_text() and "output = input" not in view.summary_text()


# ----------------------------------------------------------------------------- flatten

def test_flatten_view_pointing_at_an_output_index_names_its_source(qtbot):
    x = feature_maps((3, 4, 5), seed=10)
    steps, output = run_layer(keras.layers.Flatten(), x)
    view = show(qtbot, FlattenView(), (1000, 600))
    view.set_steps(steps)
    settle(qtbot)
    assert "i = (y × 4 + x) × 5 + c" in view.summary_text()
    strip = view.strip
    for index in (0, 7, 23, 59):
        view.set_index(index)
        y, x_pos, c = np.unravel_index(index, x.shape)
        assert output[index] == x[y, x_pos, c]
        assert f"output[{index}] = input[{y}, {x_pos}, {c}] = {format_value(output[index])}" \
            in view.summary_text()
        assert f"because {index} = ({y} × 4 + {x_pos}) × 5 + {c}" in view.summary_text()
    # Click a neighbour in the strip: it becomes the selection.
    view.set_index(30)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.index_rect(32).center().toPoint())
    assert view.index() == 32
    assert "output[32] = input[1, 2, 2]" in view.summary_text()
    # Hovering only previews: the source is outlined in the input channel it sits in.
    qtbot.mouseMove(strip, strip.index_rect(34).center().toPoint())
    qtbot.waitUntil(lambda: "output[34]" in view.detail.text())
    assert "output[34] = input[1, 2, 4]" in view.detail.text()
    highlighted = [m for m in view.input_maps if m._primary is not None]
    assert len(highlighted) == 1 and highlighted[0]._primary == (1, 2)
    assert view.index() == 32
    # Clicking a pixel of an input channel selects the list index it went to.
    first_map, channel = view.input_maps[0], view.shown_channels()[0]
    assert first_map._title == f"input channel {channel}"
    qtbot.mouseClick(first_map, Qt.MouseButton.LeftButton,
                     pos=first_map.cell_rect((2, 3)).center().toPoint())
    assert view.index() == int(np.ravel_multi_index((2, 3, channel), x.shape))
    # The arrow keys walk along the list.
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.index() == int(np.ravel_multi_index((2, 3, channel + 1), x.shape))


def test_flatten_of_a_long_stack_keeps_the_selected_channel_in_view(qtbot):
    x = feature_maps((5, 5, 32), seed=11)
    steps, _ = run_layer(keras.layers.Flatten(), x)
    view = show(qtbot, FlattenView(), (700, 450))
    view.set_steps(steps)
    index = int(np.ravel_multi_index((4, 1, 13), x.shape))
    view.set_index(index)
    titles = [m._title for m in view.input_maps]
    assert "input channel 13" in titles and len(titles) == 4
    assert index in view.strip.visible_range()
    assert "channels 12–15 of 32" in view.channel_note.text()


# ----------------------------------------------------------------------------- global pooling

@pytest.mark.parametrize("layer_class, mode", [(keras.layers.GlobalMaxPooling2D, "max"),
                                               (keras.layers.GlobalAveragePooling2D, "average")])
def test_global_pool_view_turns_each_map_into_one_value(qtbot, layer_class, mode):
    x = feature_maps((5, 6, 7), seed=12)
    steps, output = run_layer(layer_class(), x)
    view = show(qtbot, GlobalPoolView(), (700, 450))
    view.set_steps(steps)
    settle(qtbot)
    assert "each of the 7 maps (5×6) becomes one number" in view.summary_text()
    outputs = view.outputs
    qtbot.mouseClick(outputs, Qt.MouseButton.LeftButton,
                     pos=outputs.cell_rect((4,)).center().toPoint())
    assert view.channel() == 4 and view.picker.value() == 4
    text = view.summary_text()
    if mode == "max":
        y, x_pos = np.unravel_index(np.argmax(x[:, :, 4]), (5, 6))
        assert f"channel 4: max = {format_value(output[4])} at (row {y}, column {x_pos})" in text
        assert view.channel_map._primary == (y, x_pos)
    else:
        assert output[4] == pytest.approx(x[:, :, 4].mean(), abs=1e-6)
        assert (f"channel 4: mean = {format_value(x[:, :, 4].sum())} ÷ 30 = "
                f"{format_value(output[4])}") in text


# ----------------------------------------------------------------------------- generic and input

def test_unknown_layer_is_a_box_with_its_note_and_output_maps(qtbot):
    x = feature_maps((6, 6, 3), seed=13)
    steps, output = run_layer(keras.layers.ZeroPadding2D(1), x)
    assert isinstance(steps, frames.GenericSteps) and steps.note
    view = show(qtbot, GenericLayerView(), (700, 450))
    view.set_steps(steps)
    text = view.summary_text()
    assert "ZeroPadding2D" in text and "input 6×6×3  →  output 8×8×3" in text
    assert steps.note in text
    assert view.grid.output.shape == (8, 8, 3)
    np.testing.assert_array_equal(view.grid.output, output)
    assert view.picture_panel.isHidden() and not view.grid.isHidden()


def test_input_image_is_shown_as_a_picture(qtbot):
    image = np.random.default_rng(14).uniform(0, 1, (28, 28, 1)).astype(np.float32)
    steps = frames.InputSteps("input_layer", "InputLayer", image, image)
    view = show(qtbot, GenericLayerView(), (700, 450))
    view.set_steps(steps)
    assert view.summary_text().startswith("Input image  ·  28×28×1")
    assert "(0 is black, 1 is white)" in view.summary_text()
    assert not view.picture_panel.isHidden() and view.grid.isHidden()
    settle(qtbot)
    qtbot.mouseMove(view.picture, view.picture.cell_rect((20, 9)).center().toPoint())
    qtbot.waitUntil(lambda: "pixel [20, 9]" in view.pixel.text())
    assert view.pixel.text() == f"pixel [20, 9] = {format_value(image[20, 9, 0])}"
    # A colour image also gets its three channels as maps.
    colour = np.random.default_rng(15).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    view.set_steps(frames.InputSteps("input_layer", "InputLayer", colour, colour))
    assert not view.picture_panel.isHidden() and not view.grid.isHidden()
    assert view.grid.output.shape == (8, 8, 3)


# ----------------------------------------------------------------------------- lesson panel

def test_lesson_panel_shows_the_lesson_and_the_random_weights_banner(qtbot):
    panel = show(qtbot, LessonPanel(), (280, 450))
    panel.set_lesson("activation", "relu")
    lesson = lesson_for("activation", "relu")
    assert panel.title.text() == lesson.title
    assert [label.text() for label in panel.paragraphs] == list(lesson.paragraphs)
    assert RANDOM_WEIGHTS_NOTE not in panel.text()
    panel.set_random_weights(True)
    assert panel.banner.isVisible() and panel.text().startswith(RANDOM_WEIGHTS_NOTE)
    panel.set_lesson("dropout")
    assert len(panel.paragraphs) == len(lesson_for("dropout").paragraphs)
    assert "Dropout" in panel.text() and "ReLU" not in panel.text()
    panel.set_random_weights(False)
    assert not panel.banner.isVisible()


# ----------------------------------------------------------------------------- sizes

def all_views() -> list[tuple[object, frames.LayerSteps]]:
    x = feature_maps((13, 13, 8), seed=15)
    vector = np.random.default_rng(16).normal(0, 1, 50).astype(np.float32)
    return [
        (ActivationView(), activation_layer("relu", x)[0]),
        (ActivationView(), activation_layer("softmax", vector[:10])[0]),
        (BatchNormView(), batchnorm_layer(x)[0]),
        (DropoutView(), run_layer(keras.layers.Dropout(0.5), x)[0]),
        (FlattenView(), run_layer(keras.layers.Flatten(), x)[0]),
        (GlobalPoolView(), run_layer(keras.layers.GlobalMaxPooling2D(), x)[0]),
        (DenseView(), dense_layer(10, "softmax", vector)[0]),
        (GenericLayerView(), run_layer(keras.layers.ZeroPadding2D(1), x)[0]),
    ]


def test_every_view_fits_the_space_it_gets_in_a_small_window(qtbot):
    """At 1024×640 a view gets about 700×450: its layout must fit without squeezing."""
    for view, steps in all_views():
        show(qtbot, view, (700, 450))
        view.set_steps(steps)
        hint = view.minimumSizeHint()
        assert hint.width() <= 700 and hint.height() <= 450, (type(view).__name__, hint)
        assert view.summary_text()
        assert not view.grab().isNull()


def test_channel_views_report_channels_and_can_hand_their_picker_to_the_owner(qtbot):
    """The explain page has its own channel selector: a view can hide its picker and tell the
    page when the channel changes inside it (a table row, an output value)."""
    x = feature_maps((5, 5, 6), seed=17)
    views = [(ActivationView(), activation_layer("relu", x)[0]),
             (BatchNormView(), batchnorm_layer(x)[0]),
             (DropoutView(), run_layer(keras.layers.Dropout(0.5), x)[0]),
             (GlobalPoolView(), run_layer(keras.layers.GlobalAveragePooling2D(), x)[0])]
    for view, steps in views:
        show(qtbot, view, (700, 450))
        view.set_steps(steps)
        pickers = [w for w in view.findChildren(ChannelPicker) if w.isVisible()]
        assert len(pickers) == 1, type(view).__name__
        view.set_channel_picker_visible(False)
        view.set_steps(steps)
        assert not any(w.isVisible() for w in view.findChildren(ChannelPicker)), type(view).__name__
        with qtbot.waitSignal(view.channel_changed, timeout=1000) as signal:
            view.set_channel(5 if view.channel() != 5 else 2)
        assert signal.args[0] == view.channel()


def test_a_views_headline_follows_the_zoom(qtbot):
    from PySide6.QtGui import QFontInfo

    from cnnviz.ui.common.zoom import zoom_of_app
    from cnnviz.ui.explain.views.view_parts import headline_label

    label = headline_label()
    qtbot.addWidget(label)
    before = QFontInfo(label.font()).pointSizeF()
    try:
        zoom_of_app().set_factor(1.5)
        assert QFontInfo(label.font()).pointSizeF() == pytest.approx(before * 1.5, rel=0.1)
        assert label.font().bold()
    finally:
        zoom_of_app().set_factor(1.0)


def label_sizes(widget) -> dict[int, float]:
    from PySide6.QtGui import QFontInfo
    from PySide6.QtWidgets import QLabel

    return {id(label): QFontInfo(label.font()).pointSizeF()
            for label in widget.findChildren(QLabel)}


def test_every_label_of_the_views_and_the_lesson_follows_the_zoom(qtbot):
    """Labels under a style sheet (the lesson's yellow 'untrained' note, the muted captions)
    and labels given a larger font when made kept their size when the zoom changed."""
    from PySide6.QtWidgets import QLabel

    from cnnviz.ui.common.zoom import zoom_of_app
    from cnnviz.ui.explain.input_picker import InputPicker
    from cnnviz.ui.explain.views.step_views import StepViews

    lesson = LessonPanel()
    lesson.set_lesson("conv")
    lesson.set_random_weights(True)
    widgets = [lesson, StepViews(), InputPicker()]
    for view, steps in all_views():
        view.set_steps(steps)
        widgets.append(view)
    for widget in widgets:
        show(qtbot, widget, (700, 450))
    before = [label_sizes(widget) for widget in widgets]
    try:
        zoom_of_app().set_factor(1.5)
        qtbot.wait(10)   # the application font reaches plain widgets through the event loop
        for widget, sizes in zip(widgets, before):
            after = label_sizes(widget)
            for label in widget.findChildren(QLabel):
                assert after[id(label)] == pytest.approx(sizes[id(label)] * 1.5, rel=0.12), (
                    type(widget).__name__, label.text())
    finally:
        zoom_of_app().set_factor(1.0)
    qtbot.wait(10)
    assert label_sizes(lesson) == before[0]


def test_sizes_that_hold_text_follow_the_zoom(qtbot):
    """Issue 12 follow-up: pixel sizes that hold text were fixed (the flatten strip's 40 px
    cells and 16 px bar, the batch-norm table's width, the channel box, the pooled result):
    at 150 % their text was cut. They follow the font now."""
    from cnnviz.ui.common.zoom import zoom_of_app
    from cnnviz.ui.explain.views.flatten_strip import FlattenOverview, FlattenStrip

    x = feature_maps((13, 13, 8), seed=15)
    strip, overview = FlattenStrip(), FlattenOverview()
    batchnorm, pool = BatchNormView(), GlobalPoolView()
    batchnorm.set_steps(batchnorm_layer(x)[0])
    pool.set_steps(run_layer(keras.layers.GlobalAveragePooling2D(), x)[0])
    for widget in (strip, overview, batchnorm, pool):
        show(qtbot, widget, (700, 450))

    def sizes():
        return (strip.CELL, strip.sizeHint().height(), overview.height(),
                batchnorm.table.minimumWidth(), batchnorm.picker.spin.minimumWidth(),
                pool.result.minimumWidth())

    before = sizes()
    try:
        zoom_of_app().set_factor(1.5)
        qtbot.wait(10)
        after = sizes()
    finally:
        zoom_of_app().set_factor(1.0)
    for name, small, large in zip(("cell", "strip", "overview", "table", "spin", "result"),
                                  before, after):
        assert large >= small * 1.3, (name, small, large)
