"""The convolution explainer driven through the real widget, on real Keras Conv2D layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.explain.animation_export import save_animation_gif, save_view_png
from cnnviz.ui.explain.views.conv_step_view import ConvStepView
from cnnviz.ui.explain.views.grid_painting import HIGHLIGHT, PADDING_CELL, display_value, operand
from cnnviz.ui.explain.playback import Playback, bind_step_view, install_playback_shortcuts
from cnnviz.ui.common.value_colors import diverging_rgb
from tests.ui.app_window import show_step_view


def keras_conv(shape, filters, kernel, strides=1, padding="valid", activation="relu", seed=0):
    """(ConvSteps, Keras output) for a Conv2D with random weights and a non-zero bias."""
    import keras

    from cnnviz.core.explain.steps import explain_layer

    rng = np.random.default_rng(seed)
    layer = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                                activation=activation)
    image = rng.random(shape).astype(np.float32)
    layer.build((None, *shape))
    weights = rng.normal(0, 0.4, layer.kernel.shape).astype(np.float32)
    layer.set_weights([weights, rng.normal(0, 0.1, filters).astype(np.float32)])
    output = np.asarray(layer(image[None]))[0]
    return explain_layer(layer, image, output), output


def make_view(qtbot, steps, size=(1000, 600)):
    return show_step_view(qtbot, ConvStepView(), steps, size)


def pixel(image, point) -> QColor:
    return QColor(image.pixel(point))


def mean_colour(image, rect) -> QColor:
    """The average colour over a rectangle of a QImage (hatching and lines averaged in)."""
    pixels = [QColor(image.pixel(x, y)).getRgb()[:3]
              for y in range(rect.top() + 1, rect.bottom())
              for x in range(rect.left() + 1, rect.right())]
    return QColor(*(int(v) for v in np.mean(pixels, axis=0)))


def close_to(colour: QColor, expected: QColor, tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour.getRgb()[:3], expected.getRgb()[:3]))


@pytest.fixture(scope="module")
def strided_same_even():
    """4×4 kernel, stride 2, 'same', on a 7×7×2 input: padding 1 above, 2 below (uneven)."""
    return keras_conv((7, 7, 2), 3, 4, strides=2, padding="same")


def test_calculation_shows_the_frames_real_numbers(qtbot, strided_same_even):
    steps, keras_output = strided_same_even
    view = make_view(qtbot, steps)
    assert view.step_count() == 16
    view.set_filter(2)
    for step in (0, 5, 15):
        view.set_step(step)
        frame = view.frame()
        out_y, out_x = divmod(step, 4)
        assert (frame.out_y, frame.out_x, frame.filter) == (out_y, out_x, 2)
        assert frame.output == pytest.approx(keras_output[out_y, out_x, 2], abs=1e-5)
        text = view.calculation_text()
        assert display_value(frame.pre_activation) in text
        assert f"→ relu → {display_value(frame.output)}" in text
        assert f"bias {display_value(frame.bias)}" in text
        for channel_sum in frame.channel_sums:
            assert operand(channel_sum) in text
        # 16 products per channel: the first ones written out, the rest shortened.
        window, kernel = frame.window[..., 0].ravel(), frame.kernel[..., 0].ravel()
        assert f"{operand(window[0])}×{operand(kernel[0])}" in text
        assert "10 more" in text
        assert "Sum of 2 channels" in text


def test_the_zero_border_is_part_of_the_drawn_input(qtbot, strided_same_even):
    steps, _ = strided_same_even
    view = make_view(qtbot, steps)
    assert view.input_drawn_shape() == (7 + 1 + 2, 7 + 1 + 2)
    view.set_step(15)   # the window in the bottom-right corner, away from the cells looked at
    image = view.grab().toImage()
    real = view.input_cell_rect(1, 1)
    for row, col in ((0, 0), (0, 9), (9, 0)):
        border = mean_colour(image, view.input_cell_rect(row, col))
        # Grey and hatched: clearly darker than a real zero (white), and not tinted.
        assert close_to(border, PADDING_CELL, 20), (row, col, border.getRgb())
        assert border.lightness() < 222 and max(border.getRgb()[:3]) - min(border.getRgb()[:3]) < 10
    # A real cell is coloured by its value on the scale, not grey.
    expected = QColor(*diverging_rgb(np.array([steps.input[0, 0, 0]]), view.input_grid.limit)[0])
    assert close_to(mean_colour(image, real), expected, 20)
    assert "Zero padding" in view.tooltip_at(view.input_cell_rect(0, 5).center())
    assert view.tooltip_at(real.center()).startswith("input[0, 0, 0] = ")
    # The first window hangs over the top and left border: its first row is zeros from padding.
    view.set_step(0)
    assert not view.frame().inside[0].any()
    assert view.calculation_text().startswith("Channel 0:  0×")


def test_valid_padding_draws_the_input_alone(qtbot):
    steps, _ = keras_conv((28, 28, 1), 8, 3)
    view = make_view(qtbot, steps, (700, 450))
    assert view.input_drawn_shape() == (28, 28)
    assert view.step_count() == 26 * 26


def test_the_window_highlight_sits_over_the_frames_input_cells(qtbot):
    steps, _ = keras_conv((9, 9, 1), 2, 2, strides=3)   # strides larger than the kernel
    view = make_view(qtbot, steps)
    assert view.step_count() == 9
    view.set_step(4)
    frame = view.frame()
    assert (frame.top, frame.left) == (3, 3)
    image = view.grab().toImage()
    top_left, bottom_right = view.input_cell_rect(3, 3), view.input_cell_rect(4, 4)
    left_edge = QPoint(top_left.left(), (top_left.top() + bottom_right.bottom()) // 2)
    assert close_to(pixel(image, left_edge), HIGHLIGHT)
    outside = view.input_cell_rect(0, 0).center()
    assert not close_to(pixel(image, outside), HIGHLIGHT)


def test_one_by_one_kernel(qtbot):
    steps, keras_output = keras_conv((5, 5, 3), 4, 1)
    view = make_view(qtbot, steps, (700, 450))
    view.set_channel(1)
    view.set_step(7)
    frame = view.frame()
    assert frame.window.shape == (1, 1, 3)
    text = view.calculation_text()
    product = f"{operand(frame.window[0, 0, 1])}×{operand(frame.kernel[0, 0, 1])}"
    assert text.startswith(f"Channel 1:  {product} = ")
    assert frame.output == pytest.approx(keras_output[1, 2, 0], abs=1e-5)
    assert not view.grab().isNull()


def test_the_channel_selector_draws_that_channel_and_the_sum_keeps_all(qtbot):
    steps, _ = keras_conv((6, 6, 3), 2, 3)
    view = make_view(qtbot, steps)
    view.set_channel(2)
    view.set_step(3)
    text = view.calculation_text()
    assert "Channel 2:" in text and "Sum of 3 channels" in text
    cell = view.input_cell_rect(4, 1).center()
    assert view.tooltip_at(cell) == f"input[4, 1, 2] = {steps.input[4, 1, 2]:.6g}"


def test_numbers_on_small_maps_and_in_tooltips_on_every_map(qtbot):
    small, _ = keras_conv((6, 6, 1), 2, 3)
    view = make_view(qtbot, small)
    view.grab()
    assert view.input_grid.shows_numbers() and view.output_grid.shows_numbers()
    large, _ = keras_conv((28, 28, 1), 2, 3)
    view = make_view(qtbot, large, (700, 450))
    view.resize(700, 450)
    view.grab()
    assert not view.input_grid.shows_numbers()   # 28 cells in ~200 px: colours only
    # The real tooltip event shows the value of the cell under the mouse.
    centre = view.output_cell_rect(3, 4).center()
    event = QHelpEvent(QEvent.Type.ToolTip, centre, view.mapToGlobal(centre))
    QApplication.sendEvent(view, event)
    assert QToolTip.text().startswith(f"output[3, 4, 0] = {large.output[3, 4, 0]:.6g}")


def test_layout_fits_without_overlap(qtbot):
    for shape, kernel, size in (((28, 28, 1), 3, (700, 450)), ((32, 32, 3), 5, (700, 450)),
                                ((28, 28, 1), 3, (1000, 600)), ((12, 12, 64), 7, (700, 450))):
        steps, _ = keras_conv(shape, 4, kernel, padding="same")
        view = make_view(qtbot, steps, size)
        view.grab()
        widget = QRectF(view.rect())
        grids = [view.input_grid, view.output_grid, *view._middle_grids().values()]
        rects = [grid.rect() for grid in grids] + [view.layout_plan.calc_rect]
        rects += [QRectF(legend.geometry()) for legend in view._legends.values()]
        for index, rect in enumerate(rects):
            assert widget.contains(rect), (shape, size, index, rect)
            for other in rects[index + 1:]:
                assert not rect.intersects(other), (shape, size, rect, other)


def test_clicking_an_output_cell_jumps_to_its_step(qtbot):
    steps, _ = keras_conv((10, 10, 1), 2, 3)
    view = make_view(qtbot, steps)
    playback = Playback()
    bind_step_view(view, playback)
    with qtbot.waitSignal(view.step_clicked) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.output_cell_rect(2, 5).center())
    assert blocker.args == [2 * 8 + 5]
    assert playback.position() == 21 and view.step() == 21
    assert (view.frame().out_y, view.frame().out_x) == (2, 5)


def test_playing_and_keys_move_the_view(qtbot):
    steps, _ = keras_conv((8, 8, 1), 2, 3)
    view = make_view(qtbot, steps)
    playback = Playback()
    bind_step_view(view, playback)
    install_playback_shortcuts(view, playback)
    playback.set_speed(60)
    playback.play()
    qtbot.waitUntil(lambda: view.step() >= 4, timeout=5000)
    playback.pause()
    view.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.step() == 0
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.step() == 2
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.step() == 1
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.step() == 35
    assert (view.frame().out_y, view.frame().out_x) == (5, 5)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert playback.is_playing()
    playback.pause()


def test_a_new_filter_reworks_the_step_and_playback_goes_on(qtbot):
    steps, keras_output = keras_conv((6, 6, 2), 3, 3)
    view = make_view(qtbot, steps)
    playback = Playback()
    bind_step_view(view, playback)
    counts: list[int] = []
    view.step_count_changed.connect(counts.append)
    playback.set_position(5)
    playback.play()
    view.set_filter(1)
    assert playback.is_playing() and counts == []
    playback.pause()
    assert view.frame().filter == 1 and view.step() == playback.position()
    view.set_step(5)
    assert display_value(keras_output[1, 1, 1]) in view.calculation_text()
    # A new layer brings a new count: the playback follows it.
    smaller, _ = keras_conv((4, 4, 1), 2, 3)
    view.set_steps(smaller)
    assert counts == [4] and playback.count() == 4 and view.step() == playback.position()


def test_png_and_gif_exports(qtbot, tmp_path):
    steps, _ = keras_conv((8, 8, 1), 2, 3)   # 36 steps
    view = make_view(qtbot, steps, (700, 450))
    view.resize(700, 450)
    view.set_step(7)
    save_view_png(view, tmp_path / "view.png")
    with Image.open(tmp_path / "view.png") as png:
        assert png.size == (700, 450)
    frames = save_animation_gif(view, tmp_path / "all.gif", steps_per_second=20)
    assert frames == 36 and view.step() == 7        # the view is put back where it was
    with Image.open(tmp_path / "all.gif") as gif:
        assert gif.n_frames == 36 and gif.info["loop"] == 0 and gif.info["duration"] == 50
    progress: list[tuple[int, int]] = []
    frames = save_animation_gif(view, tmp_path / "some.gif", max_frames=10,
                                progress=lambda done, total: progress.append((done, total)))
    assert frames == 10 and progress[-1] == (10, 10)
    with Image.open(tmp_path / "some.gif") as gif:
        assert gif.n_frames == 10
        gif.seek(9)  # the last frame is the last step: the whole output map filled in
        last = np.asarray(gif.convert("RGB")).astype(int)
    view.set_step(35)
    expected = np.asarray(Image.open(_saved(view, tmp_path)).convert("RGB")).astype(int)
    assert np.abs(last - expected).mean() < 4


def test_cancelling_a_gif_export_leaves_no_file(qtbot, tmp_path):
    steps, _ = keras_conv((8, 8, 1), 2, 3)
    view = make_view(qtbot, steps, (700, 450))
    view.set_step(3)

    def cancel_after_five(done: int, _total: int) -> None:
        if done == 5:
            raise CnnvizError("Saving the animation was cancelled.")

    with pytest.raises(CnnvizError, match="cancelled"):
        save_animation_gif(view, tmp_path / "anim.gif", progress=cancel_after_five)
    assert list(tmp_path.iterdir()) == [] and view.step() == 3


def _saved(view, folder):
    path = folder / "expected.png"
    save_view_png(view, path)
    return path


def test_exports_to_a_read_only_folder_say_so(qtbot, tmp_path):
    steps, _ = keras_conv((6, 6, 1), 2, 3)
    view = make_view(qtbot, steps, (700, 450))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(CnnvizError, match="read-only"):
            save_view_png(view, locked / "view.png")
        with pytest.raises(CnnvizError, match="read-only"):
            save_animation_gif(view, locked / "anim.gif")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def numbers_drawn(view) -> bool:
    """Whether every grid with numbers to show writes them (input, output and the middle)."""
    view.grab()
    grids = [view.input_grid, view.output_grid, *view._middle_grids().values()]
    return all(grid.shows_numbers() for grid in grids)


def test_the_middle_numbers_are_drawn_in_a_small_room_and_the_view_scrolls(qtbot):
    """Issue 12: at 1024×640 the window, kernel and products boxes showed no numbers."""
    from PySide6.QtWidgets import QScrollArea

    from cnnviz.ui.common.zoom import zoom_of_app

    steps, _ = keras_conv((28, 28, 1), 4, 3)
    view = ConvStepView()
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(view)
    qtbot.addWidget(area)
    area.resize(570, 300)      # the room the step view had in a 1024×640 window
    view.set_steps(steps)
    area.show()
    qtbot.waitExposed(area)
    try:
        for factor in (1.0, 1.5):
            zoom_of_app().set_factor(factor)
            qtbot.wait(10)
            view.grab()
            for key in ("window", "kernel", "products", "result"):
                font = view._middle_grids()[key].number_font()
                assert font is not None, (factor, key)
                # Readable: never smaller than the zoomed application font's 85 %.
                assert font.pixelSize() >= 0.85 * view.layout_plan.floor_pixels() - 1
            # Larger than the room: it scrolls rather than clipping the numbers.
            assert view.height() > area.viewport().height()
            assert area.verticalScrollBar().maximum() > 0
        assert view.layout_plan.floor_pixels() >= 17   # the zoom reached the numbers
    finally:
        zoom_of_app().set_factor(1.0)


def test_maps_up_to_32_by_32_carry_their_numbers(qtbot):
    """The README says numbers are written on maps up to 32×32: the input map shows them."""
    steps, _ = keras_conv((28, 28, 1), 2, 3, padding="same")   # drawn 30×30 with the border
    view = make_view(qtbot, steps, (900, 560))
    view.set_numbers_always(True)
    assert view.numbers_on_maps()
    assert numbers_drawn(view)
    assert view.width() >= 30 * 20   # the view grew (its scroll area scrolls) rather than drop them
    small, _ = keras_conv((8, 8, 1), 2, 3)   # numbers that fit the room: on by default
    view = make_view(qtbot, small, (900, 560))
    assert view.numbers_on_maps() and numbers_drawn(view) and view.width() == 900
    large, _ = keras_conv((40, 40, 1), 2, 3)
    view = make_view(qtbot, large, (900, 560))
    view.set_numbers_always(True)
    view.grab()
    assert not view.input_grid.shows_numbers()   # larger maps: colours, values in tooltips


def test_cells_and_the_written_sum_round_the_same_way(qtbot):
    """A kernel cell never says 0.00 where the formula says 0.004; no scientific notation."""
    steps, _ = keras_conv((5, 5, 1), 1, 3, activation="linear")
    steps.kernel[0, 0, 0, 0] = 0.004
    steps.kernel[0, 1, 0, 0] = 3e-7
    view = make_view(qtbot, steps, (900, 560))
    view.set_step(0)
    text = view.calculation_text()
    labels = view.kernel_grid.labels()
    assert labels[0] == "0.004" and f"×{labels[0]}" in text
    assert labels[1] == "0.00000" and f"×{labels[1]}" in text
    formula, note = text.rsplit("\n", 1)
    assert "e-" not in formula and "e+" not in formula and "e−" not in formula
    assert note == "(shown as 0.00000 because it is 3e-07)"   # why it reads as 0
    assert all("e" not in label for label in labels)


def step_view_in_room(qtbot, view, steps, room):
    """The step view in a scroll area whose viewport is `room`, as the Explain page has it."""
    from PySide6.QtWidgets import QScrollArea

    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(view)
    qtbot.addWidget(area)
    area.resize(*room)
    view.set_steps(steps)
    area.show()
    qtbot.waitExposed(area)
    qtbot.wait(10)
    view.grab()
    return area


def tiny_kernel_steps():
    """A 28×28 digit-sized input and a kernel with a 3-decimal weight (−0.003), whose wide
    label made the middle boxes take the maps' room."""
    steps, _ = keras_conv((28, 28, 1), 4, 3)
    steps.kernel[0, 0, 0, 0] = -0.003
    return steps


@pytest.mark.parametrize("room, smallest", [((750, 383), 170), ((1390, 749), 390)])
def test_the_maps_keep_their_room_beside_readable_middle_numbers(qtbot, room, smallest):
    """Issue 12 follow-up: at 1280×720 the input map had shrunk to ~60 px (the output to a
    grey box) while the window, kernel and products boxes took the room. The maps are the
    picture: at least as large as before, every middle number still drawn."""
    view = ConvStepView()
    area = step_view_in_room(qtbot, view, tiny_kernel_steps(), room)
    assert view.kernel_grid.labels()[0] == "\u22120.003"
    assert view.input_grid.rect().width() >= smallest
    assert view.output_grid.rect().width() >= smallest * 0.9
    for key, grid in view._middle_grids().items():
        assert grid.number_font() is not None, key
        # A middle cell is only as large as its numbers need, not a square of the widest.
        assert grid.cell <= grid.cell_w
    assert area.horizontalScrollBar().maximum() == 0 and area.verticalScrollBar().maximum() == 0


@pytest.mark.parametrize("room", [(738, 240), (712, 300)])
def test_a_short_zoomed_room_scrolls_down_not_sideways_and_keeps_the_maps_large(qtbot, room):
    """At 1280×720 and 1024×768 with the zoom at 150 % the step view's room is about 740×240:
    numbers readable, maps as large as the room allows (they had become 28 px), and the view
    scrolls vertically rather than horizontally."""
    from cnnviz.ui.common.zoom import zoom_of_app

    zoom_of_app().set_factor(1.5)
    try:
        view = ConvStepView()
        area = step_view_in_room(qtbot, view, tiny_kernel_steps(), room)
        view.grab()
        for key, grid in view._middle_grids().items():
            font = grid.number_font()
            assert font is not None, key
            assert font.pixelSize() >= 0.85 * view.layout_plan.floor_pixels() - 1
        assert area.horizontalScrollBar().maximum() == 0
        assert view.input_grid.rect().width() >= min(room[1] - 60, 200)
        assert view.input_grid.rect().bottom() <= view.height()
    finally:
        zoom_of_app().set_factor(1.0)
