"""The filter grid: one tile per filter, colour for RGB first layers, channel choice, clicks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from cnnviz.ui.common.feature_map_grid import SELECTED_COLOUR
from cnnviz.ui.common.filter_grid import COLOUR, MEAN, FilterGrid, filter_colour_image
from cnnviz.ui.common.value_colors import NEGATIVE, POSITIVE


@pytest.fixture
def grid(qtbot) -> FilterGrid:
    widget = FilterGrid()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def rgb_at(widget, pos: QPoint) -> tuple[int, int, int]:
    colour = widget.grab().toImage().pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def cell_center(grid: FilterGrid, index: int, row: int, col: int) -> QPoint:
    rect = grid.tile_rect(index)
    kh, kw = grid.kernel.shape[:2]
    return QPoint(rect.left() + (2 * col + 1) * rect.width() // (2 * kw),
                  rect.top() + (2 * row + 1) * rect.height() // (2 * kh))


def test_one_tile_per_filter_on_the_shared_scale_without_a_channel_choice(grid):
    kernel = np.random.default_rng(0).normal(0, 0.1, (3, 3, 1, 32)).astype(np.float32)
    kernel[1, 1, 0, 7] = 0.9                     # the largest weight of the layer
    kernel[0, 0, 0, 3] = -0.9
    grid.set_kernel(kernel, "conv2d")
    assert len(grid.tiles.images) == 32 and not grid.channel_row.isVisible()
    assert grid.legend.isVisible() and grid.legend.limit() == pytest.approx(0.9)
    assert "32 filters of 3×3×1" in grid.title_label.text()
    rects = [grid.tile_rect(f) for f in range(32)]
    assert max(r.bottom() for r in rects) < grid.scroll.viewport().height()  # all in view
    assert min(r.width() for r in rects) >= 45
    assert rgb_at(grid.tiles, cell_center(grid, 7, 1, 1)) == tuple(int(v) for v in POSITIVE)
    assert rgb_at(grid.tiles, cell_center(grid, 3, 0, 0)) == tuple(int(v) for v in NEGATIVE)


def test_rgb_first_layer_filters_are_in_colour_each_stretched_to_its_own_range(grid):
    kernel = np.zeros((3, 3, 3, 16), np.float32)
    kernel[0, 0, :, 2] = (0.02, 0.02, 0.02)      # filter 2: tiny weights, still full contrast
    kernel[2, 2, :, 2] = (-0.02, -0.02, -0.02)
    kernel[1, 1, :, 5] = (0.5, -0.5, -0.5)        # filter 5: likes red at its centre
    grid.set_kernel(kernel)
    assert grid.channel_mode() == COLOUR and grid.colour_note.isVisible()
    assert not grid.legend.isVisible()
    assert rgb_at(grid.tiles, cell_center(grid, 2, 0, 0)) == (255, 255, 255)
    assert rgb_at(grid.tiles, cell_center(grid, 2, 2, 2)) == (0, 0, 0)
    assert rgb_at(grid.tiles, cell_center(grid, 2, 1, 1)) == (128, 128, 128)
    assert rgb_at(grid.tiles, cell_center(grid, 5, 1, 1)) == (255, 0, 0)
    np.testing.assert_array_equal(filter_colour_image(np.zeros((2, 2, 3))), 128)  # flat: gray


def test_choosing_one_input_channel_or_the_mean(grid, qtbot):
    kernel = np.zeros((3, 3, 3, 4), np.float32)
    kernel[0, 0, 1, 0] = 2.0                     # only channel 1 has this weight
    grid.set_kernel(kernel)
    box = grid.channel_box
    assert [box.itemData(i) for i in range(box.count())] == [COLOUR, MEAN, 0, 1, 2]
    box.setCurrentIndex(box.findData(1))         # as the user picking "channel 1 (green)"
    assert grid.legend.isVisible() and grid.legend.limit() == pytest.approx(2.0)
    assert rgb_at(grid.tiles, cell_center(grid, 0, 0, 0)) == tuple(int(v) for v in POSITIVE)
    grid.set_channel_mode(0)
    assert rgb_at(grid.tiles, cell_center(grid, 0, 0, 0)) == (247, 247, 247)  # zero: white
    grid.set_channel_mode(MEAN)
    assert grid.legend.limit() == pytest.approx(2.0 / 3)


def test_many_input_channels_offer_mean_and_each_channel_and_keep_the_choice(grid):
    rng = np.random.default_rng(1)
    grid.set_kernel(rng.normal(size=(3, 3, 8, 16)).astype(np.float32))
    assert grid.channel_mode() == MEAN and grid.channel_box.count() == 9
    with pytest.raises(ValueError):
        grid.set_channel_mode(COLOUR)
    grid.set_channel_mode(5)
    grid.set_kernel(rng.normal(size=(3, 3, 8, 16)).astype(np.float32))  # the next epoch
    assert grid.channel_mode() == 5
    grid.set_kernel(rng.normal(size=(3, 3, 4, 16)).astype(np.float32))  # another layer
    assert grid.channel_mode() == MEAN


def test_tooltips_list_the_weights_of_small_kernels(grid):
    kernel = np.arange(9 * 2, dtype=np.float32).reshape(3, 3, 1, 2) / 100
    grid.set_kernel(kernel, bias=np.array([0.5, -0.25], np.float32))
    text = grid.tooltip_text(1)
    assert "Filter 1" in text and "bias -0.2500" in text
    for value in kernel[..., 0, 1].ravel():
        assert f">{value:.3f}<" in text
    QToolTip.hideText()
    pos = grid.tile_rect(1).center()
    QApplication.sendEvent(grid.tiles, QHelpEvent(QEvent.Type.ToolTip, pos,
                                                   grid.tiles.mapToGlobal(pos)))
    assert "Filter 1" in QToolTip.text()
    grid.set_kernel(np.ones((11, 11, 1, 2), np.float32))
    assert "min 1.00 · max 1.00" in grid.tooltip_text(0) and "<table" not in grid.tooltip_text(0)


def test_clicking_a_filter_emits_it_and_outlines_it(grid, qtbot):
    grid.set_kernel(np.random.default_rng(2).normal(size=(3, 3, 1, 32)).astype(np.float32))
    target = grid.tile_rect(17)
    with qtbot.waitSignal(grid.filter_clicked, timeout=1000) as signal:
        qtbot.mouseClick(grid.tiles, Qt.MouseButton.LeftButton, pos=target.center())
    assert signal.args == [17] and grid.selected_filter() == 17
    edge = QPoint(target.left() - 1, target.center().y())
    assert grid.tiles.grab().toImage().pixelColor(edge) == SELECTED_COLOUR
    with qtbot.assertNotEmitted(grid.filter_clicked):
        grid.set_selected_filter(3)
    assert grid.tiles.grab().toImage().pixelColor(edge) != SELECTED_COLOUR
    edge3 = QPoint(grid.tile_rect(3).left() - 1, grid.tile_rect(3).center().y())
    assert grid.tiles.grab().toImage().pixelColor(edge3) == SELECTED_COLOUR


def test_a_kernel_must_have_three_or_four_axes(grid):
    with pytest.raises(ValueError):
        grid.set_kernel(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError):
        grid.set_kernel(np.zeros((3, 3, 3, 4, 2), np.float32))
