"""The 1-D explainer views driven through the real widgets, on real Keras Conv1D and pooling
layers: the numbers they show are the frame's (equal to Keras), the padding and dilation are
drawn, playback grows the output, exports write files, and a 150 % zoom keeps the numbers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from cnnviz.ui.explain.animation_export import save_animation_gif, save_view_png
from cnnviz.ui.explain.views.conv1d_step_view import Conv1DStepView
from cnnviz.ui.explain.views.grid_painting import display_value, operand
from cnnviz.ui.explain.views.pool1d_step_view import Pool1DStepView
from cnnviz.ui.explain.views.step_views import StepViews
from tests.ui.app_window import show_step_view

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module", autouse=True)
def collect_keras_garbage():
    """Free this module's Keras layers and models at its end, on the main thread while no
    forward pass runs, rather than whenever the garbage collector happens to run: during the
    next module's background forward pass, TensorFlow crashed (a segmentation fault)."""
    yield
    import gc

    gc.collect()


def explained(layer, shape, seed=0):
    """(steps, Keras output) of a 1-D layer with random weights and a non-zero bias."""
    from cnnviz.core.explain.steps import explain_layer

    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(np.float32)
    layer.build((None, *shape))
    if layer.get_weights():
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32)
                           for w in layer.get_weights()])
    output = keras.ops.convert_to_numpy(layer(x[None]))[0]
    return explain_layer(layer, x, output), output


@pytest.fixture(scope="module")
def causal_dilated():
    """Kernel 3, dilation 2, causal, on 20 steps × 3 channels: 4 zeros before, none after."""
    return explained(keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2,
                                         activation="relu"), (20, 3))


@pytest.fixture(scope="module")
def same_even():
    """Kernel 4, 'same', stride 2, on 15 steps × 2 channels: 1 zero before, 2 after."""
    return explained(keras.layers.Conv1D(3, 4, strides=2, padding="same", activation="tanh"),
                     (15, 2), seed=1)


def colour_at(view, point: QPointF) -> QColor:
    image = view.grab().toImage()
    ratio = image.devicePixelRatio()
    return QColor(image.pixel(round(point.x() * ratio), round(point.y() * ratio)))


def test_conv1d_view_shows_the_frames_numbers_equal_to_keras(qtbot, same_even):
    steps, keras_output = same_even
    view = show_step_view(qtbot, Conv1DStepView(), steps, (1100, 760))
    assert view.step_count() == keras_output.shape[0] == 8
    view.set_filter(2)
    view.set_channel(1)
    for step in range(view.step_count()):
        view.set_step(step)
        frame = view.frame()
        assert (frame.out_t, frame.filter) == (step, 2)
        assert frame.output == pytest.approx(float(keras_output[step, 2]), rel=1e-4, abs=1e-5)
        # the middle numbers are this frame's, for the chosen channel
        np.testing.assert_array_equal(view.window_grid.values[0], frame.window[:, 1])
        np.testing.assert_array_equal(view.kernel_grid.values[0], frame.kernel[:, 1])
        np.testing.assert_array_equal(view.products_grid.values[0], frame.products[:, 1])
        assert view.result_grid.values[0, 0] == np.float32(frame.output)
        text = view.calculation_text()
        for window, weight in zip(frame.window[:, 1], frame.kernel[:, 1]):
            assert f"{operand(window)}×{operand(weight)}" in text
        for channel_sum in frame.channel_sums:
            assert operand(channel_sum) in text
        assert f"bias {display_value(frame.bias)}" in text
        assert display_value(frame.pre_activation) in text
        assert f"→ tanh → {display_value(frame.output)}" in text
        assert view.lane_notes() == [f"\u03a3 {display_value(s)}" for s in frame.channel_sums]
    assert "filter 2 of 3" in view._title("output")[0]


def test_same_padding_is_drawn_at_both_ends_as_keras_pads(qtbot, same_even):
    steps, _output = same_even
    view = show_step_view(qtbot, Conv1DStepView(), steps, (1100, 760))
    panel = view.input_panel
    assert (panel.before, panel.after) == (steps.pad_left, steps.pad_right) == (1, 2)
    assert "padding 'same': 1 zero before, 2 after" in view._title("input")[0]
    view.set_step(0)
    assert view._cell_notes("window") == ["pad", "t 0", "t 1", "t 2"]
    view.set_step(view.step_count() - 1)   # the last window reads the 2 zeros after the end
    assert view._cell_notes("window")[-2:] == ["pad", "pad"]
    view.grab()   # laid out
    assert view.tooltip_at(QPointF(panel.x_of(-1), panel.plot.center().y())).startswith(
        "Zero padding before")
    assert view.tooltip_at(QPointF(panel.x_of(15), panel.plot.center().y())).startswith(
        "Zero padding after")
    inside = view.tooltip_at(QPointF(panel.x_of(4), panel.lane_rect(1).center().y()))
    assert inside == f"input[4, 1] = {steps.input[4, 1]:.6g}"


def test_causal_padding_is_before_only_and_dilation_gaps_are_not_marked(qtbot, causal_dilated):
    steps, _output = causal_dilated
    view = show_step_view(qtbot, Conv1DStepView(), steps, (1100, 760))
    panel = view.input_panel
    assert (panel.before, panel.after) == (4, 0)
    assert "padding 'causal': 4 zeros before" in view._title("input")[0]
    assert "dilation 2" in view._title("input")[0]
    view.set_step(1)   # reads steps −3, −1, 1: two zeros of padding, then step 1
    marks = view._window_marks()
    assert list(marks.read) == [-3, -1, 1] and list(marks.inside) == [False, False, True]
    assert view._cell_notes("window") == ["pad", "pad", "t 1"]
    view.grab()   # laid out
    top = panel.plot.top() + 2
    read, gap = (colour_at(view, QPointF(panel.x_of(p), top)) for p in (-1, 0))
    # a read step is filled amber; the step between two read ones (the dilation gap) is not
    assert read.red() - read.blue() > 60, read.getRgb()
    assert abs(gap.red() - gap.blue()) < 40, gap.getRgb()


def test_the_kernel_is_a_stem_plot_over_its_weights(qtbot, causal_dilated):
    steps, _output = causal_dilated
    view = show_step_view(qtbot, Conv1DStepView(), steps, (1100, 760))
    view.set_filter(1)
    weights = steps.kernel[:, view.channel(), 1]
    view.grab()   # laid out
    cells = view._stem_cells["kernel"]
    assert len(cells) == 3
    image = view.grab().toImage()
    ratio = image.devicePixelRatio()

    def lightness(point: QPointF) -> int:
        return QColor(image.pixel(round(point.x() * ratio), round(point.y() * ratio))).lightness()

    shares = weights / view.kernel_grid.limit
    strongest = int(np.argmax(np.abs(shares)))
    assert abs(shares[strongest]) > 0.3
    cell = cells[strongest]
    reach = (cell.height() / 2 - 10) * abs(shares[strongest]) * 0.6
    up = -1 if shares[strongest] > 0 else 1       # screen y grows downwards
    stem_side = QPointF(cell.center().x(), cell.center().y() + up * reach)
    other_side = QPointF(cell.center().x(), cell.center().y() - up * reach)
    # the stem rises (positive weight) or hangs (negative) from the middle line, not both ways
    assert lightness(stem_side) < 200 and lightness(other_side) > 240


def test_playback_grows_the_output_and_the_filter_selector_follows(qtbot, causal_dilated):
    steps, keras_output = causal_dilated
    views = StepViews()
    qtbot.addWidget(views)
    views.resize(1200, 820)
    views.show()
    views.set_steps(steps)
    view = views.current_view()
    assert isinstance(view, Conv1DStepView) and views.animated
    assert views.summary()["steps"] == 20 and views.bar.isVisible()
    assert not views.numbers_box.isVisible()
    assert views.channel_box.itemText(2) == "channel 2"   # a signal's channel 2 is not "blue"
    views.select_filter(3)
    assert view.filter_index() == 3
    np.testing.assert_array_equal(view.output_track.values, steps.output[:, 3])
    late = int(np.argmax(np.abs(keras_output[10:, 3]))) + 10
    assert abs(keras_output[late, 3]) > 0.05
    point = view.output_point(late)
    before = colour_at(view, point)
    views.playback.set_position(late)
    assert view.step() == late and views.bar.step_label.text() == f"step {late + 1} of 20"
    after = colour_at(view, point)
    assert before.getRgb() != after.getRgb()   # the value is drawn once playback reached it
    views.playback.step_forward()
    assert view.step() == late + 1
    views.select_channel(2)
    assert view.channel() == 2 and view.input_panel.focus == 2


def test_clicking_an_output_value_jumps_there(qtbot, causal_dilated):
    from PySide6.QtCore import Qt

    steps, _output = causal_dilated
    views = StepViews()
    qtbot.addWidget(views)
    views.resize(1200, 820)
    views.show()
    views.set_steps(steps)
    view = views.current_view()
    qtbot.waitExposed(views)
    point = view.output_point(7)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point.toPoint())
    assert views.playback.position() == 7 and view.step() == 7


def test_max_pooling_1d_picks_the_largest_with_same_padding(qtbot):
    steps, keras_output = explained(keras.layers.MaxPooling1D(3, padding="same"), (16, 2))
    view = show_step_view(qtbot, Pool1DStepView(), steps, (1000, 700))
    view.set_channel(1)
    assert (view.input_panel.before, view.input_panel.after) == (steps.pad_left,
                                                                steps.pad_right)
    for step in range(view.step_count()):
        view.set_step(step)
        frame = view.frame()
        assert frame.output == pytest.approx(float(keras_output[step, 1]), rel=1e-4)
        text = view.calculation_text()
        assert f") = {display_value(frame.output)}" in text
        assert f"keeps input step {int(frame.input_steps[frame.picked])}" in text
        np.testing.assert_array_equal(view.window_grid.values[0], frame.window)
    last = view.step_count() - 1
    view.set_step(last)
    if not view.frame().inside.all():
        assert "padding step" in view.calculation_text()


def test_average_pooling_1d_writes_the_mean_over_real_steps(qtbot):
    steps, keras_output = explained(keras.layers.AveragePooling1D(4, strides=3, padding="same"),
                                    (14, 1))
    view = show_step_view(qtbot, Pool1DStepView(), steps, (1000, 700))
    for step in range(view.step_count()):
        view.set_step(step)
        frame = view.frame()
        assert frame.output == pytest.approx(float(keras_output[step, 0]), rel=1e-4, abs=1e-6)
        assert f") / {frame.count} = {display_value(frame.output)}" in view.calculation_text()
    assert "stride 3" in view._title("input")[0]


@pytest.mark.parametrize("layer, word", [(keras.layers.GlobalMaxPooling1D, "max"),
                                         (keras.layers.GlobalAveragePooling1D, "mean")])
def test_global_pooling_1d_marks_each_channels_max_or_mean(qtbot, layer, word):
    from cnnviz.core.formatting import format_value

    steps, keras_output = explained(layer(), (30, 4), seed=2)
    views = StepViews()
    qtbot.addWidget(views)
    views.resize(1000, 700)
    views.show()
    views.set_steps(steps)
    view = views.current_view()
    assert type(view).__name__ == "GlobalPool1DView" and not views.animated
    for channel in range(4):
        view.set_channel(channel)
        summary = view.summary_text()
        assert f"Channel {channel}: {word} = " in summary
        assert format_value(float(keras_output[channel])) in summary
        if word == "max":
            assert f"at step {int(np.argmax(steps.input[:, channel]))} of 30" in summary
    assert view.plot.panel.focus == 3


def test_png_and_gif_exports_write_the_1d_views(qtbot, tmp_path, causal_dilated):
    steps, _output = causal_dilated
    view = show_step_view(qtbot, Conv1DStepView(), steps, (1000, 720))
    view.set_step(5)
    png = tmp_path / "conv1d.png"
    save_view_png(view, png)
    with Image.open(png) as image:
        assert image.size[0] >= 1000
    gif = tmp_path / "conv1d.gif"
    assert save_animation_gif(view, gif, max_frames=8) == 8
    with Image.open(gif) as image:
        assert image.n_frames == 8
    assert view.step() == 5   # put back where it was
    pool_steps, _ = explained(keras.layers.MaxPooling1D(2), (12, 1))
    pool = show_step_view(qtbot, Pool1DStepView(), pool_steps, (900, 600))
    assert save_animation_gif(pool, tmp_path / "pool.gif") == 6


@pytest.mark.parametrize("room", [(738, 240), (712, 300)])
def test_a_150_percent_zoom_keeps_the_numbers_and_scrolls_down(qtbot, room):
    """The Explain page's room at 1280×720 and 1024×768 with the zoom at 150 %, in
    presentation mode: every number written at least at the zoomed font, no sideways scroll."""
    from PySide6.QtWidgets import QScrollArea

    from cnnviz.ui.common.zoom import zoom_of_app

    steps, _output = explained(keras.layers.Conv1D(4, 7, padding="same"), (500, 6))
    zoom_of_app().set_factor(1.5)
    zoom_of_app().set_presenting(True)
    try:
        view = Conv1DStepView()
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setWidget(view)
        qtbot.addWidget(area)
        area.resize(*room)
        view.set_steps(steps)
        area.show()
        qtbot.waitExposed(area)
        view.grab()
        floor = view._floor_pixels()
        assert floor >= 18
        for key, grid in view._middle_grids().items():
            font = grid.number_font()
            assert font is not None, key
            assert font.pixelSize() >= 0.85 * floor - 1, key
        assert area.horizontalScrollBar().maximum() == 0
        assert view.input_panel.plot.height() >= 6 * 22   # six lanes of line plots
        assert view.output_track.rect.height() >= 4 * floor - 1
    finally:
        zoom_of_app().set_presenting(False)
        zoom_of_app().set_factor(1.0)


def test_cli_pictures_draw_the_1d_views(tmp_path):
    from cnnviz.cli.explain_pictures import write_pictures
    from cnnviz.core.explain.activations import ActivationProbe

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((24, 2)),
        keras.layers.Conv1D(3, 3, padding="causal", name="conv"),
        keras.layers.MaxPooling1D(2, name="pool"),
        keras.layers.GlobalAveragePooling1D(name="gap"),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ])
    probe = ActivationProbe(model)
    forward = probe.run(np.random.default_rng(0).normal(size=(24, 2)).astype(np.float32))
    written = write_pictures(probe, forward, [0, 1, 2], tmp_path, ["a", "b"], None, 6,
                             report=lambda _text: None)
    names = {path.name for path in written}
    assert {"01_conv_steps.png", "01_conv_animation.gif", "02_pool_steps.png",
            "02_pool_animation.gif", "03_gap_steps.png"} <= names
    with Image.open(tmp_path / "01_conv_animation.gif") as gif:
        assert gif.n_frames == 6
