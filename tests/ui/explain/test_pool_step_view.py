"""The pooling explainer driven through the real widget, on real Keras pooling layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.explain.animation_export import save_animation_gif, save_view_png
from cnnviz.ui.explain.views.grid_painting import PADDING_CELL, PICKED, display_value, operand
from cnnviz.ui.explain.playback import Playback, bind_step_view, install_playback_shortcuts
from cnnviz.ui.explain.views.pool_step_view import PoolStepView
from tests.ui.app_window import show_step_view


def keras_pool(shape, pool=2, strides=None, padding="valid", mode="max", seed=0):
    """(PoolSteps, Keras output) for a pooling layer on a random input with negative values."""
    import keras

    from cnnviz.core.explain.steps import explain_layer

    kind = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    layer = kind(pool, strides=strides, padding=padding)
    image = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    output = np.asarray(layer(image[None]))[0]
    return explain_layer(layer, image, output), output


def make_view(qtbot, steps, size=(1000, 600)):
    return show_step_view(qtbot, PoolStepView(), steps, size)


def mean_colour(image, rect) -> QColor:
    pixels = [QColor(image.pixel(x, y)).getRgb()[:3]
              for y in range(rect.top() + 1, rect.bottom())
              for x in range(rect.left() + 1, rect.right())]
    return QColor(*(int(v) for v in np.mean(pixels, axis=0)))


def close_to(colour: QColor, expected: QColor, tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour.getRgb()[:3], expected.getRgb()[:3]))


def test_max_pooling_writes_the_max_and_outlines_the_cell_it_keeps(qtbot):
    steps, keras_output = keras_pool((6, 6, 2))
    view = make_view(qtbot, steps)
    view.set_channel(1)
    assert view.step_count() == 9
    view.set_step(4)
    frame = view.frame()
    assert (frame.out_y, frame.out_x, frame.channel) == (1, 1, 1)
    assert frame.output == pytest.approx(keras_output[1, 1, 1])
    values = ", ".join(display_value(v) for v in frame.window.ravel())
    text = view.calculation_text()
    assert f"max({values}) = {display_value(frame.output)}" in text
    row, col = frame.picked
    assert f"keeps input ({frame.top + row}, {frame.left + col})" in text
    assert "the other 3 values are dropped" in text
    # The kept cell is outlined in green in the window grid.
    image = view.grab().toImage()
    cell = view.window_grid.cell_rect(row, col).toRect()
    edge = image.pixel(cell.left() + 1, cell.center().y())
    assert close_to(QColor(edge), PICKED, 40)


def test_average_pooling_with_same_padding_counts_real_input_only(qtbot):
    steps, keras_output = keras_pool((7, 7, 1), pool=3, strides=2, padding="same", mode="average")
    view = make_view(qtbot, steps, (700, 450))
    assert view.input_drawn_shape() == (9, 9)           # a border of 1 all round
    view.set_step(15)                                   # the bottom-right corner
    frame = view.frame()
    assert frame.count == 4
    assert frame.output == pytest.approx(keras_output[3, 3, 0], abs=1e-6)
    terms = " + ".join(operand(v) for v in frame.window[frame.inside])
    text = view.calculation_text()
    assert f"({terms}) / 4 = {display_value(frame.output)}" in text
    assert "5 padding cells not counted" in text
    image = view.grab().toImage()
    for row, col in ((8, 0), (0, 4)):   # border cells away from the window
        assert close_to(mean_colour(image, view.input_cell_rect(row, col)), PADDING_CELL, 20)
    assert "not counted" in view.tooltip_at(view.input_cell_rect(0, 4).center())


def test_pool_size_larger_than_its_stride_and_one_by_one_pools(qtbot):
    steps, keras_output = keras_pool((5, 5, 1), pool=3, strides=1)
    view = make_view(qtbot, steps)
    assert view.step_count() == 9
    view.set_step(8)
    assert view.frame().output == pytest.approx(keras_output[2, 2, 0])
    single, keras_single = keras_pool((4, 4, 1), pool=1, strides=3)   # stride larger than the pool
    view.set_steps(single)
    assert view.step_count() == 4
    view.set_step(3)
    assert (view.frame().top, view.frame().left) == (3, 3)
    assert "the only input value under the window" in view.calculation_text()
    assert view.frame().output == pytest.approx(keras_single[1, 1, 0])


def test_clicking_a_pooled_cell_and_the_keys_move_the_step(qtbot):
    steps, _ = keras_pool((8, 8, 1))
    view = make_view(qtbot, steps)
    playback = Playback()
    bind_step_view(view, playback)
    install_playback_shortcuts(view, playback)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.output_cell_rect(3, 1).center())
    assert playback.position() == 13 and view.step() == 13
    view.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.step() == 14
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.step() == 0
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert (view.frame().out_y, view.frame().out_x) == (3, 3)


def test_layout_fits_without_overlap(qtbot):
    for shape, pool, padding, size in (((28, 28, 1), 2, "valid", (700, 450)),
                                       ((32, 32, 3), 3, "same", (700, 450)),
                                       ((5, 5, 1), 2, "same", (1000, 600))):
        steps, _ = keras_pool(shape, pool, padding=padding)
        view = make_view(qtbot, steps, size)
        view.grab()
        grids = [view.input_grid, view.output_grid, view.window_grid, view.result_grid]
        rects = [grid.rect() for grid in grids] + [view.layout_plan.calc_rect]
        rects += [QRectF(legend.geometry()) for legend in view._legends.values()]
        for index, rect in enumerate(rects):
            assert QRectF(view.rect()).contains(rect), (shape, size, rect)
            for other in rects[index + 1:]:
                assert not rect.intersects(other), (shape, size, rect, other)


def test_gif_of_the_pooling_animation_and_png(qtbot, tmp_path):
    steps, _ = keras_pool((12, 12, 1))   # 36 steps
    view = make_view(qtbot, steps, (700, 450))
    view.resize(700, 450)
    assert save_animation_gif(view, tmp_path / "pool.gif", first_step=6, last_step=29) == 24
    with Image.open(tmp_path / "pool.gif") as gif:
        assert gif.n_frames == 24 and gif.size == (700, 450)
    save_view_png(view, tmp_path / "pool.png")
    with Image.open(tmp_path / "pool.png") as png:
        assert png.size == (700, 450)


def test_exports_onto_a_read_only_file_say_so_and_keep_it(qtbot, tmp_path):
    steps, _ = keras_pool((6, 6, 1))
    view = make_view(qtbot, steps, (700, 450))
    target = tmp_path / "kept.gif"
    target.write_bytes(b"old")
    target.chmod(0o444)
    try:
        with pytest.raises(CnnvizError, match="read-only"):
            save_animation_gif(view, target)
        assert target.read_bytes() == b"old"
    finally:
        target.chmod(0o644)


@pytest.mark.parametrize("factor, room", [(1.0, (750, 383)), (1.5, (738, 240))])
def test_the_pooled_maps_keep_their_room_and_a_short_room_scrolls_down(qtbot, factor, room):
    """The pooling view follows the convolution view: middle cells only as large as their
    numbers, the maps as large as the room allows, scrolling down rather than sideways."""
    from cnnviz.ui.common.zoom import zoom_of_app
    from tests.ui.explain.test_conv_step_view import step_view_in_room

    steps, _ = keras_pool((26, 26, 2), 2)
    zoom_of_app().set_factor(factor)
    try:
        view = PoolStepView()
        area = step_view_in_room(qtbot, view, steps, room)
        for key, grid in view._middle_grids().items():
            assert grid.number_font() is not None, key
            assert grid.cell <= grid.cell_w
        assert area.horizontalScrollBar().maximum() == 0
        assert view.input_grid.rect().width() >= (234 if factor == 1.0 else 180)
        assert view.input_grid.rect().bottom() <= view.height()
    finally:
        zoom_of_app().set_factor(1.0)
